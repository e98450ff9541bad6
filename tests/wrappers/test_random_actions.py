"""Random actions (``random_action_probability``): each step plays a uniformly random action instead of the
agent's with the given probability, the Nature protocol's epsilon made part of the env (training only)."""

from __future__ import annotations

import math
import re
from typing import Any

import gymnasium as gym
import numpy as np
import pytest
from gymnasium import spaces

import mario_zoo  # noqa: F401  (registers the MarioDQN ids)
from mario_zoo.envs.kwargs import playing_kwargs
from mario_zoo.wrappers import RandomActions


class Recorder(gym.Env):
    """Discrete(5) actions; remembers every action it was given."""

    observation_space = spaces.Box(0, 1, (1,), np.float32)
    action_space = spaces.Discrete(5)

    def __init__(self) -> None:
        self.played: list[int] = []

    def reset(self, *, seed: int | None = None, options: dict[str, Any] | None = None):
        super().reset(seed=seed)
        return np.zeros(1, np.float32), {}

    def step(self, action):
        self.played.append(int(action))
        return np.zeros(1, np.float32), 0.0, False, False, {}


def _play(probability: float, seed: int, steps: int) -> tuple[list[int], list[bool]]:
    inner = Recorder()
    env = RandomActions(inner, probability)
    env.reset(seed=seed)
    replaced = [env.step(3)[4]["random_action"] for _ in range(steps)]
    return inner.played, replaced


@pytest.mark.parametrize("probability", [0.05, 0.25, 0.5])
def test_the_rate_of_replaced_steps_is_the_probability_and_replacements_are_uniform(probability):
    steps = 20_000
    played, replaced = _play(probability, seed=0, steps=steps)
    rate = sum(replaced) / steps
    assert abs(rate - probability) < 5 * math.sqrt(probability * (1 - probability) / steps)
    # Steps not replaced play the agent's action; replaced ones draw uniformly from all 5 (3 among them).
    assert all(action == 3 for action, was in zip(played, replaced, strict=True) if not was)
    drawn = np.bincount([action for action, was in zip(played, replaced, strict=True) if was], minlength=5)
    assert abs(drawn / drawn.sum() - 0.2).max() < 5 * math.sqrt(0.2 * 0.8 / drawn.sum())


def test_the_draws_are_seeded_by_reset_and_off_at_zero():
    assert _play(0.3, seed=7, steps=500) == _play(0.3, seed=7, steps=500)
    assert _play(0.3, seed=7, steps=500) != _play(0.3, seed=8, steps=500)
    played, replaced = _play(0.0, seed=0, steps=500)
    assert set(played) == {3} and not any(replaced)


@pytest.mark.parametrize(
    ("value", "error", "message"),
    [
        (1.5, ValueError, "random_action_probability must be in [0, 1] (the chance that each step plays a uniformly "
         "random action instead of the agent's), got 1.5."),
        (-0.1, ValueError, "random_action_probability must be in [0, 1]"),
        ("0.1", TypeError, "random_action_probability must be a number"),
    ],
)  # fmt: skip
def test_a_bad_probability_is_one_line_naming_the_range(value, error, message):
    with pytest.raises(error, match=re.escape(message)):
        RandomActions(Recorder(), value)
    with pytest.raises(error, match=re.escape(message)):
        gym.make("MarioDQN-v0", random_action_probability=value)


def test_mario_random_actions_round_trip_through_the_spec_and_are_training_only():
    env = gym.make("MarioDQN-1-1-v0", actions="right_only", random_action_probability=0.5, noop_max=5)
    assert env.spec.kwargs["random_action_probability"] == 0.5
    rebuilt = gym.make(env.spec)

    def episode(made, seed):
        made.reset(seed=seed)
        return [(made.step(1)[4]["x_pos"], made.step(2)[4]["random_action"]) for _ in range(40)]

    assert episode(env, 3) == episode(rebuilt, 3)
    assert any(replaced for _, replaced in episode(env, 3))
    # What an agent plays with (evaluation, replays, the Hub) drops it, as the other training noise.
    assert "random_action_probability" not in playing_kwargs(env.spec.kwargs)
    assert gym.make("MarioDQN-v0").spec.kwargs["random_action_probability"] == 0.0
