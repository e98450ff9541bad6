"""Shared fixtures for the agent tests: one torch thread, and a tiny fake image env.

``FakeFrameEnv`` stands in for a Mario env: ``(4, 84, 84)`` uint8 stacked frames, oldest first, like
:class:`mario_zoo.wrappers.FrameStack`. Each frame's first pixels encode (env id, episode, step), so a test
can tell exactly which observation a rebuilt stack is.
"""

from __future__ import annotations

from collections import deque
from typing import Any, ClassVar

import gymnasium as gym
import numpy as np
import pytest
import torch
from gymnasium import spaces

torch.set_num_threads(1)


class FakeFrameEnv(gym.Env):
    """Stacked-frame env; reward 1 when the action equals the step count mod ``n_actions``.

    Args:
        episode_length: steps per episode; a sequence cycles through lengths episode by episode.
        truncate: end episodes by truncation (time limit) instead of termination.
        padding: start-of-episode stack: ``"reset"`` (copies of the first frame), ``"zero"``, or
            ``"history"`` (real earlier frames, as after no-op starts).
        env_id: written into every frame, to tell envs apart.
    """

    metadata: ClassVar[dict[str, Any]] = {"render_modes": []}

    def __init__(
        self,
        episode_length: int | tuple[int, ...] = 7,
        truncate: bool = False,
        padding: str = "reset",
        env_id: int = 0,
        stack: int = 4,
        n_actions: int = 3,
    ):
        self.observation_space = spaces.Box(0, 255, (stack, 84, 84), np.uint8)
        self.action_space = spaces.Discrete(n_actions)
        self.lengths = (episode_length,) if isinstance(episode_length, int) else tuple(episode_length)
        self.truncate, self.padding, self.env_id, self.stack = truncate, padding, env_id, stack
        self.episode = -1
        self.step_count = 0
        self.frames: deque[np.ndarray] = deque(maxlen=stack)

    def frame(self, step: int) -> np.ndarray:
        frame = np.full((84, 84), (self.episode * 31 + step) % 256, dtype=np.uint8)
        frame[0, :3] = (self.env_id, self.episode % 256, step % 256)
        return frame

    def reset(self, *, seed: int | None = None, options: dict[str, Any] | None = None):
        super().reset(seed=seed)
        self.episode += 1
        self.step_count = 0
        if self.padding == "reset":
            self.frames.extend([self.frame(0)] * self.stack)
        elif self.padding == "zero":
            self.frames.extend([np.zeros((84, 84), np.uint8)] * (self.stack - 1) + [self.frame(0)])
        else:
            self.frames.extend(self.frame(step) for step in range(-self.stack + 1, 1))
        return np.stack(self.frames), {}

    def step(self, action: int):
        reward = float(action == self.step_count % self.action_space.n)
        self.step_count += 1
        self.frames.append(self.frame(self.step_count))
        done = self.step_count >= self.lengths[self.episode % len(self.lengths)]
        terminated, truncated = (False, done) if self.truncate else (done, False)
        return np.stack(self.frames), reward, terminated, truncated, {}


@pytest.fixture
def frame_env_class() -> type[FakeFrameEnv]:
    """The :class:`FakeFrameEnv` class (tests build it with their own options)."""
    return FakeFrameEnv


class FrontierFlagEnv(gym.Env):
    """A constant observation and ``n_actions`` actions; every other episode's reset says it is a frontier start
    (``info["frontier_start"]``, as :class:`mario_zoo.envs.FrontierStarts` does), and each step's ``info`` repeats
    the flag, so a callback can tell which steps belong to such episodes. With ``follow``, a frontier start also
    hands over that many actions to play first (``info["frontier_actions"]``: :meth:`handed_over` of the episode),
    as ``FrontierStarts`` with ``frontier_follow`` does."""

    metadata: ClassVar[dict[str, Any]] = {"render_modes": []}

    def __init__(self, n_actions: int = 20, episode_length: int = 30, follow: int = 0):
        self.follow = follow
        self.observation_space = spaces.Box(0.0, 1.0, (4,), np.float32)
        self.action_space = spaces.Discrete(n_actions)
        self.episode_length = episode_length
        self.episode = -1
        self.step_count = 0

    def reset(self, *, seed: int | None = None, options: dict[str, Any] | None = None):
        super().reset(seed=seed)
        self.episode += 1
        self.step_count = 0
        info: dict[str, Any] = {"frontier_start": self.episode % 2 == 1}
        if self.follow and info["frontier_start"]:
            info["frontier_actions"] = self.handed_over(self.episode, self.follow, int(self.action_space.n))
        return np.zeros(4, np.float32), info

    @staticmethod
    def handed_over(episode: int, follow: int, n_actions: int) -> tuple[int, ...]:
        """The actions a frontier start of ``episode`` hands over: a different run of them each episode."""
        return tuple((7 * episode + 3 * step) % n_actions for step in range(follow))

    def step(self, action: int):
        self.step_count += 1
        done = self.step_count >= self.episode_length
        info = {
            "frontier_episode": self.episode % 2 == 1,
            "episode_step": self.step_count,
            "episode_number": self.episode,
        }
        return np.zeros(4, np.float32), 0.0, done, False, info
