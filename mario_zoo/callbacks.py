"""Training callbacks (SB3's ``BaseCallback`` API): periodic evaluation and the best model.

:class:`PeriodicEvaluation` is rl-zoo's ``EvalCallback`` habit on top of :func:`mario_zoo.evaluation.evaluate`,
under the env's default protocol unless told otherwise (Mario: the exact no-op sweep, greedy from each of the 31
no-op starts, so the best model is chosen without sampling noise; other envs: seeded greedy episodes). It plays a
separate env built from the agent's play kwargs (frontier starts and training noise off). It logs each evaluation
(``eval/*`` keys in ``progress.csv`` and TensorBoard, a row in ``evaluations.csv``) and keeps the best agent in a
checkpoint directory, replaced atomically.

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
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
from stable_baselines3.common.callbacks import BaseCallback

from mario_zoo.evaluation import Evaluation, Protocol, evaluate, run_protocol
from mario_zoo.runs import EvaluationPoint, write_evaluations


class PeriodicEvaluation(BaseCallback):
    """Every ``eval_freq`` env steps, evaluate the model under ``protocol`` and keep the best one.

    Each evaluation appends an :class:`~mario_zoo.runs.EvaluationPoint` to :attr:`history`, rewrites
    ``log_path`` (``evaluations.csv``) atomically, and records ``eval/mean_reward``, ``eval/std_reward``,
    ``eval/mean_ep_length`` (Mario also ``eval/mean_x_pos``, ``eval/max_x_pos``, ``eval/flag_rate``) in the model's
    logger, dumped at the current step as SB3's ``EvalCallback`` does. When the evaluation ranks above every earlier
    one (:attr:`EvaluationPoint.rank`: Mario by flag rate, then mean furthest ``x_pos``; other envs by mean return;
    ties keep the earlier model), the model is saved to ``best_model_path``, a checkpoint directory that is
    written next to the old one and swapped in, so a reader or a killed process never sees half of it.

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
        self._next = eval_freq

    @property
    def last(self) -> EvaluationPoint | None:
        """The latest evaluation (``None`` before the first)."""
        return self.history[-1] if self.history else None

    def _init_callback(self) -> None:
        self._next = (self.model.num_timesteps // self.eval_freq + 1) * self.eval_freq

    def _on_step(self) -> bool:
        if self.num_timesteps >= self._next:
            self.evaluate()
            self._next = (self.num_timesteps // self.eval_freq + 1) * self.eval_freq
        return True

    def evaluate(self) -> EvaluationPoint:
        """Evaluate now, log it, and save the model if it is the best so far."""
        evaluation = evaluate(self.model, self.env_id, self.env_kwargs, protocol=self.protocol)
        point = _point(self.model.num_timesteps, evaluation)
        self.history.append(point)
        # The row first: a run killed before the model is saved then resumes knowing the best model's true rank.
        if self.log_path is not None:
            write_evaluations(self.log_path, self.history)
        if self.best is None or point.rank > self.best.rank:
            if self.best_model_path is not None:
                self.model.save(self.best_model_path, include_optimizer=False)
            self.best = point
        self._log(point)
        return point

    def _log(self, point: EvaluationPoint) -> None:
        self.logger.record("eval/mean_reward", point.mean_reward)
        self.logger.record("eval/std_reward", point.std_reward)
        self.logger.record("eval/mean_ep_length", point.mean_ep_length)
        if point.flag_rate is not None:
            self.logger.record("eval/mean_x_pos", point.mean_x_pos)
            self.logger.record("eval/max_x_pos", point.max_x_pos)
            self.logger.record("eval/flag_rate", point.flag_rate)
        # The row needs its step: resuming cuts progress.csv back by this column.
        self.logger.record("time/total_timesteps", self.num_timesteps, exclude="tensorboard")
        self.logger.dump(self.num_timesteps)


def _point(timesteps: int, evaluation: Evaluation) -> EvaluationPoint:
    result = evaluation.result
    mario = evaluation.x_pos is not None and evaluation.flags is not None
    return EvaluationPoint(
        timesteps=timesteps,
        episodes=result.n_eval_episodes,
        mean_reward=result.mean_reward,
        std_reward=result.std_reward,
        mean_ep_length=float(np.mean(result.episode_lengths)),
        mean_x_pos=float(np.mean(evaluation.x_pos)) if mario else None,
        max_x_pos=max(evaluation.x_pos) if mario else None,
        flag_rate=evaluation.flag_rate if mario else None,
    )
