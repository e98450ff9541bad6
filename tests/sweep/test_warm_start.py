"""A sweep whose trials start from a trained agent (`--init-from`) and search a gym.make keyword argument
(`env_kwargs.<key>` in the space file): the trials' envs get the value, best.yml keeps it, the study records the
agent, and a mismatched agent is one line before anything is written."""

from __future__ import annotations

import csv
import dataclasses

import yaml

from mario_zoo.agents.presets import load_preset, write_preset_file
from tests.conftest import run_cli
from tests.sweep.conftest import TINY, load, run_sweep


def _space(path, steps_cap: int):
    path.write_text(yaml.safe_dump({"cartpole": {"envs": ["CartPole-v1"], "parameters": {
        "env_kwargs.max_episode_steps": {"distribution": "categorical", "choices": [steps_cap]}}}}))  # fmt: skip
    return path


def test_trials_get_the_searched_env_kwargs_and_start_from_the_agent(tmp_path):
    teacher = tmp_path / "teacher"
    trained = run_cli("train", "--steps", 300, "--hp", "learning_starts=100", "--eval-episodes", 0, "--out", teacher,
                      "--no-progress")  # fmt: skip
    assert trained.code == 0, trained.err
    out = tmp_path / "sweep"
    space = _space(tmp_path / "space.yml", 12)
    result = run_sweep(*TINY, "--trials", 1, "--pruner", "none", "--space", space, "--init-from", teacher, "--out", out)
    assert result.returncode == 0, result.stderr
    study = load(f"sqlite:///{out / 'study.db'}")
    (trial,) = study.trials
    # CartPole episodes capped at 12 steps: every evaluation's mean return is at most 12.
    assert trial.params == {"env_kwargs.max_episode_steps": 12}
    assert all(value <= 12 for value in trial.intermediate_values.values()) and trial.value <= 12
    assert study.user_attrs["settings"]["init_from"] == str(teacher)
    best = load_preset(str(out / "best.yml"))
    assert best.env_kwargs == {"max_episode_steps": 12}
    assert "| env_kwargs.max_episode_steps | 12 | (env default) |" in result.stdout


def test_a_mismatched_init_agent_is_one_line_exit_2_and_writes_nothing(tmp_path):
    teacher = tmp_path / "teacher"
    trained = run_cli("train", "--steps", 200, "--hp", "learning_starts=100", "policy_kwargs={net_arch: [8]}",
                      "--eval-episodes", 0, "--out", teacher, "--no-progress")  # fmt: skip
    assert trained.code == 0, trained.err
    out = tmp_path / "sweep"
    result = run_sweep(*TINY, "--trials", 1, "--init-from", teacher, "--out", out)
    assert result.returncode == 2 and "Traceback" not in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1 and "--init-from" in result.stderr
    assert not out.exists()


def test_the_grid_sampler_runs_every_combination_once(tmp_path):
    space = tmp_path / "grid.yml"
    space.write_text(yaml.safe_dump({"cartpole": {"envs": ["CartPole-v1"], "parameters": {
        "gamma": {"distribution": "categorical", "choices": [0.9, 0.99]},
        "env_kwargs.max_episode_steps": {"distribution": "categorical", "choices": [10, 20]}}}}))  # fmt: skip
    out = tmp_path / "sweep"
    result = run_sweep(*TINY, "--trials", 4, "--sampler", "grid", "--pruner", "none", "--space", space, "--workers",
                       2, "--out", out)  # fmt: skip
    assert result.returncode == 0, result.stderr
    combos = sorted(tuple(sorted(trial.params.items())) for trial in load(f"sqlite:///{out / 'study.db'}").trials)
    assert combos == sorted(
        (("env_kwargs.max_episode_steps", steps), ("gamma", gamma)) for gamma in (0.9, 0.99) for steps in (10, 20)
    )


def test_the_grid_sampler_refuses_continuous_parameters_and_too_many_trials(tmp_path):
    space = tmp_path / "grid.yml"
    space.write_text(yaml.safe_dump({"cartpole": {"envs": ["CartPole-v1"], "parameters": {
        "gamma": {"distribution": "categorical", "choices": [0.9, 0.99]}}}}))  # fmt: skip
    too_many = run_sweep(*TINY, "--trials", 3, "--sampler", "grid", "--space", space, "--out", tmp_path / "a")
    assert too_many.returncode == 2 and "exceeds the grid's 2 combinations" in too_many.stderr
    continuous = run_sweep(*TINY, "--trials", 2, "--sampler", "grid", "--out", tmp_path / "b")
    assert continuous.returncode == 2 and "--sampler grid needs categorical parameters only" in continuous.stderr
    assert not (tmp_path / "a").exists() and not (tmp_path / "b").exists()


def test_trials_of_a_preset_with_actor_processes_run(tmp_path):
    """Workers may start children: a trial of a preset with `actors: 1` (as the Mario presets have) trains."""
    preset = tmp_path / "actors.yml"
    with_actor = load_preset("cartpole-fast").with_hyperparameters({"actors": 1})
    write_preset_file(dataclasses.replace(with_actor, name="cartpole-actors"), preset)
    space = _space(tmp_path / "space.yml", 30)
    out = tmp_path / "sweep"
    result = run_sweep(*TINY[2:], "--preset", preset, "--trials", 1, "--pruner", "none", "--space", space, "--out", out)
    assert result.returncode == 0, result.stderr
    (trial,) = load(f"sqlite:///{out / 'study.db'}", "cartpole-actors-sweep").trials
    assert trial.state.name == "COMPLETE" and sorted(trial.intermediate_values) == [200, 400]


def test_nature_episodes_judge_each_finished_trial_beside_its_score(tmp_path):
    out = tmp_path / "sweep"
    space = _space(tmp_path / "space.yml", 15)
    result = run_sweep(*TINY, "--trials", 1, "--pruner", "none", "--space", space, "--nature-episodes", 3, "--out", out)
    assert result.returncode == 0, result.stderr
    (trial,) = load(f"sqlite:///{out / 'study.db'}").trials
    nature = trial.user_attrs["nature"]
    # Three epsilon-0.05 episodes of CartPole capped at 15 steps; CartPole reports no flags.
    assert nature["n_eval_episodes"] == 3 and 0 < nature["mean_reward"] <= 15 and nature["flag_rate"] is None
    rows = list(csv.DictReader((out / "trials.csv").open()))
    assert (rows[0]["nature_episodes"], float(rows[0]["nature_mean_reward"])) == ("3", nature["mean_reward"])
    assert f"return {nature['mean_reward']:.1f} |" in result.stdout
    assert "3 Nature-protocol episodes" in result.stdout
    assert load(f"sqlite:///{out / 'study.db'}").user_attrs["settings"]["nature_episodes"] == 3


def test_continuing_a_study_without_its_nature_episodes_names_them(tmp_path):
    out = tmp_path / "sweep"
    space = _space(tmp_path / "space.yml", 15)
    first = run_sweep(*TINY, "--trials", 1, "--pruner", "none", "--space", space, "--nature-episodes", 2, "--out", out)
    assert first.returncode == 0, first.stderr
    again = run_sweep(*TINY, "--trials", 2, "--pruner", "none", "--space", space, "--out", out)
    assert again.returncode == 2 and "was started with other settings: nature_episodes 2 (now None)" in again.stderr
