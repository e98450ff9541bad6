import re

import numpy as np
import pytest

from mario_zoo.wrappers import MaxPoolFrameSkip
from tests.wrappers.fakes import FakeGray, FakeNES, gray_screen_at


def _skip_env(skip=4, terminate_at=1000, with_frames=True):
    return MaxPoolFrameSkip(FakeGray(FakeNES(terminate_at), with_frames=with_frames), skip=skip)


def test_repeats_action_sums_rewards_and_max_pools_last_two_frames():
    env = _skip_env(skip=4, with_frames=False)
    env.reset(seed=0)
    obs, reward, terminated, truncated, info = env.step(128)
    assert reward == 4.0 and info["frame"] == 4 and info["x_pos"] == 4
    assert not terminated and not truncated
    np.testing.assert_array_equal(obs, np.maximum(gray_screen_at(3), gray_screen_at(4)))


def test_stops_early_on_termination_and_returns_the_final_frame():
    env = _skip_env(skip=4, terminate_at=6, with_frames=False)
    env.reset(seed=0)
    env.step(128)
    obs, reward, terminated, _, info = env.step(128)
    assert terminated and reward == 2.0 and info["frame"] == 6
    np.testing.assert_array_equal(obs, gray_screen_at(6))


@pytest.mark.parametrize("skip", [1, 2, 3, 4, 5])
@pytest.mark.parametrize("terminate_at", [7, 9, 12])
def test_frame_source_path_matches_plain_stepping(skip, terminate_at):
    fast, plain = _skip_env(skip, terminate_at, True), _skip_env(skip, terminate_at, False)
    fast.reset(seed=0)
    plain.reset(seed=0)
    done = False
    while not done:
        a = fast.step(128)
        b = plain.step(128)
        np.testing.assert_array_equal(a[0], b[0])
        assert a[1:] == b[1:]
        done = a[2] or a[3]


def test_frame_source_builds_only_the_last_info_and_two_observations():
    env = _skip_env(skip=4)
    frames = env.env.frames
    env.reset(seed=0)
    for _ in range(10):
        env.step(128)
    assert frames.infos == 10
    assert frames.observed == 20


def test_returned_observation_is_not_reused():
    env = _skip_env(skip=4)
    env.reset(seed=0)
    first = env.step(128)[0]
    kept = first.copy()
    env.step(128)
    np.testing.assert_array_equal(first, kept)


@pytest.mark.parametrize(
    ("skip", "error", "message"),
    [
        (0, ValueError, "frame_skip must be an integer >= 1, got 0."),
        (-3, ValueError, "frame_skip must be an integer >= 1, got -3."),
        (2.5, TypeError, "frame_skip must be an integer >= 1, got 2.5 of type float."),
        ("4", TypeError, "frame_skip must be an integer >= 1, got '4' of type str."),
    ],
)
def test_bad_skip_is_rejected(skip, error, message):
    with pytest.raises(error, match=re.escape(message)):
        MaxPoolFrameSkip(FakeGray(FakeNES()), skip=skip)
