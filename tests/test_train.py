"""Training: the loss mask, the data path, AdamW's groups and schedule, exact resume, bf16 autocast, LoRA outputs."""

from __future__ import annotations

import json
import math
from pathlib import Path

import pytest
from PIL import Image
from train_helpers import PROFILE_CONFIG, TASKS, losses, record_runs, tiny_checkpoint

torch = pytest.importorskip("torch")
pytest.importorskip("peft")

from guiagent.agent.export import export_sft  # noqa: E402
from guiagent.agent.train import TrainConfig, is_success, load_examples, train  # noqa: E402
from guiagent.agent.train.encode import IGNORE_INDEX, ExampleEncoder  # noqa: E402
from guiagent.agent.train.optim import lr_factor, make_optimizer, param_groups  # noqa: E402
from guiagent.agent.train.plot import nice_ticks, plot_loss  # noqa: E402
from guiagent.agent.train.model import prepare_model  # noqa: E402
from guiagent.cli import main as cli  # noqa: E402
from guiagent.errors import ConfigError  # noqa: E402
from guiagent.models.config import resolve_profile  # noqa: E402
from guiagent.models.history import build_messages  # noqa: E402
from guiagent.models.local_backend import LocalQwenModel  # noqa: E402
from guiagent.agent.spec import load_model  # noqa: E402

QUICK = dict(method="full", lr=1e-2, warmup_ratio=0.0, weight_decay=0.0, save_every=0)


@pytest.fixture(scope="module", autouse=True)
def one_thread():
    # tiny models: one thread is fastest, and the CI machine's cores are shared
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


@pytest.fixture(scope="module")
def work(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("train")
    record_runs(folder)
    tiny_checkpoint(folder)
    return folder


@pytest.fixture(scope="module")
def runs(work) -> Path:
    return work / "runs"


@pytest.fixture(scope="module")
def checkpoint(work) -> Path:
    return work / "UI-TARS-1.5-tiny-random"


@pytest.fixture(scope="module")
def profile():
    config = dict(PROFILE_CONFIG)
    return resolve_profile(config.pop("family"), overrides=config)[0]


@pytest.fixture(scope="module")
def backend(checkpoint, profile):
    return LocalQwenModel(checkpoint, profile)


# ---------------------------------------------------------------------- data and the loss mask

def test_examples_are_what_the_agent_sends(runs, profile):
    examples, stats = load_examples([runs], profile)
    assert stats.runs == 2 and len(examples) == 2 + 4  # one per step of files-open-folder and files-empty-trash
    from guiagent.agent.trajectory import load_run

    run = next(r for r in map(load_run, runs.iterdir()) if r.meta["task"] == TASKS[1])  # 4 steps
    mine = [e for e in examples if e.source.startswith(str(run.path))]
    last = mine[-1]
    # The agent's own builder, from the recorded screenshots: identical messages, image for image.
    from guiagent.models.history import Turn

    turns = [Turn(run.screenshot(s), t.target) for s, t in zip(run.steps[:-1], mine[:-1])]
    expected = build_messages(profile, run.instruction, turns, run.screenshot(run.steps[-1]))
    assert [m.role for m in last.messages] == [m.role for m in expected]
    for got, want in zip(last.messages, expected):
        for a, b in zip(got.content, want.content):
            assert type(a) is type(b)
            if hasattr(a, "text"):
                assert a.text == b.text
            else:
                assert a.image.size == b.image.size and a.image.tobytes() == b.image.tobytes()
    assert last.target == "Thought: The task is complete.\nAction: finished()"
    assert sum(1 for m in last.messages for p in m.content if hasattr(p, "image")) == PROFILE_CONFIG["max_images"]


def test_loss_mask_covers_exactly_the_answer_tokens(runs, profile, backend):
    examples, _ = load_examples([runs], profile)
    encoder = ExampleEncoder(backend)
    tokenizer = backend.processor.tokenizer
    for example in examples:
        encoded = encoder.encode(example)
        ids, labels = encoded.inputs["input_ids"][0], encoded.inputs["labels"][0]
        # the prompt part is byte for byte what the hf: backend feeds the model before generating
        prompt = backend.encode(list(example.messages))["input_ids"][0]
        assert torch.equal(ids[: len(prompt)], prompt)
        assert (labels[: len(prompt)] == IGNORE_INDEX).all()
        trained = labels != IGNORE_INDEX
        assert int(trained.sum()) == encoded.answer_tokens == len(ids) - len(prompt)
        assert torch.equal(labels[trained], ids[trained])
        # exactly the answer and the stop token (history answers in the prompt are context, not targets)
        assert tokenizer.decode(ids[trained]) == example.target + "<|im_end|>"
        assert encoded.inputs["attention_mask"].shape == ids.unsqueeze(0).shape
        assert encoded.inputs["pixel_values"].shape[0] == int(encoded.inputs["image_grid_thw"].prod(-1).sum())


def test_success_filter_prefers_the_recorded_check(tmp_path, runs, profile):
    assert is_success({"outcome": "success"}) and not is_success({"outcome": "step_limit"})
    assert not is_success({"outcome": "success", "evaluation": {"success": False}})
    assert is_success({"outcome": "call_user", "evaluation": {"success": True}})
    # a run whose check failed is left out by default and used with include_failed
    failed = tmp_path / "failed"
    import shutil

    shutil.copytree(sorted(runs.iterdir())[0], failed)
    meta = json.loads((failed / "meta.json").read_text())
    meta["evaluation"] = {"success": False, "reasons": ["failed: edited by the test"]}
    (failed / "meta.json").write_text(json.dumps(meta))
    examples, stats = load_examples([failed], profile)
    assert examples == [] and "not a success" in stats.skipped[0]
    assert len(load_examples([failed], profile, success_only=False)[0]) == meta["steps"]


def test_export_file_gives_the_same_examples(tmp_path, runs, profile):
    from guiagent.agent.export import step_examples
    from guiagent.agent.trajectory import load_run

    # an export made with the family's default image budget holds another image size: refused, with the fix
    default_export = tmp_path / "default.jsonl"
    export_sft(sorted(runs.iterdir()), default_export)
    with pytest.raises(ConfigError, match="the model saw a 1288x812 image, but profile 'ui-tars-1.5' makes 84x56"):
        load_examples([default_export], profile)
    export = tmp_path / "data.jsonl"
    with open(export, "w", encoding="utf-8") as f:
        for run in sorted(runs.iterdir()):
            for example in step_examples(load_run(run), profile, image_root=tmp_path):
                f.write(json.dumps(example) + "\n")
    from_runs, _ = load_examples([runs], profile)
    from_export, stats = load_examples([export], profile)
    assert stats.exports == 1 and [e.target for e in from_export] == [e.target for e in from_runs]
    for a, b in zip(from_export, from_runs):
        assert [[getattr(p, "text", None) for p in m.content] for m in a.messages] == \
            [[getattr(p, "text", None) for p in m.content] for m in b.messages]


def test_data_errors(tmp_path, runs, profile):
    with pytest.raises(ConfigError, match="does not exist"):
        load_examples([tmp_path / "nope"], profile)
    with pytest.raises(ConfigError, match="holds no run folders"):
        load_examples([tmp_path], profile)
    bad = tmp_path / "bad.jsonl"
    bad.write_text("{not json\n")
    with pytest.raises(ConfigError, match="line 1 is not JSON"):
        load_examples([bad], profile)
    # pixel coordinates of another image size would teach clicks in the wrong place
    bigger = profile.with_overrides(max_pixels=40 * 28 * 28)
    with pytest.raises(ConfigError, match="--min-pixels/--max-pixels"):
        load_examples([runs], bigger)


# ---------------------------------------------------------------------- optimizer and schedule

def test_adamw_groups_full(checkpoint, profile):
    model = LocalQwenModel(checkpoint, profile).model
    model = prepare_model(model, TrainConfig(method="full", train_projector=True))
    decay, no_decay = param_groups(model, 0.1)
    assert decay["weight_decay"] == 0.1 and no_decay["weight_decay"] == 0.0
    names = dict(model.named_parameters())
    for name in decay["names"]:
        assert names[name].ndim == 2 and "embed_tokens" not in name and "norm" not in name
        assert "language_model" in name or "merger.mlp" in name or name == "lm_head.weight"
    assert "lm_head.weight" in decay["names"]
    assert "model.language_model.embed_tokens.weight" in no_decay["names"]
    assert "model.language_model.norm.weight" in no_decay["names"]
    assert "model.visual.merger.ln_q.weight" in no_decay["names"]
    assert "model.language_model.layers.0.self_attn.q_proj.bias" in no_decay["names"]
    assert all(n.endswith(".bias") or "norm" in n or "ln_q" in n or "embed_tokens" in n for n in no_decay["names"])
    # the vision tower is frozen (only its projector trains) and every trainable parameter is in one group
    assert not any("visual.blocks" in n or "patch_embed" in n for n in decay["names"] + no_decay["names"])
    trainable = {n for n, p in model.named_parameters() if p.requires_grad}
    assert trainable == set(decay["names"]) | set(no_decay["names"])
    assert not set(decay["names"]) & set(no_decay["names"])
    optimizer = make_optimizer(model, lr=1e-3, weight_decay=0.1)
    assert isinstance(optimizer, torch.optim.AdamW)
    assert [g["weight_decay"] for g in optimizer.param_groups] == [0.1, 0.0]


def test_adamw_groups_lora(checkpoint, profile):
    model = prepare_model(LocalQwenModel(checkpoint, profile).model, TrainConfig(method="lora", lora_rank=4))
    decay, no_decay = param_groups(model, 0.01)
    assert decay["names"] and all("lora_" in n and "language_model" in n for n in decay["names"])
    assert no_decay["names"] == []
    # 2 layers x 7 projections x (A, B)
    assert len(decay["names"]) == 2 * 7 * 2


def test_warmup_then_cosine():
    factors = [lr_factor(s, 10, 2, 0.1) for s in range(10)]
    assert factors[:3] == pytest.approx([1 / 3, 2 / 3, 1.0])
    assert all(a >= b for a, b in zip(factors[2:], factors[3:]))
    assert factors[-1] == pytest.approx(0.1)
    assert factors[6] == pytest.approx(0.1 + 0.9 * 0.5 * (1 + math.cos(math.pi * 4 / 7)))


# ---------------------------------------------------------------------- training runs

def test_interrupted_and_resumed_run_matches_an_uninterrupted_one(tmp_path, runs, checkpoint, profile):
    config = TrainConfig(method="lora", lora_rank=4, lora_dropout=0.1, lr=5e-3, grad_accum=2, epochs=2,
                         warmup_ratio=0.2, save_every=0)
    whole = train([runs], checkpoint, profile, tmp_path / "whole", config, progress=False)
    assert whole.steps == 6 and len(losses(tmp_path / "whole")) == 6

    def stop_at_4(record):
        if record.step == 4:
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        train([runs], checkpoint, profile, tmp_path / "split", config, progress=False, on_step=stop_at_4)
    assert (tmp_path / "split" / "checkpoints" / "step-000004" / "optimizer.pt").is_file()
    assert not (tmp_path / "split" / "config.json").exists()  # no half-trained model where the model goes
    with pytest.raises(ConfigError, match="not empty; pass --resume"):
        train([runs], checkpoint, profile, tmp_path / "split", config, progress=False)
    resumed = train([runs], checkpoint, profile, tmp_path / "split", config, resume=True, progress=False)
    assert resumed.steps == 6 and len(resumed.losses) == 2
    assert losses(tmp_path / "split") == pytest.approx(losses(tmp_path / "whole"), rel=1e-6, abs=1e-7)
    lrs = [[json.loads(x)["lr"] for x in (tmp_path / d / "loss.jsonl").read_text().splitlines()]
           for d in ("whole", "split")]
    assert lrs[0] == lrs[1]
    from safetensors.torch import load_file

    a, b = (load_file(str(tmp_path / d / "model.safetensors")) for d in ("whole", "split"))
    assert all(torch.allclose(a[k], b[k], atol=1e-6) for k in a)
    # resuming with other settings is refused, naming what changed
    with pytest.raises(ConfigError, match="changed since it was saved: lr"):
        train([runs], checkpoint, profile, tmp_path / "split", TrainConfig(**{**_as_kwargs(config), "lr": 1e-3}),
              resume=True, progress=False)


def _as_kwargs(config: TrainConfig) -> dict:
    import dataclasses

    return {f.name: getattr(config, f.name) for f in dataclasses.fields(config)}


def test_bf16_autocast_path_keeps_float32_master_weights(tmp_path, runs, checkpoint, profile):
    seen: set = set()
    trainable_dtypes: set = set()

    def probe(record):
        trainable_dtypes.update(p.dtype for p in probe.model.parameters() if p.requires_grad)

    import guiagent.agent.train.trainer as trainer

    original = trainer.prepare_model

    def prepare(model, config):
        model = original(model, config)
        probe.model = model
        model.model.language_model.layers[0].self_attn.q_proj.register_forward_hook(
            lambda module, args, output: seen.add(output.dtype))
        return model

    trainer.prepare_model = prepare
    try:
        result = train([runs], checkpoint, profile, tmp_path / "bf16",
                       TrainConfig(**{**QUICK, "precision": "bf16", "max_steps": 3}), progress=False,
                       on_step=probe)
    finally:
        trainer.prepare_model = original
    assert seen == {torch.bfloat16}  # the matmuls ran in bf16 under autocast
    assert trainable_dtypes == {torch.float32}  # the weights the optimizer updates stayed float32
    assert all(math.isfinite(x) for x in result.losses) and result.losses[-1] < result.losses[0]
    saved = json.loads((tmp_path / "bf16" / "training.json").read_text())
    assert saved["precision"] == "bf16"
    with pytest.raises(ConfigError, match="fp16 .* needs a CUDA GPU"):
        train([runs], checkpoint, profile, tmp_path / "fp16", TrainConfig(precision="fp16"), progress=False)


def test_lora_outputs_load_with_hf(tmp_path, runs, checkpoint, profile):
    config = TrainConfig(method="lora", lora_rank=4, lora_dropout=0.0, lr=5e-3, max_steps=4, save_every=0)
    train([runs], checkpoint, profile, tmp_path / "merged", config, progress=False)
    train([runs], checkpoint, profile, tmp_path / "adapter", TrainConfig(**{**_as_kwargs(config),
                                                                            "merge_lora": False}), progress=False)
    adapter_files = {p.name for p in (tmp_path / "adapter").iterdir()}
    assert {"adapter_config.json", "adapter_model.safetensors", "tokenizer.json"} <= adapter_files
    assert "config.json" not in adapter_files and "model.safetensors" not in adapter_files
    for name in ("loss.jsonl", "loss.png", "training.json", "guiagent.json"):
        assert (tmp_path / "merged" / name).is_file()
    with Image.open(tmp_path / "merged" / "loss.png") as png:
        assert png.size == (800, 450)
    # the merged model and base + adapters (detected by hf:) compute the same logits, unlike the base model
    config_file = str(tmp_path / "merged" / "guiagent.json")
    merged = load_model(f"hf:{tmp_path / 'merged'}", config=config_file).model
    adapted = load_model(f"hf:{tmp_path / 'adapter'}", config=config_file).model
    base = load_model(f"hf:{checkpoint}", config=config_file).model
    examples, _ = load_examples([runs], profile)
    inputs = merged.encode(list(examples[1].messages))
    with torch.no_grad():
        logits = [m.model(**inputs).logits for m in (merged, adapted, base)]
    assert torch.allclose(logits[0], logits[1], atol=1e-4)
    assert not torch.allclose(logits[0], logits[2], atol=1e-2)
    # an adapter whose base checkpoint is gone says so
    config = json.loads((tmp_path / "adapter" / "adapter_config.json").read_text())
    (tmp_path / "adapter" / "adapter_config.json").write_text(
        json.dumps({**config, "base_model_name_or_path": str(tmp_path / "gone")}))
    with pytest.raises(ConfigError, match="not a local checkpoint folder"):
        load_model(f"hf:{tmp_path / 'adapter'}", config=config_file)


def test_cli_errors(tmp_path, runs, checkpoint, capsys):
    assert cli(["train", str(runs), "--model", str(checkpoint), "-o", str(tmp_path / "o")]) == 2
    assert "--model must be hf:PATH" in capsys.readouterr().err
    assert cli(["train", str(runs), "--model", f"hf:{tmp_path / 'none'}", "-o", str(tmp_path / "o")]) == 2
    assert "is not a folder" in capsys.readouterr().err
    assert cli(["train", str(tmp_path / "missing"), "--model", f"hf:{checkpoint}", "-o", str(tmp_path / "o")]) == 2
    assert "does not exist" in capsys.readouterr().err
    assert cli(["train", str(runs), "--model", f"hf:{checkpoint}", "-o", str(tmp_path / "o"), "--resume"]) == 2
    assert "--resume" in capsys.readouterr().err
    assert cli(["train", str(runs), "--model", f"hf:{checkpoint}", "-o", str(tmp_path / "o"), "--method", "full",
                "--save-adapter"]) == 2
    assert "--save-adapter needs --method lora" in capsys.readouterr().err


def test_loss_plot(tmp_path):
    out = plot_loss([1, 2, 3, 4], [3.0, 2.0, float("nan"), 0.5], tmp_path / "loss.png")
    with Image.open(out) as img:
        assert img.size == (800, 450)
        # some pixels carry the curve's colour
        assert (31, 119, 180) in {c for _, c in img.convert("RGB").getcolors(1 << 20)}
    assert nice_ticks(0, 1) == pytest.approx([0, 0.2, 0.4, 0.6, 0.8, 1.0])
    assert nice_ticks(0.0, 5.0) == pytest.approx([0, 1, 2, 3, 4, 5])
    assert nice_ticks(0.0, 5.4) == pytest.approx([0, 2, 4])


def test_gradient_checkpointing_gives_the_same_steps_and_the_vision_tower_stays_frozen(tmp_path, runs, checkpoint,
                                                                                       profile):
    config = TrainConfig(**{**QUICK, "max_steps": 3})
    plain = train([runs], checkpoint, profile, tmp_path / "plain", config, progress=False)
    ckpt = train([runs], checkpoint, profile, tmp_path / "ckpt",
                 TrainConfig(**{**QUICK, "max_steps": 3, "gradient_checkpointing": True}), progress=False)
    assert ckpt.losses == pytest.approx(plain.losses, rel=1e-5)
    from safetensors.torch import load_file

    before, after = load_file(str(checkpoint / "model.safetensors")), load_file(str(tmp_path / "ckpt" /
                                                                                    "model.safetensors"))
    assert all(torch.equal(before[k], after[k]) for k in before if k.startswith("model.visual."))
    assert not torch.equal(before["lm_head.weight"], after["lm_head.weight"])


def test_bf16_checkpoint_keeps_frozen_weights_in_bf16_and_trains_float32(tmp_path, runs, checkpoint, profile):
    import shutil

    from transformers import Qwen2_5_VLForConditionalGeneration

    half = tmp_path / "UI-TARS-1.5-tiny-bf16"
    shutil.copytree(checkpoint, half)
    Qwen2_5_VLForConditionalGeneration.from_pretrained(checkpoint, dtype=torch.bfloat16).save_pretrained(half)
    dtypes: dict = {}
    import guiagent.agent.train.trainer as trainer

    original = trainer.trainable_to_float32

    def spy(model):
        original(model)
        for name, param in model.named_parameters():
            dtypes.setdefault(param.requires_grad, set()).add(param.dtype)

    trainer.trainable_to_float32 = spy
    try:
        result = train([runs], half, profile, tmp_path / "out",
                       TrainConfig(method="lora", lora_rank=4, lr=5e-3, max_steps=3, save_every=0,
                                   precision="bf16", train_projector=True), progress=False)
    finally:
        trainer.trainable_to_float32 = original
    assert dtypes == {True: {torch.float32}, False: {torch.bfloat16}}
    assert all(math.isfinite(x) for x in result.losses)
    assert json.loads((tmp_path / "out" / "config.json").read_text())["dtype"] == "bfloat16"
    loaded = load_model(f"hf:{tmp_path / 'out'}", config=str(tmp_path / "out" / "guiagent.json"), dtype="bfloat16")
    assert loaded.model.model.dtype == torch.bfloat16


def test_cli_interrupt_says_how_to_continue(tmp_path, runs, checkpoint, capsys, monkeypatch):
    import guiagent.agent.train as package

    def interrupted(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(package, "train", interrupted)
    assert cli(["train", str(runs), "--model", f"hf:{checkpoint}", "-o", str(tmp_path / "o"), "--quiet"]) == 130
    assert "nothing was saved" in capsys.readouterr().err
