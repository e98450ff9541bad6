"""Exploration schedules: the tutorial's exponential decay and SB3's linear one, value by value."""

from __future__ import annotations

import math
import re

import pytest
from stable_baselines3.common.utils import LinearSchedule as SB3LinearSchedule

from mario_zoo.agents.schedules import ExponentialSchedule, LinearSchedule


def test_exponential_schedule_is_the_tutorials_formula():
    schedule = ExponentialSchedule(start=0.9, end=0.05, decay=1000)
    for step in (0, 1, 500, 1000, 5000, 10**6):
        assert schedule(step, total=123) == pytest.approx(0.05 + 0.85 * math.exp(-step / 1000))


@pytest.mark.parametrize("fraction", [0.16, 0.5, 1.0])
def test_linear_schedule_matches_sb3(fraction):
    ours = LinearSchedule(start=1.0, end=0.04, fraction=fraction)
    sb3 = SB3LinearSchedule(1.0, 0.04, fraction)
    total = 50_000
    for step in (0, 1, 4000, 7999, 8000, 8001, 30_000, 50_000):
        assert ours(step, total) == pytest.approx(sb3(1.0 - step / total))


def test_schedules_validate_their_arguments():
    with pytest.raises(ValueError, match=re.escape("decay must be a positive number of steps, got 0.")):
        ExponentialSchedule(0.9, 0.05, 0)
    with pytest.raises(ValueError, match=re.escape("start must be a probability in [0, 1], got 1.5.")):
        LinearSchedule(1.5, 0.05, 0.1)
