"""Snapshots (`train --snapshot-freq`): the agent kept every N steps, judged later by `mario-zoo evaluate`."""

from __future__ import annotations

import json

import pytest
import torch

from mario_zoo.agents import DQN
from mario_zoo.callbacks import PeriodicSnapshot
from mario_zoo.runs import RunConfig, open_run

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
