"""Fixtures for the command-line tests: an in-process ``mario-zoo`` runner, a small trained run, the loopback Hub.

Training budgets are tiny (hundreds of CartPole steps): these tests check what each verb produces, not how well
the agent plays.
"""

from __future__ import annotations

import contextlib
import importlib.util
import io
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType

import pytest
import torch

from mario_zoo.cli import main


def _load_hub_conftest() -> ModuleType:
    """tests/hub/conftest.py, whose `hub` fixture (a loopback Hub, huggingface_hub pointed at it) we reuse."""
    name = "mario_zoo_tests_hub_conftest"
    if name not in sys.modules:
        spec = importlib.util.spec_from_file_location(name, Path(__file__).parents[1] / "hub" / "conftest.py")
        assert spec is not None and spec.loader is not None
        module = importlib.util.module_from_spec(spec)
        sys.modules[name] = module
        spec.loader.exec_module(module)
    return sys.modules[name]


hub = _load_hub_conftest().hub


@dataclass(frozen=True)
class CliResult:
    """Exit code and captured output of one ``mario-zoo`` call."""

    code: int
    out: str
    err: str


def run_cli(*args: object) -> CliResult:
    """Call ``mario-zoo`` in this process; argparse's ``SystemExit`` becomes the exit code."""
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        try:
            code = main([str(arg) for arg in args])
        except SystemExit as exit_:
            code = exit_.code
    return CliResult(code, out.getvalue(), err.getvalue())


@pytest.fixture
def cli() -> Callable[..., CliResult]:
    """`run_cli`, as a fixture."""
    return run_cli


@pytest.fixture(autouse=True, scope="module")
def _one_torch_thread() -> Iterator[None]:
    """Tiny MLPs train much faster on one thread than on two that compete with the env for 2 cores."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


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
