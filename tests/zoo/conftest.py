"""Fixtures for the zoo tests: a copy of the package's registry to tamper with (hub, cli and one torch thread: tests/conftest.py)."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from mario_zoo.zoo.registry import REGISTRY_FILE, read_registry

CARTPOLE = "dqn-CartPole-v1"


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
