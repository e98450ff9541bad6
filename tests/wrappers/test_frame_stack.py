import re

import numpy as np
import pytest

from mario_zoo.wrappers import FrameStack
from tests.wrappers.fakes import FakeFrames


def test_reset_pads_with_the_first_frame_and_steps_shift_oldest_first():
    env = FrameStack(FakeFrames(), stack=3)
    obs, _ = env.reset(seed=0)
    assert obs.shape == (3, 3, 4) and obs.dtype == np.uint8
    assert obs[:, 0, 0].tolist() == [0, 0, 0]
    seen = [env.step(1)[0][:, 0, 0].tolist() for _ in range(4)]
    assert seen == [[0, 0, 1], [0, 1, 2], [1, 2, 3], [2, 3, 4]]


def test_observation_space_is_channel_first_uint8():
    env = FrameStack(FakeFrames(), stack=4)
    assert env.observation_space.shape == (4, 3, 4)
    assert env.observation_space.dtype == np.uint8
    obs, _ = env.reset(seed=0)
    assert env.observation_space.contains(obs)


def test_returned_stacks_are_independent_of_later_steps():
    env = FrameStack(FakeFrames(), stack=2)
    env.reset(seed=0)
    first = env.step(1)[0]
    kept = first.copy()
    for _ in range(3):
        env.step(1)
    np.testing.assert_array_equal(first, kept)


def test_reset_clears_previous_episode():
    env = FrameStack(FakeFrames(), stack=3)
    env.reset(seed=0)
    for _ in range(5):
        env.step(1)
    obs, _ = env.reset()
    assert obs[:, 0, 0].tolist() == [0, 0, 0]
    assert env.step(1)[0][:, 0, 0].tolist() == [0, 0, 1]


def test_stack_of_one_is_the_frame():
    env = FrameStack(FakeFrames(), stack=1)
    env.reset(seed=0)
    assert env.step(1)[0].tolist() == [np.full((3, 4), 1).tolist()]


@pytest.mark.parametrize(
    ("stack", "error", "message"),
    [
        (0, ValueError, "stack must be an integer >= 1, got 0."),
        (None, TypeError, "stack must be an integer >= 1, got None of type NoneType."),
    ],
)
def test_bad_stack_is_rejected(stack, error, message):
    with pytest.raises(error, match=re.escape(message)):
        FrameStack(FakeFrames(), stack=stack)


def test_rejects_non_2d_frames():
    from tests.wrappers.fakes import FakeNES

    with pytest.raises(ValueError, match="FrameStack expects 2-D uint8 frames"):
        FrameStack(FakeNES(), stack=4)
