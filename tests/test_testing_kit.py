"""guiagent's test kit (guiagent.testing): the pytest plugin's fixtures used the way users use them, the assertion
helpers' failure messages, ``pytest --fixtures``, and the sample user project run against the installed package."""

from __future__ import annotations

import os
import subprocess
import sys
from importlib.metadata import entry_points
from pathlib import Path

import pytest
from PIL import Image

from guiagent.envs.mock import MockDesktop
from guiagent.errors import ConfigError, EnvError
from guiagent.testing import (
    CannedModel,
    assert_element,
    assert_element_value,
    assert_run_replays,
    assert_screenshot,
    assert_task_passed,
    describe_action,
)

pytest_plugins = ["pytester"]

REPO = Path(__file__).resolve().parent.parent
USER_PROJECT = REPO / "examples" / "user_project"
FIXTURES = ("mock_desktop", "make_mock_desktop", "canned_model", "scripted_model", "openai_stub", "make_openai_stub",
            "run_agent", "guiagent_tasks_dir")
DONE = "Thought: done\nAction: finished(content='')"
#: UI-TARS-1.5 click on an empty stretch of the desktop (model pixels of the 1288x812 smart_resize image)
CLICK_NOTHING = "Thought: try here\nAction: click(start_box='(700,400)')"


def plugin_installed() -> bool:
    return any(ep.name == "guiagent" and ep.value == "guiagent.testing.plugin" for ep in entry_points(group="pytest11"))


#: inner pytest runs need the plugin named when it is not installed (a checkout on PYTHONPATH)
PLUGIN_ARGS = () if plugin_installed() else ("-p", "guiagent.testing.plugin")


# ---------------------------------------------------------------- mock_desktop / make_mock_desktop

def test_mock_desktop_is_a_fresh_default_desktop(mock_desktop):
    assert isinstance(mock_desktop, MockDesktop) and mock_desktop.task is None
    assert mock_desktop.observe().screenshot.size == (1280, 800)
    assert mock_desktop.state()["windows"] == []


@pytest.mark.mock_desktop(task="rename-file", width=800, height=600, scale=1.5)
def test_mock_desktop_marker_sets_task_size_and_scale(mock_desktop):
    assert mock_desktop.task.id == "rename-file"
    assert mock_desktop.observe().screenshot.size == (1200, 900)
    assert "/home/user/Documents/notes.txt" in mock_desktop.state()["files"]


@pytest.mark.parametrize("mock_desktop", ["calc-add", {"initial_state": {"open": ["mail"]}}], indirect=True)
def test_mock_desktop_indirect_parameters(mock_desktop):
    apps = {w["app"] for w in mock_desktop.state()["windows"]}
    assert apps == ({"calculator"} if mock_desktop.task else {"mail"})


def test_make_mock_desktop_builds_several_and_rejects_unknown_tasks(make_mock_desktop):
    a = make_mock_desktop(initial_state={"settings": {"volume": 10}})
    b = make_mock_desktop("settings-dark-mode")
    assert a.state()["settings"]["volume"] == 10 and b.task.id == "settings-dark-mode"
    with pytest.raises(ConfigError, match="did you mean: settings-dark-mode"):
        make_mock_desktop("settings-dark-mod")


# ---------------------------------------------------------------- canned_model / scripted_model

def test_canned_model_from_a_list_drives_the_agent_and_records_calls(run_agent, canned_model):
    model = canned_model([CLICK_NOTHING, DONE])
    run = run_agent("rename-file", model)
    assert [describe_action(a) for a in run.actions] == ["click (695.652, 394.089)", "finished"]
    assert len(model.calls) == 2 and model.calls[0].images == 1 and model.calls[1].images == 2
    assert "rename notes.txt in Documents to todo.txt" in model.calls[0].prompt and model.calls[1].answer == DONE
    assert not run.check.success


def test_canned_model_from_a_function_and_running_out(run_agent, canned_model):
    seen = []

    def answer(call, messages):
        seen.append(call)
        return CLICK_NOTHING
    run = run_agent("rename-file", canned_model(answer), max_steps=3)
    assert seen == [0, 1, 2] and run.outcome in ("stuck", "step_limit")
    short = run_agent("rename-file", canned_model([CLICK_NOTHING]))
    assert short.outcome == "model_error"
    assert "the canned model has only 1 answer(s); call 2 was made" in short.reason
    with pytest.raises(ConfigError, match="list of answer strings"):
        canned_model("one string")


def test_scripted_model_solves_a_task_from_an_id_or_a_desktop(scripted_model, make_mock_desktop, run_agent):
    model = scripted_model("calc-add", family="kimi-vl")
    assert model.profile.name == "kimi-vl" and model.env.task.id == "calc-add"
    run = run_agent(env=model.env, model=model)                # the model's own profile: kimi-vl
    assert_task_passed(run)
    assert run.profile.name == "kimi-vl" and "pyautogui" in run.steps[0].response
    with pytest.raises(ValueError, match="solves a task"):
        scripted_model(make_mock_desktop())


# ---------------------------------------------------------------- openai_stub

def test_openai_stub_scripted_answers_and_request_capture(run_agent, openai_stub):
    openai_stub.reply(CLICK_NOTHING).reply(DONE)
    run = run_agent("rename-file", openai_stub.spec, family="ui-tars-1.5", image_format="jpeg")
    assert [describe_action(a) for a in run.actions] == ["click (695.652, 394.089)", "finished"]
    chats = [r for r in openai_stub.requests if r.method == "POST"]
    assert [r.images for r in chats] == [1, 2] and chats[0].decoded_images[0][0] == "image/jpeg"
    assert chats[0].roles[-1] == "user" and chats[1].roles.count("assistant") == 1
    assert openai_stub.violations == []


def test_openai_stub_error_drop_and_hang_injection(run_agent, openai_stub):
    openai_stub.error(401, "bad key")
    run = run_agent("rename-file", openai_stub.spec, family="ui-tars-1.5", retries=0)
    assert run.outcome == "model_error" and "401" in run.reason
    openai_stub.drop()
    run = run_agent("rename-file", openai_stub.spec, family="ui-tars-1.5", retries=0)
    assert run.outcome == "model_error"
    openai_stub.hang(10.0)
    run = run_agent("rename-file", openai_stub.spec, family="ui-tars-1.5", retries=0, timeout=0.3)
    assert run.outcome == "model_error" and "0.3" in run.reason


def test_make_openai_stub_serves_a_named_model(make_openai_stub):
    from guiagent.agent.spec import load_model

    stub = make_openai_stub(models=("ByteDance-Seed/UI-TARS-1.5-7B",), max_images=1)
    loaded = load_model(stub.spec)
    assert loaded.profile.name == "ui-tars-1.5" and loaded.family_guessed
    assert stub.requests[0].path == "/v1/models"


# ---------------------------------------------------------------- run_agent and the assertions

def test_run_agent_records_a_run_that_replays(run_agent, tmp_path):
    run = run_agent("rename-file")
    assert run.success and run.run_dir.parent == tmp_path / "runs"
    assert_task_passed(run)
    report = assert_run_replays(run.run_dir)
    assert report.steps_replayed == len(run.steps)
    assert run_agent("calc-add", out_dir=None).run_dir is None


def test_assert_task_passed_failure_shows_reasons_steps_and_run_folder(run_agent, canned_model):
    run = run_agent("rename-file", canned_model([CLICK_NOTHING, DONE]))
    with pytest.raises(AssertionError) as e:
        assert_task_passed(run)
    message = str(e.value)
    assert "task 'rename-file' check failed:" in message
    assert "failed: file /home/user/Documents/todo.txt does not exist" in message
    assert "step 1: click (695.652, 394.089)  thought: try here" in message
    assert "step 2: finished" in message and f"run folder: {run.run_dir}" in message


def test_assert_task_passed_on_a_desktop(make_mock_desktop):
    desk = make_mock_desktop("settings-dark-mode")
    with pytest.raises(AssertionError, match="setting dark_mode is False"):
        assert_task_passed(desk)
    with pytest.raises(AssertionError, match="no task to check"):
        assert_task_passed(make_mock_desktop())


@pytest.mark.mock_desktop(initial_state={"open": [{"app": "mail", "compose": {"subject": "Hello"}}]})
def test_assert_element_and_value_messages(mock_desktop):
    node = assert_element(mock_desktop, role="text_field", name="Subject")
    assert node.value == "Hello"
    assert_element_value(mock_desktop, "Hello", role="text_field", name="Subject")
    with pytest.raises(AssertionError) as e:
        assert_element(mock_desktop, role="button", name="Sendd")
    assert "no element on the screen with role='button', name='Sendd'" in str(e.value)
    assert "similar names: 'Send' (button)" in str(e.value)
    with pytest.raises(AssertionError, match="no element has role 'buton'; roles on the screen: .*button"):
        assert_element(mock_desktop, role="buton")
    with pytest.raises(AssertionError) as e:
        assert_element_value(mock_desktop, "Help", role="text_field", name="Subject")
    assert "text_field 'Subject' has value 'Hello', expected 'Help' (first difference at character 3" in str(e.value)


def test_assert_screenshot_writes_the_actual_image_when_it_differs(mock_desktop, tmp_path):
    reference = tmp_path / "screens" / "desktop.png"
    reference.parent.mkdir()
    with pytest.raises(AssertionError, match="no reference image .*rename it to desktop.png"):
        assert_screenshot(mock_desktop, reference)
    actual = reference.with_name("desktop.actual.png")
    actual.rename(reference)
    assert_screenshot(mock_desktop, reference).size == (1280, 800)
    mock_desktop.launch("calculator")
    with pytest.raises(AssertionError) as e:
        assert_screenshot(mock_desktop, reference)
    assert "pixels" in str(e.value) and actual.is_file() and reference.with_name("desktop.diff.png").is_file()
    assert_screenshot(Image.open(actual), actual)
    assert_screenshot(mock_desktop, reference, tolerance=1.0)


def test_assert_run_replays_messages(run_agent, canned_model, make_mock_desktop, tmp_path):
    with pytest.raises(AssertionError, match="does not load: .* has no meta.json"):
        assert_run_replays(tmp_path)
    untasked = run_agent(env=make_mock_desktop(), model=canned_model([CLICK_NOTHING, DONE]), instruction="click")
    with pytest.raises(AssertionError, match=r"recorded without a task id.*task_id=TASK"):
        assert_run_replays(untasked.run_dir)
    run = run_agent("rename-file")
    (run.run_dir / run.steps[1].screenshot).unlink()  # the second step's (steps are numbered from 1 in messages)
    with pytest.raises(AssertionError, match="is damaged: step 2: screenshot .* is missing"):
        assert_run_replays(run.run_dir)


# ---------------------------------------------------------------- the plugin as pytest sees it

def test_pytest_fixtures_lists_every_fixture_with_its_doc(pytester):
    pytester.makepyfile(test_nothing="def test_x():\n    pass\n")
    result = pytester.runpytest_subprocess(*PLUGIN_ARGS, "--fixtures", "-p", "no:cacheprovider", timeout=120)
    out = result.stdout.str()
    assert "fixtures defined from guiagent.testing.plugin" in out
    for name in FIXTURES:
        assert f"\n{name} -- " in out, name
    assert "A fresh 1280x800 MockDesktop, closed after the test" in out
    assert "A local OpenAI-compatible server on 127.0.0.1" in out


def test_plugin_in_a_users_test_run_closes_desktops_and_reports_failures(pytester):
    tasks = pytester.mkdir("tasks")
    (tasks / "standup-reminder.json").write_text((USER_PROJECT / "tasks" / "standup-reminder.json").read_text())
    pytester.makeini("[pytest]\nguiagent_tasks_dir = tasks\n")
    pytester.makepyfile(test_user="""
        import pytest
        from guiagent.errors import EnvError
        from guiagent.testing import assert_task_passed

        kept = []

        def test_keep(mock_desktop):
            kept.append(mock_desktop)

        def test_closed_after_the_test():
            with pytest.raises(EnvError, match="closed"):
                kept[0].observe()

        def test_tasks_dir_from_ini(run_agent, guiagent_tasks_dir):
            assert guiagent_tasks_dir.name == "tasks"
            assert_task_passed(run_agent("standup-reminder"))

        def test_scripted_own_task_replays(scripted_model, run_agent, guiagent_tasks_dir):
            from guiagent.testing import assert_run_replays
            model = scripted_model("standup-reminder", family="opencua")
            run = run_agent(env=model.env, model=model)
            assert run.success and run.profile.name == "opencua"
            with pytest.raises(AssertionError, match="pass --tasks-dir"):  # a run folder names no folder to read
                assert_run_replays(run.run_dir)
            assert_run_replays(run.run_dir, tasks_dir=guiagent_tasks_dir)

        def test_gives_up(run_agent, canned_model):
            assert_task_passed(run_agent("standup-reminder", canned_model(["Thought: no\\nAction: finished(content='')"])))
    """)
    # in a child process, as a user runs it (an in-process run would also unload modules it imported first)
    result = pytester.runpytest_subprocess(*PLUGIN_ARGS, "-p", "no:cacheprovider", timeout=300)
    result.assert_outcomes(passed=4, failed=1)
    result.stdout.fnmatch_lines(["*AssertionError: task 'standup-reminder' check failed:*",
                                 "*failed: file /home/user/Documents/reminder.txt*",
                                 "*step 1: finished*"])


def test_sample_user_project_passes_against_the_installed_package():
    """examples/user_project runs with plain `pytest` in its own folder, with the plugin loaded through the
    installed package's pytest11 entry point (the README's test command installs it: pip install -e '.[all]')."""
    assert plugin_installed(), (
        "guiagent's pytest plugin is not registered in this Python (no pytest11 entry point 'guiagent' -> "
        "guiagent.testing.plugin): install the package first, e.g. `pip install -e '.[test]'` "
        "(the README's test command installs '.[all]'); a checkout on PYTHONPATH has no entry points")
    env = {k: v for k, v in os.environ.items() if k not in ("PYTEST_ADDOPTS", "PYTEST_PLUGINS")}
    where = subprocess.run([sys.executable, "-c", "import guiagent; print(guiagent.__file__)"], cwd=USER_PROJECT,
                           env=env, capture_output=True, text=True, timeout=60)
    assert Path(where.stdout.strip()).resolve() == REPO / "guiagent" / "__init__.py", (
        f"the sample project would test another guiagent than this checkout: {where.stdout or where.stderr}")
    result = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider"], cwd=USER_PROJECT,
                            env=env, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-2000:]
    assert "8 passed" in result.stdout, result.stdout[-2000:]


def test_packaging_registers_the_plugin_and_the_all_extra_pulls_the_test_extra():
    import tomllib

    project = tomllib.loads((REPO / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    assert project["entry-points"]["pytest11"] == {"guiagent": "guiagent.testing.plugin"}
    extras = project["optional-dependencies"]
    assert any(dep.startswith("pytest") for dep in extras["test"])
    [everything] = extras["all"]
    assert "test" in everything.split("[")[1].rstrip("]").split(",")
    example = tomllib.loads((USER_PROJECT / "pyproject.toml").read_text(encoding="utf-8"))
    assert example["project"]["dependencies"] == ["guiagent[test]"]
