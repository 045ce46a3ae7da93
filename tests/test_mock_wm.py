"""Window manager: move, z-order and focus, minimize/maximize/close, taskbar, desktop icons, modal dialogs."""

from __future__ import annotations

from guiagent.actions import types as T
from guiagent.actions.types import Click, Point, Space
from guiagent.envs.mock import MockDesktop
from guiagent.envs.mock.apps.dialogs import message_box


def P(x, y) -> Point:
    return Point(x, y, Space.SCREEN)


def at(d, role, name=None, **kw) -> Point:
    x, y = d.find(role=role, name=name, **kw).center
    return P(x, y)


def windows(d):
    return [(w["app"], w["active"], w["minimized"]) for w in d.state()["windows"]]


def test_title_bar_drag_moves_the_window():
    d = MockDesktop(initial_state={"open": ["calculator"]})
    x, y, w, h = d.find(role="window", name="Calculator").bounds
    d.execute(T.Drag(P(x + 60, y + 12), P(x + 360, y + 112)))
    assert d.find(role="window", name="Calculator").bounds == (x + 300, y + 100, w, h)
    # dragging can never lose the title bar above the screen or under the taskbar
    d.execute(T.Drag(P(x + 360, y + 112), P(x + 360, 790)))
    nx, ny, _, _ = d.find(role="window", name="Calculator").bounds
    assert ny + 30 <= 800 - 44


def test_click_raises_and_focuses_windows_and_keys_follow():
    d = MockDesktop(initial_state={"open": ["calculator", "editor"]})
    assert windows(d)[0][:2] == ("editor", True)
    d.execute(Click(P(300, 50)))  # the calculator's visible title bar, behind the editor
    assert windows(d)[0][:2] == ("calculator", True)
    d.execute(T.Type("42"))
    assert d.state()["apps"]["calculator"]["display"] == "42"
    assert d.state()["apps"]["editor"]["documents"][0]["text"] == ""
    d.execute(T.Hotkey(("alt", "tab")))
    assert windows(d)[0][:2] == ("editor", True)


def test_minimize_maximize_restore_close():
    d = MockDesktop(initial_state={"open": ["files"]})
    before = d.find(role="window").bounds
    d.execute(Click(at(d, "button", "Maximize")))
    node = d.find(role="window")
    assert "maximized" in node.states and node.bounds == (0, 0, 1280, 800 - 44)
    d.execute(Click(at(d, "button", "Restore")))
    assert d.find(role="window").bounds == before
    d.execute(Click(P(before[0] + 300, before[1] + 12), clicks=2))  # double-click title maximizes
    assert d.state()["windows"][0]["maximized"]
    d.execute(Click(at(d, "button", "Minimize")))
    assert windows(d) == [("files", False, True)]
    assert "offscreen" in d.find(role="window").states and not d.find(role="window").children
    d.execute(Click(P(*d.find(role="taskbar").find(role="button", name="Files").center)))
    assert windows(d) == [("files", True, False)]
    d.execute(Click(at(d, "button", "Close")))
    assert d.state()["windows"] == []


def test_taskbar_launches_switches_and_minimizes():
    d = MockDesktop()
    bar = lambda name: P(*d.find(role="taskbar").find(role="button", name=name).center)  # noqa: E731
    d.execute(Click(bar("Calculator")))
    d.execute(Click(bar("Settings")))
    assert [w[0] for w in windows(d)] == ["settings", "calculator"]
    assert "running" in d.find(role="taskbar").find(role="button", name="Calculator").states
    d.execute(Click(bar("Calculator")))  # running, not active: bring to front
    assert windows(d)[0][:2] == ("calculator", True)
    d.execute(Click(bar("Calculator")))  # active: minimize
    assert ("calculator", False, True) in windows(d) and windows(d)[1][:2] == ("settings", True)


def test_desktop_icons_open_on_double_click_and_show_desktop():
    d = MockDesktop(initial_state={"files": {"/home/user/Desktop/todo.txt": "buy milk"}})
    d.execute(Click(at(d, "icon", "Mail"), clicks=2))
    d.execute(Click(at(d, "icon", "todo.txt"), clicks=2))
    s = d.state()
    assert [w["app"] for w in s["windows"]] == ["editor", "mail"]
    assert s["apps"]["editor"]["documents"][0]["text"] == "buy milk"
    d.execute(T.PressHome())
    assert all(w["minimized"] for w in d.state()["windows"])
    d.execute(Click(at(d, "icon", "Trash"), clicks=2))
    assert d.state()["apps"]["files"]["path"] == "trash://"


def test_modal_dialog_blocks_its_parent():
    d = MockDesktop(initial_state={"open": ["editor"]})
    editor = d.wm.active
    answers = []
    message_box(d, editor, "Question", "Proceed?", ("Yes", "No"), answers.append)
    dialog = d.find(role="dialog", name="Question")
    assert "modal" in dialog.states and "active" in dialog.states
    d.execute(Click(at(d, "text_area", "Document")))   # parent is blocked: the dialog stays in front
    d.execute(T.Type("x"))
    assert d.state()["apps"]["editor"]["documents"][0]["text"] == ""
    assert d.wm.active.title == "Question"
    d.execute(T.Press("esc"))   # escape = the last (cancel) button
    assert answers == ["No"] and d.wm.active is editor


def test_alt_f4_closes_active_window_and_unsaved_prompt():
    d = MockDesktop(initial_state={"open": ["calculator", "editor"]})
    d.execute(T.Type("draft"))
    d.execute(T.Hotkey(("alt", "f4")))
    assert d.find(role="dialog").name == "Text Editor"  # save changes?
    d.execute(Click(at(d, "button", "Don't Save")))
    assert [w[0] for w in windows(d)] == ["calculator"]
    d.execute(T.Hotkey(("alt", "f4")))
    assert d.state()["windows"] == []


def test_hover_state_is_visible_on_buttons():
    d = MockDesktop(initial_state={"open": ["calculator"]})
    node = d.find(role="button", name="5")
    x, y, w, h = node.bounds
    before = d.observe().screenshot.getpixel((x + 5, y + 5))
    d.execute(T.MoveTo(P(*node.center)))
    after = d.observe().screenshot.getpixel((x + 5, y + 5))
    assert before != after
