"""Tiny deterministic envs for wrapper unit tests (milliseconds, no emulator)."""

from __future__ import annotations

from typing import Any, ClassVar

import gymnasium as gym
import numpy as np
from gymnasium import spaces


class FakeNES(gym.Env):
    """A 6x8 RGB "console": Discrete(256) controller bytes, frame ``t`` has pixel values ``t * 10 + x``.

    Reward per frame is ``action / 128`` (so "right" = 1.0), ``x_pos`` grows by ``action >> 7`` per frame,
    and the episode terminates after ``terminate_at`` frames.
    """

    metadata: ClassVar[dict[str, Any]] = {"render_modes": ["rgb_array"]}
    observation_space = spaces.Box(0, 255, (6, 8, 3), np.uint8)
    action_space = spaces.Discrete(256)

    def __init__(self, terminate_at: int = 1000, render_mode: str | None = None) -> None:
        self.terminate_at = terminate_at
        self.render_mode = render_mode
        self.frame = 0
        self.x_pos = 0
        self.steps_called = 0

    def _screen(self) -> np.ndarray:
        base = (self.frame * 10 + np.arange(8, dtype=np.int64)) % 256
        screen = np.broadcast_to(base[None, :, None], (6, 8, 3)).astype(np.uint8)
        # alternate which row is lit, like a flickering sprite
        screen = screen.copy()
        screen[self.frame % 2] = 255
        return screen

    def reset(self, *, seed: int | None = None, options: dict[str, Any] | None = None):
        super().reset(seed=seed)
        self.frame = 0
        self.x_pos = 0
        return self._screen(), {"x_pos": self.x_pos, "frame": self.frame}

    def step(self, action: Any):
        self.steps_called += 1
        self.frame += 1
        self.x_pos += int(action) >> 7
        terminated = self.frame >= self.terminate_at
        info = {"x_pos": self.x_pos, "frame": self.frame}
        return self._screen(), int(action) / 128, terminated, False, info

    def render(self) -> np.ndarray:
        return self._screen()


def gray_screen_at(frame: int) -> np.ndarray:
    """The grayscale (red channel) frame a :class:`FakeNES` shows after ``frame`` frames."""
    env = FakeNES()
    env.frame = frame
    return env._screen()[..., 0]


class GrayFrames:
    """A FrameSource over a :class:`FakeNES`, counting how many observations and infos it builds."""

    def __init__(self, env: FakeNES) -> None:
        self.env = env
        self.observed = 0
        self.infos = 0
        self._last: tuple[np.ndarray, dict[str, Any]] | None = None

    def advance(self, action: Any, with_info: bool):
        obs, reward, terminated, truncated, info = self.env.step(action)
        self._last = obs
        if with_info or terminated or truncated:
            self.infos += 1
            return reward, terminated, truncated, info
        return reward, terminated, truncated, None

    def observe(self, out: np.ndarray | None = None) -> np.ndarray:
        self.observed += 1
        gray = (self.env._screen() if self._last is None else self._last)[..., 0]
        if out is None:
            return gray.copy()
        out[...] = gray
        return out


class FakeGray(gym.Wrapper):
    """Grayscale view of :class:`FakeNES` (the red channel) that offers a FrameSource, like the NES path."""

    def __init__(self, env: FakeNES, with_frames: bool = True) -> None:
        super().__init__(env)
        self.observation_space = spaces.Box(0, 255, (6, 8), np.uint8)
        self.frames = GrayFrames(env) if with_frames else None

    def reset(self, *, seed=None, options=None):
        obs, info = self.env.reset(seed=seed, options=options)
        return obs[..., 0].copy(), info

    def step(self, action):
        obs, reward, terminated, truncated, info = self.env.step(action)
        return obs[..., 0].copy(), reward, terminated, truncated, info


class FakeFrames(gym.Env):
    """Emits 2-D uint8 frames whose every pixel equals the step count; info carries ``x_pos``."""

    observation_space = spaces.Box(0, 255, (3, 4), np.uint8)
    action_space = spaces.Discrete(256)

    def __init__(self, x_per_step: int = 0, terminate_at: int = 10_000) -> None:
        self.t = 0
        self.x_per_step = x_per_step
        self.terminate_at = terminate_at
        self.resets = 0

    def reset(self, *, seed=None, options=None):
        super().reset(seed=seed)
        self.t = 0
        self.resets += 1
        return np.zeros((3, 4), np.uint8), {"x_pos": 0}

    def step(self, action):
        self.t += 1
        obs = np.full((3, 4), self.t % 256, np.uint8)
        x_pos = self.t * self.x_per_step if action else 0
        return obs, float(action), self.t >= self.terminate_at, False, {"x_pos": x_pos}
