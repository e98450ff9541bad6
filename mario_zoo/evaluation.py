"""The one evaluation protocol: N seeded episodes, greedy or epsilon-greedy, with Mario's progress numbers.

Every number mario-zoo reports comes from :func:`evaluate`: ``mario-zoo evaluate``, a run's final evaluation,
``compare``, a Hub repo's ``results.json`` and the zoo's registry. It plays Stable-Baselines3's
``evaluate_policy`` on a fresh ``Monitor``-wrapped env seeded with :data:`EVAL_SEED` (so rewards are
whole-episode returns even when wrappers end "lives" early, and the same agent gets the same numbers on the same
machine); Mario levels start each episode with 0..30 random no-ops (:func:`evaluation_env_kwargs`, the usual
Atari/Mario protocol), and envs whose ``info`` reports ``x_pos`` and ``flag_get`` also get how far each episode
got and whether it reached the flag. This module sits below the Hub and the zoo and imports neither: publishing
takes an evaluation already made.

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

import math
import sys
from collections.abc import Callable
from contextlib import nullcontext
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from typing import Any

import gymnasium as gym
import numpy as np
from stable_baselines3.common.evaluation import evaluate_policy
from stable_baselines3.common.monitor import Monitor
from stable_baselines3.common.vec_env import DummyVecEnv
from tqdm import tqdm

from mario_zoo.acting import acting_with
from mario_zoo.agents.checkpoint import package_versions
from mario_zoo.envs import ENV_IDS, playing_kwargs

EVAL_SEED = 0
"""Seed of the evaluation env's first reset: fixed, so a published number can be reproduced."""

MARIO_EVAL_NOOP_MAX = 30
"""Random no-ops (0..30) at the start of every Mario evaluation episode, so a greedy agent meets varied starts."""


def is_mario(env_id: str | None) -> bool:
    """Whether ``env_id`` is one of the registered ``MarioDQN`` IDs."""
    return env_id in ENV_IDS


def evaluation_env_kwargs(env_id: str, trained_kwargs: dict[str, Any], noop_max: int | None = None) -> dict[str, Any]:
    """The ``gym.make`` kwargs to evaluate on: the training env's, with Mario's no-op starts and without its
    training-only options (frontier starts are off: every evaluation episode starts at the level start).

    Example:
        >>> evaluation_env_kwargs("MarioDQN-v0", {"actions": "right_only", "noop_max": 0, "frontier_fraction": 0.5})
        {'actions': 'right_only', 'noop_max': 30}
        >>> evaluation_env_kwargs("CartPole-v1", {}, noop_max=30)
        Traceback (most recent call last):
        ...
        ValueError: noop_max applies to MarioDQN envs only; CartPole-v1 has no no-op starts. Leave it unset.
    """
    kwargs = playing_kwargs(trained_kwargs)
    if is_mario(env_id):
        kwargs["noop_max"] = MARIO_EVAL_NOOP_MAX if noop_max is None else noop_max
    elif noop_max is not None:
        raise ValueError(f"noop_max applies to MarioDQN envs only; {env_id} has no no-op starts. Leave it unset.")
    return kwargs


@dataclass(frozen=True)
class EvaluationResult:
    """The returns of an evaluation: what ``results.json`` holds and a model card reports."""

    env_id: str
    """Gymnasium id of the evaluation env."""
    env_kwargs: dict[str, Any]
    """Keyword arguments the env was made with (``gym.make(env_id, **env_kwargs)``)."""
    mean_reward: float
    """Mean undiscounted episode return."""
    std_reward: float
    """Standard deviation of the episode returns."""
    n_eval_episodes: int
    """Number of complete episodes evaluated."""
    deterministic: bool
    """Whether the agent acted greedily (no exploration) during evaluation."""
    episode_rewards: list[float]
    """Return of each episode, in order."""
    episode_lengths: list[int]
    """Length of each episode in env steps, in order."""
    seed: int = EVAL_SEED
    """Seed passed to the first ``reset`` of the evaluation env."""
    date: str = field(default_factory=lambda: datetime.now(UTC).isoformat(timespec="seconds"))
    """When the evaluation ran (UTC, ISO 8601)."""
    package_versions: dict[str, str] = field(default_factory=package_versions)
    """Versions of Python and the packages that influence the result."""

    @property
    def protocol(self) -> str:
        """One sentence saying how the numbers were obtained."""
        policy = "deterministic (greedy)" if self.deterministic else "stochastic (epsilon-greedy)"
        kwargs = f" with kwargs {self.env_kwargs}" if self.env_kwargs else ""
        return (
            f"{self.n_eval_episodes} episodes of {self.env_id}{kwargs}, {policy} actions, env seeded with "
            f"{self.seed}; stable_baselines3.common.evaluation.evaluate_policy on a Monitor-wrapped env "
            "(mean and standard deviation of the undiscounted episode return)."
        )

    @property
    def mean_reward_text(self) -> str:
        """``"mean +/- std"``, the form model-index and leaderboards use."""
        return f"{self.mean_reward:.2f} +/- {self.std_reward:.2f}"

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready data, with the protocol sentence included for readers of ``results.json``."""
        return {**asdict(self), "protocol": self.protocol}


@dataclass(frozen=True)
class Evaluation:
    """An evaluation's returns and, where the env reports them, Mario's progress numbers."""

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

    @property
    def flag_interval(self) -> tuple[float, float] | None:
        """95% Wilson score interval of the flag rate (``None`` where the env reports no flag)."""
        return None if self.flags is None else wilson_interval(sum(self.flags), len(self.flags))

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
        """JSON-ready data (``results.json``, ``evaluate --json``): the result's fields, ``epsilon`` and the
        Mario numbers."""
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
    """``evaluate_policy`` callback: the furthest ``x_pos`` and the flag of each finished episode, and a progress
    bar (episodes, mean return so far) when given one."""

    def __init__(self, bar: Any = None) -> None:
        self.x_pos: list[int] = []
        self.flags: list[bool] = []
        self.returns: list[float] = []
        self._best_x: int | None = None
        self._flag = False
        self._bar = bar

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
            self.returns.append(float(info["episode"]["r"]))
            if self._bar is not None:
                self._bar.set_postfix_str(f"mean return {np.mean(self.returns):.1f}", refresh=False)
                self._bar.update(1)


def wilson_interval(successes: int, trials: int, z: float = 1.959964) -> tuple[float, float]:
    """The Wilson score interval of a proportion (95% by default): sound at 0 and ``trials`` successes too.

    Example:
        >>> [round(bound, 3) for bound in wilson_interval(50, 100)]
        [0.404, 0.596]
        >>> [round(bound, 3) for bound in wilson_interval(0, 100)]
        [0.0, 0.037]
    """
    if trials < 1 or not 0 <= successes <= trials:
        raise ValueError(f"Need 0 <= successes <= trials and trials >= 1, got {successes} of {trials}.")
    rate = successes / trials
    centre = (rate + z * z / (2 * trials)) / (1 + z * z / trials)
    half = z * math.sqrt(rate * (1 - rate) / trials + z * z / (4 * trials * trials)) / (1 + z * z / trials)
    return max(0.0, centre - half), min(1.0, centre + half)


def evaluate(
    model: Any,
    env_id: str,
    env_kwargs: dict[str, Any] | None = None,
    *,
    n_episodes: int = 10,
    epsilon: float | None = None,
    seed: int = EVAL_SEED,
    progress: bool = False,
) -> Evaluation:
    """Play ``n_episodes`` full episodes of ``gym.make(env_id, **env_kwargs)`` and summarise them.

    Args:
        model: a DQN (anything with SB3's ``predict`` and an ``exploration_rate`` attribute).
        env_id: Gymnasium ID; use :func:`evaluation_env_kwargs` for the kwargs of a Mario evaluation.
        env_kwargs: ``gym.make`` keyword arguments.
        n_episodes: episodes to play (>= 1).
        epsilon: act randomly with this probability (``None``: greedy, SB3's ``deterministic=True``).
        seed: seed of the env's first reset; later episodes continue its random stream.
        progress: show a progress bar on stderr (episodes played, mean return so far).
    """
    if isinstance(n_episodes, bool) or not isinstance(n_episodes, int) or n_episodes < 1:
        raise ValueError(f"The number of evaluation episodes must be an int >= 1, got {n_episodes!r}.")
    with (
        tqdm(total=n_episodes, unit="episode", desc="evaluating", file=sys.stderr, dynamic_ncols=True)
        if progress
        else nullcontext()
    ) as bar:
        tracker = _ProgressTracker(bar)
        with acting_with(model, epsilon) as deterministic:
            result = _play_episodes(model, env_id, dict(env_kwargs or {}), n_episodes, deterministic, seed, tracker)
    tracked = len(tracker.x_pos) == n_episodes
    return Evaluation(
        result, epsilon, x_pos=tracker.x_pos if tracked else None, flags=tracker.flags if tracked else None
    )


def _play_episodes(
    model: Any,
    env_id: str,
    env_kwargs: dict[str, Any],
    n_episodes: int,
    deterministic: bool,
    seed: int,
    callback: Callable[[dict[str, Any], dict[str, Any]], None],
) -> EvaluationResult:
    """SB3's ``evaluate_policy`` on a fresh, seeded, ``Monitor``-wrapped env; ``callback`` sees every step."""
    vec_env = DummyVecEnv([lambda: Monitor(gym.make(env_id, **env_kwargs))])
    vec_env.seed(seed)
    try:
        rewards, lengths = evaluate_policy(
            model,
            vec_env,
            n_eval_episodes=n_episodes,
            deterministic=deterministic,
            return_episode_rewards=True,
            callback=callback,
        )
    finally:
        vec_env.close()
    return EvaluationResult(
        env_id=env_id,
        env_kwargs=env_kwargs,
        mean_reward=float(np.mean(rewards)),
        std_reward=float(np.std(rewards)),
        n_eval_episodes=n_episodes,
        deterministic=deterministic,
        episode_rewards=[float(reward) for reward in rewards],
        episode_lengths=[int(length) for length in lengths],
        seed=seed,
    )
