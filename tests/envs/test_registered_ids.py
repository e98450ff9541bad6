"""Every registered MarioDQN ID: Gymnasium's and SB3's env checkers, and a seeded determinism rollout."""

import warnings

import gymnasium as gym
import numpy as np
import pytest
from gymnasium.utils.env_checker import check_env
from stable_baselines3.common.env_checker import check_env as sb3_check_env

import mario_zoo

ALL_IDS = [spec_id for spec_id in gym.registry if spec_id.startswith("MarioDQN")]


def test_all_32_levels_and_the_default_are_registered():
    assert sorted(ALL_IDS) == sorted(mario_zoo.ENV_IDS)
    assert len(ALL_IDS) == 33
    assert "MarioDQN-v0" in ALL_IDS and "MarioDQN-8-4-v0" in ALL_IDS


def _rollout(env_id: str, seed: int, actions: np.ndarray) -> list[np.ndarray]:
    env = gym.make(env_id)
    obs, _ = env.reset(seed=seed)
    seen = [obs]
    for action in actions:
        obs, _, terminated, truncated, _ = env.step(action)
        seen.append(obs)
        if terminated or truncated:
            seen.append(env.reset()[0])
    env.close()
    return seen


@pytest.mark.parametrize("env_id", ALL_IDS)
def test_registered_id(env_id):
    env = gym.make(env_id)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        # The "human" render mode needs a display; rgb_array rendering is tested separately.
        check_env(env, skip_render_check=True)
    problems = [str(w.message) for w in caught if "different from the unwrapped version" not in str(w.message)]
    assert problems == []

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        sb3_check_env(gym.make(env_id), warn=True)
    assert [str(w.message) for w in caught] == []

    actions = np.random.default_rng(0).integers(0, 7, 40)
    first, second = _rollout(env_id, 3, actions), _rollout(env_id, 3, actions)
    assert len(first) == len(second)
    for a, b in zip(first, second, strict=True):
        np.testing.assert_array_equal(a, b)
