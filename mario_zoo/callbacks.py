"""Training callbacks (SB3's ``BaseCallback`` API): periodic evaluation and the best model, periodic checkpoints,
snapshots of the agent, and the progress bar.

:class:`PeriodicEvaluation` is rl-zoo's ``EvalCallback`` habit on top of :func:`mario_zoo.evaluation.evaluate`,
under the env's default protocol unless told otherwise (Mario: the exact no-op sweep, greedy from each of the 31
no-op starts, so the best model is chosen without sampling noise; other envs: seeded greedy episodes). It plays a
separate env built from the agent's play kwargs (frontier starts and training noise off). It logs each evaluation
(``eval/*`` keys in ``progress.csv`` and TensorBoard, a row in ``evaluations.csv``), keeps the best agent in a
checkpoint directory, replaced atomically, and hands each point to ``on_evaluation``, which may stop training.

Example:
    >>> import tempfile
    >>> from mario_zoo.agents import DQN
    >>> folder = Path(tempfile.mkdtemp())
    >>> model = DQN("MlpPolicy", "CartPole-v1", learning_starts=50, seed=0)
    >>> evaluations = PeriodicEvaluation(
    ...     "CartPole-v1", {}, eval_freq=100, n_episodes=2,  # the default protocol for CartPole: seeded episodes
    ...     log_path=folder / "evaluations.csv", best_model_path=folder / "best_model",
    ... )
    >>> model = model.learn(300, callback=evaluations)
    >>> [point.timesteps for point in evaluations.history]
    [100, 200, 300]
    >>> sorted(path.name for path in folder.iterdir())
    ['best_model', 'evaluations.csv']
    >>> until_200 = PeriodicEvaluation("CartPole-v1", {}, eval_freq=100, n_episodes=1,
    ...                                on_evaluation=lambda point: point.timesteps < 200)
    >>> DQN("MlpPolicy", "CartPole-v1", seed=0).learn(1000, callback=until_200).num_timesteps
    200
"""

from __future__ import annotations

import contextlib
import os
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np
from stable_baselines3.common.callbacks import BaseCallback
from tqdm import tqdm

from mario_zoo.agents import checkpoint
from mario_zoo.evaluation import Protocol, evaluate, run_protocol
from mario_zoo.results import STATISTICS, Evaluation
from mario_zoo.runs import EvaluationPoint, RunFolder, read_evaluations, snapshot_name, write_evaluations


def next_multiple(steps: int, every: int) -> int:
    """The first multiple of ``every`` after ``steps``: when a periodic callback acts next (after a resume too).

    Example:
        >>> next_multiple(0, 100), next_multiple(150, 100), next_multiple(200, 100)
        (100, 200, 300)
    """
    return (steps // every + 1) * every


class PeriodicEvaluation(BaseCallback):
    """Every ``eval_freq`` env steps, evaluate the model under ``protocol`` and keep the best one.

    Each evaluation appends an :class:`~mario_zoo.runs.EvaluationPoint` to :attr:`history`, rewrites
    ``log_path`` (``evaluations.csv``) atomically, and records ``eval/<statistic>`` for each statistic the env
    reports (``eval/mean_reward``, ``eval/std_reward``, ``eval/mean_ep_length``; Mario also ``eval/flag_rate``,
    ``eval/x_pos_mean``, ``eval/x_pos_max``) in the model's logger, dumped at the current step as SB3's
    ``EvalCallback`` does. When the evaluation ranks above every earlier one
    (:attr:`~mario_zoo.results.Statistics.rank`: Mario by flag rate, then mean furthest ``x_pos``; other envs by mean
    return; ties keep the earlier model), the model is
    saved to ``best_model_path``, a checkpoint directory that is written next to the old one and swapped in, so a
    reader or a killed process never sees half of it. Then ``on_evaluation`` sees the point; returning ``False``
    stops training, as a ``False`` from an SB3 callback does.

    ``mario-zoo train``, ``compare`` (no files: the history is each run's curve, :attr:`seconds` is left out of its
    speed) and ``sweep`` (``on_evaluation`` reports to the Optuna trial and stops a pruned one) all use this class.

    Args:
        env_id: the training env's ID.
        env_kwargs: the training env's ``gym.make`` kwargs (the evaluation protocol adjusts them).
        eval_freq: env steps between evaluations (>= 1).
        n_episodes: episodes per evaluation (>= 1) for the protocols that count episodes; the no-op sweep plays one
            per no-op count and ignores it.
        protocol: one of :data:`mario_zoo.evaluation.PROTOCOLS` (default: the env's,
            :func:`~mario_zoo.evaluation.default_protocol`).
        log_path: the ``evaluations.csv`` to write (``None``: keep the history in memory only).
        best_model_path: the checkpoint directory of the best model (``None``: do not save it).
        history: evaluations of earlier training (a resumed run): the file continues them, and the best model is
            replaced only by an evaluation that ranks above ``best``.
        best: the evaluation the existing ``best_model_path`` holds (default: the best of ``history``).
        on_evaluation: called with each new point once it is logged and the best model saved.
    """

    def __init__(
        self,
        env_id: str,
        env_kwargs: dict[str, Any],
        *,
        eval_freq: int,
        n_episodes: int,
        protocol: str | None = None,
        log_path: str | os.PathLike[str] | None = None,
        best_model_path: str | os.PathLike[str] | None = None,
        history: Sequence[EvaluationPoint] = (),
        best: EvaluationPoint | None = None,
        on_evaluation: Callable[[EvaluationPoint], bool | None] | None = None,
    ) -> None:
        super().__init__()
        for name, value in (("eval_freq", eval_freq), ("n_episodes", n_episodes)):
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise ValueError(f"{name} must be an int >= 1, got {value!r}.")
        self.env_id = env_id
        self.env_kwargs = dict(env_kwargs)
        self.eval_freq = eval_freq
        self.protocol: Protocol = run_protocol(env_id, protocol, n_episodes)
        self.log_path = None if log_path is None else Path(log_path)
        self.best_model_path = None if best_model_path is None else Path(best_model_path)
        self.history: list[EvaluationPoint] = list(history)
        self.best = best if best is not None else max(self.history, key=lambda point: point.rank, default=None)
        self.on_evaluation = on_evaluation
        self.evaluation: Evaluation | None = None
        """The latest evaluation's full record (``None`` before the first one of this training)."""
        self.seconds = 0.0
        """Wall-clock seconds spent evaluating, so that a speed measurement can leave them out."""
        self.stopped = False
        """Whether ``on_evaluation`` asked to stop training."""
        self._next = eval_freq

    @property
    def last(self) -> EvaluationPoint | None:
        """The latest evaluation (``None`` before the first)."""
        return self.history[-1] if self.history else None

    def _init_callback(self) -> None:
        self._next = next_multiple(self.model.num_timesteps, self.eval_freq)

    def _on_step(self) -> bool:
        if self.num_timesteps >= self._next:
            self.evaluate()
            self._next = next_multiple(self.num_timesteps, self.eval_freq)
        return not self.stopped

    def evaluate(self, protocol: Protocol | None = None) -> EvaluationPoint:
        """Evaluate now (under ``protocol``, default the callback's), log it, and save the model if it is the best
        so far.

        A model that averages its weights (``ema_decay``) is judged, and saved, with the averaged ones.
        """
        started = time.perf_counter()
        averaged = getattr(self.model, "averaged_weights", contextlib.nullcontext)
        with averaged():
            self.evaluation = evaluate(self.model, self.env_id, self.env_kwargs, protocol=protocol or self.protocol)
            point = EvaluationPoint.of(self.evaluation, timesteps=self.model.num_timesteps)
            self.history.append(point)
            # The row first: a run killed before the model is saved resumes knowing the best model's true rank.
            if self.log_path is not None:
                write_evaluations(self.log_path, self.history)
            if self.best is None or point.rank > self.best.rank:
                if self.best_model_path is not None:
                    self.model.save(self.best_model_path, include_optimizer=False)
                self.best = point
        self.seconds += time.perf_counter() - started
        self._log(point)
        if self.on_evaluation is not None and self.on_evaluation(point) is False:
            self.stopped = True
        return point

    def _log(self, point: EvaluationPoint) -> None:
        for name in STATISTICS:
            if name != "n_eval_episodes" and (value := getattr(point, name)) is not None:
                self.logger.record(f"eval/{name}", value)
        # The row needs its step: resuming cuts progress.csv back by this column.
        self.logger.record("time/total_timesteps", self.num_timesteps, exclude="tensorboard")
        self.logger.dump(self.num_timesteps)


def best_model_evaluation(run: RunFolder) -> EvaluationPoint | None:
    """The logged evaluation of the run's ``best_model/`` (``None`` if it has none or it is unreadable: then the
    next evaluation better than the history replaces it)."""
    if not (run.best_model / "config.json").is_file():
        return None
    try:
        steps = checkpoint.read_config(run.best_model).num_timesteps
    except checkpoint.CheckpointError:
        return None
    return next((point for point in read_evaluations(run.evaluations) if point.timesteps == steps), None)


class ProgressBar(BaseCallback):
    """A tqdm bar over the run's step target: steps, episodes, mean return of the last 100 episodes, epsilon,
    steps/s and ETA.

    The mean return is the model's ``ep_info_buffer`` (SB3's ``rollout/ep_rew_mean``), so the bar and the logs
    agree. The bar is redrawn at most every ``refresh_seconds``, so it costs nothing measurable per step.
    ``position`` puts it on its own terminal line (tqdm's ``position``), so runs trained in parallel processes
    do not overwrite each other's bars. Given the run's :class:`~mario_zoo.callbacks.PeriodicEvaluation`, it also
    shows the latest evaluation (Mario: flag rate and mean furthest ``x_pos``; else mean return).
    """

    def __init__(
        self,
        total_timesteps: int,
        episodes_done: int = 0,
        *,
        description: str | None = None,
        refresh_seconds: float = 0.2,
        position: int | None = None,
        evaluations: PeriodicEvaluation | None = None,
    ):
        super().__init__()
        self.total_timesteps = total_timesteps
        self.episodes = episodes_done
        self.description = description
        self.refresh_seconds = refresh_seconds
        self.position = position
        self.evaluations = evaluations
        self._bar: tqdm | None = None
        self._last_refresh = 0.0

    def _on_training_start(self) -> None:
        self._bar = tqdm(
            total=self.total_timesteps,
            initial=self.model.num_timesteps,
            desc=self.description,
            position=self.position,
            unit="step",
            unit_scale=True,
            dynamic_ncols=True,
            file=sys.stderr,
        )
        self._refresh()

    def _on_step(self) -> bool:
        self.episodes += sum("episode" in info for info in self.locals["infos"])
        if time.monotonic() - self._last_refresh >= self.refresh_seconds:
            self._refresh()
        return True

    def _on_training_end(self) -> None:
        self._refresh()
        self._bar.close()

    def _refresh(self) -> None:
        returns = [info["r"] for info in self.model.ep_info_buffer]
        mean_return = f"{np.mean(returns):.1f}" if returns else "-"
        window = self.model.ep_info_buffer.maxlen
        postfix = f"episodes={self.episodes}, return_{window}={mean_return}, epsilon={self.model.exploration_rate:.3f}"
        last = self.evaluations.last if self.evaluations is not None else None
        if last is not None and last.flag_rate is not None:
            postfix += f", eval_flags={last.flag_rate:.0%}, eval_x={last.x_pos_mean:.0f}"
        elif last is not None:
            postfix += f", eval_return={last.mean_reward:.1f}"
        self._bar.set_postfix_str(postfix, refresh=False)
        # Like SB3, learn() finishes its last train_freq round, so it can end a few steps past the target.
        self._bar.total = max(self._bar.total, self.model.num_timesteps)
        self._bar.update(self.model.num_timesteps - self._bar.n)
        self._last_refresh = time.monotonic()


class PeriodicCheckpoint(BaseCallback):
    """Save the model to ``path`` every ``save_freq`` env steps, replacing the previous checkpoint atomically.

    Give ``path`` a ``.zip`` suffix: the model is then written to a temporary file and renamed over the old one,
    so a process killed at any moment leaves either the old or the new checkpoint, never a mix.

    With ``save_replay`` the checkpoint also holds the replay buffer and every RNG state, and it is taken at the
    start of the first training round at or after each ``save_freq`` steps: there every transition collected is
    stored and every update done, so a run resumed from it repeats exactly what this one does next. (Mid-round,
    after an env step, the step's transition is not stored yet.)
    """

    def __init__(self, path: str | os.PathLike[str], save_freq: int, save_replay: bool = False):
        super().__init__()
        if not checkpoint.is_zip_path(path):
            raise ValueError(f"Periodic checkpoints must be .zip files (one atomic rename), got {path}.")
        self.path = Path(path)
        self.save_freq = save_freq
        self.save_replay = save_replay
        self._next_save = save_freq

    def _init_callback(self) -> None:
        self._next_save = next_multiple(self.model.num_timesteps, self.save_freq)

    def _on_step(self) -> bool:
        if not self.save_replay:
            self._save_if_due()
        return True

    def _on_rollout_start(self) -> None:
        if self.save_replay:
            self._save_if_due()

    def _save_if_due(self) -> None:
        steps = self.model.num_timesteps
        if steps >= self._next_save:
            self.model.save(self.path, include_replay_buffer=self.save_replay)
            self._next_save = next_multiple(steps, self.save_freq)


class PeriodicSnapshot(BaseCallback):
    """Keep the agent every ``snapshot_freq`` env steps in ``folder/step-<steps, 9 digits>/``, a checkpoint
    directory (weights and settings, no optimizer or replay), to choose among after or beside the run.

    SB3's ``CheckpointCallback`` habit for a run whose greedy policy swings between checkpoints: periodic evaluations
    judge a few of them while training, snapshots keep them all, so that any number can be judged later, in another
    process or on another machine (``mario-zoo evaluate runs/NAME/snapshots/*``). A model that averages its weights
    (``ema_decay``) is kept with the averaged ones, the weights its evaluations judge. Each snapshot is written next
    to its final name and renamed into place, so a killed run leaves whole snapshots only.

    Example:
        >>> import tempfile
        >>> from mario_zoo.agents import DQN
        >>> folder = Path(tempfile.mkdtemp())
        >>> _ = DQN("MlpPolicy", "CartPole-v1", seed=0).learn(250, callback=PeriodicSnapshot(folder, 100))
        >>> sorted(path.name for path in folder.iterdir())
        ['step-000000100', 'step-000000200']
    """

    def __init__(self, folder: str | os.PathLike[str], snapshot_freq: int):
        super().__init__()
        if isinstance(snapshot_freq, bool) or not isinstance(snapshot_freq, int) or snapshot_freq < 1:
            raise ValueError(f"snapshot_freq must be an int >= 1 (env steps between snapshots), got {snapshot_freq!r}.")
        self.folder = Path(folder)
        self.snapshot_freq = snapshot_freq
        self._next = snapshot_freq

    def _init_callback(self) -> None:
        # A resumed run keeps the snapshots it has and takes the next at the next multiple of snapshot_freq.
        self._next = next_multiple(self.model.num_timesteps, self.snapshot_freq)

    def _on_step(self) -> bool:
        steps = self.model.num_timesteps
        if steps >= self._next:
            averaged = getattr(self.model, "averaged_weights", contextlib.nullcontext)
            with averaged():
                self.model.save(self.folder / snapshot_name(steps), include_optimizer=False)
            self._next = next_multiple(steps, self.snapshot_freq)
        return True
