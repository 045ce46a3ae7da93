"""What is trained and what is written: freezing and LoRA, dtypes of frozen and trained weights, activation
checkpointing, and the final model folder that ``hf:OUT`` loads."""

from __future__ import annotations

import json
import shutil
import warnings
from pathlib import Path
from typing import TYPE_CHECKING, Any

from guiagent._jsonio import read_object
from guiagent.agent.train.checkpoint import copy_processor_files, publish_model
from guiagent.agent.train.data import DataStats, TrainExample
from guiagent.agent.train.plot import plot_loss_log
from guiagent.models.profiles import Profile

if TYPE_CHECKING:
    from guiagent.agent.train.config import TrainConfig, TrainResult

#: LoRA goes on these projections of the language model only (the vision tower's MLP uses the same names)
LORA_TARGETS = r".*language_model.*\.(q_proj|k_proj|v_proj|o_proj|gate_proj|up_proj|down_proj)"


def prepare_model(model: Any, config: TrainConfig) -> Any:
    """Freeze what is not trained; wrap with LoRA adapters when asked. Returns the model to optimise."""
    for param in model.parameters():
        param.requires_grad_(False)
    inner = model.model
    if config.method == "full":
        for module in (inner.language_model, model.lm_head):
            for param in module.parameters():
                param.requires_grad_(True)
    if config.train_vision or config.train_projector:
        part = inner.visual if config.train_vision else inner.visual.merger
        for param in part.parameters():
            param.requires_grad_(True)
    if config.method == "lora":
        from peft import LoraConfig, get_peft_model

        extra = ["visual"] if config.train_vision else (["merger"] if config.train_projector else None)
        lora = LoraConfig(r=config.lora_rank, lora_alpha=config.lora_alpha, lora_dropout=config.lora_dropout,
                          target_modules=LORA_TARGETS, modules_to_save=extra, bias="none")
        with warnings.catch_warnings():  # peft asks transformers 5 for a renamed attribute: not the user's concern
            warnings.filterwarnings("ignore", message=".*is_gradient_checkpointing.*", category=FutureWarning)
            model = get_peft_model(model, lora)
    return model


def load_dtype(source: Path, precision: str) -> str:
    """Frozen weights stay in the checkpoint's own half type when training autocasts to that type (a bf16
    checkpoint under bf16 autocast: half the memory for what is not trained, and nothing is rounded); everything
    else loads as float32."""
    saved = _checkpoint_dtype(source)
    if (precision, saved) in (("bf16", "bfloat16"), ("fp16", "float16")):
        return saved
    return "float32"


def trainable_to_float32(model: Any) -> None:
    """Master weights: every trained parameter is float32, whatever the frozen ones are."""
    import torch

    for param in model.parameters():
        if param.requires_grad and param.dtype != torch.float32:
            param.data = param.data.float()


def enable_checkpointing(model: Any) -> None:
    """Recompute activations in the backward pass (non-reentrant: works with frozen inputs, LoRA and DDP)."""
    kwargs = {"use_reentrant": False}
    if hasattr(model, "activation_checkpointing_enable"):  # the name in transformers 5.2x
        model.activation_checkpointing_enable(activation_checkpointing_kwargs=kwargs)
    else:
        model.gradient_checkpointing_enable(gradient_checkpointing_kwargs=kwargs)


def write_model(model: Any, config: TrainConfig, source: Path, out: Path, profile: Profile, stats: DataStats,
                 state: dict[str, Any], result: TrainResult, examples: list[TrainExample]) -> None:
    """The trained model in ``out`` (loadable with ``hf:OUT``), with the training record and profile file."""
    import torch

    save_dtype = _checkpoint_dtype(source)
    staging = out / ".model.partial"
    shutil.rmtree(staging, ignore_errors=True)
    staging.mkdir()
    if config.method == "lora" and not config.merge_lora:
        model.save_pretrained(staging)  # adapter_config.json + adapter_model.safetensors
        _point_adapter_at(staging / "adapter_config.json", source)
    else:
        final = model.merge_and_unload() if config.method == "lora" else model
        final = final.to(getattr(torch, save_dtype))
        final.save_pretrained(staging)
    copy_processor_files(source, staging)
    publish_model(staging, out)
    plot_loss_log(out)
    record = {"base_model": str(source.resolve()), "family": profile.name, "profile": profile.to_dict(),
              **state, "steps": result.steps, "final_loss": result.losses[-1] if result.losses else None,
              "data": {"runs": stats.runs, "exports": stats.exports, "examples": stats.examples,
                       "skipped": stats.skipped, "sources": sorted({e.source.rsplit(' ', 2)[0] for e in examples})}}
    (out / "training.json").write_text(json.dumps(record, indent=2, ensure_ascii=False), encoding="utf-8")
    (out / "guiagent.json").write_text(json.dumps(profile_config(profile), indent=2), encoding="utf-8")


def profile_config(profile: Profile) -> dict[str, Any]:
    """A config file (``--config OUT/guiagent.json``) that rebuilds the training profile's family, image budget
    and history window, so the model runs with the images it was trained on."""
    from guiagent.models.profiles import get_profile

    data: dict[str, Any] = {"family": profile.name, "min_pixels": profile.budget.min_pixels,
                            "max_pixels": profile.budget.max_pixels, "max_images": profile.history.max_images,
                            "language": profile.language}
    default = get_profile(profile.name)
    prompts = {mode: text for mode, text in profile.prompts.items() if default.prompts.get(mode) != text}
    if prompts:
        data["prompts"] = prompts
    if profile.system_prompt != default.system_prompt:
        data["system_prompt"] = profile.system_prompt
    return data


def _checkpoint_dtype(source: Path) -> str:
    """The dtype the source checkpoint was saved in (the trained model is saved the same way)."""
    try:
        data = read_object(source / "config.json")
    except (OSError, ValueError):  # loading the checkpoint names what is wrong with it
        return "float32"
    text_config = data.get("text_config")
    dtype = data.get("dtype") or data.get("torch_dtype") or (
        text_config.get("dtype") if isinstance(text_config, dict) else None)
    return dtype if dtype in ("float32", "bfloat16", "float16") else "float32"


def _point_adapter_at(config_file: Path, base: Path) -> None:
    data = json.loads(config_file.read_text(encoding="utf-8"))
    data["base_model_name_or_path"] = str(base.resolve())
    config_file.write_text(json.dumps(data, indent=2), encoding="utf-8")
