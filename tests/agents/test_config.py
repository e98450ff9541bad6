"""DQNConfig: SB3's names and defaults, validation messages, plain-data round trips."""

from __future__ import annotations

import inspect
import re

import pytest
import stable_baselines3

from mario_zoo.agents import DQNConfig


def test_shared_hyperparameters_keep_sb3_defaults():
    sb3_defaults = {
        name: parameter.default
        for name, parameter in inspect.signature(stable_baselines3.DQN.__init__).parameters.items()
        if parameter.default is not inspect.Parameter.empty
    }
    shared = set(sb3_defaults) & set(DQNConfig.field_names())
    assert {
        "learning_rate",
        "buffer_size",
        "batch_size",
        "tau",
        "gamma",
        "train_freq",
        "n_steps",
        "target_update_interval",
        "exploration_fraction",
        "max_grad_norm",
    } <= shared
    config = DQNConfig()
    for name in shared:
        assert getattr(config, name) == sb3_defaults[name], name


def test_every_field_has_a_docstring():
    source = inspect.getsource(DQNConfig)
    for name in DQNConfig.field_names():
        assert re.search(rf"\n    {name}: .*\n    \"\"\".+\"\"\"\n", source), name


def test_round_trip_through_plain_data():
    config = DQNConfig(train_freq=(2, "episode"), double_q=True, max_grad_norm=None, max_grad_value=5.0)
    assert DQNConfig.from_dict(config.to_dict()) == config
    assert config.to_dict()["train_freq"] == [2, "episode"]
    assert DQNConfig(train_freq=8).train_freq_tuple == (8, "step")


@pytest.mark.parametrize(
    ("kwargs", "error", "message"),
    [
        ({"learning_rate": -1e-3}, ValueError, "learning_rate must be in [0.0, inf), got -0.001."),
        ({"batch_size": 0}, ValueError, "batch_size must be >= 1, got 0."),
        ({"batch_size": 3.5}, TypeError, "batch_size must be an int, got 3.5 of type float."),
        ({"tau": 0.0}, ValueError, "tau must be in (0.0, 1.0], got 0.0."),
        ({"gradient_steps": -2}, ValueError, "gradient_steps must be >= -1, got -2."),
        ({"train_freq": (4, "epoch")}, ValueError, "train_freq unit must be one of ('step', 'episode'), got 'epoch'."),
        ({"loss": "l1"}, ValueError, "loss must be one of ('huber', 'mse'), got 'l1'."),
        ({"optimizer": "sgd"}, ValueError, "optimizer must be one of ('adam', 'adamw'), got 'sgd'."),
        ({"double_q": "yes"}, TypeError, "double_q must be True or False, got 'yes'."),
        ({"max_grad_norm": -1.0}, ValueError, "max_grad_norm must be in (0.0, inf), got -1.0."),
        ({"exploration_final_eps": 2}, ValueError, "exploration_final_eps must be in [0.0, 1.0], got 2."),
    ],
)
def test_bad_values_name_the_value_and_the_valid_range(kwargs, error, message):
    with pytest.raises(error, match=re.escape(message)):
        DQNConfig(**kwargs)


def test_unknown_names_suggest_the_closest_one():
    with pytest.raises(TypeError, match=re.escape("Unknown DQN hyperparameter 'n_step' (did you mean 'n_steps'?)")):
        DQNConfig.from_dict({"n_step": 3})


def test_learning_rate_final_decays_the_optimizers_step_size_over_learn():
    from mario_zoo.agents import DQN

    def step_sizes(**hyperparameters):
        model = DQN("MlpPolicy", "CartPole-v1", learning_starts=50, train_freq=1, seed=0, **hyperparameters)
        seen = []
        original = model.train

        def train(gradient_steps):
            original(gradient_steps)
            seen.append(model.optimizer.param_groups[0]["lr"])

        model.train = train
        model.learn(400)
        return seen

    decayed = step_sizes(learning_rate=1e-3, learning_rate_final=0.0)
    assert decayed[0] == pytest.approx(1e-3 * (1 - 51 / 400))
    assert decayed == sorted(decayed, reverse=True) and decayed[-1] == pytest.approx(0.0, abs=1e-12)
    assert set(step_sizes(learning_rate=1e-3)) == {1e-3}


def test_a_negative_learning_rate_final_is_refused():
    with pytest.raises(ValueError, match="learning_rate_final"):
        DQNConfig(learning_rate_final=-1e-4)


def test_an_sb3_learning_rate_schedule_names_learning_rate_final():
    with pytest.raises(TypeError, match="set learning_rate \\(the start\\) and learning_rate_final \\(the end\\)"):
        DQNConfig(learning_rate=lambda progress_remaining: 1e-3 * progress_remaining)


def test_replace_checks_the_new_values_once_and_names_unknown_ones():
    config = DQNConfig(gamma=0.9)
    assert config.replace() is config
    assert config.replace(batch_size=64) == DQNConfig(gamma=0.9, batch_size=64)
    with pytest.raises(ValueError, match=re.escape("gamma must be in [0.0, 1.0], got 2.")):
        config.replace(gamma=2)
    with pytest.raises(TypeError, match=re.escape("Unknown DQN hyperparameter 'gama' (did you mean 'gamma'?)")):
        config.replace(gama=0.5)


def test_dqn_takes_a_ready_config_and_refuses_it_mixed_with_keywords():
    from mario_zoo.agents import DQN

    config = DQNConfig(gamma=0.9, batch_size=16)
    model = DQN("MlpPolicy", "CartPole-v1", config=config, device="cpu")
    assert model.config is config
    message = (
        "DQN takes its hyperparameters either as config=DQNConfig(...) or as keywords, not both: got config and "
        "learning_rate. Put them in the config: config=config.replace(learning_rate=...)."
    )
    with pytest.raises(TypeError, match=re.escape(message)):
        DQN("MlpPolicy", "CartPole-v1", config=config, learning_rate=1e-3, device="cpu")
    with pytest.raises(TypeError, match=re.escape("config must be a DQNConfig, got dict")):
        DQN("MlpPolicy", "CartPole-v1", config={"gamma": 0.9}, device="cpu")


def test_a_dueling_policy_alias_turns_dueling_on_in_a_given_config():
    from mario_zoo.agents import DQN

    model = DQN("DuelingMlpPolicy", "CartPole-v1", config=DQNConfig(gamma=0.9), device="cpu")
    assert (model.config.dueling, model.config.gamma, model.spec.dueling) == (True, 0.9, True)
    assert DQN("DuelingMlpPolicy", "CartPole-v1", gamma=0.9, device="cpu").config == model.config
