"""Observation wrappers: grayscale conversion and resizing of single frames.

:class:`GrayscaleObservation` converts any env's RGB frames with OpenCV. Given a grayscale
:class:`~mario_zoo.wrappers.frames.FrameSource` over the env's emulator (``mario_zoo.envs`` passes nes-py's native
grayscale copy: one C loop, no float math), it reads frames from it instead and exposes it as ``frames``, so the
frame skip above it can advance frames without building observations or ``info`` dicts it will never return.
The wrappers know no emulator: the nes-py specific part lives in :mod:`mario_zoo.envs.emulator`.
"""

from __future__ import annotations

from typing import Any, SupportsFloat

import cv2
import gymnasium as gym
import numpy as np
from gymnasium import spaces

from mario_zoo.wrappers._validation import check_int
from mario_zoo.wrappers.frames import FrameSource


class GrayscaleObservation(gym.Wrapper):
    """Convert RGB ``(H, W, 3)`` uint8 frames to grayscale ``(H, W)`` uint8 frames.

    Frames are OpenCV's ``RGB2GRAY`` (BT.601 weights, rounded), or those of ``frames``, a grayscale
    :class:`~mario_zoo.wrappers.frames.FrameSource` over ``env``'s emulator, when given (nes-py's native luma copy,
    ``(77 R + 150 G + 29 B) >> 8``, for :func:`mario_zoo.make_mario_env`).

    Example:
        >>> from gym_super_mario_bros import SuperMarioBrosEnv
        >>> env = GrayscaleObservation(SuperMarioBrosEnv(target=(1, 1)))
        >>> obs, info = env.reset(seed=0)
        >>> obs.shape, obs.dtype, env.frames is None
        ((240, 256), dtype('uint8'), True)
    """

    def __init__(self, env: gym.Env, frames: FrameSource | None = None) -> None:
        super().__init__(env)
        if frames is not None and not isinstance(frames, FrameSource):
            raise TypeError(
                f"frames must be a FrameSource (advance() and observe()) over the env's emulator, or None; got "
                f"{type(frames).__name__}."
            )
        space = env.observation_space
        if not (
            isinstance(space, spaces.Box) and space.dtype == np.uint8 and len(space.shape) == 3 and space.shape[2] == 3
        ):
            raise ValueError(
                f"GrayscaleObservation expects RGB frames: a uint8 Box of shape (H, W, 3), got {space}. "
                "Put it directly on the emulator, before any wrapper that changes the frame."
            )
        self.observation_space = spaces.Box(0, 255, space.shape[:2], np.uint8)
        self.frames = frames

    def reset(self, *, seed: int | None = None, options: dict[str, Any] | None = None):
        obs, info = self.env.reset(seed=seed, options=options)
        return self._gray(obs), info

    def step(self, action: Any) -> tuple[np.ndarray, SupportsFloat, bool, bool, dict[str, Any]]:
        if self.frames is not None:
            reward, terminated, truncated, info = self.frames.advance(action, with_info=True)
            return self.frames.observe(), reward, terminated, truncated, info
        obs, reward, terminated, truncated, info = self.env.step(action)
        return self._gray(obs), reward, terminated, truncated, info

    def render(self) -> Any:
        frame = self.env.render()
        # nes-py renders a live view of its screen buffer; hand out a copy so recorded videos don't all
        # show the last frame.
        return frame.copy() if isinstance(frame, np.ndarray) else frame

    def _gray(self, obs: np.ndarray) -> np.ndarray:
        if self.frames is not None:
            return self.frames.observe()
        return cv2.cvtColor(np.ascontiguousarray(obs), cv2.COLOR_RGB2GRAY)


class ResizeObservation(gym.ObservationWrapper):
    """Resize 2-D uint8 frames to ``(size, size)`` with OpenCV's ``INTER_AREA`` (pixel-area averaging).

    Example:
        >>> from gym_super_mario_bros import SuperMarioBrosEnv
        >>> gray = GrayscaleObservation(SuperMarioBrosEnv(target=(1, 1)))
        >>> ResizeObservation(gray, size=84).reset(seed=0)[0].shape
        (84, 84)
        >>> ResizeObservation(gray, size=4)
        Traceback (most recent call last):
        ...
        ValueError: size must be an integer >= 8, got 4. A frame smaller than 8x8 pixels cannot show the game.
    """

    def __init__(self, env: gym.Env, size: int = 84) -> None:
        super().__init__(env)
        self.size = check_int("size", size, minimum=8, hint=" A frame smaller than 8x8 pixels cannot show the game.")
        space = env.observation_space
        if not (isinstance(space, spaces.Box) and space.dtype == np.uint8 and len(space.shape) == 2):
            raise ValueError(
                f"ResizeObservation expects 2-D uint8 frames (H, W), got {space}. Apply GrayscaleObservation first."
            )
        self.observation_space = spaces.Box(0, 255, (self.size, self.size), np.uint8)

    def observation(self, observation: np.ndarray) -> np.ndarray:
        return cv2.resize(observation, (self.size, self.size), interpolation=cv2.INTER_AREA)
