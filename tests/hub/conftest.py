"""Fixtures for the hub tests: a loopback Hub per test, ``huggingface_hub`` pointed at it, a throwaway cache.

``huggingface_hub`` copies ``HF_ENDPOINT``, ``HF_HUB_CACHE``, ``HF_HUB_OFFLINE``... into
``huggingface_hub.constants`` when it is first imported. So we configure it twice:

* environment variables, set here at import time (for a run of ``tests/hub`` alone nothing has imported
  ``huggingface_hub`` yet) and again per test by the `hub` fixture; subprocesses started by `run_fresh` inherit
  them, which is how the round-trip and offline tests prove that a *fresh* process configured only through the
  environment works;
* the already-imported constants, patched by the `hub` fixture, because in a full ``pytest`` run the doctests of
  ``mario_zoo.hub`` import ``huggingface_hub`` long before this file is read.

No test can reach the real Hub: the endpoint is always the loopback server, or a closed port before it starts.
"""

from __future__ import annotations

import contextlib
import importlib.util
import os
import subprocess
import sys
import textwrap
from collections.abc import Callable, Iterator
from pathlib import Path
from types import ModuleType, SimpleNamespace

import pytest

# Before any import of huggingface_hub in this process: no Xet (the loopback Hub speaks LFS), no telemetry, and a
# closed port rather than huggingface.co for anything that runs before the `hub` fixture.
os.environ["HF_HUB_DISABLE_XET"] = "1"
os.environ["HF_HUB_DISABLE_TELEMETRY"] = "1"
os.environ["HF_ENDPOINT"] = "http://127.0.0.1:9"


def _load_hub_server() -> ModuleType:
    """Import tests/hub_server.py as ``hub_server`` whatever pytest's import mode puts on sys.path."""
    if "hub_server" not in sys.modules:
        spec = importlib.util.spec_from_file_location("hub_server", Path(__file__).parents[1] / "hub_server.py")
        assert spec is not None and spec.loader is not None
        module = importlib.util.module_from_spec(spec)
        sys.modules["hub_server"] = module  # dataclasses resolve their annotations through sys.modules
        spec.loader.exec_module(module)
    return sys.modules["hub_server"]


hub_server = _load_hub_server()
LoopbackHub = hub_server.LoopbackHub


@pytest.fixture
def hub(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[LoopbackHub]:
    """A running loopback Hub, with this process and its children configured to use it and a fresh cache."""
    import huggingface_hub.constants as constants

    server = LoopbackHub(tmp_path / "hub-server").start()
    hf_home = tmp_path / "hf-home"
    environment = {
        "HF_ENDPOINT": server.url,
        "HF_HOME": str(hf_home),
        "HF_HUB_CACHE": str(hf_home / "hub"),
        "HF_TOKEN": server.token,
        "HF_HUB_DISABLE_XET": "1",
        "HF_HUB_DISABLE_TELEMETRY": "1",
        "HF_HUB_DISABLE_PROGRESS_BARS": "1",
        "OMP_NUM_THREADS": "1",  # child processes: see _one_torch_thread
    }
    for key, value in environment.items():
        monkeypatch.setenv(key, value)
    monkeypatch.delenv("HF_HUB_OFFLINE", raising=False)
    patched_constants = {
        "ENDPOINT": server.url,
        "HUGGINGFACE_CO_URL_TEMPLATE": server.url + "/{repo_id}/resolve/{revision}/{filename}",
        "HF_HOME": str(hf_home),
        "HF_HUB_CACHE": str(hf_home / "hub"),
        "HF_ASSETS_CACHE": str(hf_home / "assets"),
        "HF_XET_CACHE": str(hf_home / "xet"),
        "HF_TOKEN_PATH": str(hf_home / "token"),
        "HF_STORED_TOKENS_PATH": str(hf_home / "stored_tokens"),
        "AGENT_HARNESSES_PATH": str(hf_home / ".agent_harnesses.json"),
        "HF_HUB_OFFLINE": False,
        "HF_HUB_DISABLE_XET": True,
        "HF_HUB_DISABLE_TELEMETRY": True,
    }
    for name, value in patched_constants.items():
        monkeypatch.setattr(constants, name, value)
    yield server
    server.stop()


@pytest.fixture
def retry_waits(monkeypatch: pytest.MonkeyPatch) -> list[float]:
    """The waits huggingface_hub's retries ask for, recorded instead of slept: fault tests take no wall time.

    The client retries a fault 5 times (its fixed bound; huggingface_hub has no setting for it) and waits 1, 2,
    4, 8 s between tries, or ``Retry-After`` + 1 s after a 429; each wait is appended here, so a test can check
    that ``Retry-After`` was honoured without ever depending on a clock.
    """
    import huggingface_hub.file_download as file_download
    import huggingface_hub.utils._http as http

    waits: list[float] = []
    clock = SimpleNamespace(sleep=waits.append)  # the only use both modules make of `time`
    monkeypatch.setattr(http, "time", clock)
    monkeypatch.setattr(file_download, "time", clock)
    return waits


@pytest.fixture
def run_fresh(hub: LoopbackHub) -> Callable[..., subprocess.CompletedProcess[str]]:
    """Run Python code in a new interpreter that inherits the `hub` environment, plus ``env`` overrides.

    The child imports ``huggingface_hub`` itself, so it sees only what the environment says: the proof that
    configuring through environment variables, before import, is enough.
    """

    def run(code: str, *, env: dict[str, str] | None = None, check: bool = True) -> subprocess.CompletedProcess[str]:
        result = subprocess.run(
            [sys.executable, "-c", textwrap.dedent(code)],
            env={**os.environ, **(env or {})},
            capture_output=True,
            text=True,
            timeout=120,
        )
        if check and result.returncode != 0:
            pytest.fail(f"fresh process failed ({result.returncode}):\n{result.stdout}\n{result.stderr}")
        return result

    return run


@contextlib.contextmanager
def _one_torch_thread() -> Iterator[None]:
    """Run torch single-threaded: on a busy 2-core machine its two spinning threads make each tiny MLP update
    ~50x slower (12 s instead of 0.3 s for 500 CartPole training steps)."""
    import torch

    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        yield
    finally:
        torch.set_num_threads(threads)


@pytest.fixture(autouse=True, scope="module")
def _single_threaded_torch() -> Iterator[None]:
    with _one_torch_thread():
        yield


@pytest.fixture(scope="session")
def trained_model():
    """A DQN trained for 500 steps on CartPole: enough to have learned weights, fast enough for every run."""
    from mario_zoo.agents import DQN

    # Session fixtures are set up before the module-scoped _single_threaded_torch, so this one sets it itself.
    with _one_torch_thread():
        return DQN("MlpPolicy", "CartPole-v1", seed=0, buffer_size=1_000, learning_starts=100).learn(500)


@pytest.fixture
def repo_id() -> str:
    """The repo the `published` fixture pushes to."""
    return "tester/dqn-CartPole-v1"


@pytest.fixture(scope="session")
def trained_results(trained_model):
    """`trained_model`'s evaluation on CartPole, 2 episodes: what the pushes of these tests publish."""
    from mario_zoo.evaluation import evaluate

    with _one_torch_thread():
        return evaluate(trained_model, "CartPole-v1", n_episodes=2)


@pytest.fixture
def published(hub: LoopbackHub, trained_model, trained_results, repo_id: str):
    """`trained_model` pushed to `repo_id` on the loopback Hub (no video, 2 episodes); returns the CommitInfo."""
    from mario_zoo.hub import push_to_hub

    return push_to_hub(trained_model, repo_id, results=trained_results)
