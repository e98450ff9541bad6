"""Make an agent act greedily or epsilon-greedily for a while: what replays and live viewing use.

Stable-Baselines3's ``predict(..., deterministic=True)`` is greedy; ``deterministic=False`` explores with the
model's ``exploration_rate``. :func:`acting_with` sets that rate for a block of code and restores it after, so a
replay at epsilon 0.05 does not change the agent that training uses. (Evaluations draw their own seeded epsilon in
:mod:`mario_zoo.evaluation`, whatever the agent's exploration state.)
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any


@contextmanager
def acting_with(model: Any, epsilon: float | None) -> Iterator[bool]:
    """Make ``model`` act with exploration ``epsilon`` inside the block; yields ``deterministic`` for ``predict``.

    ``None`` means greedy (``deterministic=True``). The model's own exploration rate is restored afterwards.

    Example:
        >>> class Agent:
        ...     exploration_rate = 0.05
        >>> agent = Agent()
        >>> with acting_with(agent, 0.2) as deterministic:
        ...     deterministic, agent.exploration_rate
        (False, 0.2)
        >>> agent.exploration_rate
        0.05
    """
    if epsilon is not None and not 0.0 <= epsilon <= 1.0:
        raise ValueError(f"epsilon must be in [0, 1], got {epsilon!r}.")
    exploration_rate = model.exploration_rate
    if epsilon is not None:
        model.exploration_rate = epsilon
    try:
        yield epsilon is None
    finally:
        model.exploration_rate = exploration_rate
