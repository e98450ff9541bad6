"""Evaluate an agent for the command line: N episodes, greedy or epsilon-greedy, with Mario's progress numbers.

It runs the Hub's protocol (:func:`mario_zoo.hub.evaluation.evaluate_agent`): Stable-Baselines3's
``evaluate_policy`` on a seeded, ``Monitor``-wrapped env, summarised in the same
:class:`~mario_zoo.hub.evaluation.EvaluationResult` that a Hub repo's ``results.json`` holds. On top it offers epsilon-greedy evaluation, random no-op starts on
Mario levels (``noop_max=30``, the usual Atari/Mario evaluation protocol) and, for envs whose ``info`` reports
``x_pos`` and ``flag_get``, how far each episode got and whether it reached the flag.

Example:
    >>> class Left:  # anything with SB3's predict() signature
    ...     exploration_rate = 0.0
    ...     def predict(self, observation, state=None, episode_start=None, deterministic=False):
    ...         return [0] * len(observation), None
    >>> evaluation = evaluate(Left(), "CartPole-v1", n_episodes=3)
    >>> evaluation.result.n_eval_episodes, evaluation.x_pos is None
    (3, True)
    >>> print(evaluation.summary())  # doctest: +ELLIPSIS
    CartPole-v1: mean return ... +/- ... over 3 episodes (greedy actions, env seed 0)
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from mario_zoo.acting import acting_with
from mario_zoo.envs import ENV_IDS
from mario_zoo.hub.evaluation import EVAL_SEED, EvaluationResult, evaluate_agent

MARIO_EVAL_NOOP_MAX = 30
"""Random no-ops (0..30) at the start of every Mario evaluation episode, so a greedy agent meets varied starts."""


def is_mario(env_id: str | None) -> bool:
    """Whether ``env_id`` is one of the registered ``MarioDQN`` IDs."""
    return env_id in ENV_IDS


def evaluation_env_kwargs(env_id: str, trained_kwargs: dict[str, Any], noop_max: int | None = None) -> dict[str, Any]:
    """The ``gym.make`` kwargs to evaluate on: the training env's, with Mario's no-op starts.

    Example:
        >>> evaluation_env_kwargs("MarioDQN-v0", {"actions": "right_only", "noop_max": 0, "render_mode": None})
        {'actions': 'right_only', 'noop_max': 30}
        >>> evaluation_env_kwargs("CartPole-v1", {}, noop_max=30)
        Traceback (most recent call last):
        ...
        ValueError: noop_max applies to MarioDQN envs only; CartPole-v1 has no no-op starts. Leave it unset.
    """
    # render_mode is a viewing choice of the training run, not part of the env.
    kwargs = {key: value for key, value in trained_kwargs.items() if key != "render_mode"}
    if is_mario(env_id):
        kwargs["noop_max"] = MARIO_EVAL_NOOP_MAX if noop_max is None else noop_max
    elif noop_max is not None:
        raise ValueError(f"noop_max applies to MarioDQN envs only; {env_id} has no no-op starts. Leave it unset.")
    return kwargs


@dataclass(frozen=True)
class Evaluation:
    """An evaluation's returns (the Hub's result) and, where the env reports them, Mario's progress numbers."""

    result: EvaluationResult
    """Returns and lengths per episode, mean and std, protocol, package versions."""
    epsilon: float | None
    """Probability of a random action (``None``: greedy)."""
    x_pos: list[int] | None = None
    """Furthest ``x_pos`` of each episode, for envs whose ``info`` has it."""
    flags: list[bool] | None = None
    """Whether each episode reached the flag (``info["flag_get"]``)."""

    @property
    def flag_rate(self) -> float | None:
        """Fraction of episodes that reached the flag."""
        return None if self.flags is None else float(np.mean(self.flags))

    def summary(self) -> str:
        """Human-readable lines: mean +/- std return, and for Mario mean/max ``x_pos`` and the flag rate."""
        result = self.result
        policy = "greedy actions" if self.epsilon is None else f"epsilon-greedy actions, epsilon={self.epsilon:g}"
        lines = [
            f"{result.env_id}: mean return {result.mean_reward_text} over {result.n_eval_episodes} episodes "
            f"({policy}, env seed {result.seed})"
        ]
        if self.x_pos is not None and self.flags is not None:
            lines.append(
                f"x_pos: mean {np.mean(self.x_pos):.1f}, max {max(self.x_pos)}; flag reached in {sum(self.flags)} "
                f"of {len(self.flags)} episodes ({100 * self.flag_rate:.0f}%)"
            )
        return "\n".join(lines)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready data: the Hub's ``results.json`` fields plus ``epsilon`` and the Mario numbers."""
        data = {**self.result.to_dict(), "epsilon": self.epsilon}
        if self.x_pos is not None and self.flags is not None:
            data |= {
                "x_pos": self.x_pos,
                "x_pos_mean": float(np.mean(self.x_pos)),
                "x_pos_max": max(self.x_pos),
                "flags": self.flags,
                "flag_rate": self.flag_rate,
            }
        return data


class _ProgressTracker:
    """``evaluate_policy`` callback: the furthest ``x_pos`` and the flag of each finished episode."""

    def __init__(self) -> None:
        self.x_pos: list[int] = []
        self.flags: list[bool] = []
        self._best_x: int | None = None
        self._flag = False

    def __call__(self, local_vars: dict[str, Any], _: dict[str, Any]) -> None:
        info = local_vars["info"]
        if "x_pos" in info:
            self._best_x = max(int(info["x_pos"]), self._best_x or 0)
            self._flag = self._flag or bool(info.get("flag_get", False))
        # evaluate_policy counts an episode only when Monitor reports it; count the same ones.
        if local_vars["done"] and "episode" in info:
            if self._best_x is not None:
                self.x_pos.append(self._best_x)
                self.flags.append(self._flag)
            self._best_x, self._flag = None, False


def evaluate(
    model: Any,
    env_id: str,
    env_kwargs: dict[str, Any] | None = None,
    *,
    n_episodes: int = 10,
    epsilon: float | None = None,
    seed: int = EVAL_SEED,
) -> Evaluation:
    """Play ``n_episodes`` full episodes of ``gym.make(env_id, **env_kwargs)`` and summarise them.

    Args:
        model: a DQN (anything with SB3's ``predict`` and an ``exploration_rate`` attribute).
        env_id: Gymnasium ID; use :func:`evaluation_env_kwargs` for the kwargs of a Mario evaluation.
        env_kwargs: ``gym.make`` keyword arguments.
        n_episodes: episodes to play (>= 1).
        epsilon: act randomly with this probability (``None``: greedy, SB3's ``deterministic=True``).
        seed: seed of the env's first reset; later episodes continue its random stream.
    """
    if isinstance(n_episodes, bool) or not isinstance(n_episodes, int) or n_episodes < 1:
        raise ValueError(f"The number of evaluation episodes must be an int >= 1, got {n_episodes!r}.")
    tracker = _ProgressTracker()
    with acting_with(model, epsilon) as deterministic:
        result = evaluate_agent(
            model,
            env_id,
            env_kwargs,
            n_eval_episodes=n_episodes,
            deterministic=deterministic,
            seed=seed,
            callback=tracker,
        )
    tracked = len(tracker.x_pos) == n_episodes
    return Evaluation(
        result, epsilon, x_pos=tracker.x_pos if tracked else None, flags=tracker.flags if tracked else None
    )
