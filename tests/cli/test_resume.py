"""`train --resume` after the training process was killed with SIGKILL (and after Ctrl-C)."""

from __future__ import annotations

import csv
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from mario_zoo.agents import DQN, checkpoint
from mario_zoo.runs import open_run

SAVE_FREQ = 300


def _start_training(run: Path) -> subprocess.Popen[str]:
    command = [
        sys.executable, "-m", "mario_zoo.cli", "train", "--steps", "1000000", "--save-freq", str(SAVE_FREQ),
        "--hp", "learning_starts=100", "--eval-episodes", "1", "--no-progress", "--out", str(run),
    ]  # fmt: skip
    return subprocess.Popen(
        command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env={**os.environ, "OMP_NUM_THREADS": "1"}
    )


def _wait_for_checkpoint(process: subprocess.Popen[str], run: Path) -> None:
    deadline = time.monotonic() + 90
    while not (run / "checkpoint.zip").exists():
        assert process.poll() is None, process.communicate()
        assert time.monotonic() < deadline, "no checkpoint within 90 s"
        time.sleep(0.02)


def test_resume_continues_the_step_counter_after_sigkill(cli, tmp_path):
    run_path = tmp_path / "run"
    process = _start_training(run_path)
    _wait_for_checkpoint(process, run_path)
    time.sleep(0.5)  # keep training past the checkpoint: those steps' log rows must go on resume
    process.send_signal(signal.SIGKILL)
    process.communicate()
    assert process.returncode == -signal.SIGKILL

    run = open_run(run_path)
    assert run.read_config().status == "running"
    saved = checkpoint.read_config(run.checkpoint)["num_timesteps"]
    assert saved > 0 and saved % SAVE_FREQ == 0
    target = saved + 600

    result = cli("train", "--resume", run_path, "--steps", target, "--no-progress")
    assert result.code == 0, result.err
    assert f"from step {saved:,} to {target:,} steps" in result.out

    # Every checkpoint file loads and holds the new step count (DQN.learn, like SB3's, finishes its last
    # train_freq round); no temporary file is left behind.
    done = DQN.load(run.checkpoint).num_timesteps
    assert target <= done < target + run.read_config().hyperparameters["train_freq"]
    assert DQN.load(run.model).num_timesteps == done
    assert [entry.name for entry in run.path.iterdir() if entry.name.startswith(".")] == []
    assert run.read_config().status == "finished" and run.read_config().total_timesteps == target

    # The logs are one history: steps increase, rows continue past the checkpoint up to the target.
    with run.progress.open() as stream:
        steps = [int(row["time/total_timesteps"]) for row in csv.DictReader(stream)]
    assert steps == sorted(steps) and len(set(steps)) == len(steps)
    assert any(step <= saved for step in steps) and saved < steps[-1] <= done
    assert run.episodes().steps[-1] <= done


def test_ctrl_c_saves_a_checkpoint_and_says_how_to_resume(tmp_path):
    run_path = tmp_path / "run"
    process = _start_training(run_path)
    _wait_for_checkpoint(process, run_path)
    process.send_signal(signal.SIGINT)
    out, err = process.communicate(timeout=60)
    assert process.returncode == 130, err
    assert f"mario-zoo train --resume {run_path}" in out
    run = open_run(run_path)
    assert run.read_config().status == "interrupted"
    assert checkpoint.read_config(run.checkpoint)["num_timesteps"] >= SAVE_FREQ


def test_a_run_killed_before_its_first_checkpoint_starts_over(cli, tmp_path):
    from mario_zoo.runs import RunFolder
    from mario_zoo.training import plan_run

    run = RunFolder(tmp_path / "run")
    run.write_config(plan_run(steps=200, eval_episodes=0))
    (run.path / "monitor.csv").write_text('#{"t_start": 0.0}\nr,l,t\n12.0,12,0.1\n9.0,9')  # killed mid-line
    result = cli("train", "--resume", run.path, "--no-progress")
    assert result.code == 0, result.err
    assert "from the start (it was stopped before its first checkpoint) to 200 steps" in result.out
    assert DQN.load(run.model).num_timesteps >= 200 and run.read_config().status == "finished"
    assert not run.monitor.read_text().startswith('#{"t_start": 0.0}')  # the killed run's log was started afresh
