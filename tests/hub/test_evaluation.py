"""evaluate_agent: the seed picks the episodes, and the callback sees every step evaluate_policy takes."""

from __future__ import annotations

import pytest

from mario_zoo.hub.evaluation import EVAL_SEED, evaluate_agent


class AlwaysLeft:
    """Always pushes left: the actions are fixed, so only the env's seed changes the episodes."""

    def predict(self, observation, state=None, episode_start=None, deterministic=False):
        return [0] * len(observation), None


def test_the_seed_is_recorded_and_decides_the_episodes():
    default = evaluate_agent(AlwaysLeft(), "CartPole-v1", n_eval_episodes=5)
    again = evaluate_agent(AlwaysLeft(), "CartPole-v1", n_eval_episodes=5, seed=EVAL_SEED)
    other = evaluate_agent(AlwaysLeft(), "CartPole-v1", n_eval_episodes=5, seed=7)
    assert (default.seed, other.seed) == (EVAL_SEED, 7)
    assert default.episode_lengths == again.episode_lengths
    assert default.episode_lengths != other.episode_lengths
    assert f"seeded with {7}" in other.protocol


def test_the_callback_is_called_once_per_step_with_evaluate_policys_locals():
    seen = []
    result = evaluate_agent(
        AlwaysLeft(), "CartPole-v1", n_eval_episodes=3, callback=lambda local_vars, _: seen.append(local_vars["done"])
    )
    assert len(seen) == sum(result.episode_lengths)
    assert sum(seen) == 3


def test_a_bad_episode_count_is_refused():
    with pytest.raises(ValueError, match="n_eval_episodes must be a positive int, got 0"):
        evaluate_agent(AlwaysLeft(), "CartPole-v1", n_eval_episodes=0)
