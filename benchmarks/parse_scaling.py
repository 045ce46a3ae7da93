"""Parse time against input length, for the long inputs shaped to make a parser super-linear.

    python benchmarks/parse_scaling.py [--n 25000]

For every shape in tests/grammar_shapes.py and every grammar: milliseconds to parse the shape at n and at 4 n
characters, and their ratio (about 4 for linear time, 16 for quadratic). tests/test_grammar_linear.py checks the
same ratios. Prints figures only.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))

from grammar_shapes import SHAPES, growth  # noqa: E402

from guiagent.actions.families import GRAMMARS, get_grammar  # noqa: E402


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--n", type=int, default=25_000, help="the smaller input size in characters")
    args = ap.parse_args()
    print(f"{'shape':<36}{'grammar':<14}{'ms @ n':>10}{'ms @ 4n':>10}{'ratio':>8}")
    worst = 0.0
    for name, shape in SHAPES.items():
        for family in GRAMMARS:
            small, large = growth(get_grammar(family).parse, shape, args.n)
            ratio = large / small if small > 0 else float("nan")
            if large > 0.1:
                worst = max(worst, ratio)
            print(f"{name:<36}{family:<14}{small * 1000:>10.2f}{large * 1000:>10.2f}{ratio:>8.1f}")
    print(f"worst ratio among inputs taking over 100 ms at 4n: {worst:.1f} (linear: ~4, quadratic: ~16; 0.0: none"
          " took that long)")


if __name__ == "__main__":
    main()
