"""MarioDQN-v0 (World 1-1): mario_zoo's DQN vs SB3's DQN at a short budget, 2 seeds.

Both train with the ``mario`` preset's settings that SB3 can match (Nature CNN, Adam with eps 1.5e-4, batch 32,
3-step returns, train_freq 4, ...; double/dueling/prioritized DQN off in both). The preset is tuned for 5M steps,
so for a 20k-step budget learning starts at 5,000 steps, epsilon decays over the first half and the target net
is synced every 1,000 steps (``--hp``, applied to both). Reports the final greedy evaluation (10 episodes with
0..30 random no-op starts): return, mean and max ``x_pos``, flag rate; env steps/s and peak memory.
About 15-25 minutes on 2 cores.

Usage:
    python benchmarks/compare_mario.py                              # 20k steps, seeds 0-1, 2 workers
    python benchmarks/compare_mario.py --steps 50000 --out compare/mario
"""

from __future__ import annotations

import argparse
import tempfile

from mario_zoo.compare import compare, to_markdown

SHORT_BUDGET = {"learning_starts": 5_000, "exploration_fraction": 0.5, "target_update_interval": 1_000}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--steps", type=int, default=20_000, help="env steps per run (default 20000)")
    parser.add_argument("--seeds", default="0-1", help="seeds, e.g. 0-1 or 0,3 (default 0-1)")
    parser.add_argument("--workers", type=int, default=2, help="runs trained at once (default 2)")
    parser.add_argument("--out", help="keep the table, plot and JSON here (default: a temporary folder)")
    args = parser.parse_args()
    out = args.out or tempfile.mkdtemp(prefix="compare_mario_")
    result = compare(
        "MarioDQN-v0",
        steps=args.steps,
        seeds=args.seeds,
        workers=args.workers,
        out=out,
        overrides=SHORT_BUDGET,
        progress=False,
    )
    # run_all.py titles the section; the table and its "## Matched settings" go under it.
    print(to_markdown(result, title=False))


if __name__ == "__main__":
    main()
