"""Presets: every entry of dqn.yml builds a model; the tutorial preset is the tutorial's settings."""

from __future__ import annotations

import re

import pytest
from stable_baselines3.common.env_util import make_vec_env

from mario_zoo.agents.presets import load_preset, preset_names


def test_presets_exist():
    assert {"cartpole-tutorial", "cartpole-fast", "cartpole-rlzoo", "mario"} <= set(preset_names())


@pytest.mark.parametrize("name", ["cartpole-tutorial", "cartpole-fast", "cartpole-rlzoo"])
def test_cartpole_presets_train(name):
    model = load_preset(name).make_model(seed=0, device="cpu", learning_starts=64, buffer_size=2000)
    model.learn(300)
    assert model.num_timesteps >= 300


def test_mario_preset_trains_on_an_image_env(frame_env_class):
    preset = load_preset("mario")
    assert preset.env_id == "MarioDQN-v0"
    env = make_vec_env(lambda: frame_env_class(episode_length=(6, 11)), n_envs=2)
    model = preset.make_model(env, device="cpu", learning_starts=32, buffer_size=500)
    model.learn(96)
    assert model.replay_buffer.frame_stack == 4 and model.replay_buffer.prioritized
    assert (model.spec.dueling, model.double_q, model.n_steps) == (True, True, 3)


def test_tutorial_preset_is_the_tutorial():
    model = load_preset("cartpole-tutorial").make_model(device="cpu")
    assert model.spec.net_arch == (128, 128)
    assert type(model.optimizer).__name__ == "AdamW"
    group = model.optimizer.param_groups[0]
    assert (group["lr"], group["amsgrad"], group["weight_decay"]) == (1e-4, True, 0.01)
    assert (model.buffer_size, model.batch_size, model.gamma, model.tau, model.target_update_interval) == (
        10_000,
        128,
        0.99,
        0.005,
        1,
    )
    assert model.exploration_schedule(1000, total=0) == pytest.approx(0.05 + 0.85 / 2.718281828459045)
    assert (model.loss, model.max_grad_norm, model.max_grad_value) == ("huber", None, 100)


def test_unknown_preset_lists_the_valid_ones():
    with pytest.raises(ValueError, match=re.escape("Unknown DQN preset 'pong'; valid presets are: cartpole-tutorial")):
        load_preset("pong")
