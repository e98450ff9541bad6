"""Bad input: a one-line error naming the valid choices, exit code 2, and nothing written."""

from __future__ import annotations

import json
import shutil

import pytest


@pytest.fixture
def workdir(tmp_path, monkeypatch):
    """An empty working directory holding one finished-looking run folder, `fake_run`."""
    monkeypatch.chdir(tmp_path)
    run = tmp_path / "fake_run"
    run.mkdir()
    (run / "run.json").write_text(
        json.dumps(
            {"env_id": "CartPole-v1", "preset": "cartpole-fast", "policy": "MlpPolicy", "total_timesteps": 100,
             "seed": 0, "status": "finished", "format_version": 1}
        )
    )  # fmt: skip
    return tmp_path


def _snapshot(folder):
    return sorted((str(path.relative_to(folder)), path.stat().st_size) for path in folder.rglob("*"))


BAD_INPUTS = [
    (["bogus"], "invalid choice: 'bogus' (choose from"),
    (["train", "--preset", "cartpole-fastest"], "valid presets are: cartpole-tutorial, cartpole-fast"),
    (["train", "--env", "CartPol-v1"], "Unknown env ID 'CartPol-v1' (did you mean 'CartPole-v1'?); valid IDs:"),
    (["train", "--env", "MarioDQN-9-1-v0"], "world must be one of 1-8, got 9"),
    (["train", "--env", "Acrobot-v1"], "No preset is tuned for Acrobot-v1; pass --preset NAME"),
    (["train", "--env", "Pendulum-v1", "--preset", "cartpole-fast"], "DQN needs a Discrete action space"),
    (["train", "--hp", "lr=0.1"], "Unknown --hp key 'lr'; valid keys: learning_rate, buffer_size"),
    (["train", "--hp", "learning_rat=0.1"], "(did you mean 'learning_rate'?)"),
    (["train", "--hp", "learning_rate=fast"], "learning_rate must be a number, got 'fast'"),
    (["train", "--hp", "learning_rate"], "--hp expects KEY=VALUE, got 'learning_rate'"),
    (["train", "--hp", "batch_size=[1,"], "Malformed value in --hp 'batch_size=[1,'"),
    (["train", "--hp", "gamma=2"], "gamma must be in [0.0, 1.0], got 2"),
    (["train", "--env-kwargs", "actions=all", "--env", "MarioDQN-v0"], "valid choices are: 'right_only', 'simple'"),
    (
        ["train", "--env-kwargs", "bogus=1", "--env", "MarioDQN-v0"],
        "Unknown env kwarg 'bogus' for MarioDQN-v0; valid "
        "kwargs: world, stage, actions, frame_skip, size, stack, noop_max, repeat_action_probability, "
        "random_action_probability, stall_steps",
    ),
    (
        ["train", "--env-kwargs", "max_steps=5"],
        "Unknown env kwarg 'max_steps' for CartPole-v1 (did you mean 'max_episode_steps'?)",
    ),
    (["train", "--env-kwargs", "max_episode_steps=yes"], "max_episode_steps for CartPole-v1 must be a whole number"),
    (["train", "--env-kwargs", "render_mode=bogus"], "valid render modes: human, rgb_array"),
    (["train", "--steps", "lots"], "expected a whole number such as 50000 or 5e4, got 'lots'"),
    (
        ["train", "--hp", "stats_window_size=1e21"],
        "stats_window_size must be <= 16,777,216, got 1,000,000,000,000,000,000,000",
    ),
    (["train", "--hp", "n_steps=1e9"], "n_steps must be <= 10,000, got 1,000,000,000."),
    (["train", "--hp", "batch_size=1e12"], "batch_size must be <= 16,777,216"),
    (
        ["train", "--hp", "buffer_size=1e11", "--env", "MarioDQN-v0", "--steps", "1e11"],
        "buffer_size must be <= 4,294,967,296",
    ),
    (
        ["train", "--hp", "buffer_size=4e9", "frame_stack_replay=false", "--env", "MarioDQN-v0", "--steps", "4e9"],
        "This run stores 4,000,000,000 of them, which cannot fit either.",
    ),
    (["train", "--device", "gpu"], "Unknown device 'gpu'; valid devices: auto, cpu, cuda"),
    (["train", "--out", "fake_run"], "fake_run already exists; continue it with --resume fake_run"),
    (["train", "--resume", "runs/missing"], "No run folder 'runs/missing'. There are no runs in runs"),
    (["train", "--resume", "fake_run"], "already finished its 100 steps; pass --steps N"),
    (["train", "--resume", "fake_run", "--seed", "1"], "drop --seed"),
    (["train", "--resume", "fake_run", "--frontier-from", "kept.json"], "drop --frontier-from"),
    (
        ["train", "--preset", "mario-world-1", "--env", "MarioDQN-1-3-v0", "--frontier-from", "kept.json"],
        "--frontier-from kept.json: no such file (a frontier archive, such as a run's frontier.json).",
    ),
    (["train", "--frontier-from", "fake_run/run.json"], "which CartPole-v1 with these settings does not use"),
    (["evaluate", "runs/missing"], "No run folder or checkpoint at 'runs/missing'"),
    (["evaluate", "fake_run", "--epsilon", "2"], "expected a probability in [0, 1], got '2'"),
    (
        ["train", "--seed", "99999999999"],
        "argument --seed: expected a whole number from 0 to 4294967295, got '99999999999'",
    ),
    (
        ["evaluate", "fake_run", "--seed", "-1"],
        "argument --seed: expected a whole number from 0 to 4294967295, got '-1'",
    ),
    (["evaluate", "fake_run", "--episodes", "1.5"], "expected a whole number >= 1, got '1.5'"),
    (["evaluate", "fake_run", "--episodes", "0"], "expected a whole number >= 1, got '0'"),
    (["record", "missing"], "No run folder or checkpoint at 'missing'. Runs in the current folder: fake_run."),
    (["record", "fake_run", "--out", "replay.avi"], "the video format is chosen by the extension, one of .mp4, .gif"),
    (["enjoy", "owner/name"], "For a Hub repo write hub:owner/name."),
    (["plot", "runs/missing"], "No run folder 'runs/missing'"),
    (["plot", "fake_run", "--out", "curves.jpg"], "--out must be a .png file"),
    (["push", "fake_run", "not a repo"], "REPO_ID 'not a repo' is not a Hub repo id: Repo id must use alphanumeric"),
    (["pull", "hub:"], "is not a Hub repo"),
]


@pytest.mark.parametrize(("argv", "message"), BAD_INPUTS, ids=[" ".join(argv) for argv, _ in BAD_INPUTS])
def test_bad_input_is_one_line_exit_2_and_writes_nothing(cli, workdir, argv, message):
    before = _snapshot(workdir)
    result = cli(*argv)
    assert result.code == 2
    assert message in result.err
    assert len(result.err.strip().splitlines()) == 1, result.err
    assert result.out == ""
    assert _snapshot(workdir) == before


def test_evaluate_refuses_an_agent_whose_env_kwargs_its_env_does_not_take(cli, trained_run, tmp_path):
    agent = shutil.copytree(trained_run.path / "model", tmp_path / "agent")
    config = json.loads((agent / "config.json").read_text())
    config["env_kwargs"]["bogus"] = 1  # as a checkpoint written for another version of the env would hold
    (agent / "config.json").write_text(json.dumps(config))
    result = cli("evaluate", agent, "--episodes", 1, "--no-progress")
    assert result.code == 2, result
    assert "Unknown env kwarg 'bogus' for CartPole-v1; valid kwargs: sutton_barto_reward" in result.err
    assert len(result.err.strip().splitlines()) == 1, result.err


def test_an_agent_whose_config_names_another_env_is_one_line(cli, trained_run, tmp_path):
    agent = shutil.copytree(trained_run.path / "model", tmp_path / "agent")
    config = json.loads((agent / "config.json").read_text())
    config["env_id"] = "MountainCar-v0"  # a hand edit: the weights read CartPole's 4 numbers
    (agent / "config.json").write_text(json.dumps(config))
    result = cli("evaluate", agent, "--episodes", 1, "--no-progress")
    assert result.code == 1 and "Traceback" not in result.err, result
    assert "reads observations of shape (4,), but MountainCar-v0 gives (2,)" in result.err
    assert len(result.err.strip().splitlines()) == 1, result.err


def test_policy_kwargs_that_contradict_the_weights_are_refused(trained_run, tmp_path):
    from mario_zoo import CheckpointError
    from mario_zoo.agents import DQN

    agent = shutil.copytree(trained_run.path / "model", tmp_path / "agent")
    config = json.loads((agent / "config.json").read_text())
    config["policy_kwargs"]["net_arch"] = [3, 3]
    (agent / "config.json").write_text(json.dumps(config))
    with pytest.raises(CheckpointError, match=r"policy_kwargs net_arch=\[3, 3\] contradicts the network's hidden"):
        DQN.load(agent)


def test_hp_net_arch_points_to_policy_kwargs(cli, workdir):
    result = cli("train", "--hp", "net_arch=[64, 64]", "--steps", 100)
    assert result.code == 2 and """(a network option: --hp "policy_kwargs={net_arch: ...}")""" in result.err


def test_pull_with_two_revisions_is_refused(cli, workdir):
    result = cli("pull", "someone/some-repo@abc", "--revision", "def")
    assert result.code == 2
    assert "names revision 'abc' and --revision names 'def'; give one of them." in result.err
