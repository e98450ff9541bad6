import cv2
import numpy as np
import pytest

from mario_zoo.wrappers import GrayscaleObservation
from tests.wrappers.fakes import FakeFrames, FakeNES


def test_converts_rgb_frames_with_opencv_weights():
    env = GrayscaleObservation(FakeNES())
    obs, _ = env.reset(seed=0)
    raw, _ = FakeNES().reset(seed=0)
    assert env.observation_space.shape == (6, 8)
    np.testing.assert_array_equal(obs, cv2.cvtColor(raw, cv2.COLOR_RGB2GRAY))
    step_obs = env.step(128)[0]
    assert step_obs.shape == (6, 8) and step_obs.dtype == np.uint8


def test_generic_env_offers_no_frame_source():
    assert GrayscaleObservation(FakeNES()).frames is None


def test_render_returns_a_copy():
    env = GrayscaleObservation(FakeNES(render_mode="rgb_array"))
    env.reset(seed=0)
    assert env.render().shape == (6, 8, 3)


def test_rejects_non_rgb_observations():
    with pytest.raises(ValueError, match=r"GrayscaleObservation expects RGB frames: a uint8 Box of shape \(H, W, 3\)"):
        GrayscaleObservation(FakeFrames())
