"""A run folder is locked while a process trains it: a second `train --resume` refuses, naming the live pid, and
writes nothing; a lock left by a killed process blocks nothing."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from mario_zoo.run_lock import RunInUseError, check_not_in_use, lock_run
from mario_zoo.runs import RunFolder
from mario_zoo.training import load_resumed_model, plan_resume, train

# Guards against a hung process only: the tests wait for states, never for a fixed time.
HANG_GUARD_SECONDS = 600

_HOLD_LOCK = """
import sys
from mario_zoo.run_lock import lock_run
from mario_zoo.runs import RunFolder
with lock_run(RunFolder(__import__("pathlib").Path(sys.argv[1]))):
    print("held", flush=True)
    sys.stdin.read()  # hold the lock until the test closes stdin, or kills this process
"""


def _hold_lock(run: Path) -> subprocess.Popen[str]:
    """Another process holding `run`'s lock, as a training process does; returns once it holds it."""
    process = subprocess.Popen(
        [sys.executable, "-c", _HOLD_LOCK, str(run)], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True
    )
    assert process.stdout.readline() == "held\n", process.communicate()
    return process


def _snapshot(folder: Path) -> dict[str, bytes | None]:
    return {
        str(path.relative_to(folder)): path.read_bytes() if path.is_file() else None
        for path in sorted(folder.rglob("*"))
    }


@pytest.fixture
def finished_run(trained_run, tmp_path) -> Path:
    """A copy of the session's trained run, free to change."""
    return Path(shutil.copytree(trained_run.path, tmp_path / "run"))


def test_a_second_resume_is_refused_naming_the_live_pid_and_writes_nothing(cli, finished_run):
    holder = _hold_lock(finished_run)
    try:
        before = _snapshot(finished_run)
        result = cli("train", "--resume", finished_run, "--steps", 900, "--no-progress")
        assert result.code == 2, result
        message = result.err.strip()
        assert "\n" not in message
        assert f"is in use: process {holder.pid} is training it" in message
        assert f"kill {holder.pid}" in message
        assert _snapshot(finished_run) == before
    finally:
        holder.kill()
        holder.wait()


def test_a_lock_left_by_a_killed_process_does_not_block(cli, finished_run):
    holder = _hold_lock(finished_run)
    holder.send_signal(signal.SIGKILL)
    holder.wait()
    assert (finished_run / "run.pid").read_text().strip() == str(holder.pid)  # it died holding the lock
    result = cli("train", "--resume", finished_run, "--steps", 700, "--eval-episodes", 0, "--no-progress")
    assert result.code == 0, result.err
    assert not (finished_run / "run.pid").exists()


def test_train_refuses_a_run_another_process_locked_after_it_was_planned(finished_run):
    plan = plan_resume(finished_run, steps=900)
    holder = _hold_lock(finished_run)
    try:
        before = _snapshot(finished_run)
        with pytest.raises(RunInUseError, match=f"process {holder.pid} is training it"):
            train(plan.run, plan.config, load_resumed_model(plan), resumed=True, progress=False)
        assert _snapshot(finished_run) == before
    finally:
        holder.stdin.close()
        holder.wait()
    check_not_in_use(RunFolder(finished_run))  # released when the holder ended


def test_a_live_training_process_holds_its_run(cli, tmp_path):
    run = tmp_path / "live"
    command = [
        sys.executable, "-m", "mario_zoo.cli", "train", "--steps", "1000000", "--hp", "learning_starts=100",
        "--eval-episodes", "0", "--no-progress", "--out", str(run),
    ]  # fmt: skip
    process = subprocess.Popen(
        command,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "OMP_NUM_THREADS": "1"},
    )
    try:
        deadline = time.monotonic() + HANG_GUARD_SECONDS
        while not ((run / "run.pid").is_file() and (run / "run.json").is_file()):
            assert process.poll() is None, process.communicate()
            assert time.monotonic() < deadline, f"the training process held no lock within {HANG_GUARD_SECONDS} s"
            time.sleep(0.02)
        result = cli("train", "--resume", run, "--no-progress")
        assert result.code == 2, result
        assert f"process {process.pid} is training it" in result.err
    finally:
        process.kill()
        process.wait()
    check_not_in_use(RunFolder(run))


def test_the_lock_is_released_and_reentered_in_one_process(tmp_path):
    run = RunFolder(tmp_path / "run")
    with lock_run(run), pytest.raises(RunInUseError, match=f"process {os.getpid()} is training it"), lock_run(run):
        pass
    with lock_run(run):
        assert run.pid_file.read_text().strip() == str(os.getpid())
    assert not run.pid_file.exists()


def test_a_failure_while_setting_up_training_closes_the_monitor_file_and_env_and_releases_the_run(
    finished_run, monkeypatch
):
    import mario_zoo.training as training

    closed: list[str] = []
    episode_log_close = training.EpisodeLog.close

    def close_episode_log(self):
        closed.append("monitor.csv")
        episode_log_close(self)

    def failing_callbacks(*args, **kwargs):
        raise RuntimeError("the callbacks could not be built")

    attach = training._attach_monitored_env

    def attach_and_watch_the_env(run, config, model, resumed):
        episode_log = attach(run, config, model, resumed)
        env = model.get_env()
        env_close = env.close
        env.close = lambda: (closed.append("env"), env_close())
        return episode_log

    monkeypatch.setattr(training.EpisodeLog, "close", close_episode_log)
    monkeypatch.setattr(training, "_attach_monitored_env", attach_and_watch_the_env)
    monkeypatch.setattr(training, "_callbacks", failing_callbacks)
    plan = plan_resume(finished_run, steps=900)
    model = load_resumed_model(plan)
    with pytest.raises(RuntimeError, match="the callbacks could not be built"):
        train(plan.run, plan.config, model, resumed=True, progress=False)
    assert closed == ["env", "monitor.csv"]
    check_not_in_use(RunFolder(finished_run))
