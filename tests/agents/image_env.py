"""A tiny image env that a CNN learns in a couple of thousand steps, for tests that train (precision, resume)."""

from __future__ import annotations

from typing import Any, ClassVar

import gymnasium as gym
import numpy as np
from gymnasium import spaces


class CueEnv(gym.Env):
    """A ``(2, 36, 36)`` uint8 image bandit (two equal channels): each frame lights its left or right half, drawn from ``np_random``.

    Action 0 points left, 1 right; pointing at the lit half earns 1. Episodes terminate after ``length`` steps,
    so a random policy scores ``length / 2`` and a learned one ``length``. Its only randomness is ``np_random``,
    so a copy of it (``copy.deepcopy``) continues exactly as the original would.
    """

    metadata: ClassVar[dict[str, Any]] = {"render_modes": []}
    observation_space = spaces.Box(0, 255, (2, 36, 36), np.uint8)
    action_space = spaces.Discrete(2)

    def __init__(self, length: int = 10, frontier_every: int = 0):
        self.length = length
        self.frontier_every = frontier_every  # every this many episodes, the reset says frontier_start (0: never)
        self.episodes = 0
        self.steps = 0
        self.cue = 0

    def _observation(self) -> np.ndarray:
        self.cue = int(self.np_random.integers(2))
        frame = np.zeros((2, 36, 36), dtype=np.uint8)
        frame[:, :, self.cue * 18 : (self.cue + 1) * 18] = 255
        return frame

    def reset(self, *, seed: int | None = None, options: dict[str, Any] | None = None):
        super().reset(seed=seed)
        self.steps = 0
        self.episodes += 1
        if self.frontier_every:
            return self._observation(), {"frontier_start": self.episodes % self.frontier_every == 0}
        return self._observation(), {}

    def step(self, action: int):
        reward = float(int(action) == self.cue)
        self.steps += 1
        return self._observation(), reward, self.steps >= self.length, False, {}
