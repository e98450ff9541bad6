"""`train --resume` after the training process was killed with SIGKILL (and after Ctrl-C)."""

from __future__ import annotations

import csv
import json
import os
import signal
import subprocess
import sys
import time
import warnings
from pathlib import Path

import pytest
from stable_baselines3.common.monitor import load_results
from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

from mario_zoo.agents import DQN, checkpoint
from mario_zoo.runs import open_run, read_evaluations

SAVE_FREQ = 300
# Guards against a hung process only: how long things take depends on the machine and its load, so the tests wait
# for states and give up only after this long.
HANG_GUARD_SECONDS = 600


def _start_training(run: Path, *options: str, new_session: bool = False) -> subprocess.Popen[str]:
    command = [
        sys.executable, "-m", "mario_zoo.cli", "train", "--steps", "1000000", "--save-freq", str(SAVE_FREQ),
        "--hp", "learning_starts=100", "--eval-episodes", "1", "--no-progress", "--out", str(run), *options,
    ]  # fmt: skip
    return subprocess.Popen(
        command,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "OMP_NUM_THREADS": "1"},
        # A shell's background job (CI, `make test &`) ignores SIGINT and its children inherit that: the Ctrl-C
        # tests would then wait forever. Give the training process Python's usual Ctrl-C.
        preexec_fn=_default_sigint,
        start_new_session=new_session,
    )


def _default_sigint() -> None:
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def _wait_for_checkpoint(process: subprocess.Popen[str], run: Path) -> None:
    deadline = time.monotonic() + HANG_GUARD_SECONDS
    while not (run / "checkpoint.zip").exists():
        assert process.poll() is None, process.communicate()
        assert time.monotonic() < deadline, f"no checkpoint within {HANG_GUARD_SECONDS} s"
        time.sleep(0.02)


def _wait_for_log_row_past_checkpoint(process: subprocess.Popen[str], run: Path) -> None:
    """Wait until progress.csv has a row logged after the step the checkpoint holds (a known state to kill in)."""
    deadline = time.monotonic() + HANG_GUARD_SECONDS
    while True:
        assert process.poll() is None, process.communicate()
        assert time.monotonic() < deadline, f"no log row past the checkpoint within {HANG_GUARD_SECONDS} s"
        saved = checkpoint.read_config(run / "checkpoint.zip").num_timesteps
        if any(step > saved for step in _logged_steps(run / "progress.csv")):
            return
        time.sleep(0.02)


def _logged_steps(progress: Path) -> list[int]:
    if not progress.is_file():
        return []
    lines = progress.read_text().splitlines()
    if not lines or "time/total_timesteps" not in lines[0]:
        return []
    column = lines[0].split(",").index("time/total_timesteps")
    # The last line may be half-written by the training process.
    return [int(row.split(",")[column]) for row in lines[1:-1] if row.count(",") == lines[0].count(",")]


def test_resume_continues_the_step_counter_after_sigkill(cli, tmp_path):
    run_path = tmp_path / "run"
    process = _start_training(run_path)
    _wait_for_checkpoint(process, run_path)
    # Kill once training has logged past the checkpoint: those steps' log rows must go on resume.
    _wait_for_log_row_past_checkpoint(process, run_path)
    process.send_signal(signal.SIGKILL)
    process.communicate()
    assert process.returncode == -signal.SIGKILL

    run = open_run(run_path)
    assert run.read_config().status == "running"
    saved = checkpoint.read_config(run.checkpoint).num_timesteps
    assert saved > 0 and saved % SAVE_FREQ == 0
    target = saved + 600

    result = cli("train", "--resume", run_path, "--steps", target, "--no-progress")
    assert result.code == 0, result.err
    assert f"from step {saved:,} to {target:,} steps" in result.out

    # Every checkpoint file loads and holds the new step count (DQN.learn, like SB3's, finishes its last
    # train_freq round); no temporary file is left behind.
    done = DQN.load(run.checkpoint).num_timesteps
    assert target <= done < target + run.read_config().hyperparameters.train_freq
    assert DQN.load(run.model).num_timesteps == done
    assert [entry.name for entry in run.path.iterdir() if entry.name.startswith(".")] == []
    assert run.read_config().status == "finished" and run.read_config().total_timesteps == target

    # The logs are one history: steps increase, rows continue past the checkpoint up to the target.
    with run.progress.open() as stream:
        steps = [int(row["time/total_timesteps"]) for row in csv.DictReader(stream)]
    assert steps == sorted(steps) and len(set(steps)) == len(steps)
    assert any(step <= saved for step in steps) and saved < steps[-1] <= done
    assert run.episodes().steps[-1] <= done

    # monitor.csv's clock continues across the resume, so SB3's load_results (which sorts by time) keeps the rows in
    # the order they were played.
    with run.monitor.open() as stream:
        lengths = [int(row["l"]) for row in csv.DictReader(line for line in stream if not line.startswith("#"))]
    monitor = load_results(str(run.path))
    assert monitor["l"].tolist() == lengths and monitor["t"].is_monotonic_increasing

    # TensorBoard drops the events the killed run logged after its checkpoint: each curve is one history.
    events = EventAccumulator(str(run.tensorboard))
    events.Reload()
    logged = [event.step for event in events.Scalars("rollout/exploration_rate")]
    assert logged == sorted(logged) and len(set(logged)) == len(logged) and logged[-1] == done


def test_resume_after_sigkill_continues_with_the_saved_replay_buffer(cli, tmp_path):
    run_path = tmp_path / "run"
    process = _start_training(run_path, "--save-replay")
    _wait_for_checkpoint(process, run_path)
    process.send_signal(signal.SIGKILL)
    process.communicate()

    run = open_run(run_path)
    assert run.read_config().save_replay
    killed = DQN.load(run.checkpoint)
    killed.load_replay_buffer(run.checkpoint)
    saved = killed.num_timesteps
    # Taken at the start of a training round: every step's transition is in the buffer.
    assert saved >= SAVE_FREQ and len(killed.replay_buffer) == saved

    target = saved + 300
    result = cli("train", "--resume", run_path, "--steps", target, "--no-progress", "--eval-episodes", 0)
    assert result.code == 0, result.err
    assert f"from step {saved:,} with its replay buffer and RNG states to {target:,} steps" in result.out
    final = DQN.load(run.checkpoint)
    final.load_replay_buffer(run.checkpoint)
    # The resumed run kept the killed run's transitions and added its own: no refill from empty.
    assert len(final.replay_buffer) == final.num_timesteps >= target


@pytest.mark.parametrize(("sent", "code"), [(signal.SIGINT, 130), (signal.SIGTERM, 143)], ids=["ctrl-c", "sigterm"])
def test_ctrl_c_and_sigterm_save_a_checkpoint_and_say_how_to_resume(tmp_path, sent, code):
    run_path = tmp_path / "run"
    process = _start_training(run_path)
    _wait_for_checkpoint(process, run_path)
    process.send_signal(sent)
    out, err = process.communicate(timeout=HANG_GUARD_SECONDS)
    assert process.returncode == code, err
    assert f"mario-zoo train --resume {run_path}" in out
    run = open_run(run_path)
    assert run.read_config().status == "interrupted"
    assert checkpoint.read_config(run.checkpoint).num_timesteps >= SAVE_FREQ


def test_ctrl_c_with_save_replay_keeps_the_last_round_start_checkpoint(tmp_path):
    run_path = tmp_path / "run"
    process = _start_training(run_path, "--save-replay")
    _wait_for_checkpoint(process, run_path)
    saved = checkpoint.read_config(run_path / "checkpoint.zip").num_timesteps
    process.send_signal(signal.SIGINT)
    out, err = process.communicate(timeout=HANG_GUARD_SECONDS)
    assert process.returncode == 130, err
    kept = DQN.load(run_path / "checkpoint.zip")
    kept.load_replay_buffer(run_path / "checkpoint.zip")
    assert len(kept.replay_buffer) == kept.num_timesteps >= saved
    assert f"Interrupted at step {kept.num_timesteps:,}; the checkpoint is saved." in out
    assert open_run(run_path).read_config().status == "interrupted"


def _wait_for_logged_step(process: subprocess.Popen[str], run: Path, at_least: int) -> int:
    deadline = time.monotonic() + HANG_GUARD_SECONDS
    while not (steps := [step for step in _logged_steps(run / "progress.csv") if step >= at_least]):
        assert process.poll() is None, process.communicate()
        assert time.monotonic() < deadline, f"no log row at step {at_least} within {HANG_GUARD_SECONDS} s"
        time.sleep(0.02)
    return steps[-1]


@pytest.mark.parametrize(("sent", "code"), [(signal.SIGINT, 130), (signal.SIGTERM, 143)], ids=["ctrl-c", "sigterm"])
def test_a_stop_saves_the_checkpoint_where_it_stops_with_the_replay_buffer(cli, tmp_path, sent, code):
    run_path = tmp_path / "run"
    # No periodic checkpoint before the stop: the one kept is the stop's own.
    process = _start_training(run_path, "--save-replay", "--save-freq", "1000000")
    logged = _wait_for_logged_step(process, run_path, at_least=400)
    process.send_signal(sent)
    out, err = process.communicate(timeout=HANG_GUARD_SECONDS)
    assert process.returncode == code, err
    assert "Stopping: saving a checkpoint at the start of the next training round" in err
    stopped = DQN.load(run_path / "checkpoint.zip")
    stopped.load_replay_buffer(run_path / "checkpoint.zip")
    # Taken at a round start at or after the step logged before the signal: every step's transition is stored.
    assert stopped.num_timesteps >= logged and len(stopped.replay_buffer) == stopped.num_timesteps
    assert f"Interrupted at step {stopped.num_timesteps:,}; the checkpoint is saved." in out

    run = open_run(run_path)
    assert run.read_config().status == "interrupted"
    result = cli("train", "--resume", run_path, "--steps", stopped.num_timesteps + 100, "--no-progress")
    assert result.code == 0, result.err
    assert f"from step {stopped.num_timesteps:,} with its replay buffer" in result.out
    # The logs are cut back to the stop's checkpoint and go on from it.
    assert run.episodes().steps[-1] <= DQN.load(run.checkpoint).num_timesteps


def test_sigterm_to_the_whole_process_group_stops_a_run_with_an_actor_process(tmp_path):
    # systemd, Slurm and `kill -- -PGID` signal every process of the group, the actor too.
    run_path = tmp_path / "run"
    process = _start_training(run_path, "--hp", "actors=1", "--save-replay", new_session=True)
    _wait_for_checkpoint(process, run_path)
    os.killpg(process.pid, signal.SIGTERM)
    out, err = process.communicate(timeout=HANG_GUARD_SECONDS)
    assert process.returncode == 143, err
    assert "ActorError" not in err and f"mario-zoo train --resume {run_path}" in out
    stopped = DQN.load(run_path / "checkpoint.zip")
    stopped.load_replay_buffer(run_path / "checkpoint.zip")
    assert len(stopped.replay_buffer) == stopped.num_timesteps >= SAVE_FREQ
    assert open_run(run_path).read_config().status == "interrupted"


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


def test_resume_continues_the_evaluation_history_and_keeps_the_best_model(cli, tmp_path):
    run_path = tmp_path / "run"
    first = cli(
        "train", "--steps", 400, "--hp", "learning_starts=100", "--eval-freq", 200, "--eval-episodes", 2,
        "--no-progress", "--out", run_path,
    )  # fmt: skip
    assert first.code == 0, first.err
    run = open_run(run_path)
    before = read_evaluations(run.evaluations)
    assert [point.timesteps for point in before] == [200, 400]

    result = cli("train", "--resume", run_path, "--steps", 800, "--no-progress")
    assert result.code == 0, result.err
    points = read_evaluations(run.evaluations)
    assert points[:2] == before and [point.timesteps for point in points] == [200, 400, 600, 800]
    # The best model is the first best of the whole history, not of the resumed part only.
    best = max(points, key=lambda point: point.mean_reward)
    assert DQN.load(run.best_model).num_timesteps == best.timesteps
    with run.progress.open() as stream:
        rows = [row for row in csv.DictReader(stream) if row["eval/mean_reward"]]
    assert [int(row["time/total_timesteps"]) for row in rows] == [200, 400, 600, 800]


@pytest.mark.parametrize("actors", [0, 1])
def test_a_resumed_mario_run_starts_from_the_frontier_its_stopped_run_reached(cli, tmp_path, monkeypatch, actors):
    from mario_zoo.envs.frontier import FrontierStarts
    from mario_zoo.envs.frontier_archive import read_archive

    loaded: list[set[int]] = []  # with actors=0 the env is built in this process: what each env read at its start
    read = FrontierStarts._read_archive

    def read_and_tell(self):
        cells = read(self)
        loaded.append({cell.snapshot.x_pos for cell in cells.values()})
        return cells

    monkeypatch.setattr(FrontierStarts, "_read_archive", read_and_tell)

    run_path = tmp_path / "run"
    hyperparameters = ["learning_starts=50", "buffer_size=400", "batch_size=8", f"actors={actors}"]
    result = cli(
        "train", "--preset", "mario-1-1", "--steps", 300, "--hp", *hyperparameters, "--env-kwargs",
        "stall_steps=20", "--save-freq", 100, "--eval-episodes", 0, "--no-progress", "--out", run_path,
    )  # fmt: skip
    assert result.code == 0, result.err
    run = open_run(run_path)
    first = {cell.x_pos: cell.reach for cell in read_archive(run.frontier_archive, (1, 1))}
    assert first, "the training env wrote the states its frontier starts keep"
    # A path of this machine's run folder is no setting of the agent: neither the checkpoint nor run.json keeps it.
    for config_text in (checkpoint.read_config(run.model).to_json(), run.read_config().to_dict()):
        assert "frontier_archive" not in json.dumps(config_text)

    assert loaded == ([set()] if actors == 0 else [])
    result = cli("train", "--resume", run_path, "--steps", 600, "--no-progress")
    assert result.code == 0, result.err
    if actors == 0:  # the resumed env rebuilt every archived state (an actor's env does it in its own process)
        assert loaded[1:] == [set(first)]
    resumed = {cell.x_pos // 64: cell.reach for cell in read_archive(run.frontier_archive, (1, 1))}
    # The resumed env started from the archive: every stretch it held is still there, reached at least as far.
    assert all(resumed[x_pos // 64] >= reach for x_pos, reach in first.items())

    run.frontier_archive.write_text('{"format": "mario-zoo frontier archive", "version": 1, "level": [1, 2]}')
    before = run.checkpoint.read_bytes()
    result = cli("train", "--resume", run_path, "--steps", 900, "--no-progress")
    assert result.code == 2 and len(result.err.strip().splitlines()) == 1, result.err
    assert f"Cannot resume {run_path}: " in result.err and "World 1-2's frontier, not World 1-1's" in result.err
    assert run.checkpoint.read_bytes() == before


def test_a_run_started_over_drops_the_old_frontier_archive(tmp_path):
    from mario_zoo import training
    from mario_zoo.planning import plan_run
    from mario_zoo.runs import RunFolder

    run = RunFolder(tmp_path / "run")
    run.path.mkdir()
    run.frontier_archive.write_text("an old run's")
    config = plan_run(preset="mario-1-1", overrides={"actors": 0})
    model = training.build_model(config)
    log = training._attach_monitored_env(run, config, model, resumed=False)
    log.close()
    assert not run.frontier_archive.exists()
    assert model.get_env().get_attr("spec")[0].kwargs["frontier_archive"] == str(run.frontier_archive)
    model.get_env().close()


@pytest.mark.parametrize(
    ("source_env", "damaged", "inherits"),
    [("MarioDQN-1-1-v0", False, True), ("MarioDQN-1-2-v0", False, False), ("MarioDQN-1-1-v0", True, False)],
)
def test_a_warm_start_from_a_runs_snapshot_continues_its_frontier_on_the_same_level(
    tmp_path, source_env, damaged, inherits
):
    import dataclasses

    from mario_zoo import training
    from mario_zoo.envs import parse_env_id
    from mario_zoo.envs.frontier_archive import ArchivedCell, merge_into_archive
    from mario_zoo.planning import plan_run
    from mario_zoo.runs import RunFolder

    source = RunFolder(tmp_path / "source")
    source.write_config(plan_run(preset="mario-1-1", env_id=source_env))
    snapshot = source.snapshots / "step-000010000"
    snapshot.mkdir(parents=True)
    merge_into_archive(source.frontier_archive, parse_env_id(source_env), [ArchivedCell(40, 900, b"")], bucket=64)
    if damaged:
        source.frontier_archive.write_text('{"format": "mario-zoo frontier archive"')
    run = RunFolder(tmp_path / "run")
    run.path.mkdir()
    config = dataclasses.replace(plan_run(preset="mario-1-1", overrides={"actors": 0}), init_from=str(snapshot))
    model = training.build_model(config)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        training._attach_monitored_env(run, config, model, resumed=False).close()
    model.get_env().close()
    if inherits:
        assert run.frontier_archive.read_bytes() == source.frontier_archive.read_bytes()
    else:
        assert not run.frontier_archive.exists()
    messages = [str(warning.message) for warning in caught]
    assert any("Frontier starts begin anew: " in message and "not valid JSON" in message for message in messages) == (
        damaged
    )


def test_a_resumed_run_averages_each_logged_episode_once(tmp_path, monkeypatch):
    # The checkpoint keeps the last episodes (SB3's ep_info_buffer) and monitor.csv has them too: the resumed
    # run's rollout/ep_rew_mean and progress bar start from monitor.csv's, each once.
    from mario_zoo.runs import RunFolder
    from mario_zoo.training import build_model, plan_resume, plan_run, resume, train

    config = plan_run(preset="cartpole-fast", steps=1500, seed=0, device="cpu", eval_episodes=0)
    run = RunFolder(tmp_path / "run")
    train(run, config, build_model(config), progress=False)
    logged = list(run.episodes().returns)
    seen = []

    class Seen(Exception):
        pass

    def record_and_stop(self, *args, **kwargs):
        seen.extend(episode["r"] for episode in self.ep_info_buffer)
        raise Seen

    monkeypatch.setattr(DQN, "learn", record_and_stop)
    with pytest.raises(Seen):
        resume(plan_resume(run.path, steps=3000), progress=False)
    assert seen == logged[-100:]


def test_frontier_from_seeds_a_new_runs_frontier_with_a_checked_archive(tmp_path):
    from mario_zoo import training
    from mario_zoo.envs.frontier_archive import ArchivedCell, merge_into_archive
    from mario_zoo.planning import plan_run
    from mario_zoo.runs import RunFolder

    kept = tmp_path / "kept.json"
    merge_into_archive(kept, (1, 3), [ArchivedCell(40, 900, b"")], bucket=16)
    config = plan_run(preset="mario-world-1", env_id="MarioDQN-1-3-v0", overrides={"actors": 0}, frontier_from=kept)
    assert config.frontier_from == str(kept)
    run = RunFolder(tmp_path / "run")
    run.path.mkdir()
    run.write_config(config)
    assert run.read_config().frontier_from == str(kept)  # run.json keeps it
    model = training.build_model(config)
    training._attach_monitored_env(run, config, model, resumed=False).close()
    model.get_env().close()
    assert run.frontier_archive.read_bytes() == kept.read_bytes()
    # Changed since it was planned: refused as the run starts, before its env is made.
    merge_into_archive(other := tmp_path / "other.json", (1, 2), [ArchivedCell(40, 900, b"")], bucket=16)
    kept.write_bytes(other.read_bytes())
    with pytest.raises(ValueError, match="holds World 1-2's frontier, not World 1-3's"):
        training._attach_monitored_env(RunFolder(tmp_path / "run2"), config, model, resumed=False)


@pytest.mark.parametrize(
    ("env_id", "env_kwargs", "write", "message"),
    [
        ("MarioDQN-1-3-v0", {}, None, "no such file"),
        ("MarioDQN-1-3-v0", {}, (1, 2), "holds World 1-2's frontier, not World 1-3's"),
        ("MarioDQN-1-3-v0", {}, "damaged", "not valid JSON"),
        ("MarioDQN-1-3-v0", {"frontier_fraction": 0.0}, (1, 3), "frontier_fraction=F"),
        ("MarioDQN-v0", {"world": 1, "stage": 2}, (1, 3), "holds World 1-3's frontier, not World 1-2's"),
    ],
)
def test_frontier_from_refuses_what_the_run_cannot_use(tmp_path, env_id, env_kwargs, write, message):
    from mario_zoo.envs.frontier_archive import ArchivedCell, merge_into_archive
    from mario_zoo.planning import plan_run

    path = tmp_path / "kept.json"
    if write == "damaged":
        path.write_text('{"format": "mario-zoo frontier archive"')
    elif write is not None:
        merge_into_archive(path, write, [ArchivedCell(40, 900, b"")], bucket=16)
    with pytest.raises(ValueError, match=message):
        plan_run(preset="mario-world-1", env_id=env_id, env_kwargs=env_kwargs, frontier_from=path)
