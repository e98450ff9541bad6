"""`mario-zoo plot`: one or several runs into a PNG; seeds of the same settings share a curve with a band."""

from __future__ import annotations

import json
import re

import imageio.v3 as iio
import numpy as np

from mario_zoo.plotting import FIGURE_PIXELS, plot_runs
from mario_zoo.runs import RunFolder


def _fake_run(folder, name, *, seed, preset="cartpole-fast", overrides=None, episodes=150, steps=10_000):
    """A run folder with a run.json and a Monitor log of rising returns (no training needed)."""
    run = folder / name
    run.mkdir(parents=True)
    config = {
        "env_id": "CartPole-v1", "preset": preset, "policy": "MlpPolicy", "total_timesteps": steps, "seed": seed,
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
    assert "cartpole-fast (3 seeds, mean +/- std): " in result.out
    assert "(mean over the seeds of the mean return of their last 100 episodes; the curve's last point)" in result.out
    assert "cartpole-fast learning_rate=0.01: " in result.out
    width, height = FIGURE_PIXELS
    image = iio.imread(out)
    assert image.shape[:2] == (height, width) and image[..., :3].std() > 0


def test_plot_a_folder_of_runs_by_episode(cli, tmp_path):
    for seed in range(2):
        _fake_run(tmp_path / "runs", f"fast_s{seed}", seed=seed)
    out = tmp_path / "by_episode.png"
    result = cli("plot", tmp_path / "runs", "--out", out, "--x", "episodes", "--window", 10, "--title", "CartPole")
    assert result.code == 0, result.err
    assert "2 run(s) in 1 curve(s)" in result.out and "their last 10 episodes" in result.out
    assert " at episode " in result.out
    assert iio.imread(out).shape[:2] == FIGURE_PIXELS[::-1]


def test_plot_a_real_run(cli, trained_run, tmp_path):
    result = cli("plot", trained_run.path, "--out", tmp_path / "one.png")
    assert result.code == 0, result.err
    assert iio.imread(tmp_path / "one.png").shape[:2] == FIGURE_PIXELS[::-1]


def _empty_run(folder, name, *, seed):
    """A run that has started but finished no episode: its monitor.csv has the header only."""
    run = _fake_run(folder, name, seed=seed)
    (run / "monitor.csv").write_text('#{"t_start": 0.0, "env_id": "CartPole-v1"}\nr,l,t\n')
    return run


def test_plot_skips_a_run_with_no_finished_episode_and_plots_the_rest(cli, tmp_path):
    _fake_run(tmp_path / "runs", "fast_s0", seed=0)
    empty = _empty_run(tmp_path / "runs", "fast_s1", seed=1)
    result = cli("plot", tmp_path / "runs", "--out", tmp_path / "curves.png")
    assert result.code == 0, result.err
    assert f"Skipped {empty}: no finished episode yet." in result.out
    assert "1 run(s) in 1 curve(s)" in result.out
    assert (tmp_path / "curves.png").is_file()


def test_plot_says_a_damaged_monitor_log_is_damaged(cli, tmp_path):
    _fake_run(tmp_path / "runs", "fast_s0", seed=0)
    damaged = _fake_run(tmp_path / "runs", "fast_s1", seed=1)
    (damaged / "monitor.csv").write_text('#{"t_start": 0.0}\nr,l,t\nnot,a,row\n\x00\x00\x00\n')
    result = cli("plot", tmp_path / "runs", "--out", tmp_path / "curves.png")
    assert result.code == 0, result.err
    assert f"Skipped {damaged}: its monitor.csv has 2 line(s) that are not episode rows" in result.out
    assert "the file is damaged" in result.out


def test_plot_refuses_when_no_run_has_a_finished_episode(cli, tmp_path):
    _empty_run(tmp_path / "runs", "fast_s0", seed=0)
    result = cli("plot", tmp_path / "runs", "--out", tmp_path / "curves.png")
    assert result.code == 2
    assert "No run has a finished episode to plot yet" in result.err
    assert not (tmp_path / "curves.png").exists()


def test_two_runs_of_the_same_seed_are_not_two_seeds(cli, tmp_path):
    _fake_run(tmp_path / "runs", "fast_s0_a", seed=0, episodes=150)
    _fake_run(tmp_path / "runs", "fast_s0_b", seed=0, episodes=60)
    result = cli("plot", tmp_path / "runs", "--out", tmp_path / "curves.png")
    assert result.code == 0, result.err
    assert "seeds" not in result.out
    assert "2 run(s) in 2 curve(s)" in result.out
    assert "cartpole-fast seed 0 (fast_s0_a): " in result.out and "cartpole-fast seed 0 (fast_s0_b): " in result.out


def test_runs_of_other_settings_are_not_merged(tmp_path):
    runs = [
        RunFolder(_fake_run(tmp_path / "runs", "fast_s0", seed=0)),
        RunFolder(_fake_run(tmp_path / "runs", "fast_s1", seed=1)),
    ]
    config = json.loads((runs[1].config_file).read_text())
    runs[1].config_file.write_text(json.dumps({**config, "init_from": "zoo:dqn-CartPole-v1"}))
    plotted = plot_runs(runs, tmp_path / "curves.png")
    assert [len(curve.runs) for curve in plotted.curves] == [1, 1]


def test_runs_of_other_lengths_are_other_experiments(cli, tmp_path):
    # The exploration schedule scales with --steps: 1,500 and 2,500 steps are not two seeds of one setting.
    _fake_run(tmp_path / "runs", "short_s0", seed=0, steps=1_500)
    _fake_run(tmp_path / "runs", "long_s1", seed=1, steps=2_500)
    result = cli("plot", tmp_path / "runs", "--out", tmp_path / "curves.png")
    assert result.code == 0, result.err
    assert "2 run(s) in 2 curve(s)" in result.out and "seeds" not in result.out
    assert "cartpole-fast 1,500 steps: " in result.out and "cartpole-fast 2,500 steps: " in result.out


def test_the_printed_final_value_is_the_plotted_curves_last_point(cli, tmp_path):
    # Seeds of different lengths: the long one has climbed much further when the short one stops.
    long = _fake_run(tmp_path / "runs", "fast_s0", seed=0, episodes=300)
    short = _fake_run(tmp_path / "runs", "fast_s1", seed=1, episodes=40)
    result = cli("plot", tmp_path / "runs", "--out", tmp_path / "curves.png", "--window", 10)
    assert result.code == 0, result.err
    curves = {
        run: (RunFolder(run).episodes().steps, RunFolder(run).episodes().rolling_mean(10)) for run in (long, short)
    }
    end = curves[short][0][-1]  # the last step both seeds reached, where the plotted mean ends
    plotted_end = np.mean([np.interp(end, *curves[run]) for run in (long, short)])
    each_runs_end = np.mean([curves[run][1][-1] for run in (long, short)])
    assert abs(plotted_end - each_runs_end) > 10  # the two readings of "final" differ here
    line = next(line for line in result.out.splitlines() if "2 seeds" in line)
    assert f": {plotted_end:.1f} at step {end:,.0f} (mean over the seeds" in line, line


def _with_evaluations(run, rows, *, mario):
    """Give a fake run an evaluations.csv: (timesteps, mean return, flag rate, mean x) per row."""
    from mario_zoo.runs import EvaluationPoint, write_evaluations

    points = [
        EvaluationPoint(
            timesteps=steps, n_eval_episodes=31, mean_reward=reward, std_reward=1.0, mean_ep_length=100.0,
            **({"flag_rate": flags, "x_pos_mean": x_pos, "x_pos_max": int(x_pos) + 10} if mario else {}),
        )
        for steps, reward, flags, x_pos in rows
    ]  # fmt: skip
    write_evaluations(run / "evaluations.csv", points)
    return run


def test_plot_evaluations_compares_runs_by_flag_rate_and_furthest_x(cli, tmp_path):
    one = _with_evaluations(
        _fake_run(tmp_path, "a", seed=0),
        [(100, 1.0, 0.0, 700.0), (200, 2.0, 0.0, 1450.0), (300, 3.0, 0.0, 1200.0)],
        mario=True,
    )
    other = _with_evaluations(
        _fake_run(tmp_path, "b", seed=0, overrides={"learning_rate": 0.01}),
        [(100, 1.0, 0.1, 900.0), (200, 2.0, 0.5, 2000.0), (300, 3.0, 0.5, 2500.0)],
        mario=True,
    )
    untrained = _fake_run(tmp_path, "c", seed=0, overrides={"gamma": 0.5})
    out = tmp_path / "evals.png"
    result = cli("plot", one, other, untrained, "--evaluations", "--out", out)
    assert result.code == 0, result.err
    assert f"Skipped {untrained}: no periodic evaluation yet." in result.out
    assert "2 run(s) in 2 curve(s)" in result.out
    # Equal flag rates rank by the mean furthest x_pos, as best_model/ does; equal bests keep the first.
    assert "cartpole-fast: flag rate 0% (mean furthest x_pos 1,200) at step 300, the last evaluation; best 0% " \
        "(mean furthest x_pos 1,450) at step 200" in result.out  # fmt: skip
    assert "best 50% (mean furthest x_pos 2,500) at step 300" in result.out
    image = iio.imread(out)
    assert image.shape[:2] == FIGURE_PIXELS[::-1] and image[..., :3].std() > 0


def test_plot_evaluations_averages_seeds_at_the_steps_they_share(cli, tmp_path):
    seeds = [
        _with_evaluations(_fake_run(tmp_path, f"s{seed}", seed=seed), rows, mario=False)
        for seed, rows in enumerate([[(100, 10.0, None, None), (200, 30.0, None, None), (300, 50.0, None, None)],
                                     [(100, 20.0, None, None), (200, 50.0, None, None)]])
    ]  # fmt: skip
    result = cli("plot", *seeds, "--evaluations", "--out", tmp_path / "evals.png")
    assert result.code == 0, result.err
    assert "cartpole-fast (2 seeds, mean +/- std): mean return (the mean over the seeds) 40.0 at step 200" in result.out


def test_plot_evaluations_refuses_runs_without_any(cli, tmp_path):
    run = _fake_run(tmp_path, "a", seed=0)
    result = cli("plot", run, "--evaluations", "--out", tmp_path / "evals.png")
    assert result.code == 2 and "train with --eval-freq N" in result.err
    assert not (tmp_path / "evals.png").exists()


def test_plot_evaluations_refuses_the_training_curve_options(cli, tmp_path):
    run = _with_evaluations(_fake_run(tmp_path, "a", seed=0), [(100, 1.0, None, None)], mario=False)
    for option in (["--window", 10], ["--x", "episodes"]):
        result = cli("plot", run, "--evaluations", *option, "--out", tmp_path / "evals.png")
        assert result.code == 2 and "--evaluations plots against env steps" in result.err
    assert not (tmp_path / "evals.png").exists()


def test_a_nan_return_leaves_a_gap_in_the_curve_not_a_blank_one(cli, tmp_path):
    """An env that once gave ``nan`` (or ``inf``) as a return: the windows holding it average the other episodes,
    later windows are whole again, and the summary is a number."""
    from mario_zoo.runs import open_run

    run = _fake_run(tmp_path, "a", seed=0)
    lines = (run / "monitor.csv").read_text().splitlines(keepends=True)
    lines[2] = ",".join(["nan", *lines[2].split(",")[1:]])
    lines[5] = ",".join(["inf", *lines[5].split(",")[1:]])
    (run / "monitor.csv").write_text("".join(lines))
    episodes = open_run(run).episodes()
    assert np.isnan(episodes.rolling_mean(10)[0]) and np.isfinite(episodes.rolling_mean(10)[1:]).all()
    assert np.isnan(episodes.rolling_mean(1)[0]) and np.isfinite(episodes.rolling_mean(1)[1:3]).all()
    result = cli("plot", run, "--x", "episodes", "--window", 10, "--out", tmp_path / "curve.png")
    assert result.code == 0, result.err
    assert re.search(r"cartpole-fast: \d+\.\d at episode 150", result.out), result.out
    assert (tmp_path / "curve.png").is_file()


def test_a_damaged_evaluations_csv_is_one_line_naming_its_line(cli, tmp_path):
    run = _with_evaluations(_fake_run(tmp_path, "a", seed=0), [(100, 1.0, 0.0, 700.0), (200, 2.0, 0.0, 1450.0)],
                            mario=True)  # fmt: skip
    before = (run / "evaluations.csv").read_text().splitlines(keepends=True)
    for bad, message in (("nan", "mean_reward 'nan' is not a finite number"), ("x", "could not convert")):
        text = list(before)
        text[2] = text[2].replace(",2.0,", f",{bad},", 1)
        (run / "evaluations.csv").write_text("".join(text))
        result = cli("plot", run, "--evaluations", "--out", tmp_path / "evaluations.png")
        assert result.code == 2 and len(result.err.strip().splitlines()) == 1, result.err
        assert f"evaluations.csv line 3 is damaged ({message}" in result.err
        assert not (tmp_path / "evaluations.png").exists()
