"""Every file read from disk is checked before use: a checkpoint's config.json and replay.json, an SB3 zip's data,
presets, sweep spaces and the zoo registry, each at its size, depth and type boundaries."""

from __future__ import annotations

import json
import re
import zipfile
from pathlib import Path

import pytest

from mario_zoo.agents import DQN
from mario_zoo.agents import checkpoint as ckpt
from mario_zoo.agents.presets import load_preset
from mario_zoo.reading import MAX_YAML_BYTES
from mario_zoo.sweep import load_space
from mario_zoo.zoo.registry import read_registry

FAST = {"learning_starts": 50, "batch_size": 16, "buffer_size": 1000, "device": "cpu"}


@pytest.fixture(scope="module")
def saved(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A small CartPole checkpoint directory, with its replay buffer."""
    folder = tmp_path_factory.mktemp("ckpt") / "agent"
    model = DQN("MlpPolicy", "CartPole-v1", seed=0, policy_kwargs={"net_arch": [8]}, **FAST).learn(100)
    model.save(folder, include_replay_buffer=True)
    return folder


def _copy_with_config(saved: Path, tmp_path: Path, change) -> Path:
    folder = tmp_path / "agent"
    folder.mkdir(parents=True)
    for path in saved.iterdir():
        (folder / path.name).write_bytes(path.read_bytes())
    config_file = folder / ckpt.CONFIG_FILE
    config_file.write_text(change(config_file.read_text()))
    return folder


def _nested(depth: int) -> object:
    value: object = 1
    for _ in range(depth):
        value = [value]
    return value


def test_config_json_at_the_size_limit_loads_and_one_byte_more_is_refused(saved, tmp_path, monkeypatch):
    size = (saved / ckpt.CONFIG_FILE).stat().st_size
    monkeypatch.setattr(ckpt, "MAX_CONFIG_BYTES", size)
    assert ckpt.read_config(saved).num_timesteps == 100
    monkeypatch.setattr(ckpt, "MAX_CONFIG_BYTES", size - 1)
    with pytest.raises(ckpt.CheckpointError, match=re.escape(f"{saved}/config.json is larger than the")):
        ckpt.read_config(saved)


@pytest.mark.parametrize("form", ["folder", "zip"])
def test_config_json_nested_past_the_limit_is_refused(saved, tmp_path, form):
    def deepen(depth: int):
        return lambda text: json.dumps({**json.loads(text), "env_kwargs": {"x": _nested(depth)}})

    # config.json nests env_kwargs at level 2: a list of depth 30 reaches the limit of 32 exactly.
    at_limit = _copy_with_config(saved, tmp_path / "ok", deepen(ckpt.MAX_CONFIG_DEPTH - 2))
    assert ckpt.read_config(at_limit).env_kwargs["x"] == _nested(ckpt.MAX_CONFIG_DEPTH - 2)
    folder = _copy_with_config(saved, tmp_path / "deep", deepen(5000))
    path: Path = folder
    if form == "zip":
        path = folder.with_suffix(".zip")
        with zipfile.ZipFile(path, "w") as archive:
            for item in folder.iterdir():
                archive.write(item, item.name)
    with pytest.raises(ckpt.CheckpointError, match=f"nests 5002 levels deep; the limit is {ckpt.MAX_CONFIG_DEPTH}"):
        DQN.load(path)


def test_an_observation_space_too_large_to_allocate_is_refused(saved, tmp_path):
    def huge(text: str) -> str:
        config = json.loads(text)
        config["observation_space"]["shape"] = [100_000, 100_000, 100]
        return json.dumps(config)

    folder = _copy_with_config(saved, tmp_path, huge)
    with pytest.raises(ckpt.CheckpointError, match=re.escape("has 1,000,000,000,000 elements, more than the")):
        ckpt.read_config(folder)


def test_an_observation_dtype_that_is_not_a_number_type_is_refused(saved, tmp_path):
    def void(text: str) -> str:
        config = json.loads(text)
        config["observation_space"]["dtype"] = "V1000000000"
        return json.dumps(config)

    folder = _copy_with_config(saved, tmp_path, void)
    with pytest.raises(ckpt.CheckpointError, match=re.escape("a Box dtype must be one of ('bool', 'int8'")):
        ckpt.read_config(folder)


@pytest.mark.parametrize(
    ("key", "value", "message"),
    [
        ("env_id", 7, "invalid 'env_id' entry: expected a string or null, got 7"),
        ("env_kwargs", [1], "invalid 'env_kwargs' entry: expected an object, got [1]"),
        ("seed", -1, "invalid 'seed' entry: expected a whole number >= 0, got -1"),
    ],
)
def test_config_fields_of_the_wrong_type_are_refused(saved, tmp_path, key, value, message):
    folder = _copy_with_config(saved, tmp_path, lambda text: json.dumps({**json.loads(text), key: value}))
    with pytest.raises(ckpt.CheckpointError, match=re.escape(message)):
        ckpt.read_config(folder)


def test_replay_json_over_its_size_limit_is_refused(saved, tmp_path, monkeypatch):
    from mario_zoo.agents import training_state

    size = (saved / ckpt.REPLAY_CONFIG_FILE).stat().st_size
    monkeypatch.setattr(training_state, "MAX_CONFIG_BYTES", size)
    assert training_state.read_replay_config(saved)["format"] == training_state.REPLAY_FORMAT
    monkeypatch.setattr(training_state, "MAX_CONFIG_BYTES", size - 1)
    with pytest.raises(ValueError, match=re.escape(f"{saved}/replay.json is larger than the")):
        training_state.read_replay_config(saved)


def _preset_file(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "best.yml"
    path.write_text(text)
    return path


@pytest.mark.parametrize(
    ("entry", "message"),
    [
        ("{env_id: CartPole-v1, policy: MlpPolicy, n_timesteps: many}", "n_timesteps must be a whole number of env "
         "steps >= 1 (such as 50000), got 'many'"),
        ("{env_id: CartPole-v1, policy: MlpPolicy, n_timesteps: -5}", "got -5"),
        ("{env_id: CartPole-v1, policy: MlpPolicy, n_timesteps: true}", "got True"),
        ("{env_id: 7, policy: MlpPolicy, n_timesteps: 100}", "env_id must be a non-empty string such as "
         "'CartPole-v1', got 7"),
        ("{env_id: CartPole-v1, policy: [MlpPolicy], n_timesteps: 100}", "policy must be a non-empty string"),
        ("{env_id: CartPole-v1, policy: MlpPolicy, n_timesteps: 100, hyperparameters: {gamma: 2.0}}", "gamma"),
    ],
)  # fmt: skip
def test_preset_values_of_the_wrong_type_or_range_are_one_line(tmp_path, entry, message):
    with pytest.raises(ValueError, match=re.escape(message)) as raised:
        load_preset(_preset_file(tmp_path, f"tuned: {entry}\n"))
    assert "\n" not in str(raised.value)


def test_a_preset_with_a_whole_float_step_count_reads_as_an_int(tmp_path):
    path = _preset_file(tmp_path, "tuned: {env_id: CartPole-v1, policy: MlpPolicy, n_timesteps: 1.0e+5}\n")
    assert load_preset(path).n_timesteps == 100_000 and isinstance(load_preset(path).n_timesteps, int)


def test_a_preset_file_with_aliases_is_refused(tmp_path):
    text = "base: &base {env_id: CartPole-v1, policy: MlpPolicy, n_timesteps: 100}\n"
    path = _preset_file(tmp_path, text)
    with pytest.raises(ValueError, match=re.escape(f"Preset file {path} uses an anchor (&base, line 1)")):
        load_preset(path)


def test_a_preset_file_over_the_size_limit_is_refused(tmp_path):
    entry = "tuned: {env_id: CartPole-v1, policy: MlpPolicy, n_timesteps: 100}\n"
    path = _preset_file(tmp_path, entry + "#" * (MAX_YAML_BYTES - len(entry) - 1) + "\n")
    assert load_preset(path).n_timesteps == 100
    path.write_text(entry + "#" * (MAX_YAML_BYTES - len(entry)) + "\n")
    with pytest.raises(ValueError, match=re.escape(f"Preset file {path} is larger than the 1 MiB limit")):
        load_preset(path)


def test_a_sweep_space_with_aliases_is_refused(tmp_path):
    path = tmp_path / "space.yml"
    path.write_text(
        "cartpole:\n  envs: [CartPole-v1]\n  parameters:\n"
        "    gamma: &g {distribution: uniform, low: 0.9, high: 0.99}\n    tau: *g\n"
    )
    with pytest.raises(ValueError, match=re.escape(f"Search space file {path} uses an anchor (&g, line 4)")):
        load_space("CartPole-v1", path)


def test_a_sweep_space_value_of_the_wrong_type_is_one_line(tmp_path):
    path = tmp_path / "space.yml"
    path.write_text(
        "cartpole:\n  envs: [CartPole-v1]\n  parameters:\n    gamma: {distribution: uniform, low: x, high: 0.99}\n"
    )
    with pytest.raises(ValueError, match=re.escape("uniform needs numbers low <= high, got low='x', high=0.99")):
        load_space("CartPole-v1", path)


def test_a_damaged_registry_is_one_line_naming_it(tmp_path):
    path = tmp_path / "registry.json"
    path.write_text('{"format_version": 1, "agents": {')
    with pytest.raises(ValueError, match=re.escape(f"{path} is not valid JSON")) as raised:
        read_registry(path)
    assert "Restore it from the mario-zoo release." in str(raised.value) and "\n" not in str(raised.value)
    path.write_text(json.dumps({"format_version": 1, "agents": {"x": _nested(100)}}))
    with pytest.raises(ValueError, match=re.escape(f"{path} nests 102 levels deep")):
        read_registry(path)
