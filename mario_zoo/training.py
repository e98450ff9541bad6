"""Train a DQN into a run folder: a live progress bar, SB3 logs, checkpoints that survive SIGKILL, a final
evaluation and the tutorial's learning curve.

Planning and training are separate steps, so that everything a user typed is checked before anything is
written: :func:`plan_run` / :func:`plan_resume` validate (raising ``ValueError`` or ``TypeError`` with the valid
choices), :func:`build_model` builds the agent in memory, and only :func:`train` creates files.

A run is resumable at any moment: every ``save_freq`` steps the full training state (weights, optimizer,
step counter, exploration) replaces ``checkpoint.zip`` in one atomic rename, and Ctrl-C or SIGTERM saves it at the
next round start before stopping (:mod:`mario_zoo.stopping`). :func:`resume` loads it, cuts the
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
import functools
import json
import os
import signal
import time
import warnings
from collections.abc import Mapping
from contextlib import ExitStack, closing
from dataclasses import dataclass
from pathlib import Path

import torch
from stable_baselines3.common.callbacks import BaseCallback

from mario_zoo.agents import DQN, checkpoint, training_state
from mario_zoo.agents.actor import ActorError
from mario_zoo.atomic import remove_stale_temporaries, write_bytes, write_text
from mario_zoo.callbacks import (
    PeriodicCheckpoint,
    PeriodicEvaluation,
    PeriodicSnapshot,
    ProgressBar,
    best_model_evaluation,
)
from mario_zoo.envs.frontier_archive import read_archive
from mario_zoo.evaluation import Evaluation, evaluate, is_mario, run_protocol
from mario_zoo.extras import installed
from mario_zoo.planning import (
    DEFAULT_SAVE_FREQ,
    ResumePlan,
    build_model,
    check_frontier_from,
    load_resumed_model,
    mario_level,
    plan_resume,
    plan_run,
)
from mario_zoo.plotting import save_learning_curve
from mario_zoo.run_lock import lock_run
from mario_zoo.runs import (
    EvaluationPoint,
    RunConfig,
    RunFolder,
    read_evaluations,
)
from mario_zoo.snapshots import run_of_checkpoint
from mario_zoo.stopping import StopAtRoundStart, StopRequest, Terminated, stop_on_signals
from mario_zoo.training_logs import EpisodeLog, monitored_env, run_logger

__all__ = [
    "DEFAULT_SAVE_FREQ",
    "ResumePlan",
    "TrainingOutcome",
    "build_model",
    "configure_torch_threads",
    "load_resumed_model",
    "plan_resume",
    "plan_run",
    "resume",
    "train",
]


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


def resume(
    plan: ResumePlan, *, progress: bool = True, init_weights: Mapping[str, torch.Tensor] | None = None
) -> TrainingOutcome:
    """Continue the run ``plan`` describes (see :func:`plan_resume`) until its step target; a warm start stopped
    before its first checkpoint starts again from ``init_weights`` (its ``init_from`` agent's weights)."""
    model = load_resumed_model(plan, init_weights)
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

    The process holds the run's lock (:func:`~mario_zoo.run_lock.lock_run`) throughout: while another live process
    trains the same folder, this raises :class:`~mario_zoo.run_lock.RunInUseError` naming it, having written nothing.
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
    if run.snapshots.is_dir():
        remove_stale_temporaries(run.snapshots)
    run.write_config(dataclasses.replace(config, status="running"))
    # Read before the logs are cut back: the best model may come from an evaluation after the checkpoint.
    best_evaluation = best_model_evaluation(run) if resumed else None
    if resumed:
        run.truncate_logs(start)
        # The progress bar and the rollout/ep_rew_mean log average the last episodes: start from the logged ones.
        episodes = run.episodes()
        model.ep_info_buffer.clear()  # the checkpoint's own are the same episodes, up to its step
        model.ep_info_buffer.extend(
            {"r": float(r), "l": int(length)} for r, length in zip(episodes.returns, episodes.lengths, strict=True)
        )
    # Closed in reverse order however training ends, also when setting up the logger or callbacks fails.
    cleanup = ExitStack()
    stop = StopAtRoundStart(StopRequest(), run.checkpoint, config.save_replay)
    try:
        episode_log = cleanup.enter_context(closing(_attach_monitored_env(run, config, model, resumed)))
        cleanup.callback(lambda: model.get_env().close())
        logger = run_logger(run, start, resumed)
        cleanup.callback(logger.close)
        model.set_logger(logger)
        stop.callbacks = [
            episode_log,
            *_callbacks(run, config, resumed=resumed, progress=progress, best=best_evaluation),
        ]
        with stop_on_signals(stop.request):
            remaining = config.total_timesteps - model.num_timesteps
            if remaining > 0:
                try:
                    model.learn(remaining, callback=stop, reset_num_timesteps=not resumed)
                except ActorError:
                    if stop.request.signal is None:
                        raise
                    # The signal reached the actor processes too (sent to the whole process group): stop at once.
                    if stop.request.signal == signal.SIGTERM:
                        raise Terminated(signal.SIGTERM) from None
                    raise KeyboardInterrupt from None
        if stop.request.signal is not None:  # asked to stop: saved at a round start, or now, after the last round
            saved_at = stop.saved_at if stop.saved_at is not None else stop.save(model)
            return _stopped(run, config, saved_at, start, started, stop.request.signal)
    except KeyboardInterrupt as interrupt:  # a second signal, or one outside learn: stop at once
        if stop.saved_at is not None:  # the stop's own checkpoint, at a round start
            saved_at = stop.saved_at
        elif config.save_replay and training_state.has_replay(run.checkpoint):
            # An interrupt can land in the middle of storing a transition: keep the last checkpoint, which holds
            # a consistent replay buffer from the start of a training round.
            saved_at = checkpoint.read_config(run.checkpoint).num_timesteps
        else:
            model.save(run.checkpoint)
            saved_at = model.num_timesteps
        signal_number = interrupt.signal_number if isinstance(interrupt, Terminated) else signal.SIGINT
        return _stopped(run, config, saved_at, start, started, signal_number)
    finally:
        cleanup.close()
    evaluation = _finish(run, config, model)
    return TrainingOutcome(run, model.num_timesteps, start, time.monotonic() - started, evaluation)


def _stopped(
    run: RunFolder, config: RunConfig, saved_at: int, start: int, started: float, signal_number: int
) -> TrainingOutcome:
    run.write_config(dataclasses.replace(config, status="interrupted"))
    seconds = time.monotonic() - started
    return TrainingOutcome(run, saved_at, start, seconds, None, interrupted=True, signal=signal_number)


def _attach_monitored_env(run: RunFolder, config: RunConfig, model: DQN, resumed: bool) -> EpisodeLog:
    """Give the model the run's env and return the callback that writes (or, resumed, continues) ``monitor.csv``."""
    previous_env = model.get_env()
    if previous_env is not None:
        previous_env.close()
    # Mario's monitor.csv also gets where each episode ended and whether it reached the flag.
    info_keywords = ("x_pos", "flag_get") if is_mario(config.env_id) else ()
    # monitor.csv's "t" column counts seconds from its t_start: continue the killed run's clock, so that the rows stay
    # in time order (SB3's load_results and rl-zoo's plots sort by it).
    seconds_before = run.last_episode_time() if resumed else 0.0
    env_kwargs = dict(config.env_kwargs)
    if is_mario(config.env_id) and env_kwargs.get("frontier_fraction"):
        # The frontier starts' game states outlive the process: a resumed run starts where the stopped one had got.
        if not resumed:
            run.frontier_archive.unlink(missing_ok=True)
            inherited = _given_frontier(config) if config.frontier_from else _inherited_frontier(config)
            if inherited is not None:
                write_bytes(run.frontier_archive, inherited.read_bytes())
        env_kwargs["frontier_archive"] = str(run.frontier_archive)
    # A factory, so that actor processes can build the env too; the rows are written here, from the steps' infos.
    model.set_env(functools.partial(monitored_env, config.env_id, env_kwargs, info_keywords=info_keywords))
    try:
        return EpisodeLog(
            run.monitor,
            config.env_id,
            override_existing=not resumed,
            info_keywords=info_keywords,
            seconds_before=seconds_before,
        )
    except BaseException:
        model.get_env().close()
        raise


def _given_frontier(config: RunConfig) -> Path:
    """The archive ``--frontier-from`` names, checked again as the run starts (it may have changed since
    :func:`plan_run`): a ``ValueError`` before the run's env is made if it is no longer one of the run's level."""
    check_frontier_from(config.frontier_from, config.env_id, config.env_kwargs)
    return Path(config.frontier_from)


def _inherited_frontier(config: RunConfig) -> Path | None:
    """The frontier archive a warm start continues: that of the run its ``init_from`` checkpoint comes from (a
    snapshot, ``model/`` or ``best_model/`` of a run folder), if that run trained the same level with frontier
    starts; ``None`` otherwise (a zoo or Hub agent, another level). A damaged one is left behind with a warning."""
    if not config.init_from or not Path(config.init_from).exists():
        return None
    try:
        source = run_of_checkpoint(config.init_from)
        source_config = None if source is None else source.read_config()
    except (OSError, ValueError):
        return None
    if source is None or not is_mario(source_config.env_id) or not source.frontier_archive.is_file():
        return None
    if mario_level(source_config) != mario_level(config):
        return None
    try:
        read_archive(source.frontier_archive, mario_level(config))
    except (OSError, ValueError) as error:
        warnings.warn(f"Frontier starts begin anew: {str(error).rstrip('.')}.", stacklevel=2)
        return None
    return source.frontier_archive


def _callbacks(
    run: RunFolder, config: RunConfig, *, resumed: bool, progress: bool, best: EvaluationPoint | None
) -> list[BaseCallback]:
    """Periodic checkpoints, snapshots (with ``snapshot_freq``), periodic evaluations (with ``eval_freq``; a resumed
    run continues their history and keeps its ``best`` model) and the progress bar."""
    callbacks: list[BaseCallback] = [PeriodicCheckpoint(run.checkpoint, config.save_freq, config.save_replay)]
    if config.snapshot_freq:
        callbacks.append(PeriodicSnapshot(run.snapshots, config.snapshot_freq))
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
            best=best,
        )
        callbacks.append(evaluations)
    if not resumed:
        # A run started over (killed before its first checkpoint) must not show the old run's evaluations or
        # snapshots.
        run.evaluations.unlink(missing_ok=True)
        run.drop_snapshots_after(0)
    if progress:
        episodes_done = run.episodes().returns.size if resumed else 0
        callbacks.append(
            ProgressBar(config.total_timesteps, episodes_done, description=config.env_id, evaluations=evaluations)
        )
    return callbacks


def _finish(run: RunFolder, config: RunConfig, model: DQN) -> Evaluation | None:
    """After the last step: the checkpoint, the agent (averaged weights where it keeps them), the final evaluation
    in ``results.json``, the learning curve, and ``status: finished``."""
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
    return evaluation


def configure_torch_threads(config: RunConfig, threads: int | None = None) -> None:
    """Use ``threads`` torch threads; by default one for MLP policies on the CPU, and the cores the actors leave.

    A small MLP's matrix products are too small to split across cores: on a 2-core machine, CartPole's
    ``cartpole-fast`` preset trains 50k steps in ~35 s with one thread and several times slower with two, which
    spin against the env for the same cores. With ``actors`` processes stepping the env (one core each), the
    updates get the other cores: threads spinning on a core an actor needs slow both down.
    """

    on_cpu = config.device == "cpu" or (config.device == "auto" and not torch.cuda.is_available())
    actors = config.hyperparameters.actors
    if threads is not None:
        torch.set_num_threads(threads)
    elif on_cpu and config.policy in ("MlpPolicy", "DuelingMlpPolicy"):
        torch.set_num_threads(1)
    elif on_cpu and actors:
        torch.set_num_threads(max(1, (os.process_cpu_count() or 1) - actors))
