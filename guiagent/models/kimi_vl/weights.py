"""Reading the official Kimi-VL safetensors shards into the model's own parameter layout.

The checkpoint stores the language model's routed experts one by one
(``language_model.model.layers.N.mlp.experts.E.{gate,up,down}_proj.weight``); transformers 5's DeepSeek-V3
keeps them stacked (``mlp.experts.gate_up_proj`` (E, 2I, D) = [gate; up] per expert, ``mlp.experts.down_proj``
(E, D, I)). Each expert is copied into its slot of the stacked tensor as its shard is read, so peak memory is
the model plus one tensor, not two copies of the experts. Every other key keeps its name.
"""

from __future__ import annotations

import json
import re
from collections import defaultdict
from pathlib import Path
from typing import Any, Iterator

import torch

from guiagent.errors import ModelError

INDEX_FILE = "model.safetensors.index.json"
SINGLE_FILE = "model.safetensors"

_EXPERT = re.compile(r"^(?P<prefix>.+\.mlp\.experts)\.(?P<expert>\d+)\.(?P<proj>gate_proj|up_proj|down_proj)\.weight$")
#: checkpoint keys that carry no weights (recomputed at load time)
_IGNORED = re.compile(r"(^|\.)rotary_emb\.inv_freq$")
#: parameters kept in float32 whatever the load dtype (transformers' DeepSeek-V3 routes in float32)
_KEEP_FLOAT32 = re.compile(r"\.mlp\.gate\.(weight|e_score_correction_bias)$")


def shard_map(folder: Path) -> dict[str, str]:
    """checkpoint key -> shard file name, from the index (or the single ``model.safetensors``).

    Raises:
        ModelError: no weights, an unreadable index, or a shard the index names that is not there.
    """
    index = folder / INDEX_FILE
    if index.is_file():
        try:
            weight_map = json.loads(index.read_text(encoding="utf-8"))["weight_map"]
        except (OSError, ValueError, KeyError, TypeError) as exc:
            raise ModelError(f"{index} is not a safetensors index (needs a 'weight_map'): {exc}") from exc
        except RecursionError:
            raise ModelError(f"{index} is not a safetensors index: its JSON is nested too deeply") from None
        if not isinstance(weight_map, dict):
            raise ModelError(f"{index}: 'weight_map' must map tensor names to shard files")
        for name in set(weight_map.values()):  # shards are files of this folder, never paths that leave it
            if not isinstance(name, str) or Path(name).name != name or name in (".", "..") or "\\" in name:
                raise ModelError(f"{index} names shard {name!r}, which is not a file name in the checkpoint "
                                 f"folder")
        missing = sorted({f for f in weight_map.values() if not (folder / str(f)).is_file()})
        if missing:
            raise ModelError(f"{folder} lacks shard(s) {', '.join(missing)} named in {INDEX_FILE}")
        return {str(k): str(v) for k, v in weight_map.items()}
    single = folder / SINGLE_FILE
    if single.is_file():
        with _open_shard(folder, SINGLE_FILE) as handle:
            return {key: SINGLE_FILE for key in handle.keys()}
    raise ModelError(f"{folder} holds no weights ({INDEX_FILE} or {SINGLE_FILE})")


def _open_shard(folder: Path, file: str) -> Any:
    """``safe_open`` on one shard; a damaged file (bad header, cut short) is a ModelError naming it."""
    from safetensors import SafetensorError, safe_open

    try:
        return safe_open(str(folder / file), framework="pt")
    except (SafetensorError, OSError) as exc:
        raise ModelError(f"{folder / file} is not a readable safetensors file ({exc}); download it again") from None


def _tensors(folder: Path, weight_map: dict[str, str]) -> Iterator[tuple[str, torch.Tensor]]:
    by_file: dict[str, list[str]] = defaultdict(list)
    for key, file in weight_map.items():
        by_file[file].append(key)
    for file, keys in sorted(by_file.items()):
        with _open_shard(folder, file) as handle:
            present = set(handle.keys())
            for key in keys:
                if key not in present:
                    raise ModelError(f"{INDEX_FILE} puts {key} in {file}, but that shard does not hold it")
                yield key, handle.get_tensor(key)


def load_state_dict(folder: Path, expected: dict[str, torch.Tensor], dtype: torch.dtype,
                    device: torch.device) -> dict[str, torch.Tensor]:
    """The model's state dict (names and shapes of ``expected``) filled from the checkpoint in ``folder``.

    Args:
        folder: the checkpoint folder.
        expected: the model's state dict (meta tensors are fine: only names, shapes and dtypes are read).
        dtype: floating-point dtype to load weights in (router weights stay float32).
        device: where the tensors go.

    Raises:
        ModelError: naming the missing keys, the unexpected keys, or a tensor of the wrong shape.
    """
    state: dict[str, torch.Tensor] = {}
    filled: dict[str, set[int]] = defaultdict(set)
    unexpected: list[str] = []
    for key, tensor in _tensors(folder, shard_map(folder)):
        if _IGNORED.search(key):
            continue
        match = _EXPERT.match(key)
        if match:
            if not _place_expert(match, tensor, expected, state, filled, dtype, device):
                unexpected.append(key)
            continue
        if key not in expected:
            unexpected.append(key)
            continue
        _check_shape(key, tuple(tensor.shape), tuple(expected[key].shape))
        state[key] = tensor.to(device=device, dtype=_target_dtype(key, tensor, dtype))
    missing = sorted(set(expected) - set(state))
    incomplete = [f"{key} (experts {_missing_experts(key, got, expected[key].shape[0])[:8]} missing)"
                  for key, got in sorted(filled.items()) if len(got) != expected[key].shape[0] * _parts(key)]
    if unexpected or missing or incomplete:
        raise ModelError(_mismatch_message(folder, missing, unexpected, incomplete))
    return state


def _place_expert(match: re.Match, tensor: torch.Tensor, expected, state, filled, dtype, device) -> bool:
    prefix, expert, proj = match["prefix"], int(match["expert"]), match["proj"]
    target = f"{prefix}.down_proj" if proj == "down_proj" else f"{prefix}.gate_up_proj"
    if target not in expected or expert >= expected[target].shape[0]:
        return False
    shape = tuple(expected[target].shape)
    if target not in state:
        state[target] = torch.empty(shape, dtype=dtype, device=device)
    if proj == "down_proj":
        rows = slice(None)
    else:
        half = shape[1] // 2
        rows = slice(0, half) if proj == "gate_proj" else slice(half, 2 * half)
    want = tuple(state[target][expert, rows].shape)
    _check_shape(match.string, tuple(tensor.shape), want)
    state[target][expert, rows] = tensor.to(device=device, dtype=dtype)
    # gate and up fill the two halves of one slot: count them as separate parts
    filled[target].add(expert if proj != "up_proj" else expert + shape[0])
    return True


def _missing_experts(key: str, got: set[int], count: int) -> list[int]:
    return [e for e in range(count) if e not in got or (_parts(key) == 2 and e + count not in got)]


def _parts(key: str) -> int:
    return 2 if key.endswith("gate_up_proj") else 1


def _target_dtype(key: str, tensor: torch.Tensor, dtype: torch.dtype) -> torch.dtype:
    if not tensor.is_floating_point():
        return tensor.dtype
    return torch.float32 if _KEEP_FLOAT32.search(key) else dtype


def _check_shape(key: str, got: tuple[int, ...], want: tuple[int, ...]) -> None:
    if got != want:
        raise ModelError(f"checkpoint tensor {key} has shape {list(got)}, but config.json implies {list(want)}")


def _mismatch_message(folder: Path, missing: list[str], unexpected: list[str], incomplete: list[str]) -> str:
    def listed(names: list[str]) -> str:
        more = f" and {len(names) - 8} more" if len(names) > 8 else ""
        return ", ".join(names[:8]) + more

    parts = [f"{folder} does not match its config.json (is it a Kimi-VL checkpoint, complete and unmodified?):"]
    if missing:
        parts.append(f"missing keys: {listed(missing)}")
    if incomplete:
        parts.append(f"incomplete expert weights: {listed(incomplete)}")
    if unexpected:
        parts.append(f"unexpected keys: {listed(unexpected)}")
    return " ".join(parts)
