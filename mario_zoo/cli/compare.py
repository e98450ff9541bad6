"""``mario-zoo compare``: our DQN against SB3's, matched settings, same seeds (the work is :mod:`mario_zoo.compare`)."""

from __future__ import annotations

import argparse

from mario_zoo.cli.common import bad_input, parse_assignments, positive

COMPARE_EPILOG = """examples:
  mario-zoo compare                                            CartPole-v1, 50k steps, seeds 0-9
  mario-zoo compare --env CartPole-v1 --steps 2e4 --seeds 0,3,5 --workers 2 --out compare/cartpole
  mario-zoo compare --env MarioDQN-v0 --steps 2e4 --seeds 0-1 --hp learning_starts=5000 target_update_interval=1000

Trains mario_zoo's DQN and SB3's DQN with the same settings (the cartpole-rlzoo preset for CartPole-v1, the mario
preset for MarioDQN levels; what SB3 cannot do, such as double or dueling DQN, is off in both and listed), on the
same seeds, one process per run, and evaluates both alike. Each run's steady return (the mean of its last K
periodic evaluations) and share of evaluations at the threshold get 95% bootstrap intervals per library, and a
permutation test says whether the libraries differ (p < 0.05) or not. The out folder gets compare.md (results,
tests and the settings mapping), learning_curves.png (mean +/- std over seeds), compare.json (every number) and
runs/. For a claim, use >= 20 seeds per library: mario-zoo compare --seeds 0-19 --workers 8
"""


def add_parser(verbs: argparse._SubParsersAction) -> None:
    compare = verbs.add_parser(
        "compare",
        help="train our DQN and SB3's with matched settings on the same seeds, and compare them",
        description="Compare mario_zoo's DQN with Stable-Baselines3's: same settings, seeds, budget and evaluation.",
        epilog=COMPARE_EPILOG,
    )
    compare.add_argument("--env", default="CartPole-v1", help="CartPole-v1 (default) or a MarioDQN ID")
    compare.add_argument("--steps", type=positive, help="env steps per run (default: CartPole 50,000, Mario 20,000)")
    compare.add_argument("--seeds", help="seeds: a range 0-9, a list 0,3,5, or both (default: CartPole 0-9, Mario 0-1)")
    compare.add_argument("--workers", type=int, help="runs trained at once, one process each (default: the cores)")
    compare.add_argument("--out", metavar="DIR", help="output folder (default compare/<env>_<YYYYmmdd-HHMMSS>)")
    compare.add_argument(
        "--hp", nargs="+", action="extend", metavar="KEY=VALUE", help="change a matched setting, for both algorithms"
    )
    compare.add_argument(
        "--env-kwargs", nargs="+", action="extend", metavar="KEY=VALUE", help="gym.make keyword arguments"
    )
    compare.add_argument("--eval-freq", type=positive, metavar="N", help="evaluate every N env steps (default 5,000)")
    compare.add_argument(
        "--eval-episodes",
        type=positive,
        metavar="N",
        help="episodes per periodic evaluation (default: CartPole 10, Mario 3)",
    )
    compare.add_argument(
        "--final-episodes",
        type=positive,
        metavar="N",
        help="episodes of the final evaluation (default: CartPole 100, Mario 10)",
    )
    compare.add_argument(
        "--steady-last",
        type=positive,
        default=5,
        metavar="K",
        help="a run's steady return is the mean of its last K periodic evaluations (default 5)",
    )
    compare.add_argument(
        "--progress", action=argparse.BooleanOptionalAction, default=True, help="a progress bar per run (default on)"
    )
    compare.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    from mario_zoo.compare import plan_compare, run_compare

    with bad_input():
        plan = plan_compare(
            args.env,
            steps=args.steps,
            seeds=args.seeds,
            workers=args.workers,
            out=args.out,
            overrides=parse_assignments(args.hp or [], "--hp"),
            env_kwargs=parse_assignments(args.env_kwargs or [], "--env-kwargs"),
            eval_freq=args.eval_freq,
            eval_episodes=args.eval_episodes,
            final_episodes=args.final_episodes,
            steady_last=args.steady_last,
            progress=args.progress,
            command=["mario-zoo", *args.argv],
        )
    runs = len(plan.seeds) * 2
    print(
        f"Comparing mario_zoo DQN and SB3 DQN on {plan.settings.env_id} (preset {plan.settings.preset}): "
        f"{runs} runs of {plan.steps:,} steps, {plan.workers} at a time. Output: {plan.out}"
    )
    result = run_compare(plan)
    print(result.table.read_text(encoding="utf-8"))
    print(f"Wrote {result.table}, {result.raw}" + (f", {result.plot}" if result.plot is not None else ""))
    return 0
