"""`mario-zoo push` / `pull`, and Hub repos as agents, against the loopback Hub (tests/hub_server.py)."""

from __future__ import annotations

import json

from mario_zoo.agents import DQN


def test_push_then_pull_then_use_the_pulled_agent(cli, hub, trained_run, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    pushed = cli("push", trained_run.path, "tester/dqn-CartPole-v1", "--episodes", 2, "--no-video")
    assert pushed.code == 0, pushed.err
    (commit,) = [commit.sha for commit in hub.commits("tester/dqn-CartPole-v1")[:1]]
    assert f"in commit {commit}" in pushed.out
    assert {"config.json", "model.safetensors", "results.json", "README.md"} <= set(
        hub.commits("tester/dqn-CartPole-v1")[0].files
    )

    pulled = cli("pull", "tester/dqn-CartPole-v1", "--revision", commit)
    assert pulled.code == 0, pulled.err
    folder = tmp_path / "models" / "dqn-CartPole-v1"
    assert sorted(path.name for path in folder.iterdir()) == ["config.json", "model.safetensors"]
    original, copy = DQN.load(trained_run.path / "model").policy.state_dict(), DQN.load(folder).policy.state_dict()
    assert original.keys() == copy.keys() and all((original[name] == copy[name]).all() for name in original)

    evaluated = cli("evaluate", "hub:tester/dqn-CartPole-v1", "--episodes", 2, "--json")
    assert evaluated.code == 0, evaluated.err
    assert json.loads(evaluated.out)["agent"] == "hub:tester/dqn-CartPole-v1"
    recorded = cli("record", f"hub:tester/dqn-CartPole-v1@{commit}", "--out", tmp_path / "hub.gif", "--max-frames", 3)
    assert recorded.code == 0 and (tmp_path / "hub.gif").is_file()


def test_pull_of_a_missing_repo_fails_in_one_line(cli, hub, tmp_path, monkeypatch):
    workdir = tmp_path / "work"
    workdir.mkdir()
    monkeypatch.chdir(workdir)
    result = cli("pull", "tester/no-such-agent")
    assert result.code == 1
    assert "No model repo 'tester/no-such-agent'" in result.err and len(result.err.strip().splitlines()) == 1
    assert list(workdir.iterdir()) == []
