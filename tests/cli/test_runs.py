"""Run folders: reading logs a killed process left behind, cutting them back to a checkpoint, and run.json of
every format version."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np

from mario_zoo.agents import DQN, DQNConfig
from mario_zoo.runs import RUN_FORMAT_VERSION, RunFolder, open_run
from mario_zoo.training import plan_run

MONITOR = '#{"t_start": 0.0, "env_id": "CartPole-v1"}\nr,l,t\n10.0,10,0.1\n20.0,20,0.2\n30.0,30,0.3\n4'
PROGRESS = "rollout/ep_rew_mean,time/total_timesteps,train/loss\n10.0,10,\n15.0,30,0.5\n20.0,60,0.4\n25.0,9"


def test_episodes_skip_a_half_written_last_line(tmp_path):
    run = RunFolder(tmp_path)
    run.monitor.write_text(MONITOR)
    episodes = run.episodes()
    np.testing.assert_array_equal(episodes.returns, [10.0, 20.0, 30.0])
    np.testing.assert_array_equal(episodes.steps, [10, 30, 60])


def test_truncate_logs_keeps_what_the_checkpoint_knows(tmp_path):
    run = RunFolder(tmp_path)
    run.monitor.write_text(MONITOR)
    run.progress.write_text(PROGRESS)
    assert run.truncate_logs(45) == 2
    assert run.monitor.read_text().splitlines() == MONITOR.splitlines()[:4]
    assert run.progress.read_text().splitlines() == PROGRESS.splitlines()[:3]
    assert sorted(tmp_path.iterdir()) == sorted([run.monitor, run.progress])  # no temporary file left


# A run.json as mario-zoo wrote it before format 2 (`mario-zoo train --steps 300 --hp learning_starts=50
# --eval-episodes 0`): its hyperparameters are only those that differ from DQNConfig's defaults.
RUN_JSON_V1 = """{
  "command": ["mario-zoo", "train", "--steps", "300", "--hp", "learning_starts=50", "--eval-episodes", "0"],
  "created": "2025-06-01T12:00:00+00:00",
  "device": "cpu",
  "env_id": "CartPole-v1",
  "env_kwargs": {},
  "eval_episodes": 0,
  "eval_freq": null,
  "eval_protocol": null,
  "format_version": 1,
  "hyperparameters": {
    "batch_size": 128,
    "buffer_size": 100000,
    "double_q": true,
    "exploration_final_eps": 0.04,
    "exploration_fraction": 0.16,
    "gamma": 0.99,
    "gradient_steps": 64,
    "learning_rate": 0.0023,
    "learning_starts": 50,
    "n_steps": 5,
    "target_update_interval": 10,
    "train_freq": 128
  },
  "init_from": null,
  "overrides": {"learning_starts": 50},
  "policy": "MlpPolicy",
  "policy_kwargs": {"net_arch": [64, 64]},
  "preset": "cartpole-fast",
  "save_freq": 10000,
  "save_replay": false,
  "seed": 0,
  "status": "running",
  "total_timesteps": 300
}
"""
V1_SETTINGS = DQNConfig(
    batch_size=128,
    buffer_size=100_000,
    double_q=True,
    exploration_final_eps=0.04,
    exploration_fraction=0.16,
    gamma=0.99,
    gradient_steps=64,
    learning_rate=0.0023,
    learning_starts=50,
    n_steps=5,
    target_update_interval=10,
    train_freq=128,
)


def test_a_format_1_run_json_reads_as_the_full_settings_and_is_rewritten_in_the_current_format(tmp_path):
    run = RunFolder(tmp_path / "old")
    run.path.mkdir()
    run.config_file.write_text(RUN_JSON_V1)
    config = run.read_config()
    assert (
        config.hyperparameters
        == V1_SETTINGS
        == plan_run(
            preset="cartpole-fast", overrides={"learning_starts": 50}, steps=300, device="cpu", eval_episodes=0
        ).hyperparameters
    )
    assert config.format_version == RUN_FORMAT_VERSION == 2
    run.write_config(config)
    written = json.loads(run.config_file.read_text())
    assert written["format_version"] == 2 and written["hyperparameters"] == V1_SETTINGS.to_dict()
    assert RunFolder(run.path).read_config() == config


def test_a_format_1_run_killed_before_its_first_checkpoint_resumes_with_its_settings(cli, tmp_path):
    path = tmp_path / "old"
    path.mkdir()
    (path / "run.json").write_text(RUN_JSON_V1)
    result = cli("train", "--resume", path, "--no-progress")
    assert result.code == 0, result.err
    config = open_run(path).read_config()
    assert (config.status, config.format_version, config.hyperparameters) == ("finished", 2, V1_SETTINGS)
    assert DQN.load(path / "model").config == V1_SETTINGS


def test_a_format_1_run_resumes_from_its_checkpoint(cli, trained_run, tmp_path):
    path = Path(shutil.copytree(trained_run.path, tmp_path / "run"))
    settings = json.loads((path / "run.json").read_text())
    defaults = DQNConfig().to_dict()
    changed = {key: value for key, value in settings["hyperparameters"].items() if value != defaults[key]}
    (path / "run.json").write_text(json.dumps({**settings, "format_version": 1, "hyperparameters": changed}))
    result = cli("train", "--resume", path, "--steps", trained_run.steps + 200, "--no-progress")
    assert result.code == 0, result.err
    config = open_run(path).read_config()
    assert config.hyperparameters == DQNConfig.from_dict(settings["hyperparameters"])
    assert (config.status, config.format_version, config.total_timesteps) == ("finished", 2, trained_run.steps + 200)


def test_reading_a_run_json_imports_neither_torch_nor_the_agent(tmp_path):
    (tmp_path / "run.json").write_text(RUN_JSON_V1)
    code = (
        "import sys\nfrom mario_zoo.runs import open_run\n"
        f"print(open_run({str(tmp_path)!r}).read_config().hyperparameters.gamma)\n"
        "print(sorted({'torch', 'stable_baselines3', 'mario_zoo.agents.dqn'} & set(sys.modules)))"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120, check=True)
    assert result.stdout.split() == ["0.99", "[]"]


def test_the_policies_a_run_json_may_name_are_the_ones_dqn_takes():
    from mario_zoo.agents.sb3_options import POLICY_ALIASES
    from mario_zoo.runs import RUN_POLICIES

    assert set(RUN_POLICIES) == set(POLICY_ALIASES)
