"""The ``gym.make`` kwargs an agent plays with: its training env's, without the viewing choice ``render_mode`` and
without the options that shape training only.

A checkpoint records the kwargs of the env it trained on (``env.spec.kwargs``). ``render_mode`` is among them when
the training env rendered, but it says how a person watched, not what the agent sees: evaluation runs without
rendering and a replay renders ``rgb_array`` frames, so every player of a stored agent starts from these kwargs.
Training-only options would start episodes mid-level (Mario's frontier starts) or add the training's noise (no-op
starts, sticky actions): an agent is played, evaluated and recorded from the level start, and each evaluation protocol
sets its own no-ops and noise.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

#: ``MarioDQN`` options that shape training only: frontier starts (:class:`~mario_zoo.envs.frontier.FrontierStarts`)
#: the training noise (random no-op starts, sticky actions, random actions) and the stall cut counted as a failure. Evaluation protocols
#: set their own no-ops and noise; a stalled evaluation episode ends either way.
TRAINING_ONLY_OPTIONS: tuple[str, ...] = (
    "frontier_fraction",
    "frontier_bucket",
    "frontier_back",
    "frontier_mode",
    "frontier_follow",
    "frontier_successes",
    "noop_max",
    "repeat_action_probability",
    "random_action_probability",
    "stall_penalty",
)


#: Options that say where a run keeps its files, not how the agent trained: left out of what a checkpoint records.
RUN_FILE_OPTIONS: tuple[str, ...] = ("frontier_archive",)


def playing_kwargs(env_kwargs: Mapping[str, Any] | None) -> dict[str, Any]:
    """A copy of ``env_kwargs`` without ``render_mode`` and :data:`TRAINING_ONLY_OPTIONS` (frontier starts, no-op
    starts and sticky actions off).

    Example:
        >>> playing_kwargs({"actions": "right_only", "render_mode": "human", "frontier_fraction": 0.5, "noop_max": 30})
        {'actions': 'right_only'}
        >>> playing_kwargs(None)
        {}
    """
    dropped = ("render_mode", *TRAINING_ONLY_OPTIONS, *RUN_FILE_OPTIONS)
    return {key: value for key, value in (env_kwargs or {}).items() if key not in dropped}


def split_training_options(env_kwargs: Mapping[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    """``(play, training)``: :func:`playing_kwargs` of ``env_kwargs``, and its :data:`TRAINING_ONLY_OPTIONS`.

    Example:
        >>> split_training_options({"actions": "right_only", "frontier_fraction": 0.5, "render_mode": "human",
        ...                         "frontier_archive": "runs/a/frontier.json"})
        ({'actions': 'right_only'}, {'frontier_fraction': 0.5})
    """
    training = {key: value for key, value in env_kwargs.items() if key in TRAINING_ONLY_OPTIONS}
    if training.get("stall_penalty", 0) is None:
        # Off, its default: left out, so that a checkpoint without it still reads with a mario_zoo from before it.
        del training["stall_penalty"]
    if training.get("random_action_probability", 1) == 0:
        del training["random_action_probability"]  # the same: off, its default
    return playing_kwargs(env_kwargs), training
