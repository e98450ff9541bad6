"""evaluate and its protocols: the seed picks the episodes, the sweep plays each no-op start once, the Nature
protocol is seeded and reproducible, every step is seen, and bad names and numbers are refused in one line."""

from __future__ import annotations

import re

import numpy as np
import pytest

from mario_zoo.evaluation import (
    EVAL_SEED,
    PROTOCOLS,
    _play_episodes,
    evaluate,
    protocol_for,
    run_protocol,
    wilson_interval,
)
from mario_zoo.wrappers.episode import NoopStart


class AlwaysLeft:
    """Always pushes left: the actions are fixed, so only the env's seed (and epsilon) changes the episodes."""

    exploration_rate = 0.0

    def predict(self, observation, state=None, episode_start=None, deterministic=False):
        return [0] * len(observation), None


class Idle:
    """Mario standing still (NOOP), so a stall cut ends each episode a few steps after its no-ops."""

    def predict(self, observation, state=None, episode_start=None, deterministic=False):
        return np.zeros(len(observation), dtype=np.int64), None


def test_the_seed_is_recorded_and_decides_the_episodes():
    default = evaluate(AlwaysLeft(), "CartPole-v1", n_episodes=5)
    again = evaluate(AlwaysLeft(), "CartPole-v1", n_episodes=5, seed=EVAL_SEED)
    other = evaluate(AlwaysLeft(), "CartPole-v1", n_episodes=5, seed=7)
    assert (default.seed, other.seed) == (EVAL_SEED, 7)
    assert default.episode_lengths == again.episode_lengths
    assert default.episode_lengths != other.episode_lengths
    assert "env seeded with 7" in other.description
    assert other.protocol == "episodes"


def test_the_callback_is_called_once_per_step_with_evaluate_policys_locals():
    seen = []
    protocol = protocol_for("CartPole-v1", n_episodes=3)
    _, lengths = _play_episodes(
        AlwaysLeft(), "CartPole-v1", {}, protocol, lambda local_vars, _: seen.append(local_vars["done"])
    )
    assert len(seen) == sum(lengths)
    assert sum(seen) == 3


def test_a_bad_episode_count_is_refused():
    with pytest.raises(ValueError, match="The number of evaluation episodes must be an int >= 1, got 0"):
        evaluate(AlwaysLeft(), "CartPole-v1", n_episodes=0)


def test_results_carry_the_checkpoints_package_versions():
    versions = evaluate(AlwaysLeft(), "CartPole-v1", n_episodes=1).package_versions
    assert {"python", "mario-zoo", "torch", "stable-baselines3", "gymnasium"} <= set(versions)


def test_the_nature_protocol_is_seeded_and_reproducible_for_any_agent():
    # The epsilon draws come from the evaluation's own generator: the agent has no say in them.
    first = evaluate(AlwaysLeft(), "CartPole-v1", protocol="nature", n_episodes=20)
    again = evaluate(AlwaysLeft(), "CartPole-v1", protocol="nature", n_episodes=20)
    other = evaluate(AlwaysLeft(), "CartPole-v1", protocol="nature", n_episodes=20, seed=3)
    greedy = evaluate(AlwaysLeft(), "CartPole-v1", n_episodes=20)
    assert (first.protocol, first.epsilon, first.deterministic) == ("nature", 0.05, False)
    assert first.episode_lengths == again.episode_lengths
    assert first.episode_lengths != other.episode_lengths
    # Random actions (right pushes) keep the pole up longer than always pushing left.
    assert sum(first.episode_lengths) > sum(greedy.episode_lengths)


def test_the_nature_protocol_defaults_to_30_episodes_and_mario_gets_random_noops():
    protocol = protocol_for("MarioDQN-1-1-v0", "nature")
    assert (protocol.n_episodes, protocol.epsilon, protocol.noop_max, protocol.noop_counts) == (30, 0.05, 30, None)
    assert protocol_for("MarioDQN-1-1-v0", "nature", epsilon=0.01, n_episodes=5).epsilon == 0.01


@pytest.fixture
def noop_counts(monkeypatch):
    """The no-op count of every NoopStart reset: the one asked for, or a random one (None)."""
    seen: list[int | None] = []
    reset = NoopStart.reset

    def spy(self, *, seed=None, options=None):
        seen.append((options or {}).get("noops"))
        return reset(self, seed=seed, options=options)

    monkeypatch.setattr(NoopStart, "reset", spy)
    return seen


def test_the_noop_sweep_plays_each_noop_count_once_greedily(noop_counts):
    evaluation = evaluate(Idle(), "MarioDQN-1-1-v0", {"stall_steps": 3, "frontier_fraction": 0.5}, noop_max=4)
    assert evaluation.protocol == "noop-sweep"
    assert evaluation.noops == [0, 1, 2, 3, 4]
    assert evaluation.epsilon is None and evaluation.deterministic
    # Each episode starts from a reset that asks for its count (auto-resets after an episode draw at random).
    assert [count for count in noop_counts if count is not None] == [0, 1, 2, 3, 4]
    assert len(evaluation.flags) == len(evaluation.x_pos) == evaluation.n_eval_episodes == 5
    # Idle Mario never moves; each episode is the stall cut (3 steps), the no-ops are part of the reset.
    assert evaluation.episode_lengths == [3] * 5
    assert evaluation.env_kwargs == {"stall_steps": 3, "noop_max": 4}  # frontier starts never evaluate
    data = evaluation.to_dict()
    assert (data["protocol"], data["noops"]) == ("noop-sweep", [0, 1, 2, 3, 4])
    assert "one episode from each no-op count 0-4" in data["protocol_description"]
    assert data["flag_interval"] == [0.0, pytest.approx(0.4345, abs=1e-3)]


def test_mario_defaults_to_the_full_sweep_over_31_starts():
    protocol = protocol_for("MarioDQN-v0")
    assert (protocol.name, protocol.n_episodes, protocol.noop_counts) == ("noop-sweep", 31, list(range(31)))
    # A run's --eval-episodes counts episodes only where the protocol does.
    assert run_protocol("MarioDQN-v0", None, 10).n_episodes == 31
    assert run_protocol("MarioDQN-v0", "nature", 10).n_episodes == 10


@pytest.mark.parametrize(
    ("env_id", "kwargs", "message"),
    [
        (
            "MarioDQN-v0",
            {"protocol": "exact"},
            "Unknown evaluation protocol 'exact'; valid choices are: 'noop-sweep', 'nature', 'episodes'.",
        ),
        ("CartPole-v1", {"protocol": "noop-sweep"}, "CartPole-v1 has no no-op starts. Use --protocol episodes"),
        ("MarioDQN-v0", {"protocol": "noop-sweep", "epsilon": 0.05}, "The noop-sweep protocol is greedy"),
        ("MarioDQN-v0", {"n_episodes": 10}, "one episode per no-op count 0-30 (31 episodes), got n_episodes=10"),
        ("MarioDQN-v0", {"protocol": "nature", "epsilon": 1.5}, "epsilon must be a number in [0, 1], got 1.5."),
        ("CartPole-v1", {"noop_max": 30}, "noop_max (--noop-max) applies to MarioDQN envs only"),
        ("MarioDQN-v0", {"noop_max": -1}, "noop_max must be an int >= 0, got -1."),
    ],
)
def test_bad_protocols_and_numbers_are_one_line_errors(env_id, kwargs, message):
    with pytest.raises(ValueError, match=re.escape(message)) as error:
        evaluate(AlwaysLeft(), env_id, **kwargs)
    assert "\n" not in str(error.value)


def test_every_protocol_is_described_and_run_folders_know_them_all():
    from mario_zoo.runs import RUN_PROTOCOLS

    assert tuple(PROTOCOLS) == RUN_PROTOCOLS == ("noop-sweep", "nature", "episodes")
    for name in ("nature", "episodes"):
        assert protocol_for("CartPole-v1", name).describe().startswith(f"{name} protocol")


@pytest.mark.parametrize(
    ("successes", "trials", "low", "high"),
    # Wilson's closed form, by hand: centre (p + z²/2n) / (1 + z²/n), half-width z·sqrt(p(1-p)/n + z²/4n²) / (1 + z²/n).
    [(50, 100, 0.40383, 0.59617), (0, 100, 0.0, 0.03699), (100, 100, 0.96301, 1.0), (0, 5, 0.0, 0.43448)],
)
def test_the_wilson_interval_is_the_closed_form(successes, trials, low, high):
    assert wilson_interval(successes, trials) == (pytest.approx(low, abs=1e-5), pytest.approx(high, abs=1e-5))


def test_the_wilson_interval_names_bad_counts():
    with pytest.raises(ValueError, match=re.escape("Need 0 <= successes <= trials and trials >= 1, got 3 of 2.")):
        wilson_interval(3, 2)


def test_an_evaluation_counts_the_episodes_that_left_by_a_warp_pipe():
    from mario_zoo.evaluation import _ProgressTracker
    from mario_zoo.results import Evaluation

    tracker = _ProgressTracker()
    episodes = [  # (x_pos, flag_get, left_stage) per step; the last step of each ends the episode
        [(100, False, False), (900, False, False)],
        [(200, False, False), (2400, False, True)],
        [(300, False, False), (3100, True, False)],
    ]
    for steps in episodes:
        for index, (x_pos, flag, warp) in enumerate(steps):
            done = index == len(steps) - 1
            info = {"x_pos": x_pos, "flag_get": flag, "left_stage": warp} | ({"episode": {"r": 1.0}} if done else {})
            tracker({"info": info, "done": done}, {})
    assert (tracker.x_pos, tracker.flags, tracker.warps) == (
        [900, 2400, 3100],
        [False, False, True],
        [False, True, False],
    )

    evaluation = Evaluation(
        env_id="MarioDQN-1-2-v0", env_kwargs={}, episode_rewards=[1.0] * 3, episode_lengths=[2] * 3,
        x_pos=tracker.x_pos, flags=tracker.flags, warps=tracker.warps,
    )  # fmt: skip
    assert evaluation.warp_count == 1 and "left the level by a warp pipe in 1 of 3 episodes" in evaluation.summary()
    assert Evaluation.from_dict(evaluation.to_dict()) == evaluation
    older = {key: value for key, value in evaluation.to_dict().items() if key != "warps"}
    assert Evaluation.from_dict(older).warp_count is None  # records from before warps were counted
    no_warp = Evaluation.from_dict({**evaluation.to_dict(), "warps": [False] * 3})
    assert no_warp.warp_count == 0 and "warp" not in no_warp.summary()


def test_an_env_that_does_not_say_whether_it_left_the_level_gets_no_warp_count():
    from mario_zoo.evaluation import _ProgressTracker

    tracker = _ProgressTracker()
    for done in (False, True):  # an x_pos env without info["left_stage"]: "not counted", never "counted, 0"
        tracker(
            {"info": {"x_pos": 50, "flag_get": False} | ({"episode": {"r": 1.0}} if done else {}), "done": done}, {}
        )
    assert tracker.flags == [False] and not tracker.warps_reported


def test_the_fit_check_takes_sb3s_channel_first_copy_of_an_image_env():
    from gymnasium import spaces

    from mario_zoo.evaluation import _check_fits

    class Model:  # SB3 keeps an (H, W, C) env's space as (C, H, W) and transposes in predict
        observation_space = spaces.Box(0, 255, (3, 36, 36), np.uint8)
        action_space = spaces.Discrete(2)

    _check_fits(Model(), "Img-v0", spaces.Box(0, 255, (36, 36, 3), np.uint8), spaces.Discrete(2))
    with pytest.raises(ValueError, match=r"reads observations of shape \(3, 36, 36\), but Img-v0 gives \(36, 40, 3\)"):
        _check_fits(Model(), "Img-v0", spaces.Box(0, 255, (36, 40, 3), np.uint8), spaces.Discrete(2))
    with pytest.raises(ValueError, match=r"chooses among Discrete\(2\), but Img-v0 takes Discrete\(3\)"):
        _check_fits(Model(), "Img-v0", spaces.Box(0, 255, (36, 36, 3), np.uint8), spaces.Discrete(3))
