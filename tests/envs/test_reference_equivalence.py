"""MarioDQN-v0's fast path against reference chains built only from Gymnasium's own wrappers.

Two references, stepped in lockstep with ``MarioDQN-v0`` on one seeded action sequence (2,000 agent steps,
many episodes):

* **exact**: ``JoypadSpace -> TransformObservation(nes-py luma) -> MaxAndSkipObservation(4) ->
  ResizeObservation((84, 84)) -> FrameStackObservation(4)``. It defines what MarioDQN-v0 computes
  (grayscale each frame with nes-py's luma ``(77 R + 150 G + 29 B) >> 8``, then max-pool, like Gymnasium's
  ``AtariPreprocessing``); observations must be bit-identical.
* **issue's chain**: ``JoypadSpace -> MaxAndSkipObservation(4) -> GrayscaleObservation ->
  ResizeObservation((84, 84)) -> FrameStackObservation(4)``. Its grayscale uses other weights (BT.709,
  truncated) and is taken *after* the max-pool, so pixels whose colour changes between the two pooled frames
  differ. Rewards, flags and ``info`` must be identical (ours adds ``left_stage``); observations differ by at most
  ``MAX_ABS_DIFF_VS_GYMNASIUM_GRAY`` per pixel and ``MAX_MEAN_ABS_DIFF_VS_GYMNASIUM_GRAY`` on average
  (measured over these 2,000 steps: worst pixel 65, mean 3.3 grey levels).

On a step where the episode ended before the 4th frame, Gymnasium's ``MaxAndSkipObservation`` returns
stale frames from the previous step, so observations are compared on every other step and on every reset.
"""

import gymnasium as gym
import numpy as np
from gym_super_mario_bros.actions import SIMPLE_MOVEMENT
from gymnasium import spaces
from gymnasium.wrappers import (
    FrameStackObservation,
    GrayscaleObservation,
    MaxAndSkipObservation,
    ResizeObservation,
    TransformObservation,
)
from nes_py.wrappers import JoypadSpace

import mario_zoo  # noqa: F401

STEPS = 2000
MAX_ABS_DIFF_VS_GYMNASIUM_GRAY = 80
MAX_MEAN_ABS_DIFF_VS_GYMNASIUM_GRAY = 4.0


def nes_luma(rgb: np.ndarray) -> np.ndarray:
    r, g, b = (rgb[..., channel].astype(np.uint32) for channel in range(3))
    return ((77 * r + 150 * g + 29 * b) >> 8).astype(np.uint8)


def exact_reference() -> gym.Env:
    env = JoypadSpace(gym.make("SuperMarioBros-1-1-v0"), SIMPLE_MOVEMENT)
    env = TransformObservation(env, nes_luma, spaces.Box(0, 255, (240, 256), np.uint8))
    env = MaxAndSkipObservation(env, skip=4)
    return FrameStackObservation(ResizeObservation(env, (84, 84)), 4)


def gymnasium_chain() -> gym.Env:
    env = MaxAndSkipObservation(JoypadSpace(gym.make("SuperMarioBros-1-1-v0"), SIMPLE_MOVEMENT), skip=4)
    return FrameStackObservation(ResizeObservation(GrayscaleObservation(env), (84, 84)), 4)


def test_mariodqn_matches_gymnasium_reference_chains():
    ours, exact, chain = gym.make("MarioDQN-v0"), exact_reference(), gymnasium_chain()
    # Mostly rightward actions so episodes get far into the level (pipes, enemies, pits, deaths).
    actions = np.random.default_rng(0).choice(7, size=STEPS, p=[0.05, 0.2, 0.25, 0.15, 0.25, 0.05, 0.05])
    observations = [env.reset(seed=0)[0] for env in (ours, exact, chain)]
    episodes, max_x, full_steps = 0, 0, 0
    worst_diff, mean_diffs = 0, []

    def compare(obs_ours, obs_exact, obs_chain):
        nonlocal worst_diff
        np.testing.assert_array_equal(obs_ours, obs_exact)
        diff = np.abs(obs_ours.astype(np.int16) - obs_chain)
        worst_diff = max(worst_diff, int(diff.max()))
        mean_diffs.append(float(diff.mean()))

    compare(*observations)
    for action in actions:
        results = [env.step(action) for env in (ours, exact, chain)]
        _, reward, terminated, truncated, info = results[0]
        for other in results[1:]:
            assert (reward, terminated, truncated) == other[1:4]
            # Ours adds left_stage (a warp pipe left the level; never in 1-1) to the game's fields.
            assert info.keys() == other[4].keys() | {"left_stage"} and not info["left_stage"]
            for key, value in other[4].items():
                assert np.array_equal(info[key], value), key
        max_x = max(max_x, info["x_pos"])
        if terminated or truncated:
            episodes += 1
            compare(*(env.reset()[0] for env in (ours, exact, chain)))
        else:
            full_steps += 1
            compare(*(result[0] for result in results))

    assert episodes >= 5, "the action sequence should cover several episodes"
    assert max_x > 1000, "the action sequence should get well into the level"
    assert full_steps > 1900
    assert worst_diff <= MAX_ABS_DIFF_VS_GYMNASIUM_GRAY
    assert np.mean(mean_diffs) <= MAX_MEAN_ABS_DIFF_VS_GYMNASIUM_GRAY
