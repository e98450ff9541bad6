import re

import gymnasium as gym
import pytest

import mario_zoo  # noqa: F401  (registers the MarioDQN IDs)
from mario_zoo.wrappers import ACTION_SETS, JoypadActions
from tests.wrappers.fakes import FakeFrames


@pytest.mark.parametrize(("name", "n"), [("right_only", 5), ("simple", 7), ("complex", 12)])
def test_action_sets_have_expected_sizes_and_noop_first(name, n):
    env = JoypadActions(FakeFrames(), actions=name)
    assert env.action_space.n == n == len(ACTION_SETS[name])
    assert env.get_action_meanings()[0] == "NOOP"


def test_actions_map_to_controller_bytes():
    env = JoypadActions(FakeFrames(), actions="simple")
    env.reset(seed=0)
    # FakeFrames echoes the byte it received as the reward.
    rewards = [env.step(a)[1] for a in range(7)]
    assert rewards == [0, 0b10000000, 0b10000001, 0b10000010, 0b10000011, 0b00000001, 0b01000000]


def test_out_of_range_action_names_the_valid_range():
    env = JoypadActions(FakeFrames(), actions="right_only")
    env.reset(seed=0)
    with pytest.raises(
        ValueError, match=re.escape("valid actions are 0..4 (NOOP, right, right A, right B, right A B)")
    ):
        env.step(5)


@pytest.mark.parametrize(
    ("actions", "error", "message"),
    [
        ("fast", ValueError, "Unknown actions 'fast'; valid choices are: 'right_only', 'simple', 'complex'."),
        (3, TypeError, "actions must be a string, one of 'right_only', 'simple', 'complex'; got 3 of type int."),
    ],
)
def test_unknown_action_set_lists_choices(actions, error, message):
    with pytest.raises(error, match=re.escape(message)):
        JoypadActions(FakeFrames(), actions=actions)


def test_keys_map_onto_the_action_set_for_gymnasium_play():
    env = gym.make("MarioDQN-v0", actions="right_only")
    keys = env.get_wrapper_attr("get_keys_to_action")()  # what gymnasium.utils.play.play looks up
    d, o, p = ord("d"), ord("o"), ord("p")  # right, A, B
    assert keys == {(): 0, (d,): 1, (d, o): 2, (d, p): 3, (d, o, p): 4}
    assert all(type(key) is int for combo in keys for key in combo)
