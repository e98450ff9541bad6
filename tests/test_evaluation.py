"""evaluate: the seed picks the episodes, every step is seen, and bad counts are refused."""

from __future__ import annotations

import pytest

from mario_zoo.evaluation import EVAL_SEED, _play_episodes, evaluate


class AlwaysLeft:
    """Always pushes left: the actions are fixed, so only the env's seed changes the episodes."""

    exploration_rate = 0.0

    def predict(self, observation, state=None, episode_start=None, deterministic=False):
        return [0] * len(observation), None


def test_the_seed_is_recorded_and_decides_the_episodes():
    default = evaluate(AlwaysLeft(), "CartPole-v1", n_episodes=5).result
    again = evaluate(AlwaysLeft(), "CartPole-v1", n_episodes=5, seed=EVAL_SEED).result
    other = evaluate(AlwaysLeft(), "CartPole-v1", n_episodes=5, seed=7).result
    assert (default.seed, other.seed) == (EVAL_SEED, 7)
    assert default.episode_lengths == again.episode_lengths
    assert default.episode_lengths != other.episode_lengths
    assert f"seeded with {7}" in other.protocol


def test_the_callback_is_called_once_per_step_with_evaluate_policys_locals():
    seen = []
    result = _play_episodes(
        AlwaysLeft(), "CartPole-v1", {}, 3, True, EVAL_SEED, lambda local_vars, _: seen.append(local_vars["done"])
    )
    assert len(seen) == sum(result.episode_lengths)
    assert sum(seen) == 3


def test_a_bad_episode_count_is_refused():
    with pytest.raises(ValueError, match="The number of evaluation episodes must be an int >= 1, got 0"):
        evaluate(AlwaysLeft(), "CartPole-v1", n_episodes=0)


def test_results_carry_the_checkpoints_package_versions():
    versions = evaluate(AlwaysLeft(), "CartPole-v1", n_episodes=1).result.package_versions
    assert {"python", "mario-zoo", "torch", "stable-baselines3", "gymnasium"} <= set(versions)
