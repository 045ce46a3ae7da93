"""MoonViT: Kimi-VL's native-resolution vision encoder, with packed variable-length attention.

All images of a request are encoded as ONE packed sequence of patches (raster order, image after image). Every
token-wise layer (patch embedding, norms, qkv, MLP) runs once over the whole pack; attention is block-diagonal
(each image attends only to itself) and never builds a mask over the packed sequence:

    flash   flash-attn's ``flash_attn_varlen_func`` on ``cu_seqlens`` (CUDA, bf16/fp16, flash-attn installed)
    sdpa    PyTorch SDPA once per run of consecutive same-size images (an agent's screenshots all share one
            size, so a 5-screenshot history is one batched call on a view of the pack); no mask at all
    dense   SDPA over the whole pack with a block-diagonal boolean mask: quadratic in the total patch count.
            Only for benchmarks and tests, as the reference the other two are measured against.

Packed results equal one-image-at-a-time results (tests check this exactly). Numerics: RoPE angles and the
rotation are computed in float32, LayerNorms run in float32, everything else in the weights' dtype.

Layout facts (weight names are the official checkpoint's, under ``vision_tower.``):
    patch_embed.proj          Conv2d(3, D, 14, stride 14) on (L, 3, 14, 14) patches
    patch_embed.pos_emb       learned (64, 64, D) table, resized per image by bicubic interpolation
                              (``F.interpolate``, align_corners False), added
    encoder.blocks.N          x + wo(attn(rope(wqkv(norm0(x))))); x + mlp(norm1(x)); mlp = fc0, tanh-GELU, fc1
    encoder.final_layernorm
2D RoPE: head dim split into complex pairs (2j, 2j+1); pair 2i rotates by column * f_i, pair 2i+1 by row * f_i,
f_i = theta^(-4i/head_dim). The 2x2 patch merger groups (top-left, top-right, bottom-left, bottom-right).
"""

from __future__ import annotations

import importlib.util
from dataclasses import dataclass
from typing import Literal, Sequence

import torch
import torch.nn.functional as F
from torch import nn

from guiagent.errors import ModelError
from guiagent.models.kimi_vl.configuration import MoonViTConfig

AttentionKind = Literal["auto", "flash", "sdpa", "dense"]
#: grids must stay under this many patches per side (the official encoder's RoPE table size)
MAX_GRID_SIDE = 512

Grid = tuple[int, int]


def flash_attn_available() -> bool:
    """True when the ``flash_attn`` package can be imported (it is optional and CUDA-only)."""
    return importlib.util.find_spec("flash_attn") is not None


def choose_attention(requested: AttentionKind, hidden: torch.Tensor) -> str:
    """The attention kernel for ``hidden``: "auto" picks flash on CUDA with bf16/fp16 when flash-attn is
    installed, else sdpa.

    Raises:
        ModelError: "flash" was asked for where it cannot run.
    """
    flash_ok = hidden.is_cuda and hidden.dtype in (torch.bfloat16, torch.float16) and flash_attn_available()
    if requested == "auto":
        return "flash" if flash_ok else "sdpa"
    if requested == "flash" and not flash_ok:
        raise ModelError("flash attention needs the flash-attn package, a CUDA device and bf16/fp16 weights; "
                         "use vision attention 'sdpa' instead")
    if requested not in ("flash", "sdpa", "dense"):
        raise ModelError(f"unknown vision attention {requested!r}; use auto, flash, sdpa or dense")
    return requested


# ---------------------------------------------------------------------- the packed layout


@dataclass(frozen=True)
class PackedLayout:
    """Where each image's patches sit in the packed sequence."""

    grids: tuple[Grid, ...]
    #: start offset of each image; the last entry is the total length
    offsets: tuple[int, ...]

    @classmethod
    def from_grids(cls, grids: Sequence[Sequence[int]]) -> "PackedLayout":
        clean = tuple((int(h), int(w)) for h, w in grids)
        offsets = [0]
        for h, w in clean:
            offsets.append(offsets[-1] + h * w)
        return cls(clean, tuple(offsets))

    @property
    def total(self) -> int:
        return self.offsets[-1]

    def cu_seqlens(self, device: torch.device) -> torch.Tensor:
        return torch.tensor(self.offsets, dtype=torch.int32, device=device)

    @property
    def max_seqlen(self) -> int:
        return max((h * w for h, w in self.grids), default=0)

    def same_length_runs(self) -> list[tuple[int, int, int]]:
        """(start, length, count) for each run of consecutive images with the same patch count: a run is a
        contiguous (count, length) slice of the pack, batched without copying."""
        runs: list[list[int]] = []
        for (h, w), start in zip(self.grids, self.offsets):
            if runs and runs[-1][1] == h * w:
                runs[-1][2] += 1
            else:
                runs.append([start, h * w, 1])
        return [tuple(run) for run in runs]


def check_grids(grids: Sequence[Grid], num_patches: int, merge: tuple[int, int]) -> None:
    """Raises ModelError when the grids do not describe ``num_patches`` patches the merger can take."""
    total = 0
    for h, w in grids:
        if h < 1 or w < 1 or h % merge[0] or w % merge[1]:
            raise ModelError(f"image grid {h}x{w} patches is not a positive multiple of the {merge[0]}x{merge[1]} "
                             f"merge window (was the image padded to a multiple of 28 pixels?)")
        if h >= MAX_GRID_SIDE or w >= MAX_GRID_SIDE:
            raise ModelError(f"image grid {h}x{w} patches reaches MoonViT's limit of {MAX_GRID_SIDE} per side")
        total += h * w
    if total != num_patches:
        raise ModelError(f"image_grid_hws describe {total} patches but pixel_values holds {num_patches}")


# ---------------------------------------------------------------------- attention kernels


def packed_attention(q: torch.Tensor, k: torch.Tensor, v: torch.Tensor, layout: PackedLayout,
                     kind: str) -> torch.Tensor:
    """Block-diagonal attention over a packed sequence. q, k, v: (L, heads, head_dim); returns the same shape."""
    if kind == "flash":
        return _flash_varlen(q, k, v, layout)
    if kind == "dense":
        return _dense_masked(q, k, v, layout)
    return _sdpa_blocks(q, k, v, layout)


def _flash_varlen(q, k, v, layout: PackedLayout) -> torch.Tensor:
    from flash_attn import flash_attn_varlen_func  # optional dependency, checked by choose_attention

    cu = layout.cu_seqlens(q.device)
    return flash_attn_varlen_func(q, k, v, cu, cu, layout.max_seqlen, layout.max_seqlen, causal=False)


def _sdpa_blocks(q, k, v, layout: PackedLayout) -> torch.Tensor:
    """SDPA once per run of consecutive same-length images, batched; no mask is ever built. An agent's
    screenshots share one size, so a whole history is one call (and the batch is a view of the pack)."""
    outputs = []
    for start, length, count in layout.same_length_runs():
        end = start + length * count
        batch = [t[start:end].view(count, length, *t.shape[1:]).transpose(1, 2) for t in (q, k, v)]
        result = F.scaled_dot_product_attention(*batch)  # (count, heads, length, head_dim)
        outputs.append(result.transpose(1, 2).reshape(length * count, *q.shape[1:]))
    return outputs[0] if len(outputs) == 1 else torch.cat(outputs)


def _dense_masked(q, k, v, layout: PackedLayout) -> torch.Tensor:
    """Reference only: one attention over the whole pack with an (L, L) block-diagonal mask."""
    image_of = torch.repeat_interleave(torch.arange(len(layout.grids), device=q.device),
                                       torch.tensor([h * w for h, w in layout.grids], device=q.device))
    mask = image_of[:, None] == image_of[None, :]
    # (1, heads, L, head_dim), contiguous: the layout SDPA's fused CPU/GPU kernels take with a mask
    q, k, v = (t.transpose(0, 1).unsqueeze(0).contiguous() for t in (q, k, v))
    out = F.scaled_dot_product_attention(q, k, v, attn_mask=mask)
    return out[0].transpose(0, 1)


# ---------------------------------------------------------------------- rotary embedding


def rope_angles(layout: PackedLayout, head_dim: int, theta: float, device: torch.device) -> tuple[torch.Tensor,
                                                                                                  torch.Tensor]:
    """(cos, sin), each (L, head_dim // 2) float32: pair 2i turns by column * f_i, pair 2i+1 by row * f_i."""
    quarter = head_dim // 4
    freqs = 1.0 / (theta ** (torch.arange(0, head_dim, 4, dtype=torch.float32, device=device)[:quarter] / head_dim))
    angles = []
    for h, w in layout.grids:
        rows = torch.arange(h, dtype=torch.float32, device=device).repeat_interleave(w)
        cols = torch.arange(w, dtype=torch.float32, device=device).repeat(h)
        per_axis = torch.stack([torch.outer(cols, freqs), torch.outer(rows, freqs)], dim=-1)  # (n, quarter, 2)
        angles.append(per_axis.reshape(h * w, 2 * quarter))
    table = torch.cat(angles)
    return table.cos(), table.sin()


def apply_rope(x: torch.Tensor, cos: torch.Tensor, sin: torch.Tensor) -> torch.Tensor:
    """Rotate the interleaved pairs (2j, 2j+1) of x (L, heads, head_dim), in float32."""
    pairs = x.float().unflatten(-1, (-1, 2))
    even, odd = pairs[..., 0], pairs[..., 1]
    cos, sin = cos[:, None, :], sin[:, None, :]
    rotated = torch.stack([even * cos - odd * sin, even * sin + odd * cos], dim=-1)
    return rotated.flatten(-2).to(x.dtype)


# ---------------------------------------------------------------------- modules


class Float32LayerNorm(nn.LayerNorm):
    """LayerNorm computed in float32 whatever the weights' dtype (identical to nn.LayerNorm in float32)."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if x.dtype == torch.float32 and self.weight.dtype == torch.float32:
            return super().forward(x)
        out = F.layer_norm(x.float(), self.normalized_shape, self.weight.float(), self.bias.float(), self.eps)
        return out.to(x.dtype)


class MoonViTPositionEmbedding(nn.Module):
    """The learned (H, W, D) position table, resized to each image's grid by bicubic interpolation."""

    def __init__(self, config: MoonViTConfig):
        super().__init__()
        self.weight = nn.Parameter(torch.empty(config.init_pos_emb_height, config.init_pos_emb_width,
                                               config.hidden_size))

    def forward(self, layout: PackedLayout) -> torch.Tensor:
        table = self.weight.float().permute(2, 0, 1).unsqueeze(0)  # (1, D, H, W)
        resized: dict[Grid, torch.Tensor] = {}
        parts = []
        for grid in layout.grids:
            if grid not in resized:
                grown = F.interpolate(table, size=grid, mode="bicubic", align_corners=False)
                resized[grid] = grown[0].flatten(1).transpose(0, 1)  # (h*w, D), raster order
            parts.append(resized[grid])
        return torch.cat(parts).to(self.weight.dtype)


class MoonViTPatchEmbed(nn.Module):
    def __init__(self, config: MoonViTConfig):
        super().__init__()
        self.proj = nn.Conv2d(3, config.hidden_size, kernel_size=config.patch_size, stride=config.patch_size)
        self.pos_emb = MoonViTPositionEmbedding(config)

    def forward(self, pixel_values: torch.Tensor, layout: PackedLayout) -> torch.Tensor:
        x = self.proj(pixel_values.to(self.proj.weight.dtype)).flatten(1)  # (L, D)
        return x + self.pos_emb(layout)


class MoonViTMLP(nn.Module):
    def __init__(self, config: MoonViTConfig):
        super().__init__()
        self.fc0 = nn.Linear(config.hidden_size, config.intermediate_size)
        self.fc1 = nn.Linear(config.intermediate_size, config.hidden_size)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.fc1(F.gelu(self.fc0(x), approximate="tanh"))


class MoonViTBlock(nn.Module):
    """Pre-norm block: fused qkv with bias, 2D RoPE, packed attention, tanh-GELU MLP."""

    def __init__(self, config: MoonViTConfig):
        super().__init__()
        self.num_heads = config.num_attention_heads
        self.head_dim = config.head_dim
        self.norm0 = Float32LayerNorm(config.hidden_size, eps=1e-5)
        self.norm1 = Float32LayerNorm(config.hidden_size, eps=1e-5)
        self.wqkv = nn.Linear(config.hidden_size, 3 * config.hidden_size)
        self.wo = nn.Linear(config.hidden_size, config.hidden_size)
        self.mlp = MoonViTMLP(config)

    def attention(self, x: torch.Tensor, rope: tuple[torch.Tensor, torch.Tensor], layout: PackedLayout,
                  kind: str) -> torch.Tensor:
        length = x.shape[0]
        q, k, v = self.wqkv(x).view(length, 3, self.num_heads, self.head_dim).unbind(1)
        q, k = apply_rope(q, *rope), apply_rope(k, *rope)
        out = packed_attention(q, k, v, layout, kind)
        return self.wo(out.reshape(length, -1))

    def forward(self, x: torch.Tensor, rope: tuple[torch.Tensor, torch.Tensor], layout: PackedLayout,
                kind: str) -> torch.Tensor:
        x = x + self.attention(self.norm0(x), rope, layout, kind)
        return x + self.mlp(self.norm1(x))


class MoonViTEncoder(nn.Module):
    def __init__(self, config: MoonViTConfig):
        super().__init__()
        self.blocks = nn.ModuleList(MoonViTBlock(config) for _ in range(config.num_hidden_layers))
        self.final_layernorm = Float32LayerNorm(config.hidden_size, eps=1e-5)

    def forward(self, x: torch.Tensor, rope, layout: PackedLayout, kind: str) -> torch.Tensor:
        for block in self.blocks:
            x = block(x, rope, layout, kind)
        return self.final_layernorm(x)


class MoonViT(nn.Module):
    """The vision tower. ``forward(pixel_values, grid_hws)`` -> merged patch groups (N, 4, D) of all images.

    ``attention`` picks the kernel ("auto", "flash", "sdpa", "dense"; see the module docstring).
    """

    def __init__(self, config: MoonViTConfig, attention: AttentionKind = "auto"):
        super().__init__()
        self.config = config
        self.attention = attention
        self.patch_embed = MoonViTPatchEmbed(config)
        self.encoder = MoonViTEncoder(config)

    def encode(self, pixel_values: torch.Tensor, grid_hws: Sequence[Sequence[int]] | torch.Tensor) -> torch.Tensor:
        """Per-patch hidden states (L, D) after the final norm, images packed in order."""
        grids = [tuple(int(v) for v in g) for g in (grid_hws.tolist() if torch.is_tensor(grid_hws) else grid_hws)]
        check_grids(grids, pixel_values.shape[0], tuple(self.config.merge_kernel_size))
        layout = PackedLayout.from_grids(grids)
        x = self.patch_embed(pixel_values, layout)
        kind = choose_attention(self.attention, x)
        rope = rope_angles(layout, self.config.head_dim, self.config.rope_theta, x.device)
        return self.encoder(x, rope, layout, kind)

    def forward(self, pixel_values: torch.Tensor, grid_hws) -> torch.Tensor:
        hidden = self.encode(pixel_values, grid_hws)
        grids = grid_hws.tolist() if torch.is_tensor(grid_hws) else grid_hws
        return merge_patches(hidden, PackedLayout.from_grids(grids), tuple(self.config.merge_kernel_size))


def merge_patches(hidden: torch.Tensor, layout: PackedLayout, kernel: tuple[int, int]) -> torch.Tensor:
    """Group each kh x kw window of every image: (L, D) -> (L / (kh*kw), kh*kw, D), windows in raster order,
    patches inside a window row by row (top-left, top-right, bottom-left, bottom-right for 2x2)."""
    kh, kw = kernel
    dim = hidden.shape[-1]
    parts = []
    for (h, w), start in zip(layout.grids, layout.offsets):
        image = hidden[start:start + h * w].view(h // kh, kh, w // kw, kw, dim)
        parts.append(image.permute(0, 2, 1, 3, 4).reshape(-1, kh * kw, dim))
    return torch.cat(parts)
