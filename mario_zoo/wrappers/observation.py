"""Observation wrappers: grayscale conversion and resizing of single frames.

:class:`GrayscaleObservation` on a raw nes-py emulator uses nes-py's native grayscale copy (one C loop, no
float math) and also exposes the emulator as a :class:`~mario_zoo.wrappers.frames.FrameSource`, so the frame
skip above it can advance frames without building observations or ``info`` dicts it will never return.
"""

from __future__ import annotations

from typing import Any, SupportsFloat

import cv2
import gymnasium as gym
import numpy as np
from gymnasium import spaces
from nes_py import NESEnv

from mario_zoo.wrappers._validation import check_int


class NESFrames:
    """:class:`~mario_zoo.wrappers.frames.FrameSource` over a raw nes-py emulator.

    ``advance`` is ``NESEnv.step`` (same hooks, same order, same reward clamp) minus the observation, and minus
    the ``info`` dict unless asked for, so a frame-skipping caller gets exactly the rewards, flags and final
    ``info`` that stepping every frame would give.
    """

    def __init__(self, nes: NESEnv) -> None:
        self._nes = nes
        self._reward_low, self._reward_high = nes.reward_range

    def advance(self, action: Any, with_info: bool) -> tuple[float, bool, bool, dict[str, Any] | None]:
        nes = self._nes
        if nes.done:
            raise ValueError("cannot step in a done environment! call `reset`")
        nes._frame_advance(action)
        reward = float(nes._get_reward())
        terminated = bool(nes._get_terminated())
        truncated = bool(nes._get_truncated())
        done = terminated or truncated
        nes.done = done
        # NESEnv.step reads info before _did_step's RAM hacks (death skip, area change), so do we.
        info = nes._get_info() if with_info or done else None
        nes._did_step(done)
        reward = min(max(reward, self._reward_low), self._reward_high)
        return reward, terminated, truncated, info

    def observe(self, out: np.ndarray | None = None) -> np.ndarray:
        return self._nes.observation("grayscale", out)


class GrayscaleObservation(gym.Wrapper):
    """Convert RGB ``(H, W, 3)`` uint8 frames to grayscale ``(H, W)`` uint8 frames.

    On a raw nes-py ``NESEnv`` it uses the emulator's native luma copy, ``(77 R + 150 G + 29 B) >> 8``;
    on any other env, OpenCV's ``RGB2GRAY`` (BT.601 weights, rounded).

    Example:
        >>> from gym_super_mario_bros import SuperMarioBrosEnv
        >>> env = GrayscaleObservation(SuperMarioBrosEnv(target=(1, 1)))
        >>> obs, info = env.reset(seed=0)
        >>> obs.shape, obs.dtype
        ((240, 256), dtype('uint8'))
    """

    def __init__(self, env: gym.Env) -> None:
        super().__init__(env)
        space = env.observation_space
        if not (
            isinstance(space, spaces.Box) and space.dtype == np.uint8 and len(space.shape) == 3 and space.shape[2] == 3
        ):
            raise ValueError(
                f"GrayscaleObservation expects RGB frames: a uint8 Box of shape (H, W, 3), got {space}. "
                "Put it directly on the emulator, before any wrapper that changes the frame."
            )
        self.observation_space = spaces.Box(0, 255, space.shape[:2], np.uint8)
        self.frames: NESFrames | None = NESFrames(env) if isinstance(env, NESEnv) else None

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
