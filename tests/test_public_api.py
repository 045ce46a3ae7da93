"""The public namespace (``import guiagent``) and the one error tree (``guiagent.errors``)."""

from __future__ import annotations

import subprocess
import sys

import pytest

import guiagent
from guiagent import errors


def test_every_public_name_resolves_to_the_object_at_its_home():
    import importlib

    for name in guiagent.__all__:
        value = getattr(guiagent, name)
        if name != "__version__":
            home = importlib.import_module(guiagent._EXPORTS[name])
            assert value is getattr(home, name), name
    assert {"Agent", "AgentConfig", "load_model", "make_env", "Click", "Type", "Point", "get_grammar",
            "GuiAgentError", "TrajectoryError", "check_env", "Env"} <= set(guiagent.__all__)
    assert set(guiagent.__all__) <= set(dir(guiagent))


def test_an_unknown_name_is_an_attribute_error():
    with pytest.raises(AttributeError, match="no attribute 'Nope'"):
        guiagent.Nope  # noqa: B018


def test_import_guiagent_loads_nothing_heavy():
    code = ("import sys, guiagent; heavy = [m for m in ('PIL', 'numpy', 'guiagent.agent', 'guiagent.envs') "
            "if m in sys.modules]; print(heavy)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=True)
    assert out.stdout.strip() == "[]"


def test_the_docstring_example_runs(tmp_path):
    env = guiagent.make_env("mock", task="files-new-folder")
    loaded = guiagent.load_model("scripted", env=env)
    result = guiagent.Agent(env, loaded.model, loaded.profile, guiagent.AgentConfig(max_steps=30)).run(
        env.task.instruction, out_dir=tmp_path, evaluate=lambda: {"success": bool(env.task.check(env))})
    assert result.outcome == "success" and result.evaluation == {"success": True}
    assert (result.run_dir / "meta.json").is_file()


# ---------------------------------------------------------------- one error tree

@pytest.mark.parametrize("old_home, name", [
    ("guiagent.agent.trajectory", "TrajectoryError"),
    ("guiagent.agent", "TrajectoryError"),
    ("guiagent.envs.desktop", "FailSafeTriggered"),
    ("guiagent.envs.desktop.executor", "FailSafeTriggered"),
    ("guiagent.envs.desktop", "DeniedAction"),
    ("guiagent.envs.desktop.safety", "DeniedAction"),
])
def test_errors_moved_into_the_tree_keep_their_old_import_paths(old_home, name):
    import importlib

    assert getattr(importlib.import_module(old_home), name) is getattr(errors, name)


def test_the_tree():
    assert issubclass(errors.TrajectoryError, errors.GuiAgentError)
    assert issubclass(errors.DeniedAction, errors.EnvError) and not errors.DeniedAction.fatal
    assert issubclass(errors.FailSafeTriggered, errors.EnvError) and errors.FailSafeTriggered.fatal
    for name in ("TrajectoryError", "DeniedAction", "FailSafeTriggered"):
        assert name in errors.__doc__  # the tree drawn in the module docstring lists it


def test_bad_sizes_budgets_and_history_calls_raise_config_errors():
    from guiagent.actions.coords import Display, ModelFrame, kimi_resize, smart_resize
    from guiagent.models.budget import ImageBudget
    from guiagent.models.history import build_messages
    from guiagent.models.profiles import get_profile

    bad = [lambda: smart_resize(0, 10), lambda: smart_resize(10, 10_000), lambda: kimi_resize(10, 0),
           lambda: Display((0, 10)), lambda: Display((10, 10), scale=0.0),
           lambda: ModelFrame("absolute", (0, 1), (1, 1), (1, 1)),
           lambda: ImageBudget("nope").sizes((10, 10)),
           lambda: build_messages(get_profile("ui-tars-1.5"), "do it", [], None)]
    for call in bad:
        with pytest.raises(errors.ConfigError) as info:
            call()
        assert isinstance(info.value, ValueError)  # code that caught ValueError before still does
