"""GPU check of native Kimi-VL, for a machine with a CUDA device (no test can run it on CI's CPU machines).

Loads a tiny random checkpoint with sharp weights (0.2-scale linears: attention far from uniform) on the CPU in
float32 and on the GPU in bfloat16 (float32 RoPE and norms), encodes five screenshot-shaped images in one packed
sequence, and compares the projector outputs of each attention kernel the GPU offers (SDPA per same-size run;
flash-attention's varlen kernel when ``flash_attn`` is installed) with the float32 CPU result, to bf16 precision.

    python benchmarks/kimi_vl_cuda_check.py        # exit 0: every kernel agrees; 1: a mismatch; 2: no CUDA device
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

import torch

from guiagent.models.kimi_vl import KimiVLForConditionalGeneration
from guiagent.models.kimi_vl.moonvit import flash_attn_available
from guiagent.models.kimi_vl.testing import write_tiny_checkpoint

SCREEN_GRIDS = [(18, 32), (18, 32), (20, 32), (24, 32), (32, 18)]
TOLERANCE = 0.05  # of the largest output magnitude: bf16 keeps about 3 significant digits per operation


def main() -> int:
    if not torch.cuda.is_available():
        print("no CUDA device: run this on a GPU machine", file=sys.stderr)
        return 2
    with tempfile.TemporaryDirectory() as tmp:
        folder = write_tiny_checkpoint(Path(tmp) / "sharp", seed=1, scale=0.2, pos_scale=1.0)
        cpu = KimiVLForConditionalGeneration.from_pretrained(folder)
        gpu = KimiVLForConditionalGeneration.from_pretrained(folder, device="cuda")
    print(f"GPU weights dtype: {gpu.dtype}")
    pixels = torch.randn(sum(h * w for h, w in SCREEN_GRIDS), 3, 14, 14, generator=torch.Generator().manual_seed(6))
    failed = gpu.dtype != torch.bfloat16
    with torch.no_grad():
        reference = cpu.get_image_features(pixels, SCREEN_GRIDS)
        scale = reference.abs().max().item()
        for kind in ["sdpa"] + (["flash"] if flash_attn_available() else []):
            gpu.vision_tower.attention = kind
            out = gpu.get_image_features(pixels.cuda().bfloat16(), SCREEN_GRIDS).float().cpu()
            error = (out - reference).abs().max().item() / scale
            ok = error < TOLERANCE
            failed |= not ok
            print(f"{kind:6s} max |gpu bf16 - cpu fp32| / max |cpu| = {error:.4f}  {'ok' if ok else 'MISMATCH'}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
