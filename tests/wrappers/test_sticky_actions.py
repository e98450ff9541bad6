"""Sticky actions (``repeat_action_probability``): at each emulator frame inside the frame skip, the previous
frame's action repeats with the given probability (Machado et al. 2018; Gymnasium ALE v5)."""

from __future__ import annotations

import math
import re

import gymnasium as gym
import numpy as np
import pytest

import mario_zoo  # noqa: F401  (registers the MarioDQN ids)
from mario_zoo.wrappers import MaxPoolFrameSkip
from tests.wrappers.fakes import FakeFrames


class RecordingFrames(FakeFrames):
    """FakeFrames that remembers the action of every frame it played."""

    def __init__(self) -> None:
        super().__init__()
        self.played: list[int] = []

    def step(self, action):
        self.played.append(int(action))
        return super().step(action)


def _play(probability: float, seed: int, steps: int, skip: int = 4, reset_action=0) -> tuple[list[int], list[int]]:
    """Alternate the agent's action between 1 and 2 every step; returns (the agent's per frame, the played)."""
    inner = RecordingFrames()
    env = MaxPoolFrameSkip(inner, skip=skip, repeat_action_probability=probability, reset_action=reset_action)
    env.reset(seed=seed)
    asked = []
    for step in range(steps):
        action = 1 + step % 2
        env.step(action)
        asked += [action] * skip
    return asked, inner.played


@pytest.mark.parametrize("probability", [0.1, 0.25, 0.5])
def test_each_frame_repeats_the_previous_action_with_the_given_rate(probability):
    asked, played = _play(probability, seed=0, steps=2_400)  # 9,600 frames: within FakeFrames' episode
    # A frame can stick only where the agent's action differs from the action played on the frame before.
    previous = [0, *played[:-1]]
    chances = [i for i, (want, before) in enumerate(zip(asked, previous, strict=True)) if want != before]
    stuck = sum(played[i] == previous[i] for i in chances)
    rate = stuck / len(chances)
    sigma = math.sqrt(probability * (1 - probability) / len(chances))
    assert len(chances) > 2_000
    assert abs(rate - probability) < 5 * sigma, (rate, probability)
    # Every frame plays either the agent's action or the previous frame's: nothing else.
    assert all(p in (want, before) for p, want, before in zip(played, asked, previous, strict=True))


def test_a_stuck_action_still_gives_way_within_the_step_and_carries_over_steps():
    asked, played = _play(0.5, seed=1, steps=2_000)
    # Some steps start with the last step's action (carried over) and switch to the new one on a later frame.
    frames = np.asarray(played).reshape(-1, 4)
    switched = [(row[0] != row[-1]) for row in frames[1:]]
    assert any(switched)
    # Once a frame took the new action, the rest of the step keeps it.
    for row, want in zip(frames, np.asarray(asked).reshape(-1, 4)[:, 0], strict=True):
        first_new = np.argmax(row == want) if (row == want).any() else 4
        assert (row[first_new:] == want).all()


def test_zero_probability_plays_the_agents_action_on_every_frame():
    asked, played = _play(0.0, seed=0, steps=500)
    assert asked == played


def test_probability_one_never_leaves_the_reset_action():
    _, played = _play(1.0, seed=0, steps=50, reset_action=0)
    assert set(played) == {0}


def test_the_draws_are_seeded_by_reset():
    assert _play(0.25, seed=3, steps=300)[1] == _play(0.25, seed=3, steps=300)[1]
    assert _play(0.25, seed=3, steps=300)[1] != _play(0.25, seed=4, steps=300)[1]


def test_a_reset_forgets_the_previous_action():
    inner = RecordingFrames()
    env = MaxPoolFrameSkip(inner, skip=2, repeat_action_probability=1.0, reset_action=7)
    env.reset(seed=0)
    env.step(1)
    env.reset()
    env.step(2)
    assert inner.played == [7, 7, 7, 7]


@pytest.mark.parametrize(
    ("value", "error", "message"),
    [
        (
            1.5,
            ValueError,
            "repeat_action_probability must be in [0, 1] (the chance that each emulator frame repeats the previous "
            "frame's action), got 1.5.",
        ),
        (-0.1, ValueError, "repeat_action_probability must be in [0, 1]"),
        ("0.25", TypeError, "repeat_action_probability must be a number, got '0.25' of type str."),
    ],
)
def test_a_bad_probability_is_one_line_naming_the_range(value, error, message):
    with pytest.raises(error, match=re.escape(message)):
        MaxPoolFrameSkip(FakeFrames(), skip=4, repeat_action_probability=value)
    with pytest.raises(error, match=re.escape(message)):
        gym.make("MarioDQN-v0", repeat_action_probability=value)


def test_mario_sticky_actions_round_trip_through_the_spec_and_are_seeded():
    env = gym.make("MarioDQN-1-1-v0", actions="right_only", repeat_action_probability=0.25)
    assert env.spec.kwargs["repeat_action_probability"] == 0.25
    rebuilt = gym.make(env.spec)
    assert rebuilt.spec.kwargs["repeat_action_probability"] == 0.25
    assert gym.make("MarioDQN-v0").spec.kwargs["repeat_action_probability"] == 0.0

    def x_positions(made, seed):
        made.reset(seed=seed)
        # Alternate right and right+jump: sticky frames shift when each jump starts.
        return [made.step(1 + step % 2)[4]["x_pos"] for step in range(80)]

    first = x_positions(env, 5)
    assert first == x_positions(rebuilt, 5)
    plain = gym.make("MarioDQN-1-1-v0", actions="right_only")
    assert [x_positions(env, seed) for seed in range(2)] != [x_positions(plain, seed) for seed in range(2)]
