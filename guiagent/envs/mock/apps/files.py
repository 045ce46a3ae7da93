"""File manager: places sidebar, folder listing with drag and drop, rename, new folder/file, trash and restore.

The trash is shown at the pseudo path ``trash://``. Dragging a row onto a folder row, a sidebar place, the desktop
or a desktop folder moves it; dropping it on the Trash place or the desktop Trash icon deletes it.
"""

from __future__ import annotations

import posixpath
from collections.abc import Callable
from typing import Any

from guiagent.envs.mock import theme
from guiagent.envs.mock.apps.base import App
from guiagent.envs.mock.apps.dialogs import message_box, prompt
from guiagent.envs.mock.fs import HOME, FsError
from guiagent.envs.mock.widgets.base import KeyEvent, MouseEvent
from guiagent.envs.mock.widgets.basic import SMALL, Button, Label, Panel
from guiagent.envs.mock.widgets.containers import ListItem, ListView
from guiagent.envs.mock.widgets.menus import SEPARATOR, MenuEntry
from guiagent.envs.mock.widgets.textedit import TextField
from guiagent.envs.mock.wm import Window

TRASH = "trash://"
PLACES = (("Home", HOME, "home"), ("Desktop", f"{HOME}/Desktop", "desktop"),
          ("Documents", f"{HOME}/Documents", "folder"), ("Downloads", f"{HOME}/Downloads", "folder"),
          ("Pictures", f"{HOME}/Pictures", "folder"), ("Trash", TRASH, "trash"))
TOOLBAR_H = 44
SIDEBAR_W = 170
STATUS_H = 26


def _size(n: int) -> str:
    return f"{n} bytes" if n < 1024 else f"{n / 1024:.1f} KB"


class FilesWindow(Window):
    """The Files window: toolbar (back, up, location field, action buttons), places sidebar, listing, status line.

    Args:
        app: the FilesApp it belongs to.
        rect: ``(x, y, w, h)`` in screen points.
        path: the folder shown first (or ``trash://``).
    """
    def __init__(self, app: "FilesApp", rect, path: str):
        super().__init__("Files", rect, app, icon="files", on_layout=lambda w: w.layout())
        self.path = path
        self.history: list[str] = []
        c = self.content
        self.toolbar = c.add(Panel("", (0, 0, c.w, TOOLBAR_H), bg="window"))
        tb = self.toolbar
        self.back_btn = tb.add(Button("", lambda: app.back(self), (8, 7, 32, 30), kind="flat", icon="back"))
        self.back_btn.name = "Back"
        self.up_btn = tb.add(Button("", lambda: app.up(self), (42, 7, 32, 30), kind="flat", icon="up"))
        self.up_btn.name = "Up"
        self.location = tb.add(TextField("Location", path, (82, 8, 300, theme.FIELD_H),
                                         on_submit=lambda: app.go_typed(self)))
        self.tool_buttons: dict[str, Button] = {}
        for label, icon, fn in (("New Folder", "plus", lambda: app.new_folder(self)),
                                ("Rename", None, lambda: app.rename_selected(self)),
                                ("Delete", None, lambda: app.delete_selected(self)),
                                ("Restore", None, lambda: app.restore_selected(self)),
                                ("Empty Trash", None, lambda: app.empty_trash(self))):
            self.tool_buttons[label] = tb.add(Button(label, fn, (0, 7, 100, 30), kind="flat", icon=icon))
        self.places = c.add(ListView("Places", (0, TOOLBAR_H, SIDEBAR_W, 100),
                                     on_select=lambda it: it is not None and app.navigate(self, it.data)))
        self.places.set_items([ListItem(n, icon, (), p) for n, p, icon in PLACES])
        self.places.can_drop = lambda it, payload: app.can_drop_into(it.data, payload)
        self.places.on_drop_item = lambda it, payload: app.drop_into(self, it.data, payload)
        self.listing = c.add(ListView("Files", (SIDEBAR_W, TOOLBAR_H, 100, 100),
                                      columns=[("Name", 330), ("Size", 110), ("Kind", 120)],
                                      on_select=lambda it: app.selection_changed(self),
                                      on_activate=lambda it: app.activate(self, it),
                                      on_context=lambda it, ev: app.context_menu(self, it, ev), draggable=True))
        self.listing.can_drop = lambda it, payload: it.extra.get("is_dir", False) and app.can_drop_into(
            it.data, payload)
        self.listing.on_drop_item = lambda it, payload: app.drop_into(self, it.data, payload)
        self.status = c.add(Label("", (0, 0, 100, STATUS_H), SMALL, color="muted"))
        self.layout()

    def layout(self) -> None:
        """Lay out the toolbar (buttons right-aligned), sidebar, listing and status line for the window's size."""
        c = self.content
        self.toolbar.set_rect(0, 0, c.w, TOOLBAR_H)
        x = c.w - 8
        for label in reversed(list(self.tool_buttons)):
            b = self.tool_buttons[label]
            bw = 112 if label in ("New Folder", "Empty Trash") else 80
            if not b.visible:
                continue
            x -= bw
            b.set_rect(x, 7, bw, 30)
            x -= 4
        self.location.set_rect(82, 8, max(120, x - 90), theme.FIELD_H)
        body_h = c.h - TOOLBAR_H - STATUS_H
        self.places.set_rect(0, TOOLBAR_H, SIDEBAR_W, body_h)
        self.listing.set_rect(SIDEBAR_W, TOOLBAR_H, c.w - SIDEBAR_W, body_h)
        self.status.set_rect(SIDEBAR_W + 10, c.h - STATUS_H, c.w - SIDEBAR_W - 20, STATUS_H)


class FilesApp(App):
    """The Files file manager: browse folders and the trash, create, rename, delete, restore, drag and drop."""
    app_id = "files"
    title = "Files"
    icon = "files"
    aliases = ("file manager", "explorer", "file explorer", "finder", "nautilus")

    def __init__(self, desktop):
        super().__init__(desktop)
        self._version = -1

    # ------------------------------------------------------------------ lifecycle
    def create_window(self, **options: Any) -> Window:
        """The Files window, opened at ``path=`` if that is a folder or the trash, else at home."""
        area = self.wm.work_area()
        w, h = min(860, area.w - 40), min(540, area.h - 40)
        x, y = self.wm.place(w, h)
        return FilesWindow(self, (x, y, w, h), self._start_path(options))

    def _start_path(self, options: dict) -> str:
        path = options.get("path") or HOME
        return path if path == TRASH or self.fs.is_dir(path) else HOME

    def after_open(self, win: Window, **options: Any) -> None:
        """List the folder and focus the listing."""
        self.refresh(win)  # type: ignore[arg-type]
        win.set_focus(win.listing)  # type: ignore[attr-defined]

    def apply_options(self, win: Window, **options: Any) -> None:
        """Navigate to ``path=`` when launched again with one."""
        if options.get("path"):
            self.navigate(win, self._start_path(options))  # type: ignore[arg-type]

    @property
    def win(self) -> FilesWindow | None:
        """The app's window (Files is single-instance), or None when it is not open."""
        return self.windows[0] if self.windows else None  # type: ignore[return-value]

    # ------------------------------------------------------------------ navigation
    def navigate(self, win: FilesWindow, path: str, remember: bool = True) -> None:
        """Show ``path`` (a folder or ``trash://``) in ``win``; a missing folder gets a warning box instead.

        Args:
            win: the Files window.
            path: the folder to show.
            remember: push the current folder on the back history.
        """
        if path == win.path:
            return
        if path != TRASH and not self.fs.is_dir(path):
            message_box(self.d, win, "Files", f"The folder {path} does not exist.", icon="warning")
            return
        if remember:
            win.history.append(win.path)
        win.path = path
        win.listing.scroll_to(y=0)
        win.listing.select_row(None)
        self.refresh(win)

    def back(self, win: FilesWindow) -> None:
        """Go back to the last folder in the history that still exists."""
        while win.history:
            p = win.history.pop()
            if p == TRASH or self.fs.is_dir(p):
                self.navigate(win, p, remember=False)
                return

    def up(self, win: FilesWindow) -> None:
        """Go to the parent folder (home from the trash; nothing at "/")."""
        if win.path == TRASH:
            self.navigate(win, HOME)
        elif win.path != "/":
            self.navigate(win, posixpath.dirname(win.path))

    def go_typed(self, win: FilesWindow) -> None:
        """Navigate to the location field's text (relative paths from the current folder; "trash" for the trash)."""
        raw = win.location.text.strip()
        target = TRASH if raw.lower() in ("trash", TRASH) else posixpath.normpath(
            raw if raw.startswith("/") else posixpath.join(win.path if win.path != TRASH else HOME, raw))
        self.navigate(win, target)
        win.set_focus(win.listing)

    def activate(self, win: FilesWindow, item: ListItem) -> None:
        """Open a listed item: a folder is entered, a file opens in the Text Editor (nothing in the trash)."""
        if win.path == TRASH:
            return
        if item.extra.get("is_dir"):
            self.navigate(win, item.data)
        else:
            self.d.launch("editor", path=item.data)

    # ------------------------------------------------------------------ view
    def refresh(self, win: FilesWindow) -> None:
        """Re-list ``win``'s folder (or the trash) from the file system.

        A folder that no longer exists falls back to its nearest existing parent; the title, sidebar, toolbar
        buttons and status line are brought up to date.
        """
        fs = self.fs
        if win.path != TRASH and not fs.is_dir(win.path):
            p = win.path
            while p != "/" and not fs.is_dir(p):
                p = posixpath.dirname(p)
            win.path = p
        if win.path == TRASH:
            items = [ListItem(e.name, "folder" if e.is_dir else "file",
                              ("—" if e.is_dir else _size(len(e.files.get("", "").encode())),
                               f"from {posixpath.dirname(e.original_path)}"), e.id, extra={"trash": True})
                     for e in fs.trash]
            win.set_title("Trash — Files")
            win.listing.empty_text = "Trash is empty"
        else:
            items = []
            for name, is_dir in fs.listdir(win.path):
                path = posixpath.join(win.path, name)
                if is_dir:
                    n = len(fs.listdir(path))
                    items.append(ListItem(name, "folder", (f"{n} item{'s' if n != 1 else ''}", "Folder"), path,
                                          extra={"is_dir": True}))
                else:
                    kind = (posixpath.splitext(name)[1][1:].upper() or "Plain") + " file"
                    items.append(ListItem(name, "file", (_size(len(fs.read(path).encode())), kind), path,
                                          extra={"is_dir": False}))
            win.set_title(f"{posixpath.basename(win.path) or '/'} — Files")
            win.listing.empty_text = "This folder is empty"
        win.listing.set_items(items)
        win.location.set_text(win.path)
        place = next((r for r in win.places.rows if r.item.data == win.path), None)
        if place is not win.places.selected:  # not select_row: that would navigate
            win.places.selected = place
            win.places.invalidate()
        in_trash = win.path == TRASH
        tb = win.tool_buttons
        for label, show in (("New Folder", not in_trash), ("Rename", not in_trash), ("Delete", True),
                            ("Restore", in_trash), ("Empty Trash", in_trash)):
            tb[label].set_visible(show)
        win.layout()
        win.back_btn.set_enabled(bool(win.history))
        win.up_btn.set_enabled(win.path != "/")
        self.selection_changed(win)
        self._version = fs.version

    def selection_changed(self, win: FilesWindow) -> None:
        """Update the status line and enable the toolbar buttons that need a selection (or a non-empty trash)."""
        sel = win.listing.selected_item
        n = len(win.listing.rows)
        text = f"{n} item{'s' if n != 1 else ''}"
        if sel is not None:
            text += f" — \"{sel.label}\" selected"
        win.status.set_text(text)
        for label in ("Rename", "Delete", "Restore"):
            win.tool_buttons[label].set_enabled(sel is not None)
        win.tool_buttons["Empty Trash"].set_enabled(bool(self.fs.trash))

    def sync(self) -> None:
        """Re-list the window when the file system changed since the last listing."""
        if self.fs.version != self._version:
            for w in self.windows:
                self.refresh(w)  # type: ignore[arg-type]

    # ------------------------------------------------------------------ operations
    def _run(self, win: FilesWindow | None, fn) -> bool:
        try:
            fn()
            return True
        except FsError as e:
            message_box(self.d, win, "Files", str(e), icon="warning")
            return False

    def new_folder(self, win: FilesWindow) -> None:
        """Ask for a name and create a folder in the current folder (not in the trash)."""
        if win.path != TRASH:
            self.new_folder_in(win.path, win)

    def new_folder_in(self, folder: str, win: Window | None = None) -> None:
        """Ask for a name ("New Folder", made unique) and create that folder in ``folder``.

        Args:
            folder: where to create it.
            win: the window the prompt is modal for (None: the desktop).
        """
        default = self.fs.unique_name(folder, "New Folder")
        prompt(self.d, win, "New Folder", "Folder name:", default, self._creator(folder, self.fs.mkdir),
               ok_label="Create", select_stem=False)

    def new_file_in(self, folder: str, win: Window | None = None) -> None:
        """Ask for a name ("New File.txt", made unique) and create that empty file in ``folder``.

        Args:
            folder: where to create it.
            win: the window the prompt is modal for (None: the desktop).
        """
        default = self.fs.unique_name(folder, "New File.txt")
        prompt(self.d, win, "New Text File", "File name:", default,
               self._creator(folder, lambda path: self.fs.write(path, "")), ok_label="Create")

    def _creator(self, folder: str, create: Callable[[str], object]) -> Callable[[str], str | None]:
        """A prompt's ``on_ok``: check the typed name, then ``create(path)``; returns the error to show, or None."""
        def ok(name: str) -> str | None:
            name = name.strip()
            if not name or "/" in name:
                return "Enter a name without '/'."
            path = posixpath.join(folder, name)
            if self.fs.exists(path):
                return f"{name!r} already exists here."
            try:
                create(path)
            except FsError as e:
                return str(e)
            return None
        return ok

    def rename_selected(self, win: FilesWindow) -> None:
        """Ask for a new name for the selected item and rename it (errors are shown in the prompt)."""
        item = win.listing.selected_item
        if item is None or win.path == TRASH:
            return
        path = item.data

        def ok(name: str) -> str | None:
            try:
                self.fs.rename(path, name)
            except FsError as e:
                return str(e)
            self.refresh(win)
            win.listing.select_label(name.strip())
            return None

        prompt(self.d, win, "Rename", "New name:", item.label, ok, ok_label="Rename",
               select_stem=not item.extra.get("is_dir"))

    def delete_selected(self, win: FilesWindow) -> None:
        """Move the selected item to the trash; in the trash, delete it for good."""
        item = win.listing.selected_item
        if item is None:
            return
        if win.path == TRASH:
            self._run(win, lambda: self.fs.purge(item.data))
        else:
            self._run(win, lambda: self.fs.delete(item.data))

    def restore_selected(self, win: FilesWindow) -> None:
        """Restore the selected trash entry to its original folder."""
        item = win.listing.selected_item
        if item is not None and win.path == TRASH:
            self._run(win, lambda: self.fs.restore(item.data))

    def empty_trash(self, win: FilesWindow) -> None:
        """Ask for confirmation, then delete every trash entry for good."""
        if not self.fs.trash:
            return
        message_box(self.d, win, "Empty Trash", f"Permanently delete all {len(self.fs.trash)} items in the "
                    "trash?", ("Empty Trash", "Cancel"), lambda lab: lab == "Empty Trash" and self.fs.empty_trash(),
                    icon="warning")

    def context_menu(self, win: FilesWindow, item: ListItem | None, ev: MouseEvent) -> None:
        """Open the right-click menu for ``item`` (None: the empty area), different in the trash."""
        if win.path == TRASH:
            entries = ([MenuEntry("Restore", lambda: self.restore_selected(win)),
                        MenuEntry("Delete Permanently", lambda: self.delete_selected(win))] if item is not None
                       else [MenuEntry("Empty Trash", lambda: self.empty_trash(win), enabled=bool(self.fs.trash))])
        elif item is None:
            entries = [MenuEntry("New Folder", lambda: self.new_folder(win), "Ctrl+Shift+N"),
                       MenuEntry("New Text File", lambda: self.new_file_in(win.path, win))]
        else:
            entries = [MenuEntry("Open", lambda: self.activate(win, item), "Enter"),
                       MenuEntry("Rename…", lambda: self.rename_selected(win), "F2"),
                       MenuEntry("Move to Trash", lambda: self.delete_selected(win), "Delete"),
                       SEPARATOR,
                       MenuEntry("New Folder", lambda: self.new_folder(win))]
        self.d.open_context_menu(entries, ev.x, ev.y)

    def on_key(self, win: Window, ev: KeyEvent) -> bool:
        """The Files shortcuts, except while typing in the location field.

        Delete, F2 (rename), Backspace/alt+up (up), alt+left (back), ctrl+shift+n (new folder), F5 (refresh),
        ctrl+l (edit the location).
        """
        if not isinstance(win, FilesWindow):
            return False
        if win.focus_widget is win.location:
            return False
        fns = {"delete": lambda: self.delete_selected(win), "f2": lambda: self.rename_selected(win),
               "backspace": lambda: self.up(win), "alt+up": lambda: self.up(win), "alt+left": lambda: self.back(win),
               "ctrl+shift+n": lambda: self.new_folder(win), "f5": lambda: self.refresh(win),
               "ctrl+l": lambda: (win.set_focus(win.location), win.location.select_all())}
        fn = fns.get(ev.combo)
        if fn is None:
            return False
        fn()
        return True

    # ------------------------------------------------------------------ drag and drop
    def _dragged_path(self, payload: Any) -> str | None:
        if isinstance(payload, tuple) and len(payload) == 3 and payload[0] == "list_item":
            lv, item = payload[1], payload[2]
            win = self.win
            if win is not None and lv is win.listing and win.path != TRASH:
                return item.data
        return None

    def can_drop_into(self, folder: str, payload: Any) -> bool:
        """Whether a dragged Files item may be dropped into ``folder``.

        The trash always takes it; a folder does unless it is where the item already is, the item itself, or
        inside it.
        """
        src = self._dragged_path(payload)
        if src is None:
            return False
        if folder == TRASH:
            return True
        return (self.fs.is_dir(folder) and posixpath.dirname(src) != folder and src != folder
                and not folder.startswith(src + "/"))

    def drop_into(self, win: FilesWindow | None, folder: str, payload: Any) -> None:
        """Move the dragged item into ``folder`` (to the trash for ``trash://``); errors go to a warning box."""
        src = self._dragged_path(payload)
        if src is None:
            return
        if folder == TRASH:
            self._run(win, lambda: self.fs.delete(src))
        else:
            self._run(win, lambda: self.fs.move_into(src, folder))

    def shell_drop_ok(self, target: tuple[str, str], payload: Any) -> bool:
        """Whether a dragged Files item may be dropped on a desktop target (desktop, trash or folder icon)."""
        kind, value = target
        if kind == "desktop":
            return self.can_drop_into(f"{HOME}/Desktop", payload)
        if kind == "trash":
            return self._dragged_path(payload) is not None
        return self.can_drop_into(value, payload)

    def shell_drop(self, target: tuple[str, str], payload: Any) -> None:
        """Move a dragged Files item to the desktop target: ~/Desktop, the trash or the icon's folder."""
        kind, value = target
        folder = {"desktop": f"{HOME}/Desktop", "trash": TRASH}.get(kind, value)
        self.drop_into(self.win, folder, payload)

    # ------------------------------------------------------------------ state
    def state(self) -> dict:
        """The shown folder, the selected item's name and the listed names (empty when not open)."""
        win = self.win
        if win is None:
            return {}
        sel = win.listing.selected_item
        return {"path": win.path, "selected": sel.label if sel is not None else None,
                "items": [it.label for it in win.listing.items]}
