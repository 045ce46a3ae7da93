"""Hostile inputs at the input boundaries: every one gets a clear error (ConfigError / exit status 2), never a
traceback, a hang or a read outside the place the input names."""

from __future__ import annotations

import json
import os

import pytest
from PIL import Image

from guiagent.cli import main
from guiagent.errors import ConfigError


def _cli(argv, capsys):
    """Run the CLI in-process; any exception escaping it is the bug these tests look for."""
    rc = main(argv)
    return rc, capsys.readouterr().err


# ---------------------------------------------------------------------- eval-grounding data

def _grounding_data(tmp_path, records, name="screenspot_desktop.json"):
    data = tmp_path / "data"
    (data / "images").mkdir(parents=True, exist_ok=True)
    Image.new("RGB", (100, 80)).save(data / "images" / "a.png")
    (data / name).write_text(json.dumps(records) if not isinstance(records, bytes) else "", encoding="utf-8")
    if isinstance(records, bytes):
        (data / name).write_bytes(records)
    return data


def _record(**kw):
    return {"img_filename": "a.png", "instruction": "the button", "bbox": [1, 1, 5, 5], "data_type": "text", **kw}


def _ground(tmp_path, capsys, data):
    return _cli(["eval-grounding", str(data), "--model", "scripted", "-o", str(tmp_path / "out"), "--quiet",
                 "--workers", "1"], capsys)


def test_grounding_deeply_nested_json_is_a_clear_error(tmp_path, capsys):
    data = _grounding_data(tmp_path, b"[" * 100_000 + b"]" * 100_000)
    rc, err = _ground(tmp_path, capsys, data)
    assert rc == 2 and "nested too deeply" in err


@pytest.mark.parametrize("bbox", [[10**400, 1, 1, 1], [1e308, 1, 1e308, 1], [1, 1, -(10**309), 5]])
def test_grounding_boxes_too_large_for_a_float_are_refused(tmp_path, capsys, bbox):
    data = _grounding_data(tmp_path, [_record(bbox=bbox)])
    rc, err = _ground(tmp_path, capsys, data)
    assert rc == 2 and "record 0" in err and "finite" in err


def test_grounding_image_link_out_of_the_data_folder_is_not_read(tmp_path, capsys):
    secret = tmp_path / "secret.png"
    Image.new("RGB", (20, 20)).save(secret)
    data = _grounding_data(tmp_path, [_record(img_filename="link.png")])
    os.symlink(secret, data / "images" / "link.png")
    rc, err = _ground(tmp_path, capsys, data)
    assert rc == 2 and "outside" in err and "link.png" in err
    assert not (tmp_path / "out" / "predictions.jsonl").exists()


def test_grounding_folder_link_inside_the_image_folder_stays_readable(tmp_path, capsys):
    data = _grounding_data(tmp_path, [_record(img_filename="shots/a.png")])
    os.symlink(data / "images", data / "images" / "shots")  # a link that stays inside is fine
    rc, _ = _ground(tmp_path, capsys, data)
    assert rc == 0


def test_grounding_annotation_link_out_of_the_data_folder_is_not_read(tmp_path, capsys):
    data = _grounding_data(tmp_path, [_record()])
    elsewhere = tmp_path / "elsewhere.json"
    elsewhere.write_text(json.dumps([_record(id="x")]), encoding="utf-8")
    os.symlink(elsewhere, data / "zz.json")
    rc, err = _ground(tmp_path, capsys, data)
    assert rc == 2 and "zz.json" in err and "outside" in err


def test_grounding_decompression_bomb_costs_its_sample_not_the_run(tmp_path, capsys):
    data = _grounding_data(tmp_path, [_record(img_filename="bomb.png"), _record()])
    Image.new("1", (20_000, 20_000)).save(data / "images" / "bomb.png")  # 400 Mpx: over PIL's bomb limit
    rc, _ = _ground(tmp_path, capsys, data)
    lines = [json.loads(x) for x in (tmp_path / "out" / "predictions.jsonl").read_text().splitlines()]
    assert rc == 0 and len(lines) == 2
    assert "cannot read the image" in next(r for r in lines if r["image"] == "bomb.png")["image_error"]


@pytest.mark.parametrize("line", [{"id": ["x"]}, {"id": "screenspot_desktop#0"}, {"id": "screenspot_desktop#0",
                                                                                  "type": 3, "split": None},
                                  {"id": "screenspot_desktop#0", "type": "text", "split": "desktop", "hit": False,
                                   "iou": "high"}])
def test_grounding_resume_skips_damaged_prediction_lines(tmp_path, capsys, line):
    data = _grounding_data(tmp_path, [_record()])
    assert _ground(tmp_path, capsys, data)[0] == 0
    (tmp_path / "out" / "predictions.jsonl").write_text(json.dumps(line) + "\n", encoding="utf-8")
    rc, _ = _ground(tmp_path, capsys, data)
    summary = json.loads((tmp_path / "out" / "summary.json").read_text())
    assert rc == 0 and summary["samples"] == 1 and summary["complete"]


def test_grounding_annotation_file_too_large_is_refused_before_reading(tmp_path, capsys):
    data = _grounding_data(tmp_path, [_record()])
    with open(data / "screenspot_desktop.json", "r+b") as f:
        f.truncate(2**40)  # a sparse 1 TiB file: reading it whole would exhaust memory
    rc, err = _ground(tmp_path, capsys, data)
    assert rc == 2 and "too large" in err


# ---------------------------------------------------------------------- guiagent train: SFT exports

def _example(image="s.png", **kw):
    example = {"messages": [{"role": "user", "content": [{"type": "text", "text": "open it"},
                                                         {"type": "image", "image": image}]},
                            {"role": "assistant", "content": [{"type": "text", "text": "Action: finished()"}]}],
               "meta": {"outcome": "success"}}
    example.update(kw)
    return example


def _export(tmp_path, lines):
    folder = tmp_path / "export"
    folder.mkdir(exist_ok=True)
    Image.new("RGB", (64, 64)).save(folder / "s.png")
    path = folder / "data.jsonl"
    with open(path, "wb") as f:
        for line in lines:
            f.write(line if isinstance(line, bytes) else json.dumps(line).encode() + b"\n")
    return path


def _load(path):
    from guiagent.agent.train.data import load_examples
    from guiagent.models.profiles import get_profile

    return load_examples([path], get_profile("ui-tars-1.5"), success_only=False)


@pytest.mark.parametrize("example", [
    {"messages": [1, 2]},
    {"messages": [{"role": "user", "content": []}, "the answer"]},
    {"messages": [{"role": "user", "content": []}, {"role": "assistant", "content": [{"type": "text", "text": 5}]}]},
    _example(meta=[1]),
    _example(meta={"image_sizes": 5}),
    _example(meta={"image_sizes": [5]}),
])
def test_train_export_lines_of_the_wrong_shape_are_clear_errors(tmp_path, example):
    with pytest.raises(ConfigError, match="line 1"):
        _load(_export(tmp_path, [example]))


def test_train_export_nested_too_deeply_is_a_clear_error(tmp_path):
    with pytest.raises(ConfigError, match="line 1 is not JSON"):
        _load(_export(tmp_path, [b"[" * 100_000 + b"]" * 100_000 + b"\n"]))


@pytest.fixture
def secret_png(tmp_path):
    secret = tmp_path / "private" / "secret.png"
    secret.parent.mkdir()
    Image.new("RGB", (64, 64)).save(secret)
    return secret


@pytest.mark.parametrize("ref", ["abs", "../private/secret.png", "link.png"])
def test_train_export_images_outside_its_folder_are_not_read(tmp_path, secret_png, ref):
    path = _export(tmp_path, [_example(str(secret_png) if ref == "abs" else ref)])
    os.symlink(secret_png, path.parent / "link.png")
    with pytest.raises(ConfigError, match="line 1: screenshot .* outside"):
        _load(path)


def test_train_export_may_name_recorded_screenshots_by_absolute_path(tmp_path):
    run = tmp_path / "runs" / "r1"  # what `guiagent export` writes by default: the run folder's screenshot
    run.mkdir(parents=True)
    (run / "meta.json").write_text("{}", encoding="utf-8")
    Image.new("RGB", (64, 64)).save(run / "step_000.png")
    examples, _ = _load(_export(tmp_path, [_example(str(run / "step_000.png"))]))
    assert len(examples) == 1 and examples[0].target == "Action: finished()"


@pytest.mark.timeout(20)
@pytest.mark.parametrize("kind", ["fifo", "nul", "bomb"])
def test_train_export_images_that_are_not_image_files_are_clear_errors(tmp_path, kind):
    path = _export(tmp_path, [_example("a\x00.png" if kind == "nul" else "x.png")])
    if kind == "fifo":
        os.mkfifo(path.parent / "x.png")  # opening it would wait forever for a writer
    elif kind == "bomb":
        Image.new("1", (20_000, 20_000)).save(path.parent / "x.png")
    with pytest.raises(ConfigError, match="line 1: .*screenshot"):
        _load(path)


@pytest.mark.parametrize("where", ["export", "run"])
def test_train_cli_data_nested_too_deeply_exits_2(tmp_path, capsys, where):
    deep = b"[" * 100_000 + b"]" * 100_000 + b"\n"
    if where == "export":
        data = _export(tmp_path, [deep])
    else:
        data = tmp_path / "runs" / "r1"
        data.mkdir(parents=True)
        (data / "meta.json").write_bytes(deep)
    (tmp_path / "ckpt").mkdir()
    rc, err = _cli(["train", str(data), "--model", f"hf:{tmp_path / 'ckpt'}", "-o", str(tmp_path / "out"),
                    "--quiet"], capsys)
    assert rc == 2 and err.startswith("error:") and "Traceback" not in err


# ---------------------------------------------------------------------- eval task files and results folders

def _desktop_task(**kw):
    return {"id": "t", "instruction": "write it", "check": [{"file": "a.txt", "equals": "b"}], **kw}


def _desktop_tasks_dir(tmp_path, data):
    folder = tmp_path / "tasks"
    folder.mkdir()
    (folder / "t.json").write_bytes(data if isinstance(data, bytes) else json.dumps(data).encode())
    return folder


def test_desktop_task_file_nested_too_deeply_is_a_clear_error(tmp_path):
    from guiagent.agent.evaluation.desktop_suite import load_tasks

    with pytest.raises(ConfigError, match="t.json"):
        load_tasks(str(_desktop_tasks_dir(tmp_path, b"[" * 100_000)))


@pytest.mark.parametrize("task", [_desktop_task(check=[{"file": "a\x00b", "equals": "b"}]),
                                  _desktop_task(apps=[["xterm", "-e", "a\x00b"]])])
def test_desktop_task_nul_in_paths_and_argv_is_refused_when_loaded(tmp_path, task):
    # a NUL would only fail later, inside an episode (subprocess and os calls refuse it with ValueError)
    from guiagent.agent.evaluation.desktop_suite import load_tasks

    with pytest.raises(ConfigError, match="NUL"):
        load_tasks(str(_desktop_tasks_dir(tmp_path, task)))


@pytest.mark.timeout(20)
def test_desktop_file_check_on_a_fifo_fails_instead_of_hanging(tmp_path):
    # an app in the sandbox can make the checked path a FIFO; opening it would wait forever for a writer
    from guiagent.agent.evaluation.desktop_suite import FileCheck

    os.mkfifo(tmp_path / "out.txt")
    ok, why = FileCheck("out.txt", "contains", "x").judge(tmp_path)
    assert not ok and "not a regular file" in why
    ok, why = FileCheck("out.txt", "absent").judge(tmp_path)
    assert not ok


@pytest.mark.parametrize("raw", [b"[" * 100_000, b"\xff\xfe{}"])
@pytest.mark.parametrize("command", ["tasks", "eval"])
def test_mock_tasks_dir_unreadable_task_file_exits_2(tmp_path, capsys, raw, command):
    folder = tmp_path / "tasks"
    folder.mkdir()
    (folder / "t.json").write_bytes(raw)
    argv = ["tasks", "--tasks-dir", str(folder)] if command == "tasks" else \
        ["eval", "--suite", "mock", "--tasks-dir", str(folder), "--model", "scripted", "-o", str(tmp_path / "out")]
    rc, err = _cli(argv, capsys)
    assert rc == 2 and "t.json" in err


_EPISODE = {"suite": "mock", "task": "t", "repeat": 0, "outcome": "success", "success": True}


def _results(tmp_path, name, raw):
    folder = tmp_path / name
    folder.mkdir()
    (folder / "results.jsonl").write_bytes(raw)
    return folder


def test_compare_results_nested_too_deeply_exits_2(tmp_path, capsys):
    good = _results(tmp_path, "a", json.dumps(_EPISODE).encode() + b"\n")
    bad = _results(tmp_path, "b", b"[" * 100_000 + b"\n")
    rc, err = _cli(["compare", str(good), str(bad)], capsys)
    assert rc == 2 and "line 1" in err


@pytest.mark.parametrize("field, value", [("timings", [1]), ("timings", {"total_s": "x"}), ("steps", "a"),
                                          ("steps", True), ("groups", [1]), ("groups", {"skill": 3}),
                                          ("outcome", ["a"]), ("suite", 5), ("failure", [1]), ("reason", 5)])
def test_results_lines_with_wrong_field_types_are_refused_when_read(tmp_path, field, value):
    # accepted, they crashed the summary and the report later (e.g. 'list' object has no attribute 'get')
    from guiagent.agent.evaluation.results import read_results

    folder = _results(tmp_path, "r", json.dumps({**_EPISODE, field: value}).encode() + b"\n")
    with pytest.raises(ConfigError, match=f"line 1 is not an episode record .*{field}"):
        read_results(folder / "results.jsonl")


# ---------------------------------------------------------------------- Kimi-VL checkpoint folders

@pytest.fixture(scope="module")
def kimi_tiny(tmp_path_factory):
    from guiagent.models.kimi_vl.testing import write_tiny_checkpoint

    return write_tiny_checkpoint(tmp_path_factory.mktemp("kimi") / "Kimi-VL-tiny")


@pytest.fixture
def kimi_copy(tmp_path, kimi_tiny):
    import shutil

    return shutil.copytree(kimi_tiny, tmp_path / "ckpt")


def _kimi_model(folder):
    from guiagent.models.kimi_vl.modeling import KimiVLForConditionalGeneration

    return KimiVLForConditionalGeneration.from_pretrained(folder)


def _rewrite_index(folder, change):
    index = folder / "model.safetensors.index.json"
    data = json.loads(index.read_text(encoding="utf-8"))
    first = sorted(set(data["weight_map"].values()))[0]
    data["weight_map"] = {k: (change(folder, v) if v == first else v) for k, v in data["weight_map"].items()}
    index.write_text(json.dumps(data), encoding="utf-8")
    return first


@pytest.mark.parametrize("how", ["dotdot", "absolute", "subfolder"])
def test_kimi_index_cannot_send_the_loader_outside_the_checkpoint(kimi_copy, how):
    # shard names in an index are bare file names of the folder (a shard that is itself a link, as in the
    # Hugging Face cache's snapshots/, stays allowed: that is the user's own layout, not the index's say)
    from guiagent.errors import ModelError

    shard = sorted(kimi_copy.glob("*.safetensors"))[0]
    outside = kimi_copy.parent / "outside.safetensors"
    outside.write_bytes(shard.read_bytes())  # a valid shard: only the place it lies in is wrong
    name = {"dotdot": "../outside.safetensors", "absolute": str(outside), "subfolder": f"sub/../{shard.name}"}[how]
    (kimi_copy / "sub").mkdir()
    _rewrite_index(kimi_copy, lambda f, v: name)
    with pytest.raises(ModelError, match="not a file name in the checkpoint folder"):
        _kimi_model(kimi_copy)


@pytest.mark.parametrize("file", ["config.json", "model.safetensors.index.json", "tokenizer_config.json",
                                  "preprocessor_config.json"])
def test_kimi_json_files_nested_too_deeply_are_model_errors(kimi_copy, file):
    from guiagent.errors import ModelError
    from guiagent.models.kimi_vl.image_processing import KimiVLImageProcessor
    from guiagent.models.kimi_vl.tokenization import KimiVLTokenizer

    (kimi_copy / file).write_bytes(b"[" * 100_000)
    load = {"tokenizer_config.json": KimiVLTokenizer.from_pretrained,
            "preprocessor_config.json": KimiVLImageProcessor.from_pretrained}.get(file, _kimi_model)
    with pytest.raises(ModelError, match=file.replace(".", r"\.")):
        load(kimi_copy)


@pytest.mark.parametrize("damage", [b"garbage" * 10, (10**15).to_bytes(8, "little") + b"{}", b"\x10"])
def test_kimi_damaged_shard_is_a_model_error(kimi_copy, damage):
    from guiagent.errors import ModelError

    shard = sorted(kimi_copy.glob("*.safetensors"))[0]
    shard.write_bytes(damage)
    with pytest.raises(ModelError, match=shard.name):
        _kimi_model(kimi_copy)


@pytest.mark.parametrize("lines", [b"YQ== 0\nYg== 0\n", b"YQ== -5\nYg== 1\n", b"YQ== 99999999999999999999\n"])
def test_kimi_tiktoken_ranks_that_are_not_unique_small_numbers_are_model_errors(kimi_copy, lines):
    # tiktoken itself panics (a Rust panic) or overflows on these
    from guiagent.errors import ModelError
    from guiagent.models.kimi_vl.tokenization import KimiVLTokenizer

    (kimi_copy / "tiktoken.model").write_bytes(lines)
    with pytest.raises(ModelError, match="tiktoken"):
        KimiVLTokenizer.from_pretrained(kimi_copy)


def test_kimi_negative_special_token_id_is_a_model_error(kimi_copy):
    from guiagent.errors import ModelError
    from guiagent.models.kimi_vl.tokenization import KimiVLTokenizer

    config = kimi_copy / "tokenizer_config.json"
    data = json.loads(config.read_text(encoding="utf-8"))
    data["added_tokens_decoder"]["-1"] = {"content": "<|bad|>"}
    config.write_text(json.dumps(data), encoding="utf-8")
    with pytest.raises(ModelError, match="tokenizer_config.json"):
        KimiVLTokenizer.from_pretrained(kimi_copy)


@pytest.mark.parametrize("change", [
    {"vision_config": [1]}, {"text_config": "deepseek"},
    {"text_config": {"hidden_size": "abc"}}, {"text_config": {"num_hidden_layers": 1.5}},
    {"text_config": {"n_routed_experts": None}}, {"text_config": {"hidden_size": -8}},
    {"vision_config": {"num_attention_heads": 0}}, {"vision_config": {"hidden_size": "abc"}},
])
def test_kimi_config_with_wrong_types_is_a_model_error(kimi_copy, change):
    from guiagent.errors import ModelError

    config = kimi_copy / "config.json"
    data = json.loads(config.read_text(encoding="utf-8"))
    for key, value in change.items():
        data[key] = {**data[key], **value} if isinstance(value, dict) else value
    config.write_text(json.dumps(data), encoding="utf-8")
    with pytest.raises(ModelError, match="config.json"):
        _kimi_model(kimi_copy)


# ---------------------------------------------------------------------- --env vnc:HOST:PORT

@pytest.mark.parametrize("server", ["host:\u00b2", "host:\u0665\u0669\u0660\u0661", "host\x00:5901", "ho st:5901",
                                    "host/x:5901", "-oProxy:5901", "h" * 300 + ":5901", "[::1%\x00]:5901",
                                    "[not an address]:5901"])
def test_vnc_server_spec_malformed_host_or_port_is_a_config_error(server):
    from guiagent.envs.vnc.env import parse_server

    with pytest.raises(ConfigError, match="HOST:PORT"):
        parse_server(server)


@pytest.mark.parametrize("server, parsed", [("localhost:5901", ("localhost", 5901)), ("[::1]:5900", ("::1", 5900)),
                                            ("10.0.0.7:1", ("10.0.0.7", 1)), ("gpu-box.lan:65535",
                                                                             ("gpu-box.lan", 65535))])
def test_vnc_server_spec_well_formed_is_parsed(server, parsed):
    from guiagent.envs.vnc.env import parse_server

    assert parse_server(server) == parsed


def test_vnc_env_flag_with_a_bad_port_exits_2(capsys):
    with pytest.raises(SystemExit) as exit_info:
        main(["run", "x", "--env", "vnc:localhost:\u00b2", "--model", "scripted"])
    assert exit_info.value.code == 2 and "HOST:PORT" in capsys.readouterr().err


@pytest.mark.parametrize("raw", [b'{"format": "two"}', b'{"format": [1]}', b'{"format": null}',
                                 b'{"format": 1e400}', b"[" * 100_000])
def test_results_folder_eval_json_damaged_is_a_config_error(tmp_path, raw):
    from guiagent.agent.evaluation.results import ResultsDir

    (tmp_path / "eval.json").write_bytes(raw)
    with pytest.raises(ConfigError, match="eval.json"):
        ResultsDir(tmp_path).read_config()


@pytest.mark.parametrize("file", ["grounding.json", "predictions.jsonl"])
def test_grounding_results_folder_nested_too_deeply_is_handled(tmp_path, capsys, file):
    data = _grounding_data(tmp_path, [_record()])
    assert _ground(tmp_path, capsys, data)[0] == 0
    (tmp_path / "out" / file).write_bytes(b"[" * 100_000 + b"\n")
    rc, err = _ground(tmp_path, capsys, data)
    # a damaged configuration is refused (another configuration); a damaged line is asked again
    assert (rc, "another configuration" in err) == ((2, True) if file == "grounding.json" else (0, False))


@pytest.mark.parametrize("raw", [b"{not json", b"[]", b'{"step": "3", "config": {}}', b'{"step": 3, "config": [1]}',
                                 b"[" * 100_000, b"\xff"])
def test_train_resume_from_a_damaged_state_json_is_a_config_error(tmp_path, raw):
    from guiagent.agent.train.checkpoint import read_state

    (tmp_path / "state.json").write_bytes(raw)
    with pytest.raises(ConfigError, match="state.json"):
        read_state(tmp_path)


def test_train_resume_drops_loss_log_lines_nested_too_deeply(tmp_path):
    from guiagent.agent.train.trainer import _truncate_log

    log = tmp_path / "loss.jsonl"
    log.write_bytes(b'{"step": 1, "loss": 2.0}\n' + b"[" * 100_000 + b"\n" + b'{"step": 5, "loss": 1.0}\n')
    _truncate_log(log, 3)
    assert log.read_text(encoding="utf-8") == '{"step": 1, "loss": 2.0}\n'


# ---------------------------------------------------------------------- checkpoint folders (hf:PATH)

_BAD_CONFIGS = {
    "a list": b"[1, 2]",
    "nested too deeply": b"[" * 100_000 + b"]" * 100_000,
    "not UTF-8": b"\xff\xfe{}",
    "no model_type": b"{}",
    "text_config of the wrong type": b'{"model_type": "qwen2_5_vl", "text_config": "x"}',
}


@pytest.fixture(scope="module")
def recorded_run(tmp_path_factory):
    """One successful mock run folder (what `guiagent train` reads)."""
    runs = tmp_path_factory.mktemp("runs")
    assert main(["run", "--task", "files-open-folder", "--model", "scripted", "--out", str(runs), "--quiet"]) == 0
    return next(runs.iterdir())


@pytest.mark.parametrize("config", list(_BAD_CONFIGS), ids=list(_BAD_CONFIGS))
@pytest.mark.parametrize("command", ["run", "train"])
def test_checkpoint_with_a_damaged_config_json_is_one_line_error(tmp_path, capsys, recorded_run, command, config):
    checkpoint = tmp_path / "ckpt"
    checkpoint.mkdir()
    (checkpoint / "config.json").write_bytes(_BAD_CONFIGS[config])
    model = f"hf:{checkpoint}"
    if command == "run":
        argv = ["run", "--task", "files-open-folder", "--model", model, "--family", "ui-tars-1.5", "--no-record"]
    else:
        argv = ["train", str(recorded_run), "--model", model, "--family", "ui-tars-1.5", "-o", str(tmp_path / "out"),
                "--quiet"]
    rc, err = _cli(argv, capsys)
    lines = [line for line in err.splitlines() if line.strip() and not line.startswith("family ")]
    assert rc != 0 and len(lines) == 1, err
    assert str(checkpoint) in lines[0] and "Traceback" not in err
