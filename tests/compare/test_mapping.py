"""The models compare builds: SB3's DQN gets exactly our settings, and both networks have the same layers."""

from __future__ import annotations

import gymnasium as gym
import pytest
import torch
from stable_baselines3 import DQN as SB3DQN
from stable_baselines3.common.type_aliases import TrainFrequencyUnit

import mario_zoo  # noqa: F401  (registers MarioDQN-v0)
from mario_zoo.compare import make_agent, matched_settings, sb3_kwargs

# SB3 rl-baselines3-zoo's CartPole-v1 DQN settings (hyperparams/dqn.yml there).
RL_ZOO_CARTPOLE = {
    "learning_rate": 2.3e-3,
    "batch_size": 64,
    "buffer_size": 100_000,
    "learning_starts": 1000,
    "gamma": 0.99,
    "tau": 1.0,
    "target_update_interval": 10,
    "train_freq": 256,
    "gradient_steps": 128,
    "n_steps": 1,
    "exploration_fraction": 0.16,
    "exploration_initial_eps": 1.0,
    "exploration_final_eps": 0.04,
    "max_grad_norm": 10.0,
}


def _models(env_id: str, **overrides: object) -> tuple:
    settings = matched_settings(env_id, steps=50_000, overrides=overrides or None)
    ours = make_agent("mario_zoo", settings, gym.make(env_id), seed=0)
    theirs = make_agent("sb3", settings, gym.make(env_id), seed=0)
    return settings, ours, theirs


def _assert_same_settings(ours, theirs, expected: dict) -> None:
    for name, value in expected.items():
        if name == "train_freq":
            assert (theirs.train_freq.frequency, theirs.train_freq.unit) == (value, TrainFrequencyUnit.STEP)
            assert ours.config.train_freq_tuple == (value, "step")
        else:
            assert getattr(theirs, name) == value, name
            assert getattr(ours.config, name) == value, name


def _assert_same_exploration(ours, theirs, total: int = 50_000) -> None:
    for step in (0, 1000, 4000, 8000, 8001, 30_000, total):
        # SB3 schedules take the remaining progress, ours the step count.
        assert ours.exploration_schedule(step, total) == pytest.approx(theirs.exploration_schedule(1 - step / total))


def _optimizer(model) -> torch.optim.Optimizer:
    """SB3 keeps the optimizer on its policy, we keep it on the model."""
    return model.policy.optimizer if isinstance(model, SB3DQN) else model.optimizer


def _layer_shapes(module: torch.nn.Module) -> list[tuple[int, ...]]:
    return [tuple(parameter.shape) for parameter in module.parameters()]


def test_cartpole_is_rl_zoo_in_both() -> None:
    settings, ours, theirs = _models("CartPole-v1")
    assert settings.preset == "cartpole-rlzoo" and settings.dropped == {}
    _assert_same_settings(ours, theirs, RL_ZOO_CARTPOLE)
    _assert_same_exploration(ours, theirs)
    assert theirs.policy_kwargs == {"net_arch": [256, 256]}
    assert (
        _layer_shapes(theirs.q_net)
        == _layer_shapes(ours.policy.q_net)
        == [(256, 4), (256,), (256, 256), (256,), (2, 256), (2,)]
    )
    for model in (ours, theirs):
        (group,) = _optimizer(model).param_groups
        assert type(_optimizer(model)) is torch.optim.Adam
        assert (group["lr"], group["eps"], group["weight_decay"], group["amsgrad"]) == (2.3e-3, 1e-8, 0.0, False)


def test_overrides_reach_both() -> None:
    settings, ours, theirs = _models("CartPole-v1", batch_size=128, train_freq=64, gradient_steps=-1,
                                     policy_kwargs={"net_arch": [32]}, optimizer="adamw", weight_decay=0.01)  # fmt: skip
    _assert_same_settings(ours, theirs, {"batch_size": 128, "train_freq": 64, "gradient_steps": -1})
    assert _layer_shapes(theirs.q_net) == _layer_shapes(ours.policy.q_net) == [(32, 4), (32,), (2, 32), (2,)]
    assert sb3_kwargs(settings)["policy_kwargs"] == {"net_arch": [32], "optimizer_class": torch.optim.AdamW}
    for model in (ours, theirs):
        assert type(_optimizer(model)) is torch.optim.AdamW
        assert _optimizer(model).param_groups[0]["weight_decay"] == 0.01


def test_mario_keeps_what_sb3_can_do_and_lists_the_rest() -> None:
    settings, ours, theirs = _models("MarioDQN-v0")
    assert settings.dropped == {"double_q": True, "dueling": True, "prioritized_replay": True, "precision": "auto"}
    assert not (ours.config.double_q or ours.config.dueling or ours.config.prioritized_replay)
    assert ours.config.precision == "fp32"  # SB3 updates in float32
    assert ours.config.frame_stack_replay  # storage only
    expected = {"learning_rate": 1e-4, "batch_size": 32, "buffer_size": 100_000, "learning_starts": 20_000,
                "train_freq": 4, "gradient_steps": 1, "n_steps": 3, "target_update_interval": 10_000,
                "exploration_fraction": 0.1, "exploration_final_eps": 0.05, "max_grad_norm": 10}  # fmt: skip
    _assert_same_settings(ours, theirs, expected)
    _assert_same_exploration(ours, theirs)
    # The Nature CNN (3 convolutions, 512 features) and a linear Q head in both.
    assert _layer_shapes(theirs.q_net) == _layer_shapes(ours.policy.q_net)
    assert _layer_shapes(ours.policy.q_net)[-2:] == [(7, 512), (7,)]
    for model in (ours, theirs):
        assert _optimizer(model).param_groups[0]["eps"] == 1.5e-4
