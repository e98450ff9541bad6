"""``mario-zoo sweep``: tune a preset with Optuna, or run it over a seed matrix (the work is :mod:`mario_zoo.sweep`)."""

from __future__ import annotations

import argparse

from mario_zoo.cli.common import bad_input, count, init_weights, positive

SWEEP_EPILOG = """examples:
  mario-zoo sweep --preset cartpole-fast --trials 30 --steps 2e4 --workers 2
  mario-zoo train --preset sweeps/cartpole-fast-sweep/best.yml             train with the best settings found
  mario-zoo sweep --preset sweeps/cartpole-fast-sweep/best.yml --seeds 0-9 --steps 2e4 --workers 2
  mario-zoo sweep --preset mario --trials 20 --steps 2e5 --storage postgresql://user:pw@db-host/sweeps
  mario-zoo sweep --preset mario-1-1 --sampler grid --space grid.yml --trials 4 --init-from dqn-MarioDQN-1-1-v0-base
  mario-zoo sweep --preset mario-1-1 --sampler grid --space grid.yml --trials 4 --init-from dqn-MarioDQN-1-1-v0 --steps 5e4 --objective flag_rate --nature-episodes 30

Search spaces are YAML (mario_zoo/hyperparams/dqn_space.yml, one per preset family; --space FILE replaces it).
Each trial trains the preset with sampled settings for --steps env steps, evaluates it greedily every --eval-freq
steps (mario_zoo.evaluation, the protocol of `mario-zoo evaluate`: Mario's exact no-op sweep) and scores the mean
of the last 3 evaluations' --objective (the return; for Mario also the flag rate or the mean furthest x); with
--nature-episodes N each finished trial is also played under the Nature protocol, in trials.csv and the summary. The
median pruner stops trials below the median of earlier ones. --trials N is the study's total: rerunning the
command continues the study (same --study-name and --storage). Many machines: run the same command, with one
--storage postgresql://... (or mysql://...) URL, on each. A worker killed mid-trial is noticed after 3 heartbeats
and its trial retried. --seeds 0-9 runs the preset once per seed instead (no search) and reports the mean, a 95%
bootstrap interval and each seed's value. The --out folder gets best.yml, trials.csv, optimization_history.png,
param_importances.png, summary.md (also printed) and study.db (the default storage).
"""


def add_parser(verbs: argparse._SubParsersAction) -> None:
    sweep = verbs.add_parser(
        "sweep",
        help="tune a preset's hyperparameters with Optuna (many workers, many machines), or run it over many seeds",
        description="Search hyperparameters with Optuna (TPE, median pruning, a shared study), or run a seed matrix.",
        epilog=SWEEP_EPILOG,
    )
    sweep.add_argument("--preset", required=True, help="dqn.yml preset name, or a preset .yml file (e.g. best.yml)")
    sweep.add_argument("--trials", type=positive, help="finished trials the study is to have (its total)")
    sweep.add_argument("--seeds", help="a seed matrix instead of a search: 0-9, 0,3,5 or both")
    sweep.add_argument("--steps", type=positive, help="env steps per trial (default: the preset's n_timesteps)")
    sweep.add_argument("--workers", type=positive, default=1, help="worker processes on this machine (default 1)")
    sweep.add_argument("--storage", metavar="URL", help="Optuna storage URL (default sqlite:///<out>/study.db)")
    sweep.add_argument("--study-name", help="study name (default <preset>-sweep, or <preset>-seeds with --seeds)")
    sweep.add_argument("--out", metavar="DIR", help="output folder (default sweeps/<study name>)")
    sweep.add_argument(
        "--sampler",
        choices=("tpe", "random", "grid"),
        default="tpe",
        help="Optuna sampler (default tpe; grid: every combination of categorical choices once)",
    )
    sweep.add_argument("--pruner", choices=("median", "none"), default="median", help="Optuna pruner (default median)")
    sweep.add_argument("--eval-freq", type=positive, metavar="N", help="evaluate every N env steps (default steps/10)")
    sweep.add_argument(
        "--eval-episodes", type=positive, default=5, metavar="N", help="greedy episodes per evaluation (default 5)"
    )
    sweep.add_argument(
        "--objective",
        default="mean_reward",
        metavar="NAME",
        help="the evaluation statistic scored: mean_reward (default), or for Mario flag_rate or x_pos_mean",
    )
    sweep.add_argument(
        "--nature-episodes",
        type=count,
        default=0,
        metavar="N",
        help="also play each finished trial's agent for N Nature-protocol episodes (epsilon 0.05) and report them",
    )
    sweep.add_argument("--seed", type=count, default=0, help="seed of every search trial and the sampler (default 0)")
    sweep.add_argument(
        "--space", metavar="FILE", help="search space YAML replacing mario_zoo/hyperparams/dqn_space.yml"
    )
    sweep.add_argument(
        "--init-from",
        metavar="AGENT",
        help="every trial's network starts from this agent's weights (zoo name, run folder, checkpoint, hub:...)",
    )
    sweep.add_argument(
        "--heartbeat", type=positive, default=20, metavar="S", help="seconds between trial heartbeats (default 20)"
    )
    sweep.add_argument(
        "--progress", action=argparse.BooleanOptionalAction, default=True, help="show the progress bar (default on)"
    )
    sweep.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    from mario_zoo.sweep import plan_sweep, run_sweep

    with bad_input():
        if args.trials is None and args.seeds is None:
            raise ValueError("Pass --trials N (a search) or --seeds 0-9 (a seed matrix of the preset).")
        if args.seeds is not None and (args.trials is not None or args.space is not None):
            raise ValueError("--seeds runs the preset as it is: drop --trials and --space, or drop --seeds to search.")
        plan = plan_sweep(
            args.preset,
            trials=args.trials,
            seeds=args.seeds,
            steps=args.steps,
            workers=args.workers,
            storage=args.storage,
            study_name=args.study_name,
            out=args.out,
            sampler=args.sampler,
            pruner=args.pruner,
            eval_freq=args.eval_freq,
            eval_episodes=args.eval_episodes,
            seed=args.seed,
            space=args.space,
            heartbeat=args.heartbeat,
            progress=args.progress,
            command=["mario-zoo", *args.argv],
            init_from=args.init_from,
            init_weights=init_weights(args.init_from),
            objective=args.objective,
            nature_episodes=args.nature_episodes,
        )
    what = f"{len(plan.seeds)} seeds" if plan.seeds is not None else f"{plan.trials} trials"
    print(
        f"Sweep {plan.study_name}: preset {plan.preset.name} on {plan.preset.env_id}, {what} of {plan.steps:,} steps, "
        f"{plan.workers} worker(s). Output: {plan.out}"
    )
    result = run_sweep(plan)
    print(result.summary, end="")
    return 0 if result.complete else 1
