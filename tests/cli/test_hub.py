"""`mario-zoo push` / `pull`, and Hub repos as agents, against the loopback Hub (tests/hub_server.py)."""

from __future__ import annotations

import json
from pathlib import Path

import imageio.v2 as imageio
from huggingface_hub import HfApi, ModelCard, hf_hub_download

from mario_zoo.agents import DQN
from mario_zoo.publishing import reproduce_command
from mario_zoo.runs import open_run


def test_push_then_pull_then_use_the_pulled_agent(cli, hub, trained_run, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    pushed = cli("push", trained_run.path, "tester/dqn-CartPole-v1", "--episodes", 2, "--no-video")
    assert pushed.code == 0, pushed.err
    assert "evaluating: 100%" in pushed.err and "2/2" in pushed.err  # the evaluation's progress bar
    (commit,) = [commit.sha for commit in hub.commits("tester/dqn-CartPole-v1")[:1]]
    assert f"in commit {commit}" in pushed.out
    assert {"config.json", "model.safetensors", "results.json", "README.md"} <= set(
        hub.commits("tester/dqn-CartPole-v1")[0].files
    )
    assert "replay.mp4" not in hub.commits("tester/dqn-CartPole-v1")[0].files
    card = Path(hf_hub_download("tester/dqn-CartPole-v1", "README.md", revision=commit)).read_text()
    assert "replay.mp4" not in card and "video" not in card.lower(), "--no-video: the card mentions no video"
    # The card says how to repeat its evaluation and how the agent was trained (the run's command).
    assert "mario-zoo evaluate hub:tester/dqn-CartPole-v1 --protocol episodes --episodes 2 --seed 0" in card
    trained = reproduce_command(open_run(trained_run.path).read_config().command)
    assert (
        f"{trained}    # how it was trained" in card
        and "--out" not in trained
        and trained.startswith("mario-zoo train")
    )

    pulled = cli("pull", "tester/dqn-CartPole-v1", "--revision", commit)
    assert pulled.code == 0, pulled.err
    folder = tmp_path / "models" / "dqn-CartPole-v1"
    assert sorted(path.name for path in folder.iterdir()) == ["config.json", "model.safetensors"]
    original, copy = DQN.load(trained_run.path / "model").policy.state_dict(), DQN.load(folder).policy.state_dict()
    assert original.keys() == copy.keys() and all((original[name] == copy[name]).all() for name in original)
    written = {path.name: path.stat().st_mtime_ns for path in folder.iterdir()}
    again = cli("pull", "tester/dqn-CartPole-v1")
    assert again.code == 2 and "already holds an agent; pass --force to replace it" in again.err
    assert {path.name: path.stat().st_mtime_ns for path in folder.iterdir()} == written  # untouched
    assert cli("pull", "tester/dqn-CartPole-v1", "--force").code == 0

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


def _without_date(results: dict) -> dict:
    """The evaluation's numbers: without its date, and without what `evaluate --json` says of the agent played."""
    return {key: value for key, value in results.items() if key not in ("date", "agent", "num_timesteps")}


def test_a_pushed_mario_agent_has_the_numbers_of_evaluate_and_a_real_speed_replay(cli, hub, tmp_path, monkeypatch):
    """The bundled Mario agent: push evaluates it under both protocols (the no-op sweep in results.json, the Nature
    protocol under other_protocols; x_pos, flag rate) exactly as `evaluate --json` does, and its replay.mp4 plays at
    60 / frame_skip = 15 fps, the game's own speed."""
    from mario_zoo import evaluation

    monkeypatch.setattr(evaluation, "MARIO_EVAL_NOOP_MAX", 2)  # a 3-start sweep keeps the test short
    agent, repo = "zoo:dqn-MarioDQN-1-1-v0", "tester/dqn-MarioDQN-1-1-v0"
    pushed = cli("push", agent, repo, "--episodes", 1, "--seed", 3)
    assert pushed.code == 0, pushed.err
    swept = cli("evaluate", agent, "--json")
    nature = cli("evaluate", agent, "--protocol", "nature", "--episodes", 1, "--seed", 3, "--json")
    assert swept.code == nature.code == 0, swept.err + nature.err

    (commit,) = [commit.sha for commit in hub.commits(repo)[:1]]
    results = json.loads(Path(hf_hub_download(repo, "results.json", revision=commit)).read_text())
    others = results.pop("other_protocols")
    assert _without_date(results) == _without_date(json.loads(swept.out))
    assert _without_date(others["nature"]) == _without_date(json.loads(nature.out))
    assert results["protocol"] == "noop-sweep" and results["noops"] == [0, 1, 2] and len(results["flags"]) == 3
    assert others["nature"]["epsilon"] == 0.05 and len(others["nature"]["flags"]) == 1

    video = hf_hub_download(repo, "replay.mp4", revision=commit)
    with imageio.get_reader(video, format="FFMPEG") as reader:
        assert reader.get_meta_data()["fps"] == 60 / 4
    card = ModelCard.load(hf_hub_download(repo, "README.md", revision=commit))
    assert "`replay.mp4` shows one episode" in card.text and "The flag was reached in" in card.text
    assert "| noop-sweep | 3 |" in card.text and "| nature | 1 |" in card.text


def test_push_on_an_env_that_does_not_fit_the_agent_is_bad_input_and_sends_nothing(cli, hub, trained_run):
    result = cli("push", trained_run.path, "tester/wrong-env", "--env", "Acrobot-v1", "--no-video")
    assert result.code == 2 and len(result.err.strip().splitlines()) == 1
    assert "--env Acrobot-v1 does not fit" in result.err and "Observation spaces do not match" in result.err
    assert not HfApi().repo_exists("tester/wrong-env")


def test_push_out_writes_the_repo_locally_without_the_network_or_a_token(cli, trained_run, tmp_path, monkeypatch):
    import huggingface_hub

    from mario_zoo import hub
    from mario_zoo.hub import push

    monkeypatch.setattr(huggingface_hub.constants, "HF_HUB_OFFLINE", True)
    monkeypatch.setattr(huggingface_hub.constants, "ENDPOINT", "http://127.0.0.1:9")  # nothing listens there
    monkeypatch.delenv("HF_TOKEN", raising=False)

    def no_hub(*args, **kwargs):
        raise AssertionError("push --out must not talk to the Hub")

    monkeypatch.setattr(hub, "check_push_access", no_hub)
    monkeypatch.setattr(push, "commit_files", no_hub)
    out = tmp_path / "repo"
    pushed = cli(
        "push", trained_run.path, "tester/dqn-CartPole-v1", "--episodes", 2, "--out", out,
        "--private", "--message", "first agent",
    )  # fmt: skip
    assert pushed.code == 0, pushed.err
    names = {"config.json", "model.safetensors", "results.json", "README.md", "replay.mp4"}
    assert {path.name for path in out.iterdir()} == names
    assert f"to {out}: README.md, config.json, model.safetensors, replay.mp4, results.json" in pushed.out
    assert (
        f"hf upload tester/dqn-CartPole-v1 {out} . --delete replay.mp4 --delete optimizer.safetensors --private "
        "--commit-message 'first agent'"
    ) in pushed.out
    evaluated = cli("evaluate", trained_run.path, "--episodes", 2, "--json")
    assert evaluated.code == 0, evaluated.err
    written, measured = json.loads((out / "results.json").read_text()), json.loads(evaluated.out)
    assert written["episode_rewards"] == measured["episode_rewards"] and written["env_id"] == "CartPole-v1"
    card = ModelCard.load(out / "README.md")
    assert "tester/dqn-CartPole-v1" in card.text and "replay.mp4" in card.text
    original, copy = DQN.load(trained_run.path / "model").policy.state_dict(), DQN.load(out).policy.state_dict()
    assert all((original[name] == copy[name]).all() for name in original)
    assert [path.name for path in tmp_path.iterdir()] == ["repo"], "no temporary folder is left beside it"


def test_push_out_into_a_folder_with_files_is_bad_input_before_any_evaluation(cli, trained_run, tmp_path):
    out = tmp_path / "repo"
    out.mkdir()
    (out / "notes.txt").write_text("mine")
    result = cli("push", trained_run.path, "tester/dqn-CartPole-v1", "--out", out)
    assert result.code == 2 and len(result.err.strip().splitlines()) == 1, result.err
    assert "already exists and is not an empty folder" in result.err and "evaluating" not in result.err
    assert [path.name for path in out.iterdir()] == ["notes.txt"]


def test_a_card_file_cannot_replace_the_repos_own_files(trained_run, tmp_path):
    import pytest

    from mario_zoo.evaluation import evaluate
    from mario_zoo.hub import save_repo

    model = DQN.load(trained_run.path / "model")
    results = evaluate(model, "CartPole-v1", n_episodes=1)
    extra = tmp_path / "extra.txt"
    extra.write_text("not a card")
    for name in ("./README.md", "x/../results.json", "../outside.txt", "/etc/x"):
        with pytest.raises(ValueError, match=r"is not a path this repo can take"):
            save_repo(model, "tester/x", tmp_path / "repo", results=results, extra_files={name: extra})
        assert not (tmp_path / "repo").exists()
    files = save_repo(model, "tester/x", tmp_path / "repo", results=results, extra_files={"figures/a.txt": extra})
    assert files["figures/a.txt"].read_text() == "not a card"


def test_push_without_the_video_extra_says_so_before_evaluating(cli, trained_run, monkeypatch):
    import sys

    monkeypatch.setitem(sys.modules, "imageio_ffmpeg", None)  # not installed
    result = cli("push", trained_run.path, "tester/no-video-extra", "--episodes", 2)
    assert result.code == 2
    assert "push's replay.mp4 (or pass --no-video) needs the video extra: pip install 'mario-zoo[video]'" in result.err
    assert "evaluating" not in result.err and result.out == ""


def test_a_pushed_checkpoint_folder_keeps_no_local_folder_nor_episodes(tmp_path):
    import json

    from mario_zoo.agents import checkpoint
    from mario_zoo.evaluation import evaluate
    from mario_zoo.hub import save_repo

    model = DQN(
        "MlpPolicy", "CartPole-v1", tensorboard_log=str(tmp_path / "private-tb"), learning_starts=50, device="cpu"
    )
    model.learn(300)
    model.save(tmp_path / "training")  # with its optimizer: a training checkpoint, folder and episodes kept
    assert checkpoint.read_config(tmp_path / "training").tensorboard_log == str(tmp_path / "private-tb")
    results = evaluate(model, "CartPole-v1", n_episodes=1)
    command = "mario-zoo train --preset cartpole-fast --seed 0"
    files = save_repo(tmp_path / "training", "tester/x", tmp_path / "repo", results=results, training=[command])
    assert f"{command}    # how it was trained" in files["README.md"].read_text()  # the card's, not config.json's
    training = json.loads(files["config.json"].read_text())["training"]
    assert (training["tensorboard_log"], training["ep_info_buffer"]) == (None, [])
    assert str(tmp_path) not in files["config.json"].read_text()
    DQN.load(tmp_path / "repo")


def test_pull_of_a_repo_whose_files_do_not_make_a_checkpoint_is_one_line_and_writes_nothing(
    cli, hub, trained_run, tmp_path, monkeypatch
):
    from huggingface_hub import CommitOperationAdd

    other = DQN("MlpPolicy", "CartPole-v1", seed=5, device="cpu")
    other.save(tmp_path / "other", include_optimizer=False)
    api = HfApi()
    api.create_repo("tester/mixed")
    api.create_commit(
        "tester/mixed",
        operations=[
            CommitOperationAdd("config.json", (trained_run.path / "model" / "config.json").read_bytes()),
            CommitOperationAdd("model.safetensors", (tmp_path / "other" / "model.safetensors").read_bytes()),
        ],
        commit_message="weights of another agent",
    )
    monkeypatch.chdir(tmp_path)
    result = cli("pull", "tester/mixed", "--out", "pulled")
    assert result.code == 1 and len(result.err.strip().splitlines()) == 1, result.err
    assert "does not hold a loadable checkpoint" in result.err and "Traceback" not in result.err
    assert not (tmp_path / "pulled").exists()


def test_push_to_an_unknown_env_is_one_line_naming_the_valid_ids(cli, hub, trained_run):
    for env_id in ("Nope-v0", "MarioDQN-9-1-v0"):
        result = cli("push", trained_run.path, "tester/nope", "--env", env_id, "--no-video", "--episodes", 1)
        assert result.code == 2 and len(result.err.strip().splitlines()) == 1, result.err
        assert env_id in result.err and "valid" in result.err
    assert not HfApi().repo_exists("tester/nope")


def test_push_on_another_mario_level_keeps_the_agents_action_set():
    """A right_only agent evaluated on another level with --env plays that level with its own action set, frame
    size and stack (they do not depend on the level), not the env's defaults."""
    from mario_zoo.cli.push import _check_spaces_fit, _evaluation_env
    from mario_zoo.sources import load_agent, parse_source

    agent = load_agent(parse_source("zoo:dqn-MarioDQN-1-1-v0"), "cpu")
    env_id, env_kwargs = _evaluation_env(agent, "MarioDQN-1-2-v0")
    assert env_id == "MarioDQN-1-2-v0" and "world" not in env_kwargs and "stage" not in env_kwargs
    assert env_kwargs["actions"] == "right_only" and env_kwargs["size"] == agent.env_kwargs["size"]
    _check_spaces_fit(agent, env_id, env_kwargs)  # fits: Discrete(5), not the default action set's Discrete(7)
    assert _evaluation_env(agent, "CartPole-v1") == ("CartPole-v1", {})
    assert _evaluation_env(agent, None) == (agent.env_id, dict(agent.env_kwargs))


def test_the_card_of_a_snapshot_or_an_extended_run_says_where_the_agent_is(cli, tmp_path):
    """Pushed from a snapshot, the card's training command says the agent is that step of the run; after a
    `--resume --steps` that extended the run, it says so too (the run's first command alone trains less)."""
    run = tmp_path / "run"
    trained = cli(
        "train", "--steps", 400, "--hp", "learning_starts=50", "--snapshot-freq", 200, "--save-freq", 200,
        "--eval-episodes", 1, "--no-progress", "--out", run,
    )  # fmt: skip
    assert trained.code == 0, trained.err
    resumed = cli("train", "--resume", run, "--steps", 600, "--no-progress")
    assert resumed.code == 0, resumed.err
    pushed = cli(
        "push", run / "snapshots" / "step-000000200", "tester/snap", "--out", tmp_path / "repo", "--no-video",
        "--episodes", 1, "--no-progress",
    )  # fmt: skip
    assert pushed.code == 0, pushed.err
    card = (tmp_path / "repo" / "README.md").read_text()
    assert "mario-zoo train --steps 400 --hp learning_starts=50 --snapshot-freq 200" in card
    assert "# how it was trained; this agent: step 200" in card  # made before the resume: no resume note
    whole = cli(
        "push", run, "tester/whole", "--out", tmp_path / "whole", "--no-video", "--episodes", 1, "--no-progress"
    )
    assert whole.code == 0, whole.err
    assert "# how it was trained, then --resume RUN --steps 600\n" in (tmp_path / "whole" / "README.md").read_text()
