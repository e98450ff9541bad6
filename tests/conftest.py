"""Fixtures shared across test folders: one torch thread, the loopback Hub, an in-process ``mario-zoo`` runner."""

from __future__ import annotations

import contextlib
import importlib.util
import io
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from types import ModuleType
from typing import NamedTuple

import pytest
import torch

from mario_zoo.cli import main


@pytest.fixture(autouse=True, scope="module")
def _one_torch_thread() -> Iterator[None]:
    """Tiny MLPs train much faster on one thread than on two that compete with the env for 2 cores."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


def _load_hub_conftest() -> ModuleType:
    """tests/hub/conftest.py, whose `hub` fixture (a loopback Hub, huggingface_hub pointed at it) other folders reuse."""
    name = "mario_zoo_tests_hub_conftest"
    if name not in sys.modules:
        spec = importlib.util.spec_from_file_location(name, Path(__file__).parent / "hub" / "conftest.py")
        assert spec is not None and spec.loader is not None
        module = importlib.util.module_from_spec(spec)
        sys.modules[name] = module
        spec.loader.exec_module(module)
    return sys.modules[name]


hub = _load_hub_conftest().hub
retry_waits = _load_hub_conftest().retry_waits


class CliResult(NamedTuple):
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
