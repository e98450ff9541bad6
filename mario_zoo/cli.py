"""The ``mario-zoo`` command line: train, evaluate, watch, record, plot and share DQN agents.

Each verb is a ``_cmd_<verb>`` function over the library (:mod:`mario_zoo.training`, :mod:`mario_zoo.evaluation`,
:mod:`mario_zoo.video`, :mod:`mario_zoo.plotting`, :mod:`mario_zoo.hub`); torch, SB3 and huggingface_hub are
imported inside the verbs that need them, so ``--help`` and ``envs`` answer at once.

Exit codes: 0 done; 1 the work could not be done (the Hub refused, a checkpoint is unreadable, ``enjoy`` found
no display); 2 bad input (unknown verb, preset, env ID or ``--hp`` key, malformed value, missing run folder),
reported in one line that names the valid choices, before anything is written, and, for ``push`` and ``pull``, a
fault of the network, the Hub or the token (unreachable, 5xx, 429, a download cut short or damaged, a refused
token), after which nothing is half-written and the same command can simply be run again; 130 interrupted with
Ctrl-C, 143 stopped with SIGTERM (``train`` saves a checkpoint first in both cases).

Example:
    >>> main(["envs"])  # doctest: +ELLIPSIS
    MarioDQN-v0        World 1-1
    MarioDQN-1-1-v0    World 1-1
    ...
    MarioDQN-8-4-v0    World 8-4
    <BLANKLINE>
    Options (gym.make kwargs, defaults): actions='simple', frame_skip=4, size=84, stack=4, noop_max=0, repeat_action_probability=0.0, stall_steps=None, reward_clip=None, reward_scale=1.0, frontier_fraction=0.0, frontier_bucket=64, frontier_back=128
    0
    >>> parse_assignments(["learning_rate=1e-3", "double_q=true", "policy_kwargs={net_arch: [32, 32]}"], "--hp")
    {'learning_rate': 0.001, 'double_q': True, 'policy_kwargs': {'net_arch': [32, 32]}}
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from pathlib import Path
from typing import TYPE_CHECKING, Any

import yaml

from mario_zoo import __version__
from mario_zoo.envs import DEFAULT_OPTIONS, ENV_IDS, parse_env_id, playing_kwargs

if TYPE_CHECKING:
    from mario_zoo.agents import DQN
    from mario_zoo.runs import RunConfig, RunFolder
    from mario_zoo.sources import AgentSource, LoadedAgent
    from mario_zoo.training import TrainingOutcome
    from mario_zoo.zoo.registry import Registry

EPILOG = """examples:
  mario-zoo train                                    CartPole-v1 with the cartpole-fast preset (~30 s on a CPU)
  mario-zoo train --preset mario --steps 2e6         Super Mario Bros World 1-1
  mario-zoo evaluate runs/CartPole-v1_dqn_s0_20250101-120000 --episodes 20
  mario-zoo record runs/CartPole-v1_dqn_s0_20250101-120000 --out replay.gif
  mario-zoo plot runs/ --out curves.png              every run in runs/, seeds averaged
  mario-zoo push runs/CartPole-v1_dqn_s0_20250101-120000 your-name/dqn-CartPole-v1
  mario-zoo pull your-name/dqn-CartPole-v1
  mario-zoo compare --env CartPole-v1 --seeds 0-9 --workers 2   ours vs SB3's DQN, matched settings
  mario-zoo sweep --preset cartpole-fast --trials 30 --steps 2e4 --workers 2    tune with Optuna -> best.yml
  mario-zoo zoo list                                 the pretrained agents that ship with mario-zoo
  mario-zoo evaluate zoo:dqn-CartPole-v1             any verb that takes an agent takes a zoo name

Run `mario-zoo VERB --help` for a verb's options. Exit codes: 0 done, 1 failed, 2 bad input (push/pull: also a
network, Hub or token fault; nothing half-written, run again), 130 interrupted (Ctrl-C), 143 stopped (SIGTERM).
"""

TRAIN_EPILOG = """examples:
  mario-zoo train                                          cartpole-fast preset on CartPole-v1
  mario-zoo train --preset cartpole-tutorial --seed 1      the PyTorch tutorial's exact settings
  mario-zoo train --env MarioDQN-1-2-v0 --steps 1e6 --device cuda
  mario-zoo train --hp learning_rate=5e-4 batch_size=128 "policy_kwargs={net_arch: [128, 128]}"
  mario-zoo train --env MarioDQN-v0 --env-kwargs actions=right_only stall_steps=200
  mario-zoo train --env MarioDQN-v0 --env-kwargs frontier_fraction=0.5 --eval-freq 50000 --eval-episodes 10
  mario-zoo train --preset mario-1-1 --init-from dqn-MarioDQN-1-1-v0-base --hp exploration_initial_eps=0.1   warm start
  mario-zoo train --resume runs/CartPole-v1_dqn_s0_20250101-120000       after a crash or Ctrl-C
  mario-zoo train --resume runs/CartPole-v1_dqn_s0_20250101-120000 --steps 100000   train further

The run folder gets: run.json (settings), checkpoint.zip (every --save-freq steps, atomic; with --save-replay,
the default for image envs, it also holds the replay buffer and RNG states, so --resume loses nothing), model/ (final
agent), monitor.csv (episodes), progress.csv and tensorboard/ (SB3 logs), results.json (final evaluation) and
learning_curve.png (episode return and its 100-episode mean). With --eval-freq N, every N steps a greedy
evaluation over --eval-episodes episodes (Mario: 0-30 random no-ops, from the level start) is logged (eval/* in
progress.csv and TensorBoard, a row in evaluations.csv, the progress bar) and best_model/ keeps the best agent
(Mario: highest flag rate, then mean furthest x_pos; else highest mean return); learning_curve.png gets a
second panel with the evaluations.
"""

EVALUATE_EPILOG = """examples:
  mario-zoo evaluate runs/CartPole-v1_dqn_s0_20250101-120000
  mario-zoo evaluate dqn-MarioDQN-1-1-v0                               the exact no-op sweep (31 greedy episodes)
  mario-zoo evaluate dqn-MarioDQN-1-1-v0 --protocol nature             epsilon 0.05, 30 episodes
  mario-zoo evaluate dqn-MarioDQN-1-1-v0 --protocol nature --episodes 100 --epsilon 0.01
  mario-zoo evaluate hub:your-name/dqn-CartPole-v1 --json > results.json

AGENT is a run folder, a checkpoint (directory or .zip), hub:owner/name[@revision] or a zoo agent (zoo:NAME or
NAME, see `mario-zoo zoo list`). Protocols (--protocol):
  noop-sweep  Mario's default: greedy, one episode from each no-op count 0..30 (--noop-max). The emulator is
              deterministic, so these 31 episodes are the 0-30 no-op protocol without sampling noise.
  nature      Mnih et al. 2015: epsilon 0.05 (--epsilon), 0-30 random no-ops, 30 seeded episodes (--episodes).
  episodes    other envs' default: N seeded episodes (default 10), greedy unless --epsilon; Mario: random no-ops.
Mario evaluations also report how far Mario got (x_pos) and the flag rate with its 95% Wilson interval. The
agent's training-only options (frontier starts, training no-ops, sticky actions) never apply.
"""

ENJOY_EPILOG = """examples:
  mario-zoo enjoy runs/MarioDQN-v0_dqn_s0_20250101-120000
  mario-zoo enjoy hub:your-name/dqn-CartPole-v1 --episodes 3 --scale 1

Opens a window (pygame) and plays in real time. Without a display (DISPLAY/WAYLAND_DISPLAY unset, e.g. over
ssh) it says so, points to `mario-zoo record`, and exits with code 1.
"""

RECORD_EPILOG = """examples:
  mario-zoo record runs/CartPole-v1_dqn_s0_20250101-120000                  -> <run>/replay.mp4
  mario-zoo record runs/MarioDQN-v0_dqn_s0_20250101-120000 --out mario.gif --stride 2
  mario-zoo record hub:your-name/dqn-CartPole-v1 --episodes 3 --out cartpole.mp4

The extension picks the format: .mp4 (H.264) or .gif. Each episode gives one frame per step plus its first.
"""

PLOT_EPILOG = """examples:
  mario-zoo plot runs/CartPole-v1_dqn_s0_20250101-120000 --out curve.png
  mario-zoo plot runs/ --out curves.png                      every run in runs/
  mario-zoo plot runs/*_s0_* runs/*_s1_* --x episodes --window 20

Runs that differ only in their seed are drawn as one curve: the mean, with a band of +/- one standard deviation.
"""

PUSH_EPILOG = """examples:
  mario-zoo push runs/CartPole-v1_dqn_s0_20250101-120000 your-name/dqn-CartPole-v1
  mario-zoo push runs/MarioDQN-v0_dqn_s0_20250101-120000 your-name/dqn-MarioDQN-v0 --episodes 20 --private

Evaluates the agent as `mario-zoo evaluate --json` does (same protocol, same numbers: Mario gets 0..30 random
no-op starts, x_pos and the flag rate), records replay.mp4 at the game's real speed as `mario-zoo record` does,
writes the model card and uploads everything in one commit. Needs a token with write access: `hf auth login` or
HF_TOKEN.
"""

PULL_EPILOG = """examples:
  mario-zoo pull your-name/dqn-CartPole-v1                        -> models/dqn-CartPole-v1/
  mario-zoo pull your-name/dqn-CartPole-v1 --revision 3f2c9a1e... --out cartpole-agent

Downloads only config.json and model.safetensors (never pickles), through the Hub cache, so it works offline
once cached. The folder it writes is a checkpoint: evaluate, record or enjoy it.
"""


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

SWEEP_EPILOG = """examples:
  mario-zoo sweep --preset cartpole-fast --trials 30 --steps 2e4 --workers 2
  mario-zoo train --preset sweeps/cartpole-fast-sweep/best.yml             train with the best settings found
  mario-zoo sweep --preset sweeps/cartpole-fast-sweep/best.yml --seeds 0-9 --steps 2e4 --workers 2
  mario-zoo sweep --preset mario --trials 20 --steps 2e5 --storage postgresql://user:pw@db-host/sweeps
  mario-zoo sweep --preset mario-1-1 --sampler grid --space grid.yml --trials 4 --init-from dqn-MarioDQN-1-1-v0-base

Search spaces are YAML (mario_zoo/hyperparams/dqn_space.yml, one per preset family; --space FILE replaces it).
Each trial trains the preset with sampled settings for --steps env steps, evaluates it greedily every --eval-freq
steps (mario_zoo.evaluation, the protocol of `mario-zoo evaluate`) and scores the mean of the last 3 evaluations;
the median pruner stops trials below the median of earlier ones. --trials N is the study's total: rerunning the
command continues the study (same --study-name and --storage). Many machines: run the same command, with one
--storage postgresql://... (or mysql://...) URL, on each. A worker killed mid-trial is noticed after 3 heartbeats
and its trial retried. --seeds 0-9 runs the preset once per seed instead (no search) and reports the mean, a 95%
bootstrap interval and each seed's value. The --out folder gets best.yml, trials.csv, optimization_history.png,
param_importances.png, summary.md (also printed) and study.db (the default storage).
"""

ZOO_EPILOG = """examples:
  mario-zoo zoo list                          name, env, score, how it was trained, where it loads from
  mario-zoo zoo show dqn-CartPole-v1          everything the registry knows: Hub repo, revision, sha256, protocol
  mario-zoo zoo show dqn-CartPole-v1 --json
  mario-zoo zoo publish runs/<run> --name NAME   maintainers: bundle, evaluate, card, register (--push: Hub)

Zoo agents ship inside the package (checked against their sha256 before every load, so they work offline) or load
from the Hub at a pinned commit. In Python: mario_zoo.load_pretrained("dqn-CartPole-v1"). Every verb that takes an
AGENT takes zoo:NAME: mario-zoo evaluate zoo:dqn-CartPole-v1 --episodes 100
"""


ZOO_PUBLISH_EPILOG = """examples (from the root of a source checkout):
  mario-zoo zoo publish runs/CartPole-v1_dqn_s0_20250101-120000 --name dqn-CartPole-v1
  mario-zoo zoo publish runs/MarioDQN-v0_dqn_s0_20250101-120000 --name dqn-MarioDQN-1-1-v0 --dtype float16
  mario-zoo zoo publish models/agent --name dqn-CartPole-v1 --command "mario-zoo train --seed 0" --push

Writes the registry entry, the bundled copy (config.json, model.safetensors), model_cards/NAME.md and
docs/NAME.gif. A checkpoint needs --command, the mario-zoo train command that trained it: the card's and the
registry's preset and seed are read from it. --push also uploads to the Hub (one commit: the shipped files,
results.json, the card, replay.mp4 and replay.gif) and pins that commit.
"""


class UsageError(Exception):
    """Bad input: reported in one line, exit code 2, nothing written."""


class CommandError(Exception):
    """The work could not be done: reported in one line, exit code 1."""


class _Parser(argparse.ArgumentParser):
    """argparse with one-line errors, raw-text epilogs, and epilogs computed only when help is shown."""

    def __init__(self, *args: Any, lazy_epilog: Callable[[], str] | None = None, **kwargs: Any):
        kwargs.setdefault("formatter_class", argparse.RawDescriptionHelpFormatter)
        super().__init__(*args, **kwargs)
        self._lazy_epilog = lazy_epilog

    def format_help(self) -> str:
        if self._lazy_epilog is not None:
            self.epilog = self._lazy_epilog()
        return super().format_help()

    def error(self, message: str) -> None:  # type: ignore[override]
        self.exit(2, f"{self.prog}: error: {message} (see {self.prog} --help)\n")


def parse_assignments(items: list[str], option: str) -> dict[str, Any]:
    """``KEY=VALUE`` strings to a dict; values are YAML (numbers, ``true``, ``null``, ``[64, 64]``, ``{a: 1}``)."""
    parsed = {}
    for item in items:
        key, separator, text = item.partition("=")
        if not separator or not key.strip():
            raise ValueError(f"{option} expects KEY=VALUE, got {item!r}.")
        try:
            value = yaml.safe_load(text)
        except yaml.YAMLError as error:
            reason = str(error).splitlines()[0]
            raise ValueError(f"Malformed value in {option} {item!r}: {reason}.") from None
        if isinstance(value, str):
            # YAML 1.1 reads "1e-3" (no dot) as a string; a number is what anyone typing it means.
            with suppress(ValueError):
                value = float(value)
        parsed[key.strip()] = value
    return parsed


def _count(text: str) -> int:
    """An argparse type for step counts: ``50000``, ``50_000`` or ``5e4``."""
    try:
        value = float(text.replace("_", ""))
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number such as 50000 or 5e4, got {text!r}") from None
    if not value.is_integer() or value < 0:
        raise argparse.ArgumentTypeError(f"expected a whole number >= 0, got {text!r}")
    return int(value)


def _epsilon(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        value = -1.0
    if not 0.0 <= value <= 1.0:
        raise argparse.ArgumentTypeError(f"expected a probability in [0, 1], got {text!r}")
    return value


def _fps(text: str) -> float:
    """An argparse type for frame rates: a finite number > 0."""
    try:
        value = float(text)
    except ValueError:
        value = -1.0
    if not 0.0 < value < float("inf"):
        raise argparse.ArgumentTypeError(f"expected frames per second > 0, such as 30 or 12.5, got {text!r}")
    return value


def _device(text: str) -> str:
    """An argparse type for torch devices, checked against this machine (``auto``, ``cpu``, ``cuda:1``...)."""
    from mario_zoo.agents.device import check_device

    try:
        check_device(text)
    except ValueError as error:
        raise argparse.ArgumentTypeError(str(error).rstrip(".")) from None
    return text


def _use_threads(threads: int | None) -> None:
    """Torch CPU threads for playing an agent: one by default, since a batch of one observation gains nothing
    from more threads, and extra threads spin against the env and other processes for the same cores."""
    import torch

    torch.set_num_threads(threads or 1)


def _positive(text: str) -> int:
    value = _count(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected an integer >= 1, got {text!r}")
    return value


@contextmanager
def _bad_input() -> Iterator[None]:
    """Turn the library's validation errors into a `UsageError` (exit code 2)."""
    try:
        yield
    except (ValueError, TypeError, FileNotFoundError) as error:
        raise UsageError(" ".join(str(error).split())) from error


def _load_agent(source: AgentSource, device: str) -> LoadedAgent:
    from mario_zoo.hub import HubError
    from mario_zoo.sources import load_agent

    try:
        return load_agent(source, device=device)
    except (HubError, ValueError, OSError) as error:
        raise CommandError(f"cannot load {source}: {' '.join(str(error).split())}") from error


@contextmanager
def _hub_errors() -> Iterator[None]:
    """``push``/``pull``: a fault of the network, the Hub or the token exits 2 (fix it, run again: nothing was
    half-written); any other refusal of the Hub exits 1."""
    from mario_zoo.hub import ChecksumMismatchError, HubAuthError, HubError, HubUnavailableError

    try:
        yield
    except (HubUnavailableError, HubAuthError, ChecksumMismatchError) as error:
        raise UsageError(" ".join(str(error).split())) from error
    except HubError as error:
        raise CommandError(" ".join(str(error).split())) from error


def _init_weights(text: str | None) -> dict[str, Any] | None:
    """``--init-from AGENT``: the network weights of that agent (any AGENT argument), or ``None``."""
    if text is None:
        return None
    return _load_agent(_parse_source(text), "cpu").model.policy.state_dict()


def _parse_source(text: str) -> AgentSource:
    from mario_zoo.sources import parse_source

    with _bad_input():
        return parse_source(text)


# -- verbs ---------------------------------------------------------------------------------------------------


def _cmd_envs(_: argparse.Namespace) -> int:
    for env_id in ENV_IDS:
        world, stage = parse_env_id(env_id)
        print(f"{env_id:<18} World {world}-{stage}")
    options = ", ".join(f"{key}={value!r}" for key, value in DEFAULT_OPTIONS.items())
    print(f"\nOptions (gym.make kwargs, defaults): {options}")
    return 0


def _cmd_train(args: argparse.Namespace) -> int:
    from mario_zoo import training
    from mario_zoo.agents.training_state import has_replay
    from mario_zoo.runs import RunFolder, default_run_path

    if args.resume is not None:
        given = {"--preset": args.preset, "--env": args.env, "--hp": args.hp, "--env-kwargs": args.env_kwargs}
        given |= {"--seed": args.seed, "--out": args.out, "--save-freq": args.save_freq, "--init-from": args.init_from}
        given |= {"--eval-protocol": args.eval_protocol}
        conflicting = [flag for flag, value in given.items() if value is not None]
        if conflicting:
            raise UsageError(
                f"--resume continues a run with the settings in its run.json; drop {', '.join(conflicting)} (only "
                "--steps, --device, --eval-episodes, --eval-freq, --threads, --[no-]save-replay and --no-progress can "
                "change)."
            )
        with _bad_input():
            plan = training.plan_resume(
                args.resume,
                steps=args.steps,
                device=args.device,
                eval_episodes=args.eval_episodes,
                save_replay=args.save_replay,
                eval_freq=args.eval_freq,
            )
            model = training.load_resumed_model(plan)
        training.configure_torch_threads(plan.config, args.threads)
        where = f"step {plan.start:,}" if plan.start else "the start (it was stopped before its first checkpoint)"
        if plan.start and has_replay(plan.run.checkpoint):
            where += " with its replay buffer and RNG states"
        print(f"Resuming {plan.run.path} from {where} to {plan.config.total_timesteps:,} steps.")
        return _train(plan.run, plan.config, model, resumed=plan.start > 0, progress=args.progress)

    with _bad_input():
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
            command=["mario-zoo", *args.argv],
            init_from=args.init_from,
        )
        out = Path(args.out) if args.out else default_run_path(config.env_id, config.seed)
        if out.exists() and (not out.is_dir() or any(out.iterdir())):
            raise ValueError(f"{out} already exists; continue it with --resume {out}, or choose another --out.")
        model = training.build_model(config, _init_weights(args.init_from))
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
    from mario_zoo.runs import RunInUseError

    try:
        outcome = training.train(run, config, model, resumed=resumed, progress=progress)
    except RunInUseError as error:
        raise UsageError(str(error)) from error
    return _report_training(outcome)


def _report_training(outcome: TrainingOutcome) -> int:
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
    print(f"  learning curve   {run.learning_curve}")
    if run.best_model.is_dir():
        print(f"  best model       {run.best_model}/ (of the evaluations in {run.evaluations.name})")
    if outcome.evaluation is not None:
        print(f"  evaluation       {run.results}")
    print(f"  logs             {run.progress.name}, {run.monitor.name}, {run.tensorboard.name}/ in the run folder")
    print(f"  checkpoint       {run.checkpoint}")
    print(f"Watch it: mario-zoo record {run.path} --out replay.gif")
    return 0


def _cmd_evaluate(args: argparse.Namespace) -> int:
    from mario_zoo.envs.spec import check_env_kwargs
    from mario_zoo.evaluation import evaluate, evaluation_env_kwargs, protocol_for

    source = _parse_source(args.agent)
    _use_threads(args.threads)
    agent = _load_agent(source, args.device)
    with _bad_input():
        protocol = protocol_for(
            agent.env_id,
            args.protocol,
            n_episodes=args.episodes,
            epsilon=args.epsilon,
            noop_max=args.noop_max,
            seed=args.seed,
        )
        check_env_kwargs(agent.env_id, evaluation_env_kwargs(agent.env_id, agent.env_kwargs, protocol.noop_max))
    evaluation = evaluate(agent.model, agent.env_id, agent.env_kwargs, protocol=protocol, progress=args.progress)
    if args.json:
        print(json.dumps({"agent": str(source), **evaluation.to_dict()}, indent=2, sort_keys=True))
    else:
        print(f"{source}\n{evaluation.summary()}")
    return 0


def _cmd_enjoy(args: argparse.Namespace) -> int:
    from mario_zoo.video import has_display, show

    source = _parse_source(args.agent)
    if not has_display():
        print(
            "mario-zoo enjoy: no display (DISPLAY and WAYLAND_DISPLAY are unset), so no window can open. Record a "
            f"video instead: mario-zoo record {source} --out replay.mp4",
            file=sys.stderr,
        )
        return 1
    _use_threads(args.threads)
    agent = _load_agent(source, args.device)
    replay = show(
        agent.model,
        agent.env_id,
        _viewing_kwargs(agent),
        episodes=args.episodes,
        seed=args.seed,
        epsilon=args.epsilon,
        fps=args.fps,
        scale=args.scale,
    )
    print(f"{source} on {agent.env_id}: {replay.summary()}")
    return 0


def _cmd_record(args: argparse.Namespace) -> int:
    from mario_zoo.video import check_video_path, record

    source = _parse_source(args.agent)
    default = Path(source.location) / "replay.mp4" if source.kind == "run" else Path("replay.mp4")
    with _bad_input():
        out = check_video_path(args.out or default)
    _use_threads(args.threads)
    agent = _load_agent(source, args.device)
    replay = record(
        agent.model,
        agent.env_id,
        _viewing_kwargs(agent),
        out,
        episodes=args.episodes,
        seed=args.seed,
        epsilon=args.epsilon,
        fps=args.fps,
        stride=args.stride,
        max_frames=args.max_frames,
        progress=args.progress,
    )
    print(f"Wrote {out}: {source} on {agent.env_id}, {replay.summary()}")
    return 0


def _viewing_kwargs(agent: LoadedAgent) -> dict[str, Any]:
    # The agent sees the env it was trained on; render_mode is chosen by the viewer.
    return playing_kwargs(agent.env_kwargs)


def _cmd_plot(args: argparse.Namespace) -> int:
    from mario_zoo.plotting import plot_runs
    from mario_zoo.runs import describe_runs, list_runs, open_run

    with _bad_input():
        out = Path(args.out)
        if out.suffix.lower() != ".png":
            raise ValueError(f"--out must be a .png file, got {str(out)!r}.")
        runs: list[RunFolder] = []
        for text in args.runs:
            path = Path(text)
            inside = list_runs(path) if not (path / "run.json").exists() else []
            if path.is_dir() and inside:
                runs.extend(inside)
            elif path.is_dir() and not (path / "run.json").exists():
                raise ValueError(f"{path} is neither a run folder nor a folder of runs. {describe_runs(path.parent)}")
            else:
                runs.append(open_run(path))
        plotted = plot_runs(runs, out, window=args.window, x_axis=args.x, title=args.title)
    for run in plotted.skipped:
        print(f"Skipped {run.path}: no finished episode yet.")
    drawn = len(runs) - len(plotted.skipped)
    print(f"Wrote {out}: {drawn} run(s) in {len(plotted.curves)} curve(s); where each curve ends:")
    for curve in plotted.curves:
        print(f"  {curve.summary(args.window, args.x)}")
    return 0


def _cmd_push(args: argparse.Namespace) -> int:
    import tempfile

    from mario_zoo.evaluation import published_evaluations
    from mario_zoo.hub import check_push_access, check_repo_id, push_to_hub
    from mario_zoo.sources import HUB_PREFIX
    from mario_zoo.video import record

    source = _parse_source(args.agent)
    with _bad_input():
        repo_id = check_repo_id(args.repo_id.removeprefix(HUB_PREFIX), "REPO_ID")
    with _hub_errors():  # a wrong HF_ENDPOINT, no network or a bad token, found before minutes of evaluation
        check_push_access(repo_id)
    agent = _load_agent(source, "cpu")
    # Another env is made without the training kwargs, and must have the agent's spaces.
    env_id, env_kwargs = (agent.env_id, agent.env_kwargs) if args.env in (None, agent.env_id) else (args.env, {})
    with _bad_input():
        if env_id != agent.env_id:
            _check_spaces_fit(agent, env_id)
        results, also = published_evaluations(
            agent.model, env_id, env_kwargs, args.episodes, seed=args.seed, progress=args.progress
        )
    for evaluation in (results, *also):
        print(evaluation.summary())
    with _hub_errors(), tempfile.TemporaryDirectory(prefix="mario-zoo-push-") as folder:
        video = None
        if args.video:
            video = Path(folder) / "replay.mp4"
            replay = record(agent.model, env_id, playing_kwargs(env_kwargs), video, seed=args.seed)
            print(f"Recorded replay.mp4: {replay.summary()}")
        info = push_to_hub(
            agent.model,
            repo_id,
            results=results,
            also=also,
            video=video,
            private=args.private,
            commit_message=args.message,
        )
    print(f"Pushed {source} to {repo_id} in commit {info.oid}: {info.commit_url}")
    print(f"Load it pinned: mario-zoo pull {repo_id} --revision {info.oid}")
    return 0


def _check_spaces_fit(agent: LoadedAgent, env_id: str) -> None:
    import gymnasium as gym
    from stable_baselines3.common.utils import check_for_correct_spaces

    env = gym.make(env_id)
    try:
        check_for_correct_spaces(env, agent.model.observation_space, agent.model.action_space)
    except ValueError as error:
        raise ValueError(f"--env {env_id} does not fit {agent.source}, trained on {agent.env_id}: {error}.") from None
    finally:
        env.close()


def _cmd_pull(args: argparse.Namespace) -> int:
    from mario_zoo.hub import check_repo_id, load_from_hub
    from mario_zoo.sources import HUB_PREFIX

    repo_id, _, pinned = args.repo_id.removeprefix(HUB_PREFIX).partition("@")
    with _bad_input():
        check_repo_id(repo_id, "REPO_ID")
    revision = args.revision or pinned or None
    out = Path(args.out) if args.out else Path("models") / repo_id.split("/")[-1]
    checkpoint_files = {"config.json", "model.safetensors", "optimizer.safetensors"}
    if out.exists() and (not out.is_dir() or not {entry.name for entry in out.iterdir()} <= checkpoint_files):
        raise UsageError(f"{out} exists and is not a checkpoint folder; choose another --out.")
    with _hub_errors():
        model = load_from_hub(repo_id, revision=revision, device="cpu")
    model.save(out, include_optimizer=False)
    print(f"Saved {repo_id}@{revision or 'main'} to {out}/ (config.json, model.safetensors).")
    print(f"Try it: mario-zoo evaluate {out}")
    return 0


def _cmd_compare(args: argparse.Namespace) -> int:
    from mario_zoo.compare import plan_compare, run_compare

    with _bad_input():
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


def _cmd_sweep(args: argparse.Namespace) -> int:
    from mario_zoo.sweep import plan_sweep, run_sweep

    with _bad_input():
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
            init_weights=_init_weights(args.init_from),
        )
    what = f"{len(plan.seeds)} seeds" if plan.seeds is not None else f"{plan.trials} trials"
    print(
        f"Sweep {plan.study_name}: preset {plan.preset.name} on {plan.preset.env_id}, {what} of {plan.steps:,} steps, "
        f"{plan.workers} worker(s). Output: {plan.out}"
    )
    result = run_sweep(plan)
    print(result.summary, end="")
    return 0 if result.complete else 1


def _cmd_zoo(args: argparse.Namespace) -> int:
    from mario_zoo.zoo.registry import read_registry

    try:
        registry = read_registry()
    except ValueError as error:
        raise CommandError(" ".join(str(error).split())) from error
    if args.zoo_verb == "list":
        return _zoo_list(registry)
    if args.zoo_verb == "publish":
        return _zoo_publish(args)
    return _zoo_show(registry, args.name, as_json=args.json)


def _zoo_publish(args: argparse.Namespace) -> int:
    import torch

    from mario_zoo.hub import HubError
    from mario_zoo.publishing import publish
    from mario_zoo.zoo.registry import AGENT_FILES

    torch.set_num_threads(1)  # tiny evaluation batches run fastest on one thread; more only contend for cores
    try:
        with _bad_input():
            published = publish(
                args.agent,
                args.name,
                repo_id=args.repo_id,
                episodes=args.episodes,
                dtype=args.dtype,
                bundle=args.bundle,
                push=args.push,
                replay=args.replay,
                command=args.command,
                train_seconds=args.train_seconds,
                hardware=args.hardware,
                registry=args.registry,
                cards_dir=args.cards_dir,
                docs_dir=args.docs_dir,
            )
    except HubError as error:
        raise CommandError(" ".join(str(error).split())) from error
    entry = published.entry
    print(f"{entry.name}: {published.evaluation.summary()}")
    print(f"  registry   {published.registry}")
    if published.bundled is not None:
        size = sum((published.bundled / file).stat().st_size for file in AGENT_FILES)
        print(f"  bundled    {published.bundled}/ ({size / 1e6:.2f} MB, {entry.dtype})")
    print(f"  card       {published.card}")
    if published.replay_gif is not None:
        print(f"  replay     {published.replay_gif}")
    pin = f"commit {entry.revision}" if entry.revision else "none: not on the Hub yet (run again with --push)"
    print(f"  Hub        {entry.repo_id}, pinned revision {pin}")
    return 0


def _zoo_show(registry: Registry, name: str, *, as_json: bool) -> int:
    with _bad_input():
        entry = registry.get(name)
    if as_json:
        print(json.dumps({"name": entry.name, **entry.to_dict()}, indent=2, sort_keys=True))
        return 0
    bundled = registry.bundled_dir(entry.name)
    results, training = entry.results, entry.training
    wall = "" if training.wall_time_seconds is None else f", {training.wall_time_seconds:,.0f} s"
    rows = [
        ("env", f"{entry.env_id}" + (f" with {entry.env_kwargs}" if entry.env_kwargs else "")),
        ("score", f"{results.score_text} over {results.n_eval_episodes} episodes"),
    ]
    if results.x_pos_mean is not None:
        rows.append(("x_pos", f"mean {results.x_pos_mean:.1f}, max {results.x_pos_max}"))
    rows += [
        ("protocol", results.protocol),
        ("evaluated", results.date),
        (
            "trained",
            f"preset {training.preset or 'none'}, seed {training.seed}, {training.total_timesteps:,} env steps{wall} "
            f"on {training.hardware}",
        ),
        ("reproduce", training.command),
        ("Hub repo", entry.repo_id),
        (
            "revision",
            entry.revision
            or "none pinned: not published on the Hub yet" + (", loads from the bundled copy" if entry.bundled else ""),
        ),
        ("bundled", f"yes, {entry.dtype}, {bundled}/" if entry.bundled else "no: loads from the Hub at the revision"),
    ]
    rows += [
        ("sha256" if index == 0 else "", f"{digest}  {file}")
        for index, (file, digest) in enumerate(sorted(entry.files.items()))
    ]
    rows.append(("model card", entry.card))
    print(entry.name)
    for label, value in rows:
        print(f"  {label:<12}{value}")
    print(f'Load it:\n  import mario_zoo\n  model = mario_zoo.load_pretrained("{entry.name}")')
    print("  action, _ = model.predict(observation, deterministic=True)")
    return 0


def _zoo_list(registry: Registry) -> int:
    if not registry.entries:
        print(f"No agents in the zoo registry ({registry.path}).")
        return 0
    lines = [("NAME", "ENV", "SCORE", "TRAINED", "LOADS FROM")]
    for entry in registry.entries.values():
        training = entry.training
        wall = "" if training.wall_time_seconds is None else f", {training.wall_time_seconds:,.0f} s"
        hub = f"Hub @ {entry.revision[:10]}" if entry.revision else "Hub: not published yet"
        where = f"bundled ({entry.dtype}); {hub}" if entry.bundled else hub
        score = f"{entry.results.score_text}, {entry.results.n_eval_episodes} ep"
        lines.append(
            (
                entry.name,
                entry.env_id,
                score,
                f"{training.preset or 'no preset'}, {training.total_timesteps:,} steps{wall}",
                where,
            )
        )
    widths = [max(len(line[column]) for line in lines) for column in range(len(lines[0]) - 1)]
    for line in lines:
        print("  ".join(cell.ljust(width) for cell, width in zip(line, widths, strict=False)) + "  " + line[-1])
    print("\nDetails: mario-zoo zoo show NAME. Load: mario_zoo.load_pretrained(NAME), or zoo:NAME as a verb's AGENT.")
    return 0


# -- parser --------------------------------------------------------------------------------------------------


def _presets_epilog() -> str:
    from mario_zoo.agents.presets import load_preset, preset_names

    lines = ["presets (mario_zoo/hyperparams/dqn.yml):"]
    for name in preset_names():
        preset = load_preset(name)
        lines.append(f"  {name:<18} {preset.env_id:<12} {preset.n_timesteps:>10,} steps  {preset.description}")
    return "\n".join(lines) + "\n\n" + TRAIN_EPILOG


def _add_agent_options(parser: argparse.ArgumentParser, *, episodes: int | None) -> None:
    parser.add_argument(
        "agent", metavar="AGENT", help="run folder, checkpoint (dir or .zip), hub:owner/name[@rev], or zoo:NAME"
    )
    default = "the protocol's: nature 30, episodes 10" if episodes is None else episodes
    parser.add_argument("--episodes", type=_positive, default=episodes, help=f"episodes to play (default {default})")
    parser.add_argument("--epsilon", type=_epsilon, help="act randomly with this probability (default: greedy)")
    parser.add_argument("--seed", type=int, default=0, help="seed of the env's first reset (default 0)")
    parser.add_argument("--device", type=_device, default="auto", help="torch device for the agent (default auto)")
    parser.add_argument("--threads", type=_positive, help="torch CPU threads (default 1: fastest for one observation)")


def build_parser() -> argparse.ArgumentParser:
    """The ``mario-zoo`` argument parser (a sub-parser per verb)."""
    parser = _Parser(
        prog="mario-zoo",
        description="Super Mario Bros environments, DQN agents and a zoo of trained agents.",
        epilog=EPILOG,
    )
    parser.add_argument("--version", action="version", version=f"mario-zoo {__version__}")
    verbs = parser.add_subparsers(dest="verb", metavar="VERB", required=True)

    envs = verbs.add_parser(
        "envs", help="list the registered environment IDs and options", epilog="example:\n  mario-zoo envs"
    )
    envs.set_defaults(run=_cmd_envs)

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
    train.add_argument("--seed", type=int, help="seed of model, env and exploration (default 0)")
    train.add_argument("--steps", type=_positive, help="env steps to train (default: the preset's n_timesteps)")
    train.add_argument("--device", type=_device, help="torch device: auto (default), cpu, cuda, cuda:1, mps")
    train.add_argument("--out", metavar="DIR", help="run folder (default runs/<env>_dqn_s<seed>_<YYYYmmdd-HHMMSS>)")
    train.add_argument("--resume", metavar="RUN", help="continue the run in this folder from its last checkpoint")
    train.add_argument(
        "--init-from",
        metavar="AGENT",
        help="start the network from this agent's weights (a zoo name, run folder, checkpoint or hub:owner/name): "
        "a warm start with a fresh optimizer, replay buffer and exploration; run.json records it",
    )
    train.add_argument("--save-freq", type=_positive, metavar="N", help="checkpoint every N env steps (default 10,000)")
    train.add_argument(
        "--save-replay",
        action=argparse.BooleanOptionalAction,
        help="checkpoints also hold the replay buffer and RNG states, for a lossless --resume (default: on for "
        "image envs, i.e. CNN policies; off otherwise)",
    )
    train.add_argument(
        "--eval-episodes",
        type=_count,
        metavar="N",
        help="final evaluation episodes, and each periodic one's, where the protocol counts episodes (default 10; "
        "0: none; Mario's noop-sweep always plays its 31 starts)",
    )
    train.add_argument(
        "--eval-freq",
        type=_positive,
        metavar="N",
        help="evaluate every N env steps; keeps best_model/ and evaluations.csv (default: off)",
    )
    train.add_argument(
        "--eval-protocol",
        metavar="NAME",
        help="protocol of the periodic and final evaluations: noop-sweep, nature or episodes (default: noop-sweep "
        "for Mario, episodes otherwise; see mario-zoo evaluate --help)",
    )
    train.add_argument("--threads", type=_positive, help="torch CPU threads (default: 1 for MLP policies on CPU)")
    train.add_argument(
        "--progress", action=argparse.BooleanOptionalAction, default=True, help="show the progress bar (default on)"
    )
    train.set_defaults(run=_cmd_train)

    evaluate = verbs.add_parser(
        "evaluate",
        help="evaluate an agent: mean +/- std return (Mario: x_pos, flag rate)",
        description="Play N episodes with an agent and report the mean and std of their returns.",
        epilog=EVALUATE_EPILOG,
    )
    _add_agent_options(evaluate, episodes=None)
    evaluate.add_argument(
        "--protocol",
        metavar="NAME",
        help="noop-sweep (Mario's default: greedy, each no-op start 0..--noop-max once), nature (epsilon 0.05, "
        "random 0-30 no-ops, 30 seeded episodes) or episodes (other envs' default: N seeded greedy episodes)",
    )
    evaluate.add_argument("--noop-max", type=_count, help="Mario only: no-op starts 0..N (default 30)")
    evaluate.add_argument("--json", action="store_true", help="print machine-readable JSON")
    evaluate.add_argument(
        "--progress", action=argparse.BooleanOptionalAction, default=True, help="show a progress bar (default on)"
    )
    evaluate.set_defaults(run=_cmd_evaluate)

    enjoy = verbs.add_parser(
        "enjoy",
        help="watch an agent play in a window",
        description="Watch an agent play, live, in a window.",
        epilog=ENJOY_EPILOG,
    )
    _add_agent_options(enjoy, episodes=1)
    enjoy.add_argument("--fps", type=_fps, help="playback speed (default: real time)")
    enjoy.add_argument("--scale", type=_positive, default=2, help="window size as a multiple of the frame (default 2)")
    enjoy.set_defaults(run=_cmd_enjoy)

    record = verbs.add_parser(
        "record",
        help="record an agent's episodes as mp4 or gif",
        description="Record an agent's episodes to a video file.",
        epilog=RECORD_EPILOG,
    )
    _add_agent_options(record, episodes=1)
    record.add_argument(
        "--out", metavar="FILE", help="video file, .mp4 or .gif (default <run>/replay.mp4 or replay.mp4)"
    )
    record.add_argument("--fps", type=_fps, help="playback speed (default: real time)")
    record.add_argument(
        "--progress", action=argparse.BooleanOptionalAction, default=True, help="show a progress bar (default on)"
    )
    record.add_argument("--stride", type=_positive, default=1, help="keep every N-th frame (default 1)")
    record.add_argument("--max-frames", type=_positive, default=5000, help="stop after N frames (default 5000)")
    record.set_defaults(run=_cmd_record)

    plot = verbs.add_parser(
        "plot",
        help="plot the learning curves of runs into a PNG",
        description="Plot the learning curves (mean return of the last episodes) of one or several runs.",
        epilog=PLOT_EPILOG,
    )
    plot.add_argument("runs", nargs="+", metavar="RUN", help="run folders, or folders of runs")
    plot.add_argument("--out", default="learning_curves.png", help="PNG file (default learning_curves.png)")
    plot.add_argument("--window", type=_positive, default=100, help="episodes per moving average (default 100)")
    plot.add_argument("--x", choices=("steps", "episodes"), default="steps", help="x axis (default steps)")
    plot.add_argument("--title", help="figure title (default: the env IDs)")
    plot.set_defaults(run=_cmd_plot)

    push = verbs.add_parser(
        "push",
        help="publish an agent to the Hugging Face Hub",
        description="Evaluate an agent and upload it with its model card and replay video to a Hub repo.",
        epilog=PUSH_EPILOG,
    )
    push.add_argument(
        "agent", metavar="AGENT", help="run folder, checkpoint (dir or .zip), hub:owner/name[@rev], or zoo:NAME"
    )
    push.add_argument("repo_id", metavar="REPO_ID", help="owner/name of the Hub repo (created if missing)")
    push.add_argument(
        "--episodes",
        type=_positive,
        default=30,
        help="evaluation episodes for the card (default 30): Mario's Nature protocol, beside the 31-start no-op "
        "sweep; other envs' greedy episodes",
    )
    push.add_argument("--seed", type=int, default=0, help="seed of the evaluation env's first reset (default 0)")
    push.add_argument("--video", action=argparse.BooleanOptionalAction, default=True, help="upload replay.mp4")
    push.add_argument("--private", action="store_true", help="create the repo private")
    push.add_argument("--env", help="evaluate on this env ID instead of the training env")
    push.add_argument("--message", help="commit message")
    push.add_argument(
        "--progress", action=argparse.BooleanOptionalAction, default=True, help="show a progress bar (default on)"
    )
    push.set_defaults(run=_cmd_push)

    pull = verbs.add_parser(
        "pull",
        help="download an agent from the Hugging Face Hub into a checkpoint folder",
        description="Download a published agent (safetensors only) into a local checkpoint folder.",
        epilog=PULL_EPILOG,
    )
    pull.add_argument("repo_id", metavar="REPO_ID", help="owner/name[@revision] of the Hub repo")
    pull.add_argument("--revision", help="branch, tag or commit sha (default main)")
    pull.add_argument("--out", metavar="DIR", help="checkpoint folder to write (default models/<name>)")
    pull.set_defaults(run=_cmd_pull)

    compare = verbs.add_parser(
        "compare",
        help="train our DQN and SB3's with matched settings on the same seeds, and compare them",
        description="Compare mario_zoo's DQN with Stable-Baselines3's: same settings, seeds, budget and evaluation.",
        epilog=COMPARE_EPILOG,
    )
    compare.add_argument("--env", default="CartPole-v1", help="CartPole-v1 (default) or a MarioDQN ID")
    compare.add_argument("--steps", type=_positive, help="env steps per run (default: CartPole 50,000, Mario 20,000)")
    compare.add_argument("--seeds", help="seeds: a range 0-9, a list 0,3,5, or both (default: CartPole 0-9, Mario 0-1)")
    compare.add_argument("--workers", type=int, help="runs trained at once, one process each (default: the cores)")
    compare.add_argument("--out", metavar="DIR", help="output folder (default compare/<env>_<YYYYmmdd-HHMMSS>)")
    compare.add_argument(
        "--hp", nargs="+", action="extend", metavar="KEY=VALUE", help="change a matched setting, for both algorithms"
    )
    compare.add_argument(
        "--env-kwargs", nargs="+", action="extend", metavar="KEY=VALUE", help="gym.make keyword arguments"
    )
    compare.add_argument("--eval-freq", type=_positive, metavar="N", help="evaluate every N env steps (default 5,000)")
    compare.add_argument(
        "--eval-episodes",
        type=_positive,
        metavar="N",
        help="episodes per periodic evaluation (default: CartPole 10, Mario 3)",
    )
    compare.add_argument(
        "--final-episodes",
        type=_positive,
        metavar="N",
        help="episodes of the final evaluation (default: CartPole 100, Mario 10)",
    )
    compare.add_argument(
        "--steady-last",
        type=_positive,
        default=5,
        metavar="K",
        help="a run's steady return is the mean of its last K periodic evaluations (default 5)",
    )
    compare.add_argument(
        "--progress", action=argparse.BooleanOptionalAction, default=True, help="a progress bar per run (default on)"
    )
    compare.set_defaults(run=_cmd_compare)

    sweep = verbs.add_parser(
        "sweep",
        help="tune a preset's hyperparameters with Optuna (many workers, many machines), or run it over many seeds",
        description="Search hyperparameters with Optuna (TPE, median pruning, a shared study), or run a seed matrix.",
        epilog=SWEEP_EPILOG,
    )
    sweep.add_argument("--preset", required=True, help="dqn.yml preset name, or a preset .yml file (e.g. best.yml)")
    sweep.add_argument("--trials", type=_positive, help="finished trials the study is to have (its total)")
    sweep.add_argument("--seeds", help="a seed matrix instead of a search: 0-9, 0,3,5 or both")
    sweep.add_argument("--steps", type=_positive, help="env steps per trial (default: the preset's n_timesteps)")
    sweep.add_argument("--workers", type=_positive, default=1, help="worker processes on this machine (default 1)")
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
    sweep.add_argument("--eval-freq", type=_positive, metavar="N", help="evaluate every N env steps (default steps/10)")
    sweep.add_argument(
        "--eval-episodes", type=_positive, default=5, metavar="N", help="greedy episodes per evaluation (default 5)"
    )
    sweep.add_argument("--seed", type=_count, default=0, help="seed of every search trial and the sampler (default 0)")
    sweep.add_argument(
        "--space", metavar="FILE", help="search space YAML replacing mario_zoo/hyperparams/dqn_space.yml"
    )
    sweep.add_argument(
        "--init-from",
        metavar="AGENT",
        help="every trial's network starts from this agent's weights (zoo name, run folder, checkpoint, hub:...)",
    )
    sweep.add_argument(
        "--heartbeat", type=_positive, default=20, metavar="S", help="seconds between trial heartbeats (default 20)"
    )
    sweep.add_argument(
        "--progress", action=argparse.BooleanOptionalAction, default=True, help="show the progress bar (default on)"
    )
    sweep.set_defaults(run=_cmd_sweep)

    zoo = verbs.add_parser(
        "zoo",
        help="list the pretrained agents that ship with mario-zoo, or show one",
        description="The zoo: pretrained agents, loaded by name (bundled in the package, or from a pinned Hub commit).",
        epilog=ZOO_EPILOG,
    )
    zoo_verbs = zoo.add_subparsers(dest="zoo_verb", metavar="ACTION", required=True)
    zoo_verbs.add_parser(
        "list", help="name, env, score, training and source of every zoo agent", epilog="example:\n  mario-zoo zoo list"
    )
    show = zoo_verbs.add_parser(
        "show",
        help="everything the registry records about one agent",
        epilog="examples:\n  mario-zoo zoo show dqn-CartPole-v1\n  mario-zoo zoo show dqn-CartPole-v1 --json",
    )
    show.add_argument("name", metavar="NAME", help="zoo name (mario-zoo zoo list shows them)")
    show.add_argument("--json", action="store_true", help="print the registry entry as JSON")
    _add_publish_parser(zoo_verbs)
    zoo.set_defaults(run=_cmd_zoo)
    return parser


def _add_publish_parser(zoo_verbs: argparse._SubParsersAction) -> None:
    from mario_zoo.zoo.registry import DTYPES, REGISTRY_FILE

    publish = zoo_verbs.add_parser(
        "publish",
        help="maintainers: add an agent to the zoo (bundle, hash, evaluate as shipped, card, register, push)",
        description="Add an agent to the mario-zoo zoo: bundle, hash, evaluate as shipped, card, register.",
        epilog=ZOO_PUBLISH_EPILOG,
    )
    publish.add_argument("agent", metavar="AGENT", help="run folder or checkpoint (dir or .zip)")
    publish.add_argument("--name", required=True, help="zoo name, e.g. dqn-MarioDQN-1-1-v0")
    publish.add_argument("--repo-id", help="Hub repo (default mario-zoo/NAME)")
    publish.add_argument("--episodes", type=_positive, default=100, help="evaluation episodes (default 100)")
    publish.add_argument("--dtype", choices=DTYPES, default="float32", help="precision of the shipped weights")
    publish.add_argument("--no-bundle", dest="bundle", action="store_false", help="do not ship a copy in the package")
    publish.add_argument("--push", action="store_true", help="upload to the Hub and pin the commit")
    publish.add_argument("--no-replay", dest="replay", action="store_false", help="record no GIF or mp4")
    publish.add_argument("--command", help="how it was trained (default: the run's mario-zoo train command)")
    publish.add_argument("--train-seconds", type=float, help="training wall time (default: from monitor.csv)")
    publish.add_argument("--hardware", help="where it trained (default: this machine)")
    publish.add_argument("--registry", type=Path, default=REGISTRY_FILE, help="registry file (default: the package's)")
    publish.add_argument("--cards-dir", type=Path, default=Path("model_cards"), help="default ./model_cards")
    publish.add_argument("--docs-dir", type=Path, default=Path("docs"), help="where the GIF goes (default ./docs)")


def main(argv: list[str] | None = None) -> int:
    """Run the CLI; return the process exit code (argparse itself exits with 2 on bad usage)."""
    argv = sys.argv[1:] if argv is None else list(argv)
    args = build_parser().parse_args(argv)
    args.argv = argv
    try:
        return args.run(args)
    except UsageError as error:
        print(f"mario-zoo {args.verb}: error: {error}", file=sys.stderr)
        return 2
    except CommandError as error:
        print(f"mario-zoo {args.verb}: {error}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print(f"\nmario-zoo {args.verb}: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        # The reader of our output went away (`mario-zoo evaluate --json | head -1`): point stdout at /dev/null so
        # that Python's own flush at exit does not raise a second time, and say it once.
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        print(f"mario-zoo {args.verb}: the output pipe was closed before everything was written", file=sys.stderr)
        return 1
    except OSError as error:
        # Disk full, permission denied, a read-only folder...: the system's words and the file, on one line.
        where = f": {error.filename}" if error.filename else ""
        print(f"mario-zoo {args.verb}: error: {error.strerror or error}{where}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
