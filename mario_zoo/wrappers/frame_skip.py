"""Frame skipping: one agent decision drives ``skip`` emulator frames."""

from __future__ import annotations

from typing import Any, SupportsFloat

import gymnasium as gym
import numpy as np

from mario_zoo.wrappers._validation import check_int
from mario_zoo.wrappers.frames import frame_source_of


class MaxPoolFrameSkip(gym.Wrapper):
    """Repeat the action ``skip`` times, sum the rewards, and max-pool the last two frames.

    The pooled maximum removes the flicker of sprites the NES draws on alternate frames. The episode may end
    before ``skip`` frames have run: then the step stops there and returns the frame the episode ended on
    (Gymnasium's ``MaxAndSkipObservation`` would return stale frames from the previous step instead). ``info``
    is the last frame's.

    When the wrapped env offers a :class:`~mario_zoo.wrappers.frames.FrameSource` (``GrayscaleObservation`` on
    a nes-py emulator does), only the two pooled frames are copied out of the emulator and only the last
    frame's ``info`` is built; rewards and flags are the same as stepping every frame.

    Example:
        >>> from gym_super_mario_bros import SuperMarioBrosEnv
        >>> from mario_zoo.wrappers import GrayscaleObservation
        >>> env = MaxPoolFrameSkip(GrayscaleObservation(SuperMarioBrosEnv(target=(1, 1))), skip=4)
        >>> obs, info = env.reset(seed=0)
        >>> for _ in range(10):  # hold "right" for 10 x 4 frames
        ...     obs, reward, terminated, truncated, info = env.step(0b10000000)
        >>> obs.shape, info["x_pos"] > 40
        ((240, 256), True)
    """

    def __init__(self, env: gym.Env, skip: int = 4) -> None:
        super().__init__(env)
        self.skip = check_int("frame_skip", skip, minimum=1)
        space = env.observation_space
        if space.shape is None or space.dtype is None:
            raise ValueError(f"MaxPoolFrameSkip needs array observations with a shape and dtype, got {space}.")
        self._frames = frame_source_of(env)
        self._pool = np.zeros((2, *space.shape), dtype=space.dtype)

    def step(self, action: Any) -> tuple[np.ndarray, SupportsFloat, bool, bool, dict[str, Any]]:
        total_reward = 0.0
        terminated = truncated = False
        info: dict[str, Any] = {}
        last = self.skip - 1
        for i in range(self.skip):
            if self._frames is not None:
                reward, terminated, truncated, frame_info = self._frames.advance(action, with_info=i == last)
                ended = terminated or truncated
                if i >= last - 1 or ended:
                    self._frames.observe(self._pool[i & 1])
                if frame_info is not None:
                    info = frame_info
            else:
                obs, reward, terminated, truncated, info = self.env.step(action)
                ended = terminated or truncated
                if i >= last - 1 or ended:
                    self._pool[i & 1] = obs
            total_reward += float(reward)
            if ended:
                return self._pool[i & 1].copy(), total_reward, terminated, truncated, info
        if self.skip == 1:
            return self._pool[0].copy(), total_reward, terminated, truncated, info
        return np.maximum(self._pool[0], self._pool[1]), total_reward, terminated, truncated, info
