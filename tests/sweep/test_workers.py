"""`mario-zoo sweep` with several worker processes on one SQLite study: exactly N trials, each run once; a rerun
continues the study; best.yml trains; a worker killed mid-trial loses nothing (Optuna's heartbeat retries it)."""

from __future__ import annotations

import csv
import subprocess
from dataclasses import dataclass
from pathlib import Path

import optuna
import pytest
import yaml

from mario_zoo.agents.presets import load_preset
from mario_zoo.runs import open_run
from tests.conftest import run_cli
from tests.sweep.conftest import (
    REPO,
    TINY,
    finished_numbers,
    kill,
    load,
    load_when_ready,
    run_sweep,
    sweep_command,
    sweep_env,
    wait_for,
)

COMPLETE = optuna.trial.TrialState.COMPLETE


@dataclass(frozen=True)
class Sweep:
    out: Path
    storage: str
    result: subprocess.CompletedProcess[str]


@pytest.fixture(scope="module")
def two_workers(tmp_path_factory: pytest.TempPathFactory) -> Sweep:
    """4 trials, 2 workers, one SQLite study."""
    out = tmp_path_factory.mktemp("sweep") / "cartpole"
    result = run_sweep(*TINY, "--trials", 4, "--workers", 2, "--out", out)
    assert result.returncode == 0, result.stderr
    return Sweep(out, f"sqlite:///{out / 'study.db'}", result)


def test_two_workers_finish_n_trials_each_exactly_once(two_workers):
    trials = load(two_workers.storage).get_trials()
    assert [trial.number for trial in trials] == [0, 1, 2, 3]
    assert finished_numbers(load(two_workers.storage)) == [0, 1, 2, 3]
    # Each trial was run by one worker, evaluated at 200 and 400 steps, and reported what it returned.
    for trial in trials:
        assert trial.user_attrs["pid"] > 0
        if trial.state == COMPLETE:
            assert sorted(trial.intermediate_values) == [200, 400]
            assert trial.value == pytest.approx(trial.intermediate_values[400])


def test_outputs_list_every_trial_and_the_best_settings(two_workers):
    out = two_workers.out
    assert {"best.yml", "trials.csv", "optimization_history.png", "summary.md", "study.db"} <= {
        path.name for path in out.iterdir()
    }
    rows = list(csv.DictReader((out / "trials.csv").open()))
    assert [row["number"] for row in rows] == ["0", "1", "2", "3"]
    assert {"state", "value", "duration_seconds", "learning_rate", "net_arch"} <= set(rows[0])
    study = load(two_workers.storage)
    best = load_preset(out / "best.yml")
    assert best.hyperparameters["learning_rate"] == study.best_params["learning_rate"]
    assert best.policy_kwargs["net_arch"] == yaml.safe_load(study.best_params["net_arch"])
    assert (best.env_id, best.n_timesteps) == ("CartPole-v1", 400)
    summary = (out / "summary.md").read_text()
    assert f"## Best: trial {study.best_trial.number}, value {study.best_value:.2f}" in summary
    assert summary in two_workers.result.stdout


def test_best_yml_trains_with_train_preset(two_workers, tmp_path):
    best = load_preset(two_workers.out / "best.yml")
    result = run_cli(
        "train", "--preset", two_workers.out / "best.yml", "--steps", 300, "--eval-episodes", 1, "--out",
        tmp_path / "run", "--no-progress",
    )  # fmt: skip
    assert result.code == 0, result.err
    config = open_run(tmp_path / "run").read_config()
    assert (config.preset, config.status, config.hyperparameters) == (best.name, "finished", best.config)
    assert config.policy_kwargs == best.policy_kwargs


def test_a_second_invocation_continues_the_study(two_workers, tmp_path):
    before = {trial.number: (trial.params, trial.value) for trial in load(two_workers.storage).get_trials()}
    result = run_sweep(*TINY, "--trials", 6, "--workers", 2, "--out", two_workers.out)
    assert result.returncode == 0, result.stderr
    study = load(two_workers.storage)
    assert finished_numbers(study) == [0, 1, 2, 3, 4, 5]
    assert {trial.number: (trial.params, trial.value) for trial in study.get_trials()[:4]} == before
    again = run_sweep(*TINY, "--trials", 6, "--out", two_workers.out)
    assert again.returncode == 0, again.stderr
    assert len(load(two_workers.storage).get_trials()) == 6


def test_continuing_with_other_settings_is_refused(two_workers):
    result = run_cli("sweep", *TINY[:2], "--steps", 800, "--trials", 4, "--out", two_workers.out)
    assert result.code == 2
    assert "was started with other settings: steps 400 (now 800)" in result.err
    assert len(result.err.strip().splitlines()) == 1


def test_a_worker_killed_mid_trial_loses_nothing(tmp_path):
    """SIGKILL a worker after its trial's first evaluation: after 3 missed heartbeats the other worker fails that
    trial, Optuna queues a retry with the same settings, and the study ends with 2 complete trials."""
    out = tmp_path / "killed"
    storage = f"sqlite:///{out / 'study.db'}"
    # 20,000 steps, evaluated every 500: the kill lands long before the trial ends, even when this test's polls
    # (each opens the study afresh) are slow on a loaded machine. With 2,000 steps a trial could end unseen.
    # Heartbeats every 2 s, stale after 6 s: a live worker starved of CPU on a loaded machine still beats in time.
    command = sweep_command(
        "--preset", "cartpole-fast", "--steps", 20000, "--eval-freq", 500, "--eval-episodes", 1, "--pruner", "none",
        "--trials", 2, "--workers", 2, "--heartbeat", 2, "--out", out, "--no-progress",
    )  # fmt: skip
    with subprocess.Popen(
        command, env=sweep_env(), cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    ) as sweep:

        def running_trial() -> optuna.trial.FrozenTrial | None:
            if not (out / "study.db").exists() or (study := load_when_ready(storage)) is None:
                return None
            trials = study.get_trials(states=(optuna.trial.TrialState.RUNNING,))
            return next((trial for trial in trials if trial.intermediate_values and "pid" in trial.user_attrs), None)

        victim = wait_for(running_trial, "a running trial that has reported an evaluation")
        assert max(victim.intermediate_values) < 20000
        kill(victim.user_attrs["pid"])
        stdout, stderr = sweep.communicate(timeout=600)
    assert sweep.returncode == 0, stderr
    study = load(storage)
    killed = study.trials[victim.number]
    assert killed.state == optuna.trial.TrialState.FAIL
    retries = [trial for trial in study.trials if trial.system_attrs.get("failed_trial") == victim.number]
    assert [trial.state for trial in retries] == [COMPLETE]
    assert retries[0].params == killed.params
    assert len(study.get_trials(states=(COMPLETE,))) == 2
    assert f"pid {victim.user_attrs['pid']}) was killed by SIGKILL" in stderr
    assert "retry_of" in (out / "trials.csv").read_text().splitlines()[0]
    assert "Workers that did not finish cleanly: worker " in stdout and "was killed by SIGKILL" in stdout
