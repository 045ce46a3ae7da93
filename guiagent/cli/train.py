"""``guiagent train RUNS_OR_EXPORT... --model hf:PATH -o OUT``: fine-tune a local checkpoint on recorded runs."""

from __future__ import annotations

import argparse
import sys
import textwrap
from pathlib import Path
from typing import Any

from guiagent.cli import summary
from guiagent.errors import GuiAgentError

EPILOG = """\
examples:
  guiagent train runs/ --model hf:UI-TARS-1.5-7B -o ui-tars-ft                # LoRA, merged into the output
  guiagent train data.jsonl --model hf:ckpt --method full --lr 1e-5 -o ft     # full fine-tuning on an export
  guiagent train runs/ --model hf:ckpt -o ft --resume                         # continue after a stop
  torchrun --nproc_per_node 8 -m guiagent train runs/ --model hf:ckpt -o ft   # 8 GPUs (DDP), same flags
then:
  guiagent run --env mock --task rename-file --model hf:ft --config ft/guiagent.json
"""


def register(subparsers: Any) -> None:
    """Add the ``train`` sub-command to ``subparsers`` (the parser of the ``guiagent`` command)."""
    p = subparsers.add_parser(
        "train", help=summary("train"),
        description=textwrap.fill("Supervised fine-tuning on recorded runs or `guiagent export` files. Each step of a run becomes "
                    "one example laid out exactly as the agent sends it (the family's system prompt, prompt, "
                    "history window and image budget); the loss covers the answer's tokens only. Successful runs "
                    "only, unless --include-failed. The output folder loads with --model hf:OUT; it also holds "
                    "loss.jsonl, loss.png, training.json and guiagent.json (pass it with --config to run with the "
                    "training's image budget). Under torchrun it trains data-parallel (DDP).", 100,
                                  break_on_hyphens=False),
        epilog=EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("data", nargs="+", metavar="RUNS_OR_EXPORT",
                   help="run folders, folders holding run folders, or .jsonl files from `guiagent export`")
    p.add_argument("--model", required=True, metavar="hf:PATH", help="the checkpoint folder to start from")
    p.add_argument("-o", "--output", required=True, metavar="OUT", help="folder to write (must be new or empty, "
                                                                        "unless --resume)")
    prof = p.add_argument_group("profile (what the model is shown; use the same when running it)")
    prof.add_argument("--family", metavar="FAMILY", help="model family profile (default: guessed from the "
                                                         "checkpoint name, else the family the runs were recorded with)")
    prof.add_argument("--config", metavar="FILE", help="TOML or JSON file of profile overrides")
    prof.add_argument("--max-images", type=int, help="screenshots per request, the current one included")
    prof.add_argument("--min-pixels", type=int, help="image budget: least pixels per image")
    prof.add_argument("--max-pixels", type=int, help="image budget: most pixels per image")
    prof.add_argument("--language", help="language of the thoughts (prompt {language})")

    data = p.add_argument_group("data")
    data.add_argument("--include-failed", action="store_true", help="also train on runs whose task failed")
    data.add_argument("--raw", action="store_true", help="answers as the model wrote them (default: the canonical "
                                                         "format of the parsed actions)")

    method = p.add_argument_group("what to train")
    method.add_argument("--method", choices=("lora", "full"), default="lora",
                        help="LoRA adapters on the language model's projections, or every language-model "
                             "weight (default lora)")
    method.add_argument("--lora-rank", type=int, default=16, help="LoRA rank (default 16)")
    method.add_argument("--lora-alpha", type=int, default=32, help="LoRA alpha (default 32)")
    method.add_argument("--lora-dropout", type=float, default=0.05, help="LoRA dropout (default 0.05)")
    method.add_argument("--train-projector", action="store_true",
                        help="also train the vision-to-language projector (vision tower stays frozen)")
    method.add_argument("--train-vision", action="store_true", help="also train the vision tower and projector")
    method.add_argument("--save-adapter", action="store_true",
                        help="LoRA: write the adapters alone (hf:OUT applies them to the base checkpoint at load) "
                             "instead of the merged model")

    opt = p.add_argument_group("optimisation")
    opt.add_argument("--epochs", type=int, default=3, help="passes over the data (default 3)")
    opt.add_argument("--max-steps", type=int, help="stop after this many optimizer steps (overrides --epochs)")
    opt.add_argument("--grad-accum", type=int, default=1,
                     help="examples per optimizer step and process (default 1)")
    opt.add_argument("--lr", type=float, help="peak learning rate (default 2e-4 for LoRA, 1e-5 for full)")
    opt.add_argument("--weight-decay", type=float, default=0.01,
                     help="AdamW decoupled weight decay on weight matrices (never on norms, biases, embeddings; "
                          "default 0.01)")
    opt.add_argument("--warmup-ratio", type=float, default=0.03, help="linear warmup share of the steps "
                                                                      "(default 0.03)")
    opt.add_argument("--min-lr-ratio", type=float, default=0.1, help="cosine schedule floor, as a share of the "
                                                                     "peak (default 0.1)")
    opt.add_argument("--max-grad-norm", type=float, default=1.0, help="gradient clipping norm (0: off; default 1)")
    opt.add_argument("--precision", choices=("auto", "fp32", "bf16", "fp16"), default="auto",
                     help="auto: bf16 autocast with float32 master weights on GPU (fp16 + loss scaling where bf16 "
                          "is missing), float32 on CPU")
    opt.add_argument("--gradient-checkpointing", action="store_true",
                     help="recompute activations in the backward pass (less memory, ~30%% slower)")
    opt.add_argument("--seed", type=int, default=0, help="data order and dropout seed (default 0)")
    opt.add_argument("--device", help="torch device (default: cuda:LOCAL_RANK if available, else cpu)")

    ck = p.add_argument_group("checkpoints")
    ck.add_argument("--save-every", type=int, default=50, help="resumable checkpoint every N steps (0: only when "
                                                               "interrupted; default 50)")
    ck.add_argument("--keep-checkpoints", type=int, default=1, help="how many checkpoints to keep (default 1)")
    ck.add_argument("--resume", action="store_true", help="continue from the newest checkpoint in OUT")
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    p.set_defaults(func=main)


def main(args: argparse.Namespace) -> int:
    """Run ``guiagent train`` with parsed arguments.

    Returns:
        The exit status: 0 trained, 2 bad input or out of memory (one line on stderr), 130 interrupted (the last
        checkpoint is named, to continue with ``--resume``).
    """
    try:
        return _train(args)
    except KeyboardInterrupt:
        from guiagent.agent.train.checkpoint import checkpoint_dirs

        saved = checkpoint_dirs(Path(args.output))
        print(f"interrupted; checkpoint {saved[-1][1]} holds step {saved[-1][0]}: continue with the same command "
              f"and --resume" if saved else "interrupted before the first step completed; nothing was saved",
              file=sys.stderr)
        return 130
    except (GuiAgentError, FloatingPointError, OSError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except RuntimeError as exc:
        if type(exc).__name__ != "OutOfMemoryError" and "out of memory" not in str(exc).lower():
            raise
        print(f"error: out of memory ({str(exc).splitlines()[0]}); try --method lora, --gradient-checkpointing, a "
              f"smaller image budget (--max-pixels, --max-images) or more processes", file=sys.stderr)
        return 2


def _train(args: argparse.Namespace) -> int:
    from guiagent.errors import ConfigError

    spec = args.model
    if not spec.startswith("hf:") or not spec[3:]:
        raise ConfigError(f"--model must be hf:PATH (a local checkpoint folder), got {spec!r}")
    path = Path(spec[3:]).expanduser()
    if not path.is_dir():
        raise ConfigError(f"{path} is not a folder; give the checkpoint folder (the one holding config.json)")
    try:
        import peft  # noqa: F401
        import torch  # noqa: F401
        import transformers  # noqa: F401
    except ImportError as exc:
        raise ConfigError(f"training needs torch, transformers and peft ({exc.name} is missing): "
                          f"pip install 'guiagent[train]'") from exc
    from guiagent.agent.train import TrainConfig, train
    from guiagent.agent.train.data import find_sources
    from guiagent.agent.train.trainer import dist_from_env
    from guiagent.models.config import resolve_profile

    overrides = {k: getattr(args, k) for k in ("max_images", "min_pixels", "max_pixels", "language")
                 if getattr(args, k) is not None}
    profile, guessed = resolve_profile(args.family, name_hint=str(path.resolve()), config=args.config,
                                       overrides=overrides, default=_recorded_family(find_sources(args.data)))
    if args.save_adapter and args.method != "lora":
        raise ConfigError("--save-adapter needs --method lora")
    config = TrainConfig(
        method=args.method, lora_rank=args.lora_rank, lora_alpha=args.lora_alpha, lora_dropout=args.lora_dropout,
        train_projector=args.train_projector, train_vision=args.train_vision, epochs=args.epochs,
        max_steps=args.max_steps, grad_accum=args.grad_accum, lr=args.lr, weight_decay=args.weight_decay,
        warmup_ratio=args.warmup_ratio, min_lr_ratio=args.min_lr_ratio, max_grad_norm=args.max_grad_norm,
        precision=args.precision, gradient_checkpointing=args.gradient_checkpointing, save_every=args.save_every,
        keep_checkpoints=args.keep_checkpoints, seed=args.seed, merge_lora=not args.save_adapter,
        include_failed=args.include_failed, raw=args.raw)
    main_rank = dist_from_env().main
    if main_rank:
        print(f"family {profile.name}" + (" (auto-detected)" if guessed else ""), file=sys.stderr)
    result = train(args.data, path, profile, args.output, config, resume=args.resume, device=args.device,
                   progress=not args.quiet)
    if main_rank:
        data = result.data
        skipped = f"; {len(data.skipped)} left out (e.g. {data.skipped[0]})" if data and data.skipped else ""
        print(f"trained {result.steps} steps on {data.examples if data else '?'} examples{skipped}; "
              f"final loss {result.losses[-1]:.4f}" if result.losses else f"nothing left to train{skipped}",
              file=sys.stderr)
        print(f"model written to {args.output}; run it with: guiagent run --model hf:{args.output} "
              f"--config {Path(args.output) / 'guiagent.json'}", file=sys.stderr)
    return 0


def _recorded_family(sources: list[Path]) -> str | None:
    """The family the first run (or export line) was recorded with, if it says."""
    from guiagent._jsonio import loads, open_checked, read_text
    from guiagent.agent.train.data import EXPORT_LIMIT
    from guiagent.agent.trajectory import META_FILE, META_LIMIT

    for source in sources:
        try:
            if source.is_dir():
                family = loads(read_text(source / META_FILE, limit=META_LIMIT, inside=source)).get("family")
            else:
                with open_checked(source, limit=EXPORT_LIMIT) as f:
                    family = (loads(f.readline(META_LIMIT)).get("meta") or {}).get("family")
        except (OSError, ValueError, AttributeError):  # the data loader names what is wrong
            continue
        if isinstance(family, str) and family:
            return family
    return None
