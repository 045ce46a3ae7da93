"""The mock task suite: coverage of apps and skills, loader errors, predicates, and checkers that reject the start."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

import pytest

from guiagent.envs.mock import MockDesktop
from guiagent.envs.mock.tasks import (
    APPS,
    DIFFICULTIES,
    compile_predicate,
    get_task,
    load_suite,
    load_task_file,
    parse_task,
    predicate_names,
)
from guiagent.errors import ConfigError

SUITE = load_suite()
TASK_IDS = [t.id for t in SUITE]

MINIMAL = {
    "id": "mini", "app": "calculator", "difficulty": "easy", "instruction": "Compute 1 + 1.",
    "initial_state": {"open": ["calculator"]}, "check": [{"calculator_display": "2"}], "max_steps": 5,
    "solution": [{"type": "1+1="}, {"finished": "2"}],
}


def task_data(**changes):
    data = json.loads(json.dumps(MINIMAL))
    data.update(changes)
    return data


# ====================================================================== the suite


def test_suite_size_and_spread():
    assert len(SUITE) >= 40
    assert len(set(TASK_IDS)) == len(TASK_IDS)
    by_app = Counter(t.app for t in SUITE)
    assert set(by_app) == set(APPS)
    assert min(by_app.values()) >= 5, by_app
    assert {t.difficulty for t in SUITE} == set(DIFFICULTIES)
    multi = [t for t in SUITE if len(t.apps) > 1]
    assert len(multi) >= 4 and all("multi-app" in t.tags for t in multi)


@pytest.mark.parametrize("skill", ["drag", "scroll", "right-click", "shortcut", "non-ascii", "double-click",
                                   "dropdown", "slider", "menu", "dialog"])
def test_suite_covers_skill(skill):
    tasks = [t for t in SUITE if skill in t.tags]
    assert len(tasks) >= 2, f"only {[t.id for t in tasks]} need {skill}"


def test_tags_match_the_solutions():
    """A task tagged with a skill has a solution step that uses it (tags are not decoration)."""
    uses = {"drag": {"drag", "slider"}, "scroll": {"scroll"}, "right-click": {"right_click"},
            "double-click": {"double_click"}}
    for t in SUITE:
        kinds = {s.kind for s in t.solution}
        for tag, needed in uses.items():
            if tag in t.tags:
                assert kinds & needed, f"{t.id} is tagged {tag} but its solution has {sorted(kinds)}"
        if "non-ascii" in t.tags:
            typed = "".join(s.args["text"] for s in t.solution if s.kind == "type")
            assert any(ord(c) > 127 for c in typed), t.id
        if "shortcut" in t.tags:
            assert any(s.kind == "hotkey" or (s.kind == "press" and s.args["keys"][0] in ("delete", "enter"))
                       for s in t.solution), t.id


def test_task_files_are_data_named_after_their_id():
    folder = Path(SUITE[0].source).parent
    files = sorted(p.stem for p in folder.glob("*.json"))
    assert files == sorted(TASK_IDS)
    for p in folder.glob("*.json"):
        json.loads(p.read_text(encoding="utf-8"))  # plain JSON, nothing executable


@pytest.mark.parametrize("task_id", TASK_IDS)
def test_checker_rejects_the_initial_state(task_id):
    task = get_task(task_id)
    desk = MockDesktop(task=task)
    result = task.check(desk)
    assert not result.success, f"{task_id} is already solved at the start: {result.reasons}"
    assert any(r.startswith("failed: ") for r in result.reasons)


def test_initial_states_build_at_other_sizes():
    for task in SUITE[::7]:
        desk = MockDesktop(1920, 1080, 2.0, task=task)
        assert desk.observe().screenshot.size == (3840, 2160)
        assert not task.check(desk).success


def test_get_task_unknown_id_lists_close_matches():
    with pytest.raises(ConfigError) as e:
        get_task("rename-fil")
    assert "rename-file" in str(e.value) and "did you mean" in str(e.value)
    with pytest.raises(ConfigError) as e:
        get_task("zzzzzz-qqqq")
    assert "calc-add" in str(e.value)  # no close match: lists the suite


def test_task_listing_form():
    d = get_task("note-to-email").to_dict()
    assert d["apps"] == ["editor", "mail"] and "multi-app" in d["tags"]
    assert set(d) == {"id", "app", "apps", "difficulty", "instruction", "tags", "max_steps"}


# ====================================================================== loader errors


def test_parse_minimal_task_and_check_it():
    task = parse_task(task_data())
    desk = MockDesktop(task=task)
    assert not task.check(desk).success
    desk.app("calculator").press("1")
    desk.app("calculator").press("+")
    desk.app("calculator").press("1")
    desk.app("calculator").press("=")
    result = task.check(desk)
    assert result.success and result.reasons == ["ok: the calculator display is '2'"]


@pytest.mark.parametrize("changes, message", [
    ({"check": [{"file_exist": "~/a.txt"}]}, "unknown predicate 'file_exist' (did you mean file_exists"),
    ({"check": [{"nope": 1}]}, "valid predicates: app_focused, calculator_display, clipboard"),
    ({"colour": "red"}, "unknown key(s) ['colour']"),
    ({"app": "browser"}, "app must be one of files, editor, calculator, settings, mail, webform"),
    ({"difficulty": "insane"}, "difficulty must be one of easy, medium, hard"),
    ({"tags": ["draging"]}, "tags must be one of"),
    ({"max_steps": 0}, "max_steps must be a whole number from 1 to 200"),
    ({"initial_state": {"windows": []}}, "unknown initial_state key(s) ['windows']"),
    ({"solution": [{"type": "1"}]}, "the last step must be {\"finished\": ...}"),
    ({"solution": [{"clik": {"role": "button"}}, {"finished": None}]}, "(did you mean click?)"),
    ({"solution": [{"click": "OK"}, {"finished": None}]}, "not a bare string"),
    ({"solution": [{"click": {"role": "button", "colour": 1}}, {"finished": None}]}, "unknown target key(s)"),
    ({"solution": [{"hotkey": "ctrl sss"}, {"finished": None}]}, "solution[0].hotkey"),
    ({"check": [{"setting": {"key": "volume", "equals": 1, "bogus": 2}}]}, "unknown key(s) ['bogus']"),
    ({"check": [{"file_content": {"path": "~/a.txt"}}]}, "needs at least one of equals"),
    ({"check": [{"window_at": {"app": "calculator", "center_in": [0, 0]}}]}, "center_in must be [x, y, w, h]"),
    ({"check": [{"all": []}]}, "takes a non-empty list"),
    ({"check": [{"a": 1, "b": 2}]}, "exactly one key"),
    ({"check": []}, "check must be a non-empty list"),
    ({"id": "Bad_Id"}, "id must be lower-case"),
])
def test_loader_rejects_bad_task_data(changes, message):
    with pytest.raises(ConfigError) as e:
        parse_task(task_data(**changes), "mini.json")
    assert message in str(e.value)
    assert "mini.json" in str(e.value)


def test_loader_reports_file_errors(tmp_path):
    bad = tmp_path / "broken.json"
    bad.write_text('{"id": "broken",\n  "app": }', encoding="utf-8")
    with pytest.raises(ConfigError, match=r"broken.json: not valid JSON: .* line 2"):
        load_task_file(bad)
    other = tmp_path / "other.json"
    other.write_text(json.dumps(task_data()), encoding="utf-8")
    with pytest.raises(ConfigError, match="does not match the file name 'other'.json"):
        load_task_file(other)


def test_load_suite_from_folder(tmp_path):
    (tmp_path / "mini.json").write_text(json.dumps(task_data()), encoding="utf-8")
    (tmp_path / "mini2.json").write_text(json.dumps(task_data(id="mini2", app="editor", apps=["editor"])),
                                         encoding="utf-8")
    tasks = load_suite(tmp_path)
    assert [t.id for t in tasks] == ["mini2", "mini"]  # app order: editor before calculator
    assert get_task("mini", tmp_path).instruction == "Compute 1 + 1."
    empty = tmp_path / "empty"
    empty.mkdir()
    with pytest.raises(ConfigError, match="holds no"):
        load_suite(empty)
    with pytest.raises(ConfigError, match="does not exist"):
        load_suite(tmp_path / "missing")


def test_home_paths_are_expanded():
    task = parse_task(task_data(initial_state={"files": {"~/Documents/a.txt": "x"},
                                               "open": [{"app": "editor", "path": "~/Documents/a.txt"}]}))
    assert task.initial_state["files"] == {"/home/user/Documents/a.txt": "x"}
    assert task.initial_state["open"][0]["path"] == "/home/user/Documents/a.txt"


# ====================================================================== predicates


def state(**overrides):
    base = {
        "screen": {"width": 1000, "height": 500, "scale": 1.0},
        "files": {"/home/user/Documents/a.txt": "Hello World\n"},
        "dirs": ["/", "/home", "/home/user", "/home/user/Documents", "/home/user/Documents/Sub"],
        "trash": [{"name": "b.txt", "original_path": "/home/user/b.txt", "is_dir": False, "content": "b"}],
        "clipboard": "copied",
        "settings": {"volume": 30, "wifi": False, "language": "Français"},
        "mail": {"inbox": [], "sent": [{"to": "Bob@Example.com, ann@example.com", "cc": "", "subject": "Hi",
                                        "body": "Line\nmore", "from": "me@example.com"}], "drafts": []},
        "forms": {"submissions": [{"form": "contact", "values": {"name": "Ann", "email": "a@b.co", "n": 3,
                                                                  "tags": ["x", "y"]}}]},
        "windows": [{"app": "calculator", "title": "Calculator", "active": True, "minimized": False,
                     "maximized": False, "bounds": [600, 100, 300, 200]},
                    {"app": "editor", "title": "*a.txt — Text Editor", "active": False, "minimized": True,
                     "maximized": False, "bounds": [0, 0, 400, 300]}],
        "apps": {"calculator": {"display": "42"},
                 "editor": {"documents": [{"path": "/home/user/Documents/a.txt", "text": "draft", "modified": True}]}},
    }
    base.update(overrides)
    return base


@pytest.mark.parametrize("spec, holds", [
    ({"file_exists": "~/Documents/a.txt"}, True),
    ({"file_exists": "/home/user/Documents/zzz.txt"}, False),
    ({"file_absent": "Documents/zzz.txt"}, True),
    ({"dir_exists": "~/Documents/Sub"}, True),
    ({"dir_absent": "~/Documents/Sub"}, False),
    ({"dir_count": {"path": "~/Documents", "equals": 2}}, True),
    ({"file_content": {"path": "~/Documents/a.txt", "equals": "Hello World"}}, False),
    ({"file_content": {"path": "~/Documents/a.txt", "equals": "Hello World", "trim": True}}, True),
    ({"file_content": {"path": "~/Documents/a.txt", "contains": ["Hello", "World"]}}, True),
    ({"file_content": {"path": "~/Documents/a.txt", "contains": "world"}}, False),
    ({"file_content": {"path": "~/Documents/a.txt", "contains": "world", "ignore_case": True}}, True),
    ({"file_content": {"path": "~/Documents/a.txt", "excludes": "Hello"}}, False),
    ({"file_content": {"path": "~/Documents/a.txt", "startswith": "Hell", "endswith": "\n"}}, True),
    ({"in_trash": {"original_path": "~/b.txt"}}, True),
    ({"in_trash": {"name": "a.txt"}}, False),
    ({"trash_empty": True}, False),
    ({"setting": {"key": "volume", "equals": 30}}, True),
    ({"setting": {"key": "volume", "min": 31}}, False),
    ({"setting": {"key": "volume", "min": 25, "max": 35}}, True),
    ({"setting": {"key": "wifi", "equals": False}}, True),
    ({"setting": {"key": "wifi", "equals": 0}}, False),  # false is not 0 (Python alone would say it is)
    ({"setting": {"key": "language", "one_of": ["Deutsch", "Français"]}}, True),
    ({"setting": {"key": "nope", "equals": 1}}, False),
    ({"clipboard": "copied"}, True),
    ({"calculator_display": "42"}, True),
    ({"calculator_display": {"one_of": ["41", "43"]}}, False),
    ({"mail_sent": {"to": "ann@example.com, bob@example.com", "subject": "Hi"}}, True),  # order and case free
    ({"mail_sent": {"to": "ann@example.com"}}, False),  # the whole recipient set must match
    ({"mail_sent": {"body": {"contains": "more"}, "count": 1}}, True),
    ({"mail": {"folder": "drafts", "count": 0}}, True),
    ({"mail": {"folder": "outbox"}}, False),
    ({"form_submitted": {"form": "contact", "fields": {"name": "Ann", "n": {"min": 2}}}}, True),
    ({"form_submitted": {"fields": {"tags": ["x", "y"]}}}, True),
    ({"form_submitted": {"fields": {"name": "Ann"}, "exact": True}}, False),
    ({"form_submitted": {"form": "register"}}, False),
    ({"window_open": {"app": "editor", "minimized": True}}, True),
    ({"window_open": {"app": "editor", "title": {"startswith": "*"}}}, True),
    ({"window_open": "settings"}, False),
    ({"app_focused": "calculator"}, True),
    ({"window_at": {"app": "calculator", "center_in": [0.5, 0, 0.5, 1]}}, True),
    ({"window_at": {"app": "calculator", "center_in": [0, 0, 0.5, 1]}}, False),
    ({"editor_text": {"path": "~/Documents/a.txt", "equals": "draft", "modified": True}}, True),
    ({"editor_text": {"path": None, "equals": "draft"}}, False),
    ({"state": {"path": "apps.editor.documents.0.text", "equals": "draft"}}, True),
    ({"state": {"path": "mail.sent", "length": 1}}, True),
    ({"state": {"path": "apps.files.path", "equals": "/"}}, False),
    ({"not": {"clipboard": "copied"}}, False),
    ({"any": [{"clipboard": "x"}, {"calculator_display": "42"}]}, True),
    ({"all": [{"clipboard": "copied"}, {"calculator_display": "41"}]}, False),
])
def test_predicates(spec, holds):
    ok, why = compile_predicate(spec)(state())
    assert ok is holds, why
    assert isinstance(why, str) and why


def test_failure_reasons_say_what_is_wrong():
    _, why = compile_predicate({"file_content": {"path": "~/Documents/a.txt", "equals": "Bye"}})(state())
    assert why == "file /home/user/Documents/a.txt content is 'Hello World\\n', expected 'Bye'"
    _, why = compile_predicate({"mail_sent": {"to": "bob@example.com", "subject": "Hi"}})(state())
    assert "to is ['ann@example.com', 'bob@example.com'], expected ['bob@example.com']" in why
    _, why = compile_predicate({"setting": {"key": "nope", "equals": 1}})(state())
    assert "there is no setting 'nope'" in why and "volume" in why
    _, why = compile_predicate({"form_submitted": {"fields": {"email": "x@y.z"}}})(state())
    assert why == "no submission matches: field email is 'a@b.co', expected 'x@y.z'"


def test_predicate_names_are_listed():
    names = predicate_names()
    for n in ("file_exists", "file_absent", "file_content", "in_trash", "setting", "mail_sent", "form_submitted",
              "calculator_display", "window_open", "app_focused", "all", "any", "not"):
        assert n in names
