"""Each app's core operations, driven through the screen like an agent would (a11y tree -> clicks/keys)."""

from __future__ import annotations

from guiagent.actions import types as T
from guiagent.actions.types import Click, Point, Space
from guiagent.envs.mock import MockDesktop

DOCS = "/home/user/Documents"


def P(x, y) -> Point:
    return Point(x, y, Space.SCREEN)


def at(d, role, name=None, **kw) -> Point:
    x, y = d.find(role=role, name=name, **kw).center
    return P(x, y)


def click(d, role, name=None, clicks=1, button="left", **kw):
    d.execute(Click(at(d, role, name, **kw), button=button, clicks=clicks))


# ------------------------------------------------------------------------------------------------ editor
def test_editor_type_save_as_then_save():
    d = MockDesktop(initial_state={"open": ["editor"]})
    d.execute(T.Type("Shopping:\n- milk"))
    assert d.find(role="window").name == "*Untitled — Text Editor"
    d.execute(T.Hotkey(("ctrl", "s")))            # untitled: Save As dialog
    assert d.find(role="dialog").name == "Save As"
    d.execute(T.Hotkey(("ctrl", "a")))
    d.execute(T.Type("list.txt", submit=True))
    assert d.state()["files"][f"{DOCS}/list.txt"] == "Shopping:\n- milk"
    assert d.find(role="window").name == "list.txt — Text Editor"
    click(d, "text_area", "Document")
    d.execute(T.Hotkey(("ctrl", "end")))
    d.execute(T.Type("\n- eggs"))
    click(d, "menu_item", "File")
    click(d, "menu_item", "Save")
    assert d.state()["files"][f"{DOCS}/list.txt"].endswith("- eggs")
    assert not d.state()["apps"]["editor"]["documents"][0]["modified"]


def test_editor_open_dialog_navigates_folders_and_rename():
    d = MockDesktop(initial_state={"files": {f"{DOCS}/Work/plan.txt": "step 1"}, "open": ["editor"]})
    click(d, "button", "Open")
    click(d, "list_item", "Work", clicks=2)
    click(d, "list_item", "plan.txt", clicks=2)
    doc = d.state()["apps"]["editor"]["documents"][0]
    assert doc["path"] == f"{DOCS}/Work/plan.txt" and doc["text"] == "step 1"
    click(d, "menu_item", "File")
    click(d, "menu_item", "Rename…")
    d.execute(T.Type("roadmap", submit=True))    # the stem is selected: typing keeps ".txt"
    s = d.state()
    assert f"{DOCS}/Work/roadmap.txt" in s["files"] and f"{DOCS}/Work/plan.txt" not in s["files"]
    assert s["apps"]["editor"]["documents"][0]["path"] == f"{DOCS}/Work/roadmap.txt"


def test_editor_save_as_refuses_to_overwrite_and_copy_paste_between_docs():
    d = MockDesktop(initial_state={"files": {f"{DOCS}/a.txt": "AAA"}, "open": [{"app": "editor",
                                                                                 "path": f"{DOCS}/a.txt"}]})
    d.execute(T.Hotkey(("ctrl", "a")))
    d.execute(T.Hotkey(("ctrl", "c")))
    d.execute(T.Hotkey(("ctrl", "n")))
    d.execute(T.Hotkey(("ctrl", "v")))
    d.execute(T.Hotkey(("ctrl", "shift", "s")))
    d.execute(T.Hotkey(("ctrl", "a")))
    d.execute(T.Type("a.txt", submit=True))
    assert "already exists" in d.find(role="label", name_contains="already exists").name
    d.execute(T.Hotkey(("ctrl", "a")))
    d.execute(T.Type("b.txt", submit=True))
    assert d.state()["files"][f"{DOCS}/b.txt"] == "AAA"


# ------------------------------------------------------------------------------------------------ files
FILES = {f"{DOCS}/report.txt": "r", f"{DOCS}/notes.txt": "n", f"{DOCS}/Archive/old.txt": "o"}


def test_files_drag_and_drop_into_folder_and_to_desktop():
    d = MockDesktop(initial_state={"files": FILES, "open": [{"app": "files", "path": DOCS}]})
    d.execute(T.Drag(at(d, "list_item", "report.txt"), at(d, "list_item", "Archive")))
    assert f"{DOCS}/Archive/report.txt" in d.state()["files"]
    d.execute(T.Drag(at(d, "list_item", "notes.txt"), at(d, "list_item", "Desktop")))  # sidebar place
    assert "/home/user/Desktop/notes.txt" in d.state()["files"]
    assert d.find(role="icon", name="notes.txt")  # and it shows up on the desktop


def test_files_rename_delete_restore_and_new_folder():
    d = MockDesktop(initial_state={"files": FILES, "open": [{"app": "files", "path": DOCS}]})
    click(d, "list_item", "notes.txt")
    d.execute(T.Press("f2"))
    d.execute(T.Type("ideas", submit=True))
    assert f"{DOCS}/ideas.txt" in d.state()["files"]
    click(d, "list_item", "report.txt", button="right")
    click(d, "menu_item", "Move to Trash")
    s = d.state()
    assert f"{DOCS}/report.txt" not in s["files"] and s["trash"][0]["name"] == "report.txt"
    click(d, "list_item", "Trash")
    click(d, "list_item", "report.txt")
    click(d, "button", "Restore")
    assert d.state()["files"][f"{DOCS}/report.txt"] == "r" and d.state()["trash"] == []
    click(d, "list_item", "Documents")
    click(d, "button", "New Folder")
    d.execute(T.Hotkey(("ctrl", "a")))
    d.execute(T.Type("Receipts", submit=True))
    assert f"{DOCS}/Receipts" in d.state()["dirs"]
    click(d, "list_item", "Receipts", clicks=2)
    assert d.state()["apps"]["files"]["path"] == f"{DOCS}/Receipts"
    click(d, "button", "Up")
    assert d.state()["apps"]["files"]["path"] == DOCS


def test_files_double_click_text_file_opens_editor_and_typed_location():
    d = MockDesktop(initial_state={"files": FILES, "open": [{"app": "files"}]})
    click(d, "text_field", "Location", clicks=3)
    d.execute(T.Type(f"{DOCS}/Archive", submit=True))
    click(d, "list_item", "old.txt", clicks=2)
    assert d.state()["windows"][0]["app"] == "editor"
    assert d.state()["apps"]["editor"]["documents"][0]["text"] == "o"


# ------------------------------------------------------------------------------------------------ calculator
def test_calculator_buttons_keyboard_and_errors():
    d = MockDesktop(initial_state={"open": ["calculator"]})
    for key in ["1", "2", "×", "3", "="]:
        click(d, "button", key)
    assert d.find(role="text", name="Display").value == "36"
    d.execute(T.Type("/0="))
    assert d.state()["apps"]["calculator"]["error"]
    d.execute(T.Press("esc"))
    d.execute(T.Type("0.1+0.2="))
    assert d.state()["apps"]["calculator"]["display"] == "0.3"
    d.execute(T.Type("7"))
    click(d, "button", "±")
    click(d, "button", "⌫")
    assert d.state()["apps"]["calculator"]["display"] == "0"


# ------------------------------------------------------------------------------------------------ settings
def test_settings_switch_slider_dropdown_radio_checkbox():
    d = MockDesktop(initial_state={"open": ["settings"]})
    click(d, "switch", "Bluetooth")
    click(d, "tab", "Sound")
    node = d.find(role="slider", name="Volume")
    x, y, w, h = node.bounds
    d.execute(Click(P(x + 10, y + h / 2)))  # track start: 0
    d.execute(T.Press("right"))
    click(d, "tab", "System")
    click(d, "combo_box", "Language")
    click(d, "list_item", "Deutsch")
    click(d, "radio_button", "DD/MM/YYYY")
    click(d, "checkbox", "Install updates automatically")
    s = d.state()["settings"]
    assert s["bluetooth"] is True and s["volume"] == 1 and s["language"] == "Deutsch"
    assert s["date_format"] == "DD/MM/YYYY" and s["auto_update"] is False


def test_dark_mode_rethemes_the_desktop():
    d = MockDesktop(initial_state={"open": [{"app": "settings", "tab": "Display"}]})
    light = d.observe().screenshot.getpixel((700, 300))
    click(d, "switch", "Dark mode")
    assert d.state()["settings"]["dark_mode"] is True
    assert d.observe().screenshot.getpixel((700, 300)) != light


# ------------------------------------------------------------------------------------------------ mail
INBOX = {"inbox": [{"from": "alice@example.com", "subject": "Lunch", "body": "Friday at noon?", "date": "Mar 13"},
                   {"from": "bob@example.com", "subject": "Report", "body": "Numbers attached", "date": "Mar 12"}]}


def test_mail_compose_validate_and_send():
    d = MockDesktop(initial_state={"mail": INBOX, "open": ["mail"]})
    click(d, "button", "Compose")
    d.execute(T.Type("carol"))
    click(d, "button", "Send")
    assert "not a valid email address" in d.find(role="dialog").find(role="label").name
    d.execute(T.Press("enter"))
    click(d, "text_field", "To", clicks=3)
    d.execute(T.Type("carol@example.com, dave@example.org"))
    click(d, "text_field", "Subject")
    d.execute(T.Type("Plan"))
    click(d, "text_area", "Body")
    d.execute(T.Type("Hi both,\nsee you at 10."))
    click(d, "button", "Send")
    sent = d.state()["mail"]["sent"]
    assert len(sent) == 1 and sent[0]["to"] == "carol@example.com, dave@example.org"
    assert sent[0]["subject"] == "Plan" and sent[0]["body"] == "Hi both,\nsee you at 10."
    click(d, "list_item", "Sent")
    assert d.state()["apps"]["mail"]["folder"] == "sent" and d.find(role="list_item", name_contains="carol")


def test_mail_search_read_and_reply():
    d = MockDesktop(initial_state={"mail": INBOX, "open": ["mail"]})
    click(d, "text_field", "Search mail")
    d.execute(T.Type("numbers"))
    assert d.state()["apps"]["mail"]["shown"] == [2]
    click(d, "list_item", "bob@example.com")
    assert d.find(role="text_area", name="Message body").value == "Numbers attached"
    assert d.state()["mail"]["inbox"][1]["read"] is True
    click(d, "button", "Reply")
    click(d, "button", "Send")
    sent = d.state()["mail"]["sent"][0]
    assert sent["to"] == "bob@example.com" and sent["subject"] == "Re: Report" and "> Numbers attached" in sent["body"]


def test_mail_no_subject_asks_and_closing_a_draft_saves_it():
    d = MockDesktop(initial_state={"open": [{"app": "mail", "compose": {"to": "x@example.com"}}]})
    click(d, "button", "Send")
    click(d, "button", "Cancel")
    assert d.state()["mail"]["sent"] == []
    click(d, "button", "Close", within="New Message")
    click(d, "button", "Save Draft")
    assert d.state()["mail"]["drafts"][0]["to"] == "x@example.com"


# ------------------------------------------------------------------------------------------------ web form
def test_webform_validation_messages_then_submit():
    d = MockDesktop(initial_state={"open": [{"app": "webform", "url": "forms.example.com/contact"}]})
    click(d, "text_field", "Email")
    d.execute(T.Type("not-an-email"))
    click(d, "button", "Submit")
    errs = d.state()["apps"]["webform"]["errors"]
    assert set(errs) == {"name", "email", "topic", "message"}
    assert d.find(role="label", name="Enter a valid email address, like name@example.com.")
    assert "invalid" in d.find(role="text_field", name="Email").states
    click(d, "text_field", "Your name")
    d.execute(T.Type("Zoë Ōkubo"))
    click(d, "text_field", "Email", clicks=3)
    d.execute(T.Type("zoe@example.com"))
    click(d, "combo_box", "Topic")
    click(d, "list_item", "Sales")
    click(d, "text_area", "Message")
    d.execute(T.Type("Please call me."))
    assert "offscreen" in d.find(role="button", name="Submit").states  # the error messages pushed it down
    d.execute(T.Scroll("down", at(d, "text_area", "Message")))
    click(d, "button", "Submit")
    sub = d.state()["forms"]["submissions"]
    assert sub == [{"form": "contact", "url": "https://forms.example.com/contact", "confirmation": "CON-0001",
                    "values": {"name": "Zoë Ōkubo", "email": "zoe@example.com", "topic": "Sales",
                               "message": "Please call me."}}]
    assert d.find(role="window").name == "Thank you — Web Form"


def test_webform_long_page_needs_scrolling_and_links_navigate():
    d = MockDesktop(initial_state={"open": ["webform"]})
    click(d, "link", "Conference Registration")
    assert d.state()["apps"]["webform"]["url"] == "https://forms.example.com/register"
    assert "offscreen" in d.find(role="button", name="Submit").states
    for _ in range(6):
        d.execute(T.Scroll("down", P(600, 400)))
    assert "offscreen" not in d.find(role="button", name="Submit").states
    d.execute(T.NavigateBack())
    assert d.state()["apps"]["webform"]["url"] == "https://forms.example.com/"
    d.execute(T.Navigate("https://elsewhere.example.org"))
    assert d.find(role="window").name == "Offline — Web Form"
    d.execute(T.PressBack())
    assert d.state()["apps"]["webform"]["url"] == "https://forms.example.com/"
