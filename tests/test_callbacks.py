"""PeriodicEvaluation: evaluations at the right steps, logged, and the best model kept atomically."""

from __future__ import annotations

import csv
import re
from pathlib import Path

import gymnasium as gym
import imageio.v3 as iio
import numpy as np
import pytest
from stable_baselines3.common.logger import CSVOutputFormat, Logger

from mario_zoo import callbacks
from mario_zoo.agents import DQN
from mario_zoo.callbacks import PeriodicEvaluation
from mario_zoo.envs import FrontierStarts
from mario_zoo.evaluation import evaluation_env_kwargs
from mario_zoo.plotting import FIGURE_PIXELS, save_learning_curve
from mario_zoo.results import Evaluation
from mario_zoo.runs import Episodes, EvaluationPoint, RunFolder, read_evaluations, write_evaluations


def _model() -> DQN:
    return DQN("MlpPolicy", "CartPole-v1", learning_starts=50, seed=0, policy_kwargs={"net_arch": [16]})


def _point(timesteps: int, mean_reward: float, **mario) -> EvaluationPoint:
    return EvaluationPoint(
        timesteps=timesteps, n_eval_episodes=2, mean_reward=mean_reward, std_reward=0.0, mean_ep_length=10.0, **mario
    )


def _leftovers(folder: Path) -> list[str]:
    """Temporary files or folders a writer left behind."""
    return [path.name for path in folder.rglob("*") if path.name.startswith(".") or ".tmp" in path.name]


def _scripted(monkeypatch, returns: list[float], x_pos: list[list[int]] | None = None, flags=None) -> list[dict]:
    """Make the callback's evaluations return these mean returns (and Mario numbers), one per call."""
    calls = []

    def fake_evaluate(model, env_id, env_kwargs, *, protocol):
        index = len(calls)
        # A scripted Mario evaluation has as many episodes as its scripted x_pos (a record keeps one per episode).
        n_episodes = protocol.n_episodes if x_pos is None else len(x_pos[index])
        calls.append({"env_id": env_id, "env_kwargs": env_kwargs, "steps": model.num_timesteps, "protocol": protocol})
        return Evaluation(
            env_id=env_id,
            env_kwargs=env_kwargs,
            episode_rewards=[returns[index]] * n_episodes,
            episode_lengths=[10] * n_episodes,
            protocol=protocol.name,
            x_pos=None if x_pos is None else x_pos[index],
            flags=None if flags is None else flags[index],
        )

    monkeypatch.setattr(callbacks, "evaluate", fake_evaluate)
    return calls


def test_evaluations_happen_every_eval_freq_steps_and_are_logged(tmp_path):
    model = _model()
    model.set_logger(Logger(str(tmp_path), [CSVOutputFormat(str(tmp_path / "progress.csv"))]))
    evaluations = PeriodicEvaluation(
        "CartPole-v1", {}, eval_freq=100, n_episodes=2, log_path=tmp_path / "evaluations.csv"
    )
    model.learn(350, callback=evaluations)

    assert [point.timesteps for point in evaluations.history] == [100, 200, 300]
    assert read_evaluations(tmp_path / "evaluations.csv") == evaluations.history
    assert all(point.n_eval_episodes == 2 and point.flag_rate is None for point in evaluations.history)
    with (tmp_path / "progress.csv").open() as stream:
        rows = [row for row in csv.DictReader(stream) if row["eval/mean_reward"]]
    assert [int(row["time/total_timesteps"]) for row in rows] == [100, 200, 300]
    assert [float(row["eval/mean_reward"]) for row in rows] == [point.mean_reward for point in evaluations.history]
    assert _leftovers(tmp_path) == []


def test_the_best_model_is_the_first_of_the_best_evaluations(tmp_path, monkeypatch):
    _scripted(monkeypatch, [10.0, 30.0, 20.0, 30.0])
    model = _model()
    evaluations = PeriodicEvaluation(
        "CartPole-v1", {}, eval_freq=100, n_episodes=3, best_model_path=tmp_path / "best_model"
    )
    model.learn(400, callback=evaluations)
    assert evaluations.best.timesteps == 200
    best = DQN.load(tmp_path / "best_model")
    assert best.num_timesteps == 200
    assert not (tmp_path / "best_model" / "optimizer.safetensors").exists()
    assert _leftovers(tmp_path) == []


def test_mario_ranks_by_flag_rate_then_mean_x_pos(tmp_path, monkeypatch):
    # Evaluation 2 has the best return and x_pos but no flag; evaluation 3 reaches the flag once.
    _scripted(
        monkeypatch,
        [100.0, 900.0, 300.0, 250.0],
        x_pos=[[800, 900], [3000, 2400], [3161, 1000], [3161, 1500]],
        flags=[[False, False], [False, False], [True, False], [True, False]],
    )
    evaluations = PeriodicEvaluation("MarioDQN-v0", {}, eval_freq=100, n_episodes=2)
    _model().learn(400, callback=evaluations)
    assert [point.flag_rate for point in evaluations.history] == [0.0, 0.0, 0.5, 0.5]
    assert evaluations.best.timesteps == 400  # same flag rate as step 300, further on average


def test_mario_evaluations_are_the_exact_noop_sweep_from_the_level_start(monkeypatch):
    calls = _scripted(monkeypatch, [1.0], x_pos=[[500]], flags=[[False]])
    trained = {
        "actions": "right_only",
        "stall_steps": 100,
        "frontier_fraction": 1.0,
        "frontier_back": 0,
        "noop_max": 5,
        "repeat_action_probability": 0.25,
    }
    evaluations = PeriodicEvaluation("MarioDQN-v0", trained, eval_freq=100, n_episodes=1)
    _model().learn(100, callback=evaluations)
    (call,) = calls
    protocol = call["protocol"]
    # The sweep plays each of the 31 no-op starts once, whatever n_episodes says.
    assert (protocol.name, protocol.n_episodes, protocol.noop_counts) == ("noop-sweep", 31, list(range(31)))
    played = evaluation_env_kwargs(call["env_id"], call["env_kwargs"], protocol.noop_max)
    # Training-only options (frontier starts, training no-ops, sticky actions) never reach the evaluation.
    assert played == {"actions": "right_only", "stall_steps": 100, "noop_max": 30}
    env = gym.make(call["env_id"], **played)
    while isinstance(env, gym.Wrapper):
        assert not isinstance(env, FrontierStarts)
        env = env.env


def test_a_resumed_history_keeps_its_best_model(tmp_path, monkeypatch):
    earlier = [_point(100, 50.0), _point(200, 80.0)]
    _scripted(monkeypatch, [70.0, 90.0])
    model = _model()
    model.learn(200)
    evaluations = PeriodicEvaluation(
        "CartPole-v1",
        {},
        eval_freq=100,
        n_episodes=2,
        log_path=tmp_path / "evaluations.csv",
        best_model_path=tmp_path / "best_model",
        history=earlier,
    )
    model.learn(200, callback=evaluations, reset_num_timesteps=False)
    # 70 at step 300 does not beat the earlier 80: no save; 90 at step 400 does.
    assert [point.timesteps for point in read_evaluations(tmp_path / "evaluations.csv")] == [100, 200, 300, 400]
    assert DQN.load(tmp_path / "best_model").num_timesteps == 400


def test_best_may_come_from_after_the_history(tmp_path, monkeypatch):
    # A resumed run whose best model came from an evaluation after its checkpoint keeps that bar.
    _scripted(monkeypatch, [70.0])
    model = _model()
    evaluations = PeriodicEvaluation(
        "CartPole-v1",
        {},
        eval_freq=100,
        n_episodes=2,
        best_model_path=tmp_path / "best_model",
        history=[_point(100, 50.0)],
        best=_point(300, 75.0),
    )
    model.learn(100, callback=evaluations)
    assert evaluations.best.timesteps == 300 and not (tmp_path / "best_model").exists()


def test_another_protocol_can_be_asked_for(monkeypatch):
    calls = _scripted(monkeypatch, [1.0], x_pos=[[500]], flags=[[False]])
    evaluations = PeriodicEvaluation("MarioDQN-v0", {}, eval_freq=100, n_episodes=7, protocol="nature")
    _model().learn(100, callback=evaluations)
    assert (calls[0]["protocol"].name, calls[0]["protocol"].n_episodes, calls[0]["protocol"].epsilon) == (
        "nature",
        7,
        0.05,
    )
    with pytest.raises(ValueError, match="Unknown evaluation protocol 'bogus'"):
        PeriodicEvaluation("MarioDQN-v0", {}, eval_freq=100, n_episodes=7, protocol="bogus")


def test_resuming_cuts_evaluations_back_to_the_checkpoint(tmp_path):
    run = RunFolder(tmp_path)
    mario = {"x_pos_mean": 900.0, "x_pos_max": 950, "flag_rate": 0.0}
    write_evaluations(run.evaluations, [_point(step, 1.0, **mario) for step in (1, 2, 3)])
    run.truncate_logs(2)
    assert [point.timesteps for point in read_evaluations(run.evaluations)] == [1, 2]
    assert read_evaluations(run.evaluations)[0].x_pos_max == 950


@pytest.mark.parametrize(("kwargs", "message"), [({"eval_freq": 0}, "eval_freq must be an int >= 1, got 0."),
                                                  ({"n_episodes": 1.5}, "n_episodes must be an int >= 1, got 1.5.")])  # fmt: skip
def test_bad_settings_are_refused(kwargs, message):
    with pytest.raises(ValueError, match=re.escape(message)):
        PeriodicEvaluation("CartPole-v1", {}, **{"eval_freq": 100, "n_episodes": 2, **kwargs})


def test_mario_evaluations_log_the_flag_rate_and_x_pos_and_draw_them(tmp_path):
    # No gradient step (learning_starts > budget): this checks the plumbing on the real env, not learning.
    env = gym.make("MarioDQN-v0", actions="right_only", stall_steps=10, frontier_fraction=1.0, frontier_back=0)
    model = DQN("CnnPolicy", env, learning_starts=1_000, buffer_size=1_000, seed=0)
    model.set_logger(Logger(str(tmp_path), [CSVOutputFormat(str(tmp_path / "progress.csv"))]))
    evaluations = PeriodicEvaluation(
        "MarioDQN-v0", env.spec.kwargs, eval_freq=60, n_episodes=1, log_path=tmp_path / "evaluations.csv"
    )
    model.learn(120, callback=evaluations)
    points = read_evaluations(tmp_path / "evaluations.csv")
    assert [point.timesteps for point in points] == [60, 120]
    assert all(point.flag_rate == 0.0 and 40 <= point.x_pos_mean == point.x_pos_max < 3000 for point in points)
    with (tmp_path / "progress.csv").open() as stream:
        rows = [row for row in csv.DictReader(stream) if row["eval/flag_rate"]]
    # The logs name each statistic as evaluations.csv, results.json and the registry do.
    assert [float(row["eval/x_pos_mean"]) for row in rows] == [point.x_pos_mean for point in points]
    assert [int(float(row["eval/x_pos_max"])) for row in rows] == [point.x_pos_max for point in points]

    path = save_learning_curve(Episodes(np.ones(3), np.ones(3, int)), tmp_path / "c.png", title="t", evaluations=points)
    assert iio.imread(path).shape[:2] == (FIGURE_PIXELS[1], FIGURE_PIXELS[0])


# evaluations.csv as mario-zoo wrote it before the statistics had one name (a resumed Mario run's file).
OLD_EVALUATIONS_CSV = """timesteps,episodes,mean_reward,std_reward,mean_ep_length,mean_x_pos,max_x_pos,flag_rate
50000,31,1200.5,300.25,350.0,1800.5,3161,0.1
100000,31,2400.0,200.0,420.5,2600.0,3161,0.5
"""


def test_an_evaluations_csv_with_the_old_column_names_reads_and_is_rewritten_with_todays(tmp_path):
    run = RunFolder(tmp_path)
    run.evaluations.write_text(OLD_EVALUATIONS_CSV)
    points = read_evaluations(run.evaluations)
    assert [(point.timesteps, point.n_eval_episodes, point.x_pos_mean, point.x_pos_max) for point in points] == [
        (50000, 31, 1800.5, 3161),
        (100000, 31, 2600.0, 3161),
    ]
    assert [point.rank for point in points] == [(0.1, 1800.5), (0.5, 2600.0)]
    run.truncate_logs(50000)  # what a resume does
    assert run.evaluations.read_text() == (
        "timesteps,n_eval_episodes,mean_reward,std_reward,mean_ep_length,flag_rate,x_pos_mean,x_pos_max\n"
        "50000,31,1200.5,300.25,350.0,0.1,1800.5,3161\n"
    )


def test_each_point_is_the_statistics_of_its_evaluation(monkeypatch):
    _scripted(monkeypatch, [1.0, 2.0], x_pos=[[500, 700], [900, 1100]], flags=[[False, True], [True, True]])
    evaluations = PeriodicEvaluation("MarioDQN-v0", {}, eval_freq=100, n_episodes=2, protocol="nature")
    _model().learn(200, callback=evaluations)
    record = evaluations.evaluation
    last = evaluations.last
    assert (last.timesteps, last.n_eval_episodes, last.mean_ep_length) == (200, 2, 10.0)
    assert (last.flag_rate, last.x_pos_mean, last.x_pos_max) == (record.flag_rate, record.x_pos_mean, 1100)
    assert evaluations.seconds > 0


def test_on_evaluation_sees_every_point_and_a_false_stops_training(monkeypatch):
    _scripted(monkeypatch, [1.0, 2.0, 3.0])
    seen = []

    def hook(point):
        seen.append(point.timesteps)
        return point.timesteps < 200

    evaluations = PeriodicEvaluation("CartPole-v1", {}, eval_freq=100, n_episodes=1, on_evaluation=hook)
    model = _model().learn(1000, callback=evaluations)
    assert seen == [100, 200] and evaluations.stopped
    assert model.num_timesteps == 200


def test_a_hook_that_returns_nothing_lets_training_go_on(monkeypatch):
    _scripted(monkeypatch, [1.0, 2.0, 3.0])
    seen = []
    evaluations = PeriodicEvaluation("CartPole-v1", {}, eval_freq=100, n_episodes=1, on_evaluation=seen.append)
    _model().learn(300, callback=evaluations)
    assert [point.timesteps for point in seen] == [100, 200, 300] and not evaluations.stopped
