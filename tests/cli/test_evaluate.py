"""`mario-zoo evaluate`: mean +/- std, epsilon, --json, and Mario's x_pos and flag rate."""

from __future__ import annotations

import json

import gymnasium as gym
import pytest

from mario_zoo.agents import DQN


def test_evaluate_prints_mean_and_std(cli, trained_run):
    result = cli("evaluate", trained_run.path, "--episodes", 3)
    assert result.code == 0, result.err
    assert "CartPole-v1: mean return" in result.out and "+/-" in result.out and "over 3 episodes" in result.out


def test_evaluate_json_is_machine_readable(cli, trained_run):
    result = cli("evaluate", trained_run.path, "--episodes", 3, "--json")
    assert result.code == 0, result.err
    data = json.loads(result.out)
    assert data["agent"] == str(trained_run.path)
    assert (data["env_id"], data["n_eval_episodes"], data["deterministic"], data["epsilon"]) == (
        "CartPole-v1",
        3,
        True,
        None,
    )
    assert len(data["episode_rewards"]) == 3 and data["mean_reward"] == pytest.approx(sum(data["episode_rewards"]) / 3)
    assert "x_pos" not in data  # CartPole has no x_pos


def test_evaluate_with_epsilon_and_a_checkpoint_zip(cli, trained_run):
    result = cli("evaluate", trained_run.path / "checkpoint.zip", "--episodes", 2, "--epsilon", 1.0, "--json")
    assert result.code == 0, result.err
    data = json.loads(result.out)
    assert (data["deterministic"], data["epsilon"]) == (False, 1.0)


@pytest.fixture(scope="module")
def mario_agent(tmp_path_factory):
    """An untrained CNN agent; stall_steps ends its episodes quickly once Mario stops making progress."""
    path = tmp_path_factory.mktemp("mario") / "mario"
    env = gym.make("MarioDQN-v0", stall_steps=20)
    DQN("CnnPolicy", env, buffer_size=100, seed=0, device="cpu").save(path)
    env.close()
    return path


def test_evaluate_mario_reports_x_pos_and_flag_rate(cli, mario_agent):
    result = cli("evaluate", mario_agent, "--protocol", "episodes", "--episodes", 2, "--noop-max", 5, "--json")
    assert result.code == 0, result.err
    data = json.loads(result.out)
    assert data["protocol"] == "episodes"
    assert data["env_kwargs"]["noop_max"] == 5 and data["env_kwargs"]["stall_steps"] == 20
    assert len(data["x_pos"]) == 2 and data["x_pos_max"] == max(data["x_pos"]) >= 40
    assert data["flag_rate"] == 0.0 and data["flags"] == [False, False]

    text = cli("evaluate", mario_agent, "--protocol", "episodes", "--episodes", 1).out
    assert "x_pos: mean" in text and "flag reached in 0 of 1 episodes (0%" in text


def test_evaluate_mario_defaults_to_the_noop_sweep(cli, mario_agent):
    result = cli("evaluate", mario_agent, "--noop-max", 2, "--json", "--no-progress")
    assert result.code == 0, result.err
    data = json.loads(result.out)
    assert (data["protocol"], data["noops"], data["n_eval_episodes"], data["epsilon"]) == (
        "noop-sweep",
        [0, 1, 2],
        3,
        None,
    )
    assert len(data["flags"]) == 3 and len(data["flag_interval"]) == 2
    text = cli("evaluate", mario_agent, "--noop-max", 1, "--no-progress").out
    assert "noop-sweep protocol: greedy actions, no-op counts 0-1" in text


def test_evaluate_mario_under_the_nature_protocol(cli, mario_agent):
    result = cli("evaluate", mario_agent, "--protocol", "nature", "--episodes", 2, "--json", "--no-progress")
    assert result.code == 0, result.err
    data = json.loads(result.out)
    assert (data["protocol"], data["epsilon"], data["n_eval_episodes"], data["deterministic"]) == (
        "nature",
        0.05,
        2,
        False,
    )
    assert data["env_kwargs"]["noop_max"] == 30


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (
            ["--protocol", "exact"],
            "Unknown evaluation protocol 'exact'; valid choices are: 'noop-sweep', 'nature', 'episodes'.",
        ),
        (["--episodes", "5"], "The noop-sweep protocol plays one episode per no-op count 0-30 (31 episodes)"),
        (
            ["--epsilon", "0.05"],
            "The noop-sweep protocol is greedy; for epsilon-greedy episodes use --protocol nature.",
        ),
    ],
)
def test_a_bad_protocol_is_one_line_before_any_episode(cli, mario_agent, args, message):
    result = cli("evaluate", mario_agent, *args)
    assert result.code == 2 and message in result.err and result.err.count("\n") == 1
    assert "evaluating" not in result.err


def test_noop_max_is_refused_for_non_mario_envs(cli, trained_run):
    result = cli("evaluate", trained_run.path, "--noop-max", 30)
    assert result.code == 2 and "noop_max (--noop-max) applies to MarioDQN envs only" in result.err


@pytest.mark.parametrize(("args", "threads"), [([], 1), (["--threads", "2"], 2)])
def test_playing_verbs_default_to_one_torch_thread(cli, trained_run, args, threads):
    import torch

    torch.set_num_threads(3)
    try:
        result = cli("evaluate", trained_run.path, "--episodes", 1, *args)
        assert result.code == 0, result.err
        assert torch.get_num_threads() == threads
    finally:
        torch.set_num_threads(1)


def test_evaluate_shows_episodes_and_the_mean_return_on_a_progress_bar(cli, trained_run):
    result = cli("evaluate", trained_run.path, "--episodes", 3, "--json")
    assert result.code == 0, result.err
    assert "evaluating: 100%" in result.err and "3/3" in result.err and "mean return" in result.err
    json.loads(result.out)  # the bar goes to stderr: stdout stays machine-readable
    quiet = cli("evaluate", trained_run.path, "--episodes", 1, "--no-progress")
    assert quiet.code == 0 and "evaluating" not in quiet.err


def test_evaluate_finds_a_checkpoint_zip_without_its_suffix_as_dqn_load_does(cli, trained_run, monkeypatch):
    monkeypatch.chdir(trained_run.path)
    result = cli("evaluate", "checkpoint", "--episodes", 1, "--json")
    assert result.code == 0, result.err
    assert json.loads(result.out)["agent"] == "checkpoint.zip"


@pytest.mark.parametrize(
    ("env_id", "message"),
    [
        ("MyGame-v0", "was trained on 'MyGame-v0', which is not registered with Gymnasium here"),
        ("this:MyGame-v0", "which names a module to import"),
    ],
    ids=["unregistered", "module-import"],
)
def test_an_agent_of_an_env_that_is_not_registered_here_is_one_line(cli, tmp_path, env_id, message):
    DQN("MlpPolicy", "CartPole-v1", buffer_size=100, device="cpu").save(tmp_path / "agent")
    config_file = tmp_path / "agent" / "config.json"
    config = json.loads(config_file.read_text())
    config["env_id"] = env_id
    config_file.write_text(json.dumps(config))
    for verb in ("evaluate", "record"):
        result = cli(verb, tmp_path / "agent", *(["--out", tmp_path / "x.gif"] if verb == "record" else []))
        assert result.code == 1 and message in result.err and "Traceback" not in result.err, result.err
    assert not (tmp_path / "x.gif").exists()
