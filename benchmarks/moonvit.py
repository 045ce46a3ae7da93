"""MoonViT at its real size (random weights): time and peak memory of packed vs per-image vs dense-mask attention.

    OMP_NUM_THREADS=2 PYTHONPATH=. python benchmarks/moonvit.py [--layers 1] [--repeats 1] [--device cpu]
    PYTHONPATH=. python benchmarks/moonvit.py --device cuda --layers 27        # bf16, flash-attn when installed

Cases: one 1920x1080 screenshot and a 5-screenshot history (what the agent sends: 5 x 1920x1080), each through
the official processor (1204x672 padded -> 48x86 = 4128 patches per screenshot).

    packed     all images in ONE sequence, block-diagonal attention without a mask: flash-attn varlen on CUDA
               bf16/fp16 when installed, else SDPA per block of same-size images (guiagent's default)
    per-image  one tower call per image (what a naive loop does)
    dense      one sequence with an (L, L) block-diagonal boolean mask (quadratic in the total patch count)

The tower has 27 identical blocks. On a small CPU the full tower takes minutes per mode, so ``--layers N`` runs N
of them and the table also shows the time scaled to 27 layers (blocks run one after another, so time scales with
depth and peak activation memory does not). Each case runs in a fresh subprocess; peak memory is the rise of
the resident set during the forward pass (Linux VmHWM after resetting it through /proc/self/clear_refs) on CPU,
and ``torch.cuda.max_memory_allocated`` above the weights on CUDA. Prints figures only.
"""

from __future__ import annotations

import argparse
import json
import re
import subprocess
import sys
import time
from pathlib import Path

REAL_LAYERS = 27
MODES = ("packed", "per-image", "dense")
CASES = {"1 screenshot": 1, "5 screenshots": 5}


# ---------------------------------------------------------------------- child: one measurement


def _status_mb(key: str) -> float:
    text = Path("/proc/self/status").read_text()
    return int(re.search(rf"{key}:\s+(\d+)", text).group(1)) / 1024


def _screenshot_patches(count: int):
    import numpy as np
    from PIL import Image

    from guiagent.models.kimi_vl.image_processing import KimiVLImageProcessor

    proc = KimiVLImageProcessor(in_token_limit=4096, pad_input=True, image_mean=(0.5,) * 3, image_std=(0.5,) * 3)
    rng = np.random.default_rng(0)
    shots = [Image.fromarray(rng.integers(0, 256, (1080, 1920, 3), dtype=np.uint8)) for _ in range(count)]
    batch = proc(shots)
    return batch["pixel_values"], batch["image_grid_hws"]


def _tower(layers: int, device: str, dtype):
    import torch

    from guiagent.models.kimi_vl.configuration import MoonViTConfig
    from guiagent.models.kimi_vl.moonvit import MoonViT

    torch.manual_seed(0)
    tower = MoonViT(MoonViTConfig(num_hidden_layers=layers))  # the released sizes: 1152 wide, 16 heads, 4304 MLP
    with torch.no_grad():
        for p in tower.parameters():
            p.normal_(0.0, 0.02)
    return tower.to(device=device, dtype=dtype).eval()


def measure(mode: str, images: int, layers: int, repeats: int, device: str) -> dict:
    import torch

    dtype = torch.bfloat16 if device.startswith("cuda") else torch.float32
    tower = _tower(layers, device, dtype)
    pixels, grids = _screenshot_patches(images)
    pixels = pixels.to(device=device, dtype=dtype)
    tower.attention = "dense" if mode == "dense" else "auto"

    def run():
        if mode != "per-image":
            return tower(pixels, grids)
        out, start = [], 0
        for h, w in grids.tolist():
            out.append(tower(pixels[start:start + h * w], [(h, w)]))
            start += h * w
        return torch.cat(out)

    times, peak = [], 0.0
    with torch.inference_mode():
        for _ in range(repeats):
            if device.startswith("cuda"):
                torch.cuda.synchronize()
                torch.cuda.reset_peak_memory_stats()
                base = torch.cuda.memory_allocated() / 2**20
            else:
                Path("/proc/self/clear_refs").write_text("5")  # reset the resident-set high-water mark
                base = _status_mb("VmRSS")
            start = time.perf_counter()
            result = run()
            if device.startswith("cuda"):
                torch.cuda.synchronize()
                peak = max(peak, torch.cuda.max_memory_allocated() / 2**20 - base)
            else:
                peak = max(peak, _status_mb("VmHWM") - base)
            times.append(time.perf_counter() - start)
            del result
    from guiagent.models.kimi_vl.moonvit import choose_attention

    kernel = "dense" if mode == "dense" else choose_attention("auto", pixels)
    return {"mode": mode, "images": images, "patches": int(pixels.shape[0]), "layers": layers,
            "time_s": min(times), "peak_mb": peak, "kernel": kernel, "dtype": str(dtype).replace("torch.", ""),
            "threads": torch.get_num_threads()}


# ---------------------------------------------------------------------- parent: the table


def run_case(mode: str, images: int, args) -> dict:
    cmd = [sys.executable, __file__, "--child", mode, str(images), "--layers", str(args.layers),
           "--repeats", str(args.repeats), "--device", args.device]
    done = subprocess.run(cmd, capture_output=True, text=True, timeout=args.timeout)
    if done.returncode != 0:
        tail = (done.stderr or done.stdout).strip().splitlines()[-1:] or ["(no output)"]
        return {"mode": mode, "images": images, "error": f"exit {done.returncode}: {tail[0]}"}
    return json.loads(done.stdout.strip().splitlines()[-1])


def print_table(rows: list[dict], layers: int) -> None:
    print(f"{'case':<14} {'mode':<10} {'patches':>7} {'kernel':<6} {'time ' + str(layers) + 'L s':>9} "
          f"{'~27L s':>8} {'peak MB':>8} {'time/packed':>11} {'mem/packed':>10}")
    for case, images in CASES.items():
        packed = next((r for r in rows if r["images"] == images and r["mode"] == "packed" and "error" not in r),
                      None)
        for r in (r for r in rows if r["images"] == images):
            if "error" in r:
                print(f"{case:<14} {r['mode']:<10} {r['error']}")
                continue
            scaled = r["time_s"] * REAL_LAYERS / r["layers"]
            t_ratio = f"{r['time_s'] / packed['time_s']:.2f}x" if packed else "-"
            m_ratio = f"{r['peak_mb'] / packed['peak_mb']:.2f}x" if packed and packed["peak_mb"] > 0 else "-"
            print(f"{case:<14} {r['mode']:<10} {r['patches']:>7} {r['kernel']:<6} {r['time_s']:>9.2f} "
                  f"{scaled:>8.1f} {r['peak_mb']:>8.0f} {t_ratio:>11} {m_ratio:>10}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--layers", type=int, default=1, help="blocks to run (real tower: 27; default 1)")
    parser.add_argument("--repeats", type=int, default=1, help="runs per case, the fastest counts (default 1)")
    parser.add_argument("--device", default="cpu", help="cpu or cuda (bf16 and flash-attn when installed)")
    parser.add_argument("--modes", default=",".join(MODES), help="comma-separated subset of " + ", ".join(MODES))
    parser.add_argument("--timeout", type=float, default=900, help="seconds per case before it is given up")
    parser.add_argument("--json", type=Path, help="also write the rows to this file")
    parser.add_argument("--child", nargs=2, metavar=("MODE", "IMAGES"), help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.layers < 1 or args.repeats < 1:
        parser.error("--layers and --repeats must be at least 1")
    if args.child:
        print(json.dumps(measure(args.child[0], int(args.child[1]), args.layers, args.repeats, args.device)))
        return 0
    modes = [m for m in args.modes.split(",") if m]
    unknown = set(modes) - set(MODES)
    if unknown:
        parser.error(f"unknown mode(s) {sorted(unknown)}; choose from {', '.join(MODES)}")
    rows = []
    for images in CASES.values():
        for mode in modes:
            rows.append(run_case(mode, images, args))
            print(f"  done: {mode} x{images}", file=sys.stderr, flush=True)
    print_table(rows, args.layers)
    if args.json:
        args.json.write_text(json.dumps(rows, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
