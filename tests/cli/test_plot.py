"""`mario-zoo plot`: one or several runs into a PNG; seeds of the same settings share a curve with a band."""

from __future__ import annotations

import json

import imageio.v3 as iio
import numpy as np

from mario_zoo.plotting import FIGURE_PIXELS


def _fake_run(folder, name, *, seed, preset="cartpole-fast", overrides=None, episodes=150):
    """A run folder with a run.json and a Monitor log of rising returns (no training needed)."""
    run = folder / name
    run.mkdir(parents=True)
    config = {
        "env_id": "CartPole-v1", "preset": preset, "policy": "MlpPolicy", "total_timesteps": 10_000, "seed": seed,
        "hyperparameters": dict(overrides or {}), "overrides": dict(overrides or {}), "status": "finished",
        "format_version": 1,
    }  # fmt: skip
    (run / "run.json").write_text(json.dumps(config))
    rng = np.random.default_rng(seed)
    lengths = np.clip(np.linspace(10, 300, episodes) + rng.normal(0, 20, episodes), 8, 500).astype(int)
    rows = "".join(f"{length}.0,{length},{index / 10:.3f}\n" for index, length in enumerate(lengths))
    (run / "monitor.csv").write_text('#{"t_start": 0.0, "env_id": "CartPole-v1"}\nr,l,t\n' + rows)
    return run


def test_plot_groups_seeds_into_a_mean_and_band(cli, tmp_path):
    runs = [_fake_run(tmp_path / "runs", f"fast_s{seed}", seed=seed) for seed in range(3)]
    runs.append(_fake_run(tmp_path / "runs", "lr_s0", seed=0, overrides={"learning_rate": 0.01}))
    out = tmp_path / "curves.png"
    result = cli("plot", *runs, "--out", out)
    assert result.code == 0, result.err
    assert "4 run(s) in 2 curve(s)" in result.out
    assert "cartpole-fast (3 seeds, mean +/- std): final 100-episode mean return" in result.out
    assert "cartpole-fast learning_rate=0.01: final" in result.out
    width, height = FIGURE_PIXELS
    image = iio.imread(out)
    assert image.shape[:2] == (height, width) and image[..., :3].std() > 0


def test_plot_a_folder_of_runs_by_episode(cli, tmp_path):
    for seed in range(2):
        _fake_run(tmp_path / "runs", f"fast_s{seed}", seed=seed)
    out = tmp_path / "by_episode.png"
    result = cli("plot", tmp_path / "runs", "--out", out, "--x", "episodes", "--window", 10, "--title", "CartPole")
    assert result.code == 0, result.err
    assert "2 run(s) in 1 curve(s)" in result.out and "final 10-episode mean" in result.out
    assert iio.imread(out).shape[:2] == FIGURE_PIXELS[::-1]


def test_plot_a_real_run(cli, trained_run, tmp_path):
    result = cli("plot", trained_run.path, "--out", tmp_path / "one.png")
    assert result.code == 0, result.err
    assert iio.imread(tmp_path / "one.png").shape[:2] == FIGURE_PIXELS[::-1]
