"""Long trainings (``make test-slow``): the fast CartPole preset solves CartPole-v1 within 50k steps."""

from __future__ import annotations

import gymnasium as gym
import pytest
from stable_baselines3.common.callbacks import EvalCallback, StopTrainingOnRewardThreshold
from stable_baselines3.common.monitor import Monitor
from stable_baselines3.common.vec_env import DummyVecEnv

from mario_zoo.agents.presets import load_preset


@pytest.mark.slow
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_cartpole_fast_preset_solves_within_50k_steps(seed):
    model = load_preset("cartpole-fast").make_model(seed=seed, device="cpu")
    # 100 envs, one evaluation episode each: a 100-episode deterministic evaluation every 2,500 steps.
    eval_env = DummyVecEnv([lambda: Monitor(gym.make("CartPole-v1")) for _ in range(100)])
    eval_env.seed(10_000 + seed)
    evaluation = EvalCallback(
        eval_env,
        callback_on_new_best=StopTrainingOnRewardThreshold(reward_threshold=475, verbose=0),
        eval_freq=2_500,
        n_eval_episodes=100,
        verbose=0,
    )
    model.learn(50_000, callback=evaluation)
    assert evaluation.best_mean_reward >= 475, f"best 100-episode mean {evaluation.best_mean_reward}"
