"""DQN: every option trains, the SB3 surface (envs, callbacks, evaluate_policy, logger) works, bad input is
explained."""

from __future__ import annotations

import re
import tempfile

import gymnasium as gym
import numpy as np
import pytest
import stable_baselines3
import torch
from stable_baselines3.common.callbacks import (
    BaseCallback,
    CheckpointCallback,
    EvalCallback,
    StopTrainingOnRewardThreshold,
)
from stable_baselines3.common.env_util import make_vec_env
from stable_baselines3.common.evaluation import evaluate_policy
from stable_baselines3.common.logger import configure
from stable_baselines3.common.monitor import Monitor
from stable_baselines3.common.vec_env import DummyVecEnv

import mario_zoo
from mario_zoo.agents import DQN, DQNConfig, DuelingCnnPolicy, DuelingMlpPolicy

FAST = {"learning_starts": 50, "batch_size": 16, "buffer_size": 1000, "device": "cpu"}

OPTIONS = {
    "defaults": {},
    "double_q": {"double_q": True},
    "dueling": {"dueling": True},
    "n_steps": {"n_steps": 3},
    "prioritized": {"prioritized_replay": True},
    "soft_target": {"tau": 0.005, "target_update_interval": 1},
    "hard_target": {"tau": 1.0, "target_update_interval": 50},
    "mse": {"loss": "mse"},
    "clip_by_value": {"max_grad_norm": None, "max_grad_value": 1.0},
    "no_clipping": {"max_grad_norm": None},
    "expected_sarsa": {"target_epsilon": 0.05, "double_q": True},
    "advantage_learning": {"advantage_learning": 0.5, "double_q": True},
    "exponential_eps": {"exploration_schedule": "exponential", "exploration_decay": 100},
    "held_exploration": {"exploration_repeat": 2.0, "frontier_exploration_eps": 0.5, "frontier_exploration_steps": 5},
    "adamw_amsgrad": {"optimizer": "adamw", "amsgrad": True, "weight_decay": 0.01},
    "train_every_episode": {"train_freq": (1, "episode"), "gradient_steps": -1},
    "several_gradient_steps": {"train_freq": 8, "gradient_steps": 4},
    "everything": {
        "double_q": True,
        "dueling": True,
        "n_steps": 3,
        "prioritized_replay": True,
        "tau": 0.01,
        "target_update_interval": 1,
        "loss": "mse",
        "max_grad_value": 10.0,
        "optimizer": "adamw",
    },
}


def weights(model) -> list[torch.Tensor]:
    return [p.detach().clone() for p in model.q_net.parameters()]


@pytest.mark.parametrize("options", OPTIONS.values(), ids=OPTIONS.keys())
def test_every_option_trains_on_cartpole(options):
    model = DQN("MlpPolicy", "CartPole-v1", seed=0, **{**FAST, **options})
    before = weights(model)
    model.learn(300)
    assert model.num_timesteps >= 300
    assert model._n_updates > 0
    assert any(not torch.equal(a, b) for a, b in zip(before, weights(model), strict=True))


@pytest.mark.parametrize("frame_stack_replay", [False, True], ids=["whole_obs", "frame_replay"])
@pytest.mark.parametrize("options", OPTIONS.values(), ids=OPTIONS.keys())
def test_every_option_trains_on_an_image_env(frame_env_class, options, frame_stack_replay):
    n_envs = 1 if options.get("train_freq") == (1, "episode") else 2
    env = make_vec_env(lambda: frame_env_class(episode_length=(5, 9)), n_envs=n_envs)
    model = DQN(
        "CnnPolicy",
        env,
        seed=0,
        frame_stack_replay=frame_stack_replay,
        policy_kwargs={"features_extractor_kwargs": {"features_dim": 32}},
        **{**FAST, "learning_starts": 20, "batch_size": 8, **options},
    )
    before = weights(model)
    model.learn(60)
    assert any(not torch.equal(a, b) for a, b in zip(before, weights(model), strict=True))
    assert model.replay_buffer.frame_stack == (4 if frame_stack_replay else 1)


def test_policy_choices_build_the_matching_network(frame_env_class):
    assert DQN("DuelingMlpPolicy", "CartPole-v1", device="cpu").spec.dueling
    assert DQN(DuelingMlpPolicy, "CartPole-v1", device="cpu").dueling
    assert DQN(stable_baselines3.dqn.MlpPolicy, "CartPole-v1", device="cpu").spec.kind == "mlp"
    cnn = DQN(DuelingCnnPolicy, frame_env_class(), device="cpu")
    assert (cnn.spec.kind, cnn.spec.dueling) == ("cnn", True)
    assert DQN(stable_baselines3.dqn.CnnPolicy, frame_env_class(), device="cpu").spec.kind == "cnn"


def test_package_root_exposes_the_agent():
    assert mario_zoo.DQN is DQN and mario_zoo.DQNConfig is DQNConfig


def test_hyperparameters_read_like_sb3_attributes():
    model = DQN("MlpPolicy", "CartPole-v1", gamma=0.95, device="cpu")
    assert (model.gamma, model.batch_size, model.learning_starts) == (0.95, 32, 100)
    with pytest.raises(AttributeError, match="has no attribute 'gamma_'"):
        _ = model.gamma_


# -- environments ----------------------------------------------------------------------------------


def test_accepts_an_env_id_a_gym_env_and_a_vec_env():
    for env in ("CartPole-v1", gym.make("CartPole-v1"), make_vec_env("CartPole-v1", n_envs=3)):
        model = DQN("MlpPolicy", env, **FAST).learn(120)
        assert model.get_env().num_envs in (1, 3)
        assert model.num_timesteps >= 120


def test_several_envs_update_the_target_every_interval_in_env_steps(monkeypatch):
    env = make_vec_env("CartPole-v1", n_envs=4, seed=0)
    model = DQN("MlpPolicy", env, target_update_interval=8, train_freq=1, **FAST)
    syncs = []
    monkeypatch.setattr(model, "_update_target", lambda: syncs.append(model.num_timesteps))
    model.learn(200)
    # 50 vec steps of 4 env steps; like SB3, the target syncs every 8 // 4 = 2 vec steps.
    assert syncs == list(range(8, 201, 8))


def test_set_env_checks_spaces():
    model = DQN("MlpPolicy", "CartPole-v1", device="cpu")
    with pytest.raises(ValueError, match=re.escape("differ from the model's")):
        model.set_env(gym.make("Acrobot-v1"))


def test_episode_train_freq_needs_one_env():
    with pytest.raises(ValueError, match=re.escape("counts episodes, which needs a single env; got 2 envs")):
        DQN("MlpPolicy", make_vec_env("CartPole-v1", n_envs=2), train_freq=(1, "episode"), device="cpu")


# -- predict and evaluate_policy -------------------------------------------------------------------


def test_predict_single_and_batched_observations():
    model = DQN("MlpPolicy", "CartPole-v1", seed=0, device="cpu")
    single, state = model.predict(np.zeros(4, dtype=np.float32), deterministic=True)
    assert single.shape == () and state is None
    batch, _ = model.predict(np.zeros((5, 4), dtype=np.float32), deterministic=True)
    assert batch.shape == (5,) and (batch == single).all()
    model.exploration_rate = 1.0
    random_actions, _ = model.predict(np.zeros((200, 4), dtype=np.float32))
    assert set(random_actions.tolist()) == {0, 1}


def test_evaluate_policy_runs_unchanged():
    model = DQN("MlpPolicy", "CartPole-v1", seed=0, **FAST).learn(200)
    mean, std = evaluate_policy(model, Monitor(gym.make("CartPole-v1")), n_eval_episodes=3)
    assert mean > 0 and std >= 0
    rewards, lengths = evaluate_policy(
        model, make_vec_env("CartPole-v1", n_envs=2), n_eval_episodes=4, return_episode_rewards=True
    )
    assert len(rewards) == len(lengths) == 4


# -- callbacks and logging -------------------------------------------------------------------------


class RecordingCallback(BaseCallback):
    def __init__(self):
        super().__init__()
        self.events: list[str] = []
        self.seen_locals: set[str] = set()

    def _on_training_start(self):
        self.events.append("training_start")
        self.total = self.locals["total_timesteps"]

    def _on_rollout_start(self):
        self.events.append("rollout_start")

    def _on_step(self):
        self.seen_locals |= set(self.locals)
        return self.num_timesteps < 60

    def _on_rollout_end(self):
        self.events.append("rollout_end")

    def _on_training_end(self):
        self.events.append("training_end")


def test_custom_callback_gets_every_event_and_can_stop_training():
    model = DQN("MlpPolicy", "CartPole-v1", train_freq=16, **FAST)
    callback = RecordingCallback()
    model.learn(500, callback=callback)
    assert model.num_timesteps == 60
    assert callback.total == 500
    assert callback.events[:3] == ["training_start", "rollout_start", "rollout_end"]
    assert callback.events[-1] == "training_end"
    assert {"new_obs", "rewards", "dones", "infos", "actions"} <= callback.seen_locals


def test_eval_and_checkpoint_callbacks(tmp_path):
    model = DQN("MlpPolicy", "CartPole-v1", seed=0, **FAST)
    stop = StopTrainingOnRewardThreshold(reward_threshold=1.0)
    evaluation = EvalCallback(
        Monitor(gym.make("CartPole-v1")),
        callback_on_new_best=stop,
        eval_freq=100,
        n_eval_episodes=2,
        best_model_save_path=str(tmp_path / "best"),
        verbose=0,
    )
    checkpoints = CheckpointCallback(save_freq=50, save_path=str(tmp_path / "checkpoints"), name_prefix="dqn")
    model.learn(1000, callback=[checkpoints, evaluation])
    assert model.num_timesteps == 100  # the first evaluation beats the threshold and stops training
    assert (tmp_path / "best" / "best_model" / "config.json").is_file()
    assert sorted(p.name for p in (tmp_path / "checkpoints").iterdir()) == ["dqn_100_steps.zip", "dqn_50_steps.zip"]
    assert DQN.load(tmp_path / "checkpoints" / "dqn_50_steps.zip").num_timesteps == 50


def test_logger_writes_csv_and_tensorboard(tmp_path):
    model = DQN("MlpPolicy", "CartPole-v1", tensorboard_log=str(tmp_path / "tb"), **FAST)
    model.learn(300, log_interval=1, tb_log_name="run")
    assert list((tmp_path / "tb" / "run_1").glob("events.out.tfevents.*"))
    model.set_logger(configure(str(tmp_path / "csv"), ["csv"]))
    model.learn(300, log_interval=1)
    header = (tmp_path / "csv" / "progress.csv").read_text().splitlines()[0].split(",")
    assert {"rollout/ep_rew_mean", "rollout/exploration_rate", "train/loss", "time/fps"} <= set(header)


def test_building_loading_and_learning_leave_no_folder_in_the_temp_directory(tmp_path, monkeypatch, capsys):
    # SB3's configure() makes an empty SB3-<date> folder there whenever it writes no file.
    temp = tmp_path / "temp"
    temp.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(temp))
    monkeypatch.delenv("SB3_LOGDIR", raising=False)
    model = DQN("MlpPolicy", "CartPole-v1", **FAST)
    model.learn(200)
    model.save(tmp_path / "agent")
    DQN.load(tmp_path / "agent", env="CartPole-v1", verbose=1).learn(200, log_interval=1)
    assert [path.name for path in temp.iterdir() if path.name.startswith("SB3-")] == []
    assert "n_updates" in capsys.readouterr().out  # verbose=1 still logs to stdout


def test_sb3_logdir_is_the_logger_folder_as_in_sb3(tmp_path, monkeypatch, capsys):
    folder = tmp_path / "sb3-logs"
    monkeypatch.setenv("SB3_LOGDIR", str(folder))
    model = DQN("MlpPolicy", "CartPole-v1", verbose=1, **FAST)
    assert not folder.exists()  # as in SB3, building (or loading) an agent makes no log folder; learning does
    model.learn(200, log_interval=1)
    reference = stable_baselines3.DQN("MlpPolicy", "CartPole-v1", learning_starts=0, device="cpu")
    reference.learn(8)
    assert model.logger.get_dir() == reference.logger.get_dir() == str(folder)
    assert folder.is_dir()
    assert "n_updates" in capsys.readouterr().out


@pytest.mark.filterwarnings("ignore::tqdm.TqdmExperimentalWarning")
def test_progress_bar():
    DQN("MlpPolicy", "CartPole-v1", **FAST).learn(100, progress_bar=True)


# -- SB3's own DQN with our dueling policies -------------------------------------------------------


def test_sb3_dqn_learns_with_dueling_policies(frame_env_class):
    model = stable_baselines3.DQN(DuelingMlpPolicy, "CartPole-v1", learning_starts=0, batch_size=8, device="cpu")
    before = [p.detach().clone() for p in model.q_net.parameters()]
    model.learn(16)
    assert any(not torch.equal(a, b) for a, b in zip(before, model.q_net.parameters(), strict=True))
    cnn = stable_baselines3.DQN(
        DuelingCnnPolicy, DummyVecEnv([frame_env_class]), learning_starts=0, batch_size=4, buffer_size=100, device="cpu"
    )
    cnn.learn(8)
    assert type(cnn.q_net.q_net[-1]).__name__ == "DuelingHead"


# -- bad input -------------------------------------------------------------------------------------


def test_continuous_actions_are_refused():
    with pytest.raises(ValueError, match=re.escape("DQN needs a Discrete action space, got Box(")):
        DQN("MlpPolicy", "Pendulum-v1")


def test_dict_observations_are_refused():
    class DictEnv(gym.Env):
        observation_space = gym.spaces.Dict({"a": gym.spaces.Box(0, 1, (2,))})
        action_space = gym.spaces.Discrete(2)

    with pytest.raises(ValueError, match=re.escape("Dict and Tuple observation spaces are not supported")):
        DQN("MlpPolicy", DictEnv())
    with pytest.raises(ValueError, match=re.escape("MultiInputPolicy (Dict observations) is not supported")):
        DQN("MultiInputPolicy", "CartPole-v1")


def test_predict_explains_bad_observations():
    model = DQN("MlpPolicy", "CartPole-v1", device="cpu")
    obs, info = gym.make("CartPole-v1").reset(seed=0)
    with pytest.raises(ValueError, match=re.escape("You passed a tuple to predict() instead of an observation")):
        model.predict((obs, info))
    with pytest.raises(ValueError, match=re.escape("Unexpected observation shape (3,) for observation space")):
        model.predict(np.zeros(3))
    with pytest.raises(ValueError, match=re.escape("Dict observations are not supported")):
        model.predict({"obs": obs})


def test_predict_transposes_channel_last_images_as_sb3_does(frame_env_class):
    model = DQN("CnnPolicy", frame_env_class(), device="cpu")
    sb3 = stable_baselines3.DQN("CnnPolicy", frame_env_class(), buffer_size=10, device="cpu")
    images = np.random.default_rng(0).integers(0, 256, (5, 4, 84, 84), dtype=np.uint8)
    channel_last = images.transpose(0, 2, 3, 1)
    for agent in (model, sb3):
        greedy = agent.predict(images, deterministic=True)[0]
        assert np.array_equal(agent.predict(channel_last, deterministic=True)[0], greedy)
        assert agent.predict(channel_last[0], deterministic=True)[0] == greedy[0]


def test_predict_spots_channel_last_arrays_that_are_not_images():
    class FloatFrames(gym.Env):
        observation_space = gym.spaces.Box(0.0, 1.0, (4, 84, 84), np.float32)
        action_space = gym.spaces.Discrete(2)

    model = DQN("MlpPolicy", FloatFrames(), buffer_size=10, device="cpu")
    with pytest.raises(ValueError, match=re.escape("The channels look last")):
        model.predict(np.zeros((84, 84, 4), dtype=np.float32))


def test_cnn_policy_needs_images():
    with pytest.raises(ValueError, match=re.escape("The CNN expects channel-first images (C, H, W)")):
        DQN("CnnPolicy", "CartPole-v1")


def test_hyperparameters_are_validated_up_front():
    with pytest.raises(TypeError, match=re.escape("Unknown DQN hyperparameter 'learning_rat' (did you mean")):
        DQN("MlpPolicy", "CartPole-v1", learning_rat=1e-3)
    with pytest.raises(ValueError, match=re.escape("exploration_schedule must be one of ('linear', 'exponential')")):
        DQN("MlpPolicy", "CartPole-v1", exploration_schedule="cosine")
    with pytest.raises(ValueError, match=re.escape("gamma must be in [0.0, 1.0], got 1.5.")):
        DQN("MlpPolicy", "CartPole-v1", gamma=1.5)
    with pytest.raises(ValueError, match=re.escape("Unknown policy 'MLPPolicy'; valid choices are")):
        DQN("MLPPolicy", "CartPole-v1")
    with pytest.raises(ValueError, match=re.escape("Choose the optimizer with the hyperparameters")):
        DQN("MlpPolicy", "CartPole-v1", policy_kwargs={"optimizer_class": torch.optim.SGD})
    with pytest.raises(ValueError, match=re.escape("frame_stack_replay=True needs stacked observations")):
        DQN("MlpPolicy", "CartPole-v1", frame_stack_replay=True)
    with pytest.raises(
        TypeError,
        match=re.escape(
            "env must be a gymnasium.Env, an env ID string, a callable returning a gymnasium.Env or an SB3"
        ),
    ):
        DQN("MlpPolicy", 42)


def _td_targets(monkeypatch, model, batch, next_q, online_next, q_now=None):
    """The TD targets of one update on ``batch``, with the networks' values given: the target net's ``next_q``
    for the next states (all-ones observations) and ``q_now`` for the states acted in (all zeros; default: also
    ``next_q``), and the online net's ``online_next`` for the next states."""
    online = model.q_net
    monkeypatch.setattr(
        model, "q_net_target", lambda observations: next_q if q_now is None or observations.sum() else q_now
    )
    monkeypatch.setattr(
        model, "q_net", lambda observations: online_next if observations.sum() else online(observations)
    )
    monkeypatch.setattr(model, "_minibatches", lambda steps: iter([batch]))
    seen = []
    monkeypatch.setattr(
        model, "_loss_fn", lambda q_values, targets: seen.append(targets) or (q_values - targets).abs().mean()
    )
    model._total_timesteps = 1
    model.train(1)
    (targets,) = seen
    return targets


@pytest.mark.parametrize(
    ("epsilon", "double_q"), [(None, False), (None, True), (0.2, False), (0.2, True), (1.0, False)]
)
def test_target_epsilon_bootstraps_from_the_epsilon_greedy_value(monkeypatch, epsilon, double_q):
    from mario_zoo.agents.replay import ReplaySample

    model = DQN("MlpPolicy", "CartPole-v1", seed=0, target_epsilon=epsilon, double_q=double_q, **FAST)
    next_q = torch.tensor([[1.0, 5.0], [4.0, 2.0]])  # the target net's values of the two next states
    online_next = torch.tensor([[0.0, 1.0], [0.0, 1.0]])  # the online net prefers action 1 in both
    batch = ReplaySample(
        observations=torch.zeros(2, 4), actions=torch.zeros(2, 1, dtype=torch.int64),
        returns=torch.tensor([1.0, 0.5]), next_observations=torch.ones(2, 4), discounts=torch.tensor([0.9, 0.0]),
        weights=None, indices=np.arange(2),
    )  # fmt: skip
    targets = _td_targets(monkeypatch, model, batch, next_q, online_next)
    greedy = torch.tensor([5.0, 2.0]) if double_q else torch.tensor([5.0, 4.0])  # double Q: the online pick
    value = greedy if epsilon is None else (1 - epsilon) * greedy + epsilon * next_q.mean(dim=1)
    # The second transition ended its episode (discount 0): its target is its return alone.
    assert torch.allclose(targets, batch.returns + batch.discounts * value)


@pytest.mark.parametrize(("alpha", "double_q"), [(None, True), (0.0, True), (0.5, False), (0.9, True)])
def test_advantage_learning_lowers_targets_by_the_action_gap(monkeypatch, alpha, double_q):
    from mario_zoo.agents.replay import ReplaySample

    model = DQN("MlpPolicy", "CartPole-v1", seed=0, advantage_learning=alpha, double_q=double_q, **FAST)
    q_now = torch.tensor([[3.0, 7.0], [6.0, 2.0], [1.0, 1.5]])  # the target net's values of the states acted in
    next_q = torch.tensor([[1.0, 5.0], [4.0, 2.0], [0.0, 2.0]])  # ... and of the next states
    online_next = torch.tensor([[0.0, 1.0], [0.0, 1.0], [0.0, 1.0]])  # the online net prefers action 1
    batch = ReplaySample(
        observations=torch.zeros(3, 4), actions=torch.tensor([[0], [0], [1]]),
        returns=torch.tensor([1.0, 0.5, -1.0]), next_observations=torch.ones(3, 4),
        discounts=torch.tensor([0.9, 0.0, 0.81]), weights=None, indices=np.arange(3),
    )  # fmt: skip
    targets = _td_targets(monkeypatch, model, batch, next_q, online_next, q_now=q_now)
    next_values = torch.tensor([5.0, 2.0, 2.0]) if double_q else torch.tensor([5.0, 4.0, 2.0])
    bellman = batch.returns + batch.discounts * next_values
    # The gaps of the actions taken: 7 - 3 (the worse action), 0 (the best one), 0 (the best one).
    gaps = torch.tensor([4.0, 0.0, 0.0])
    assert torch.allclose(targets, bellman if alpha is None else bellman - alpha * gaps)


def test_advantage_learning_is_below_one():
    for bad in (-0.1, 1.0, 1.5):
        with pytest.raises(ValueError, match=re.escape(f"advantage_learning must be in [0.0, 1.0), got {bad}.")):
            DQN("MlpPolicy", "CartPole-v1", advantage_learning=bad)
    with pytest.raises(TypeError, match="advantage_learning must be a number"):
        DQN("MlpPolicy", "CartPole-v1", advantage_learning="0.5")


def test_target_epsilon_is_a_probability():
    for bad in (-0.1, 1.5):
        with pytest.raises(ValueError, match=re.escape(f"target_epsilon must be in [0.0, 1.0], got {bad}.")):
            DQN("MlpPolicy", "CartPole-v1", target_epsilon=bad)


def test_sb3_checkpoint_callback_saves_the_replay_buffer(tmp_path):
    model = DQN("MlpPolicy", "CartPole-v1", **FAST)
    callback = CheckpointCallback(save_freq=10, save_path=str(tmp_path), save_replay_buffer=True)
    model.learn(20, callback=callback)
    loaded = DQN.load(tmp_path / "rl_model_20_steps.zip")
    loaded.load_replay_buffer(tmp_path / "rl_model_replay_buffer_20_steps.pkl")
    # SB3's callback saves after the env step, before its transition is stored.
    assert len(loaded.replay_buffer) == len(model.replay_buffer) - 1 > 0


def test_learn_runs_an_mlp_on_one_cpu_thread_and_restores_torchs_setting():
    import torch

    from mario_zoo.agents import DQN

    model = DQN("MlpPolicy", "CartPole-v1", learning_starts=10, seed=0, device="cpu")
    assert model.learn_threads == 1
    seen = []
    original = model.train
    model.train = lambda gradient_steps: (seen.append(torch.get_num_threads()), original(gradient_steps))
    before = torch.get_num_threads()
    torch.set_num_threads(2)
    try:
        model.learn(40)
        assert set(seen) == {1} and torch.get_num_threads() == 2
        model.learn_threads = None  # keep torch's own setting
        seen.clear()
        model.learn(40, reset_num_timesteps=False)
        assert set(seen) == {2}
    finally:
        torch.set_num_threads(before)


def test_a_gpu_this_machine_lacks_falls_back_to_the_cpu_as_in_sb3(tmp_path, monkeypatch):
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    with pytest.warns(UserWarning, match=re.escape("Device 'cuda' is not available on this machine")):
        model = DQN("MlpPolicy", "CartPole-v1", device="cuda")
    assert (
        model.device == torch.device("cpu") == stable_baselines3.DQN("MlpPolicy", "CartPole-v1", device="cuda").device
    )
    model.save(tmp_path / "agent")
    with pytest.warns(UserWarning, match="Using the CPU instead"):
        assert DQN.load(tmp_path / "agent", device="cuda:0").device == torch.device("cpu")
    with pytest.raises(ValueError, match=re.escape("Unknown device 'gpu'; valid devices: auto, cpu, cuda")):
        DQN("MlpPolicy", "CartPole-v1", device="gpu")
