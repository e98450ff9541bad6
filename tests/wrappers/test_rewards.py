import re

import pytest

from mario_zoo.wrappers import RewardTransform
from tests.wrappers.fakes import FakeFrames


def test_scales_then_clips_and_keeps_raw_reward():
    env = RewardTransform(FakeFrames(), clip=1.0, scale=0.01)
    env.reset(seed=0)
    _, reward, _, _, info = env.step(50)  # FakeFrames rewards the action value
    assert reward == pytest.approx(0.5) and info["raw_reward"] == 50.0
    _, reward, _, _, _ = env.step(200)
    assert reward == 1.0


def test_scale_only():
    env = RewardTransform(FakeFrames(), scale=2.0)
    env.reset(seed=0)
    assert env.step(3)[1] == 6.0


@pytest.mark.parametrize(
    ("kwargs", "error", "message"),
    [
        ({"clip": 0}, ValueError, "reward_clip must be a number > 0, got 0.0."),
        ({"scale": -1}, ValueError, "reward_scale must be a number > 0, got -1.0."),
        ({"scale": "big"}, TypeError, "reward_scale must be a number, got 'big' of type str."),
    ],
)
def test_bad_arguments(kwargs, error, message):
    with pytest.raises(error, match=re.escape(message)):
        RewardTransform(FakeFrames(), **kwargs)
