"""What an SB3 user types works: ``learn(1e5)``, ``get_parameters``/``set_parameters``, ``set_random_seed``,
``DQN.load("x")`` finding ``x.zip`` (and ``"x.zip"`` the directory ``x``), SB3's own DQN zips, and ``model.env_id``/``model.env_kwargs``."""

from __future__ import annotations

import copy
import importlib.metadata
import re
import zipfile

import gymnasium as gym
import numpy as np
import pytest
import stable_baselines3
import torch
from stable_baselines3.common.callbacks import BaseCallback
from stable_baselines3.common.type_aliases import TrainFrequencyUnit
from stable_baselines3.common.vec_env import DummyVecEnv, VecNormalize

from mario_zoo.agents import DQN
from mario_zoo.agents.checkpoint import CheckpointError

FAST = {"learning_starts": 50, "batch_size": 16, "buffer_size": 1000, "device": "cpu"}


def _cartpole(seed: int = 0, **kwargs) -> DQN:
    return DQN("MlpPolicy", "CartPole-v1", seed=seed, policy_kwargs={"net_arch": [16, 16]}, **FAST, **kwargs)


def _observations(n: int = 100) -> np.ndarray:
    return np.random.default_rng(1).normal(size=(n, 4)).astype(np.float32)


def test_learn_takes_a_float_step_count_as_sb3_does():
    model = _cartpole().learn(1e3)
    assert model.num_timesteps == 1000
    with pytest.raises(TypeError, match=re.escape("total_timesteps must be a whole number such as 100_000 or 1e5")):
        model.learn(10.5)


def test_get_and_set_parameters_round_trip():
    source, target = _cartpole(seed=0).learn(200), _cartpole(seed=1)
    params = source.get_parameters()
    assert sorted(params) == ["policy", "policy.optimizer"]
    target.set_parameters(params)
    for name, tensor in source.policy.state_dict().items():
        assert torch.equal(tensor, target.policy.state_dict()[name]), name
    assert target.optimizer.state_dict()["state"].keys() == source.optimizer.state_dict()["state"].keys()
    np.testing.assert_array_equal(
        source.predict(_observations(), deterministic=True)[0], target.predict(_observations(), deterministic=True)[0]
    )


def test_set_parameters_follows_sb3_exact_match_rules(tmp_path):
    source, target = _cartpole(seed=0).learn(200), _cartpole(seed=1)
    with pytest.raises(ValueError, match=re.escape("Names ['policy.optimizer'] were not found")):
        target.set_parameters({"policy": source.policy.state_dict()})
    target.set_parameters({"policy": source.policy.state_dict()}, exact_match=False)
    assert torch.equal(target.q_net.layers[0].weight, source.q_net.layers[0].weight)
    with pytest.raises(ValueError, match=re.escape("Unknown parameter object(s) ['critic']; valid names are")):
        target.set_parameters({"critic": {}}, exact_match=False)
    source.save(tmp_path / "source")
    fresh = _cartpole(seed=2)
    fresh.set_parameters(tmp_path / "source")
    assert torch.equal(fresh.q_net.layers[0].weight, source.q_net.layers[0].weight)


@pytest.mark.parametrize("policy", ["MlpPolicy", "CnnPolicy"])
def test_set_parameters_takes_sb3s_get_parameters(policy, frame_env_class):
    env = (lambda: gym.make("CartPole-v1")) if policy == "MlpPolicy" else frame_env_class
    kwargs = {"net_arch": [32]}
    sb3 = stable_baselines3.DQN(policy, env(), policy_kwargs=kwargs, buffer_size=10, device="cpu")
    ours = DQN(policy, env(), policy_kwargs=kwargs, buffer_size=10, device="cpu")
    ours.set_parameters(sb3.get_parameters())
    observations = np.stack([env().observation_space.sample() for _ in range(16)])
    assert np.array_equal(ours.predict(observations, deterministic=True)[0], sb3.predict(observations, True)[0])


def test_set_parameters_keeps_this_agents_optimizer_settings():
    kwargs = {"policy_kwargs": {"net_arch": [32]}, "device": "cpu"}
    sb3 = stable_baselines3.DQN("MlpPolicy", "CartPole-v1", **kwargs)
    ours = DQN("MlpPolicy", "CartPole-v1", optimizer="adamw", adam_eps=1e-4, weight_decay=0.01, **kwargs)
    ours.set_parameters(sb3.get_parameters())
    group = ours.optimizer.param_groups[0]
    assert (group["eps"], group["weight_decay"]) == (1e-4, 0.01) == (ours.config.adam_eps, ours.config.weight_decay)


def test_set_parameters_of_another_network_says_what_fits():
    sb3 = stable_baselines3.DQN("MlpPolicy", "CartPole-v1", policy_kwargs={"net_arch": [32]}, device="cpu")
    with pytest.raises(CheckpointError, match=re.escape("Pass get_parameters() of an agent with the same network")):
        DQN("MlpPolicy", "CartPole-v1", device="cpu").set_parameters(sb3.get_parameters())


def test_set_random_seed_makes_exploration_repeatable():
    first, second = _cartpole(seed=0), _cartpole(seed=5)
    first.exploration_rate = second.exploration_rate = 0.5
    second.set_parameters(first.get_parameters())
    for model in (first, second):
        model.set_random_seed(7)
    draws = [[model.predict(_observations(), deterministic=False)[0] for _ in range(3)] for model in (first, second)]
    np.testing.assert_array_equal(np.stack(draws[0]), np.stack(draws[1]))
    first.set_random_seed(None)  # SB3: nothing happens


def test_load_finds_the_zip_sb3_style(tmp_path):
    model = _cartpole().learn(100)
    model.save(tmp_path / "agent.zip")
    assert DQN.load(tmp_path / "agent").num_timesteps == model.num_timesteps
    assert DQN.load(str(tmp_path / "agent")).num_timesteps == model.num_timesteps


def test_load_of_x_zip_finds_the_directory_x_that_save_wrote(tmp_path):
    # save("x") writes a directory (SB3 would write x.zip), and SB3's EvalCallback saves best_model that way: an SB3
    # user then loads "best_model.zip".
    model = _cartpole().learn(100)
    model.save(tmp_path / "agent")
    assert DQN.load(tmp_path / "agent.zip").num_timesteps == model.num_timesteps
    (tmp_path / "file").write_text("not a checkpoint")  # a plain file x is no fallback for x.zip
    with pytest.raises(
        FileNotFoundError, match=re.escape(f"({tmp_path / 'file'} is a file, not a checkpoint directory)")
    ):
        DQN.load(tmp_path / "file.zip")
    with pytest.raises(FileNotFoundError, match=re.escape(f"(nor {tmp_path / 'missing'}).")):
        DQN.load(tmp_path / "missing.zip")
    # The CLI's AGENT argument too: `mario-zoo evaluate agent.zip`.
    from mario_zoo.sources import parse_source

    assert parse_source(str(tmp_path / "agent.zip")).location == str(tmp_path / "agent")


def test_save_and_load_take_a_binary_file_object_as_sb3s_do():
    import io

    model = _cartpole().learn(100)
    buffer = io.BytesIO()
    model.save(buffer)
    buffer.seek(0)
    loaded = DQN.load(buffer)
    assert loaded.num_timesteps == model.num_timesteps
    observations = _observations()
    np.testing.assert_array_equal(
        loaded.predict(observations, deterministic=True)[0], model.predict(observations, deterministic=True)[0]
    )
    with pytest.raises(ValueError, match=r"^the file object <_io\.BytesIO object at .*> is neither a checkpoint"):
        DQN.load(io.BytesIO(b"not a zip"))


def test_save_takes_sb3s_exclude_and_include(tmp_path):
    from mario_zoo.agents.training_state import has_replay

    model = _cartpole().learn(100)
    model.save(tmp_path / "plain.zip", exclude=["env", "replay_buffer", "_last_obs"])
    assert not has_replay(tmp_path / "plain.zip")
    loaded = DQN.load(tmp_path / "plain.zip")  # weights and optimizer are saved whatever exclude says, as in SB3
    assert loaded.num_timesteps == model.num_timesteps
    assert loaded.optimizer.state_dict()["state"]

    model.save(tmp_path / "with_buffer.zip", include=["replay_buffer"])
    assert has_replay(tmp_path / "with_buffer.zip")
    model.save(tmp_path / "both.zip", exclude=["replay_buffer"], include=["replay_buffer"])  # SB3: include wins
    assert has_replay(tmp_path / "both.zip")
    resumed = DQN.load(tmp_path / "with_buffer.zip")
    resumed.load_replay_buffer(tmp_path / "with_buffer.zip")
    assert resumed.replay_buffer.size() == model.replay_buffer.size() == 100


@pytest.mark.parametrize(
    ("arguments", "error", "message"),
    [
        ({"include": ["env"]}, ValueError, r"^save\(include=\['env'\]\): .* is 'replay_buffer'"),
        ({"exclude": "env"}, TypeError, r"^exclude must be a list of attribute names .* exclude=\['env'\]"),
        ({"include": [3]}, TypeError, r"^include must hold attribute names \(strings\), got 3"),
        (
            {"exclude": ["replay_buffer"], "include_replay_buffer": True},
            ValueError,
            r"contradicts itself; drop one of them",
        ),
    ],
)
def test_save_explains_bad_exclude_and_include_and_writes_nothing(tmp_path, arguments, error, message):
    model = _cartpole()
    with pytest.raises(error, match=message):
        model.save(tmp_path / "agent.zip", **arguments)
    assert list(tmp_path.iterdir()) == []


def test_sb3s_positional_exclude_is_refused_not_read_as_include_optimizer(tmp_path):
    model = _cartpole()
    with pytest.raises(TypeError, match=r"include_optimizer must be True or False, got \['env'\]\. .*exclude=\["):
        model.save(tmp_path / "agent.zip", ["env"])
    assert list(tmp_path.iterdir()) == []


def test_a_loaded_model_names_the_env_it_was_trained_on(tmp_path):
    model = DQN("MlpPolicy", gym.make("CartPole-v1", sutton_barto_reward=True), **FAST)
    assert (model.env_id, model.env_kwargs) == ("CartPole-v1", {"sutton_barto_reward": True})
    model.save(tmp_path / "agent")
    loaded = DQN.load(tmp_path / "agent")
    env = gym.make(loaded.env_id, **loaded.env_kwargs)
    assert env.spec.kwargs == {"sutton_barto_reward": True}
    loaded.env_kwargs["sutton_barto_reward"] = False  # a copy: the model's record is unchanged
    assert loaded.env_kwargs == {"sutton_barto_reward": True}
    with pytest.raises(AttributeError):
        loaded.env_id = "Acrobot-v1"


def test_an_sb3_mlp_zip_loads_without_unpickling_and_acts_the_same(tmp_path, monkeypatch):
    sb3_model = stable_baselines3.DQN("MlpPolicy", "CartPole-v1", policy_kwargs={"net_arch": [32, 16]}, gamma=0.9,
                                      learning_starts=10, seed=0, device="cpu").learn(100)  # fmt: skip
    sb3_model.save(tmp_path / "sb3_agent")
    import pickle

    def refuse(*args, **kwargs):
        raise AssertionError("unpickling is not allowed")

    monkeypatch.setattr(pickle, "loads", refuse)
    monkeypatch.setattr(pickle, "load", refuse)
    model = DQN.load(tmp_path / "sb3_agent")
    monkeypatch.undo()
    assert model.gamma == 0.9 and model.spec.net_arch == (32, 16) and model.env_id is None
    np.testing.assert_array_equal(
        model.predict(_observations(), deterministic=True)[0],
        sb3_model.predict(_observations(), deterministic=True)[0],
    )


def test_an_sb3_cnn_zip_acts_the_same(tmp_path, frame_env_class):
    sb3_model = stable_baselines3.DQN("CnnPolicy", frame_env_class(), learning_starts=10, buffer_size=100,
                                      policy_kwargs={"features_extractor_kwargs": {"features_dim": 32}}, seed=0,
                                      device="cpu").learn(30)  # fmt: skip
    sb3_model.save(tmp_path / "sb3_cnn.zip")
    model = DQN.load(tmp_path / "sb3_cnn.zip", env=frame_env_class())
    frames = np.random.default_rng(0).integers(0, 256, (16, 4, 84, 84), dtype=np.uint8)
    np.testing.assert_array_equal(
        model.predict(frames, deterministic=True)[0], sb3_model.predict(frames, deterministic=True)[0]
    )


def test_an_sb3_zip_it_cannot_convert_names_the_reason(tmp_path):
    from mario_zoo.agents import DuelingMlpPolicy
    from mario_zoo.agents.checkpoint import CheckpointError

    stable_baselines3.DQN(DuelingMlpPolicy, "CartPole-v1", device="cpu").save(tmp_path / "dueling")
    with pytest.raises(CheckpointError, match=r"dueling\.zip is a Stable-Baselines3 zip that mario_zoo cannot convert"):
        DQN.load(tmp_path / "dueling")


# -- issue 21: what SB3 scripts pass to DQN(...), DQN.load, set_parameters, the replay buffer, predict ----------


@pytest.fixture
def saved_cartpole(tmp_path):
    """A trained CartPole model and the path it was saved to."""
    model = _cartpole().learn(100)
    model.save(tmp_path / "agent")
    return model, tmp_path / "agent"


def test_load_takes_rl_zoo_enjoys_custom_objects_and_kwargs(saved_cartpole):
    _, path = saved_cartpole
    # What rl-zoo's enjoy.py passes for every off-policy algorithm.
    custom_objects = {"learning_rate": 0.0, "lr_schedule": lambda _: 0.0, "clip_range": lambda _: 0.0}
    with pytest.warns(UserWarning, match=re.escape("DQN.load ignored custom_objects ['clip_range']")):
        model = DQN.load(path, custom_objects=custom_objects, seed=0, buffer_size=1, optimize_memory_usage=False)
    assert (model.learning_rate, model.buffer_size, model.seed) == (0.0, 1, 0)
    assert model.optimizer.param_groups[0]["lr"] == 0.0


def test_custom_objects_replace_attributes_and_kwargs_win_as_in_sb3(saved_cartpole, recwarn):
    _, path = saved_cartpole
    model = DQN.load(path, custom_objects={"gamma": 0.5, "exploration_rate": 0.3, "verbose": 1}, gamma=0.8)
    assert (model.gamma, model.exploration_rate, model.verbose) == (0.8, 0.3, 1)
    assert not recwarn.list  # every key applied: nothing to warn about
    with pytest.raises(ValueError, match=re.escape("custom_objects must be a dict or None, got a list")):
        DQN.load(path, custom_objects=["learning_rate"])


def test_load_overrides_hyperparameters_and_a_zero_learning_rate_freezes_the_weights(saved_cartpole):
    trained, path = saved_cartpole
    model = DQN.load(path, env="CartPole-v1", learning_rate=0.0, learning_starts=0, exploration_initial_eps=0.2,
                     exploration_final_eps=0.0, exploration_rate=0.0, target_update_interval=5)  # fmt: skip
    assert model.exploration_rate == 0.0 and model.exploration_final_eps == 0.0
    model.learn(64, reset_num_timesteps=False)
    assert model._n_updates > trained._n_updates  # it trained, with a step size of zero
    for name, tensor in trained.q_net.state_dict().items():  # the target net moved to the (unchanged) online one
        assert torch.equal(tensor, model.q_net.state_dict()[name]), name


def test_load_explains_truly_bad_overrides(saved_cartpole):
    _, path = saved_cartpole
    with pytest.raises(ValueError, match=re.escape("learning_rate must be in [0.0, inf), got -0.001.")):
        DQN.load(path, learning_rate=-1e-3)
    with pytest.raises(ValueError, match=re.escape("gamma must be in [0.0, 1.0], got 1.5.")):
        DQN.load(path, custom_objects={"gamma": 1.5})
    with pytest.raises(ValueError, match=re.escape("exploration_rate must be in [0.0, 1.0], got 2.")):
        DQN.load(path, exploration_rate=2)
    with pytest.raises(TypeError, match=re.escape("Unknown DQN hyperparameter 'gama' (did you mean 'gamma'?)")):
        DQN.load(path, gama=0.9)
    with pytest.raises(ValueError, match=re.escape("The specified policy kwargs do not equal the stored policy")):
        DQN.load(path, policy_kwargs={"net_arch": [64, 64]})
    assert DQN.load(path, policy_kwargs={"net_arch": [16, 16]}).spec.net_arch == (16, 16)


def test_load_prints_system_info_as_sb3_does(saved_cartpole, capsys):
    _, path = saved_cartpole
    DQN.load(path, print_system_info=True)
    out = capsys.readouterr().out
    current, saved = out.split("== SAVED MODEL SYSTEM INFO ==")
    assert current.startswith("== CURRENT SYSTEM INFO ==")
    torch_version = importlib.metadata.version("torch")
    assert f"- torch: {torch_version}" in current and f"- torch: {torch_version}" in saved
    DQN.load(path)
    assert capsys.readouterr().out == ""


def test_load_prints_an_sb3_zips_system_info(tmp_path, capsys):
    stable_baselines3.DQN("MlpPolicy", "CartPole-v1", device="cpu").save(tmp_path / "sb3_agent")
    DQN.load(tmp_path / "sb3_agent", print_system_info=True)
    saved = capsys.readouterr().out.split("== SAVED MODEL SYSTEM INFO ==")[1]
    assert f"- Stable-Baselines3: {stable_baselines3.__version__}" in saved


def test_load_takes_force_reset(saved_cartpole):
    _, path = saved_cartpole
    kept = DQN.load(path, env="CartPole-v1", force_reset=False)
    assert kept.get_env() is not None and kept._last_obs is None  # nothing saved to continue from: learn resets
    assert kept.learn(12, reset_num_timesteps=False).num_timesteps == 112
    with pytest.raises(TypeError, match=re.escape("force_reset must be True or False, got 'no'.")):
        DQN.load(path, env="CartPole-v1", force_reset="no")


def test_sb3_replay_arguments_are_accepted_where_they_mean_our_replay():
    from stable_baselines3.common.buffers import ReplayBuffer as SB3ReplayBuffer

    from mario_zoo.agents.replay import ReplayBuffer

    for arguments in (
        {"optimize_memory_usage": False, "replay_buffer_class": None, "replay_buffer_kwargs": None},
        {"optimize_memory_usage": True, "replay_buffer_kwargs": {"handle_timeout_termination": True}},
        {"replay_buffer_class": SB3ReplayBuffer, "replay_buffer_kwargs": {}},
        {"replay_buffer_class": ReplayBuffer, "n_steps": 3},
    ):
        model = _cartpole(**arguments).learn(60)
        assert len(model.replay_buffer) == 60, arguments


@pytest.mark.parametrize(
    ("arguments", "error", "message"),
    [
        ({"optimize_memory_usage": "yes"}, TypeError, "optimize_memory_usage must be True or False, got 'yes'."),
        (
            {"replay_buffer_class": "NStepReplayBuffer"},
            ValueError,
            "replay_buffer_class='NStepReplayBuffer' is not supported: mario_zoo's replay is chosen by hyperparameters",
        ),
        (
            {"replay_buffer_kwargs": {"handle_timeout_termination": False}},
            ValueError,
            "replay_buffer_kwargs handle_timeout_termination=False is not supported: SB3 then treats time-limit",
        ),
        (
            {"replay_buffer_kwargs": {"n_steps": 3}},
            ValueError,
            "Unsupported replay_buffer_kwargs ['n_steps']; mario_zoo's replay takes only handle_timeout_termination=True",
        ),
        ({"replay_buffer_kwargs": [1]}, TypeError, "replay_buffer_kwargs must be a dict or None, got [1]."),
    ],
)
def test_sb3_replay_arguments_we_do_not_support_are_explained(arguments, error, message):
    with pytest.raises(error, match=re.escape(message)):
        _cartpole(**arguments)


def test_sb3_replay_classes_name_our_replay_options():
    from stable_baselines3.common.buffers import NStepReplayBuffer, ReplayBuffer
    from stable_baselines3.her import HerReplayBuffer

    with pytest.raises(ValueError, match=re.escape("pass n_steps=3 (mario_zoo's replay computes n-step returns)")):
        _cartpole(replay_buffer_class=NStepReplayBuffer)
    with pytest.raises(ValueError, match=re.escape("prioritized_replay, prioritized_replay_alpha")):
        _cartpole(replay_buffer_class=HerReplayBuffer)
    with pytest.raises(ValueError, match=re.escape("SB3 ignores n_steps=3 with replay_buffer_class=ReplayBuffer")):
        _cartpole(replay_buffer_class=ReplayBuffer, n_steps=3)


def test_set_parameters_takes_an_sb3_zip_with_its_optimizer_state(tmp_path):
    sb3_model = stable_baselines3.DQN("MlpPolicy", "CartPole-v1", policy_kwargs={"net_arch": [16, 16]},
                                      learning_starts=10, seed=0, device="cpu").learn(100)  # fmt: skip
    sb3_model.save(tmp_path / "sb3_dqn.zip")
    model = _cartpole(seed=3)
    model.set_parameters(tmp_path / "sb3_dqn.zip")  # exact_match=True, SB3's default
    for ours, theirs in zip(model.q_net.parameters(), sb3_model.q_net.parameters(), strict=True):
        assert torch.equal(ours, theirs)
    our_state, their_state = model.optimizer.state_dict()["state"], sb3_model.policy.optimizer.state_dict()["state"]
    assert sorted(our_state) == sorted(their_state) == [0, 1, 2, 3, 4, 5]
    for index, state in their_state.items():
        assert torch.equal(our_state[index]["exp_avg_sq"], state["exp_avg_sq"]), index
        assert float(our_state[index]["step"]) == float(state["step"])
    np.testing.assert_array_equal(
        model.predict(_observations(), deterministic=True)[0], sb3_model.predict(_observations(), deterministic=True)[0]
    )
    # DQN.load keeps the SB3 optimizer state too, so training continues where SB3 stopped.
    assert DQN.load(tmp_path / "sb3_dqn.zip").optimizer.state_dict()["state"].keys() == their_state.keys()


def test_the_replay_buffer_answers_sb3s_questions():
    from stable_baselines3.common.env_util import make_vec_env

    model = _cartpole().learn(32)
    sb3_model = stable_baselines3.DQN("MlpPolicy", "CartPole-v1", buffer_size=1000, learning_starts=50,
                                      device="cpu").learn(32)  # fmt: skip
    for attribute in ("buffer_size", "pos", "full"):
        assert getattr(model.replay_buffer, attribute) == getattr(sb3_model.replay_buffer, attribute), attribute
    assert model.replay_buffer.size() == sb3_model.replay_buffer.size() == 32
    two_envs = DQN("MlpPolicy", make_vec_env("CartPole-v1", n_envs=2), **FAST).learn(32)
    assert (two_envs.replay_buffer.size(), two_envs.replay_buffer.buffer_size) == (16, 500)
    wrapped = DQN("MlpPolicy", "CartPole-v1", **{**FAST, "buffer_size": 20}).learn(32)
    # The ring has wrapped; one row holds the observation the next transition starts from.
    assert (wrapped.replay_buffer.pos, wrapped.replay_buffer.full, wrapped.replay_buffer.size()) == (12, True, 19)


def test_predict_returns_an_array_for_a_single_observation_as_sb3_does():
    sb3_model = stable_baselines3.DQN("MlpPolicy", "CartPole-v1", device="cpu")
    model = _cartpole()
    for deterministic in (True, False):
        theirs, _ = sb3_model.predict(_observations(1)[0], deterministic=deterministic)
        ours, _ = model.predict(_observations(1)[0], deterministic=deterministic)
        assert type(ours) is type(theirs) is np.ndarray
        assert (ours.shape, ours.dtype) == (theirs.shape, theirs.dtype) == ((), np.int64)


def test_sb3_checkpoint_callback_gets_one_replay_file_at_the_path_it_names(tmp_path, monkeypatch):
    from stable_baselines3.common.callbacks import CheckpointCallback

    model = _cartpole()
    model.learn(20, callback=CheckpointCallback(save_freq=10, save_path=str(tmp_path), save_replay_buffer=True))
    path = tmp_path / "rl_model_replay_buffer_20_steps.pkl"
    assert path.is_file() and not path.with_suffix("").exists()
    assert sorted(zipfile.ZipFile(path).namelist()) == ["replay.json", "replay.safetensors"]  # no pickle inside
    import pickle

    def refuse(*args, **kwargs):
        raise AssertionError("unpickling is not allowed")

    monkeypatch.setattr(pickle, "load", refuse)
    monkeypatch.setattr(pickle, "loads", refuse)
    fresh = _cartpole()
    fresh.load_replay_buffer(path)
    assert len(fresh.replay_buffer) == 19  # saved after the 20th step, before its transition was stored


def test_a_replay_file_path_with_a_folder_there_is_refused(tmp_path):
    model = _cartpole().learn(60)
    (tmp_path / "old.pkl").mkdir()
    with pytest.raises(FileExistsError, match=re.escape(f"Cannot write the replay buffer file {tmp_path / 'old.pkl'}")):
        model.save_replay_buffer(tmp_path / "old.pkl")


def test_load_takes_spaces_and_a_policy_class_that_fit_the_stored_network(saved_cartpole):
    from stable_baselines3.dqn import MlpPolicy

    _, path = saved_cartpole
    bounded = gym.spaces.Box(-5.0, 5.0, (4,), np.float32)
    custom_objects = {"observation_space": bounded, "action_space": gym.spaces.Discrete(2), "policy_class": MlpPolicy}
    assert DQN.load(path, custom_objects=custom_objects).observation_space == bounded
    with pytest.raises(ValueError, match=re.escape("observation_space Box(-5.0, 5.0, (3,), float32) does not fit")):
        DQN.load(path, custom_objects={"observation_space": gym.spaces.Box(-5.0, 5.0, (3,), np.float32)})
    with pytest.raises(ValueError, match=re.escape("action_space Discrete(3) does not fit the stored network, which")):
        DQN.load(path, action_space=gym.spaces.Discrete(3))
    with pytest.raises(ValueError, match=re.escape("policy_class 'CnnPolicy' builds another network than the stored")):
        DQN.load(path, custom_objects={"policy_class": "CnnPolicy"})


def test_a_fresh_or_loaded_model_has_an_empty_replay_buffer(tmp_path):
    model = _cartpole()
    assert model.replay_buffer.size() == 0
    model.save(tmp_path / "agent")
    assert DQN.load(tmp_path / "agent").replay_buffer.size() == 0  # no env: one env's buffer, as in SB3
    loaded = DQN.load(tmp_path / "agent", env=gym.make("CartPole-v1"))
    assert loaded.replay_buffer.size() == 0
    loaded.learn(50)
    assert loaded.replay_buffer.size() == loaded.num_timesteps >= 50


def test_load_keeps_verbose_tensorboard_log_seed_and_recent_episodes(tmp_path):
    model = _cartpole(seed=5, verbose=1, tensorboard_log=str(tmp_path / "tb")).learn(300)
    episodes = list(model.ep_info_buffer)
    assert episodes
    model.save(tmp_path / "agent")
    loaded = DQN.load(tmp_path / "agent")
    assert (loaded.verbose, loaded.tensorboard_log, loaded.seed) == (1, str(tmp_path / "tb"), 5)
    assert list(loaded.ep_info_buffer) == [{key: float(value) for key, value in e.items()} for e in episodes]
    assert DQN.load(tmp_path / "agent", verbose=0, seed=None).verbose == 0  # keywords still win
    # An agent to play (what push and publish write) keeps no local folder and no episodes of this machine.
    model.save(tmp_path / "play", include_optimizer=False)
    played = DQN.load(tmp_path / "play")
    assert (played.tensorboard_log, len(played.ep_info_buffer)) == (None, 0)


def test_a_fresh_model_predicts_greedily_until_learn_sets_epsilon():
    model = DQN("MlpPolicy", "CartPole-v1", seed=0, exploration_initial_eps=1.0, learning_starts=0, device="cpu")
    assert model.exploration_rate == 0.0  # SB3's: predict(deterministic=False) is greedy before training
    greedy, _ = model.predict(_observations(), deterministic=True)
    np.testing.assert_array_equal(model.predict(_observations())[0], greedy)
    seen = []
    model.learn(1, callback=lambda local_vars, global_vars: seen.append(local_vars["self"].exploration_rate) or True)
    assert seen and seen[0] > 0.9  # the schedule's start from the first step on


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"verbose": "1"}, "verbose must be 0 (no output), 1 (info) or 2 (debug), got '1'."),
        ({"verbose": -1}, "verbose must be 0 (no output), 1 (info) or 2 (debug), got -1."),
        ({"tensorboard_log": 5}, "tensorboard_log must be a folder path or None, got 5."),
    ],
)
def test_bad_run_options_are_refused(kwargs, message):
    with pytest.raises(TypeError, match=re.escape(message)):
        _cartpole(**kwargs)


def test_callbacks_see_sb3s_collect_rollouts_locals():
    seen = {}

    class Reader(BaseCallback):
        def _on_step(self) -> bool:
            seen.update({name: self.locals[name] for name in ("train_freq", "learning_starts", "action_noise")})
            return True

    _cartpole(train_freq=(2, "episode")).learn(60, callback=Reader())
    assert (seen["train_freq"].frequency, seen["train_freq"].unit) == (2, TrainFrequencyUnit.EPISODE)
    assert (seen["learning_starts"], seen["action_noise"]) == (50, None)


def test_vec_normalize_keeps_the_envs_own_values_and_normalizes_them_when_sampling():
    env = VecNormalize(DummyVecEnv([lambda: gym.make("CartPole-v1")]), gamma=0.99)
    model = DQN("MlpPolicy", env, seed=0, learning_starts=50, batch_size=16, buffer_size=1000, device="cpu")
    model.learn(300)
    buffer = model.replay_buffer
    assert set(np.unique(buffer.rewards[buffer.valid]).tolist()) == {1.0}  # CartPole's own reward, as in SB3
    state = buffer.rng.bit_generator.state
    raw = buffer.sample(64)
    buffer.rng.bit_generator.state = state
    normalized = buffer.sample(64, env=env)  # SB3's sample(batch_size, env): the statistics of now
    np.testing.assert_allclose(normalized.observations, env.normalize_obs(raw.observations.numpy()), rtol=1e-5)
    np.testing.assert_allclose(
        normalized.next_observations, env.normalize_obs(raw.next_observations.numpy()), rtol=1e-5
    )
    np.testing.assert_allclose(normalized.returns, env.normalize_reward(raw.returns.numpy()), rtol=1e-5)


def test_set_env_with_another_number_of_envs_says_it_drops_the_replay():
    model = _cartpole().learn(60)
    with pytest.warns(UserWarning, match="set_env with 2 envs drops the replay buffer's 6"):
        model.set_env(DummyVecEnv([lambda: gym.make("CartPole-v1")] * 2))
    assert model.replay_buffer.size() == 0


def test_a_fresh_models_saved_empty_buffer_continues_exactly(tmp_path):
    first, second = _cartpole(), _cartpole()
    first.save_replay_buffer(tmp_path / "empty")
    second.load_replay_buffer(tmp_path / "empty")  # the agent's generator as saved, after the buffer's seed
    first.learn(300)
    second.learn(300)
    for a, b in zip(first.policy.state_dict().values(), second.policy.state_dict().values(), strict=True):
        assert torch.equal(a, b)


def test_load_with_env_then_load_replay_buffer_continues_the_envs_random_stream(tmp_path):
    model = _cartpole(seed=3).learn(300)
    model.save(tmp_path / "agent", include_replay_buffer=True)
    restored = DQN.load(tmp_path / "agent", env=gym.make("CartPole-v1"))  # queues the saved seed, as in SB3
    restored.load_replay_buffer(tmp_path / "agent")
    generator = copy.deepcopy(restored.env.get_attr("np_random")[0])
    reference = gym.make("CartPole-v1")
    reference.unwrapped.np_random = generator
    np.testing.assert_array_equal(restored.env.reset()[0], reference.reset()[0])


@pytest.mark.parametrize(("option", "value"), [("verbose", 3), ("tensorboard_log", "")])
def test_whatever_a_model_accepts_saves_and_loads(tmp_path, option, value):
    _cartpole(**{option: value}).save(tmp_path / "agent")
    assert getattr(DQN.load(tmp_path / "agent"), option) == value


def test_an_agent_staged_to_publish_keeps_no_local_folder_nor_episodes(tmp_path):
    from mario_zoo.agents import checkpoint
    from mario_zoo.publishing import stage_agent

    model = _cartpole(tensorboard_log=str(tmp_path / "private-tb")).learn(300)
    model.save(tmp_path / "checkpoint.zip")  # a training run's checkpoint, what a run publishes mid-training
    stored = checkpoint.read_checkpoint(tmp_path / "checkpoint.zip")
    assert stored.config.tensorboard_log and stored.config.ep_info_buffer
    shipped = checkpoint.read_config(stage_agent(tmp_path / "checkpoint.zip", stored, "float16", tmp_path / "agent"))
    assert (shipped.tensorboard_log, shipped.ep_info_buffer) == (None, ())


def test_arguments_after_env_can_be_given_by_position_in_sb3s_order():
    sb3 = stable_baselines3.DQN("MlpPolicy", "CartPole-v1", 1e-3, 5000, 100, 32, device="cpu")
    ours = DQN("MlpPolicy", "CartPole-v1", 1e-3, 5000, 100, 32, device="cpu")
    for name in ("learning_rate", "buffer_size", "learning_starts", "batch_size"):
        assert getattr(ours, name) == getattr(sb3, name)
    with pytest.raises(TypeError, match=re.escape("DQN() got multiple values for learning_rate (by position")):
        DQN("MlpPolicy", "CartPole-v1", 1e-3, learning_rate=1e-4, device="cpu")
    with pytest.raises(TypeError, match=re.escape("DQN() takes at most 23 arguments after policy and env")):
        DQN("MlpPolicy", "CartPole-v1", *range(24))


def test_sb3s_schedule_functions_in_custom_objects_are_dropped_silently(tmp_path):
    """rl-zoo passes ``custom_objects={"learning_rate": 0.0, "lr_schedule": lambda _: 0.0, "exploration_schedule":
    lambda _: 0.0}``; SB3 rebuilds both schedules, so do we (``exploration_schedule`` also names our shape
    hyperparameter, which a custom object may still set by name)."""
    import warnings

    model = DQN("MlpPolicy", "CartPole-v1", exploration_schedule="linear", device="cpu")
    model.save(tmp_path / "agent")
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        loaded = DQN.load(
            tmp_path / "agent",
            custom_objects={"lr_schedule": lambda _: 0.0, "exploration_schedule": lambda _: 0.0},
        )
    assert loaded.config.exploration_schedule == "linear" and callable(loaded.exploration_schedule)
    by_name = DQN.load(tmp_path / "agent", custom_objects={"exploration_schedule": "exponential"})
    assert by_name.config.exploration_schedule == "exponential"
