"""`make_mario_env` called directly gives an env with the spec `gym.make` gives, so an agent trained on it records
its env; unknown `gym.make` kwargs are one line naming the key and the valid ones."""

from __future__ import annotations

import re

import gymnasium as gym
import numpy as np
import pytest

from mario_zoo import make_mario_env
from mario_zoo.agents import DQN
from mario_zoo.envs import DEFAULT_OPTIONS
from mario_zoo.envs.spec import check_env_kwargs


def test_make_mario_env_has_the_spec_gym_make_gives():
    env = make_mario_env(2, 3, actions="right_only", stall_steps=np.int64(50))
    made = gym.make("MarioDQN-2-3-v0", actions="right_only", stall_steps=50)
    assert env.spec is not None
    assert env.spec.id == made.spec.id == "MarioDQN-2-3-v0"
    assert (
        env.spec.kwargs
        == made.spec.kwargs
        == {
            **DEFAULT_OPTIONS,
            "world": 2,
            "stage": 3,
            "actions": "right_only",
            "stall_steps": 50,
        }
    )
    assert type(env.spec.kwargs["stall_steps"]) is int  # the validated value: plain data for a checkpoint
    assert gym.make(env.spec.id, **env.spec.kwargs).spec.kwargs == env.spec.kwargs


def test_gym_make_keeps_its_own_id():
    assert gym.make("MarioDQN-v0").spec.id == "MarioDQN-v0"
    assert make_mario_env().spec.id == "MarioDQN-1-1-v0"


def test_an_agent_trained_on_make_mario_env_records_its_env(tmp_path):
    model = DQN(
        "CnnPolicy", make_mario_env(1, 2, actions="right_only", size=36), buffer_size=64, learning_starts=8,
        batch_size=4, seed=0, device="cpu",
    )  # fmt: skip
    model.learn(16)
    assert model.env_id == "MarioDQN-1-2-v0"
    assert model.env_kwargs["actions"] == "right_only" and model.env_kwargs["size"] == 36
    model.save(tmp_path / "agent")
    loaded = DQN.load(tmp_path / "agent")
    assert (loaded.env_id, loaded.env_kwargs) == (model.env_id, model.env_kwargs)
    assert gym.make(loaded.env_id, **loaded.env_kwargs).observation_space == model.observation_space


@pytest.mark.parametrize(
    ("env_id", "kwargs", "message"),
    [
        ("MarioDQN-v0", {"bogus": 1}, "Unknown env kwarg 'bogus' for MarioDQN-v0; valid kwargs: world, stage, "
         "actions, frame_skip"),
        ("MarioDQN-1-1-v0", {"action": "simple"}, "Unknown env kwarg 'action' for MarioDQN-1-1-v0 (did you mean "
         "'actions'?)"),
        ("CartPole-v1", {"max_steps": 5}, "Unknown env kwarg 'max_steps' for CartPole-v1 (did you mean "
         "'max_episode_steps'?); valid kwargs: "
         "sutton_barto_reward, render_mode, max_episode_steps, disable_env_checker (fix the key)."),
    ],
)  # fmt: skip
def test_unknown_env_kwargs_name_the_key_and_the_valid_ones(env_id, kwargs, message):
    with pytest.raises(ValueError, match=re.escape(message)):
        check_env_kwargs(env_id, kwargs)


def test_known_env_kwargs_pass():
    check_env_kwargs("MarioDQN-v0", {**DEFAULT_OPTIONS, "render_mode": "rgb_array"})
    check_env_kwargs("CartPole-v1", {"max_episode_steps": 50, "sutton_barto_reward": True})
