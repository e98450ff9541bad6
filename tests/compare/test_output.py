"""What a comparison writes: the markdown table, the learning-curve PNG, the raw JSON and the run folders."""

from __future__ import annotations

import json
import re

import imageio.v3 as iio

from mario_zoo.compare import ALGORITHMS, LABELS, CompareResult
from mario_zoo.plotting import FIGURE_PIXELS
from mario_zoo.results import STATISTICS

from .conftest import SEEDS, STEPS


def test_table_has_a_row_per_algorithm(small_comparison: CompareResult) -> None:
    table = small_comparison.table.read_text()
    rows = [line for line in table.splitlines() if line.startswith(("| mario_zoo DQN |", "| SB3 DQN |"))]
    assert [row.split(" | ")[0] for row in rows] == ["| mario_zoo DQN", "| SB3 DQN"]
    header = next(line for line in table.splitlines() if line.startswith("| algorithm |"))
    for column in (
        "final eval return (mean +/- std over 2 seeds)",
        "steady return (mean of the last 5 evals; 95% CI)",
        "evals >= 475 (share; 95% CI)",
        "seeds solved (>= 475)",
        "median env steps to 475",
    ):
        assert column in header
    assert "env steps/s (median)" in header and "peak RSS per worker (median, max)" in header
    for row in rows:
        cells = row.strip("| ").split(" | ")
        assert len(cells) == len(header.strip("| ").split(" | "))
        assert " +/- " in cells[1] and cells[4].endswith("/2") and cells[-1].endswith("MiB")
        assert re.fullmatch(r"-?\d+\.\d \[-?\d+\.\d, -?\d+\.\d\]", cells[2]), cells[2]
        assert re.fullmatch(r"\d+% \[\d+%, \d+%\]", cells[3]), cells[3]
    assert "Speed ratio (median env steps/s, ours / SB3):" in table
    tests = [line for line in table.splitlines() if line.startswith(("- steady return:", "- share of evaluations"))]
    assert len(tests) == 2 and all("exact permutation test over 6 splits, p = " in line for line in tests)
    assert all(
        line.endswith(("no significant difference (p >= 0.05).", "significant difference (p < 0.05)."))
        for line in tests
    )
    assert "| train_freq | 256 | `train_freq` | `train_freq` |" in table


def test_plot_draws_both_algorithms(small_comparison: CompareResult) -> None:
    assert small_comparison.plot is not None
    image = iio.imread(small_comparison.plot)
    width, height = FIGURE_PIXELS
    assert image.shape[:2] == (height, width)
    # Two curves with their bands: the figure is far from blank.
    assert (image[..., :3] < 250).any(axis=-1).mean() > 0.02


def test_json_holds_every_run(small_comparison: CompareResult) -> None:
    raw = json.loads(small_comparison.raw.read_text())
    assert raw["env_id"] == "CartPole-v1" and raw["steps"] == STEPS and raw["seeds"] == list(SEEDS)
    assert [(run["algorithm"], run["seed"]) for run in raw["runs"]] == [
        (algorithm, seed) for algorithm in ALGORITHMS for seed in SEEDS
    ]
    for run in raw["runs"]:
        assert run["num_timesteps"] >= STEPS and run["steps_per_second"] > 0 and run["peak_rss_bytes"] > 2**20
        # Periodic evaluations at 1,000 and 2,000 steps, then the final one.
        assert [point["n_eval_episodes"] for point in run["curve"]] == [2, 2, 5]
        assert run["final_evaluation"]["n_eval_episodes"] == 5
        # The final numbers are the final evaluation's statistics, named as results.json names them.
        final = {name: run["final_evaluation"].get(name) for name in STATISTICS}
        assert run["final"] == run["curve"][-1] == {**final, "timesteps": run["num_timesteps"]}
    assert set(raw["summary"]) == set(ALGORITHMS)
    assert raw["steady_last"] == 5 and [test["statistic"] for test in raw["differences"]] == [
        "steady return",
        "share of evaluations at the threshold",
    ]
    for summary in raw["summary"].values():
        low, high = summary["steady_interval"]
        assert low <= summary["steady_mean"] <= high and len(summary["steady_returns"]) == len(SEEDS)
    assert raw["settings"]["sb3_kwargs"]["policy_kwargs"] == {"net_arch": [256, 256]}


def test_run_folders_are_plottable_runs(small_comparison: CompareResult) -> None:
    runs = small_comparison.plan.out / "runs"
    assert sorted(path.name for path in runs.iterdir()) == ["mario_zoo_s0", "mario_zoo_s1", "sb3_s0", "sb3_s1"]
    config = json.loads((runs / "sb3_s1" / "run.json").read_text())
    assert (config["preset"], config["seed"], config["status"]) == (LABELS["sb3"], 1, "finished")
    assert (runs / "sb3_s1" / "monitor.csv").read_text().count("\n") > 3
