"""Each widget driven through real input actions (clicks, drags, keys, typing, wheel)."""

from __future__ import annotations

import pytest

from guiagent.actions import types as T
from guiagent.actions.types import Click, Point, Space
from guiagent.envs.mock import MockDesktop
from guiagent.envs.mock.widgets.basic import Button, Checkbox, RadioGroup, Slider, Switch
from guiagent.envs.mock.widgets.containers import ListItem, ListView, ScrollView, Tabs
from guiagent.envs.mock.widgets.menus import Dropdown, MenuBar, MenuEntry
from guiagent.envs.mock.widgets.textedit import TextArea, TextField
from guiagent.envs.mock.wm import Window


def P(x, y) -> Point:
    return Point(x, y, Space.SCREEN)


def at(d, role, name=None, **kw) -> Point:
    x, y = d.find(role=role, name=name, **kw).center
    return P(x, y)


@pytest.fixture()
def desk():
    d = MockDesktop()
    win = Window("Widgets", (100, 40, 900, 680))
    d.wm.add(win)
    d.log = []
    d.win = win
    return d


def add(d, widget):
    return d.win.content.add(widget)


def test_button_activates_on_release_inside_only(desk):
    b = add(desk, Button("Go", lambda: desk.log.append("go"), (20, 20, 100, 30)))
    desk.execute(Click(at(desk, "button", "Go")))
    assert desk.log == ["go"]
    x, y = at(desk, "button", "Go").x, at(desk, "button", "Go").y
    desk.execute(T.Drag(P(x, y), P(x + 300, y)))  # press, leave, release outside: no activation
    assert desk.log == ["go"]
    b.set_enabled(False)
    desk.execute(Click(P(x, y)))
    assert desk.log == ["go"] and "disabled" in desk.find(role="button", name="Go").states


def test_text_field_editing_keys_and_clipboard(desk):
    f = add(desk, TextField("Name", "", (20, 20, 300, 28)))
    g = add(desk, TextField("Other", "", (20, 60, 300, 28)))
    desk.execute(Click(at(desk, "text_field", "Name")))
    assert "focused" in desk.find(role="text_field", name="Name").states
    desk.execute(T.Type("hello world"))
    desk.execute(T.Press("home"))
    desk.execute(T.Hotkey(("shift", "right")))
    desk.execute(T.Hotkey(("shift", "right")))
    assert f.selected_text == "he"
    desk.execute(T.Hotkey(("ctrl", "x")))
    assert f.text == "llo world" and desk.clipboard == "he"
    desk.execute(T.Press("end"))
    desk.execute(T.Hotkey(("ctrl", "v")))
    desk.execute(T.Press("backspace"))
    desk.execute(T.Press("left"))
    desk.execute(T.Press("delete"))
    assert f.text == "llo world"
    desk.execute(T.KeyDown("shift"))
    desk.execute(T.Press("a"))
    desk.execute(T.KeyUp("shift"))
    desk.execute(T.Press("b"))
    assert f.text == "llo worldAb"
    desk.execute(T.Hotkey(("ctrl", "a")))
    desk.execute(T.Hotkey(("ctrl", "c")))
    desk.execute(T.Press("tab"))  # focus moves to the next field
    assert g.focused
    desk.execute(T.Hotkey(("ctrl", "v")))
    assert g.text == "llo worldAb"
    desk.execute(T.Hotkey(("ctrl", "z")))
    assert g.text == ""
    desk.execute(T.Hotkey(("ctrl", "backspace")))  # nothing to delete
    assert desk.find(role="text_field", name="Other").value == ""


def test_text_field_click_places_caret_and_double_click_selects_word(desk):
    f = add(desk, TextField("Name", "alpha beta gamma", (20, 20, 400, 28)))
    x, y, w, h = desk.find(role="text_field", name="Name").bounds
    from guiagent.envs.mock import text as textmod
    bx = x + 6 + textmod.measure("alpha be", f.style)
    desk.execute(Click(P(bx, y + h / 2)))
    assert f.caret == len("alpha be")
    desk.execute(Click(P(bx, y + h / 2), clicks=2))
    assert f.selected_text == "beta"
    desk.execute(T.Type("BETA"))
    assert f.text == "alpha BETA gamma"
    desk.execute(Click(P(bx, y + h / 2), clicks=3))
    assert f.selected_text == f.text
    # drag to select from the start to after "alpha"
    ax = x + 6 + textmod.measure("alpha", f.style)
    desk.execute(T.Drag(P(x + 3, y + h / 2), P(ax, y + h / 2)))
    assert f.selected_text == "alpha"


def test_text_field_enter_submits_and_unicode_types(desk):
    add(desk, TextField("Query", "", (20, 20, 300, 28), on_submit=lambda: desk.log.append("submit")))
    desk.execute(Click(at(desk, "text_field", "Query")))
    desk.execute(T.Type("Ünïcödé 日本語 🙂", submit=True))
    assert desk.find(role="text_field", name="Query").value == "Ünïcödé 日本語 🙂"
    assert desk.log == ["submit"]


def test_text_area_lines_selection_and_scrolling(desk):
    a = add(desk, TextArea("Body", "", (20, 20, 400, 120)))
    desk.execute(Click(at(desk, "text_area", "Body")))
    desk.execute(T.Type("one\ntwo\nthree"))
    assert a.text == "one\ntwo\nthree" and a.line_col(a.caret) == (2, 5)
    desk.execute(T.Press("up"))
    desk.execute(T.Hotkey(("shift", "up")))
    assert a.selected_text == "\ntwo"
    desk.execute(T.Hotkey(("ctrl", "home")))
    desk.execute(T.Hotkey(("shift", "end")))
    assert a.selected_text == "one"
    desk.execute(T.Hotkey(("ctrl", "end")))
    desk.execute(T.Type("\n" + "\n".join(f"row {i}" for i in range(30))))
    assert a.scroll_y > 0  # caret kept visible
    desk.execute(T.Scroll("up", at(desk, "text_area", "Body"), amount=50))
    assert a.scroll_y == 0
    desk.execute(T.Scroll("down", at(desk, "text_area", "Body"), amount=2))
    assert a.scroll_y == 80


def test_checkbox_switch_and_radio_group(desk):
    cb = add(desk, Checkbox("Remember me", False, lambda v: desk.log.append(("cb", v)), (20, 20, 200, 26)))
    sw = add(desk, Switch("Wi-Fi", True, None, (20, 60, 300, 32)))
    rg = add(desk, RadioGroup("Size", ["Small", "Medium", "Large"], "Small", (20, 100, 200, 78)))
    desk.execute(Click(at(desk, "checkbox", "Remember me")))
    assert cb.checked and "checked" in desk.find(role="checkbox").states and desk.log == [("cb", True)]
    desk.execute(T.Press("space"))  # clicking a checkbox does not focus it: space does not toggle it back
    assert cb.checked
    desk.execute(Click(at(desk, "switch", "Wi-Fi")))
    assert not sw.checked and desk.find(role="switch").value == "off"
    desk.execute(Click(at(desk, "radio_button", "Large")))
    assert rg.selected == "Large" and desk.find(role="radio_group").value == "Large"
    desk.execute(T.Press("down"))  # the group took focus: arrows move the choice
    assert rg.selected == "Small"


def test_dropdown_mouse_and_keyboard(desk):
    dd = add(desk, Dropdown("Color", ["Red", "Green", "Blue", "Cyan", "Magenta", "Yellow", "Black", "White",
                                       "Orange", "Purple"], None, (20, 20, 200, 30)))
    desk.execute(Click(at(desk, "combo_box", "Color")))
    node = desk.find(role="combo_box", name="Color")
    assert "expanded" in node.states
    assert "offscreen" in desk.find(role="list_item", name="Purple").states
    desk.execute(T.Scroll("down", at(desk, "list", "Color")))
    desk.execute(Click(at(desk, "list_item", "Purple")))
    assert dd.selected == "Purple" and "collapsed" in desk.find(role="combo_box").states
    desk.execute(T.Press("up"))
    assert dd.selected == "Orange"
    desk.execute(T.Press("enter"))        # open with the keyboard
    desk.execute(T.Press("up"))
    desk.execute(T.Press("enter"))
    assert dd.selected == "White" and not desk.popups
    desk.execute(Click(at(desk, "combo_box", "Color")))
    desk.execute(Click(P(700, 600)))      # press outside closes the list, changes nothing
    assert dd.selected == "White" and not desk.popups


def test_slider_click_drag_and_keys(desk):
    s = add(desk, Slider("Volume", 0, 100, 50, (20, 20, 300, 32)))
    x, y, w, h = desk.find(role="slider").bounds
    a, b = s.track
    desk.execute(Click(P(x + a, y + h / 2)))
    assert s.value == 0
    desk.execute(T.Drag(P(x + a, y + h / 2), P(x + a + (b - a) * 0.75, y + h / 2)))
    assert s.value == 75
    desk.execute(T.Press("right"))
    desk.execute(T.Press("pageup"))
    assert s.value == 86 and desk.find(role="slider").value == "86"
    desk.execute(T.Press("end"))
    assert s.value == 100


def test_list_view_select_activate_keys_and_wheel(desk):
    lv = add(desk, ListView("Items", (20, 20, 300, 200), on_activate=lambda it: desk.log.append(it.label)))
    lv.set_items([ListItem(f"item {i}") for i in range(40)])
    desk.execute(Click(at(desk, "list_item", "item 2")))
    assert lv.selected_item.label == "item 2" and "selected" in desk.find(role="list_item", name="item 2").states
    desk.execute(Click(at(desk, "list_item", "item 3"), clicks=2))
    assert desk.log == ["item 3"]
    desk.execute(T.Press("down"))
    desk.execute(T.Press("enter"))
    assert desk.log == ["item 3", "item 4"]
    assert "offscreen" in desk.find(role="list_item", name="item 30").states
    desk.execute(T.Scroll("down", at(desk, "list", "Items")))
    assert lv.scroll_y == 200
    assert "offscreen" not in desk.find(role="list_item", name="item 12").states
    desk.execute(T.Press("end"))
    assert lv.selected_item.label == "item 39" and "offscreen" not in desk.find(
        role="list_item", name="item 39").states


def test_menu_bar_open_hover_switch_activate_and_escape(desk):
    add(desk, MenuBar([("File", lambda: [MenuEntry("New", lambda: desk.log.append("new"), "Ctrl+N"),
                                         MenuEntry("Disabled", lambda: desk.log.append("x"), enabled=False)]),
                       ("Help", lambda: [MenuEntry("About", lambda: desk.log.append("about"))])],
                      (0, 0, 900, 26)))
    desk.execute(Click(at(desk, "menu_item", "File")))
    assert desk.find(role="menu").name == "File" and "expanded" in desk.find(role="menu_item", name="File").states
    desk.execute(Click(at(desk, "menu_item", "Disabled")))
    assert desk.log == [] and desk.popups  # disabled items do nothing
    desk.execute(T.MoveTo(at(desk, "menu_item", "Help")))  # hovering another title switches menus
    assert desk.find(role="menu").name == "Help"
    desk.execute(Click(at(desk, "menu_item", "About")))
    assert desk.log == ["about"] and not desk.popups
    desk.execute(Click(at(desk, "menu_item", "File")))
    desk.execute(T.Press("esc"))
    assert not desk.popups
    desk.execute(Click(at(desk, "menu_item", "File")))
    desk.execute(T.Press("down"))
    desk.execute(T.Press("enter"))
    assert desk.log == ["about", "new"]


def test_context_menu_on_right_click(desk):
    class Target(ListView):
        pass

    lv = add(desk, Target("Things", (20, 20, 300, 200),
                          on_context=lambda it, ev: desk.open_context_menu(
                              [MenuEntry("Inspect", lambda: desk.log.append(it.label if it else None))], ev.x, ev.y)))
    lv.set_items([ListItem("alpha"), ListItem("beta")])
    desk.execute(Click(at(desk, "list_item", "beta"), button="right"))
    menu = desk.find(role="menu")
    assert menu.name == "Context menu" and lv.selected_item.label == "beta"
    desk.execute(Click(at(desk, "menu_item", "Inspect")))
    assert desk.log == ["beta"]


def test_scroll_view_both_directions(desk):
    sv = add(desk, ScrollView("Canvas", (20, 20, 200, 150)))
    sv.add(Button("Far", None, (600, 500, 80, 30)))
    assert "offscreen" in desk.find(role="button", name="Far").states
    p = at(desk, "scroll_area", "Canvas")
    desk.execute(T.Scroll("down", p, amount=20))
    desk.execute(T.Scroll("right", p, amount=20))
    assert (sv.scroll_x, sv.scroll_y) == sv.max_scroll() and sv.scroll_y > 0 and sv.scroll_x > 0
    assert "offscreen" not in desk.find(role="button", name="Far").states
    desk.execute(T.Scroll("left", p, amount=1))
    desk.execute(T.Scroll("up", p, amount=1))
    assert sv.scroll_x == sv.max_scroll()[0] - 40 and sv.scroll_y == sv.max_scroll()[1] - 40


def test_tabs_switch_pages(desk):
    tabs = add(desk, Tabs("Sections", ["One", "Two"], (20, 20, 500, 300)))
    tabs.pages["Two"].add(Button("Only on two", None, (20, 20, 120, 30)))
    assert not desk.accessibility_tree().find_all(role="button", name="Only on two")
    desk.execute(Click(at(desk, "tab", "Two")))
    assert tabs.selected == "Two" and "selected" in desk.find(role="tab", name="Two").states
    assert desk.find(role="button", name="Only on two")
    desk.execute(T.Press("left"))
    assert tabs.selected == "One"


def test_text_field_context_menu_copy_paste(desk):
    f = add(desk, TextField("Src", "copy me", (20, 20, 300, 28)))
    g = add(desk, TextField("Dst", "", (20, 60, 300, 28)))
    desk.execute(Click(at(desk, "text_field", "Src"), clicks=3))
    desk.execute(Click(at(desk, "text_field", "Src"), button="right"))
    assert "disabled" not in desk.find(role="menu_item", name="Copy").states
    desk.execute(Click(at(desk, "menu_item", "Copy")))
    desk.execute(Click(at(desk, "text_field", "Dst"), button="right"))
    assert "disabled" in desk.find(role="menu_item", name="Cut").states  # nothing selected in Dst
    desk.execute(Click(at(desk, "menu_item", "Paste")))
    assert g.text == f.text == "copy me" and g.focused
