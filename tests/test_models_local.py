"""The local transformers backend, end to end on CPU, with a tiny random Qwen2.5-VL checkpoint built here."""

from __future__ import annotations

import shutil

import pytest
from PIL import Image
from tiny_qwen import build_tiny_qwen

from guiagent.actions.coords import smart_resize
from guiagent.actions.types import Step
from guiagent.errors import ConfigError, ModelError, ParseError
from guiagent.models import local_backend
from guiagent.models.base import Sampling
from guiagent.models.history import Turn, build_messages
from guiagent.models.local_backend import LocalQwenModel, cut_at_stop, pick_attention
from guiagent.models.profiles import get_profile
from guiagent.agent.spec import load_model

torch = pytest.importorskip("torch")

MIN_PIXELS, MAX_PIXELS = 4 * 28 * 28, 20 * 28 * 28
TASK = "Click OK"


@pytest.fixture(scope="module")
def checkpoint(tmp_path_factory):
    # The folder name is what a downloaded UI-TARS-1.5 checkpoint is called: the family is guessed from it.
    return build_tiny_qwen(tmp_path_factory.mktemp("ckpt") / "UI-TARS-1.5-tiny-random")


@pytest.fixture(scope="module")
def profile():
    return get_profile("ui-tars-1.5").with_overrides(min_pixels=MIN_PIXELS, max_pixels=MAX_PIXELS, max_tokens=12)


@pytest.fixture(scope="module")
def model(checkpoint, profile):
    return LocalQwenModel(checkpoint, profile)


def screenshot(size=(200, 120), shade=30) -> Image.Image:
    img = Image.new("RGB", size, (240, 240, 240))
    img.paste((shade, 120, 200), (20, 20, 90, 60))
    return img


def test_cpu_defaults(model):
    assert model.device == "cpu"
    assert model.model.dtype == torch.float32
    assert model.attn_implementation == "sdpa"  # flash-attn is not installed here
    assert model.name == "UI-TARS-1.5-tiny-random"


def test_the_model_sees_the_image_the_coordinate_map_assumes(model, profile):
    shot = screenshot()
    model.complete(build_messages(profile, TASK, [], shot), profile.sampling)
    grid = model.last_inputs["image_grid_thw"].tolist()
    h, w = smart_resize(120, 200, 28, MIN_PIXELS, MAX_PIXELS)
    assert grid == [[1, h // 14, w // 14]]
    assert profile.frame(shot.size).image_size == (w, h)
    # One <|image_pad|> per merged 2x2 patch group reaches the language model.
    image_pad = model.processor.tokenizer.convert_tokens_to_ids("<|image_pad|>")
    assert int((model.last_inputs["input_ids"] == image_pad).sum()) == (h // 14) * (w // 14) // 4


def test_history_images_and_chat_template(model, profile):
    past = [Turn(screenshot(shade=10), "Thought: a\nAction: click(start_box='(10,20)')"),
            Turn(screenshot((180, 160), shade=90), "Thought: b\nAction: wait()")]
    messages = build_messages(profile, TASK, past, screenshot((300, 100)))
    model.complete(messages, profile.sampling)
    grids = model.last_inputs["image_grid_thw"].tolist()
    expected = []
    for w, h in [(200, 120), (180, 160), (300, 100)]:
        rh, rw = smart_resize(h, w, 28, MIN_PIXELS, MAX_PIXELS)
        expected.append([1, rh // 14, rw // 14])
    assert grids == expected
    text = model.processor.tokenizer.decode(model.last_inputs["input_ids"][0])
    assert text.startswith("<|im_start|>system\nYou are a helpful assistant.<|im_end|>\n<|im_start|>user\n"
                           "You are a GUI agent.")
    assert "<|im_start|>assistant\nThought: a\nAction: click(start_box='<|box_start|>(10,20)<|box_end|>')<|im_end|>" \
        in text
    assert text.count("<|vision_start|>") == 3
    assert text.endswith("<|vision_end|><|im_end|>\n<|im_start|>assistant\n")


def test_generation_runs_and_goes_through_the_parser(model, profile):
    messages = build_messages(profile, TASK, [], screenshot())
    first = model.complete(messages, profile.sampling)
    again = model.complete(messages, profile.sampling)
    assert isinstance(first.text, str) and first.text == again.text  # greedy is deterministic
    assert 1 <= first.completion_tokens <= 12
    assert first.prompt_tokens == model.last_inputs["input_ids"].shape[1]
    # Random weights write random text: the grammar must either parse it or say why, never crash otherwise.
    try:
        step = profile.parser().parse(first.text)
    except ParseError as err:
        assert str(err)
    else:
        assert isinstance(step, Step)


def test_sampled_generation_with_seed(model, profile):
    messages = build_messages(profile, TASK, [], screenshot())
    sampling = Sampling(temperature=1.0, top_p=0.9, max_tokens=8, seed=7)
    assert model.complete(messages, sampling).text == model.complete(messages, sampling).text


def test_processor_disagreeing_with_the_budget_is_an_error(checkpoint, profile):
    m = LocalQwenModel(checkpoint, profile)
    bigger = profile.with_overrides(max_pixels=64 * 28 * 28)
    messages = build_messages(bigger, TASK, [], screenshot())
    # The image was budgeted for 64 patches-groups but the model's processor is limited to 20: it would shrink it.
    with pytest.raises(ModelError, match="the coordinate map assumes"):
        m.complete(messages, profile.sampling)


def test_load_through_hf_spec_guesses_family(checkpoint, caplog):
    caplog.set_level("INFO", logger="guiagent.models")
    loaded = load_model(f"hf:{checkpoint}", overrides={"min_pixels": MIN_PIXELS, "max_pixels": MAX_PIXELS},
                        dtype="float32")
    assert loaded.family_guessed and loaded.profile.name == "ui-tars-1.5"
    assert "family auto-detected: ui-tars-1.5" in caplog.text
    assert isinstance(loaded.model, LocalQwenModel)


def test_hf_errors(tmp_path, checkpoint):
    with pytest.raises(ConfigError, match="is not a folder"):
        load_model(f"hf:{tmp_path / 'nope'}", family="ui-tars-1.5")
    with pytest.raises(ConfigError, match="no readable config.json"):
        load_model(f"hf:{tmp_path}", family="ui-tars-1.5")
    with pytest.raises(ConfigError, match="'kimi' image budget"):
        LocalQwenModel(checkpoint, get_profile("kimi-vl"))
    other = tmp_path / "llama"
    other.mkdir()
    (other / "config.json").write_text('{"model_type": "llama"}')
    with pytest.raises(ModelError, match="is a 'llama' checkpoint"):
        LocalQwenModel(other, get_profile("qwen2.5-vl"))
    broken = tmp_path / "broken"
    shutil.copytree(checkpoint, broken)
    (broken / "model.safetensors").write_bytes(b"not weights")
    with pytest.raises(ModelError, match="cannot load the checkpoint"):
        LocalQwenModel(broken, get_profile("qwen2.5-vl"))


def test_attention_choice(monkeypatch):
    assert pick_attention("cpu") == "sdpa"
    monkeypatch.setattr(local_backend.importlib.util, "find_spec", lambda name: object())
    assert pick_attention("cuda") == "flash_attention_2" and pick_attention("cpu") == "sdpa"
    monkeypatch.setattr(local_backend.importlib.util, "find_spec", lambda name: None)
    assert pick_attention("cuda:0") == "sdpa"


def test_stop_strings_cut_the_text():
    assert cut_at_stop("Action: wait()\n\nmore<|im_end|>", ("\n\n", "<|im_end|>")) == "Action: wait()"
    assert cut_at_stop("no stop", ()) == "no stop"
