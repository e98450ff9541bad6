"""Lossless resume: the replay buffer and every RNG state saved and restored bit for bit, never with pickle."""

from __future__ import annotations

import ast
import copy
import functools
import json
import pickle
import random
import re
import zipfile
from pathlib import Path

import numpy as np
import pytest
import torch

import mario_zoo
from mario_zoo.agents import DQN
from mario_zoo.agents.replay import ReplayBuffer, ReplaySample
from mario_zoo.callbacks import PeriodicCheckpoint
from tests.agents.image_env import CueEnv

UNPICKLERS = ("pickle", "cloudpickle", "dill", "joblib", "shelve", "marshal")
SMALL_CNN = {"features_extractor_kwargs": {"features_dim": 32}}
BASE = {
    "device": "cpu",
    "seed": 0,
    "learning_rate": 1e-3,
    "learning_starts": 40,
    "batch_size": 8,
    "train_freq": 4,
    "target_update_interval": 40,
    "exploration_fraction": 0.5,
}
# Buffers that exercise different state: uniform sampling over wrapped rings, and the Mario preset's
# frame-deduplicating, prioritized, 3-step buffer with double Q, a dueling head and bf16 updates.
VARIANTS = {
    "uniform": (CueEnv, {"buffer_size": 96}),
    # Held random actions and a frontier-start rate for 3 steps (every reset says frontier_start): the episodes in progress at
    # the checkpoint keep their holds and their rate.
    "held-exploration": (
        functools.partial(CueEnv, length=7, frontier_every=1),
        {
            "buffer_size": 96,
            "exploration_repeat": 1.2,
            "frontier_exploration_eps": 0.7,
            "frontier_exploration_steps": 3,
        },
    ),
    "mario-like": (
        "frames",
        {
            "buffer_size": 150,
            "frame_stack_replay": True,
            "prioritized_replay": True,
            "n_steps": 3,
            "double_q": True,
            "dueling": True,
            "precision": "bf16",
        },
    ),
}


def _env(variant: str, frame_env_class):
    factory, _ = VARIANTS[variant]
    return frame_env_class(episode_length=(9, 13), padding="zero") if factory == "frames" else factory()


def _model(variant: str, frame_env_class, env=None) -> DQN:
    hyperparameters = {**BASE, **VARIANTS[variant][1]}
    return DQN("CnnPolicy", env or _env(variant, frame_env_class), policy_kwargs=SMALL_CNN, **hyperparameters)


def _buffer_state(buffer: ReplayBuffer) -> dict[str, object]:
    state: dict[str, object] = {
        name: getattr(buffer, name).copy()
        for name in ("frames", "actions", "rewards", "terminated", "valid")
        + (("depth", "zero_padded") if buffer.frame_stack > 1 else ())
    }
    if buffer.tree is not None:
        state["tree"] = buffer.tree.nodes.copy()
    state |= {
        "heads": list(buffer.heads),
        "rows_written": list(buffer.rows_written),
        "n_valid": buffer.n_valid,
        "max_priority": buffer.max_priority,
        "rng": buffer.rng.bit_generator.state,
    }
    return state


def _assert_same_buffer(left: ReplayBuffer, right: ReplayBuffer) -> None:
    expected, actual = _buffer_state(left), _buffer_state(right)
    assert expected.keys() == actual.keys()
    for name, value in expected.items():
        if isinstance(value, np.ndarray):
            assert value.dtype == actual[name].dtype and np.array_equal(value, actual[name]), name
        else:
            assert value == actual[name], name


@pytest.fixture
def draws(monkeypatch) -> list[ReplaySample]:
    """Every minibatch any replay buffer draws, in order."""
    drawn: list[ReplaySample] = []
    sample = ReplayBuffer.sample

    def recording_sample(self: ReplayBuffer, batch_size: int, beta: float = 1.0, env=None) -> ReplaySample:
        batch = sample(self, batch_size, beta, env)
        drawn.append(batch)
        return batch

    monkeypatch.setattr(ReplayBuffer, "sample", recording_sample)
    return drawn


@pytest.mark.parametrize("variant", list(VARIANTS))
@pytest.mark.parametrize("suffix", ["", ".zip"])
def test_load_replay_buffer_restores_the_buffer_bit_for_bit(tmp_path, frame_env_class, variant, suffix):
    model = _model(variant, frame_env_class).learn(230)  # more steps than rows: the rings have wrapped
    assert max(model.replay_buffer.rows_written) > model.replay_buffer.rows_per_env
    path = tmp_path / f"replay{suffix}"
    model.save_replay_buffer(path)
    assert sorted(zipfile.ZipFile(path).namelist() if suffix else [p.name for p in path.iterdir()]) == [
        "replay.json",
        "replay.safetensors",
    ]

    restored = _model(variant, frame_env_class)
    restored.load_replay_buffer(tmp_path / "replay")  # finds replay.zip, as DQN.load finds a checkpoint's
    _assert_same_buffer(model.replay_buffer, restored.replay_buffer)
    assert restored._buffer_steps == model._buffer_steps
    first, second = model.replay_buffer.sample(16), restored.replay_buffer.sample(16)
    assert np.array_equal(first.indices, second.indices)
    assert torch.equal(first.observations, second.observations) and torch.equal(first.returns, second.returns)


def test_every_rng_state_is_restored(tmp_path):
    model = DQN("CnnPolicy", CueEnv(), policy_kwargs=SMALL_CNN, **{**BASE, "buffer_size": 96}).learn(60)
    model.save(tmp_path / "checkpoint", include_replay_buffer=True)
    env = model.get_env()

    def draw_everything(agent: DQN) -> list[object]:
        return [
            random.random(),
            np.random.random(),
            torch.rand(3).tolist(),
            agent._rng.random(),
            agent.replay_buffer.rng.random(),
            int(agent.action_space.sample()),
            [generator.random() for generator in agent.get_env().get_attr("np_random")],
        ]

    expected = draw_everything(model)
    restored = DQN.load(tmp_path / "checkpoint", env=copy.deepcopy(env))
    restored.load_replay_buffer(tmp_path / "checkpoint")
    assert draw_everything(restored) == expected
    # An env set after loading gets the saved env generators, and is not reseeded.
    later = DQN.load(tmp_path / "checkpoint")
    later.load_replay_buffer(tmp_path / "checkpoint")
    later.set_env(CueEnv())
    assert draw_everything(later)[-1] == expected[-1]


class _KillAfterCheckpoint(PeriodicCheckpoint):
    """The periodic checkpoint, plus what a killed run leaves that is not in it: a copy of the env (standing in
    for an env whose state survives the kill) and how many minibatches had been drawn."""

    def __init__(self, path: Path, save_freq: int, draws: list[ReplaySample]):
        super().__init__(path, save_freq, save_replay=True)
        self.draws = draws
        self.env_copy = None
        self.draws_before = -1

    def _save_if_due(self) -> None:
        due = self.model.num_timesteps >= self._next_save
        super()._save_if_due()
        if due and self.env_copy is None:
            self.env_copy = copy.deepcopy(self.model.get_env())
            self.draws_before = len(self.draws)


@pytest.mark.parametrize("variant", list(VARIANTS))
def test_a_resumed_run_draws_the_minibatches_of_an_uninterrupted_one(tmp_path, frame_env_class, variant, draws):
    total, save_freq = 330, 200
    uninterrupted = _model(variant, frame_env_class)
    killer = _KillAfterCheckpoint(tmp_path / "checkpoint.zip", save_freq, draws)
    uninterrupted.learn(total, callback=[killer])
    expected, draws_before = draws[killer.draws_before :], killer.draws_before
    assert killer.env_copy is not None and len(expected) > 10

    # A fresh model from the checkpoint alone, continued on the env as the killed run left it.
    resumed = DQN.load(tmp_path / "checkpoint.zip")
    resumed.set_env(killer.env_copy, force_reset=False)
    resumed.load_replay_buffer(tmp_path / "checkpoint.zip", truncate_last_traj=False)
    assert save_freq <= resumed.num_timesteps < save_freq + BASE["train_freq"]
    resumed.learn(total - resumed.num_timesteps, reset_num_timesteps=False)

    actual = draws[draws_before + len(expected) :]
    assert len(actual) == len(expected)
    for want, got in zip(expected, actual, strict=True):
        assert np.array_equal(want.indices, got.indices)
        for name in ("observations", "actions", "returns", "next_observations", "discounts"):
            assert torch.equal(getattr(want, name), getattr(got, name)), name
        assert (want.weights is None and got.weights is None) or torch.equal(want.weights, got.weights)
    assert resumed.num_timesteps == uninterrupted.num_timesteps
    for name, tensor in uninterrupted.policy.state_dict().items():
        assert torch.equal(tensor, resumed.policy.state_dict()[name]), name
    _assert_same_buffer(uninterrupted.replay_buffer, resumed.replay_buffer)


def test_a_corrupt_replay_file_is_a_value_error_naming_it(tmp_path):
    model = DQN("CnnPolicy", CueEnv(), policy_kwargs=SMALL_CNN, **{**BASE, "buffer_size": 96}).learn(60)
    folder = tmp_path / "replay"
    model.save_replay_buffer(folder)
    tensors, config = folder / "replay.safetensors", folder / "replay.json"
    original = tensors.read_bytes()

    fresh = DQN.load(_saved(model, tmp_path))
    flipped = bytearray(original)
    flipped[-100] ^= 0xFF
    tensors.write_bytes(bytes(flipped))
    with pytest.raises(ValueError, match=re.escape(f"{tensors} is corrupt: its sha256 is")):
        fresh.load_replay_buffer(folder)
    assert fresh._replay_buffer is None  # nothing half-loaded

    # Any flipped byte, in the header or the data, is a ValueError naming the file.
    for position in [*range(0, 16), *np.linspace(16, len(original) - 1, 40, dtype=int)]:
        flipped = bytearray(original)
        flipped[position] ^= 0x5A
        tensors.write_bytes(bytes(flipped))
        with pytest.raises(ValueError, match=re.escape(str(tensors))):
            fresh.load_replay_buffer(folder)
    assert fresh._replay_buffer is None

    tensors.write_bytes(original[: len(original) // 2])
    with pytest.raises(ValueError, match=re.escape(f"{tensors} is corrupt: it ends early (truncated file).")):
        fresh.load_replay_buffer(folder)

    tensors.write_bytes(original)
    config_text = config.read_text()
    config.write_text(config_text[:50])
    with pytest.raises(ValueError, match=re.escape(f"{config} is not valid JSON")):
        fresh.load_replay_buffer(folder)
    config.write_text(json.dumps({**json.loads(config_text), "format_version": 99}))
    with pytest.raises(ValueError, match=re.escape(f"{config} has replay format_version 99, but this mario_zoo")):
        fresh.load_replay_buffer(folder)

    config.write_text(json.dumps({key: value for key, value in json.loads(config_text).items() if key != "rng"}))
    with pytest.raises(ValueError, match=re.escape(f"{folder}: replay.json is corrupt: missing or bad 'rng'.")):
        fresh.load_replay_buffer(folder)
    assert fresh._replay_buffer is None

    config.write_text(config_text)
    fresh.load_replay_buffer(folder)
    _assert_same_buffer(model.replay_buffer, fresh.replay_buffer)


def test_a_replay_buffer_of_another_layout_or_a_checkpoint_without_one_is_refused(tmp_path):
    model = DQN("CnnPolicy", CueEnv(), policy_kwargs=SMALL_CNN, **{**BASE, "buffer_size": 96}).learn(60)
    model.save_replay_buffer(tmp_path / "replay.zip")
    bigger = DQN("CnnPolicy", CueEnv(), policy_kwargs=SMALL_CNN, **{**BASE, "buffer_size": 128, "n_steps": 3})
    message = (
        f"{tmp_path / 'replay.zip'}:replay.safetensors holds a replay buffer of another layout: rows_per_env=96 "
        "(this model's: 128); n_steps=1 (this model's: 3)."
    )
    with pytest.raises(ValueError, match=re.escape(message)):
        bigger.load_replay_buffer(tmp_path / "replay.zip")

    model.save(tmp_path / "plain.zip")
    with pytest.raises(ValueError, match=re.escape(f"{tmp_path / 'plain.zip'} holds no replay buffer: the archive")):
        model.load_replay_buffer(tmp_path / "plain.zip")


def test_a_fresh_models_empty_buffer_saves_and_loads_as_in_sb3(tmp_path):
    fresh = DQN("CnnPolicy", CueEnv(), policy_kwargs=SMALL_CNN, **BASE)
    assert fresh.replay_buffer.size() == 0
    fresh.save_replay_buffer(tmp_path / "empty.zip")
    other = DQN("CnnPolicy", CueEnv(), policy_kwargs=SMALL_CNN, **BASE)
    other.load_replay_buffer(tmp_path / "empty.zip")
    assert other.replay_buffer.size() == 0
    other.learn(60)
    assert other.replay_buffer.size() > 0


def test_nothing_is_pickled(tmp_path, monkeypatch):
    def refuse(*args, **kwargs):
        raise AssertionError("pickle was used")

    for module, name in ((pickle, "dumps"), (pickle, "loads"), (pickle, "dump"), (pickle, "load"), (torch, "load")):
        monkeypatch.setattr(module, name, refuse)
    model = DQN("CnnPolicy", CueEnv(), policy_kwargs=SMALL_CNN, **{**BASE, "buffer_size": 96}).learn(60)
    model.save(tmp_path / "checkpoint.zip", include_replay_buffer=True)
    restored = DQN.load(tmp_path / "checkpoint.zip")
    restored.load_replay_buffer(tmp_path / "checkpoint.zip")
    _assert_same_buffer(model.replay_buffer, restored.replay_buffer)
    assert _pickling_code(Path(mario_zoo.__file__).parent) == []


def _pickling_code(package: Path) -> list[str]:
    """Code in ``package`` that could unpickle: pickle-like modules' ``load``/``loads``/``Unpickler`` (imported or
    called), and ``torch.load`` / ``np.load`` calls that allow it. (Pickling our own objects to send them to an
    actor process, ``pickle.dumps``, is not loading anything.)"""
    unpickling = {"load", "loads", "Unpickler"}
    found = []
    for path in sorted(package.rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ImportFrom) and (node.module or "").split(".")[0] in UNPICKLERS:
                found += [
                    f"{path}: from {node.module} import {alias.name}"
                    for alias in node.names
                    if alias.name in unpickling
                ]
            elif isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute):
                owner = ast.unparse(node.func.value)
                keywords = {keyword.arg: ast.unparse(keyword.value) for keyword in node.keywords}
                if owner.split(".")[0] in UNPICKLERS and node.func.attr in unpickling:
                    found.append(f"{path}: {ast.unparse(node)}")
                if node.func.attr != "load":
                    continue
                if owner == "torch" and keywords.get("weights_only") != "True":
                    found.append(f"{path}: {ast.unparse(node)}")
                if owner in ("np", "numpy") and keywords.get("allow_pickle") not in (None, "False"):
                    found.append(f"{path}: {ast.unparse(node)}")
    return found


def _saved(model: DQN, folder: Path) -> Path:
    model.save(folder / "model")
    return folder / "model"


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda buffer: buffer.update(heads=[10**9]), "heads [1000000000] are not where rows_written"),
        (lambda buffer: buffer.update(heads=[-5]), "heads [-5] are not where rows_written"),
        (lambda buffer: buffer.update(heads=[1, 2]), "heads and rows_written must list one number per env (1)"),
        (lambda buffer: buffer.update(rows_written=[10**20]), "heads and rows_written must be whole numbers"),
        (lambda buffer: buffer.update(max_priority=float("nan")), "max_priority=nan is not a finite number > 0"),
        (lambda buffer: buffer.update(n_valid=-1), "n_valid=-1 is not a count of at most 96 rows"),
    ],
)
def test_replay_counters_that_its_own_writes_could_not_leave_are_refused(tmp_path, change, message):
    """A head anywhere but where the write count ends would resume writing over the middle of the saved
    transitions: the lossless resume would silently lose them."""
    model = DQN("CnnPolicy", CueEnv(), policy_kwargs=SMALL_CNN, **{**BASE, "buffer_size": 96}).learn(60)
    folder = tmp_path / "replay"
    model.save_replay_buffer(folder)
    config_file = folder / "replay.json"
    config = json.loads(config_file.read_text())
    change(config["buffer"])
    config_file.write_text(json.dumps(config))
    fresh = DQN.load(_saved(model, tmp_path))
    with pytest.raises(ValueError, match=re.escape(f"{config_file} is corrupt: ") + ".*" + re.escape(message)):
        fresh.load_replay_buffer(folder)
    assert fresh._replay_buffer is None


def test_damaged_global_rng_states_are_refused_before_any_is_restored(tmp_path):
    import random

    model = DQN("CnnPolicy", CueEnv(), policy_kwargs=SMALL_CNN, **{**BASE, "buffer_size": 96}).learn(60)
    folder = tmp_path / "replay"
    model.save_replay_buffer(folder)
    config_file = folder / "replay.json"
    config = json.loads(config_file.read_text())
    config["rng"]["numpy_global"]["state"]["key"] = config["rng"]["numpy_global"]["state"]["key"][:5]
    config_file.write_text(json.dumps(config))
    fresh = DQN.load(_saved(model, tmp_path))
    before = (random.getstate(), np.random.get_state()[1].copy())
    with pytest.raises(ValueError, match=re.escape(f"{folder}: the saved global RNG states are damaged")):
        fresh.load_replay_buffer(folder)
    assert random.getstate() == before[0] and np.array_equal(np.random.get_state()[1], before[1])
