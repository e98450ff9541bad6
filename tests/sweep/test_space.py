"""Search spaces are data: the shipped file covers every preset, and every mistake in a space file is one error
that names the valid choices."""

from __future__ import annotations

import re

import optuna
import pytest
import yaml

from mario_zoo.agents.config import DQNConfig
from mario_zoo.agents.presets import load_preset, preset_names
from mario_zoo.sweep import DISTRIBUTIONS, Parameter, bootstrap_interval, load_space, parse_space


@pytest.mark.parametrize("name", preset_names())
def test_every_preset_has_a_space_whose_samples_build_a_valid_config(name):
    preset = load_preset(name)
    space = load_space(preset.env_id)
    assert space.family == ("mario" if preset.env_id.startswith("MarioDQN") else "cartpole")
    study = optuna.create_study(sampler=optuna.samplers.RandomSampler(seed=0))
    for _ in range(5):
        sampled = space.sample(study.ask())
        assert set(sampled) == set(space.names)
        for parameter in space.parameters:
            if parameter.choices:
                assert sampled[parameter.name] in parameter.choices
            else:
                assert parameter.low <= sampled[parameter.name] <= parameter.high
        hyperparameters = {key: value for key, value in sampled.items() if key != "net_arch" and "." not in key}
        DQNConfig.from_dict({**preset.hyperparameters, **hyperparameters})


def test_mario_levels_share_the_mario_space():
    assert load_space("MarioDQN-4-2-v0").family == "mario"


def test_list_choices_travel_as_text_and_come_back_as_lists():
    parameter = Parameter("net_arch", "categorical", choices=([64], [64, 64]))
    study = optuna.create_study(sampler=optuna.samplers.RandomSampler(seed=0))
    trial = study.ask()
    value = parameter.suggest(trial)
    assert value in ([64], [64, 64]) and trial.params["net_arch"] in ("[64]", "[64, 64]")


def space(parameters, envs=("CartPole-v1",)):
    return {"cartpole": {"envs": list(envs), "parameters": parameters}}


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        ({"gamma": {"distribution": "gaussian"}}, "Bad distribution 'gaussian' for gamma in x.yml (family cartpole); "
         "valid distributions: uniform, log_uniform, int, categorical"),
        ({"gamma": 0.99}, "Bad distribution 0.99 for gamma"),
        ({"gamma": {"distribution": "uniform", "low": 1, "high": 0}}, "uniform needs numbers low <= high, got low=1"),
        ({"gamma": {"distribution": "uniform", "low": 0.9}}, "got low=0.9, high=None"),
        ({"learning_rate": {"distribution": "log_uniform", "low": 0, "high": 1}}, "log_uniform needs low > 0, got 0"),
        ({"batch_size": {"distribution": "categorical", "choices": []}}, "categorical needs a non-empty choices list"),
        ({"batch_size": {"distribution": "categorical", "choices": [32, 32]}}, "its choices [32, 32] repeat a value"),
        ({"batch_size": {"distribution": "int", "low": 1.5, "high": 4}}, "int needs whole low, high and step >= 1"),
        ({"batch_size": {"distribution": "uniform", "low": 1, "high": 2, "choices": [1]}}, "uniform takes high, low, "
         "not choices"),
    ],
)  # fmt: skip
def test_bad_distributions_name_the_valid_ones(spec, message):
    with pytest.raises(ValueError, match=re.escape(message)):
        parse_space(space(spec), "x.yml")


def test_unknown_parameter_names_the_valid_ones():
    with pytest.raises(ValueError, match=re.escape("Unknown parameter 'gama' in x.yml (family cartpole) (did you mean "
                                                   "'gamma'?); valid parameters: learning_rate, buffer_size")):  # fmt: skip
        parse_space(space({"gama": {"distribution": "uniform", "low": 0.9, "high": 0.99}}), "x.yml")


def test_every_distribution_name_is_accepted():
    specs = {
        "gamma": {"distribution": "uniform", "low": 0.9, "high": 0.999},
        "learning_rate": {"distribution": "log_uniform", "low": 1e-4, "high": 1e-2},
        "batch_size": {"distribution": "int", "low": 16, "high": 256, "log": True},
        "train_freq": {"distribution": "int", "low": 4, "high": 64, "step": 4},
        "net_arch": {"distribution": "categorical", "choices": [[64], [64, 64]]},
    }
    parsed = parse_space(space(specs), "x.yml")["cartpole"][1]
    assert {parameter.distribution for parameter in parsed.parameters} == set(DISTRIBUTIONS)
    trial = optuna.create_study(sampler=optuna.samplers.RandomSampler(seed=1)).ask()
    sampled = parsed.sample(trial)
    assert 16 <= sampled["batch_size"] <= 256 and sampled["train_freq"] % 4 == 0


def test_a_space_file_without_the_env_says_which_envs_it_covers(tmp_path):
    path = tmp_path / "space.yml"
    path.write_text(yaml.safe_dump(space({"gamma": {"distribution": "uniform", "low": 0.9, "high": 0.99}})))
    with pytest.raises(ValueError, match=re.escape(f"No search space in {path} covers MarioDQN-v0 (its families "
                                                   "cover cartpole: CartPole-v1)")):  # fmt: skip
        load_space("MarioDQN-v0", path)
    with pytest.raises(FileNotFoundError, match="does not exist"):
        load_space("CartPole-v1", tmp_path / "missing.yml")


def test_a_family_needs_envs_and_parameters():
    with pytest.raises(ValueError, match=re.escape("Family 'cartpole' in x.yml must have exactly the keys envs and "
                                                   "parameters, got ['parameters']")):  # fmt: skip
        parse_space({"cartpole": {"parameters": {}}}, "x.yml")


def test_bootstrap_interval_brackets_the_mean_and_needs_two_values():
    low, high = bootstrap_interval([100.0, 200.0, 300.0])
    assert 100.0 <= low < 200.0 < high <= 300.0
    assert bootstrap_interval([5.0]) is None


def test_env_kwargs_parameters_are_valid_names_and_other_names_still_fail():
    families = parse_space(
        {"c": {"envs": ["CartPole-v1"], "parameters": {"env_kwargs.max_episode_steps": {
            "distribution": "categorical", "choices": [20, 40]}}}},
        "inline",
    )  # fmt: skip
    assert families["c"][1].names == ("env_kwargs.max_episode_steps",)
    for bad in ("env_kwargs.", "env_kwargs.not-a-name", "envkwargs.x"):
        with pytest.raises(ValueError, match="Unknown parameter"):
            parse_space(
                {"c": {"envs": ["x"], "parameters": {bad: {"distribution": "uniform", "low": 0, "high": 1}}}}, "f"
            )
