"""Exploration schedules: the probability of a random action as training goes on.

Two shapes, both pure functions of the step counter so that a resumed run picks up where it left off:

* :class:`ExponentialSchedule` -- the PyTorch DQN tutorial's ``end + (start - end) * exp(-step / decay)``.
* :class:`LinearSchedule` -- Stable-Baselines3's: linear from ``start`` to ``end`` over the first
  ``fraction`` of the ``total`` steps of a ``learn()`` call, then flat.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from mario_zoo.agents.config import DQNConfig


def _check_probability(name: str, value: float) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or not 0.0 <= value <= 1.0:
        raise ValueError(f"{name} must be a probability in [0, 1], got {value!r}.")
    return float(value)


@dataclass(frozen=True)
class ExponentialSchedule:
    """``end + (start - end) * exp(-step / decay)``: the tutorial's epsilon, independent of the run length.

    Example:
        >>> schedule = ExponentialSchedule(start=0.9, end=0.05, decay=1000)
        >>> round(schedule(0, total=10_000), 3), round(schedule(1000, total=10_000), 3)
        (0.9, 0.363)
    """

    start: float
    """Epsilon at step 0."""
    end: float
    """Epsilon as the step count goes to infinity."""
    decay: float
    """Steps over which the distance to ``end`` shrinks by a factor e."""

    def __post_init__(self) -> None:
        _check_probability("start", self.start)
        _check_probability("end", self.end)
        if isinstance(self.decay, bool) or not isinstance(self.decay, int | float) or not self.decay > 0:
            raise ValueError(f"decay must be a positive number of steps, got {self.decay!r}.")

    def __call__(self, step: int, total: int) -> float:
        """Epsilon after ``step`` env steps (``total`` is ignored: the decay does not depend on it)."""
        return self.end + (self.start - self.end) * math.exp(-step / self.decay)


@dataclass(frozen=True)
class LinearSchedule:
    """Stable-Baselines3's epsilon: linear from ``start`` to ``end`` over ``fraction * total`` steps.

    Example:
        >>> schedule = LinearSchedule(start=1.0, end=0.05, fraction=0.1)
        >>> schedule(0, total=1000), round(schedule(50, total=1000), 3), schedule(500, total=1000)
        (1.0, 0.525, 0.05)
    """

    start: float
    """Epsilon at step 0."""
    end: float
    """Epsilon from ``fraction * total`` steps on."""
    fraction: float
    """Part of the ``learn()`` call's total steps spent decaying."""

    def __post_init__(self) -> None:
        _check_probability("start", self.start)
        _check_probability("end", self.end)
        _check_probability("fraction", self.fraction)

    def __call__(self, step: int, total: int) -> float:
        """Epsilon after ``step`` of ``total`` env steps."""
        progress = step / max(total, 1)
        if progress >= self.fraction:
            return self.end
        return self.start + progress * (self.end - self.start) / self.fraction


def exploration_schedule(config: DQNConfig) -> ExponentialSchedule | LinearSchedule:
    """The schedule ``config.exploration_schedule`` names, with its ``exploration_*`` hyperparameters.

    Example:
        >>> exploration_schedule(DQNConfig(exploration_fraction=0.5))(50, 100)
        0.05
    """
    if config.exploration_schedule == "exponential":
        return ExponentialSchedule(
            config.exploration_initial_eps, config.exploration_final_eps, config.exploration_decay
        )
    return LinearSchedule(config.exploration_initial_eps, config.exploration_final_eps, config.exploration_fraction)
