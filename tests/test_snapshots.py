"""Snapshots (`train --snapshot-freq`): the agent kept every N steps, judged later by `mario-zoo evaluate`."""

from __future__ import annotations

import json
import shutil

import pytest
import torch

from mario_zoo.agents import DQN
from mario_zoo.callbacks import PeriodicSnapshot
from mario_zoo.runs import RunConfig, RunFolder, open_run, snapshot_name

FAST = {"learning_starts": 50, "batch_size": 16, "buffer_size": 1000, "train_freq": 1, "device": "cpu", "seed": 0}


def _flat(params) -> torch.Tensor:
    return torch.cat([param.detach().flatten() for param in params])


def test_a_snapshot_every_n_steps_holds_the_averaged_weights_and_no_training_state(tmp_path, monkeypatch):
    model = DQN("MlpPolicy", "CartPole-v1", ema_decay=0.9, **FAST)
    kept = {}
    save = DQN.save

    def remember(self, path, *args, **kwargs):
        kept[path.name] = (_flat(self.q_net.parameters()).clone(), _flat(self._average.tensors).clone())
        return save(self, path, *args, **kwargs)

    monkeypatch.setattr(DQN, "save", remember)
    model.learn(250, callback=PeriodicSnapshot(tmp_path, 100))
    assert sorted(path.name for path in tmp_path.iterdir()) == ["step-000000100", "step-000000200"]
    for name, (saved, average) in kept.items():
        assert torch.equal(saved, average)  # saved inside averaged_weights(): the average, not the online weights
        snapshot = DQN.load(tmp_path / name, device="cpu")
        assert snapshot.num_timesteps == int(name.removeprefix("step-"))
        assert torch.equal(_flat(snapshot.q_net.parameters()), average)
        assert not (tmp_path / name / "optimizer.safetensors").exists()
    # The online weights came back after each snapshot.
    assert not torch.equal(_flat(model.q_net.parameters()), _flat(model._average.tensors))


def test_a_resumed_model_takes_its_next_snapshot_at_the_next_multiple(tmp_path):
    model = DQN("MlpPolicy", "CartPole-v1", **FAST)
    model.learn(150)
    model.learn(200, reset_num_timesteps=False, callback=PeriodicSnapshot(tmp_path, 100))
    assert sorted(path.name for path in tmp_path.iterdir()) == ["step-000000200", "step-000000300"]


@pytest.mark.parametrize("freq", [0, -5, 2.5, True, "100"])
def test_a_bad_snapshot_freq_is_refused(tmp_path, freq):
    with pytest.raises(ValueError, match="snapshot_freq must be an int >= 1"):
        PeriodicSnapshot(tmp_path, freq)


@pytest.mark.parametrize("value", [0, "often", 1.5, False])
def test_run_json_with_a_bad_snapshot_freq_is_refused(value):
    data = {"env_id": "CartPole-v1", "preset": "p", "policy": "MlpPolicy", "total_timesteps": 10, "seed": 0}
    with pytest.raises(ValueError, match=r"invalid snapshot_freq: expected an int >= 1"):
        RunConfig.from_dict({**data, "format_version": 2, "snapshot_freq": value})
    # Files written before snapshots existed read as "no snapshots".
    assert RunConfig.from_dict({**data, "format_version": 2}).snapshot_freq is None


def test_train_keeps_snapshots_and_resume_can_start_them(cli, tmp_path):
    run_path = tmp_path / "run"
    first = cli(
        "train", "--steps", 300, "--hp", "learning_starts=100", "--snapshot-freq", 100, "--save-freq", 100,
        "--eval-episodes", 0, "--no-progress", "--out", run_path,
    )  # fmt: skip
    assert first.code == 0, first.err
    run = open_run(run_path)
    assert run.read_config().snapshot_freq == 100
    assert sorted(path.name for path in run.snapshots.iterdir()) == [
        "step-000000100", "step-000000200", "step-000000300",
    ]  # fmt: skip

    again = cli("train", "--resume", run_path, "--steps", 500, "--snapshot-freq", 200, "--no-progress")
    assert again.code == 0, again.err
    assert run.read_config().snapshot_freq == 200
    assert sorted(path.name for path in run.snapshots.iterdir())[-1] == "step-000000400"
    assert "step-000000500" not in {path.name for path in run.snapshots.iterdir()}

    bad = cli("train", "--resume", run_path, "--steps", 600, "--snapshot-freq", 0)
    assert bad.code == 2 and "--snapshot-freq" in bad.err


def test_evaluate_ranks_several_agents_best_first(cli, tmp_path):
    run_path = tmp_path / "run"
    trained = cli(
        "train", "--steps", 300, "--hp", "learning_starts=100", "--snapshot-freq", 100, "--eval-episodes", 0,
        "--no-progress", "--out", run_path,
    )  # fmt: skip
    assert trained.code == 0, trained.err
    snapshots = sorted(open_run(run_path).snapshots.iterdir())
    result = cli("evaluate", *snapshots, "--episodes", 2, "--no-progress")
    assert result.code == 0, result.err
    table = result.out[result.out.index("| rank |") :].splitlines()
    rows = [line.split(" | ") for line in table[2:]]
    assert [row[0] for row in rows] == ["| 1", "| 2", "| 3"]
    assert sorted(row[1] for row in rows) == sorted(str(path) for path in snapshots)
    means = [float(row[4].split(" +/- ")[0]) for row in rows]
    assert means == sorted(means, reverse=True)

    data = json.loads(cli("evaluate", *snapshots[:2], "--episodes", 2, "--json", "--no-progress").out)
    assert [record["agent"] for record in data] == [str(path) for path in snapshots[:2]]
    assert all(record["n_eval_episodes"] == 2 for record in data)


def test_evaluate_checks_every_agent_before_playing_any(cli, tmp_path):
    result = cli("evaluate", "zoo:dqn-CartPole-v1", tmp_path / "missing", "--episodes", 1)
    assert result.code == 2 and "missing" in result.err and "mean return" not in result.out


def test_evaluate_ranks_mario_agents_by_flags_then_furthest_x_and_groups_envs():
    from mario_zoo.cli.evaluate import ranking_table
    from mario_zoo.results import Evaluation
    from mario_zoo.sources import AgentSource

    def mario(name, x_pos, flags, env_id="MarioDQN-1-1-v0"):
        played = Evaluation(
            env_id=env_id, env_kwargs={}, episode_rewards=[float(x) for x in x_pos], episode_lengths=[100] * len(x_pos),
            x_pos=x_pos, flags=flags,
        )  # fmt: skip
        return AgentSource("checkpoint", name), 1000, played

    table = ranking_table([
        mario("far", [3000, 2900], [False, False]),
        mario("one-flag", [3161, 400], [True, False]),
        mario("near", [700, 800], [False, False]),
        mario("other-level", [100, 100], [False, False], env_id="MarioDQN-1-2-v0"),
    ])  # fmt: skip
    rows = [line.split(" | ") for line in table.splitlines()[2:]]
    # A flag beats any distance; equal flags rank by the mean furthest x; each env is ranked on its own.
    assert [(row[1], row[2], row[0]) for row in rows] == [
        ("MarioDQN-1-1-v0", "one-flag", "| 1"), ("MarioDQN-1-1-v0", "far", "| 2"), ("MarioDQN-1-1-v0", "near", "| 3"),
        ("MarioDQN-1-2-v0", "other-level", "| 1"),
    ]  # fmt: skip
    assert rows[0][6] == "1/2"


def test_evaluate_of_several_loads_every_agent_before_playing_any(cli, tmp_path):
    good = tmp_path / "good"
    assert cli("train", "--steps", 200, "--eval-episodes", 0, "--no-progress", "--out", good).code == 0
    unstarted = RunFolder(tmp_path / "unstarted")  # run.json, but no checkpoint yet
    unstarted.write_config(RunConfig(env_id="CartPole-v1", preset="p", policy="MlpPolicy", total_timesteps=9, seed=0))
    result = cli("evaluate", good, unstarted.path, "--episodes", 1, "--no-progress")
    assert result.code != 0 and "unstarted" in result.err
    assert "mean return" not in result.out  # nothing was played
    data = json.loads(cli("evaluate", good, "--episodes", 1, "--json", "--no-progress").out)
    assert data["num_timesteps"] == DQN.load(good / "model").num_timesteps


def test_a_resumed_run_drops_the_snapshots_of_the_steps_it_replays(cli, tmp_path):
    run_path = tmp_path / "run"
    first = cli(
        "train", "--steps", 200, "--snapshot-freq", 100, "--eval-episodes", 0, "--no-progress", "--out", run_path,
    )  # fmt: skip
    assert first.code == 0, first.err
    run = open_run(run_path)
    at = DQN.load(run.checkpoint).num_timesteps
    kept = run.snapshot_folders()
    assert kept and all(steps <= at for steps, _ in kept)
    # As if killed after a snapshot that its last checkpoint does not know about, and mid-way through another's write.
    shutil.copytree(kept[-1][1], run.snapshots / snapshot_name(at + 1))
    (run.snapshots / f".{snapshot_name(at + 2)}.0a1b2c3d.tmp").mkdir()
    again = cli("train", "--resume", run_path, "--steps", at + 1, "--no-progress")
    assert again.code == 0, again.err
    names = {path.name for path in run.snapshots.iterdir()}
    assert snapshot_name(at + 1) not in names  # the replayed steps' snapshot went (the resumed run's are multiples)
    assert not [name for name in names if name.startswith(".")]  # and the killed write's leftovers
    assert {path.name for _, path in kept} <= names


def test_a_run_started_over_drops_the_snapshots_of_the_killed_one(tmp_path):
    from mario_zoo import training

    config = training.plan_run(steps=100, eval_episodes=0, snapshot_freq=50)
    run = RunFolder(tmp_path / "run")
    run.write_config(config)
    (run.snapshots / snapshot_name(150)).mkdir(parents=True)  # of a killed run with no checkpoint to resume
    training.train(run, config, training.build_model(config), progress=False)
    assert [steps for steps, _ in run.snapshot_folders()] == [50, 100]


def test_resume_can_start_snapshots_in_a_run_that_had_none(cli, tmp_path):
    run_path = tmp_path / "run"
    assert cli("train", "--steps", 200, "--eval-episodes", 0, "--no-progress", "--out", run_path).code == 0
    run = open_run(run_path)
    assert run.read_config().snapshot_freq is None and run.snapshot_folders() == []
    at = DQN.load(run.checkpoint).num_timesteps
    again = cli("train", "--resume", run_path, "--steps", at + 200, "--snapshot-freq", 100, "--no-progress")
    assert again.code == 0, again.err
    end = DQN.load(run.checkpoint).num_timesteps  # learn() finishes its last round, past the target
    assert [steps for steps, _ in run.snapshot_folders()] == list(range((at // 100 + 1) * 100, end + 1, 100))


def test_evaluate_records_snapshots_played_under_the_runs_protocol(cli, tmp_path):
    from mario_zoo.milestones import flag_curve
    from mario_zoo.snapshots import evaluation_points, snapshot_evaluations

    run_path = tmp_path / "run"
    trained = cli(
        "train", "--steps", 300, "--hp", "learning_starts=100", "--snapshot-freq", 100, "--eval-episodes", 2,
        "--no-progress", "--out", run_path,
    )  # fmt: skip
    assert trained.code == 0, trained.err
    run = open_run(run_path)
    snapshots = [path for _, path in run.snapshot_folders()]
    # Other numbers than the run's protocol (2 seeded greedy episodes), or --no-record: nothing is kept.
    assert cli("evaluate", snapshots[0], "--episodes", 3, "--no-progress").code == 0
    assert cli("evaluate", snapshots[0], "--episodes", 2, "--no-record", "--no-progress").code == 0
    assert not snapshot_evaluations(run).exists() and evaluation_points(run) == []
    # The run's protocol: each snapshot's row is kept beside snapshots/, whose glob stays agents only.
    result = cli("evaluate", *snapshots[1:], "--episodes", 2, "--no-progress")
    assert result.code == 0, result.err
    assert result.out.count(f"recorded in {snapshot_evaluations(run)}") == 2
    again = cli("evaluate", snapshots[1], "--episodes", 2, "--json", "--no-progress")
    assert again.code == 0, again.err
    points = evaluation_points(run)
    assert [point.timesteps for point in points] == [200, 300]  # evaluated twice, kept once
    assert points[0].mean_reward == json.loads(again.out)["mean_reward"]
    assert sorted(path.name for path in run.snapshots.iterdir()) == [path.name for path in snapshots]
    assert len(flag_curve(run)) == 2 + 2
    # A row counts while its snapshot is there (a resumed run drops the snapshots of the steps it replays).
    shutil.rmtree(snapshots[2])
    assert [point.timesteps for point in evaluation_points(run)] == [200]
    # A damaged file to keep the evaluation in is one line before any play; --no-record plays without it.
    snapshot_evaluations(run).write_bytes(snapshot_evaluations(run).read_bytes() + b"500,2,\xff\xfe,1,1,,,\n")
    damaged = snapshot_evaluations(run).read_bytes()
    refused = cli("evaluate", snapshots[1], "--episodes", 2, "--no-progress")
    assert refused.code == 2 and len(refused.err.strip().splitlines()) == 1, refused.err
    assert f"{snapshot_evaluations(run)} line 4 is damaged" in refused.err and "evaluating" not in refused.err
    assert snapshot_evaluations(run).read_bytes() == damaged
    assert cli("evaluate", snapshots[1], "--episodes", 2, "--no-record", "--no-progress").code == 0


def test_periodic_evaluations_win_over_a_snapshots_at_the_same_step(tmp_path):
    from mario_zoo.milestones import time_to_clear
    from mario_zoo.runs import EvaluationPoint, write_evaluations
    from mario_zoo.snapshots import evaluation_points, record_point

    run = RunFolder(tmp_path)
    run.write_config(RunConfig("MarioDQN-1-1-v0", "mario-1-1", "CnnPolicy", total_timesteps=300, seed=0))
    for steps in (100, 200):
        (run.snapshots / snapshot_name(steps)).mkdir(parents=True)

    def point(steps, rate):
        return EvaluationPoint(timesteps=steps, n_eval_episodes=31, mean_reward=1.0, std_reward=0.0, flag_rate=rate)

    write_evaluations(run.evaluations, [point(200, 0.5)])
    record_point(run, point(200, 0.1))
    record_point(run, point(100, 0.2))
    record_point(run, point(100, 0.3))  # the same step again: replaced
    assert [(p.timesteps, p.flag_rate) for p in evaluation_points(run)] == [(100, 0.3), (200, 0.5)]
    # A run with snapshot evaluations only (no --eval-freq) still has a time to clear.
    run.evaluations.unlink()
    assert [(m.timesteps, m.flag_rate) for m in time_to_clear(run, [0.25, 0.5])] == [(100, 0.3), (None, None)]


def test_a_snapshot_published_takes_its_runs_command_and_time(tmp_path):
    from mario_zoo import training
    from mario_zoo.publishing import publish
    from mario_zoo.snapshots import run_of_checkpoint, snapshot_run

    config = training.plan_run(preset="cartpole-fast", steps=300, seed=4, device="cpu", eval_episodes=0,
                               snapshot_freq=128, command=["mario-zoo", "train", "--seed", "4", "--steps", "300"])  # fmt: skip
    run = RunFolder(tmp_path / "run")
    training.train(run, config, training.build_model(config), progress=False)
    (_, first), *_ = run.snapshot_folders()
    assert snapshot_run(first) == run and run_of_checkpoint(first) == run
    assert snapshot_run(run.path / "model") is None and run_of_checkpoint(run.path / "model") == run
    assert snapshot_run(tmp_path / "elsewhere" / "snapshots" / "step-000000128") is None
    published = publish(
        first, "early", episodes=1, replay=False, registry=tmp_path / "zoo" / "registry.json",
        cards_dir=tmp_path / "cards", docs_dir=tmp_path / "docs",
    )  # fmt: skip
    assert published.entry.training.command == (
        "mario-zoo train --seed 4 --steps 300    # how it was trained; this agent: step 128"
    )
    assert published.entry.training.total_timesteps == 128 and published.entry.training.seed == 4
