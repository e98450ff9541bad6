"""Presets: every entry of dqn.yml builds a model; the tutorial preset is the tutorial's settings."""

from __future__ import annotations

import dataclasses
import re

import pytest
from stable_baselines3.common.env_util import make_vec_env

from mario_zoo.agents import DQNConfig
from mario_zoo.agents.presets import load_preset, preset_names, write_preset_file
from mario_zoo.training import plan_run


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


def test_the_world_1_preset_is_the_1_1_preset_with_a_longer_horizon_and_a_shorter_stall_cut():
    """mario-world-1 differs from mario-1-1 in gamma (0.99, rewards x 0.1) and the stall cut only, so that a level's
    agent is trained like 1-1's with the env as the one other difference (`--env MarioDQN-1-3-v0`)."""
    level, first = load_preset("mario-world-1"), load_preset("mario-1-1")
    config, base = dataclasses.asdict(level.config), dataclasses.asdict(first.config)
    assert {key: config[key] for key in config if config[key] != base[key]} == {"gamma": 0.99}
    differing = {
        key for key in {*level.env_kwargs, *first.env_kwargs} if level.env_kwargs.get(key) != first.env_kwargs.get(key)
    }
    assert differing == {"stall_steps", "reward_scale"}
    assert (level.env_kwargs["stall_steps"], level.env_kwargs["reward_scale"]) == (100, 0.1)
    assert (level.policy, level.policy_kwargs, level.n_timesteps) == (
        first.policy,
        first.policy_kwargs,
        first.n_timesteps,
    )
    planned = plan_run(preset="mario-world-1", env_id="MarioDQN-1-3-v0", steps=1, device="cpu")
    assert planned.env_id == "MarioDQN-1-3-v0" and planned.env_kwargs["stall_steps"] == 100


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


def test_a_preset_file_round_trips_in_dqn_yml_schema(tmp_path):
    tuned = dataclasses.replace(load_preset("cartpole-fast"), name="cartpole-tuned", n_timesteps=20_000)
    path = tmp_path / "best.yml"
    write_preset_file(tuned, path)
    assert load_preset(path) == tuned == load_preset(str(path))
    text = path.read_text()
    assert text.startswith("cartpole-tuned:\n  description:") and "net_arch: [64, 64]" in text


def test_train_plans_from_a_preset_file(tmp_path):
    path = tmp_path / "mine.yaml"
    path.write_text(
        "mine:\n  env_id: CartPole-v1\n  policy: MlpPolicy\n  n_timesteps: 1000\n"
        "  policy_kwargs: {net_arch: [32]}\n  hyperparameters: {learning_rate: 0.01, batch_size: 16}\n"
    )
    config = plan_run(preset=str(path), device="cpu")
    assert (config.preset, config.total_timesteps, config.policy_kwargs) == ("mine", 1000, {"net_arch": [32]})
    assert config.hyperparameters == DQNConfig(learning_rate=0.01, batch_size=16)


@pytest.mark.parametrize(
    ("text", "error", "message"),
    [
        ("a: {env_id: CartPole-v1, policy: MlpPolicy, n_timesteps: 1}\nb: {env_id: CartPole-v1, policy: MlpPolicy, "
         "n_timesteps: 1}\n", ValueError, "must hold exactly one preset (name: {env_id: ..., policy: ..., "
         "n_timesteps: ..., hyperparameters: {...}}), found 2 entries"),
        ("a: {env_id: CartPole-v1, n_timesteps: 1}\n", ValueError, "Preset 'a' in {path} lacks policy"),
        ("a: {env_id: CartPole-v1, policy: MlpPolicy, n_timesteps: 1, hyperparameters: {learning_rat: 1}}\n",
         TypeError, "Unknown DQN hyperparameter 'learning_rat' (did you mean 'learning_rate'?)"),
        ("a: [\n", ValueError, "Preset file {path} is not valid YAML"),
    ],
)  # fmt: skip
def test_bad_preset_files_say_what_is_wrong(tmp_path, text, error, message):
    path = tmp_path / "bad.yml"
    path.write_text(text)
    with pytest.raises(error, match=re.escape(message.replace("{path}", str(path)))):
        load_preset(path)


def test_a_missing_preset_file_is_named():
    with pytest.raises(FileNotFoundError, match=re.escape("Preset file nowhere/best.yml does not exist")):
        load_preset("nowhere/best.yml")


def test_a_preset_parses_its_hyperparameters_once_into_a_config_and_keeps_what_the_file_sets():
    preset = load_preset("cartpole-fast")
    assert preset.config == DQNConfig.from_dict(preset.hyperparameters)
    assert preset.written[:3] == ("learning_rate", "batch_size", "buffer_size") and "tau" not in preset.hyperparameters
    tuned = preset.with_hyperparameters({"gamma": 0.9, "tau": 0.5})
    assert tuned.config == preset.config.replace(gamma=0.9, tau=0.5)
    assert tuned.hyperparameters == {**preset.hyperparameters, "gamma": 0.9, "tau": 0.5}
    with pytest.raises(TypeError, match=re.escape("Unknown DQN hyperparameter 'gama' (did you mean 'gamma'?)")):
        preset.with_hyperparameters({"gama": 0.9})
    with pytest.raises(TypeError, match=re.escape("Unknown DQN hyperparameter 'gama'")):
        dataclasses.replace(preset, written=("gama",))


def test_make_model_overrides_name_a_misspelt_hyperparameter():
    with pytest.raises(TypeError, match=re.escape("Unknown DQN hyperparameter 'learning_rat' (did you mean")):
        load_preset("cartpole-fast").make_model(device="cpu", learning_rat=1e-3)
