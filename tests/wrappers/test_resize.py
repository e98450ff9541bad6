import re

import cv2
import numpy as np
import pytest

from mario_zoo.wrappers import ResizeObservation
from tests.wrappers.fakes import FakeFrames, FakeGray, FakeNES


def test_resizes_with_inter_area():
    env = ResizeObservation(FakeGray(FakeNES()), size=8)
    obs, _ = env.reset(seed=0)
    raw = FakeNES().reset(seed=0)[0][..., 0]
    assert obs.shape == (8, 8) and env.observation_space.shape == (8, 8)
    np.testing.assert_array_equal(obs, cv2.resize(raw, (8, 8), interpolation=cv2.INTER_AREA))


@pytest.mark.parametrize(
    ("size", "error", "message"),
    [
        (7, ValueError, "size must be an integer >= 8, got 7. A frame smaller than 8x8 pixels cannot show the game."),
        (84.0, TypeError, "size must be an integer >= 8, got 84.0 of type float."),
    ],
)
def test_bad_size_is_rejected(size, error, message):
    with pytest.raises(error, match=re.escape(message)):
        ResizeObservation(FakeFrames(), size=size)


def test_rejects_rgb_frames():
    with pytest.raises(ValueError, match="Apply GrayscaleObservation first"):
        ResizeObservation(FakeNES(), size=8)
