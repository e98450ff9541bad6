"""Replay memory per transition for 100k ``(4, 84, 84)`` uint8 observations: ours vs SB3's ``ReplayBuffer``.

Bytes are the ``nbytes`` of every array each buffer allocates, divided by its capacity. NumPy's ``np.zeros``
maps pages lazily, so this is the memory a full buffer uses, not what an empty one has touched. SB3's
``optimize_memory_usage=True`` cannot be combined with its default ``handle_timeout_termination=True``, so
that variant runs without it (as SB3 requires).

Ours stores one 84x84 frame per row. A row holds one transition, except that a truncated (time-limit)
episode adds one row for its final frame and an episode whose first stack holds real history (no-op
starts) adds ``stack - 1`` rows; the table states the cost per row.

Usage:
    python benchmarks/replay_memory.py
"""

from __future__ import annotations

import argparse

import numpy as np
from gymnasium import spaces
from stable_baselines3.common.buffers import ReplayBuffer as SB3ReplayBuffer

from mario_zoo.agents.replay import ReplayBuffer

SPACE = spaces.Box(0, 255, (4, 84, 84), np.uint8)
ACTIONS = spaces.Discrete(7)


def sb3_bytes(capacity: int, optimize_memory_usage: bool) -> int:
    buffer = SB3ReplayBuffer(
        capacity,
        SPACE,
        ACTIONS,
        device="cpu",
        optimize_memory_usage=optimize_memory_usage,
        handle_timeout_termination=not optimize_memory_usage,
    )
    return sum(value.nbytes for value in vars(buffer).values() if isinstance(value, np.ndarray))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--capacity", type=int, default=100_000)
    args = parser.parse_args()
    capacity = args.capacity
    rows = [
        ("SB3 ReplayBuffer (default)", sb3_bytes(capacity, optimize_memory_usage=False)),
        ("SB3 ReplayBuffer (optimize_memory_usage=True)", sb3_bytes(capacity, optimize_memory_usage=True)),
        ("ours, whole observations (frame_stack_replay=False)", ReplayBuffer(capacity, SPACE, 7).nbytes),
        (
            "ours, one frame per transition (frame_stack_replay=True)",
            ReplayBuffer(capacity, SPACE, 7, frame_stack=4).nbytes,
        ),
        (
            "ours, one frame per transition + prioritized sum-tree",
            ReplayBuffer(capacity, SPACE, 7, frame_stack=4, prioritized=True).nbytes,
        ),
    ]
    print(f"## Replay memory, {capacity:,} transitions of (4, 84, 84) uint8 observations\n")
    print("| buffer | total MB | bytes per transition | SB3 default / this |")
    print("|---|---|---|---|")
    reference = rows[0][1]
    for name, nbytes in rows:
        print(f"| {name} | {nbytes / 1e6:,.0f} | {nbytes / capacity:,.0f} | {reference / nbytes:.1f}x |")


if __name__ == "__main__":
    main()
