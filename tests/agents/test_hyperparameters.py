"""``model.<hyperparameter> = value``, SB3's habit: it changes training, or says why it cannot."""

from __future__ import annotations

import re

import pytest
import torch

from mario_zoo import DQN


def test_an_assigned_hyperparameter_is_what_training_uses():
    model = DQN("MlpPolicy", "CartPole-v1", learning_starts=1000, train_freq=4, seed=0, device="cpu")
    model.learning_starts = 10
    model.train_freq = 1
    model.batch_size = 7
    sizes = []
    original = model._minibatches

    def recording(gradient_steps):
        batches = list(original(gradient_steps))
        sizes.extend(len(batch.actions) for batch in batches)
        return iter(batches)

    model._minibatches = recording
    model.learn(50)
    # Updates from step 11 on, one per step (train_freq 1), each on 7 transitions.
    assert model._n_updates == 40 and set(sizes) == {7}
    assert (model.learning_starts, model.train_freq, model.batch_size) == (10, 1, 7)


def test_an_assigned_exploration_setting_rebuilds_the_schedule():
    model = DQN("MlpPolicy", "CartPole-v1", exploration_fraction=0.5, seed=0, device="cpu")
    model.exploration_final_eps = 0.3
    model.learn(100)
    assert model.exploration_rate == pytest.approx(0.3)


def test_a_bad_value_is_refused_and_nothing_changes():
    model = DQN("MlpPolicy", "CartPole-v1", device="cpu")
    with pytest.raises(ValueError, match="batch_size"):
        model.batch_size = 0
    assert model.batch_size == 32 and model.config.batch_size == 32


@pytest.mark.parametrize(
    ("name", "value", "part"), [("buffer_size", 10, "replay buffer"), ("dueling", True, "network")]
)
def test_a_hyperparameter_built_into_the_agent_says_how_to_set_it(name, value, part):
    model = DQN("MlpPolicy", "CartPole-v1", device="cpu")
    before = getattr(model, name)
    message = f"{name} is built into this agent's {part} and cannot change on it: pass {name}={value!r} to DQN(...)"
    with pytest.raises(AttributeError, match=re.escape(message)):
        setattr(model, name, value)
    assert getattr(model, name) == before


def test_the_optimizer_is_one_object_in_both_sb3_places_and_a_replacement_trains():
    model = DQN("MlpPolicy", "CartPole-v1", learning_starts=10, seed=0, device="cpu")
    assert model.optimizer is model.policy.optimizer and model.config.optimizer == "adam"
    replacement = torch.optim.SGD(model.q_net.parameters(), lr=0.1)
    model.policy.optimizer = replacement  # SB3's habit
    model.learn(60)
    assert model.optimizer is replacement and replacement.state_dict()["state"] == {}  # SGD without momentum
    assert model._n_updates > 0
    with pytest.raises(AttributeError, match=re.escape("optimizer is built into this agent's optimizer")):
        model.optimizer = "adamw"
    with pytest.raises(TypeError, match=re.escape("optimizer must be a torch.optim.Optimizer")):
        model.optimizer = 3
    assert model.optimizer is replacement


def test_the_exploration_schedule_by_name_rebuilds_it():
    model = DQN("MlpPolicy", "CartPole-v1", exploration_decay=10.0, device="cpu")
    model.exploration_schedule = "exponential"
    assert model.config.exploration_schedule == "exponential"
    assert model.exploration_schedule(1000, 2000) == pytest.approx(model.exploration_final_eps, abs=1e-3)
    with pytest.raises(ValueError, match="exploration_schedule must be one of"):
        model.exploration_schedule = "cosine"


@pytest.mark.parametrize("name, value", [("train_freq", 16), ("exploration_repeat", 2.0), ("learning_starts", 0)])
def test_settings_of_the_acting_change_between_learn_calls_not_during_one(name, value):
    model = DQN("MlpPolicy", "CartPole-v1", learning_starts=10, seed=0, device="cpu")
    refused = []

    def assign(_locals, _globals):
        try:
            setattr(model, name, value)
        except AttributeError as error:
            refused.append(str(error))
        return True

    model.learn(30, callback=assign)
    assert refused and f"{name} shapes the acting, which learn() set up when it started" in refused[0]
    assert getattr(model, name) != value
    setattr(model, name, value)  # between two calls
    model.learn(30, reset_num_timesteps=False)
    assert getattr(model, name) == value


def test_settings_of_the_updates_change_during_learn():
    model = DQN("MlpPolicy", "CartPole-v1", learning_starts=10, seed=0, device="cpu")

    def halve(_locals, _globals):
        if model.num_timesteps == 20:
            model.learning_rate = 5e-5
        return True

    model.learn(40, callback=halve)
    assert model.learning_rate == 5e-5 and model.optimizer.param_groups[0]["lr"] == pytest.approx(5e-5, rel=0.01)


def test_train_freq_in_episodes_is_refused_on_several_envs():
    from stable_baselines3.common.env_util import make_vec_env

    model = DQN("MlpPolicy", make_vec_env("CartPole-v1", n_envs=2), device="cpu")
    with pytest.raises(ValueError, match=re.escape("counts episodes, which needs a single env; this agent has 2 envs")):
        model.train_freq = (1, "episode")
    assert model.train_freq == 4
