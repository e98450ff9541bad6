import cv2
import numpy as np
import pytest

from mario_zoo.wrappers import GrayscaleObservation
from tests.wrappers.fakes import FakeFrames, FakeNES, GrayFrames


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


def test_a_given_frame_source_supplies_the_frames_and_is_exposed():
    nes = FakeNES()
    frames = GrayFrames(nes)
    env = GrayscaleObservation(nes, frames=frames)
    env.reset(seed=0)
    obs = env.step(128)[0]
    assert env.frames is frames
    np.testing.assert_array_equal(obs, frames.observe())
    np.testing.assert_array_equal(obs, nes._screen()[..., 0])


def test_a_frame_source_must_offer_advance_and_observe():
    with pytest.raises(TypeError, match=r"frames must be a FrameSource .* got str"):
        GrayscaleObservation(FakeNES(), frames="nes")


def test_the_wrappers_import_no_emulator():
    """nes-py is the envs' business (mario_zoo.envs.emulator); the wrappers work on any Gymnasium env."""
    import ast
    from pathlib import Path

    import mario_zoo.wrappers

    for path in Path(mario_zoo.wrappers.__file__).parent.glob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            names = [alias.name for alias in node.names] if isinstance(node, ast.Import) else []
            names += [node.module or ""] if isinstance(node, ast.ImportFrom) else []
            assert not any(name.split(".")[0] == "nes_py" for name in names), path
