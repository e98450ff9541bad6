"""``model.<hyperparameter> = value``, SB3's habit: it changes training, or says why it cannot."""

from __future__ import annotations

import re

import pytest

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


def test_sb3_attribute_names_keep_their_objects():
    model = DQN("MlpPolicy", "CartPole-v1", device="cpu")
    optimizer, schedule = model.optimizer, model.exploration_schedule
    model.optimizer = optimizer  # the torch optimizer, not the config's "adam"
    model.exploration_schedule = schedule
    assert model.optimizer is optimizer and model.exploration_schedule is schedule and model.config.optimizer == "adam"
    assert model.policy.optimizer is optimizer  # SB3's place for it too
