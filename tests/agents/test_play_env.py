"""A model keeps the env it *plays* in ``env_kwargs`` and the training-only options apart (``train_env_kwargs``), so
``gym.make(model.env_id, **model.env_kwargs)`` is always right for evaluation; old checkpoints are migrated on read."""

from __future__ import annotations

import json

import gymnasium as gym

import mario_zoo
from mario_zoo.agents import DQN, checkpoint
from mario_zoo.envs import TRAINING_ONLY_OPTIONS
from mario_zoo.zoo import read_registry

TRAINING = {"frontier_fraction": 0.5, "noop_max": 30, "repeat_action_probability": 0.25}


def _mario_model() -> DQN:
    env = gym.make("MarioDQN-1-1-v0", actions="right_only", stall_steps=50, **TRAINING)
    return DQN("CnnPolicy", env, buffer_size=100, seed=0, device="cpu")


def test_a_model_plays_without_its_training_only_options_and_keeps_them_apart(tmp_path):
    model = _mario_model()
    assert not set(model.env_kwargs) & set(TRAINING_ONLY_OPTIONS)
    assert model.env_kwargs["actions"] == "right_only" and model.env_kwargs["stall_steps"] == 50
    assert {key: model.train_env_kwargs[key] for key in TRAINING} == TRAINING
    model.save(tmp_path / "agent")
    stored = json.loads((tmp_path / "agent" / "config.json").read_text())
    assert stored["format_version"] == checkpoint.FORMAT_VERSION == 9
    assert "frontier_fraction" not in stored["env_kwargs"] and stored["train_env_kwargs"]["frontier_fraction"] == 0.5
    loaded = DQN.load(tmp_path / "agent")
    assert (loaded.env_kwargs, loaded.train_env_kwargs) == (model.env_kwargs, model.train_env_kwargs)


def test_the_readme_snippet_plays_from_the_level_start(tmp_path):
    model = _mario_model()
    model.save(tmp_path / "agent")
    model = DQN.load(tmp_path / "agent")
    env = gym.make(model.env_id, **model.env_kwargs)  # the README's line: no frontier starts, no training noise
    for seed in range(6):
        _, info = env.reset(seed=seed)
        assert info["x_pos"] == 40 and not info.get("frontier_start") and info["time"] == 400


def test_a_format_2_checkpoint_is_split_on_read(tmp_path):
    # Format 2 kept the training-only options among env_kwargs (the zoo's first 1-1 agents were written so).
    _mario_model().save(tmp_path / "agent")
    path = tmp_path / "agent" / "config.json"
    stored = json.loads(path.read_text())
    stored["env_kwargs"] |= stored.pop("train_env_kwargs")
    stored["format_version"] = 2
    for name in ("learning_rate_final", "ema_decay", "target_epsilon", "advantage_learning", "exploration_repeat",
                 "frontier_exploration_eps", "frontier_exploration_steps"):  # fmt: skip
        del stored["hyperparameters"][name]  # written by later versions only
    path.write_text(json.dumps(stored))
    model = DQN.load(tmp_path / "agent")
    assert not set(model.env_kwargs) & set(TRAINING_ONLY_OPTIONS)
    assert {key: model.train_env_kwargs[key] for key in TRAINING} == TRAINING
    config = checkpoint.read_config(tmp_path / "agent")
    assert config.train_env_kwargs == {
        **TRAINING, "frontier_bucket": 64, "frontier_back": 128, "frontier_mode": "furthest", "frontier_follow": 0,
        "frontier_successes": 5,
    }  # fmt: skip
    assert "frontier_fraction" not in config.env_kwargs


def test_the_zoos_format_2_agents_play_without_frontier_starts():
    for name in read_registry().names:
        model = mario_zoo.load_pretrained(name)
        assert not set(model.env_kwargs) & set(TRAINING_ONLY_OPTIONS), name
