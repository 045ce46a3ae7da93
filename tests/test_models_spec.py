"""Model SPEC strings (guiagent.agent.spec.load_model) and the CLI helper that drives it."""

from __future__ import annotations

import argparse
import time

import pytest
from stub_openai import StubOpenAI

from guiagent.errors import ConfigError
from guiagent.models.base import Message, Sampling
from guiagent.cli.model_args import add_model_arguments, load_model_from_args
from guiagent.models.openai_backend import OpenAIModel
from guiagent.agent.spec import SPEC_FORMS, load_model


@pytest.fixture(autouse=True)
def _no_api_key_env(monkeypatch):
    for name in ("GUIAGENT_API_KEY", "OPENAI_API_KEY"):
        monkeypatch.delenv(name, raising=False)


def test_openai_spec_discovers_name_and_guesses_family(caplog):
    caplog.set_level("INFO", logger="guiagent.models")
    with StubOpenAI(models=("ByteDance-Seed/UI-TARS-1.5-7B",)) as stub:
        loaded = load_model(f"openai:{stub.url}", image_format="jpeg", jpeg_quality=70, timeout=5, retries=1)
        assert isinstance(loaded.model, OpenAIModel)
        assert loaded.model.model_name == "ByteDance-Seed/UI-TARS-1.5-7B"
        assert (loaded.model.image_format, loaded.model.jpeg_quality, loaded.model.timeout) == ("jpeg", 70, 5.0)
        assert loaded.model.retry.retries == 1
        assert loaded.profile.name == "ui-tars-1.5" and loaded.family_guessed
        assert "family auto-detected: ui-tars-1.5 (from 'ByteDance-Seed/UI-TARS-1.5-7B')" in caplog.text


def test_openai_spec_with_explicit_family_and_name(stub_openai):
    loaded = load_model(f"openai:{stub_openai.url}", family="kimi-vl", model_name="stub-model",
                        overrides={"temperature": 0.0})
    assert loaded.profile.name == "kimi-vl" and not loaded.family_guessed
    assert loaded.profile.sampling.temperature == 0.0
    assert stub_openai.requests == []  # the name was given: no discovery request


def test_openai_spec_unguessable_family(stub_openai):
    with pytest.raises(ConfigError, match=r"cannot tell the model family from 'stub-model'; pass --family"):
        load_model(f"openai:{stub_openai.url}")


@pytest.mark.parametrize("spec,message", [
    ("gpt4", "unknown model spec 'gpt4'; use one of: openai:BASE_URL, hf:PATH, scripted, replay:RUN"),
    ("", "unknown model spec ''"),
    ("openai:", "unknown model spec 'openai:'"),
    ("openai:localhost:8000/v1", "needs an http"),
])
def test_bad_specs(spec, message):
    with pytest.raises(ConfigError, match=message):
        load_model(spec, family="ui-tars-1.5")
    assert SPEC_FORMS == ("openai:BASE_URL", "hf:PATH", "scripted", "replay:RUN")


def test_unknown_backend_option():
    with pytest.raises(ConfigError, match=r"unknown model option\(s\) \['temprature'\]"):
        load_model("scripted", temprature=1)


def test_scripted_needs_an_env():
    with pytest.raises(ConfigError, match="needs env="):
        load_model("scripted")


def _record_run(tmp_path, family: str | None, responses: list[str]):
    from guiagent.agent.trajectory import Attempt, StepRecord, TrajectoryWriter

    meta = {"instruction": "open it", "model": "somebody/UI-TARS-7B-SFT"}
    if family:
        meta["family"] = family
    writer = TrajectoryWriter.create(tmp_path, meta, name="run")
    for i, text in enumerate(responses):
        now = time.time()
        writer.add_step(StepRecord(index=i, started=now, ended=now, screenshot=None, screenshot_size=(100, 100),
                                   response=text, attempts=[Attempt(text, 0.0, 0.01)]))
    writer.finish(outcome="finished")
    return tmp_path / "run"


def test_replay_spec_uses_the_recorded_family(tmp_path):
    run = _record_run(tmp_path, "kimi-vl", ["first", "second"])
    loaded = load_model(f"replay:{run}")
    assert loaded.profile.name == "kimi-vl" and not loaded.family_guessed
    assert [loaded.model.complete([Message.text("user", "x")], Sampling()).text for _ in range(2)] == \
        ["first", "second"]
    assert load_model(f"replay:{run}", family="ui-tars-1.5").profile.name == "ui-tars-1.5"


def test_replay_spec_guesses_from_the_recorded_model_name(tmp_path):
    loaded = load_model(f"replay:{_record_run(tmp_path, None, ['x'])}")
    assert loaded.profile.name == "ui-tars-1.0" and loaded.family_guessed


def test_replay_spec_warns_when_the_env_runs_another_task(tmp_path, caplog):
    from guiagent.envs.mock import MockDesktop
    from guiagent.envs.mock.tasks import get_task

    run = _record_run(tmp_path, "ui-tars-1.5", ["x"])  # recorded without a task
    with caplog.at_level("WARNING", logger="guiagent.models"):
        load_model(f"replay:{run}", env=MockDesktop(640, 480, task=get_task("rename-file")))
    assert "recorded on task None, not on 'rename-file'" in caplog.text
    caplog.clear()
    with caplog.at_level("WARNING", logger="guiagent.models"):
        load_model(f"replay:{run}", env=MockDesktop(640, 480))  # no task to compare with
    assert caplog.text == ""


def test_load_model_from_cli_flags(stub_openai, tmp_path):
    cfg = tmp_path / "m.toml"
    cfg.write_text('family = "ui-tars-2"\nmax_tokens = 300\n', encoding="utf-8")
    parser = argparse.ArgumentParser()
    add_model_arguments(parser)
    args = parser.parse_args(["--model", f"openai:{stub_openai.url}", "--model-name", "stub-model",
                              "--config", str(cfg), "--temperature", "0.5", "--max-images", "3",
                              "--image-format", "jpeg", "--retries", "0", "--request-timeout", "9"])
    loaded = load_model_from_args(args)
    assert loaded.profile.name == "ui-tars-2" and not loaded.family_guessed
    assert (loaded.profile.sampling.temperature, loaded.profile.sampling.max_tokens) == (0.5, 300)
    assert loaded.profile.history.max_images == 3
    assert (loaded.model.image_format, loaded.model.retry.retries, loaded.model.timeout) == ("jpeg", 0, 9.0)
    with pytest.raises(ConfigError, match="no model given"):
        load_model_from_args(parser.parse_args([]))


def test_a_registered_spec_kind_is_loaded_and_listed(monkeypatch):
    from guiagent.agent import spec as spec_module
    from guiagent.envs.mock.scripted import ScriptedModel
    from guiagent.models.profiles import get_profile

    seen = []

    def load_echo(arg, request):
        seen.append((arg, request.family, dict(request.options)))
        return spec_module.LoadedModel(ScriptedModel(object(), get_profile("ui-tars-2")), get_profile("ui-tars-2"))

    monkeypatch.setattr(spec_module, "SPEC_KINDS", dict(spec_module.SPEC_KINDS))
    monkeypatch.setattr(spec_module, "SPEC_FORMS", spec_module.SPEC_FORMS)
    spec_module.register_spec("echo", "echo:NAME", load_echo)
    loaded = load_model("echo:abc", family="ui-tars-2", timeout=3)
    assert loaded.profile.name == "ui-tars-2" and seen == [("abc", "ui-tars-2", {"timeout": 3})]
    with pytest.raises(ConfigError, match=r"use one of: openai:BASE_URL, hf:PATH, scripted, replay:RUN, echo:NAME"):
        load_model("echo")
    with pytest.raises(ConfigError, match="unknown model spec 'scripted:x'"):
        load_model("scripted:x")
