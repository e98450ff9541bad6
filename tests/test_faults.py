"""Every fault a user can cause is one clear, typed error, and nothing is written or corrupted.

A damaged or edited checkpoint fails ``DQN.load`` with a :class:`mario_zoo.CheckpointError` naming the file, and
``mario-zoo evaluate`` with exit code 1 and one line on stderr, never a traceback. A corruption fuzz flips bytes at
seeded random offsets: every case is a typed error or a load whose actions equal the original's.
"""

from __future__ import annotations

import errno
import hashlib
import json
import os
import subprocess
import sys
import zipfile
from collections import Counter
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest
import torch

import mario_zoo
from mario_zoo.agents import DQN
from mario_zoo.agents import checkpoint as ckpt

FAST = {"learning_starts": 50, "batch_size": 16, "buffer_size": 1000, "device": "cpu"}
FUZZ_CASES = 200


@pytest.fixture(scope="module")
def model() -> DQN:
    return DQN("MlpPolicy", "CartPole-v1", seed=0, policy_kwargs={"net_arch": [16, 16]}, **FAST).learn(300)


@pytest.fixture(scope="module")
def observations() -> np.ndarray:
    return np.random.default_rng(0).normal(size=(100, 4)).astype(np.float32)


def _edit_config(folder: Path, change: Callable[[dict], object]) -> None:
    config_file = folder / ckpt.CONFIG_FILE
    config = json.loads(config_file.read_text())
    config_file.write_text(json.dumps(change(config)))


def _truncate(folder: Path) -> None:
    weights = folder / ckpt.MODEL_FILE
    weights.write_bytes(weights.read_bytes()[:40])


def _change_weight_bytes(folder: Path) -> None:
    weights = folder / ckpt.MODEL_FILE
    data = bytearray(weights.read_bytes())
    data[-3] ^= 0x40  # inside the last tensor: the safetensors header still parses
    weights.write_bytes(bytes(data))


def _flip_zip_bytes(path: Path) -> None:
    with zipfile.ZipFile(path) as archive:
        info = archive.getinfo(ckpt.MODEL_FILE)
    data = bytearray(path.read_bytes())
    data[info.header_offset + 30 + len(info.filename) + 100] ^= 0xFF  # in the stored weights: a bad CRC-32
    path.write_bytes(bytes(data))


def _without(key: str) -> Callable[[dict], dict]:
    return lambda config: {name: value for name, value in config.items() if name != key}


def _network(**change: object) -> Callable[[dict], dict]:
    return lambda config: {**config, "network": {**config["network"], **change}}


# (id, how to damage a saved checkpoint folder or zip, text the error must contain)
DAMAGES = [
    ("zip-bad-crc", _flip_zip_bytes, "damaged zip archive"),
    ("truncated-weights", _truncate, "does not match the sha256"),
    ("weights-changed-behind-header", _change_weight_bytes, "does not match the sha256"),
    ("config-is-a-list", lambda f: _edit_config(f, lambda config: [config]), "must hold a JSON object, found a list"),
    ("config-not-json", lambda f: (f / ckpt.CONFIG_FILE).write_text("{oops"), "config.json is not valid JSON"),
    ("no-network-section", lambda f: _edit_config(f, _without("network")), "missing: ['network']"),
    ("unknown-network-key", lambda f: _edit_config(f, _network(depth=3)), "invalid 'network' entry"),
    (
        "action-space-contradicts-network",
        lambda f: _edit_config(f, lambda c: {**c, "action_space": {"type": "Discrete", "n": 5, "start": 0}}),
        "action_space has 5 actions but the network has 2 outputs",
    ),
    ("num-timesteps-not-a-number", lambda f: _edit_config(f, lambda c: {**c, "num_timesteps": "x"}), "'num_timesteps'"),
    ("no-checksums", lambda f: _edit_config(f, _without("files")), "missing: ['files']"),
    ("unknown-key", lambda f: _edit_config(f, lambda c: {**c, "pickle": "yes"}), "unknown: ['pickle']"),
    ("no-weights", lambda f: (f / ckpt.MODEL_FILE).unlink(), "it has no model.safetensors"),
]


@pytest.fixture(params=DAMAGES, ids=[damage[0] for damage in DAMAGES])
def damaged(request, model, tmp_path) -> tuple[Path, str]:
    name, damage, message = request.param
    path = tmp_path / ("agent.zip" if name.startswith("zip") else "agent")
    model.save(path, include_optimizer=False)
    damage(path)
    return path, message


def test_dqn_load_raises_one_typed_error_naming_the_file(damaged):
    path, message = damaged
    with pytest.raises(mario_zoo.CheckpointError) as raised:
        DQN.load(path)
    assert message in str(raised.value) and str(path) in str(raised.value)
    assert isinstance(raised.value, ValueError)


def test_evaluate_exits_1_with_one_line_and_no_traceback(damaged, cli):
    path, message = damaged
    before = sorted(path.parent.rglob("*"))
    result = cli("evaluate", path, "--episodes", 1)
    assert result.code == 1
    assert result.err.count("\n") == 1 and "Traceback" not in result.err, result.err
    assert message in result.err and str(path) in result.err
    assert sorted(path.parent.rglob("*")) == before


def test_a_missing_checkpoint_is_a_typed_error_too(tmp_path):
    with pytest.raises(mario_zoo.CheckpointError, match="No checkpoint at"):
        DQN.load(tmp_path / "nothing")
    with pytest.raises(FileNotFoundError):
        DQN.load(tmp_path / "nothing")


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--device", "gpu"], "Unknown device 'gpu'; valid devices: auto, cpu, cuda"),
        (["--device", "cuda:0"], "is not available on this machine"),
    ],
)
def test_a_bad_device_is_a_usage_error(model, tmp_path, cli, args, message):
    if args[-1].startswith("cuda") and torch.cuda.is_available():
        pytest.skip("this machine has CUDA, so cuda:0 is a valid device here")
    model.save(tmp_path / "agent")
    result = cli("evaluate", tmp_path / "agent", *args)
    assert result.code == 2 and result.err.count("\n") == 1 and message in result.err, result.err


@pytest.mark.parametrize("fps", ["-3", "0", "nan", "inf", "fast"])
@pytest.mark.parametrize("suffix", [".mp4", ".gif"])
def test_record_refuses_a_bad_fps_before_writing(model, tmp_path, cli, fps, suffix):
    model.save(tmp_path / "agent")
    result = cli("record", tmp_path / "agent", "--fps", fps, "--out", tmp_path / f"replay{suffix}")
    assert result.code == 2 and "expected frames per second > 0" in result.err and "Traceback" not in result.err
    assert not (tmp_path / f"replay{suffix}").exists()


def test_record_library_refuses_a_bad_fps(model, tmp_path):
    from mario_zoo.video import record

    with pytest.raises(ValueError, match=r"fps must be a number > 0 \(frames per second\), got -3"):
        record(model, "CartPole-v1", {}, tmp_path / "replay.gif", fps=-3)
    assert list(tmp_path.iterdir()) == []


def test_disk_full_is_one_line_and_keeps_the_previous_file(model, tmp_path, cli, monkeypatch):
    import mario_zoo.atomic

    model.save(tmp_path / "agent")
    out = tmp_path / "replay.gif"
    out.write_bytes(b"the previous replay")

    def disk_full(path: Path) -> None:
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), str(path))

    monkeypatch.setattr(mario_zoo.atomic, "_fsync", disk_full)
    result = cli("record", tmp_path / "agent", "--out", out, "--max-frames", 5, "--no-progress")
    assert result.code == 1 and result.err.count("\n") == 1 and "Traceback" not in result.err
    assert "No space left on device" in result.err and "replay" in result.err
    assert out.read_bytes() == b"the previous replay"
    assert sorted(path.name for path in tmp_path.iterdir()) == ["agent", "replay.gif"]


def test_a_closed_output_pipe_is_not_a_traceback(model, tmp_path):
    """`mario-zoo evaluate AGENT --json | head -1`: the reader is gone before we write."""
    model.save(tmp_path / "agent")
    read_end, write_end = os.pipe()
    os.close(read_end)  # nobody will ever read: the first write fails with EPIPE, as after `head -1` exits
    try:
        process = subprocess.run(
            [
                sys.executable,
                "-m",
                "mario_zoo.cli",
                "evaluate",
                str(tmp_path / "agent"),
                "--episodes",
                "1",
                "--json",
                "--no-progress",
            ],
            stdout=write_end,
            stderr=subprocess.PIPE,
            text=True,
            timeout=300,
        )
    finally:
        os.close(write_end)
    assert process.returncode == 1
    assert "Traceback" not in process.stderr and process.stderr.count("\n") == 1, process.stderr
    assert "output pipe was closed" in process.stderr


@pytest.mark.parametrize("layout", ["zip", "folder"])
def test_corruption_fuzz_is_a_typed_error_or_the_same_agent(model, observations, tmp_path, layout):
    """Flip one byte at each of FUZZ_CASES seeded random offsets: never another outcome than the two allowed."""
    path = tmp_path / ("agent.zip" if layout == "zip" else "agent")
    model.save(path)
    expected, _ = model.predict(observations, deterministic=True)
    files = [path] if layout == "zip" else sorted(path.iterdir())
    originals = {file: file.read_bytes() for file in files}
    sizes = np.array([len(data) for data in originals.values()])
    rng = np.random.default_rng(12345)
    outcomes: Counter[str] = Counter()
    for _ in range(FUZZ_CASES):
        position = int(rng.integers(sizes.sum()))
        index = int(np.searchsorted(np.cumsum(sizes), position, side="right"))
        file = files[index]
        offset = position - int(sizes[:index].sum())
        data = bytearray(originals[file])
        data[offset] ^= int(rng.integers(1, 256))
        file.write_bytes(bytes(data))
        try:
            loaded = DQN.load(path, device="cpu")
        except mario_zoo.CheckpointError as error:
            assert str(path) in str(error)
            outcomes["typed error"] += 1
        else:
            actions, _ = loaded.predict(observations, deterministic=True)
            np.testing.assert_array_equal(actions, expected, err_msg=f"{file.name} byte {offset} changed the agent")
            outcomes["same agent"] += 1
        file.write_bytes(originals[file])
    assert sum(outcomes.values()) == FUZZ_CASES
    print(f"\n{layout}: {dict(outcomes)}")


def test_checkpoint_files_record_their_sha256(model, tmp_path):
    model.save(tmp_path / "agent")
    config = json.loads((tmp_path / "agent" / ckpt.CONFIG_FILE).read_text())
    for name in (ckpt.MODEL_FILE, ckpt.OPTIMIZER_FILE):
        assert config["files"][name] == hashlib.sha256((tmp_path / "agent" / name).read_bytes()).hexdigest()
