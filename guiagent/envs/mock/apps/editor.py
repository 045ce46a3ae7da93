"""Text editor: one window per document, with New / Open / Save / Save As / Rename and unsaved-change prompts."""

from __future__ import annotations

import posixpath
from typing import Any

from guiagent.envs.mock import theme
from guiagent.envs.mock.apps.base import App
from guiagent.envs.mock.apps.dialogs import file_dialog, message_box, prompt
from guiagent.envs.mock.fs import HOME, FsError, norm
from guiagent.envs.mock.text import TextStyle
from guiagent.envs.mock.widgets.base import KeyEvent
from guiagent.envs.mock.widgets.basic import SMALL, Button, Label, Panel
from guiagent.envs.mock.widgets.menus import SEPARATOR, MenuBar, MenuEntry
from guiagent.envs.mock.widgets.textedit import TextArea
from guiagent.envs.mock.wm import Window

TOOLBAR_H = 36
STATUS_H = 24


class EditorWindow(Window):
    """A document window: ``path`` None means untitled; ``saved_text`` is what is on disk."""

    def __init__(self, app: "EditorApp", rect, path: str | None, text: str):
        super().__init__("", rect, app, icon="editor", on_layout=lambda w: w.layout())
        self.path = path
        self.saved_text = text
        c = self.content
        self.menubar = c.add(MenuBar([("File", app.file_menu(self)), ("Edit", app.edit_menu(self))],
                                     (0, 0, c.w, theme.MENU_BAR_H)))
        self.toolbar = c.add(Panel("", (0, theme.MENU_BAR_H, c.w, TOOLBAR_H), bg="window"))
        x = 6
        for label, icon, fn in (("New", "plus", lambda: app.new_document()),
                                ("Open", "folder", lambda: app.open_dialog(self)),
                                ("Save", "drafts", lambda: app.save(self))):
            self.toolbar.add(Button(label, fn, (x, 4, 78, 28), kind="flat", icon=icon))
            x += 82
        self.area = c.add(TextArea("Document", text, (0, 0, 10, 10), style=TextStyle("mono", 13),
                                   on_change=lambda _t: self.update_title(), tab_inserts=True))
        self.status = c.add(Label("", (0, 0, 10, STATUS_H), SMALL, color="muted"))
        self.layout()
        self.update_title()

    @property
    def modified(self) -> bool:
        """True when the text differs from what was last loaded or saved."""
        return self.area.text != self.saved_text

    @property
    def doc_name(self) -> str:
        """The file's name, or "Untitled" for a document never saved."""
        return posixpath.basename(self.path) if self.path else "Untitled"

    def layout(self) -> None:
        """Lay out the menu bar, toolbar, text area and status line for the window's size."""
        c = self.content
        top = theme.MENU_BAR_H + TOOLBAR_H
        self.menubar.set_rect(0, 0, c.w, theme.MENU_BAR_H)
        self.toolbar.set_rect(0, theme.MENU_BAR_H, c.w, TOOLBAR_H)
        self.area.set_rect(0, top, c.w, c.h - top - STATUS_H)
        self.status.set_rect(10, c.h - STATUS_H, c.w - 20, STATUS_H)

    def update_title(self) -> None:
        """Refresh the title ("*" when modified) and the status line (caret line and column, path)."""
        self.set_title(f"{'*' if self.modified else ''}{self.doc_name} — Text Editor")
        line, col = self.area.line_col(self.area.caret)
        where = self.path or "not saved"
        self.status.set_text(f"Ln {line + 1}, Col {col + 1}    {where}")


class EditorApp(App):
    """The Text Editor: one window per document, with open/save dialogs and an unsaved-changes prompt."""
    app_id = "editor"
    title = "Text Editor"
    icon = "editor"
    aliases = ("text editor", "notepad", "gedit", "textedit", "editor")
    single_instance = False

    # ------------------------------------------------------------------ opening
    def open(self, **options: Any) -> Window:
        """Open a document window, or bring an existing one forward.

        Args:
            options: ``path=`` opens that file (raising its window if it is already open; a missing file starts
                empty and is saved there); ``new=True`` forces a new untitled window; ``text=`` sets the initial text.
                Without options, the topmost editor window is raised if there is one.

        Returns:
            The document's window.
        """
        path = options.get("path")
        if path is None and self.windows and not options.get("new"):
            top = max(self.windows, key=lambda w: self.wm.windows.index(w))
            self.wm.activate(top)
            return top
        if path is not None:
            path = norm(path)
            for w in self.windows:
                if getattr(w, "path", None) == path:
                    self.wm.activate(w)
                    return w
        text = self.fs.read(path) if path is not None and self.fs.is_file(path) else ""
        if options.get("text") is not None:
            text = options["text"]
        wm = self.wm
        area = wm.work_area()
        w, h = min(760, area.w - 40), min(540, area.h - 40)
        x, y = wm.place(w, h)
        win = EditorWindow(self, (x, y, w, h), path, text if path is not None else "")
        if path is None and text:
            win.area.set_text(text)
            win.update_title()
        self.windows.append(win)
        wm.add(win)
        win.set_focus(win.area)
        return win

    def new_document(self) -> None:
        """Open a new, untitled document window."""
        self.open(new=True)

    def load(self, win: EditorWindow, path: str) -> str | None:
        """Open ``path`` chosen in the Open dialog.

        It opens in ``win`` when that is an untouched untitled document, else in a new window (or the one already
        showing it).

        Returns:
            None: the dialog may close.
        """
        for other in self.windows:
            if other is not win and getattr(other, "path", None) == path:
                self.wm.activate(other)
                return None
        if win.modified or win.path is not None:
            self.open(path=path)
            return None
        win.path = path
        win.saved_text = self.fs.read(path)
        win.area.set_text(win.saved_text)
        win.update_title()
        return None

    def open_dialog(self, win: EditorWindow) -> None:
        """Show the Open dialog for ``win``, starting in the document's folder (or ~/Documents)."""
        folder = posixpath.dirname(win.path) if win.path else f"{HOME}/Documents"
        file_dialog(self.d, win, "open", lambda p: self.load(win, p), folder=folder)

    # ------------------------------------------------------------------ saving
    def save(self, win: EditorWindow, then=None) -> None:
        """Save ``win``'s text to its file (Save As for an untitled document); a failure is shown in a message box.

        Args:
            win: the document window.
            then: called after a successful save (closing after "Save" in the unsaved-changes prompt).
        """
        if win.path is None:
            self.save_as(win, then)
            return
        try:
            self.fs.write(win.path, win.area.text)
        except FsError as e:
            message_box(self.d, win, "Cannot save", str(e), icon="warning")
            return
        win.saved_text = win.area.text
        win.update_title()
        if then is not None:
            then()

    def save_as(self, win: EditorWindow, then=None) -> None:
        """Show the Save dialog; saving there makes the chosen file the document's path.

        Args:
            win: the document window.
            then: called after a successful save.
        """
        folder = posixpath.dirname(win.path) if win.path else f"{HOME}/Documents"
        name = win.doc_name if win.path else "Untitled.txt"

        def done(path: str) -> str | None:
            if self.fs.exists(path) and path != win.path:
                return f"{posixpath.basename(path)!r} already exists; choose another name."
            self.fs.write(path, win.area.text)
            win.path = path
            win.saved_text = win.area.text
            win.update_title()
            if then is not None:
                then()
            return None

        file_dialog(self.d, win, "save", done, folder=folder, name=name)

    def rename(self, win: EditorWindow) -> None:
        """Ask for a new name and rename the document's file (Save As when it has no file yet)."""
        if win.path is None or not self.fs.is_file(win.path):
            self.save_as(win)
            return

        def ok(name: str) -> str | None:
            try:
                win.path = self.fs.rename(win.path, name)
            except FsError as e:
                return str(e)
            win.update_title()
            return None

        prompt(self.d, win, "Rename", "New name:", win.doc_name, ok, ok_label="Rename")

    def can_close(self, win: Window) -> bool:
        """Allow closing an unmodified document; otherwise ask Save / Don't Save / Cancel and veto for now."""
        if not isinstance(win, EditorWindow) or not win.modified:
            return True

        def answer(label: str) -> None:
            if label == "Save":
                self.save(win, then=lambda: self.wm.close(win))
            elif label == "Don't Save":
                self.wm.close(win)

        message_box(self.d, win, "Text Editor", f"Save changes to \"{win.doc_name}\" before closing?",
                    ("Save", "Don't Save", "Cancel"), answer, icon="warning")
        return False

    # ------------------------------------------------------------------ menus and keys
    def file_menu(self, win: EditorWindow):
        """The File menu's entries for ``win`` (a builder, called each time the menu opens)."""
        return lambda: [
            MenuEntry("New", self.new_document, "Ctrl+N"),
            MenuEntry("Open…", lambda: self.open_dialog(win), "Ctrl+O"),
            MenuEntry("Save", lambda: self.save(win), "Ctrl+S"),
            MenuEntry("Save As…", lambda: self.save_as(win), "Ctrl+Shift+S"),
            MenuEntry("Rename…", lambda: self.rename(win)),
            SEPARATOR,
            MenuEntry("Close", lambda: self.wm.request_close(win), "Ctrl+W"),
        ]

    def edit_menu(self, win: EditorWindow):
        """The Edit menu's entries for ``win``, enabled by the current undo, selection and clipboard state."""
        def key(combo: str):
            return lambda: win.area.on_key(KeyEvent.from_combo(combo))
        return lambda: [
            MenuEntry("Undo", key("ctrl+z"), "Ctrl+Z", enabled=bool(win.area._undo)),
            MenuEntry("Redo", key("ctrl+y"), "Ctrl+Y", enabled=bool(win.area._redo)),
            SEPARATOR,
            MenuEntry("Cut", key("ctrl+x"), "Ctrl+X", enabled=win.area.selection is not None),
            MenuEntry("Copy", key("ctrl+c"), "Ctrl+C", enabled=win.area.selection is not None),
            MenuEntry("Paste", key("ctrl+v"), "Ctrl+V", enabled=bool(self.d.clipboard)),
            MenuEntry("Select All", key("ctrl+a"), "Ctrl+A"),
        ]

    def on_key(self, win: Window, ev: KeyEvent) -> bool:
        """The editor's shortcuts: ctrl+s, ctrl+shift+s, ctrl+n, ctrl+o, ctrl+w and F2 (rename)."""
        if not isinstance(win, EditorWindow):
            return False
        actions = {"ctrl+s": lambda: self.save(win), "ctrl+shift+s": lambda: self.save_as(win),
                   "ctrl+n": self.new_document, "ctrl+o": lambda: self.open_dialog(win),
                   "ctrl+w": lambda: self.wm.request_close(win), "f2": lambda: self.rename(win)}
        fn = actions.get(ev.combo)
        if fn is None:
            return False
        fn()
        return True

    def sync(self) -> None:
        """Refresh every window's title and status line (caret moves, files renamed elsewhere)."""
        for w in self.windows:
            if isinstance(w, EditorWindow):
                w.update_title()  # caret position in the status bar; a file renamed elsewhere

    def state(self) -> dict:
        """Every open document: window id, path, text, modified flag, caret and selection."""
        docs = []
        for w in self.windows:
            if isinstance(w, EditorWindow):
                sel = w.area.selection
                docs.append({"window_id": w.wid, "path": w.path, "text": w.area.text, "modified": w.modified,
                             "caret": w.area.caret, "selection": list(sel) if sel else None})
        return {"documents": docs}
