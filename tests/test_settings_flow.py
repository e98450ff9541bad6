"""One typed settings object from preset to model: a preset's hyperparameters are checked once, into a DQNConfig,
and every override (``--hp``, a sweep trial, compare's) is one ``DQNConfig.replace``; nothing downstream (the run's
plan, ``build_model``, ``DQN``) checks them again."""

from __future__ import annotations

import dataclasses

import gymnasium as gym
import pytest

from mario_zoo.agents import DQNConfig
from mario_zoo.agents.presets import load_preset, write_preset_file
from mario_zoo.compare import make_agent, matched_settings
from mario_zoo.training import build_model, plan_run


@pytest.fixture
def checks(monkeypatch: pytest.MonkeyPatch) -> list[DQNConfig]:
    """Every DQNConfig checked (its ``__post_init__`` run) from now on."""
    checked: list[DQNConfig] = []
    original = DQNConfig.__post_init__

    def counted(self: DQNConfig) -> None:
        checked.append(self)
        original(self)

    monkeypatch.setattr(DQNConfig, "__post_init__", counted)
    return checked


@pytest.fixture
def preset_file(tmp_path):
    path = tmp_path / "mine.yml"
    write_preset_file(dataclasses.replace(load_preset("cartpole-fast"), name="mine"), path)
    return path


def _build(config):
    model = build_model(config)
    model.get_env().close()
    return model


def test_a_preset_file_is_checked_once_from_plan_to_model(checks, preset_file):
    checks.clear()
    config = plan_run(preset=str(preset_file), steps=100, device="cpu", eval_episodes=0)
    model = _build(config)
    assert len(checks) == 1 and model.config is config.hyperparameters == checks[0]


def test_an_override_is_one_more_check(checks, preset_file):
    checks.clear()
    config = plan_run(
        preset=str(preset_file), overrides={"gamma": 0.9, "buffer_size": 2e3}, steps=100, device="cpu", eval_episodes=0
    )
    model = _build(config)
    assert len(checks) == 2 and model.config is config.hyperparameters
    assert (model.gamma, model.buffer_size, model.double_q) == (0.9, 2000, True)


def test_a_loaded_preset_is_not_checked_again(checks):
    preset = load_preset("cartpole-fast")
    checks.clear()
    model = _build(plan_run(preset=preset, steps=100, device="cpu", eval_episodes=0))
    assert checks == [] and model.config is preset.config


def test_a_sweep_trial_is_the_preset_with_one_replace(checks, tmp_path):
    from mario_zoo.sweep.plan import plan_sweep, trial_preset

    plan = plan_sweep("cartpole-fast", trials=2, steps=400, out=tmp_path / "sweep", progress=False)
    checks.clear()
    trial = trial_preset(plan, {"gamma": 0.9, "net_arch": [32], "buffer_size": 5e3})
    model = _build(plan_run(preset=trial, seed=0, steps=400, device="cpu", eval_episodes=0))
    assert len(checks) == 1 and model.config is trial.config
    assert (model.gamma, model.buffer_size, model.spec.net_arch) == (0.9, 5000, (32,))
    # The study is tied to the preset file's own values, as before: studies stored by earlier versions still match.
    assert plan.settings["hyperparameters"] == {
        "learning_rate": 2.3e-3,
        "batch_size": 128,
        "buffer_size": 100000,
        "learning_starts": 1000,
        "gamma": 0.99,
        "n_steps": 5,
        "double_q": True,
        "target_update_interval": 10,
        "train_freq": 128,
        "gradient_steps": 64,
        "exploration_fraction": 0.16,
        "exploration_final_eps": 0.04,
    }


def test_compare_settings_are_one_replace_and_the_agent_takes_them_as_they_are(checks):
    load_preset("cartpole-rlzoo")
    checks.clear()
    settings = matched_settings("CartPole-v1", 1000, {"learning_starts": 5})
    assert len(checks) == 1
    agent = make_agent("mario_zoo", settings, gym.make("CartPole-v1"), seed=0)
    assert len(checks) == 1 and agent.config is settings.hyperparameters
    assert agent.learning_starts == 5
