"""The promise of the zoo: build the wheel, install only it into a fresh venv, and load every agent offline.

The fresh venv borrows its dependencies (torch, gymnasium, ...) from the test's own environment through a ``.pth``
line, which puts that site-packages on ``sys.path`` without running its ``.pth`` files, so the editable install of
the source checkout stays invisible; mario_zoo itself comes only from the wheel, unzipped into the venv (what pip
does with a pure-Python wheel). The child runs from an empty folder with ``HF_HUB_OFFLINE=1`` and an unreachable
Hub endpoint, so anything that tried the network would fail.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import sysconfig
import zipfile
from pathlib import Path

from mario_zoo.zoo.registry import AGENT_FILES, REGISTRY_FILE, read_registry

SOURCE = REGISTRY_FILE.parents[2]

CHILD = """
import json, sys
import gymnasium as gym
import mario_zoo
from mario_zoo.zoo import read_registry

loaded = {}
for name in read_registry().names:
    model = mario_zoo.load_pretrained(name, device="cpu")
    entry = read_registry().get(name)
    env = gym.make(entry.env_id, **entry.env_kwargs)
    observation, _ = env.reset(seed=0)
    episode_return, done = 0.0, False
    while not done and name.startswith("dqn-CartPole"):  # one full CartPole episode; Mario: one step is proof enough
        action, _ = model.predict(observation, deterministic=True)
        observation, reward, terminated, truncated, _ = env.step(action)
        episode_return, done = episode_return + float(reward), terminated or truncated
    loaded[name] = episode_return
print(json.dumps({"file": mario_zoo.__file__, "version": mario_zoo.__version__, "loaded": loaded}))
"""


def _build_wheel(tmp_path: Path) -> Path:
    """Build from a copy of the sources, so that the checkout gets no build/ or egg-info folders."""
    source = tmp_path / "source"
    source.mkdir()
    for name in ("pyproject.toml", "README.md"):
        shutil.copy(SOURCE / name, source / name)
    shutil.copytree(SOURCE / "mario_zoo", source / "mario_zoo", ignore=shutil.ignore_patterns("__pycache__"))
    command = [sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps", "--no-build-isolation", "--no-index"]
    subprocess.run([*command, "--wheel-dir", str(tmp_path / "dist"), str(source)], check=True, timeout=300)
    (wheel,) = (tmp_path / "dist").glob("mario_zoo-*.whl")
    return wheel


def _fresh_venv(tmp_path: Path, wheel: Path) -> Path:
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True, timeout=120)
    python = venv / "bin" / "python"
    query = "import sysconfig; print(sysconfig.get_paths()['purelib'])"
    site_packages = Path(
        subprocess.run([python, "-c", query], check=True, capture_output=True, text=True).stdout.strip()
    )
    (site_packages / "dependencies.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    with zipfile.ZipFile(wheel) as archive:
        archive.extractall(site_packages)
    return python


def test_the_wheel_ships_the_zoo_and_loads_every_agent_offline(tmp_path):
    wheel = _build_wheel(tmp_path)
    registry = read_registry()
    names = set(zipfile.ZipFile(wheel).namelist())
    assert "mario_zoo/zoo/registry.json" in names
    for name in registry.names:
        if registry.get(name).bundled:
            assert {f"mario_zoo/zoo/bundled/{name}/{file}" for file in AGENT_FILES} <= names

    python = _fresh_venv(tmp_path, wheel)
    neutral = tmp_path / "elsewhere"
    neutral.mkdir()
    environment = {key: value for key, value in os.environ.items() if key != "PYTHONPATH"}
    environment |= {
        "HF_HUB_OFFLINE": "1",
        "HF_ENDPOINT": "http://127.0.0.1:9",  # a closed port: the Hub is unreachable whatever happens
        "HF_HOME": str(tmp_path / "empty-hf-home"),
        "OMP_NUM_THREADS": "1",
    }
    result = subprocess.run(
        [python, "-c", CHILD], cwd=neutral, env=environment, capture_output=True, text=True, timeout=300
    )
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout.strip().splitlines()[-1])
    assert Path(report["file"]).is_relative_to(tmp_path / "venv"), report["file"]
    assert set(report["loaded"]) == set(registry.names)
    assert report["loaded"]["dqn-CartPole-v1"] == 500.0
