"""Warm starts and preset env kwargs: `train --init-from AGENT` (rl-zoo's --trained-agent) starts the network from
another agent's weights; a preset's `env_kwargs` reach the training env, and `--env-kwargs` add to them."""

from __future__ import annotations

import json

import pytest
import torch
import yaml

from mario_zoo import planning, training
from mario_zoo.agents import DQN
from mario_zoo.agents.presets import load_preset, write_preset_file
from mario_zoo.runs import RunFolder, open_run


def _weights(model: DQN) -> dict[str, torch.Tensor]:
    return {key: value.clone() for key, value in model.policy.state_dict().items()}


def test_build_model_starts_the_online_and_target_networks_from_the_given_weights():
    config = training.plan_run(preset="cartpole-fast", steps=100, device="cpu", init_from="teacher")
    teacher = training.build_model(training.plan_run(preset="cartpole-fast", seed=7, steps=100, device="cpu"))
    fresh = training.build_model(config)
    warm = training.build_model(config, teacher.policy.state_dict())
    theirs = teacher.policy.state_dict()
    assert any(not torch.equal(fresh.policy.state_dict()[key], theirs[key]) for key in theirs)
    assert all(torch.equal(warm.policy.state_dict()[key], theirs[key]) for key in theirs)
    assert warm.num_timesteps == 0 and config.init_from == "teacher"


def test_a_network_of_another_shape_is_refused_naming_the_weights():
    teacher = training.build_model(training.plan_run(preset="cartpole-fast", steps=100, device="cpu"))
    config = training.plan_run(
        preset="cartpole-fast", steps=100, device="cpu", overrides={"policy_kwargs": {"net_arch": [32]}}
    )
    with pytest.raises(ValueError, match=r"--init-from .*differs from this run's in \d+ weight\(s\): .*net_arch"):
        training.build_model(config, teacher.policy.state_dict())


def test_train_init_from_a_run_warm_starts_and_records_it(trained_run, cli, tmp_path):
    out = tmp_path / "warm"
    result = cli(
        "train", "--init-from", trained_run.path, "--steps", 200, "--hp", "learning_starts=100",
        "--eval-episodes", 0, "--out", out, "--no-progress",
    )  # fmt: skip
    assert result.code == 0, result.err
    assert f"network from {trained_run.path}" in result.out
    config = open_run(out).read_config()
    assert config.init_from == str(trained_run.path)
    assert json.loads((out / "run.json").read_text())["init_from"] == str(trained_run.path)
    # 200 steps with learning_starts=100 change the weights only a little: the start was the teacher's.
    teacher, student = _weights(DQN.load(trained_run.path / "model")), _weights(DQN.load(out / "model"))
    fresh = _weights(training.build_model(training.plan_run(preset="cartpole-fast", steps=1, device="cpu")))
    distance = sum(float((student[key] - teacher[key]).abs().sum()) for key in teacher)
    distance_fresh = sum(float((fresh[key] - teacher[key]).abs().sum()) for key in teacher)
    assert distance < distance_fresh / 4


def test_train_init_from_a_mismatched_agent_is_one_line_and_writes_nothing(trained_run, cli, tmp_path):
    out = tmp_path / "warm"
    result = cli(
        "train", "--init-from", trained_run.path, "--hp", "policy_kwargs={net_arch: [16]}", "--steps", 100,
        "--out", out,
    )  # fmt: skip
    assert result.code == 2 and "Traceback" not in result.err
    assert len(result.err.strip().splitlines()) == 1 and "--init-from" in result.err
    assert not out.exists()


def test_init_from_a_missing_agent_is_one_line(cli, tmp_path):
    result = cli("train", "--init-from", tmp_path / "nothing", "--steps", 100, "--out", tmp_path / "run")
    assert result.code != 0 and "Traceback" not in result.err and len(result.err.strip().splitlines()) == 1
    assert not (tmp_path / "run").exists()


def test_resume_refuses_init_from(trained_run, cli):
    result = cli("train", "--resume", trained_run.path, "--init-from", trained_run.path)
    assert result.code == 2 and "--init-from" in result.err


def test_the_mario_1_1_preset_carries_its_env_kwargs_into_the_run():
    preset = load_preset("mario-1-1")
    noise = {"frontier_fraction": 0.5, "frontier_mode": "uniform", "noop_max": 30, "repeat_action_probability": 0.25}
    assert preset.env_kwargs == {"actions": "right_only", "stall_steps": 300, **noise}
    config = training.plan_run(preset="mario-1-1", env_kwargs={"stall_steps": 200}, steps=1, device="cpu")
    assert config.env_kwargs == {"actions": "right_only", "stall_steps": 200, **noise}
    assert config.hyperparameters.gamma == 0.9 and config.env_id == "MarioDQN-1-1-v0"
    assert config.hyperparameters.actors == planning.default_actors(preset)


def test_a_preset_file_round_trips_its_env_kwargs(tmp_path):
    path = tmp_path / "mine.yml"
    write_preset_file(load_preset("mario-1-1"), path)
    assert load_preset(str(path)).env_kwargs == load_preset("mario-1-1").env_kwargs
    raw = yaml.safe_load(path.read_text())
    raw["mario-1-1"]["env_kwargs"] = ["actions=right_only"]
    path.write_text(yaml.safe_dump(raw))
    with pytest.raises(ValueError, match=r"env_kwargs must be a mapping, got \['actions=right_only'\]"):
        load_preset(str(path))


def test_a_preset_with_env_kwargs_builds_its_env_with_them(tmp_path):
    path = tmp_path / "short.yml"
    short = load_preset("cartpole-fast")
    write_preset_file(type(short)(**{**short.__dict__, "name": "short", "env_kwargs": {"max_episode_steps": 7}}), path)
    model = load_preset(str(path)).make_model(seed=0, device="cpu")
    env = model.get_env()
    env.reset()
    steps = 0
    done = [False]
    while not done[0]:
        _, _, done, _ = env.step([0 if steps % 2 else 1])
        steps += 1
    assert steps <= 7


def test_a_warm_start_plays_its_network_from_the_first_step_instead_of_random_actions():
    config = training.plan_run(
        preset="cartpole-fast",
        steps=100,
        device="cpu",
        init_from="teacher",
        overrides={"learning_starts": 1000, "exploration_initial_eps": 0.0, "exploration_final_eps": 0.0},
    )
    teacher = training.build_model(training.plan_run(preset="cartpole-fast", seed=7, steps=100, device="cpu"))
    warm = training.build_model(config, teacher.policy.state_dict())
    fresh = training.build_model(config)
    assert (warm.random_steps, fresh.random_steps) == (0, 1000)
    observations = torch.randn(64, 4).numpy()
    warm.n_envs = fresh.n_envs = 64
    greedy = teacher.q_net(torch.from_numpy(observations)).argmax(dim=1).numpy()
    # Epsilon 0: the warm start acts greedily with the teacher's network; a fresh model is uniformly random.
    assert (warm._explore(observations) == greedy).all()
    assert not (fresh._explore(observations) == fresh.q_net(torch.from_numpy(observations)).argmax(dim=1).numpy()).all()


def test_a_warm_start_killed_before_its_first_checkpoint_starts_again_from_its_agent(trained_run, tmp_path):
    teacher = DQN.load(trained_run.path / "model")
    config = training.plan_run(preset="cartpole-fast", steps=100, device="cpu", init_from=str(trained_run.path))
    run = RunFolder(tmp_path / "warm")
    run.path.mkdir()
    run.write_config(config)
    plan = training.plan_resume(run.path)
    assert plan.start == 0
    with pytest.raises(ValueError, match="warm start from"):
        training.load_resumed_model(plan)
    model = training.load_resumed_model(plan, teacher.policy.state_dict())
    assert all(torch.equal(model.policy.state_dict()[key], value) for key, value in _weights(teacher).items())
    assert model.random_steps == 0
