"""Modal dialogs shared by the apps: message box, text prompt, and a file open/save dialog."""

from __future__ import annotations

import posixpath
from typing import TYPE_CHECKING, Callable, Sequence

from guiagent.envs.mock import text as textmod
from guiagent.envs.mock import theme
from guiagent.envs.mock.fs import HOME, FsError
from guiagent.envs.mock.widgets.base import KeyEvent
from guiagent.envs.mock.widgets.basic import BOLD, REGULAR, Button, ImageView, Label
from guiagent.envs.mock.widgets.containers import ListItem, ListView
from guiagent.envs.mock.widgets.textedit import TextField
from guiagent.envs.mock.wm import Window

if TYPE_CHECKING:  # pragma: no cover
    from guiagent.envs.mock.services import AppHost


class _DialogApp:
    """Routes Enter/Escape in a dialog to its default and cancel buttons."""

    def __init__(self, default: Callable[[], None] | None, cancel: Callable[[], None] | None):
        self.default, self.cancel = default, cancel

    def on_key(self, win: Window, ev: KeyEvent) -> bool:
        if ev.combo == "enter" and self.default is not None:
            self.default()
            return True
        if ev.combo == "esc" and self.cancel is not None:
            self.cancel()
            return True
        return False

    def can_close(self, win: Window) -> bool:
        if self.cancel is not None:
            self.cancel()
            return False
        return True


def _buttons(win: Window, labels: Sequence[str], on: Callable[[str], None], default: str | None) -> None:
    x = win.content.w - 16
    for label in reversed(labels):
        bw = max(84, int(textmod.measure(label, BOLD)) + 28)
        x -= bw
        win.content.add(Button(label, (lambda lab=label: on(lab)), (x, win.content.h - 46, bw, theme.BUTTON_H),
                               kind="primary" if label == default else "normal"))
        x -= 8


def message_box(d: "AppHost", parent: Window | None, title: str, message: str,
                buttons: Sequence[str] = ("OK",), on_result: Callable[[str], None] | None = None,
                icon: str = "info", default: str | None = None) -> Window:
    """A modal message with buttons; ``on_result(label)`` runs after it closes (Escape / close = last button)."""
    lines: list[str] = []
    for para in message.split("\n"):
        lines.extend(textmod.wrap(para, 330))
    h = theme.TITLE_H + 40 + 20 * len(lines) + 60
    w = 440
    x, y = d.wm.place(w, h, parent)
    default = default or buttons[0]
    win: Window

    def done(label: str) -> None:
        d.wm.close(win)
        if on_result is not None:
            on_result(label)

    win = Window(title, (x, y, w, h), _DialogApp(lambda: done(default), lambda: done(buttons[-1])),
                 icon=icon, resizable=False, modal_for=parent)
    win.content.add(ImageView(icon, icon, (20, 20, 32, 32))).a11y_hidden = True
    win.content.add(Label(message, (68, 22, w - 90, 20 * len(lines) + 4), wrap=True))
    _buttons(win, buttons, done, default)
    d.wm.add(win)
    return win


def prompt(d: "AppHost", parent: Window | None, title: str, label: str, initial: str = "",
           on_ok: Callable[[str], str | None] | None = None, ok_label: str = "OK",
           select_stem: bool = True) -> Window:
    """A modal one-field prompt. ``on_ok(text)`` returns an error message to keep the dialog open, or None."""
    w, h = 440, theme.TITLE_H + 150
    x, y = d.wm.place(w, h, parent)
    win: Window
    field: TextField
    error: Label

    def ok() -> None:
        msg = on_ok(field.text) if on_ok is not None else None
        if msg:
            error.set_text(msg)
            field.invalid = True
            field.invalidate()
            return
        d.wm.close(win)

    def cancel() -> None:
        d.wm.close(win)

    win = Window(title, (x, y, w, h), _DialogApp(ok, cancel), icon="info", resizable=False, modal_for=parent)
    win.content.add(Label(label, (20, 16, w - 40, 20)))
    field = win.content.add(TextField(label.rstrip(":"), initial, (20, 40, w - 42, theme.FIELD_H), on_submit=ok))
    error = win.content.add(Label("", (20, 72, w - 40, 18), color="error"))
    _buttons(win, ("Cancel", ok_label), lambda lab: ok() if lab == ok_label else cancel(), ok_label)
    d.wm.add(win)
    win.set_focus(field)
    stem = posixpath.splitext(initial)[0] if select_stem else initial
    field.anchor, field.caret = 0, len(stem) if stem else len(initial)
    field.invalidate()
    return win


def file_dialog(d: "AppHost", parent: Window | None, mode: str, on_done: Callable[[str], str | None],
                folder: str = f"{HOME}/Documents", name: str = "") -> Window:
    """An Open (``mode="open"``) or Save As (``mode="save"``) dialog over the file system.

    The list shows the current folder (double click a folder to enter it, "Up" goes to the parent); the file name
    field accepts a name or a full path. ``on_done(path)`` returns an error message to keep it open, or None.
    """
    w, h = 560, 440
    x, y = d.wm.place(w, h, parent)
    title = "Open File" if mode == "open" else "Save As"
    action = "Open" if mode == "open" else "Save"
    state = {"folder": folder if d.fs.is_dir(folder) else HOME}
    win: Window

    def refresh() -> None:
        items = [ListItem(n, "folder" if is_dir else "file", (), (n, is_dir))
                 for n, is_dir in d.fs.listdir(state["folder"])]
        listing.set_items(items, keep_selection=False)
        location.set_text(state["folder"])

    def enter(folder_path: str) -> None:
        state["folder"] = folder_path
        refresh()

    def activate(item: ListItem) -> None:
        n, is_dir = item.data
        if is_dir:
            enter(posixpath.join(state["folder"], n))
        else:
            name_field.set_text(n)
            finish()

    def select(item: ListItem | None) -> None:
        if item is not None and not item.data[1]:
            name_field.set_text(item.data[0])

    def up() -> None:
        if state["folder"] != "/":
            enter(posixpath.dirname(state["folder"]))

    def finish() -> None:
        raw = name_field.text.strip()
        if not raw:
            error.set_text("Enter a file name.")
            return
        path = raw if raw.startswith("/") else posixpath.join(state["folder"], raw)
        path = posixpath.normpath(path)
        if d.fs.is_dir(path):
            name_field.set_text("")
            enter(path)
            return
        if mode == "open" and not d.fs.is_file(path):
            error.set_text(f"No file named {posixpath.basename(path)!r} here.")
            return
        try:
            msg = on_done(path)
        except FsError as e:
            msg = str(e)
        if msg:
            error.set_text(msg)
            return
        d.wm.close(win)

    def cancel() -> None:
        d.wm.close(win)

    win = Window(title, (x, y, w, h), _DialogApp(finish, cancel), icon="folder", resizable=False, modal_for=parent)
    c = win.content
    c.add(Button("", up, (16, 12, 34, theme.FIELD_H), icon="up", tooltip="Up"))
    c.children[-1].name = "Up"
    location = c.add(TextField("Location", state["folder"], (58, 12, w - 76, theme.FIELD_H), readonly=True))
    listing = c.add(ListView("Files", (16, 50, w - 34, 250), on_select=select, on_activate=activate))
    c.add(Label("File name:", (16, 312, 90, theme.FIELD_H), style=REGULAR))
    name_field = c.add(TextField("File name", name, (104, 312, w - 122, theme.FIELD_H), on_submit=finish))
    error = c.add(Label("", (16, 344, w - 34, 18), color="error"))
    _buttons(win, ("Cancel", action), lambda lab: finish() if lab == action else cancel(), action)
    d.wm.add(win)
    refresh()
    win.set_focus(name_field)
    return win
