"""Train a DQN into a run folder: a live progress bar, SB3 logs, checkpoints that survive SIGKILL, a final
evaluation and the tutorial's learning curve.

Planning and training are separate steps, so that everything a user typed is checked before anything is
written: :func:`plan_run` / :func:`plan_resume` validate (raising ``ValueError`` or ``TypeError`` with the valid
choices), :func:`build_model` builds the agent in memory, and only :func:`train` creates files.

A run is resumable at any moment: every ``save_freq`` steps the full training state (weights, optimizer,
step counter, exploration) replaces ``checkpoint.zip`` in one atomic rename. :func:`resume` loads it, cuts the
logs back to the checkpoint's step (a killed run logged episodes the checkpoint does not know about) and calls
``learn(remaining, reset_num_timesteps=False)``, so the step counter, the exploration schedule and the curves
continue where the checkpoint left them. With ``save_replay`` (``--save-replay``, the default for image envs)
the checkpoint also holds the replay buffer and every RNG state, taken at the start of a training round, and
the resumed run continues with its memory and random streams: it draws exactly the minibatches the run would
have drawn had it not stopped, except that the env starts a new episode (an env's internal state is not
saved). Without it a resumed run refills the buffer for ``learning_starts`` steps before its next gradient step.

With ``eval_freq`` (``--eval-freq``), :class:`~mario_zoo.callbacks.PeriodicEvaluation` evaluates the agent every
``eval_freq`` steps over ``eval_episodes`` episodes, keeps ``best_model/`` and ``evaluations.csv``, and the learning
curve gets a second panel; a resumed run continues that history and keeps its best model.

Two outputs come with extras and are skipped without them (the training is the same): ``tensorboard/`` with the
``tensorboard`` extra (``progress.csv`` holds the same numbers) and ``learning_curve.png`` with the ``plot`` extra
(``mario-zoo plot`` draws it later).

Example:
    >>> import tempfile
    >>> from pathlib import Path
    >>> config = plan_run(preset="cartpole-fast", steps=200, seed=0, device="cpu", eval_episodes=2)
    >>> run = RunFolder(Path(tempfile.mkdtemp()) / "run")
    >>> outcome = train(run, config, build_model(config), progress=False)
    >>> run.read_config().status, sorted(path.name for path in run.path.iterdir())  # doctest: +NORMALIZE_WHITESPACE
    ('finished', ['checkpoint.zip', 'learning_curve.png', 'model', 'monitor.csv', 'progress.csv', 'results.json',
                  'run.json', 'run.lock', 'tensorboard'])
"""

from __future__ import annotations

import dataclasses
import difflib
import functools
import json
import os
import signal
import threading
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import gymnasium as gym
import torch
from stable_baselines3.common.callbacks import BaseCallback

from mario_zoo.agents import DQN, DQNConfig, checkpoint, training_state
from mario_zoo.agents.config import whole_numbers
from mario_zoo.agents.device import check_device
from mario_zoo.agents.presets import Preset, load_preset, preset_names
from mario_zoo.atomic import remove_stale_temporaries, write_text
from mario_zoo.callbacks import PeriodicCheckpoint, PeriodicEvaluation, ProgressBar, best_model_evaluation
from mario_zoo.envs import parse_env_id
from mario_zoo.envs.spec import check_env_kwargs
from mario_zoo.evaluation import Evaluation, evaluate, is_mario, run_protocol
from mario_zoo.extras import installed
from mario_zoo.plotting import save_learning_curve
from mario_zoo.runs import (
    RunConfig,
    RunFolder,
    check_not_in_use,
    lock_run,
    open_run,
    read_evaluations,
)
from mario_zoo.training_logs import monitored_env, run_logger

DEFAULT_ENV = "CartPole-v1"
"""The env ``mario-zoo train`` trains on when given neither ``--preset`` nor ``--env`` (as rl-zoo does)."""
MARIO_GENERIC_ID = "MarioDQN-v0"
"""The Mario ID not tied to a level in its name: presets on it are the default for every level."""

DEFAULT_SAVE_FREQ = 10_000
"""Env steps between checkpoints."""

CNN_POLICIES = ("CnnPolicy", "DuelingCnnPolicy")
"""Policies that read images: their runs save the replay buffer with each checkpoint unless told not to."""

POLICY_KWARGS_KEY = "policy_kwargs"
"""The one override that is not a :class:`~mario_zoo.agents.DQNConfig` field: network options, a mapping."""


def default_actors(preset: Preset) -> int:
    """Actor processes a run uses unless ``--hp actors=N`` says otherwise: one for image presets (CNN policies:
    ``mario``, ``mario-1-1``) on a machine with at least 2 cores (the emulator steps on one core while the updates
    run on another), else none.

    Example:
        >>> default_actors(load_preset("cartpole-fast"))
        0
    """
    return 1 if preset.policy in CNN_POLICIES and (os.process_cpu_count() or 1) >= 2 else 0


def override_keys() -> tuple[str, ...]:
    """The keys ``--hp`` accepts: every DQN hyperparameter, and ``policy_kwargs``."""
    return (*DQNConfig.field_names(), POLICY_KWARGS_KEY)


def choose_preset(preset: str | Preset | None, env_id: str | None) -> Preset:
    """The preset ``preset`` (a :class:`Preset`, or its name or file); else the quickest one tuned for ``env_id``
    (default ``CartPole-v1``).

    Example:
        >>> choose_preset(None, None).name, choose_preset(None, "MarioDQN-4-2-v0").name
        ('cartpole-fast', 'mario')
        >>> choose_preset(None, "MarioDQN-1-1-v0").name
        'mario-1-1'
        >>> choose_preset(None, "Acrobot-v1")  # doctest: +ELLIPSIS
        Traceback (most recent call last):
        ...
        ValueError: No preset is tuned for Acrobot-v1; pass --preset NAME to use one anyway (valid presets: ...).
    """
    if isinstance(preset, Preset):
        return preset
    if preset is not None:
        return load_preset(preset)
    env_id = env_id or DEFAULT_ENV
    presets = [load_preset(name) for name in preset_names()]
    # The presets of this very ID; else, for a Mario level, those not tied to a level's own ID (MarioDQN-v0).
    tuned = [item for item in presets if item.env_id == env_id] or [
        item for item in presets if is_mario(env_id) and item.env_id == MARIO_GENERIC_ID
    ]
    if not tuned:
        raise ValueError(
            f"No preset is tuned for {env_id}; pass --preset NAME to use one anyway (valid presets: "
            f"{', '.join(preset_names())})."
        )
    # min() keeps the first of equals, so file order breaks ties.
    return min(tuned, key=lambda item: item.n_timesteps)


def check_env_id(env_id: str) -> None:
    """Raise a ``ValueError`` naming the valid choices if ``env_id`` is not a registered Gymnasium ID.

    Example:
        >>> check_env_id("CartPol-v1")  # doctest: +ELLIPSIS
        Traceback (most recent call last):
        ...
        ValueError: Unknown env ID 'CartPol-v1' (did you mean 'CartPole-v1'?); valid IDs: ...
    """
    if env_id in gym.registry:
        return
    if env_id.startswith("MarioDQN"):
        parse_env_id(env_id)  # raises with the valid Mario IDs
    close = difflib.get_close_matches(env_id, list(gym.registry), n=1)
    hint = f" (did you mean {close[0]!r}?)" if close else ""
    raise ValueError(
        f"Unknown env ID {env_id!r}{hint}; valid IDs: MarioDQN-v0 and MarioDQN-<world>-<stage>-v0 (`mario-zoo "
        "envs` lists them) or any registered Gymnasium ID with discrete actions, e.g. CartPole-v1, Acrobot-v1."
    )


def plan_run(
    *,
    preset: str | Preset | None = None,
    env_id: str | None = None,
    overrides: dict[str, Any] | None = None,
    env_kwargs: dict[str, Any] | None = None,
    seed: int = 0,
    steps: int | None = None,
    device: str = "auto",
    save_freq: int = DEFAULT_SAVE_FREQ,
    save_replay: bool | None = None,
    eval_episodes: int = 10,
    eval_freq: int | None = None,
    eval_protocol: str | None = None,
    command: list[str] | None = None,
    init_from: str | None = None,
) -> RunConfig:
    """Check a new run's settings and return its ``run.json`` contents; writes nothing.

    Args:
        preset: ``dqn.yml`` preset name, the path of a preset .yml file such as a sweep's ``best.yml``, or a
            :class:`~mario_zoo.agents.presets.Preset` (a sweep trial's) (default: see :func:`choose_preset`).
        env_id: env to train on (default: the preset's).
        overrides: hyperparameters replacing the preset's (``--hp``): DQN fields and ``policy_kwargs``.
        env_kwargs: ``gym.make`` keyword arguments, added to (and replacing) the preset's ``env_kwargs``.
        seed: seed of the model, env and exploration.
        steps: step target (default: the preset's ``n_timesteps``).
        device: torch device.
        save_freq: env steps between checkpoints.
        save_replay: checkpoints also hold the replay buffer and RNG states (default: for CNN policies, which
            read images, where refilling the buffer costs the most).
        eval_episodes: episodes of the final evaluation (0 = none), and of each periodic one.
        eval_freq: env steps between periodic evaluations (``None`` = none); needs ``eval_episodes >= 1``.
        eval_protocol: protocol of those evaluations (:data:`mario_zoo.evaluation.PROTOCOLS`; default: the env's,
            Mario's exact no-op sweep, which plays its 31 starts whatever ``eval_episodes`` says).
        command: the command line, kept in ``run.json``.
        init_from: the agent the network starts from, for the record (:func:`build_model` takes its weights).
    """
    if env_id is not None:
        check_env_id(env_id)
    chosen = choose_preset(preset, env_id)
    env_id = env_id or chosen.env_id
    check_env_kwargs(env_id, {**chosen.env_kwargs, **(env_kwargs or {})})
    check_device(device)
    overrides = dict(overrides or {})
    policy_kwargs, hyperparameters = _apply_overrides(chosen, overrides)
    for name, value, minimum in (("seed", seed, 0), ("steps", steps, 1), ("save_freq", save_freq, 1)):
        if value is not None and (isinstance(value, bool) or not isinstance(value, int) or value < minimum):
            raise ValueError(f"{name} must be an int >= {minimum}, got {value!r}.")
    if isinstance(eval_episodes, bool) or not isinstance(eval_episodes, int) or eval_episodes < 0:
        raise ValueError(f"eval_episodes must be an int >= 0, got {eval_episodes!r}.")
    _check_eval_freq(eval_freq, eval_episodes)
    if eval_episodes:
        run_protocol(env_id, eval_protocol, eval_episodes)  # a bad name or a protocol the env lacks: refused now
    return RunConfig(
        env_id=env_id,
        preset=chosen.name,
        policy=chosen.policy,
        total_timesteps=steps or chosen.n_timesteps,
        seed=seed,
        device=device,
        hyperparameters=hyperparameters,
        policy_kwargs=policy_kwargs,
        env_kwargs={**chosen.env_kwargs, **(env_kwargs or {})},
        overrides=overrides,
        save_freq=save_freq,
        save_replay=chosen.policy in CNN_POLICIES if save_replay is None else bool(save_replay),
        eval_episodes=eval_episodes,
        eval_freq=eval_freq,
        eval_protocol=eval_protocol,
        command=list(command or []),
        init_from=init_from,
    )


def _apply_overrides(preset: Preset, overrides: dict[str, Any]) -> tuple[dict[str, Any], DQNConfig]:
    """``preset``'s network options and config with the ``--hp`` ``overrides`` and the default ``actors`` applied: one
    :meth:`DQNConfig.replace`, so the config is checked once."""
    unknown = [key for key in overrides if key not in override_keys()]
    if unknown:
        close = difflib.get_close_matches(unknown[0], override_keys(), n=1)
        hint = f" (did you mean {close[0]!r}?)" if close else ""
        raise ValueError(f"Unknown --hp key {unknown[0]!r}{hint}; valid keys: {', '.join(override_keys())}.")
    network = overrides.get(POLICY_KWARGS_KEY, {})
    if not isinstance(network, dict):
        raise ValueError(f"policy_kwargs must be a mapping such as {{net_arch: [64, 64]}}, got {network!r}.")
    changes = whole_numbers({key: value for key, value in overrides.items() if key != POLICY_KWARGS_KEY})
    if "actors" not in preset.written and "actors" not in changes and default_actors(preset):
        changes["actors"] = default_actors(preset)
    return {**preset.policy_kwargs, **network}, preset.config.replace(**changes)


def build_model(config: RunConfig, init_weights: Mapping[str, torch.Tensor] | None = None) -> DQN:
    """A fresh DQN for ``config``, on an env without logging (:func:`train` attaches the logging one).

    Building it checks what only the env can tell (kwargs, spaces, network options); errors are ``ValueError`` or
    ``TypeError``. With ``init_weights`` (a trained agent's ``policy.state_dict()``: rl-zoo's ``--trained-agent``, our
    ``--init-from``) the network (online and target) starts from those weights; the optimizer, the replay buffer, the step counter and
    exploration start afresh. Its network must be the one ``config`` builds: any other is a ``ValueError`` naming
    the weights that differ.
    """
    # A factory rather than an env instance, so that a model with actors can build its env in them.
    model = DQN(
        config.policy,
        functools.partial(gym.make, config.env_id, **config.env_kwargs),
        policy_kwargs=config.policy_kwargs,
        seed=config.seed,
        device=config.device,
        config=config.hyperparameters,
    )
    if init_weights is not None:
        _warm_start(model, init_weights, config.init_from or "the initial agent")
    return model


def _warm_start(model: DQN, weights: Mapping[str, torch.Tensor], name: str) -> None:
    mine = model.policy.state_dict()
    differing = sorted(
        key
        for key in set(mine) | set(weights)
        if key not in mine or key not in weights or tuple(mine[key].shape) != tuple(weights[key].shape)
    )
    if differing:
        shown = ", ".join(
            f"{key} ({tuple(weights[key].shape) if key in weights else 'absent'} vs "
            f"{tuple(mine[key].shape) if key in mine else 'absent'})"
            for key in differing[:3]
        )
        raise ValueError(
            f"--init-from {name}: its network differs from this run's in {len(differing)} weight(s): {shown}"
            f"{' ...' if len(differing) > 3 else ''}. Warm-start from an agent with the same env, action set and "
            "policy_kwargs (net_arch, dueling)."
        )
    model.policy.load_state_dict(weights)  # copies into the model's tensors, in their dtype (float16 weights too)
    model.reset_averaged_weights()


@dataclass(frozen=True)
class ResumePlan:
    """What :func:`resume` continues."""

    run: RunFolder
    """The run folder."""
    config: RunConfig
    """Its settings, with a new step target or device if asked."""
    start: int
    """Steps its checkpoint holds (0: it was killed before the first checkpoint, so it starts over)."""


def plan_resume(
    path: str | os.PathLike[str],
    *,
    steps: int | None = None,
    device: str | None = None,
    eval_episodes: int | None = None,
    save_replay: bool | None = None,
    eval_freq: int | None = None,
) -> ResumePlan:
    """Check that the run at ``path`` can continue; ``steps``, ``device``, ``eval_episodes``, ``eval_freq`` and
    ``save_replay`` replace its settings when given. Writes nothing.

    Raises :class:`~mario_zoo.runs.RunInUseError` (a ``ValueError`` naming the pid) if a live process is training
    the run.
    """
    run = open_run(path)
    check_not_in_use(run)
    config = run.read_config()
    start = 0
    if run.checkpoint.is_file():
        try:
            start = checkpoint.read_config(run.checkpoint).num_timesteps
        except (OSError, ValueError) as error:
            raise ValueError(f"Cannot resume {run.path}: its checkpoint is unreadable ({error}).") from error
    if steps is not None:
        if isinstance(steps, bool) or not isinstance(steps, int) or steps <= start:
            raise ValueError(f"--steps must be more than the {start} steps {run.path} has done, got {steps!r}.")
        config = dataclasses.replace(config, total_timesteps=steps)
    elif config.status == "finished":
        raise ValueError(
            f"Run {run.path} already finished its {config.total_timesteps} steps; pass --steps N (N > {start}) "
            "to train it further."
        )
    if device is not None:
        check_device(device)
        config = dataclasses.replace(config, device=device)
    if eval_episodes is not None:
        config = dataclasses.replace(config, eval_episodes=eval_episodes)
    if save_replay is not None:
        config = dataclasses.replace(config, save_replay=save_replay)
    if eval_freq is not None:
        config = dataclasses.replace(config, eval_freq=eval_freq)
    _check_eval_freq(config.eval_freq, config.eval_episodes)
    return ResumePlan(run, config, start)


@dataclass(frozen=True)
class TrainingOutcome:
    """What :func:`train` did."""

    run: RunFolder
    """Where everything went."""
    num_timesteps: int
    """Steps the agent has done in total."""
    start: int
    """Steps it had done when this call began (a resumed run's checkpoint)."""
    seconds: float
    """Wall-clock time of this call."""
    evaluation: Evaluation | None
    """The final evaluation (``None`` when interrupted or ``eval_episodes`` is 0)."""
    interrupted: bool = False
    """Stopped by Ctrl-C or SIGTERM; the checkpoint holds the state at that moment."""
    signal: int | None = None
    """The signal that stopped it (``SIGINT`` for Ctrl-C, ``SIGTERM`` from ``kill``, Slurm or Docker)."""

    @property
    def exit_code(self) -> int:
        """The shell's convention: 0 when finished, 128 + the signal number when stopped by one."""
        return 128 + int(self.signal) if self.interrupted and self.signal is not None else 0


class Terminated(KeyboardInterrupt):
    """Raised in the main thread when the process gets SIGTERM, so that training stops as it does on Ctrl-C."""

    def __init__(self, signal_number: int):
        super().__init__(f"received signal {signal_number}")
        self.signal_number = signal_number


@contextmanager
def _sigterm_as_interrupt() -> Iterator[None]:
    """Within the block, SIGTERM raises :class:`Terminated` (a ``KeyboardInterrupt``): checkpoint, then stop.

    Only the main thread can set signal handlers; elsewhere (training in a worker thread) the default stays.
    """
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def handler(signal_number: int, _frame: object) -> None:
        raise Terminated(signal_number)

    previous = signal.signal(signal.SIGTERM, handler)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


def load_resumed_model(plan: ResumePlan) -> DQN:
    """The model :func:`resume` continues: loaded from the run's checkpoint (with its replay buffer and RNG states
    when it has them), or a fresh one if the run was stopped before its first checkpoint. Writes nothing.

    A damaged checkpoint or replay buffer (a truncated file, a changed sha256) is a ``ValueError`` naming the file,
    raised before anything in the run folder is touched.
    """
    config = plan.config
    try:
        if plan.start and training_state.has_replay(plan.run.checkpoint):
            # Lossless: the buffer and every RNG state come from the checkpoint, so nothing is reseeded.
            model = DQN.load(plan.run.checkpoint, device=config.device)
            model.load_replay_buffer(plan.run.checkpoint)
            return model
        if plan.start:
            # A new seed: a resumed run must not replay the random stream the run started with.
            return DQN.load(plan.run.checkpoint, device=config.device, seed=config.seed + plan.start)
    except (OSError, ValueError) as error:
        raise ValueError(
            f"Cannot resume {plan.run.path}: {' '.join(str(error).split())} Nothing was changed; the run folder is "
            "as it was."
        ) from error
    return build_model(config)


def resume(plan: ResumePlan, *, progress: bool = True) -> TrainingOutcome:
    """Continue the run ``plan`` describes (see :func:`plan_resume`) until its step target."""
    model = load_resumed_model(plan)
    return train(plan.run, plan.config, model, resumed=plan.start > 0, progress=progress)


def train(
    run: RunFolder,
    config: RunConfig,
    model: DQN,
    *,
    resumed: bool = False,
    progress: bool = True,
) -> TrainingOutcome:
    """Train ``model`` until ``config.total_timesteps`` steps, writing everything into ``run``.

    Args:
        run: the run folder (created if missing).
        config: the run's settings (:func:`plan_run`, or :func:`plan_resume`'s).
        model: a fresh model (:func:`build_model`) or one loaded from ``run.checkpoint`` (``resumed=True``).
        resumed: continue the logs of ``run`` from the model's step counter instead of starting them afresh.
        progress: show the progress bar (on stderr).

    The process holds the run's lock (:func:`~mario_zoo.runs.lock_run`) throughout: while another live process
    trains the same folder, this raises :class:`~mario_zoo.runs.RunInUseError` naming it, having written nothing.
    """
    with lock_run(run):
        return _train_holding_lock(run, config, model, resumed=resumed, progress=progress)


def _train_holding_lock(
    run: RunFolder, config: RunConfig, model: DQN, *, resumed: bool, progress: bool
) -> TrainingOutcome:
    started = time.monotonic()
    start = model.num_timesteps if resumed else 0
    # Under the lock: a temporary file here is a killed writer's, never a live one's.
    remove_stale_temporaries(run.path)
    run.write_config(dataclasses.replace(config, status="running"))
    # Read before the logs are cut back: the best model may come from an evaluation after the checkpoint.
    best_evaluation = best_model_evaluation(run) if resumed else None
    if resumed:
        run.truncate_logs(start)
        # The progress bar and the rollout/ep_rew_mean log average the last episodes: start from the logged ones.
        episodes = run.episodes()
        model.ep_info_buffer.extend(
            {"r": float(r), "l": int(length)} for r, length in zip(episodes.returns, episodes.lengths, strict=True)
        )
    previous_env = model.get_env()
    if previous_env is not None:
        previous_env.close()
    # A factory, so that actor processes can build the env too. With actors, the Monitor in the actor's env writes
    # monitor.csv; the copy built here writes at most the same header and is never stepped.
    model.set_env(
        functools.partial(
            monitored_env,
            config.env_id,
            config.env_kwargs,
            str(run.monitor),
            override_existing=not resumed,
            # Mario's monitor.csv also gets where each episode ended and whether it reached the flag.
            info_keywords=("x_pos", "flag_get") if is_mario(config.env_id) else (),
            # Monitor's "t" column counts seconds from t_start: continue the killed run's clock, so that the rows
            # stay in time order (SB3's load_results and rl-zoo's plots sort by it).
            seconds_before=run.last_episode_time() if resumed else 0.0,
        )
    )
    logger = run_logger(run, start, resumed)
    model.set_logger(logger)
    callbacks: list[BaseCallback] = [PeriodicCheckpoint(run.checkpoint, config.save_freq, config.save_replay)]
    evaluations = None
    if config.eval_freq:
        evaluations = PeriodicEvaluation(
            config.env_id,
            config.env_kwargs,
            eval_freq=config.eval_freq,
            n_episodes=config.eval_episodes,
            protocol=config.eval_protocol,
            log_path=run.evaluations,
            best_model_path=run.best_model,
            history=read_evaluations(run.evaluations) if resumed else (),
            best=best_evaluation,
        )
        callbacks.append(evaluations)
    if not resumed:
        # A run started over (killed before its first checkpoint) must not show the old run's evaluations.
        run.evaluations.unlink(missing_ok=True)
    if progress:
        episodes_done = run.episodes().returns.size if resumed else 0
        callbacks.append(
            ProgressBar(config.total_timesteps, episodes_done, description=config.env_id, evaluations=evaluations)
        )
    try:
        with _sigterm_as_interrupt():
            remaining = config.total_timesteps - model.num_timesteps
            if remaining > 0:
                model.learn(remaining, callback=callbacks, reset_num_timesteps=not resumed)
    except KeyboardInterrupt as interrupt:
        saved_at = model.num_timesteps
        if config.save_replay and training_state.has_replay(run.checkpoint):
            # An interrupt can land in the middle of storing a transition: keep the last checkpoint, which holds
            # a consistent replay buffer from the start of a training round.
            saved_at = checkpoint.read_config(run.checkpoint).num_timesteps
        else:
            model.save(run.checkpoint)
        run.write_config(dataclasses.replace(config, status="interrupted"))
        signal_number = interrupt.signal_number if isinstance(interrupt, Terminated) else signal.SIGINT
        return TrainingOutcome(
            run, saved_at, start, time.monotonic() - started, None, interrupted=True, signal=signal_number
        )
    finally:
        model.get_env().close()
        logger.close()
    model.save(run.checkpoint, include_replay_buffer=config.save_replay)
    evaluation = None
    with model.averaged_weights():  # the agent a run hands over: the averaged weights, where it keeps them
        model.save(run.model, include_optimizer=False)
        if config.eval_episodes:
            protocol = run_protocol(config.env_id, config.eval_protocol, config.eval_episodes)
            evaluation = evaluate(model, config.env_id, config.env_kwargs, protocol=protocol)
    if evaluation is not None:
        results = {**evaluation.to_dict(), "num_timesteps": model.num_timesteps}
        write_text(run.results, json.dumps(results, indent=2, sort_keys=True) + "\n")
    if installed("matplotlib"):
        save_learning_curve(
            run.episodes(),
            run.learning_curve,
            title=f"{config.env_id}: {run.name}",
            evaluations=read_evaluations(run.evaluations),
        )
    run.write_config(dataclasses.replace(config, status="finished"))
    return TrainingOutcome(run, model.num_timesteps, start, time.monotonic() - started, evaluation)


def configure_torch_threads(config: RunConfig, threads: int | None = None) -> None:
    """Use ``threads`` torch threads; by default one for MLP policies on the CPU, and the cores the actors leave.

    A small MLP's matrix products are too small to split across cores: on a 2-core machine, CartPole's
    ``cartpole-fast`` preset trains 50k steps in ~35 s with one thread and several times slower with two, which
    spin against the env for the same cores. With ``actors`` processes stepping the env (one core each), the
    updates get the other cores: threads spinning on a core an actor needs slow both down.
    """
    import torch

    on_cpu = config.device == "cpu" or (config.device == "auto" and not torch.cuda.is_available())
    actors = config.hyperparameters.actors
    if threads is not None:
        torch.set_num_threads(threads)
    elif on_cpu and config.policy in ("MlpPolicy", "DuelingMlpPolicy"):
        torch.set_num_threads(1)
    elif on_cpu and actors:
        torch.set_num_threads(max(1, (os.process_cpu_count() or 1) - actors))


def _check_eval_freq(eval_freq: int | None, eval_episodes: int) -> None:
    if eval_freq is None:
        return
    if isinstance(eval_freq, bool) or not isinstance(eval_freq, int) or eval_freq < 1:
        raise ValueError(f"eval_freq must be an int >= 1 (env steps between evaluations), got {eval_freq!r}.")
    if eval_episodes < 1:
        raise ValueError(
            f"--eval-freq {eval_freq} evaluates over --eval-episodes episodes, which is {eval_episodes}; pass "
            "--eval-episodes N (N >= 1) or drop --eval-freq."
        )
