"""Run folders: reading logs a killed process left behind, and cutting them back to a checkpoint."""

from __future__ import annotations

import numpy as np

from mario_zoo.runs import RunFolder

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
