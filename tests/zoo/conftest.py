"""Fixtures for the zoo tests: a copy of the package's registry to tamper with, the loopback Hub, one torch thread."""

from __future__ import annotations

import importlib.util
import shutil
import sys
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType

import pytest
import torch

from mario_zoo.zoo.registry import REGISTRY_FILE, read_registry


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
