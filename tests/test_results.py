"""The one evaluation record: every statistic is a property under one name, every summary is made from it, and
``results.json`` files written by earlier versions read back."""

from __future__ import annotations

import dataclasses
import json
import re

import numpy as np
import pytest

from mario_zoo.results import STATISTICS, Evaluation, Statistics, current_names
from mario_zoo.runs import EvaluationPoint
from mario_zoo.zoo.registry import Results

SWEEP = Evaluation(
    env_id="MarioDQN-v0",
    env_kwargs={"actions": "right_only", "noop_max": 2},
    episode_rewards=[2500.0, 900.0, 2600.0],
    episode_lengths=[400, 150, 410],
    protocol="noop-sweep",
    x_pos=[3161, 1200, 3161],
    flags=[True, False, True],
    noops=[0, 1, 2],
    date="2026-12-02T08:12:03+00:00",
)

# results.json as mario-zoo wrote it before protocols had names (8344652..886a357): `protocol` is the sentence.
RESULTS_BEFORE_PROTOCOLS = """{
  "date": "2026-11-24T23:40:14+00:00",
  "deterministic": true,
  "env_id": "MarioDQN-v0",
  "env_kwargs": {"actions": "right_only", "noop_max": 30},
  "episode_lengths": [400, 150],
  "episode_rewards": [2500.0, 900.0],
  "epsilon": null,
  "flag_rate": 0.5,
  "flags": [true, false],
  "mean_reward": 1700.0,
  "n_eval_episodes": 2,
  "package_versions": {"mario-zoo": "0.1.0"},
  "protocol": "2 episodes of MarioDQN-v0 with kwargs {'actions': 'right_only', 'noop_max': 30}, deterministic (greedy) actions, env seeded with 0; stable_baselines3.common.evaluation.evaluate_policy on a Monitor-wrapped env (mean and standard deviation of the undiscounted episode return).",
  "seed": 0,
  "std_reward": 800.0,
  "x_pos": [3161, 1200],
  "x_pos_max": 3161,
  "x_pos_mean": 2180.5
}"""

# results.json of a training run as mario-zoo wrote it with named protocols (747da93..), CartPole: no Mario numbers.
RESULTS_WITH_PROTOCOLS = """{
  "date": "2026-12-01T10:00:00+00:00",
  "deterministic": false,
  "env_id": "CartPole-v1",
  "env_kwargs": {},
  "episode_lengths": [500, 480],
  "episode_rewards": [500.0, 480.0],
  "epsilon": 0.05,
  "mean_reward": 490.0,
  "n_eval_episodes": 2,
  "num_timesteps": 50048,
  "package_versions": {"mario-zoo": "0.1.0"},
  "protocol": "nature",
  "protocol_description": "nature protocol: 2 episodes of CartPole-v1, epsilon-greedy actions (epsilon 0.05), env seeded with 3; stable_baselines3.common.evaluation.evaluate_policy on a Monitor-wrapped env (mean and standard deviation of the undiscounted episode return).",
  "seed": 3,
  "std_reward": 10.0
}"""


def test_every_statistic_is_a_property_of_the_record():
    assert (SWEEP.n_eval_episodes, SWEEP.mean_reward, SWEEP.mean_ep_length) == (3, 2000.0, 320.0)
    assert SWEEP.std_reward == pytest.approx(778.888, abs=1e-3)  # sqrt((500² + 1100² + 600²) / 3)
    assert (SWEEP.flag_count, SWEEP.flag_rate, SWEEP.x_pos_max) == (2, pytest.approx(2 / 3), 3161)
    assert SWEEP.x_pos_mean == pytest.approx(7522 / 3)
    low, high = SWEEP.flag_interval
    assert low < 2 / 3 < high and SWEEP.deterministic


def test_every_summary_is_made_from_the_record_and_names_each_statistic_alike():
    statistics = {name: getattr(SWEEP, name) for name in STATISTICS}
    point = EvaluationPoint.of(SWEEP, timesteps=1000)
    published = Results.of(SWEEP)
    for summary in (Statistics.of(SWEEP), point, published):
        assert {name: getattr(summary, name) for name in STATISTICS} == statistics
    assert (point.timesteps, published.protocol, published.date) == (1000, "noop-sweep", SWEEP.date)
    assert published.protocol_description == SWEEP.description
    # results.json (and evaluate --json) holds every statistic under the same name.
    assert {name: SWEEP.to_dict()[name] for name in STATISTICS} == statistics


def test_results_json_keeps_the_keys_earlier_versions_wrote():
    data = SWEEP.to_dict()
    old_keys = {
        "env_id", "env_kwargs", "mean_reward", "std_reward", "n_eval_episodes", "deterministic", "episode_rewards",
        "episode_lengths", "seed", "date", "package_versions", "protocol", "protocol_description", "epsilon", "noops",
        "x_pos", "x_pos_mean", "x_pos_max", "flags", "flag_rate", "flag_interval",
    }  # fmt: skip
    assert set(data) == old_keys | {"mean_ep_length"}
    assert (data["protocol"], data["epsilon"], data["flag_interval"]) == ("noop-sweep", None, list(SWEEP.flag_interval))
    assert Evaluation.from_dict(json.loads(json.dumps(data))) == SWEEP


def test_a_results_json_from_before_protocols_had_names_reads_as_the_episodes_protocol():
    data = json.loads(RESULTS_BEFORE_PROTOCOLS)
    evaluation = Evaluation.from_dict(data)
    assert (evaluation.protocol, evaluation.epsilon, evaluation.noops) == ("episodes", None, None)
    # The statistics the old file stored are the record's own.
    for name in ("mean_reward", "std_reward", "n_eval_episodes", "flag_rate", "x_pos_mean", "x_pos_max"):
        assert getattr(evaluation, name) == data[name], name
    assert evaluation.starts == "env seeded with 0, 0-30 random no-ops"
    assert evaluation.to_dict()["protocol"] == "episodes"


def test_a_training_runs_results_json_with_a_named_protocol_reads_back():
    data = json.loads(RESULTS_WITH_PROTOCOLS)
    evaluation = Evaluation.from_dict(data)
    assert (evaluation.protocol, evaluation.epsilon, evaluation.seed, evaluation.deterministic) == (
        "nature",
        0.05,
        3,
        False,
    )
    assert (evaluation.mean_reward, evaluation.std_reward, evaluation.flag_rate) == (490.0, 10.0, None)
    assert evaluation.description == data["protocol_description"]


def test_a_results_json_played_with_exploration_but_no_epsilon_is_refused_in_one_line():
    data = json.loads(RESULTS_BEFORE_PROTOCOLS) | {"deterministic": False}
    del data["epsilon"]
    with pytest.raises(ValueError, match=re.escape("deterministic: false) but records no epsilon")):
        Evaluation.from_dict(data)


def test_old_names_of_statistics_are_read_as_todays():
    old = {"timesteps": 1, "episodes": 31, "mean_x_pos": 2000.0, "max_x_pos": 3161, "flag_rate": 0.5}
    assert current_names(old) == {
        "timesteps": 1,
        "n_eval_episodes": 31,
        "x_pos_mean": 2000.0,
        "x_pos_max": 3161,
        "flag_rate": 0.5,
    }


def test_the_summaries_add_only_when_and_how_not_other_numbers():
    statistics = {item.name for item in dataclasses.fields(Statistics)}
    assert {item.name for item in dataclasses.fields(EvaluationPoint)} - statistics == {"timesteps"}
    assert {item.name for item in dataclasses.fields(Results)} - statistics == {
        "deterministic",
        "seed",
        "env_kwargs",
        "protocol",
        "protocol_description",
        "date",
    }


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("warps", [True, False, True, False], "has 4 values for 3 episodes"),
        ("flags", [False], "has 1 values for 3 episodes"),
        ("warps", [1, 0, 0], "must hold one true/false value per episode, got 1 of type int"),
        ("x_pos", [10, "far", 30], "must hold one integer value per episode, got 'far'"),
        ("noops", [0, 1, True], "got True of type bool"),
        ("warps", 2, "must be a list of one true/false value per episode, got 2"),
        ("flags", "yes", "must be a list"),
        ("episode_rewards", [1.0, "high", 2.0], "must hold one finite number value per episode, got 'high'"),
        ("episode_rewards", [1.0, float("nan"), 2.0], "got nan of type float"),
        ("episode_rewards", 3.0, "must be a list of one number per episode, got 3.0"),
        ("episode_rewards", [1.0, 10**400, 2.0], "must hold one finite number value per episode, got 1000"),
        ("episode_lengths", [9, 9.5, 9], "must hold one integer value per episode, got 9.5 of type float"),
    ],
)
def test_a_record_whose_episodes_disagree_is_refused_naming_the_field(field, value, message):
    played = dict(env_id="MarioDQN-1-2-v0", env_kwargs={}, episode_rewards=[1.0] * 3, episode_lengths=[9] * 3)
    mario = dict(x_pos=[10, 20, 30], flags=[False, False, True], warps=[False] * 3, noops=[0, 1, 2])
    with pytest.raises(ValueError, match=f"Evaluation.{field} ") as error:
        Evaluation.from_dict({**Evaluation(**played, **mario).to_dict(), field: value})
    assert message in str(error.value) and "\n" not in str(error.value)


def test_a_record_with_a_flag_and_a_warp_in_one_episode_is_refused():
    played = dict(env_id="MarioDQN-1-2-v0", env_kwargs={}, episode_rewards=[1.0] * 2, episode_lengths=[9] * 2)
    with pytest.raises(ValueError, match=r"Episodes \[1\] both reached the flag and left the level"):
        Evaluation(**played, x_pos=[10, 20], flags=[False, True], warps=[False, True])


def test_a_record_of_numpy_values_is_kept_as_the_python_values_json_writes():
    record = Evaluation(
        env_id="MarioDQN-1-2-v0",
        env_kwargs={},
        episode_rewards=list(np.array([1.5, 2.5], dtype=np.float32)),
        episode_lengths=list(np.array([9, 12])),
        x_pos=list(np.array([40, 3161], dtype=np.int16)),
        flags=list(np.array([False, True])),
        warps=list(np.array([False, False])),
        noops=list(np.arange(2)),
    )
    data = json.loads(json.dumps(record.to_dict()))
    assert data["flags"] == [False, True] and data["x_pos"] == [40, 3161] and data["episode_rewards"] == [1.5, 2.5]
    assert Evaluation.from_dict(data) == record and record.flag_count == 1
