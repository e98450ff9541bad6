"""The ``gym.make`` kwargs an agent plays with: its training env's, without the viewing choice ``render_mode``.

A checkpoint records the kwargs of the env it trained on (``env.spec.kwargs``). ``render_mode`` is among them when
the training env rendered, but it says how a person watched, not what the agent sees: evaluation runs without
rendering and a replay renders ``rgb_array`` frames, so every player of a stored agent starts from these kwargs.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any


def playing_kwargs(env_kwargs: Mapping[str, Any] | None) -> dict[str, Any]:
    """A copy of ``env_kwargs`` without ``render_mode``.

    Example:
        >>> playing_kwargs({"actions": "right_only", "render_mode": "human"})
        {'actions': 'right_only'}
        >>> playing_kwargs(None)
        {}
    """
    return {key: value for key, value in (env_kwargs or {}).items() if key != "render_mode"}
