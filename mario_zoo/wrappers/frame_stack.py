"""Frame stacking: the last ``stack`` frames as one channel-first uint8 array."""

from __future__ import annotations

from typing import Any, SupportsFloat

import gymnasium as gym
import numpy as np
from gymnasium import spaces

from mario_zoo.wrappers._validation import check_int


class FrameStack(gym.Wrapper):
    """Stack the last ``stack`` 2-D frames into a channel-first ``(stack, H, W)`` uint8 observation.

    Frames live in a preallocated ring; each step writes the new frame into its slot and hands out the one
    copy of the stack that the Gymnasium API requires (the caller may keep the array). On reset every slot
    holds the first frame, like Gymnasium's ``FrameStackObservation(padding_type="reset")``.

    Example:
        >>> from gym_super_mario_bros import SuperMarioBrosEnv
        >>> from mario_zoo.wrappers import GrayscaleObservation, ResizeObservation
        >>> env = FrameStack(ResizeObservation(GrayscaleObservation(SuperMarioBrosEnv(target=(1, 1)))), stack=4)
        >>> obs, info = env.reset(seed=0)
        >>> obs.shape, obs.dtype
        ((4, 84, 84), dtype('uint8'))
    """

    def __init__(self, env: gym.Env, stack: int = 4) -> None:
        super().__init__(env)
        self.stack = check_int("stack", stack, minimum=1)
        space = env.observation_space
        if not (isinstance(space, spaces.Box) and space.dtype == np.uint8 and len(space.shape) == 2):
            raise ValueError(
                f"FrameStack expects 2-D uint8 frames (H, W), got {space}. "
                "Apply GrayscaleObservation and ResizeObservation first."
            )
        self.observation_space = spaces.Box(0, 255, (self.stack, *space.shape), np.uint8)
        self._ring = np.zeros((self.stack, *space.shape), dtype=np.uint8)
        self._oldest = 0
        # _order[k] lists the ring slots oldest-first when slot k holds the oldest frame.
        self._order = [np.roll(np.arange(self.stack), -k) for k in range(self.stack)]

    def reset(self, *, seed: int | None = None, options: dict[str, Any] | None = None):
        frame, info = self.env.reset(seed=seed, options=options)
        self._ring[:] = frame
        self._oldest = 0
        return self._ring.copy(), info

    def step(self, action: Any) -> tuple[np.ndarray, SupportsFloat, bool, bool, dict[str, Any]]:
        frame, reward, terminated, truncated, info = self.env.step(action)
        self._ring[self._oldest] = frame
        self._oldest = (self._oldest + 1) % self.stack
        return self._ring.take(self._order[self._oldest], axis=0), reward, terminated, truncated, info
