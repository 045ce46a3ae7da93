"""Kimi-VL in the agent: ``hf:PATH`` detection, the kimi profiles, what the model sees, coordinates, the CLI."""

from __future__ import annotations

import json

import pytest
from PIL import Image

import torch  # noqa: E402

from guiagent.actions.coords import Convention, Point, Space, action_to_screenshot, kimi_resize  # noqa: E402
from guiagent.agent.trajectory import load_run  # noqa: E402
from guiagent.cli import main  # noqa: E402
from guiagent.errors import ConfigError, ModelError  # noqa: E402
from guiagent.models.base import ImagePart, Message, TextPart  # noqa: E402
from guiagent.models.history import Turn, build_messages  # noqa: E402
from guiagent.models.kimi_vl.backend import KimiVLLocalModel  # noqa: E402
from guiagent.models.kimi_vl.testing import write_tiny_checkpoint  # noqa: E402
from guiagent.models.profiles import get_profile  # noqa: E402
from guiagent.agent.spec import load_model  # noqa: E402

TASK = "Click OK"


pytestmark = pytest.mark.usefixtures("torch_one_thread")  # tests/conftest.py


@pytest.fixture(scope="module")
def checkpoint(tmp_path_factory):
    # a folder name that says nothing, and a config.json that does not name the checkpoint either
    folder = write_tiny_checkpoint(tmp_path_factory.mktemp("kimi") / "ckpt-100", name="")
    return folder


@pytest.fixture(scope="module")
def profile():
    return get_profile("kimi-vl").with_overrides(max_tokens=6)


@pytest.fixture(scope="module")
def model(checkpoint, profile):
    return KimiVLLocalModel(checkpoint, profile)


def screenshot(size=(640, 400)) -> Image.Image:
    img = Image.new("RGB", size, (240, 240, 240))
    img.paste((30, 120, 200), (20, 20, 90, 60))
    return img


def test_hf_spec_detects_kimi_vl_from_config_json(checkpoint):
    loaded = load_model(f"hf:{checkpoint}", overrides={"max_tokens": 4})
    assert isinstance(loaded.model, KimiVLLocalModel)
    assert loaded.profile.name == "kimi-vl" and not loaded.family_guessed  # the default family for kimi_vl
    assert loaded.model.model.dtype == torch.float32 and loaded.model.device == "cpu"
    thinking = load_model(f"hf:{checkpoint}", family="kimi-vl-thinking")
    assert thinking.profile.name == "kimi-vl-thinking"


def test_the_family_is_guessed_from_the_checkpoint_name(tmp_path):
    folder = write_tiny_checkpoint(tmp_path / "ckpt", name="moonshotai/Kimi-VL-A3B-Thinking-2506")
    loaded = load_model(f"hf:{folder}")
    assert loaded.profile.name == "kimi-vl-thinking" and loaded.family_guessed


def test_a_non_kimi_family_is_refused(checkpoint):
    with pytest.raises(ConfigError, match="kimi-vl or kimi-vl-thinking"):
        load_model(f"hf:{checkpoint}", family="ui-tars-1.5")


def test_a_broken_checkpoint_is_a_clear_error(tmp_path, checkpoint):
    import shutil

    folder = tmp_path / "broken"
    shutil.copytree(checkpoint, folder)
    (folder / "tiktoken.model").unlink()
    with pytest.raises(ModelError, match="tokenizer vocabulary"):
        load_model(f"hf:{folder}")
    config = json.loads((checkpoint / "config.json").read_text())
    shutil.copy(checkpoint / "tiktoken.model", folder / "tiktoken.model")
    (folder / "config.json").write_text(json.dumps({**config, "media_placeholder_token_id": 5}))
    with pytest.raises(ModelError, match="media_placeholder_token_id 5"):
        load_model(f"hf:{folder}")


def test_the_model_sees_the_padded_budget_image(model, profile):
    shot = screenshot((1920, 1080))
    response = model.complete(build_messages(profile, TASK, [], shot), profile.sampling)
    assert isinstance(response.text, str) and 1 <= response.completion_tokens <= 6
    inputs = model.last_inputs
    content, padded = kimi_resize(1920, 1080, 4096)
    assert (content, padded) == ((1196, 672), (1204, 672))
    assert inputs["image_grid_hws"].tolist() == [[672 // 14, 1204 // 14]]  # no second resize of the padded image
    assert int((inputs["input_ids"] == model.model.config.media_placeholder_token_id).sum()) == 1032
    patches = inputs["pixel_values"].view(48, 86, 3, 14, 14)
    assert torch.all(patches[:, -1, :, :, -8:] == -1.0)  # the 8 padded columns at the right are black
    assert torch.all(patches[40, 40] > 0.8) and torch.all(patches[1, 1, 2] > 0.5)  # content: background, box


def test_history_screenshots_are_encoded_in_one_pack(model, profile):
    past = [Turn(screenshot(), "pyautogui.click(x=0.1, y=0.2)") for _ in range(4)]
    messages = build_messages(profile, TASK, past, screenshot())
    assert sum(isinstance(p, ImagePart) for m in messages for p in m.content) == 5
    model.complete(messages, profile.sampling)
    grids = model.last_inputs["image_grid_hws"].tolist()
    assert grids == [[30, 46]] * 5  # 640x400 padded to 644x420
    ids = model.last_inputs["input_ids"][0].tolist()
    assert ids.count(model.model.config.media_placeholder_token_id) == 5 * 30 * 46 // 4


def test_screenshots_seen_before_are_not_encoded_again(checkpoint, profile):
    model = KimiVLLocalModel(checkpoint, profile)
    shots = [screenshot((640 + 28 * i, 400)) for i in range(3)]  # three different sizes, one pack per call
    first = build_messages(profile, TASK, [Turn(shots[0], "pyautogui.click(x=0.1, y=0.2)")], shots[1])
    model.complete(first, profile.sampling)
    assert len(model.last_inputs["new_images"]) == 2
    second = build_messages(profile, TASK, [Turn(shots[0], "a"), Turn(shots[1], "b")], shots[2])
    inputs = model.encode(second)
    assert [im.size for im in inputs["new_images"]] == [(700, 420)]  # only the new screenshot
    with torch.no_grad():
        reused = model._image_features(inputs)
        everything = model.model.get_image_features(
            model.image_processor(inputs["images"], resize=False)["pixel_values"], inputs["image_grid_hws"])
    assert torch.equal(reused, everything)  # packed == per image: keeping features changes nothing
    image = Image.new("RGB", (644, 420), (9, 9, 9))
    messages = [Message("user", (ImagePart(image), TextPart(TASK)))]
    model.complete(messages, profile.sampling)
    assert "new_images" not in model.encode(messages)
    image.putpixel((3, 3), (200, 0, 0))  # changed in place: the kept features no longer describe it
    assert model.encode(messages)["new_images"] == [image]


def test_a_generated_placeholder_token_is_just_a_token(model):
    pad = model.model.config.media_placeholder_token_id
    with torch.no_grad():
        logits = model.model(input_ids=torch.tensor([[5, pad, 7]])).logits
    assert logits.shape[:2] == (1, 3)


def test_an_image_the_budget_did_not_prepare_is_refused(model, profile):
    messages = [Message("user", (ImagePart(Image.new("RGB", (300, 200))), TextPart(TASK)))]
    with pytest.raises(ModelError, match="unprepared"):
        model.complete(messages, profile.sampling)


def test_thinking_markers_survive_decoding(model):
    ids = model.tokenizer.encode("◁think▷find OK◁/think▷pyautogui.click(x=0.5, y=0.5)")
    assert model.tokenizer.decode(ids + [model._stop_ids[0]]) == "◁think▷find OK◁/think▷pyautogui.click(x=0.5, y=0.5)"


# ---------------------------------------------------------------------- coordinates


@pytest.mark.parametrize("family", ["kimi-vl", "kimi-vl-thinking"])
def test_kimi_coordinates_are_fractions_of_the_unpadded_screenshot(family):
    profile = get_profile(family)
    assert profile.budget.coords_on_padded is False and profile.convention is Convention.RELATIVE_1
    step = profile.parser().parse("pyautogui.click(x=1.0, y=1.0)\npyautogui.click(x=0.5, y=0.25)")
    frame = profile.frame((1920, 1080))
    corner, middle = (action_to_screenshot(a, frame).point for a in step.actions)
    assert (corner.x, corner.y) == pytest.approx((1920, 1080))  # the content's corner, not the padding's
    assert (middle.x, middle.y) == pytest.approx((960, 270))


def test_the_padded_alternative_would_map_differently():
    padded = get_profile("kimi-vl").with_overrides(coords_on_padded=True).frame((1920, 1080))
    point = padded.to_screenshot(Point(1.0, 1.0, Space.MODEL))
    assert point.x == pytest.approx(1204 * 1920 / 1196)  # beyond the screenshot: why the profile says unpadded


# ---------------------------------------------------------------------- the CLI, end to end


def test_guiagent_run_with_a_tiny_kimi_checkpoint(checkpoint, tmp_path, capsys):
    code = main(["run", "--env", "mock", "--task", "calc-add", "--size", "800x600", "--model", f"hf:{checkpoint}",
                 "--max-steps", "2", "--max-tokens", "8", "--out", str(tmp_path / "runs"), "--quiet"])
    assert code == 1  # random weights: the answer does not parse, and the run says so
    (run_dir,) = (tmp_path / "runs").iterdir()
    run = load_run(run_dir)
    assert run.meta["family"] == "kimi-vl" and run.meta["model_spec"] == f"hf:{checkpoint}"
    assert run.outcome == "parse_error"
    assert run.steps and run.steps[0].response is not None
