"""What an SB3 user types works: ``learn(1e5)``, ``get_parameters``/``set_parameters``, ``set_random_seed``,
``DQN.load("x")`` finding ``x.zip``, SB3's own DQN zips, and ``model.env_id``/``model.env_kwargs``."""

from __future__ import annotations

import re

import gymnasium as gym
import numpy as np
import pytest
import stable_baselines3
import torch

from mario_zoo.agents import DQN

FAST = {"learning_starts": 50, "batch_size": 16, "buffer_size": 1000, "device": "cpu"}


def _cartpole(seed: int = 0, **kwargs) -> DQN:
    return DQN("MlpPolicy", "CartPole-v1", seed=seed, policy_kwargs={"net_arch": [16, 16]}, **FAST, **kwargs)


def _observations(n: int = 100) -> np.ndarray:
    return np.random.default_rng(1).normal(size=(n, 4)).astype(np.float32)


def test_learn_takes_a_float_step_count_as_sb3_does():
    model = _cartpole().learn(1e3)
    assert model.num_timesteps == 1000
    with pytest.raises(TypeError, match=re.escape("total_timesteps must be a whole number such as 100_000 or 1e5")):
        model.learn(10.5)


def test_get_and_set_parameters_round_trip():
    source, target = _cartpole(seed=0).learn(200), _cartpole(seed=1)
    params = source.get_parameters()
    assert sorted(params) == ["policy", "policy.optimizer"]
    target.set_parameters(params)
    for name, tensor in source.policy.state_dict().items():
        assert torch.equal(tensor, target.policy.state_dict()[name]), name
    assert target.optimizer.state_dict()["state"].keys() == source.optimizer.state_dict()["state"].keys()
    np.testing.assert_array_equal(
        source.predict(_observations(), deterministic=True)[0], target.predict(_observations(), deterministic=True)[0]
    )


def test_set_parameters_follows_sb3_exact_match_rules(tmp_path):
    source, target = _cartpole(seed=0).learn(200), _cartpole(seed=1)
    with pytest.raises(ValueError, match=re.escape("Names ['policy.optimizer'] were not found")):
        target.set_parameters({"policy": source.policy.state_dict()})
    target.set_parameters({"policy": source.policy.state_dict()}, exact_match=False)
    assert torch.equal(target.q_net.layers[0].weight, source.q_net.layers[0].weight)
    with pytest.raises(ValueError, match=re.escape("Unknown parameter object(s) ['critic']; valid names are")):
        target.set_parameters({"critic": {}}, exact_match=False)
    source.save(tmp_path / "source")
    fresh = _cartpole(seed=2)
    fresh.set_parameters(tmp_path / "source")
    assert torch.equal(fresh.q_net.layers[0].weight, source.q_net.layers[0].weight)


def test_set_random_seed_makes_exploration_repeatable():
    first, second = _cartpole(seed=0), _cartpole(seed=5)
    first.exploration_rate = second.exploration_rate = 0.5
    second.set_parameters(first.get_parameters())
    for model in (first, second):
        model.set_random_seed(7)
    draws = [[model.predict(_observations(), deterministic=False)[0] for _ in range(3)] for model in (first, second)]
    np.testing.assert_array_equal(np.stack(draws[0]), np.stack(draws[1]))
    first.set_random_seed(None)  # SB3: nothing happens


def test_load_finds_the_zip_sb3_style(tmp_path):
    model = _cartpole().learn(100)
    model.save(tmp_path / "agent.zip")
    assert DQN.load(tmp_path / "agent").num_timesteps == model.num_timesteps
    assert DQN.load(str(tmp_path / "agent")).num_timesteps == model.num_timesteps


def test_a_loaded_model_names_the_env_it_was_trained_on(tmp_path):
    model = DQN("MlpPolicy", gym.make("CartPole-v1", sutton_barto_reward=True), **FAST)
    assert (model.env_id, model.env_kwargs) == ("CartPole-v1", {"sutton_barto_reward": True})
    model.save(tmp_path / "agent")
    loaded = DQN.load(tmp_path / "agent")
    env = gym.make(loaded.env_id, **loaded.env_kwargs)
    assert env.spec.kwargs == {"sutton_barto_reward": True}
    loaded.env_kwargs["sutton_barto_reward"] = False  # a copy: the model's record is unchanged
    assert loaded.env_kwargs == {"sutton_barto_reward": True}
    with pytest.raises(AttributeError):
        loaded.env_id = "Acrobot-v1"


def test_an_sb3_mlp_zip_loads_without_unpickling_and_acts_the_same(tmp_path, monkeypatch):
    sb3_model = stable_baselines3.DQN("MlpPolicy", "CartPole-v1", policy_kwargs={"net_arch": [32, 16]}, gamma=0.9,
                                      learning_starts=10, seed=0, device="cpu").learn(100)  # fmt: skip
    sb3_model.save(tmp_path / "sb3_agent")
    import pickle

    def refuse(*args, **kwargs):
        raise AssertionError("unpickling is not allowed")

    monkeypatch.setattr(pickle, "loads", refuse)
    monkeypatch.setattr(pickle, "load", refuse)
    model = DQN.load(tmp_path / "sb3_agent")
    monkeypatch.undo()
    assert model.gamma == 0.9 and model.spec.net_arch == (32, 16) and model.env_id is None
    np.testing.assert_array_equal(
        model.predict(_observations(), deterministic=True)[0],
        sb3_model.predict(_observations(), deterministic=True)[0],
    )


def test_an_sb3_cnn_zip_acts_the_same(tmp_path, frame_env_class):
    sb3_model = stable_baselines3.DQN("CnnPolicy", frame_env_class(), learning_starts=10, buffer_size=100,
                                      policy_kwargs={"features_extractor_kwargs": {"features_dim": 32}}, seed=0,
                                      device="cpu").learn(30)  # fmt: skip
    sb3_model.save(tmp_path / "sb3_cnn.zip")
    model = DQN.load(tmp_path / "sb3_cnn.zip", env=frame_env_class())
    frames = np.random.default_rng(0).integers(0, 256, (16, 4, 84, 84), dtype=np.uint8)
    np.testing.assert_array_equal(
        model.predict(frames, deterministic=True)[0], sb3_model.predict(frames, deterministic=True)[0]
    )


def test_an_sb3_zip_it_cannot_convert_names_the_reason(tmp_path):
    from mario_zoo.agents import DuelingMlpPolicy
    from mario_zoo.agents.checkpoint import CheckpointError

    stable_baselines3.DQN(DuelingMlpPolicy, "CartPole-v1", device="cpu").save(tmp_path / "dueling")
    with pytest.raises(CheckpointError, match=r"dueling\.zip is a Stable-Baselines3 zip that mario_zoo cannot convert"):
        DQN.load(tmp_path / "dueling")
