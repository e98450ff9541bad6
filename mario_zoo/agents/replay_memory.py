"""How much memory a replay buffer needs, and the message when this machine cannot hold it.

:class:`~mario_zoo.agents.replay.ReplayBuffer` allocates its rows lazily (``np.zeros``), so a buffer too big for the
machine fails only once it has filled that far, hours into a run: the agent checks first (at construction for the
whole buffer, in ``learn`` for the steps the run stores) and names a ``buffer_size`` that fits.
"""

from __future__ import annotations

import os

import numpy as np
from gymnasium import spaces


def check_replay_memory(
    buffer_size: int,
    observation_space: spaces.Box,
    frame_stack: int = 1,
    memory: int | None = None,
    observations: int | None = None,
) -> str | None:
    """Why ``observations`` (default: ``buffer_size``) of a replay buffer's observations could never fit in this
    machine's memory (``memory`` bytes; default: the physical memory): a message naming ``buffer_size`` and a size
    that fits; ``None`` when they fit.

    Example:
        >>> mario = spaces.Box(0, 255, (4, 84, 84), np.uint8)
        >>> print(check_replay_memory(1_000_000, mario, memory=16 * 2**30))
        A replay buffer of buffer_size=1,000,000 observations of shape (4, 84, 84) uint8 needs 26.3 GiB, more than this machine's 16.0 GiB of memory. Lower buffer_size (buffer_size=300,000 needs 7.9 GiB), or set frame_stack_replay=True to store each frame once (6.6 GiB).
        >>> check_replay_memory(1_000_000, mario, frame_stack=4, memory=16 * 2**30) is None  # 6.6 GiB: fits
        True
        >>> check_replay_memory(1_000_000, mario, memory=16 * 2**30, observations=50_000) is None  # a short run
        True
    """
    memory = _physical_memory() if memory is None else memory
    touched = buffer_size if observations is None else min(buffer_size, observations)
    if memory is None or _frames_bytes(touched, observation_space, frame_stack) <= memory:
        return None
    return memory_message(buffer_size, observation_space, frame_stack, memory)


def _frames_bytes(buffer_size: int, observation_space: spaces.Box, frame_stack: int) -> int:
    shape = observation_space.shape[1:] if frame_stack > 1 else observation_space.shape
    return buffer_size * int(np.prod(shape)) * observation_space.dtype.itemsize


def memory_message(buffer_size: int, observation_space: spaces.Box, frame_stack: int, memory: int | None) -> str:
    """The message for a buffer too big for ``memory`` bytes (``None``: the system refused to allocate it), with a
    ``buffer_size`` that takes at most half of it, and ``frame_stack_replay`` where it would fit."""
    needs = _frames_bytes(buffer_size, observation_space, frame_stack)
    what = "which the system refused" if memory is None else f"more than this machine's {memory / 2**30:.1f} GiB"
    text = (
        f"A replay buffer of buffer_size={buffer_size:,} observations of shape {observation_space.shape} "
        f"{observation_space.dtype} needs {needs / 2**30:.1f} GiB, {what} of memory."
    )
    budget = (memory if memory is not None else needs) // 2
    per_observation = max(_frames_bytes(1, observation_space, frame_stack), 1)
    fits = budget // per_observation
    smaller = int(str(fits)[0]) * 10 ** (len(str(fits)) - 1) if fits >= 1 else 0
    if smaller:
        text += (
            f" Lower buffer_size (buffer_size={smaller:,} needs "
            f"{_frames_bytes(smaller, observation_space, frame_stack) / 2**30:.1f} GiB)"
        )
    stack = observation_space.shape[0] if len(observation_space.shape) == 3 else 1
    stacked = _frames_bytes(buffer_size, observation_space, stack)
    if frame_stack == 1 and stack > 1 and (memory is None or stacked <= memory):
        joint = ", or" if smaller else " Set"
        text += f"{joint} set frame_stack_replay=True to store each frame once ({stacked / 2**30:.1f} GiB)"
    elif not smaller:
        text += " Lower buffer_size"
    return text + "."


def _physical_memory() -> int | None:
    """This machine's physical memory in bytes (``None`` where the OS does not say)."""
    try:
        return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (AttributeError, ValueError, OSError):
        return None


def check_run_memory(buffer_size: int, observation_space: spaces.Box, frame_stack_replay: bool, steps: int) -> None:
    """Raise a ``ValueError`` if the ``steps`` observations a run stores in a replay buffer of ``buffer_size``
    (stacked frames stored once with ``frame_stack_replay``) could never fit in this machine's memory: what
    ``learn`` refuses, and what ``mario-zoo train`` refuses before it writes a run folder."""
    stack = observation_space.shape[0] if frame_stack_replay else 1
    if too_big := check_replay_memory(buffer_size, observation_space, stack, None, steps):
        raise ValueError(f"{too_big} This run stores {steps:,} of them, which cannot fit either.")
