"""Fixtures for the zoo tests: a copy of the package's registry to tamper with, the loopback Hub, one torch thread."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
import torch

from mario_zoo.zoo.registry import REGISTRY_FILE, read_registry

CARTPOLE = "dqn-CartPole-v1"


@pytest.fixture(autouse=True, scope="module")
def _one_torch_thread() -> Iterator[None]:
    """Tiny MLPs act much faster on one thread than on two that compete with the env for 2 cores."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


@pytest.fixture
def registry_copy(tmp_path: Path) -> Path:
    """The package's registry.json and bundled copies, copied into a temporary folder; returns the JSON's path."""
    target = tmp_path / "zoo" / REGISTRY_FILE.name
    target.parent.mkdir()
    shutil.copyfile(REGISTRY_FILE, target)
    registry = read_registry()
    for name in registry.names:
        if registry.bundled_dir(name).is_dir():
            shutil.copytree(registry.bundled_dir(name), read_registry(target).bundled_dir(name))
    return target
