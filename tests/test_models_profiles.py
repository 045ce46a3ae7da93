"""Family profiles: byte-exact prompts, overrides, config files, CLI flags, family detection."""

from __future__ import annotations

import argparse
import hashlib
import json

import pytest

from guiagent.actions.coords import Convention
from guiagent.errors import ConfigError
from guiagent.cli.model_args import add_model_arguments, profile_from_args
from guiagent.models.config import load_config, resolve_profile
from guiagent.models.profiles import PROFILES, get_profile, guess_family, override_names

TASK = "Open the Downloads folder"


def sha(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


# sha256 of each trained-on prompt rendered with TASK and language English. A change here means the text the
# model sees changed: only update after checking the new text against the model's published prompt.
RENDERED_SHA256 = {
    ("ui-tars-1.0", "computer"): "fdbe50da531db41b87349a8e7bd81eabee6177cbdcaf228fc14956f23aa77c68",
    ("ui-tars-1.5", "computer"): "82483916e9627b27e3147e519d9309857cea0e4ce9c91c61bed6929a5e9fa07d",
    ("ui-tars-1.5", "mobile"): "5007bfddf9b9db943e67bddae2de6e8e5d4252088cb78f1c8aaa6ca21e5817e7",
    ("ui-tars-1.5", "grounding"): "589b4395f99688dde5ba93b4571533cfd07f27f450271a9264cb676682f07412",
    ("ui-tars-2", "computer"): "33ec93429c7cc42f1f9a020bd2502865a063b14680e5540a1ac12918d5592a4a",
    ("ui-tars-2", "mobile"): "f48ce245d67b8b5c2ba856f7a23abb712d886ec5da8e4a7f068d5a0044534add",
    ("ui-tars-2", "grounding"): "6526f7c177bae683beafa0673cdeaac2257b75050cf5e44862257c878ff650cb",
    ("kimi-vl", "grounding"): "a7fbdc6b0537f3cd8eac1c245741d300fd7b3ccfbf0f24ac77e02101839455a6",
    ("kimi-vl-thinking", "grounding"): "a7fbdc6b0537f3cd8eac1c245741d300fd7b3ccfbf0f24ac77e02101839455a6",
    ("opencua", "computer"): "8636c29f0c41a71294fb6b2f87944ce835477d2ba62b9c2295b72588ac9cab8d",
}


def test_every_trained_prompt_is_pinned():
    trained = {(p.name, m) for p in PROFILES.values() for m in p.trained_prompts}
    assert trained == set(RENDERED_SHA256)


@pytest.mark.parametrize("family,mode", sorted(RENDERED_SHA256))
def test_trained_prompts_are_byte_exact(family, mode):
    assert sha(get_profile(family).render_prompt(TASK, mode)) == RENDERED_SHA256[(family, mode)]


def test_ui_tars_15_computer_prompt_text():
    text = get_profile("ui-tars-1.5").render_prompt(TASK)
    assert text.startswith(
        "You are a GUI agent. You are given a task and your action history, with screenshots. You need to perform "
        "the next action to complete the task.\n\n## Output Format\n```\nThought: ...\nAction: ...\n```\n\n"
        "## Action Space\n\nclick(start_box='<|box_start|>(x1,y1)<|box_end|>')\n")
    # The escapes are literal backslashes in what the model reads, and the line keeps its trailing space.
    assert ("type(content='xxx') # Use escape characters \\', \\\", and \\n in content part to ensure we can parse "
            "the content in normal python string format. If you want to submit your input, use \\n at the end of "
            "content. \nscroll(start_box=") in text
    assert "drag(start_box='<|box_start|>(x1,y1)<|box_end|>', end_box='<|box_start|>(x3,y3)<|box_end|>')\n" in text
    assert "\n\n\n## Note\n- Use English in `Thought` part.\n" in text
    assert text.endswith("## User Instruction\nOpen the Downloads folder\n")


def test_ui_tars_15_grounding_and_mobile_prompt_text():
    p = get_profile("ui-tars-1.5")
    assert p.render_prompt(TASK, "grounding") == (
        "You are a GUI agent. You are given a task and your action history, with screenshots. You need to perform "
        "the next action to complete the task. \n\n## Output Format\n\nAction: ...\n\n\n## Action Space\n"
        "click(start_box='<|box_start|>(x1,y1)<|box_end|>')\n\n## User Instruction\nOpen the Downloads folder")
    mobile = p.render_prompt(TASK, "mobile", language="Chinese")
    assert "complete the task. \n## Output Format\n" in mobile
    assert "\nopen_app(app_name='')\n" in mobile and "\npress_home()\npress_back()\n" in mobile
    assert "- Use Chinese in `Thought` part." in mobile


def test_ui_tars_10_and_2_prompt_text():
    v10 = get_profile("ui-tars-1.0").render_prompt(TASK)
    assert "## Action Space\n\nclick(start_box='<|box_start|>(x1,y1)<|box_end|>')" in v10
    assert ("finished()\ncall_user() # Submit the task and call the user when the task is unsolvable, or when you "
            "need the user's help.\n\n\n## Note\n") in v10
    assert 'type(content=\'\') #If you want to submit your input, use "\\n" at the end of `content`.' in v10
    v2 = get_profile("ui-tars-2").render_prompt(TASK)
    assert "click(point='<point>x1 y1</point>')\n" in v2
    assert "hotkey(key='ctrl c') # Split keys with a space and use lowercase." in v2
    # The published grounding template carries a doubled quote; byte-exact means keeping it.
    assert "click(point='<point>x1 y1</point>'')" in get_profile("ui-tars-2").prompt("grounding")


def test_kimi_and_opencua_prompt_text():
    assert get_profile("kimi-vl").render_prompt(TASK, "grounding") == (
        "Please observe the screenshot, please locate the following elements with action and point."
        "<instruction> Open the Downloads folder")
    assert get_profile("kimi-vl").system_prompt == "You are a helpful assistant"
    opencua = get_profile("opencua")
    assert opencua.render_prompt(TASK) == (
        "# Task Instruction:\nOpen the Downloads folder\n\nPlease generate the next move according to the "
        "screenshot, task instruction and previous steps (if provided).\n")
    assert sha(opencua.system_prompt) == "193560de50599b7925e7b978c2ed56c66d3b7d00e9f0da15961aba3c4145a055"
    assert opencua.system_prompt.startswith("You are a GUI agent. You are given a task and a screenshot of the "
                                            "screen. You need to perform a series of pyautogui actions")
    assert '"enum": ["success", "fail"]' in opencua.system_prompt


def test_only_the_two_placeholders_are_substituted():
    p = get_profile("ui-tars-1.5")
    text = p.render_prompt("type {language} and {x} literally", language="French")
    assert "## User Instruction\ntype {language} and {x} literally\n" in text
    assert "- Use French in `Thought` part." in text
    # OpenCUA's system prompt is full of JSON braces and is never formatted.
    assert '{"name": "computer.terminate"' in get_profile("opencua").system_prompt


def test_missing_mode_names_the_ones_available():
    with pytest.raises(ConfigError, match=r"no 'mobile' prompt \(it has: computer\)"):
        get_profile("opencua").render_prompt(TASK, "mobile")


def test_profile_settings_per_family():
    v15 = get_profile("ui-tars-1.5")
    assert (v15.sampling.temperature, v15.sampling.top_p, v15.sampling.max_tokens) == (0.0, 0.9, 1000)
    assert v15.retry_temperature == 1.0 and v15.history.max_images == 5 and v15.history.restore_box_tokens
    assert v15.convention is Convention.ABSOLUTE and v15.budget.max_pixels == 16384 * 28 * 28
    assert get_profile("ui-tars-1.0").convention is Convention.RELATIVE_1000
    assert not get_profile("ui-tars-2").history.restore_box_tokens
    kimi, thinking = get_profile("kimi-vl"), get_profile("kimi-vl-thinking")
    assert kimi.sampling.temperature == 0.2 and thinking.sampling.temperature == 0.8
    assert thinking.sampling.max_tokens >= 8192 > kimi.sampling.max_tokens
    assert kimi.history.drop_thinking and "<|im_end|>" in kimi.sampling.stop
    assert (kimi.budget.kind, kimi.budget.token_limit, thinking.budget.token_limit) == ("kimi", 4096, 16384)
    assert get_profile("opencua").history.layout == "prompt-last"


def test_with_overrides_flat_nested_and_prompts():
    base = get_profile("ui-tars-1.5")
    p = base.with_overrides(temperature=0.3, max_images=2, max_pixels=1_000_000, stop=["\n\n"],
                            history={"keep_thoughts": False}, retry_temperature=0.7, top_p=None)
    assert (p.sampling.temperature, p.sampling.top_p, p.sampling.stop) == (0.3, 0.9, ("\n\n",))
    assert (p.history.max_images, p.history.keep_thoughts, p.history.restore_box_tokens) == (2, False, True)
    assert p.budget.max_pixels == 1_000_000 and p.retry_temperature == 0.7
    assert base.sampling.temperature == 0.0  # the registry's profile is untouched
    custom = base.with_overrides(prompts={"computer": "Do: {instruction}"})
    assert custom.render_prompt("x") == "Do: x"
    assert custom.trained_prompts == {"mobile", "grounding"}
    assert custom.prompt("grounding") == base.prompt("grounding")


@pytest.mark.parametrize("fields,message", [
    ({"temprature": 1.0}, "unknown profile field 'temprature'"),
    ({"max_images": 0}, "max_images must be a whole number of at least 1"),
    ({"temperature": -1}, "temperature must be a number >= 0"),
    ({"top_p": 1.5}, r"top_p must be in \(0, 1\]"),
    ({"max_tokens": 2.5}, "max_tokens must be a whole number"),
    ({"min_pixels": 10_000, "max_pixels": 5_000}, "must not exceed max_pixels"),
    ({"convention": "pixels"}, "unknown coordinate convention 'pixels'"),
    ({"sampling": {"temp": 1}}, "unknown sampling field 'temp'"),
    ({"prompts": {"desktop": "x"}}, "unknown prompt mode"),
    ({"history": {"layout": "sideways"}}, "history layout must be"),
])
def test_bad_overrides_are_config_errors(fields, message):
    with pytest.raises(ConfigError, match=message):
        get_profile("ui-tars-1.5").with_overrides(**fields)


def test_override_names_cover_the_documented_flags():
    names = set(override_names())
    assert {"temperature", "top_p", "max_tokens", "stop", "max_images", "min_pixels", "max_pixels",
            "system_prompt", "prompts", "retry_temperature", "language"} <= names


def test_get_profile_unknown_lists_families():
    with pytest.raises(ConfigError, match="families: ui-tars-1.0, ui-tars-1.5"):
        get_profile("ui-tars-3")


@pytest.mark.parametrize("name,family", [
    ("ByteDance-Seed/UI-TARS-1.5-7B", "ui-tars-1.5"),
    ("/models/ui_tars_1.5_7b", "ui-tars-1.5"),
    ("bytedance-research/UI-TARS-7B-DPO", "ui-tars-1.0"),
    ("ByteDance-Seed/UI-TARS-2B-SFT", "ui-tars-1.0"),
    ("UI-TARS-72B-SFT", "ui-tars-1.0"),
    ("ui-tars-2", "ui-tars-2"),
    ("doubao-1.5-ui-tars-250428", "ui-tars-2"),
    ("moonshotai/Kimi-VL-A3B-Instruct", "kimi-vl"),
    ("moonshotai/Kimi-VL-A3B-Thinking-2506", "kimi-vl-thinking"),
    ("xlangai/OpenCUA-32B", "opencua"),
    ("Qwen/Qwen2.5-VL-7B-Instruct", "qwen2.5-vl"),
    ("gpt-4o", None),
    ("", None),
])
def test_guess_family(name, family):
    assert guess_family(name) == family


# ---------------------------------------------------------------- config files and flags

def test_toml_config_with_prompt_file(tmp_path):
    (tmp_path / "my_prompt.txt").write_bytes(b"Custom  prompt:\t{instruction} \n")
    cfg = tmp_path / "model.toml"
    cfg.write_text('family = "ui-tars-1.0"\ntemperature = 0.4\nmax_images = 3\n'
                   '[prompts]\ncomputer_file = "my_prompt.txt"\n[budget]\nmax_pixels = 2000000\n', encoding="utf-8")
    profile, guessed = resolve_profile(config=cfg)
    assert profile.name == "ui-tars-1.0" and not guessed
    assert profile.render_prompt("go") == "Custom  prompt:\tgo \n"  # read byte-exact
    assert (profile.sampling.temperature, profile.history.max_images, profile.budget.max_pixels) == (0.4, 3, 2000000)
    assert "computer" not in profile.trained_prompts


def test_json_config_and_precedence(tmp_path):
    cfg = tmp_path / "model.json"
    cfg.write_text(json.dumps({"family": "kimi-vl", "temperature": 0.5, "sampling": {"max_tokens": 64}}))
    profile, _ = resolve_profile(config=cfg, overrides={"temperature": 0.0})
    assert profile.name == "kimi-vl"
    assert (profile.sampling.temperature, profile.sampling.max_tokens) == (0.0, 64)  # flags beat the file
    explicit, _ = resolve_profile("ui-tars-1.5", config=cfg)
    assert explicit.name == "ui-tars-1.5"  # --family beats the file's family


@pytest.mark.parametrize("name,content,message", [
    ("bad.toml", "temperature = = 1", "not valid TOML"),
    ("bad.json", "{", "not valid JSON"),
    ("list.json", "[1, 2]", "must hold a table"),
    ("missing.toml", "[prompts]\ncomputer_file = 'nope.txt'\n", "cannot read prompt file"),
    ("typo.toml", "temprature = 1.0\n", "unknown setting 'temprature'; did you mean: temperature"),
    ("case.toml", "[Run]\nmax_steps = 3\n", "unknown setting 'Run'; did you mean: run?"),
    ("sub.toml", "[budget]\nmax_pixel = 5\n", "unknown budget field 'max_pixel'; did you mean: max_pixels"),
])
def test_bad_config_files(tmp_path, name, content, message):
    cfg = tmp_path / name
    cfg.write_text(content, encoding="utf-8")
    with pytest.raises(ConfigError, match=message):
        resolve_profile("ui-tars-1.5", config=cfg)


def test_missing_config_file(tmp_path):
    with pytest.raises(ConfigError, match="cannot read config file"):
        load_config(tmp_path / "absent.toml")


def test_resolve_profile_guess_and_failure(caplog):
    caplog.set_level("INFO", logger="guiagent.models")
    profile, guessed = resolve_profile(name_hint="UI-TARS-1.5-7B")
    assert profile.name == "ui-tars-1.5" and guessed
    assert "family auto-detected: ui-tars-1.5" in caplog.text
    with pytest.raises(ConfigError, match=r"cannot tell the model family from 'my-model'; pass --family"):
        resolve_profile(name_hint="my-model")


def test_cli_flags_make_a_profile(tmp_path):
    parser = argparse.ArgumentParser()
    add_model_arguments(parser, default_model="scripted")
    cfg = tmp_path / "c.toml"
    cfg.write_text("top_p = 0.5\nmax_tokens = 77\n", encoding="utf-8")
    args = parser.parse_args(["--family", "ui-tars-2", "--temperature", "0.25", "--max-images", "2",
                              "--max-pixels", "1000000", "--language", "German", "--config", str(cfg),
                              "--image-format", "jpeg", "--request-timeout", "5", "--sampling-seed", "4"])
    assert args.model == "scripted"
    p = profile_from_args(args)
    assert p.name == "ui-tars-2"
    assert (p.sampling.temperature, p.sampling.top_p, p.sampling.max_tokens) == (0.25, 0.5, 77)
    assert (p.history.max_images, p.budget.max_pixels, p.language, p.sampling.seed) == (2, 1000000, "German", 4)
    guessed = profile_from_args(parser.parse_args(["--model", "hf:/ckpt/UI-TARS-1.5-7B"]))
    assert guessed.name == "ui-tars-1.5"
    with pytest.raises(SystemExit):
        parser.parse_args(["--family", "gpt"])
