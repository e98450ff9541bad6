"""CartPole-v1: mario_zoo's DQN vs SB3's DQN with SB3 rl-zoo's settings, 50k steps, 10 seeds.

Prints the markdown that ``mario-zoo compare`` writes, without its title: per algorithm the final 100-episode
greedy evaluation (mean +/- std over seeds), seeds solved (mean >= 475), median steps to 475, env steps/s and peak
memory, the speed ratio and the settings both used. About 20 minutes on 2 cores.

Usage:
    python benchmarks/compare_cartpole.py                          # 50k steps, seeds 0-9, 2 workers
    python benchmarks/compare_cartpole.py --steps 20000 --seeds 0-2 --out compare/cartpole
"""

from __future__ import annotations

import argparse
import tempfile

from mario_zoo.compare import compare, to_markdown


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--steps", type=int, default=50_000, help="env steps per run (default 50000)")
    parser.add_argument("--seeds", default="0-9", help="seeds, e.g. 0-9 or 0,3,5 (default 0-9)")
    parser.add_argument("--workers", type=int, default=2, help="runs trained at once (default 2)")
    parser.add_argument("--out", help="keep the table, plot and JSON here (default: a temporary folder)")
    args = parser.parse_args()
    out = args.out or tempfile.mkdtemp(prefix="compare_cartpole_")
    result = compare("CartPole-v1", steps=args.steps, seeds=args.seeds, workers=args.workers, out=out, progress=False)
    # run_all.py titles the section; the table and its "## Matched settings" go under it.
    print(to_markdown(result, title=False))


if __name__ == "__main__":
    main()
