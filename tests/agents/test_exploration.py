"""Exploration in training: plain epsilon-greedy unchanged, held random actions (ez-greedy), and the rate of
frontier-start episodes, in the learner's loop and in actor processes."""

from __future__ import annotations

import functools
from typing import Any

import gymnasium as gym
import numpy as np
import pytest
from gymnasium.envs.registration import EnvSpec
from stable_baselines3.common.callbacks import BaseCallback
from stable_baselines3.common.vec_env import DummyVecEnv, VecMonitor

from mario_zoo.agents import DQN, DQNConfig
from mario_zoo.agents.exploration import MAX_FOLLOW, MAX_REPEAT, Explorer
from mario_zoo.info_keys import FOLLOW_KEY
from tests.agents.conftest import FrontierFlagEnv


def old_epsilon_greedy(rng: np.random.Generator, epsilon: float, greedy: np.ndarray, n_actions: int) -> np.ndarray:
    """The learner's rule before the explorer existed, draw for draw."""
    explore = rng.random(len(greedy)) < epsilon
    if explore.all():
        return rng.integers(n_actions, size=len(greedy))
    if explore.any():
        return np.where(explore, rng.integers(n_actions, size=len(greedy)), greedy)
    return greedy


@pytest.mark.parametrize("epsilon", [0.0, 0.3, 1.0])
def test_with_both_extensions_off_the_actions_and_draws_are_plain_epsilon_greedys(epsilon):
    explorer = Explorer(3, 5)
    ours, theirs = np.random.default_rng(7), np.random.default_rng(7)
    greedy = np.array([4, 0, 2])
    for _ in range(500):
        assert (
            explorer.act(ours, epsilon, lambda: greedy).tolist()
            == old_epsilon_greedy(theirs, epsilon, greedy, 5).tolist()
        )
    assert ours.random() == theirs.random()  # the same number of draws


def runs(actions: list[int]) -> list[tuple[int, int]]:
    """(action, how many steps in a row) of each run of equal actions."""
    found: list[tuple[int, int]] = []
    for action in actions:
        if found and found[-1][0] == action:
            found[-1] = (action, found[-1][1] + 1)
        else:
            found.append((action, 1))
    return found


def run_lengths(actions: list[int]) -> list[int]:
    return [length for _, length in runs(actions)]


@pytest.mark.parametrize("mu", [2.0, 1.2])
def test_a_random_action_is_held_for_a_zeta_distributed_number_of_steps(mu):
    # Many actions, so that two holds in a row rarely draw the same one and runs are holds.
    explorer, rng = Explorer(1, 10_000, repeat=mu), np.random.default_rng(0)
    greedy = lambda: pytest.fail("greedy asked for at epsilon 1")  # noqa: E731
    lengths = np.array(run_lengths([int(explorer.act(rng, 1.0, greedy)[0]) for _ in range(100_000)]))
    # zeta(mu) cut off at MAX_REPEAT: P(n) = n^-mu / sum(k^-mu, k = 1..MAX_REPEAT); zeta(2): 0.61, 0.15, ...
    weights = np.arange(1, MAX_REPEAT + 1) ** -mu
    expected = weights / weights.sum()
    for n in (1, 2, 3):
        assert np.mean(lengths == n) == pytest.approx(expected[n - 1], abs=0.02), n
    assert lengths.max() <= MAX_REPEAT + 1  # + 1: the next hold may draw the same action now and then
    # The tail is cut off, not piled up at the cap.
    assert np.mean(lengths >= MAX_REPEAT - 10) == pytest.approx(expected[MAX_REPEAT - 11 :].sum(), abs=0.02)


def test_a_held_action_skips_the_greedy_choice_and_ends_with_the_episode():
    explorer, rng = Explorer(2, 1000, repeat=1.01), np.random.default_rng(1)  # a heavy tail: long holds
    first = explorer.act(rng, 1.0, lambda: np.array([0, 0]))
    # While both envs hold, no greedy action is needed even at epsilon 0.
    second = explorer.act(rng, 0.0, lambda: pytest.fail("greedy asked for while holding"))
    assert second.tolist() == first.tolist()
    # Env 0's episode ends: its hold ends; env 1 still holds.
    explorer.episodes_started(np.array([True, False]), [{}, {}])
    third = explorer.act(rng, 0.0, lambda: np.array([-1, -1]))
    assert third.tolist() == [-1, first[1]]


def test_frontier_start_episodes_explore_at_their_own_rate():
    explorer, rng = Explorer(2, 1000, frontier_eps=1.0), np.random.default_rng(2)
    explorer.episodes_started(np.array([True, True]), [{"frontier_start": True}, {"frontier_start": False}])
    actions = np.array([explorer.act(rng, 0.0, lambda: np.array([-1, -1])) for _ in range(200)])
    assert (actions[:, 1] == -1).all()  # the schedule's epsilon 0: greedy
    assert (actions[:, 0] >= 0).all() and len(set(actions[:, 0].tolist())) > 100  # epsilon 1: random
    # The next episode of env 0 starts at the level start: the schedule's rate again.
    explorer.episodes_started(np.array([True, False]), [{}, {}])
    assert explorer.act(rng, 0.0, lambda: np.array([-1, -1])).tolist() == [-1, -1]


@pytest.mark.parametrize(
    ("field", "value", "error", "message"),
    [
        ("exploration_repeat", 1.0, ValueError, r"exploration_repeat must be in \(1, inf\) \(the zeta"),
        ("exploration_repeat", float("nan"), ValueError, "got nan"),
        ("exploration_repeat", float("inf"), ValueError, "got inf"),
        ("exploration_repeat", "2", TypeError, "exploration_repeat must be a number or None, got '2'"),
        ("exploration_repeat", True, TypeError, "got True"),
        ("frontier_exploration_eps", 1.5, ValueError, r"must be in \[0.0, 1.0\] or None, got 1.5"),
        ("frontier_exploration_eps", -0.1, ValueError, "got -0.1"),
        ("frontier_exploration_eps", "0.5", TypeError, "frontier_exploration_eps must be a number or None"),
        ("frontier_exploration_steps", 0, ValueError, "frontier_exploration_steps must be"),
        ("frontier_exploration_steps", 2.5, TypeError, "frontier_exploration_steps must be"),
        ("frontier_exploration_steps", 8, ValueError, "but frontier_exploration_eps is None; set it too"),
    ],
)
def test_bad_exploration_settings_are_refused_naming_the_value(field, value, error, message):
    with pytest.raises(error, match=message):
        DQNConfig(**{field: value})


def test_frontier_exploration_steps_limit_the_frontier_rate_to_an_episodes_first_steps():
    explorer, rng = Explorer(2, 1000, frontier_eps=1.0, frontier_steps=3), np.random.default_rng(4)
    explorer.episodes_started(np.array([True, True]), [{"frontier_start": True}, {"frontier_start": False}])
    actions = np.array([explorer.act(rng, 0.0, lambda: np.array([-1, -1])) for _ in range(10)])
    assert (actions[:3, 0] >= 0).all() and (actions[3:, 0] == -1).all()  # three random steps, then greedy
    assert (actions[:, 1] == -1).all()
    # Each new frontier-start episode gets its own first steps; a state taken between them continues exactly.
    explorer.episodes_started(np.array([True, False]), [{"frontier_start": True}, {}])
    explorer.act(rng, 0.0, lambda: np.array([-1, -1]))
    copy = Explorer(2, 1000, frontier_eps=1.0, frontier_steps=3)
    copy.restore(explorer.state(), "replay.json")
    assert copy.state() == explorer.state() and copy.state()["frontier_left"] == [2, 3]
    assert [int(copy.act(rng, 0.0, lambda: np.array([-1, -1]))[0] >= 0) for _ in range(4)] == [1, 1, 0, 0]
    with pytest.raises(ValueError, match="bad explorer state frontier_left"):
        copy.restore({**explorer.state(), "frontier_left": [9, 0]}, "replay.json")


def test_a_huge_integer_mu_is_a_valid_setting_not_an_overflow():
    DQNConfig(exploration_repeat=10**400)


def test_an_explorer_state_round_trips_and_a_bad_one_is_refused():
    explorer, rng = Explorer(2, 5, repeat=1.1, frontier_eps=0.5), np.random.default_rng(3)
    explorer.episodes_started(np.array([True, True]), [{"frontier_start": True}, {}])
    explorer.act(rng, 1.0, lambda: np.zeros(2, np.int64))
    copy = Explorer(2, 5, repeat=1.1, frontier_eps=0.5)
    copy.restore(explorer.state(), "replay.json")
    assert copy.state() == explorer.state()
    assert Explorer(2, 5).state() is None  # plain epsilon-greedy has nothing to keep
    for bad in ({"held": [0, 9], "left": [0, 0], "frontier": [True, False]}, {"held": [0]}, [1, 2]):
        with pytest.raises(ValueError, match=r"replay\.json: bad explorer state"):
            copy.restore(bad, "replay.json")


@pytest.mark.parametrize("plain", [True, False])
def test_handed_over_actions_are_played_first_then_exploration_and_a_state_between_continues_them(plain):
    extensions = {} if plain else {"frontier_eps": 1.0, "frontier_steps": 2}
    explorer, rng = Explorer(2, 1000, **extensions), np.random.default_rng(5)
    greedy = lambda: np.array([-1, -1])  # noqa: E731
    explorer.episodes_started(
        np.array([True, True]), [{"frontier_start": True, "frontier_actions": (5, 6, 7)}, {"frontier_start": True}]
    )
    first = explorer.act(rng, 0.0, greedy)
    assert first[0] == 5 and (first[1] >= 0) != plain  # the other env explores (or not) as without them
    copy = Explorer(2, 1000, **extensions)
    copy.restore(explorer.state(), "replay.json")
    assert copy.state() == explorer.state() and copy.state()["follow"] == [[6, 7], []]
    played = [int(copy.act(rng, 0.0, greedy)[0]) for _ in range(5)]
    assert played[:2] == [6, 7]
    # Then the frontier rate's steps count from where the handed-over actions end: two random, then greedy.
    if plain:
        assert played[2:] == [-1, -1, -1]
    else:
        assert min(played[2:4]) >= 0 and played[4] == -1
    # A new episode replaces what is left; none left, a plain explorer has nothing to keep again.
    copy.episodes_started(np.array([True, False]), [{}, {}])
    assert copy.state() is None if plain else "follow" not in copy.state()


@pytest.mark.parametrize("bad", [(1, 1000), (1, -1), (True,), "12", [1.0], (0,) * (MAX_FOLLOW + 1)])
def test_handed_over_actions_outside_the_space_are_refused_naming_them(bad):
    with pytest.raises(ValueError, match="frontier_actions"):
        Explorer(1, 1000).start(0, {"frontier_actions": bad})
    with pytest.raises(ValueError, match=r"replay\.json: .*follow"):
        Explorer(1, 1000).restore({"follow": [list(bad) if isinstance(bad, tuple) else bad]}, "replay.json")


class StepLog(BaseCallback):
    """Each step's action, whether its episode began with a frontier start, its step in the episode and the
    episode's number."""

    def __init__(self):
        super().__init__()
        self.rows: list[tuple[int, bool, int]] = []
        self.episodes: list[int] = []

    def _on_step(self) -> bool:
        for action, info in zip(self.locals["actions"], self.locals["infos"], strict=True):
            self.rows.append((int(action), bool(info["frontier_episode"]), int(info["episode_step"])))
            self.episodes.append(int(info["episode_number"]))
        return True


def flag_env(**kwargs: Any) -> functools.partial:
    """A picklable factory of tests/agents/conftest.py's FrontierFlagEnv (an actor imports it by name)."""
    return functools.partial(
        gym.make, EnvSpec("FrontierFlag-v0", "tests.agents.conftest:FrontierFlagEnv", kwargs=kwargs)
    )


def fixed_policy_dqn(env: Any, actors: int, learning_starts: int = 0, **exploration: Any) -> DQN:
    """A DQN whose greedy action never changes (epsilon 0 outside frontier starts, learning rate 0, a constant
    observation), so every other action a step takes is exploration (or, before ``learning_starts``, random)."""
    return DQN(
        "MlpPolicy",
        env,
        learning_starts=learning_starts,
        learning_rate=0.0,
        exploration_initial_eps=0.0,
        exploration_final_eps=0.0,
        actors=actors,
        batch_size=8,
        buffer_size=1000,
        device="cpu",
        seed=0,
        **exploration,
    )


@pytest.mark.parametrize(("actors", "wrapper"), [(0, None), (1, None), (0, VecMonitor)])
def test_training_explores_frontier_start_episodes_at_their_rate_and_holds_random_actions(actors, wrapper):
    # Greedy everywhere else (epsilon 0, weights fixed by learning rate 0, a constant observation): one action.
    env = flag_env(n_actions=1000)  # two random actions in a row are the same one only when held
    if wrapper is not None:  # SB3's VecEnv wrappers keep reset_infos of their own, empty: the flag is read inside
        env = wrapper(DummyVecEnv([env]))
    model = fixed_policy_dqn(env, actors, frontier_exploration_eps=0.5, exploration_repeat=3.0)
    log = StepLog()
    model.learn(600, callback=log)
    level_start = [action for action, frontier, _ in log.rows if not frontier]
    frontier = [action for action, frontier, _ in log.rows if frontier]
    assert len(level_start) >= 270 and len(frontier) >= 270
    assert len(set(level_start)) == 1
    greedy = level_start[0]
    explored = [action != greedy for action in frontier]
    # Half of the free steps start a hold of zeta(3) steps (mean 1.37): about 58% of the steps explore.
    assert 0.35 < np.mean(explored) < 0.8
    held = [length for action, length in runs(frontier) if action != greedy]
    assert np.mean(np.array(held) >= 2) > 0.05  # zeta(3): P(n >= 2) = 0.17; without holds, 1 in 1,000


@pytest.mark.parametrize("actors", [0, 1])
def test_training_explores_only_the_first_steps_of_frontier_start_episodes(actors):
    env = flag_env(n_actions=1000, episode_length=20)
    model = fixed_policy_dqn(env, actors, frontier_exploration_eps=1.0, frontier_exploration_steps=4)
    log = StepLog()
    model.learn(400, callback=log)
    greedy = {action for action, frontier, _ in log.rows if not frontier}
    assert len(greedy) == 1
    first = [action not in greedy for action, frontier, step in log.rows if frontier and step <= 4]
    later = [action not in greedy for action, frontier, step in log.rows if frontier and step > 4]
    assert len(first) >= 30 and all(first)  # rate 1 for the first 4 steps of each frontier-start episode
    assert len(later) >= 100 and not any(later)  # then the schedule's 0


@pytest.mark.parametrize("actors", [0, 1])
def test_training_plays_the_actions_a_frontier_start_hands_over_then_explores(actors):
    env = flag_env(n_actions=1000, episode_length=20, follow=6)
    model = fixed_policy_dqn(env, actors, frontier_exploration_eps=1.0, frontier_exploration_steps=4)
    log = StepLog()
    model.learn(400, callback=log)
    greedy = {action for action, frontier, _ in log.rows if not frontier}
    assert len(greedy) == 1
    frontier_rows = [(row, episode) for row, episode in zip(log.rows, log.episodes, strict=True) if row[1]]
    assert len({episode for _, episode in frontier_rows}) >= 8
    for (action, _, step), episode in frontier_rows:
        if step <= 6:  # the episode's own handed-over actions, in order
            assert action == FrontierFlagEnv.handed_over(episode, 6, 1000)[step - 1]
        elif step <= 10:  # then the frontier rate (1) for 4 steps
            assert action not in greedy
        else:
            assert action in greedy


@pytest.mark.parametrize("actors", [0, 1])
def test_handed_over_actions_are_played_before_learning_starts_too(actors):
    env = flag_env(n_actions=1000, episode_length=20, follow=6)
    model = fixed_policy_dqn(env, actors, learning_starts=10_000)  # every step of this run: uniformly random
    log = StepLog()
    model.learn(200, callback=log)
    frontier_rows = [(row, episode) for row, episode in zip(log.rows, log.episodes, strict=True) if row[1]]
    assert len({episode for _, episode in frontier_rows}) >= 4
    handed = [action == FrontierFlagEnv.handed_over(episode, 6, 1000)[step - 1] for (action, _, step), episode
              in frontier_rows if step <= 6]  # fmt: skip
    assert len(handed) >= 24 and all(handed)
    later = [action for (action, _, step), _ in frontier_rows if step > 6]
    assert len(set(later)) > len(later) // 2, "then uniformly random"


def test_uniform_actions_play_handed_over_ones_first_with_the_same_draws():
    rng, plain_rng = np.random.default_rng(3), np.random.default_rng(3)
    explorer, plain = Explorer(n_envs=2, n_actions=7), Explorer(n_envs=2, n_actions=7)
    explorer.start(0, {FOLLOW_KEY: (2, 2, 1)})
    actions = np.array([explorer.uniform(rng) for _ in range(6)])
    drawn = np.array([plain.uniform(plain_rng) for _ in range(6)])
    assert actions[:3, 0].tolist() == [2, 2, 1] and actions[3:, 0].tolist() == drawn[3:, 0].tolist()
    assert actions[:, 1].tolist() == drawn[:, 1].tolist(), "the other env's draws are the plain ones"
    assert rng.bit_generator.state == plain_rng.bit_generator.state


def test_steps_before_learning_starts_count_among_a_frontier_episodes_first_steps():
    explorer, rng = Explorer(2, 1000, frontier_eps=1.0, frontier_steps=3), np.random.default_rng(5)
    explorer.start(0, {"frontier_start": True, FOLLOW_KEY: (7,)})
    explorer.start(1, {"frontier_start": True})
    explorer.uniform(rng)  # env 0 plays its handed-over action, env 1 its first random step of three
    explorer.uniform(rng)  # env 0's first random step, env 1's second
    assert explorer.state()["frontier_left"] == [2, 1]
    # learning starts mid-episode: env 1 has one random step left, env 0 two, then both act greedily
    actions = np.array([explorer.act(rng, 0.0, lambda: np.array([-1, -1])) for _ in range(4)])
    assert (actions[:, 0] >= 0).tolist() == [True, True, False, False]
    assert (actions[:, 1] >= 0).tolist() == [True, False, False, False]
