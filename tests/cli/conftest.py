"""Fixtures for the command-line tests: a small trained run (the ``cli`` runner and ``hub`` live in tests/conftest.py).

Training budgets are tiny (hundreds of CartPole steps): these tests check what each verb produces, not how well
the agent plays.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.conftest import CliResult, run_cli

TRAIN_STEPS = 600


@dataclass(frozen=True)
class TrainedRun:
    """A finished CartPole run, and what `train` printed."""

    path: Path
    result: CliResult
    steps: int


@pytest.fixture(scope="session")
def trained_run(tmp_path_factory: pytest.TempPathFactory) -> TrainedRun:
    """`mario-zoo train` for 600 CartPole steps (checkpoints every 200), with its progress bar captured."""
    path = tmp_path_factory.mktemp("runs") / "cartpole"
    result = run_cli(
        "train", "--steps", TRAIN_STEPS, "--hp", "learning_starts=100", "--save-freq", 200,
        "--eval-episodes", 2, "--out", path,
    )  # fmt: skip
    assert result.code == 0, result.err
    return TrainedRun(path, result, TRAIN_STEPS)
