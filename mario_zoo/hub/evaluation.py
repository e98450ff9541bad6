"""Evaluate an agent the way the model card reports it, and record the replay video the Hub page shows.

Evaluation runs Stable-Baselines3's ``evaluate_policy`` on a fresh env built from the checkpoint's env id and
kwargs, wrapped in ``Monitor`` so rewards are whole-episode returns even when wrappers end "lives" early. The
env is seeded, so the same agent gets the same numbers on the same machine.

Example:
    >>> class Left:  # any object with SB3's predict() signature
    ...     def predict(self, observation, state=None, episode_start=None, deterministic=False):
    ...         return [0] * len(observation), None
    >>> result = evaluate_agent(Left(), "CartPole-v1", n_eval_episodes=2)
    >>> result.n_eval_episodes, result.mean_reward == sum(result.episode_rewards) / 2
    (2, True)
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from importlib.metadata import PackageNotFoundError, version
from typing import Any

import gymnasium as gym
import numpy as np
from stable_baselines3.common.evaluation import evaluate_policy
from stable_baselines3.common.monitor import Monitor
from stable_baselines3.common.vec_env import DummyVecEnv

EVAL_SEED = 0
"""Seed of the evaluation env: fixed, so a published number can be reproduced."""

MAX_VIDEO_FRAMES = 5_000
"""A replay stops after this many frames: an agent stuck in a corner must not fill the disk."""

_REPORTED_PACKAGES = ("mario-zoo", "torch", "gymnasium", "stable-baselines3", "numpy", "huggingface-hub")


@dataclass(frozen=True)
class EvaluationResult:
    """What ``results.json`` holds and the model card reports."""

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
    package_versions: dict[str, str] = field(default_factory=lambda: package_versions())
    """Versions of the packages that influence the result."""

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

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> EvaluationResult:
        """Rebuild a result from `to_dict` output (the ``protocol`` sentence is derived, so it is dropped)."""
        return cls(**{key: value for key, value in data.items() if key != "protocol"})


def package_versions() -> dict[str, str]:
    """Installed versions of the packages that influence training and evaluation.

    Example:
        >>> sorted(package_versions())[:3]
        ['gymnasium', 'huggingface-hub', 'mario-zoo']
    """
    versions = {}
    for name in _REPORTED_PACKAGES:
        try:
            versions[name] = version(name)
        except PackageNotFoundError:  # a source checkout that was never pip-installed
            versions[name] = "not installed"
    return versions


def evaluate_agent(
    model: Any,
    env_id: str,
    env_kwargs: dict[str, Any] | None = None,
    *,
    n_eval_episodes: int = 10,
    deterministic: bool = True,
    seed: int = EVAL_SEED,
    callback: Callable[[dict[str, Any], dict[str, Any]], None] | None = None,
) -> EvaluationResult:
    """Play ``n_eval_episodes`` full episodes on a fresh, seeded ``env_id`` env and summarise the returns.

    Args:
        model: anything with SB3's ``predict(observation, state, episode_start, deterministic)``.
        env_id: registered Gymnasium id (``MarioDQN-*`` ids are registered by importing mario_zoo).
        env_kwargs: keyword arguments for ``gym.make``.
        n_eval_episodes: episodes to average over; at least 1.
        deterministic: act greedily instead of sampling exploratory actions.
        seed: seed of the env's first reset; later episodes continue its random stream.
        callback: called after every step with ``evaluate_policy``'s locals and globals (SB3's ``callback``),
            e.g. to track what ``info`` reports per episode.
    """
    if isinstance(n_eval_episodes, bool) or not isinstance(n_eval_episodes, int) or n_eval_episodes < 1:
        raise ValueError(f"n_eval_episodes must be a positive int, got {n_eval_episodes!r}.")
    env_kwargs = dict(env_kwargs or {})
    vec_env = DummyVecEnv([lambda: Monitor(gym.make(env_id, **env_kwargs))])
    vec_env.seed(seed)
    try:
        rewards, lengths = evaluate_policy(
            model,
            vec_env,
            n_eval_episodes=n_eval_episodes,
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
        n_eval_episodes=n_eval_episodes,
        deterministic=deterministic,
        episode_rewards=[float(reward) for reward in rewards],
        episode_lengths=[int(length) for length in lengths],
        seed=seed,
    )


def record_video(
    model: Any,
    env_id: str,
    path: str | os.PathLike[str],
    env_kwargs: dict[str, Any] | None = None,
    *,
    deterministic: bool = True,
) -> int:
    """Play one seeded episode with ``render_mode="rgb_array"`` and encode its frames as an H.264 mp4.

    Returns the number of frames written (at most `MAX_VIDEO_FRAMES`).
    """
    import imageio.v2 as imageio  # imageio-ffmpeg is only needed here, not to load or train agents

    env = gym.make(env_id, **{**(env_kwargs or {}), "render_mode": "rgb_array"})
    fps = int(env.metadata.get("render_fps") or 30)
    frames = 0
    try:
        # libx264 only needs even frame sizes; imageio's default block of 16 would rescale CartPole's 600x400.
        with imageio.get_writer(path, fps=fps, codec="libx264", macro_block_size=2) as writer:
            observation, _ = env.reset(seed=EVAL_SEED)
            done = False
            while not done and frames < MAX_VIDEO_FRAMES:
                writer.append_data(env.render())
                frames += 1
                action, _ = model.predict(observation, deterministic=deterministic)
                observation, _, terminated, truncated, _ = env.step(action)
                done = terminated or truncated
    finally:
        env.close()
    return frames
