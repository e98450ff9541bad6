import re

import pytest

from mario_zoo.wrappers import NoopStart, StallTruncation
from tests.wrappers.fakes import FakeFrames


def test_noop_start_takes_seeded_random_noops():
    counts = []
    for seed in range(20):
        inner = FakeFrames()
        env = NoopStart(inner, noop_max=30)
        env.reset(seed=seed)
        counts.append(inner.t)
        again = FakeFrames()
        NoopStart(again, noop_max=30).reset(seed=seed)
        assert again.t == inner.t
    assert min(counts) >= 0 and max(counts) <= 30 and len(set(counts)) > 5


def test_noop_start_resets_again_if_the_episode_ends_during_noops():
    inner = FakeFrames(terminate_at=2)
    env = NoopStart(inner, noop_max=30)
    for seed in range(10):
        env.reset(seed=seed)
        assert inner.t < 2


def test_stall_truncates_after_n_steps_without_progress():
    env = StallTruncation(FakeFrames(x_per_step=1), max_stall_steps=3)
    env.reset(seed=0)
    assert [env.step(1)[3] for _ in range(5)] == [False] * 5  # moving right: never stalls
    flags = [env.step(0)[3] for _ in range(3)]  # x_pos drops to 0: no new best
    assert flags == [False, False, True]


def test_stall_counter_restarts_on_reset():
    env = StallTruncation(FakeFrames(), max_stall_steps=2)
    env.reset(seed=0)
    env.step(0)
    env.reset()
    assert env.step(0)[3] is False


@pytest.mark.parametrize(
    ("kwargs", "wrapper", "message"),
    [
        ({"noop_max": -1}, NoopStart, "noop_max must be an integer >= 0, got -1."),
        ({"max_stall_steps": 0}, StallTruncation, "stall_steps must be an integer >= 1, got 0."),
    ],
)
def test_bad_arguments(kwargs, wrapper, message):
    with pytest.raises(ValueError, match=re.escape(message)):
        wrapper(FakeFrames(), **kwargs)
