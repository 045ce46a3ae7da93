"""Grounding evaluation: box formats, metrics against hand-worked values, answer reading, and the mock pipeline."""

from __future__ import annotations

import json

import pytest
from PIL import Image

from guiagent.agent.grounding import (
    evaluate_grounding,
    load_samples,
    make_mock_grounding,
    read_answer,
    summarize,
)
from guiagent.agent.grounding.data import check_xyxy, xywh_to_xyxy, xyxy_to_xywh
from guiagent.agent.grounding.evaluate import load_grounding_model
from guiagent.agent.grounding.metrics import average_precision, box_ap, box_map, iou, point_in_box, precision_recall
from guiagent.cli import main
from guiagent.errors import ConfigError
from guiagent.models.profiles import get_profile

# ---------------------------------------------------------------- box formats


def test_box_format_conversions_by_hand():
    assert xywh_to_xyxy([10, 20, 30, 40]) == (10.0, 20.0, 40.0, 60.0)
    assert xyxy_to_xywh([10, 20, 40, 60]) == (10.0, 20.0, 30.0, 40.0)
    assert xyxy_to_xywh(xywh_to_xyxy([1.5, 2.5, 3, 4])) == (1.5, 2.5, 3.0, 4.0)
    for bad in ([1, 2, 3], [0, 0, -1, 5], [0, 0, float("nan"), 1], "0,0,1,1", [0, 0, True, 1]):
        with pytest.raises(ValueError):
            xywh_to_xyxy(bad)
    with pytest.raises(ValueError, match="x1 <= x2"):
        check_xyxy([10, 0, 5, 5])


def _image(path, size=(200, 100)):
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.new("RGB", size, "white").save(path)


def test_screenspot_and_screenspot_pro_records(tmp_path):
    # ScreenSpot-v2: bbox x, y, w, h; the split is the platform in the file name
    _image(tmp_path / "ss" / "screenspot_imgs" / "a.png")
    (tmp_path / "ss" / "screenspot_mobile_v2.json").write_text(json.dumps([
        {"img_filename": "a.png", "bbox": [10, 20, 30, 40], "instruction": "open menu", "data_type": "icon",
         "data_source": "android"}]))
    [s] = load_samples(tmp_path / "ss")
    assert s.box == (10, 20, 40, 60) and s.split == "mobile" and s.elem_type == "icon" and s.source == "android"
    # ScreenSpot-Pro: bbox x1, y1, x2, y2 with img_size; group is the split; annotations/ + images/
    _image(tmp_path / "pro" / "images" / "b.png")
    (tmp_path / "pro" / "annotations").mkdir(parents=True)
    (tmp_path / "pro" / "annotations" / "vscode_macos.json").write_text(json.dumps([
        {"img_filename": "b.png", "bbox": [10, 20, 30, 40], "img_size": [200, 100], "instruction": "run",
         "ui_type": "text", "group": "Dev", "application": "vscode", "id": "p1"}]))
    [p] = load_samples(tmp_path / "pro")
    assert p.box == (10, 20, 30, 40) and p.split == "Dev" and p.elem_type == "text" and p.img_size == (200, 100)
    assert p.id == "p1" and p.source == "vscode"


@pytest.mark.parametrize("record, message", [
    ({"img_filename": "a.png", "bbox": [0, 0, 5], "instruction": "x"}, "4 numbers"),
    ({"img_filename": "a.png", "instruction": "x"}, "missing bbox"),
    ({"img_filename": "../a.png", "bbox": [0, 0, 1, 1], "instruction": "x"}, "relative path"),
    ({"img_filename": "zz.png", "bbox": [0, 0, 1, 1], "instruction": "x"}, "not found"),
    ({"img_filename": "a.png", "bbox": [0, 0, 1, 1], "instruction": " "}, "non-empty"),
])
def test_bad_records_name_the_problem(tmp_path, record, message):
    _image(tmp_path / "a.png")
    (tmp_path / "d.json").write_text(json.dumps([record]))
    with pytest.raises(ConfigError, match=message):
        load_samples(tmp_path / "d.json")


# ---------------------------------------------------------------- metrics


def test_iou_and_point_in_box_by_hand():
    assert iou((0, 0, 10, 10), (5, 5, 15, 15)) == pytest.approx(25 / 175)
    assert iou((0, 0, 10, 10), (0, 0, 10, 10)) == 1.0
    assert iou((0, 0, 10, 10), (10, 0, 20, 10)) == 0.0  # touching edges: no area in common
    assert point_in_box(10, 5, (0, 0, 10, 10)) and not point_in_box(10.01, 5, (0, 0, 10, 10))


def test_average_precision_worked_on_paper():
    # 5 targets; ranked predictions hit, miss, hit, hit, miss.
    # precision 1, 1/2, 2/3, 3/4, 3/5; recall .2, .2, .4, .6, .6
    # envelope (best precision at recall >= r): 1, .75, .75, .75, .6
    # AP = .2 * 1 + (.4 - .2) * .75 + (.6 - .4) * .75 = 0.5
    precision, recall = precision_recall([True, False, True, True, False], 5)
    assert precision == pytest.approx([1, 1 / 2, 2 / 3, 3 / 4, 3 / 5])
    assert recall == pytest.approx([.2, .2, .4, .6, .6])
    assert average_precision([True, False, True, True, False], 5) == pytest.approx(0.5)
    assert average_precision([True] * 3, 3) == 1.0 and average_precision([False, False], 2) == 0.0
    assert average_precision([True, True], 4) == pytest.approx(0.5)  # half the targets never predicted


def test_box_ap_ranks_by_confidence_else_by_order():
    ious = [0.9, 0.3, 0.6, 0.55, 0.2]
    # no confidences: dataset order -> hits T F T T F at IoU 0.5 -> the case above, AP 0.5
    assert box_ap(ious, [None] * 5, 5, 0.5) == pytest.approx(0.5)
    # confidences .9 .8 .7 .6 .95 rank the predictions 4, 0, 1, 2, 3 -> hits F T F T T
    # precision 0, 1/2, 1/3, 1/2, 3/5; recall 0, .2, .2, .4, .6; envelope .6 everywhere -> AP = .6 * .6 = 0.36
    conf = [0.9, 0.8, 0.7, 0.6, 0.95]
    assert box_ap(ious, conf, 5, 0.5) == pytest.approx(0.36)
    # at IoU 0.6: hits F T F T F -> precision 0, .5, 1/3, .5, .4; recall 0, .2, .2, .4, .4 -> AP = .2*.5 + .2*.5
    assert box_ap(ious, conf, 5, 0.6) == pytest.approx(0.2)
    # one box at IoU .72: AP 1 at thresholds .50-.70 (5 of 10), 0 at .75-.95 -> mAP 0.5
    mean, per = box_map([0.72], [None], 1)
    assert mean == pytest.approx(0.5) and per["0.70"] == 1.0 and per["0.75"] == 0.0 and len(per) == 10


def test_summarize_by_type_and_split():
    rows = [
        {"id": "1", "type": "text", "split": "web", "hit": True, "iou": 0.8, "confidence": None},
        {"id": "2", "type": "icon", "split": "web", "hit": False, "iou": 0.1, "confidence": None},
        {"id": "3", "type": "icon", "split": "mobile", "hit": True, "iou": None, "error": None},
        {"id": "4", "type": "text", "split": "mobile", "hit": False, "error": "unparseable answer: x"},
    ]
    s = summarize(rows)
    assert s["click_accuracy"] == 0.5 and s["samples"] == 4 and s["hits"] == 2
    assert s["by_type"]["icon"] == {"samples": 2, "hits": 1, "accuracy": 0.5}
    assert s["by_split"]["web"]["accuracy"] == 0.5 and s["by_split_type"]["mobile/icon"]["accuracy"] == 1.0
    assert s["unparsed"] == 1 and s["box_predictions"] == 2
    # boxes of samples 1 and 2 in order: hit at .5, miss; 4 targets -> precision 1, .5; recall .25, .25 -> AP .25
    assert s["ap50"] == pytest.approx(0.25)


# ---------------------------------------------------------------- reading answers


def test_read_answer_maps_points_and_boxes_to_image_pixels():
    tars10 = get_profile("ui-tars-1.0")  # relative 0..1000
    pred = read_answer("Thought: x\nAction: click(start_box='<|box_start|>(100,200,300,400)<|box_end|>')",
                       tars10, (2000, 1000))
    assert pred.point == pytest.approx((400, 300)) and pred.box == pytest.approx((200, 200, 600, 400))
    kimi = get_profile("kimi-vl")  # relative 0..1, no boxes
    pred = read_answer("## Action:\nclick\n## Code:\n```python\npyautogui.click(x=0.5, y=0.25)\n```", kimi,
                       (2000, 1000))
    assert pred.point == pytest.approx((1000, 250)) and pred.box is None and pred.error is None
    bad = read_answer("I think it is the red button", tars10, (2000, 1000))
    assert bad.point is None and "unparseable" in bad.error
    assert read_answer("Action: finished()", tars10, (2000, 1000)).error.startswith("the answer has no point")


# ---------------------------------------------------------------- the mock dataset, end to end


@pytest.fixture(scope="module")
def mock_set(tmp_path_factory):
    folder = tmp_path_factory.mktemp("grounding") / "mock"
    made = make_mock_grounding(folder, screens=12, per_screen=4)
    return folder, made


def test_mock_dataset_is_screenspot_format_with_varied_types(mock_set):
    folder, made = mock_set
    records = json.loads((folder / "mock_desktop.json").read_text())
    assert made.samples == len(records) >= 40
    assert {"text", "icon", "field", "menu item"} <= set(made.by_type)
    assert {r["data_source"] for r in records} == {"files", "editor", "calculator", "settings", "mail", "webform"}
    for r in records:
        assert set(r) >= {"img_filename", "bbox", "instruction", "data_type", "data_source"}
        w, h = Image.open(folder / "images" / r["img_filename"]).size
        x, y, bw, bh = r["bbox"]
        assert 0 <= x and 0 <= y and bw > 0 and bh > 0 and x + bw <= w and y + bh <= h
    sizes = {Image.open(p).size for p in (folder / "images").glob("*.png")}
    assert len(sizes) >= 3  # several screen sizes and a HiDPI scale
    per_screen = {}
    for r in records:
        per_screen.setdefault(r["img_filename"], set()).add(r["instruction"])
    assert all(len(v) == 4 for v in per_screen.values())  # distinct instructions per screen


@pytest.mark.parametrize("family", ["ui-tars-1.5", "ui-tars-2", "kimi-vl"])
def test_scripted_grounding_model_scores_100_percent(mock_set, tmp_path, family):
    folder, made = mock_set
    summary = evaluate_grounding(folder, tmp_path / "res", lambda: load_grounding_model("scripted", family=family),
                                 workers=2)
    assert summary["click_accuracy"] == 1.0 and summary["samples"] == made.samples and summary["complete"]
    assert all(c["accuracy"] == 1.0 for c in summary["by_type"].values())
    if family == "ui-tars-1.5":  # UI-TARS 1.x answers boxes
        assert summary["box_predictions"] == made.samples and summary["ap50"] == 1.0 and summary["map"] >= 0.9
    else:
        assert summary["box_predictions"] == 0 and summary["ap50"] is None


def test_a_wrong_annotation_is_scored_as_a_miss(mock_set, tmp_path):
    """The scripted model answers from the element tree, not the annotations: moving a target box costs it."""
    folder, made = mock_set
    data = tmp_path / "moved.json"
    records = json.loads((folder / "mock_desktop.json").read_text())
    records[0]["bbox"] = [0, 0, 2, 2]
    data.write_text(json.dumps(records))
    summary = evaluate_grounding(data, tmp_path / "res", lambda: load_grounding_model("scripted"),
                                 images=folder / "images")
    assert summary["hits"] == made.samples - 1 and summary["ap50"] < 1.0


def test_cli_make_and_eval_grounding_resume_and_refusals(tmp_path):
    data, out = tmp_path / "data", tmp_path / "res"
    assert main(["make-grounding", "--suite", "mock", "--screens", "6", "--per-screen", "2", "-o", str(data)]) == 0
    assert main(["make-grounding", "--suite", "mock", "-o", str(data)]) == 2  # not empty
    assert main(["eval-grounding", str(data), "--model", "scripted", "-o", str(out), "--quiet", "--json"]) == 0
    lines = (out / "predictions.jsonl").read_text().splitlines()
    assert len(lines) == 12 and all(json.loads(x)["hit"] for x in lines)
    assert json.loads((out / "summary.json").read_text())["click_accuracy"] == 1.0
    # the same command again: nothing asked twice
    assert main(["eval-grounding", str(data), "--model", "scripted", "-o", str(out), "--quiet"]) == 0
    assert len((out / "predictions.jsonl").read_text().splitlines()) == 12
    # another family in the same folder is refused; bad data is a one-line error
    assert main(["eval-grounding", str(data), "--model", "scripted", "--family", "kimi-vl", "-o", str(out),
                 "--quiet"]) == 2
    assert main(["eval-grounding", str(tmp_path / "nope"), "--model", "scripted", "-o", str(tmp_path / "r2"),
                 "--quiet"]) == 2


def test_a_failing_model_or_damaged_image_costs_only_its_sample(tmp_path):
    from guiagent.agent.grounding.evaluate import GroundingModel
    from guiagent.errors import ModelError
    from guiagent.models.base import ModelResponse

    _image(tmp_path / "a.png")
    (tmp_path / "b.png").write_bytes(b"not a png")
    (tmp_path / "d.json").write_text(json.dumps([
        {"img_filename": "a.png", "bbox": [0, 0, 100, 100], "instruction": "fail", "data_type": "text"},
        {"img_filename": "a.png", "bbox": [0, 0, 100, 100], "instruction": "ok", "data_type": "text"},
        {"img_filename": "b.png", "bbox": [0, 0, 100, 100], "instruction": "ok", "data_type": "icon"}]))

    class Flaky:
        name, calls = "flaky", 0

        def complete(self, messages, sampling):
            Flaky.calls += 1
            if "fail" in messages[-2].content[0].text and Flaky.calls < 3:
                raise ModelError("server said 503")
            return ModelResponse("Action: click(start_box='(50,50)')")

    profile = get_profile("ui-tars-1.0")  # 0..1000: (50, 50) is (10, 5) on the 200 x 100 image
    load = lambda: GroundingModel(Flaky(), profile, {"spec": "test"})  # noqa: E731
    first = evaluate_grounding(tmp_path / "d.json", tmp_path / "res", load, workers=1)
    assert first["samples"] == 3 and first["hits"] == 1 and first["model_errors"] == 1
    rows = {json.loads(x)["instruction"] + json.loads(x)["image"]: json.loads(x)
            for x in (tmp_path / "res" / "predictions.jsonl").read_text().splitlines()}
    assert rows["oka.png"]["point"] == [10.0, 5.0] and "cannot read the image" in rows["okb.png"]["image_error"]
    assert first["image_errors"] == 1 and first["unparsed"] == 0  # the data's fault, not an unusable answer
    # resume asks the failed request again (and only it)
    second = evaluate_grounding(tmp_path / "d.json", tmp_path / "res", load, workers=1)
    assert second["hits"] == 2 and second["model_errors"] == 0 and Flaky.calls == 3


def test_the_same_set_in_screenspot_pro_form_scores_the_same(mock_set, tmp_path):
    """x, y, w, h -> x1, y1, x2, y2 with img_size, ui_type and group: the conversion end to end."""
    folder, made = mock_set
    pro = []
    for r in json.loads((folder / "mock_desktop.json").read_text()):
        x, y, w, h = r["bbox"]
        size = list(Image.open(folder / "images" / r["img_filename"]).size)
        pro.append({"img_filename": r["img_filename"], "bbox": [x, y, x + w, y + h], "img_size": size,
                    "instruction": r["instruction"], "ui_type": r["data_type"], "group": "Mock",
                    "application": r["data_source"]})
    (tmp_path / "annotations").mkdir()
    (tmp_path / "annotations" / "mock.json").write_text(json.dumps(pro))
    summary = evaluate_grounding(tmp_path, tmp_path / "res", lambda: load_grounding_model("scripted"),
                                 images=folder / "images")
    assert summary["click_accuracy"] == 1.0 and summary["ap50"] == 1.0 and list(summary["by_split"]) == ["Mock"]
    assert summary["samples"] == made.samples


def test_a_family_without_a_grounding_prompt_is_a_usage_error(mock_set, tmp_path, capsys):
    folder, _ = mock_set
    assert main(["eval-grounding", str(folder), "--model", "scripted", "--family", "opencua", "-o",
                 str(tmp_path / "r"), "--quiet"]) == 2
    assert "no 'grounding' prompt" in capsys.readouterr().err
    assert not (tmp_path / "r").exists()


def test_scripted_model_reads_no_element_tree_outside_the_dataset(mock_set, tmp_path):
    """The scripted model's trees are part of the dataset: one linked to a file elsewhere is an error for its
    screen's samples, and the file is not read."""
    import shutil

    folder, made = mock_set
    copy = tmp_path / "copy"
    shutil.copytree(folder, copy)
    secret = tmp_path / "secret.json"
    secret.write_text(json.dumps({"elements": [], "PRIVATE": 1}))
    tree = sorted((copy / "trees").glob("*.json"))[0]
    tree.unlink()
    tree.symlink_to(secret)
    summary = evaluate_grounding(copy, tmp_path / "res", lambda: load_grounding_model("scripted"), workers=1)
    assert summary["samples"] == made.samples and summary["model_errors"] == 4  # the 4 samples of that screen
    text = (tmp_path / "res" / "predictions.jsonl").read_text()
    assert "outside" in text and "PRIVATE" not in text
