"""Seed matrix: `mario-zoo sweep --seeds` runs one preset once per seed (no search) into the same kind of study and
reports the mean, a 95% interval and each seed's value."""

from __future__ import annotations

import re
import statistics

import optuna

from tests.sweep.conftest import TINY, load, run_sweep


def test_a_seed_matrix_runs_each_seed_once_and_reports_mean_interval_and_table(tmp_path):
    out = tmp_path / "seeds"
    result = run_sweep(*TINY, "--seeds", "0-2", "--workers", 2, "--out", out)
    assert result.returncode == 0, result.stderr
    study = load(f"sqlite:///{out / 'study.db'}", "cartpole-fast-seeds")
    trials = study.get_trials(states=(optuna.trial.TrialState.COMPLETE,))
    assert sorted(trial.params["seed"] for trial in trials) == [0, 1, 2]
    assert len(study.trials) == 3
    values = {trial.params["seed"]: trial.value for trial in trials}
    mean = statistics.fmean(values.values())
    assert f"**mean {mean:.2f}, 95% bootstrap interval [" in result.stdout
    for seed, value in values.items():
        assert f"| {seed} | {value:.2f} | " in result.stdout
    assert not (out / "best.yml").exists()

    # Asking for one more seed runs only that one.
    more = run_sweep(*TINY, "--seeds", "0-3", "--out", out)
    assert more.returncode == 0, more.stderr
    study = load(f"sqlite:///{out / 'study.db'}", "cartpole-fast-seeds")
    assert sorted(trial.params["seed"] for trial in study.trials) == [0, 1, 2, 3]
    assert re.search(r"seeds: 4 of 4 finished", more.stdout)


def test_the_objective_is_the_mean_of_the_last_evaluations_statistic():
    from mario_zoo.runs import EvaluationPoint
    from mario_zoo.sweep.worker import _steady

    points = [
        EvaluationPoint(timesteps=step, n_eval_episodes=31, mean_reward=reward, std_reward=0.0, flag_rate=flags,
                        x_pos_mean=x)
        for step, reward, flags, x in ((1, 100.0, 0.0, 700.0), (2, 900.0, 0.2, 1500.0), (3, 1500.0, 0.6, 2900.0))
    ]  # fmt: skip
    assert _steady(points, 2) == 1200.0
    assert _steady(points, 2, "flag_rate") == 0.4
    assert _steady(points, 3, "x_pos_mean") == 1700.0
