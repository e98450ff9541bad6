"""The frame-source protocol: how :class:`MaxPoolFrameSkip` steps an emulator without building what it skips.

A plain Gymnasium ``step`` returns an observation and an ``info`` dict for every frame. When an agent repeats
its action for ``skip`` frames it only looks at the last two observations and the last ``info``, so building
the others is wasted work. An environment (or wrapper) that can advance one frame *without* building them
exposes a :class:`FrameSource` as its ``frames`` attribute; :class:`MaxPoolFrameSkip` uses it when present
and falls back to ``env.step`` otherwise. Both paths give the same rewards, flags and ``info``.
"""

from __future__ import annotations

from typing import Any, Protocol, runtime_checkable

import gymnasium as gym
import numpy as np


@runtime_checkable
class FrameSource(Protocol):
    """One emulator frame at a time, with observations and ``info`` built only on request."""

    def advance(self, action: Any, with_info: bool) -> tuple[float, bool, bool, dict[str, Any] | None]:
        """Advance one frame; return ``(reward, terminated, truncated, info)``.

        ``info`` is built when ``with_info`` is true or the episode ended on this frame, else ``None``.
        """
        ...

    def observe(self, out: np.ndarray | None = None) -> np.ndarray:
        """Write the current frame into ``out`` (or a new array) and return it."""
        ...


def frame_source_of(env: gym.Env) -> FrameSource | None:
    """Return ``env.frames`` when ``env`` offers a :class:`FrameSource`, else ``None``."""
    frames = getattr(env, "frames", None)
    return frames if isinstance(frames, FrameSource) else None
