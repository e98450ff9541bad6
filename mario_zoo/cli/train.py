"""``mario-zoo train``: train a DQN agent into a run folder, or resume one (the work is :mod:`mario_zoo.training`)."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import TYPE_CHECKING

from mario_zoo.cli.common import (
    UsageError,
    bad_input,
    count,
    init_weights,
    parse_assignments,
    positive,
    seed,
    torch_device,
)

if TYPE_CHECKING:
    from mario_zoo.agents import DQN
    from mario_zoo.runs import RunConfig, RunFolder
    from mario_zoo.training import TrainingOutcome

TRAIN_EPILOG = """examples:
  mario-zoo train                                          cartpole-fast preset on CartPole-v1
  mario-zoo train --preset cartpole-tutorial --seed 1      the PyTorch tutorial's exact settings
  mario-zoo train --env MarioDQN-1-2-v0 --steps 1e6 --device cuda
  mario-zoo train --hp learning_rate=5e-4 batch_size=128 "policy_kwargs={net_arch: [128, 128]}"
  mario-zoo train --env MarioDQN-v0 --env-kwargs actions=right_only stall_steps=200
  mario-zoo train --env MarioDQN-v0 --env-kwargs frontier_fraction=0.5 --eval-freq 50000 --eval-episodes 10
  mario-zoo train --preset mario-1-1 --init-from dqn-MarioDQN-1-1-v0-base --hp exploration_initial_eps=0.1   warm start
  mario-zoo train --preset mario-world-1 --env MarioDQN-1-3-v0 --frontier-from runs/old/frontier.json   kept starts
  mario-zoo train --resume runs/CartPole-v1_dqn_s0_20250101-120000       after a crash or Ctrl-C
  mario-zoo train --resume runs/CartPole-v1_dqn_s0_20250101-120000 --steps 100000   train further

The run folder gets: run.json (settings), checkpoint.zip (every --save-freq steps, atomic; with --save-replay,
the default for image envs, it also holds the replay buffer and RNG states, so --resume loses nothing), model/ (final
agent), monitor.csv (episodes), progress.csv and tensorboard/ (SB3 logs), results.json (final evaluation) and
learning_curve.png (episode return and its 100-episode mean). With --eval-freq N, every N steps an evaluation
under --eval-protocol (Mario: the exact no-op sweep, greedy from each of the 31 no-op starts; other envs:
--eval-episodes seeded greedy episodes) is logged (eval/* in progress.csv and TensorBoard, a row in
evaluations.csv, the progress bar) and best_model/ keeps the best agent (Mario: highest flag rate, then mean
furthest x_pos; else highest mean return); learning_curve.png gets a second panel with the evaluations. With
--snapshot-freq N, snapshots/step-<steps>/ keeps the agent every N steps, to judge them all later:
  mario-zoo train --preset mario-1-1 --eval-freq 1e5 --snapshot-freq 25000
  mario-zoo evaluate runs/MarioDQN-1-1-v0_dqn_s0_20250101-120000/snapshots/*      one row per snapshot, ranked
"""


def _presets_epilog() -> str:
    from mario_zoo.agents.presets import load_preset, preset_names

    lines = ["presets (mario_zoo/hyperparams/dqn.yml):"]
    for name in preset_names():
        preset = load_preset(name)
        lines.append(f"  {name:<18} {preset.env_id:<12} {preset.n_timesteps:>10,} steps  {preset.description}")
    return "\n".join(lines) + "\n\n" + TRAIN_EPILOG


def add_parser(verbs: argparse._SubParsersAction) -> None:
    train = verbs.add_parser(
        "train",
        help="train a DQN agent into a run folder (progress bar, logs, checkpoints, curve)",
        description="Train a DQN agent with a preset from mario_zoo/hyperparams/dqn.yml, into a run folder.",
        lazy_epilog=_presets_epilog,
    )
    train.add_argument(
        "--preset",
        help="preset name, or a preset .yml file such as a sweep's best.yml (default: the quickest one tuned for --env)",
    )
    train.add_argument("--env", help="Gymnasium env ID (default: the preset's; CartPole-v1 with no preset)")
    train.add_argument(
        "--hp", nargs="+", action="extend", metavar="KEY=VALUE", help="override preset hyperparameters (YAML values)"
    )
    train.add_argument(
        "--env-kwargs", nargs="+", action="extend", metavar="KEY=VALUE", help="gym.make keyword arguments"
    )
    train.add_argument("--seed", type=seed, help="seed of model, env and exploration (default 0)")
    train.add_argument("--steps", type=positive, help="env steps to train (default: the preset's n_timesteps)")
    train.add_argument("--device", type=torch_device, help="torch device: auto (default), cpu, cuda, cuda:1, mps")
    train.add_argument("--out", metavar="DIR", help="run folder (default runs/<env>_dqn_s<seed>_<YYYYmmdd-HHMMSS>)")
    train.add_argument("--resume", metavar="RUN", help="continue the run in this folder from its last checkpoint")
    train.add_argument(
        "--init-from",
        metavar="AGENT",
        help="start the network from this agent's weights (a zoo name, run folder, checkpoint or hub:owner/name): "
        "a warm start with a fresh optimizer, replay buffer and exploration, playing its network (epsilon-greedy) "
        "from the first step; run.json records it",
    )
    train.add_argument(
        "--frontier-from",
        metavar="FILE",
        help="Mario with frontier starts: begin them with this frontier archive (a run's frontier.json, or one kept "
        "beside a recipe) instead of the --init-from run's; it must hold the same level; run.json records it",
    )
    train.add_argument("--save-freq", type=positive, metavar="N", help="checkpoint every N env steps (default 10,000)")
    train.add_argument(
        "--save-replay",
        action=argparse.BooleanOptionalAction,
        help="checkpoints also hold the replay buffer and RNG states, for a lossless --resume (default: on for "
        "image envs, i.e. CNN policies; off otherwise)",
    )
    train.add_argument(
        "--eval-episodes",
        type=count,
        metavar="N",
        help="final evaluation episodes, and each periodic one's, where the protocol counts episodes (default 10; "
        "0: none; Mario's noop-sweep always plays its 31 starts)",
    )
    train.add_argument(
        "--eval-freq",
        type=positive,
        metavar="N",
        help="evaluate every N env steps; keeps best_model/ and evaluations.csv (default: off)",
    )
    train.add_argument(
        "--eval-protocol",
        metavar="NAME",
        help="protocol of the periodic and final evaluations: noop-sweep, nature or episodes (default: noop-sweep "
        "for Mario, episodes otherwise; see mario-zoo evaluate --help)",
    )
    train.add_argument(
        "--snapshot-freq",
        type=positive,
        metavar="N",
        help="also keep the agent every N env steps in snapshots/ (averaged weights where the run keeps them), to "
        "choose among later with mario-zoo evaluate RUN/snapshots/* (default: off)",
    )
    train.add_argument("--threads", type=positive, help="torch CPU threads (default: 1 for MLP policies on CPU)")
    train.add_argument(
        "--progress", action=argparse.BooleanOptionalAction, default=True, help="show the progress bar (default on)"
    )
    train.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    return _resume(args) if args.resume is not None else _start(args)


def _resume(args: argparse.Namespace) -> int:
    from mario_zoo import training
    from mario_zoo.agents.training_state import has_replay

    given = {"--preset": args.preset, "--env": args.env, "--hp": args.hp, "--env-kwargs": args.env_kwargs}
    given |= {"--seed": args.seed, "--out": args.out, "--save-freq": args.save_freq, "--init-from": args.init_from}
    given |= {"--eval-protocol": args.eval_protocol, "--frontier-from": args.frontier_from}
    conflicting = [flag for flag, value in given.items() if value is not None]
    if conflicting:
        raise UsageError(
            f"--resume continues a run with the settings in its run.json; drop {', '.join(conflicting)} (only "
            "--steps, --device, --eval-episodes, --eval-freq, --snapshot-freq, --threads, --[no-]save-replay and "
            "--no-progress can change)."
        )
    with bad_input():
        plan = training.plan_resume(
            args.resume,
            steps=args.steps,
            device=args.device,
            eval_episodes=args.eval_episodes,
            save_replay=args.save_replay,
            eval_freq=args.eval_freq,
            snapshot_freq=args.snapshot_freq,
        )
        warm = init_weights(plan.config.init_from) if plan.config.init_from and not plan.start else None
        model = training.load_resumed_model(plan, warm)
    training.configure_torch_threads(plan.config, args.threads)
    where = f"step {plan.start:,}" if plan.start else "the start (it was stopped before its first checkpoint)"
    if plan.start and has_replay(plan.run.checkpoint):
        where += " with its replay buffer and RNG states"
    print(f"Resuming {plan.run.path} from {where} to {plan.config.total_timesteps:,} steps.")
    return _train(plan.run, plan.config, model, resumed=plan.start > 0, progress=args.progress)


def _start(args: argparse.Namespace) -> int:
    from mario_zoo import training
    from mario_zoo.runs import RunFolder, default_run_path

    with bad_input():
        config = training.plan_run(
            preset=args.preset,
            env_id=args.env,
            overrides=parse_assignments(args.hp or [], "--hp"),
            env_kwargs=parse_assignments(args.env_kwargs or [], "--env-kwargs"),
            seed=0 if args.seed is None else args.seed,
            steps=args.steps,
            device=args.device or "auto",
            save_freq=args.save_freq or training.DEFAULT_SAVE_FREQ,
            save_replay=args.save_replay,
            eval_episodes=10 if args.eval_episodes is None else args.eval_episodes,
            eval_freq=args.eval_freq,
            eval_protocol=args.eval_protocol,
            snapshot_freq=args.snapshot_freq,
            command=["mario-zoo", *args.argv],
            init_from=args.init_from,
            frontier_from=args.frontier_from,
        )
        out = Path(args.out) if args.out else default_run_path(config.env_id, config.seed)
        if out.exists() and (not out.is_dir() or any(out.iterdir())):
            raise ValueError(f"{out} already exists; continue it with --resume {out}, or choose another --out.")
        model = training.build_model(config, init_weights(args.init_from))
    training.configure_torch_threads(config, args.threads)
    overrides = "".join(f" {key}={value}" for key, value in config.overrides.items())
    print(
        f"Training DQN on {config.env_id} for {config.total_timesteps:,} steps: preset {config.preset}{overrides}, "
        f"seed {config.seed}, device {model.device}"
        + (f", network from {config.init_from}" if config.init_from else "")
        + f". Run folder: {out}"
    )
    return _train(RunFolder(out), config, model, resumed=False, progress=args.progress)


def _train(run: RunFolder, config: RunConfig, model: DQN, *, resumed: bool, progress: bool) -> int:
    """Train and report; a run another process started training meanwhile is refused (exit 2), untouched."""
    from mario_zoo import training
    from mario_zoo.run_lock import RunInUseError

    try:
        outcome = training.train(run, config, model, resumed=resumed, progress=progress)
    except RunInUseError as error:
        raise UsageError(str(error)) from error
    return _report(outcome)


def _report(outcome: TrainingOutcome) -> int:
    run = outcome.run
    steps = outcome.num_timesteps - outcome.start
    if outcome.interrupted:
        print(
            f"\nInterrupted at step {outcome.num_timesteps:,}; the checkpoint is saved. Continue with: "
            f"mario-zoo train --resume {run.path}"
        )
        return outcome.exit_code
    print(f"Trained {steps:,} steps in {outcome.seconds:.1f} s ({steps / max(outcome.seconds, 1e-9):,.0f} steps/s).")
    if outcome.evaluation is not None:
        print(f"Final evaluation: {outcome.evaluation.summary()}")
    print(f"Run folder: {run.path}")
    print(f"  final agent      {run.model}/")
    if run.learning_curve.is_file():
        print(f"  learning curve   {run.learning_curve}")
    else:
        from mario_zoo.plotting import why_no_curve

        print(f"  learning curve   not drawn ({why_no_curve()})")
    if run.best_model.is_dir():
        print(f"  best model       {run.best_model}/ (of the evaluations in {run.evaluations.name})")
    if outcome.evaluation is not None:
        print(f"  evaluation       {run.results}")
    tensorboard = f", {run.tensorboard.name}/" if run.tensorboard.is_dir() else ""
    print(f"  logs             {run.progress.name}, {run.monitor.name}{tensorboard} in the run folder")
    print(f"  checkpoint       {run.checkpoint}")
    print(f"Watch it: mario-zoo record {run.path} --out replay.gif")
    return 0
