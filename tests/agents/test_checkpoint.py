"""Checkpoints: round trips, the config.json contract, strict and versioned loading, resuming, atomic writes."""

from __future__ import annotations

import hashlib
import json
import re
import zipfile

import gymnasium as gym
import numpy as np
import pytest
import torch
from safetensors.torch import load_file, save_file

from mario_zoo.agents import DQN
from mario_zoo.agents import checkpoint as ckpt
from mario_zoo.agents.spaces import space_from_dict, space_to_dict

FAST = {"learning_starts": 50, "batch_size": 16, "buffer_size": 1000, "device": "cpu"}


@pytest.fixture(scope="module")
def trained() -> DQN:
    return DQN("MlpPolicy", "CartPole-v1", seed=0, double_q=True, policy_kwargs={"net_arch": [32, 32]}, **FAST).learn(
        400
    )


def assert_same_model(a: DQN, b: DQN) -> None:
    state_a, state_b = a.policy.state_dict(), b.policy.state_dict()
    assert state_a.keys() == state_b.keys()
    for name in state_a:
        assert torch.equal(state_a[name], state_b[name]), name
    observations = np.random.default_rng(0).normal(size=(64, *a.observation_space.shape)).astype(np.float32)
    if a.observation_space.dtype == np.uint8:
        observations = np.random.default_rng(0).integers(0, 256, (8, *a.observation_space.shape), dtype=np.uint8)
    np.testing.assert_array_equal(
        a.predict(observations, deterministic=True)[0], b.predict(observations, deterministic=True)[0]
    )


@pytest.mark.parametrize("name", ["model", "model.zip"])
def test_save_load_gives_identical_parameters_and_actions(trained, tmp_path, name):
    trained.save(tmp_path / name)
    loaded = DQN.load(tmp_path / name)
    assert_same_model(trained, loaded)
    assert loaded.config == trained.config
    assert loaded.num_timesteps == trained.num_timesteps
    assert loaded.exploration_rate == trained.exploration_rate
    assert loaded.get_env() is None


def test_cnn_model_round_trip(frame_env_class, tmp_path):
    model = DQN(
        "CnnPolicy",
        frame_env_class(),
        dueling=True,
        frame_stack_replay=True,
        seed=0,
        policy_kwargs={"features_extractor_kwargs": {"features_dim": 32}},
        **FAST,
    ).learn(80)
    model.save(tmp_path / "cnn.zip")
    assert_same_model(model, DQN.load(tmp_path / "cnn.zip", env=frame_env_class()))


def test_directory_layout_and_config_contract(trained, tmp_path):
    trained.save(tmp_path / "model")
    assert sorted(p.name for p in (tmp_path / "model").iterdir()) == [
        ckpt.CONFIG_FILE,
        ckpt.MODEL_FILE,
        ckpt.OPTIMIZER_FILE,
    ]
    text = (tmp_path / "model" / ckpt.CONFIG_FILE).read_text()
    config = json.loads(text)
    assert text == json.dumps(config, sort_keys=True, indent=2)
    assert config["algorithm"] == "DQN"
    assert config["format_version"] == ckpt.FORMAT_VERSION
    assert config["env_id"] == "CartPole-v1"
    assert isinstance(config["env_kwargs"], dict)
    assert config["policy"] == "MlpPolicy"
    assert config["hyperparameters"]["double_q"] is True
    assert config["network"]["net_arch"] == [32, 32]
    assert config["action_space"] == {"type": "Discrete", "n": 2, "start": 0}
    assert config["observation_space"]["type"] == "Box" and config["observation_space"]["shape"] == [4]
    assert config["num_timesteps"] == trained.num_timesteps
    assert {"rate", "schedule", "total_timesteps"} <= set(config["exploration"])
    assert {"torch", "stable-baselines3", "gymnasium", "python"} <= set(config["versions"])
    assert ckpt.read_config(tmp_path / "model").to_json() == config
    trained.save(tmp_path / "model.zip")
    with zipfile.ZipFile(tmp_path / "model.zip") as archive:
        assert sorted(archive.namelist()) == sorted([ckpt.CONFIG_FILE, ckpt.MODEL_FILE, ckpt.OPTIMIZER_FILE])
    assert ckpt.read_config(tmp_path / "model.zip").to_json() == config


def test_saving_without_optimizer(trained, tmp_path):
    trained.save(tmp_path / "light", include_optimizer=False)
    assert not (tmp_path / "light" / ckpt.OPTIMIZER_FILE).exists()
    assert_same_model(trained, DQN.load(tmp_path / "light"))


def test_newer_format_version_is_refused(trained, tmp_path):
    trained.save(tmp_path / "model")
    config_file = tmp_path / "model" / ckpt.CONFIG_FILE
    config = json.loads(config_file.read_text())
    config["format_version"] = ckpt.FORMAT_VERSION + 1
    config_file.write_text(json.dumps(config))
    with pytest.raises(ValueError, match=re.escape(f"has checkpoint format_version {ckpt.FORMAT_VERSION + 1}")):
        DQN.load(tmp_path / "model")


@pytest.mark.parametrize("change", ["missing", "extra", "reshaped"])
def test_loading_is_strict(trained, tmp_path, change):
    trained.save(tmp_path / "model")
    weights_file = tmp_path / "model" / ckpt.MODEL_FILE
    weights = load_file(weights_file)
    head_bias = "q_net.layers.4.bias"  # net_arch [32, 32]: Linear, ReLU, Linear, ReLU, head
    assert head_bias in weights
    if change == "missing":
        del weights[head_bias]
    elif change == "extra":
        weights["q_net.extra"] = torch.zeros(1)
    else:
        weights[head_bias] = torch.zeros(7)
    save_file(weights, weights_file)
    _record_sha256(tmp_path / "model", ckpt.MODEL_FILE)  # a consistent checkpoint whose weights do not fit
    with pytest.raises(ValueError, match=re.escape("the weights do not match the network built from its config")):
        DQN.load(tmp_path / "model")


def _record_sha256(folder, name):
    config_file = folder / ckpt.CONFIG_FILE
    config = json.loads(config_file.read_text())
    config["files"][name] = hashlib.sha256((folder / name).read_bytes()).hexdigest()
    config_file.write_text(json.dumps(config))


def test_missing_checkpoint_is_explained(tmp_path):
    with pytest.raises(FileNotFoundError, match=re.escape("nothing (nor ")):
        DQN.load(tmp_path / "nothing")
    (tmp_path / "empty").mkdir()
    with pytest.raises(FileNotFoundError, match=re.escape("is not a mario_zoo checkpoint: it has no config.json")):
        DQN.load(tmp_path / "empty")


def test_resume_continues_counters_optimizer_and_exploration(tmp_path):
    model = DQN(
        "MlpPolicy", "CartPole-v1", seed=0, exploration_schedule="exponential", exploration_decay=200, **FAST
    ).learn(300)
    model.save(tmp_path / "model")
    loaded = DQN.load(tmp_path / "model", env=gym.make("CartPole-v1"))
    saved_state = model.optimizer.state_dict()["state"]
    for index, state in loaded.optimizer.state_dict()["state"].items():
        for name, value in state.items():
            assert torch.equal(value, saved_state[index][name]), (index, name)
    updates = loaded._n_updates
    loaded.learn(200, reset_num_timesteps=False)
    assert loaded.num_timesteps == 500
    # The exponential schedule continues from step 300 (not from its start), and training resumed once the
    # empty replay buffer refilled learning_starts transitions.
    assert loaded.exploration_rate == pytest.approx(0.05 + 0.95 * np.exp(-500 / 200))
    assert loaded._n_updates > updates


def test_load_overrides_and_env_checks(trained, tmp_path):
    trained.save(tmp_path / "model")
    assert DQN.load(tmp_path / "model", learning_rate=0.5).optimizer.param_groups[0]["lr"] == 0.5
    with pytest.raises(TypeError, match=re.escape("Unknown DQN hyperparameter 'gama' (did you mean 'gamma'?)")):
        DQN.load(tmp_path / "model", gama=0.9)
    with pytest.raises(ValueError, match=re.escape("differ from the model's")):
        DQN.load(tmp_path / "model", env="Acrobot-v1")


def test_writes_are_atomic_and_never_clobber_other_folders(trained, tmp_path):
    trained.save(tmp_path / "model")
    trained.save(tmp_path / "model")  # replacing a checkpoint is fine
    assert sorted(p.name for p in tmp_path.iterdir()) == ["model"]  # no temporary leftovers
    (tmp_path / "notes").mkdir()
    (tmp_path / "notes" / "thesis.tex").write_text("precious")
    with pytest.raises(FileExistsError, match=re.escape("holds other files than a checkpoint's")):
        trained.save(tmp_path / "notes")
    assert (tmp_path / "notes" / "thesis.tex").read_text() == "precious"


def test_spaces_round_trip_as_plain_data():
    for space in (
        gym.spaces.Box(-np.inf, np.inf, (4,), np.float32),
        gym.spaces.Box(0, 255, (4, 84, 84), np.uint8),
        gym.spaces.Box(np.array([0.0, -1.0]), np.array([1.0, 2.0]), dtype=np.float64),
        gym.spaces.Discrete(5, start=1),
    ):
        data = space_to_dict(space)
        assert json.loads(json.dumps(data, allow_nan=False)) == data
        assert space_from_dict(data) == space


def test_a_zip_checkpoints_members_unpack_with_the_usual_permissions(tmp_path):
    import os
    import stat
    import zipfile

    from mario_zoo.agents import DQN

    model = DQN("MlpPolicy", "CartPole-v1", learning_starts=10, seed=0, device="cpu").learn(20)
    model.save(tmp_path / "agent.zip", include_replay_buffer=True)
    umask = os.umask(0o022)
    os.umask(umask)
    with zipfile.ZipFile(tmp_path / "agent.zip") as archive:
        modes = {info.filename: stat.S_IMODE(info.external_attr >> 16) for info in archive.infolist()}
        assert {"replay.safetensors", "model.safetensors", "config.json"} <= set(modes)
        assert set(modes.values()) == {0o666 & ~umask}
        archive.extractall(tmp_path / "out")
    assert DQN.load(tmp_path / "agent.zip").num_timesteps == 20


@pytest.mark.parametrize(
    ("training", "message"),
    [
        ({"verbose": -1}, "invalid 'training' entry: expected a whole number >= 0, got -1"),
        ({"tensorboard_log": 7}, "expected tensorboard_log a folder path (up to 4096 characters) or null, got 7"),
        ({"tensorboard_log": "x" * 5000}, "(up to 4096 characters) or null, got a string of 5,000 characters"),
        ({"ep_info_buffer": {"r": 1}}, "expected ep_info_buffer a list"),
        ({"ep_info_buffer": [{"r": "1"}]}, "expected an episode's statistics as up to 32 names of finite numbers"),
        ({"ep_info_buffer": [{"r": float("nan")}]}, "expected an episode's statistics as up to 32 names"),
        ({"ep_info_buffer": [{"r": 1.0}] * 101}, "ep_info_buffer holds 101 episodes, more than stats_window_size=100"),
    ],
)
def test_the_kept_run_options_and_episodes_are_checked_on_load(trained, tmp_path, training, message):
    trained.save(tmp_path / "model")
    config_file = tmp_path / "model" / ckpt.CONFIG_FILE
    config = json.loads(config_file.read_text())
    config["training"].update(training)
    config_file.write_text(json.dumps(config))
    with pytest.raises(ckpt.CheckpointError, match=re.escape(message)):
        DQN.load(tmp_path / "model")


def _edited(config: dict, path: str, value: object) -> dict:
    """``config`` with the entry at ``path`` ("a.b"; value ``...`` deletes it) replaced."""
    *parents, last = path.split(".")
    target = config
    for key in parents:
        target = target[key]
    if value is ...:
        del target[last]
    else:
        target[last] = value
    return config


@pytest.mark.parametrize(
    ("path", "value", "message"),
    [
        ("network.n_actions", 2.0, "n_actions and features_dim must be whole numbers >= 1, got 2.0"),
        ("network.observation_shape", [4.0], "observation_shape must be a list of whole numbers >= 1, got (4.0,)"),
        ("network.dueling", "no", "dueling must be true or false, got 'no'"),
        ("policy_kwargs", ..., "lacks the key"),
        ("seed", ..., "lacks the key"),
        ("seed", 2**80, "invalid 'seed' entry: expected a seed below 2**32 (numpy's limit) or null"),
        ("training", ..., "lacks the key"),
        ("hyperparameters.gamma", ..., "lacks the hyperparameters ['gamma'], which format version 9 records"),
        ("format_version", 1, "says format version 1 but holds ["),
        ("network.net_arch", [10_000_000, 10_000_000], "would have 100,000,0"),
    ],
)
def test_a_config_that_is_not_what_its_version_wrote_is_refused_before_anything_is_built(
    trained, tmp_path, path, value, message
):
    """Wrong types, missing keys or hyperparameters (which would load as today's defaults, not the agent's), a
    version older than the fields it holds (which would skip the sha256 check), and a network too large to build
    are each one CheckpointError naming config.json, raised before any tensor is allocated."""
    trained.save(tmp_path / "model")
    config_file = tmp_path / "model" / ckpt.CONFIG_FILE
    config = _edited(json.loads(config_file.read_text()), path, value)
    if path == "network.net_arch":
        config["policy_kwargs"]["net_arch"] = value
    if path == "format_version":
        del config["files"]
    config_file.write_text(json.dumps(config))
    pattern = re.escape(f"missing: ['{path}']") if message == "lacks the key" else re.escape(message)
    with pytest.raises(ckpt.CheckpointError, match=pattern):
        DQN.load(tmp_path / "model")


def test_a_zip_member_that_inflates_past_what_the_network_can_hold_is_refused_unread(trained, tmp_path):
    """A zip bomb: 50 MB of zeros where the network's weights take kilobytes, a few KB compressed. The member is
    refused once more than the network's float32 weights (and a header) have been inflated, not read whole."""
    import zipfile

    trained.save(tmp_path / "agent.zip")
    with zipfile.ZipFile(tmp_path / "agent.zip") as archive:
        members = {name: archive.read(name) for name in archive.namelist()}
    limit = ckpt.max_tensor_bytes(ckpt.read_config(tmp_path / "agent.zip").network, ckpt.MODEL_FILE)
    assert len(members[ckpt.MODEL_FILE]) <= limit < 50_000_000
    members[ckpt.MODEL_FILE] = bytes(50_000_000)
    with zipfile.ZipFile(tmp_path / "bomb.zip", "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    assert (tmp_path / "bomb.zip").stat().st_size < 1_000_000
    with pytest.raises(ckpt.CheckpointError, match=r"bomb\.zip:model\.safetensors is larger than the .* limit"):
        DQN.load(tmp_path / "bomb.zip")


@pytest.mark.parametrize(
    ("file", "change", "message"),
    [
        ("model", lambda t: t.fill_(float("nan")), "hold nan or infinite values: the training diverged"),
        ("model", lambda t: t.fill_(float("inf")), "hold nan or infinite values"),
        ("model", lambda t: t.to(torch.int32), "weights that must be floating point are not (q_net."),
        ("optimizer", lambda t: t.fill_(float("nan")), "hold nan or infinite values"),
    ],
)
def test_weights_that_no_training_writes_are_refused(trained, tmp_path, file, change, message):
    """Weights of the right names and shapes, with a matching sha256, that hold nan/inf or integers (a diverged run
    or a crafted file) would load and act: argmax of nan Q-values is always action 0."""
    import hashlib

    from safetensors.torch import load_file, save_file

    trained.save(tmp_path / "model")
    name = ckpt.MODEL_FILE if file == "model" else ckpt.OPTIMIZER_FILE
    tensors = load_file(tmp_path / "model" / name)
    first = next(key for key, tensor in sorted(tensors.items()) if tensor.is_floating_point() and tensor.numel() > 1)
    tensors[first] = change(tensors[first].clone())
    save_file(tensors, tmp_path / "model" / name)
    config_file = tmp_path / "model" / ckpt.CONFIG_FILE
    config = json.loads(config_file.read_text())
    config["files"][name] = hashlib.sha256((tmp_path / "model" / name).read_bytes()).hexdigest()
    config_file.write_text(json.dumps(config))
    with pytest.raises(ckpt.CheckpointError, match=re.escape(message)):
        DQN.load(tmp_path / "model")


@pytest.mark.parametrize(
    ("version", "drop", "add"),
    [
        (2, ("actors", "actor_sync_interval", "precision", "learning_rate_final", "ema_decay"), ()),  # early format 2
        (2, ("ema_decay",), ()),  # learning_rate_final arrived partway through format 2
        (3, (), ()),  # ema_decay arrived partway through format 3
        (4, ("target_epsilon",), ()),
    ],
)
def test_checkpoints_that_older_versions_wrote_still_load(trained, tmp_path, version, drop, add):
    """Hyperparameters that arrived partway through a format version may be missing from its checkpoints, and load
    with their defaults, which are what those agents trained with."""
    trained.save(tmp_path / "model")
    config_file = tmp_path / "model" / ckpt.CONFIG_FILE
    config = json.loads(config_file.read_text())
    config["format_version"] = version
    later = ("target_epsilon", "advantage_learning", "exploration_repeat", "frontier_exploration_eps",
             "frontier_exploration_steps")  # fmt: skip
    for name in (*later, *drop):
        config["hyperparameters"].pop(name, None)
    if version < 3:
        config.pop("train_env_kwargs", None)
    config_file.write_text(json.dumps(config))
    loaded = DQN.load(tmp_path / "model")
    assert loaded.config.ema_decay is None and loaded.config.actors == 0


def _drop_weights(folder, keep):
    """Rewrite ``folder``'s model.safetensors with the weights ``keep(name)`` accepts, its sha256 recorded."""
    weights = load_file(folder / ckpt.MODEL_FILE)
    save_file({name: tensor for name, tensor in weights.items() if keep(name)}, folder / ckpt.MODEL_FILE)
    _record_sha256(folder, ckpt.MODEL_FILE)


def test_an_agent_stored_without_its_target_network_loads_with_the_target_a_copy_of_the_online_one(trained, tmp_path):
    trained.save(tmp_path / "model", include_optimizer=False)
    _drop_weights(tmp_path / "model", lambda name: not name.startswith(ckpt.TARGET_PREFIX))
    stored = ckpt.read_checkpoint(tmp_path / "model")
    assert not stored.target_stored
    loaded = DQN.load(tmp_path / "model")
    for name, tensor in loaded.q_net.state_dict().items():
        assert torch.equal(loaded.q_net_target.state_dict()[name], tensor), name
        assert torch.equal(tensor, trained.q_net.state_dict()[name]), name
    assert loaded.q_net_target.state_dict()[name].data_ptr() != tensor.data_ptr(), "a copy, not the same tensor"
    observations = np.random.default_rng(0).normal(size=(64, 4)).astype(np.float32)
    greedy = [agent.predict(observations, deterministic=True)[0] for agent in (loaded, trained)]
    np.testing.assert_array_equal(*greedy)
    loaded.set_env(gym.make("CartPole-v1"))
    loaded.learn(100)  # fine-tunes as a fresh agent would: its target network starts as the online one
    assert ckpt.read_checkpoint(tmp_path / "model").target_stored is False


def test_a_target_network_stored_in_part_or_left_out_by_an_older_format_is_refused(trained, tmp_path):
    trained.save(tmp_path / "part")
    _drop_weights(tmp_path / "part", lambda name: name != "q_net_target.layers.4.bias")
    with pytest.raises(ckpt.CheckpointError, match=re.escape("missing: ['q_net_target.layers.4.bias']")):
        DQN.load(tmp_path / "part")
    trained.save(tmp_path / "old")
    _drop_weights(tmp_path / "old", lambda name: not name.startswith(ckpt.TARGET_PREFIX))
    config_file = tmp_path / "old" / ckpt.CONFIG_FILE
    config = json.loads(config_file.read_text())
    config["format_version"] = ckpt.TARGET_OPTIONAL_SINCE - 1
    config_file.write_text(json.dumps(config))
    with pytest.raises(ckpt.CheckpointError, match=re.escape("missing: ['q_net_target.")):
        DQN.load(tmp_path / "old")


def test_saving_keeps_the_target_network_for_a_lossless_resume(trained, tmp_path):
    trained.save(tmp_path / "model")
    assert any(name.startswith(ckpt.TARGET_PREFIX) for name in load_file(tmp_path / "model" / ckpt.MODEL_FILE))
    assert ckpt.read_checkpoint(tmp_path / "model").target_stored
