"""``mario-zoo compare`` end to end on a tiny budget, and its bad-input exits."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from mario_zoo.cli import main


def test_compare_verb_writes_table_plot_and_json(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "cmp"
    code = main([
        "compare", "--env", "CartPole-v1", "--steps", "1e3", "--seeds", "3", "--workers", "2", "--out", str(out),
        "--hp", "learning_starts=200", "train_freq=100", "gradient_steps=10", "--eval-freq", "500",
        "--eval-episodes", "1", "--final-episodes", "2", "--no-progress",
    ])  # fmt: skip
    printed = capsys.readouterr().out
    assert code == 0
    assert printed.startswith("Comparing mario_zoo DQN and SB3 DQN on CartPole-v1 (preset cartpole-rlzoo): 2 runs")
    assert "| mario_zoo DQN |" in printed and "| SB3 DQN |" in printed
    assert "| learning_starts | 200 | `learning_starts` | `learning_starts` |" in printed
    assert sorted(path.name for path in out.iterdir()) == ["compare.json", "compare.md", "learning_curves.png", "runs"]
    raw = json.loads((out / "compare.json").read_text())
    assert raw["seeds"] == [3] and raw["command"][:2] == ["mario-zoo", "compare"]
    assert {run["algorithm"] for run in raw["runs"]} == {"mario_zoo", "sb3"}


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--env", "CartPol-v1"], "error: compare has matched settings for CartPole-v1 and the MarioDQN levels"),
        (["--seeds", "-3"], "error: Seeds must be in [0, 2147483647], got -3."),
        (["--seeds", "0,2147483648"], "error: Seeds must be in [0, 2147483647], got 2147483648."),
        (["--seeds", "1-"], "error: Malformed seeds '1-': use a range such as 0-9"),
        (["--workers", "0"], "error: workers must be an int >= 1, got 0."),
        (["--hp", "double_q=true"], "error: double_q cannot be matched: SB3's DQN has no double-DQN targets."),
    ],
)
def test_bad_input_exits_2_and_writes_nothing(
    args: list[str], message: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "cmp"
    assert main(["compare", "--steps", "100", "--out", str(out), *args]) == 2
    error = capsys.readouterr().err
    assert error.startswith("mario-zoo compare: error: ") and message in error and error.count("\n") == 1
    assert not out.exists()


def test_help_shows_examples(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_:
        main(["compare", "--help"])
    assert exit_.value.code == 0
    assert "mario-zoo compare --env MarioDQN-v0 --steps 2e4" in capsys.readouterr().out
