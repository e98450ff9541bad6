"""Deep Q-Network with Stable-Baselines3's interface: collect -> store -> sample -> update.

The algorithm is ours (the PyTorch CartPole tutorial's DQN, grown): the loop lives in :meth:`DQN.learn`,
the update in :meth:`DQN.train`. What it shares with SB3 is the surface: constructor arguments, ``learn``,
``predict``, ``save``/``load``, SB3's ``VecEnv``, ``Monitor``, callbacks and ``Logger``.
"""

from __future__ import annotations

import contextlib
import dataclasses
import json
import os
import pickle
import sys
import tempfile
import time
import warnings
from collections import deque
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, ClassVar

import gymnasium as gym
import numpy as np
import torch
import torch.nn.functional as F
from gymnasium import spaces
from stable_baselines3.common.callbacks import BaseCallback, CallbackList, ConvertCallback, ProgressBarCallback
from stable_baselines3.common.logger import Logger
from stable_baselines3.common.type_aliases import MaybeCallback
from stable_baselines3.common.utils import configure_logger, safe_mean, set_random_seed
from stable_baselines3.common.vec_env import VecEnv, VecNormalize, unwrap_vec_normalize
from stable_baselines3.dqn.policies import CnnPolicy as SB3CnnPolicy
from stable_baselines3.dqn.policies import DQNPolicy as SB3DQNPolicy

from mario_zoo.agents import checkpoint
from mario_zoo.agents.actor import ActorPool
from mario_zoo.agents.config import DQNConfig, check_hyperparameter_names
from mario_zoo.agents.device import resolve_device
from mario_zoo.agents.networks import ACTIVATIONS, NetworkSpec
from mario_zoo.agents.policies import DuelingCnnPolicy, DuelingMlpPolicy, QPolicy
from mario_zoo.agents.precision import resolve_precision
from mario_zoo.agents.replay import ReplayBuffer, ReplaySample
from mario_zoo.agents.sb3_options import (
    LoadArguments,
    check_flag,
    check_replay_arguments,
    current_system_info,
    format_system_info,
    replace_spaces,
    split_load_arguments,
)
from mario_zoo.agents.schedules import ExponentialSchedule, LinearSchedule
from mario_zoo.agents.training_state import (
    generator_from_state,
    generator_state,
    global_rng_states,
    read_replay,
    read_replay_config,
    set_global_rng_states,
    write_replay_files,
)
from mario_zoo.agents.vec_env import EnvFactory, env_factory, wrap_env
from mario_zoo.extras import require

# Policy names (SB3's and ours) -> (network kind, dueling).
POLICY_ALIASES: dict[str, tuple[str, bool]] = {
    "MlpPolicy": ("mlp", False),
    "CnnPolicy": ("cnn", False),
    "DuelingMlpPolicy": ("mlp", True),
    "DuelingCnnPolicy": ("cnn", True),
}
POLICY_KWARGS = ("net_arch", "activation_fn", "features_extractor_kwargs", "normalize_images")
_DEFAULT_NET_ARCH = {"mlp": [64, 64], "cnn": []}
# One uniform draw serves many gradient steps; cap its observations' size so image batches stay small.
_MAX_BYTES_PER_DRAW = 64 * 2**20


class DQN:
    """Deep Q-Network (Mnih et al. 2015) with optional double Q, dueling head, n-step returns and prioritized
    replay, behind Stable-Baselines3's ``DQN`` interface.

    Args:
        policy: ``"MlpPolicy"``, ``"CnnPolicy"``, ``"DuelingMlpPolicy"``, ``"DuelingCnnPolicy"``, or one of
            those classes (SB3's ``MlpPolicy``/``CnnPolicy`` or ours from :mod:`mario_zoo.agents.policies`).
        env: a Gymnasium env, a registered env ID, a picklable callable that returns a new Gymnasium env
            (e.g. ``functools.partial(gym.make, "MarioDQN-v0", actions="right_only")``), or an SB3 ``VecEnv``.
            With ``actors >= 1`` an ID or a callable is built again in each actor process; an env instance
            cannot be, and falls back to the sequential loop with a one-line notice on stderr.
        policy_kwargs: network options: ``net_arch`` (hidden widths, default ``[64, 64]`` for MLP and
            ``[]`` after the CNN), ``activation_fn`` (an ``nn`` class or name), ``normalize_images``,
            ``features_extractor_kwargs=dict(features_dim=512)`` (CNN).
        tensorboard_log: folder for TensorBoard logs (``None`` = off).
        verbose: 0 silent, 1 training logs to stdout.
        seed: seeds Python, NumPy, torch, the env and exploration.
        device: ``"auto"``, ``"cpu"``, ``"cuda"``...
        optimize_memory_usage: SB3's flag, accepted either way: our replay stores each observation once, as SB3's
            ``True`` does, and still bootstraps from time-limit truncations.
        replay_buffer_class: ``None``, SB3's ``ReplayBuffer`` or ours (the replay's options are hyperparameters).
        replay_buffer_kwargs: ``None``, ``{}`` or ``{"handle_timeout_termination": True}``; see
            :func:`~mario_zoo.agents.sb3_options.check_replay_arguments`.
        **hyperparameters: any field of :class:`~mario_zoo.agents.config.DQNConfig`.

    Differences from SB3's DQN: checkpoints are a directory (or zip) of safetensors and JSON, never pickle,
    and hold the replay buffer and every RNG state only when asked (``save(path, include_replay_buffer=True)``,
    or ``save_replay_buffer``); ``predict(..., deterministic=False)`` draws epsilon per observation rather than
    once per batch; ``learning_rate`` is a number, decayed linearly with ``learning_rate_final`` (no callables) and the optimizer is chosen by the
    ``optimizer``/``amsgrad``/``weight_decay`` hyperparameters rather than ``policy_kwargs``.

    Actors. With ``actors=k`` (k >= 1), ``learn`` steps the env in ``k`` actor processes (one env each, as a
    ``k``-env ``VecEnv`` would) while this process runs the gradient updates; see :mod:`mario_zoo.agents.actor`.
    It is the same algorithm as the sequential loop (``actors=0``, the default): the same replay ratio
    (``gradient_steps`` per ``train_freq`` env steps, an actor more than one round ahead waits), callbacks,
    logs, ``num_timesteps``, exploration schedule and target updates, except that a round's actions come from
    weights at most one round old (plus ``actor_sync_interval - 1`` updates). Each ``learn`` call starts its
    actors afresh, so episodes in progress do not carry over between calls. A script that uses actors must
    guard its entry point with ``if __name__ == "__main__":`` (actors start with ``spawn``).

    Example:
        >>> from mario_zoo import DQN
        >>> model = DQN("MlpPolicy", "CartPole-v1", learning_starts=50, seed=0, device="cpu")
        >>> model = model.learn(total_timesteps=200)
        >>> model.num_timesteps
        200
        >>> action, _ = model.predict(model.get_env().reset(), deterministic=True)
        >>> action.shape
        (1,)
    """

    policy_aliases: ClassVar[dict[str, tuple[str, bool]]] = POLICY_ALIASES

    def __init__(
        self,
        policy: str | type,
        env: gym.Env | VecEnv | str,
        *,
        policy_kwargs: dict[str, Any] | None = None,
        tensorboard_log: str | None = None,
        verbose: int = 0,
        seed: int | None = None,
        device: torch.device | str = "auto",
        optimize_memory_usage: bool = False,
        replay_buffer_class: type | None = None,
        replay_buffer_kwargs: dict[str, Any] | None = None,
        **hyperparameters: Any,
    ):
        check_hyperparameter_names(hyperparameters)
        kind, dueling = _resolve_policy(policy)
        config = DQNConfig(**{**hyperparameters, "dueling": hyperparameters.get("dueling", False) or dueling})
        check_replay_arguments(optimize_memory_usage, replay_buffer_class, replay_buffer_kwargs, n_steps=config.n_steps)
        vec_env, factory = _make_env(env, verbose, config.actors)
        try:
            self._setup(
                kind=kind,
                observation_space=vec_env.observation_space,
                action_space=vec_env.action_space,
                config=config,
                policy_kwargs=_normalize_policy_kwargs(policy_kwargs, kind),
                spec=None,
                tensorboard_log=tensorboard_log,
                verbose=verbose,
                seed=seed,
                device=device,
            )
        except BaseException:
            if env_factory(env) is not None:  # built here from an ID or a factory: nobody else can close it
                vec_env.close()
            raise
        self._attach_env(vec_env, factory, force_reset=True)

    def _setup(
        self,
        *,
        kind: str,
        observation_space: spaces.Space,
        action_space: spaces.Space,
        config: DQNConfig,
        policy_kwargs: dict[str, Any],
        spec: NetworkSpec | None,
        tensorboard_log: str | None,
        verbose: int,
        seed: int | None,
        device: torch.device | str,
    ) -> None:
        """Build everything but the env: shared by ``__init__`` and :meth:`load`."""
        _check_spaces(observation_space, action_space)
        if config.frame_stack_replay and (len(observation_space.shape) < 2 or observation_space.shape[0] < 2):
            raise ValueError(
                f"frame_stack_replay=True needs stacked observations of shape (stack >= 2, ...), got "
                f"{observation_space.shape}. Set frame_stack_replay=False."
            )
        self.config = config
        self.policy_name = "CnnPolicy" if kind == "cnn" else "MlpPolicy"
        self.policy_kwargs = policy_kwargs
        self.observation_space: spaces.Box = observation_space
        self.action_space: spaces.Discrete = action_space
        self.tensorboard_log = tensorboard_log
        self.verbose = verbose
        self.seed = seed
        self.device = resolve_device(device)
        if seed is not None:
            set_random_seed(seed, using_cuda=self.device.type == "cuda")
            self.action_space.seed(seed)
        self._rng = np.random.default_rng(seed)

        self.spec = spec or NetworkSpec(
            kind=kind,
            observation_shape=observation_space.shape,
            n_actions=int(action_space.n),
            net_arch=tuple(policy_kwargs["net_arch"]),
            dueling=config.dueling,
            activation=policy_kwargs["activation_fn"],
            features_dim=policy_kwargs["features_extractor_kwargs"].get("features_dim", 512),
            normalize_images=policy_kwargs["normalize_images"],
        )
        self.policy = QPolicy(observation_space, action_space, self.spec).to(self.device)
        self.update_precision = resolve_precision(config.precision, self.device)
        # oneDNN's bf16 convolutions are fastest on channels-last (NHWC) batches; see benchmarks/mario_train_cost.py.
        self._channels_last = self.update_precision == "bf16" and kind == "cnn"
        self.q_net = self.policy.q_net
        self.q_net_target = self.policy.q_net_target
        self._params = list(self.q_net.parameters())
        self._target_params = list(self.q_net_target.parameters())
        self.optimizer = _make_optimizer(config, self._params, self.device)
        self._loss_fn = F.smooth_l1_loss if config.loss == "huber" else F.mse_loss
        self.exploration_schedule: ExponentialSchedule | LinearSchedule
        if config.exploration_schedule == "exponential":
            self.exploration_schedule = ExponentialSchedule(
                config.exploration_initial_eps, config.exploration_final_eps, config.exploration_decay
            )
        else:
            self.exploration_schedule = LinearSchedule(
                config.exploration_initial_eps, config.exploration_final_eps, config.exploration_fraction
            )
        self.exploration_rate = config.exploration_initial_eps

        self.env: VecEnv | None = None
        self.n_envs = 0
        self._actor_env_factory: EnvFactory | None = None
        self.replay_buffer: ReplayBuffer | None = None
        self.num_timesteps = 0
        self._total_timesteps = 0
        self._num_timesteps_at_start = 0
        self._buffer_steps = 0
        self._episode_num = 0
        self._n_updates = 0
        self._n_calls = 0
        self._last_dump_timesteps = -1
        self._last_obs: np.ndarray | None = None
        self.ep_info_buffer: deque[dict[str, float]] = deque(maxlen=config.stats_window_size)
        self.start_time = time.time_ns()
        self._env_id: str | None = None
        self._env_kwargs: dict[str, Any] = {}
        self._logger = configure_logger(verbose)
        self._custom_logger = False
        # Env generators read by load_replay_buffer before an env was set: given to the next env set_env gets.
        self._pending_env_rngs: list[np.random.Generator | None] | None = None

    def __getattr__(self, name: str) -> Any:
        # SB3 exposes hyperparameters as attributes (model.gamma, model.batch_size...); so do we, read-only.
        config = self.__dict__.get("config")
        if config is not None and name in DQNConfig.field_names():
            return getattr(config, name)
        raise AttributeError(f"{type(self).__name__!r} object has no attribute {name!r}")

    # -- environment -------------------------------------------------------------------------------

    def get_env(self) -> VecEnv | None:
        """The training env (an SB3 ``VecEnv``), or ``None`` for a model loaded without one."""
        return self.env

    def get_vec_normalize_env(self) -> VecNormalize | None:
        """The ``VecNormalize`` wrapper of the training env, if any (used by SB3 callbacks)."""
        return unwrap_vec_normalize(self.env) if self.env is not None else None

    def set_env(self, env: gym.Env | VecEnv | str | EnvFactory, force_reset: bool = True) -> None:
        """Train on ``env`` (see the class docstring for what it may be) from now on; its spaces must match the
        model's.

        ``force_reset=False`` keeps the current episodes going (only for the same env, as in SB3).
        """
        self._attach_env(*_make_env(env, self.verbose, self.config.actors), force_reset)

    def _attach_env(self, vec_env: VecEnv, factory: EnvFactory | None, force_reset: bool) -> None:
        """``set_env``'s work: ``factory`` rebuilds the env in actor processes (``None``: the sequential loop)."""
        _check_same_spaces(vec_env, self.observation_space, self.action_space)
        unit = self.config.train_freq_tuple[1]
        if vec_env.num_envs > 1 and unit == "episode":
            raise ValueError(
                f"train_freq={self.config.train_freq!r} counts episodes, which needs a single env; got "
                f"{vec_env.num_envs} envs. Use train_freq in steps (e.g. train_freq=4) with several envs."
            )
        if vec_env.num_envs != self.n_envs:
            self.replay_buffer, self._pending_env_rngs = None, None
        if self.seed is not None and self._pending_env_rngs is None:
            vec_env.seed(self.seed)
        self.env, self.n_envs = vec_env, vec_env.num_envs
        self._restore_env_rngs()
        self._actor_env_factory = factory
        spec = vec_env.get_attr("spec", [0])[0]
        if spec is not None:
            self._env_id, self._env_kwargs = spec.id, _json_kwargs(spec.kwargs)
        if force_reset:
            self._last_obs = None

    # -- training ----------------------------------------------------------------------------------

    def learn(
        self,
        total_timesteps: int,
        callback: MaybeCallback = None,
        log_interval: int = 4,
        tb_log_name: str = "DQN",
        reset_num_timesteps: bool = True,
        progress_bar: bool = False,
    ) -> DQN:
        """Train for ``total_timesteps`` env steps (SB3's semantics, callbacks and logs).

        With ``reset_num_timesteps=False`` training continues the step counter, exploration schedule and
        optimizer state, e.g. after :meth:`load`. A loaded model's replay buffer starts empty (gradient steps
        resume once it holds ``learning_starts`` new transitions, collected with the current epsilon) unless
        :meth:`load_replay_buffer` restored it.

        With ``actors >= 1`` the env steps in actor processes, which this call starts and stops; an error in an
        actor raises :class:`~mario_zoo.agents.actor.ActorError` here, with the actor's traceback.
        """
        if self.env is None:
            raise ValueError("This model has no env: pass one with model.set_env(env) or DQN.load(path, env=env).")
        total_timesteps, callback = self._setup_learn(
            _whole_number("total_timesteps", total_timesteps), callback, reset_num_timesteps, tb_log_name, progress_bar
        )
        actors = self._make_actor_pool(total_timesteps)
        with actors or contextlib.nullcontext():
            if actors is not None:
                self._last_obs = actors.start(self._n_updates)
                self.replay_buffer.start_episodes(self._last_obs)
            callback.on_training_start(locals(), globals())
            while self.num_timesteps < total_timesteps:
                collected, continue_training = self._collect_rollout(callback, log_interval, actors)
                if not continue_training:
                    break
                # SB3's rule, plus: a buffer started afresh (after load) first refills learning_starts steps.
                learning_starts = self.config.learning_starts
                if self.num_timesteps > learning_starts and self._buffer_steps > learning_starts:
                    gradient_steps = self.config.gradient_steps if self.config.gradient_steps >= 0 else collected
                    if gradient_steps > 0:
                        self.train(gradient_steps)
                if actors is not None:
                    actors.end_round(self._n_updates)
        if log_interval and self._last_dump_timesteps != self.num_timesteps:
            self.dump_logs()  # the logs end at the last step, not at the last log_interval-th episode
        callback.on_training_end()
        return self

    def _setup_learn(
        self,
        total_timesteps: int,
        callback: MaybeCallback,
        reset_num_timesteps: bool,
        tb_log_name: str,
        progress_bar: bool,
    ) -> tuple[int, BaseCallback]:
        self.start_time = time.time_ns()
        if reset_num_timesteps:
            self.num_timesteps = 0
            self._episode_num = 0
            self.ep_info_buffer = deque(maxlen=self.config.stats_window_size)
        else:
            total_timesteps += self.num_timesteps
        self._total_timesteps = total_timesteps
        self._num_timesteps_at_start = self.num_timesteps
        if self.replay_buffer is None:
            self.replay_buffer = self._make_replay_buffer()
            self._buffer_steps = 0
            self._last_obs = None
        # With actors, each learn() call starts from the actors' first observations instead.
        if self._actor_env_factory is None and (reset_num_timesteps or self._last_obs is None):
            self._last_obs = self.env.reset()
            self.replay_buffer.start_episodes(self._last_obs)
        if not self._custom_logger:
            if self.tensorboard_log is not None:
                require("tensorboard", "tensorboard", "tensorboard_log")
            self._logger = configure_logger(self.verbose, self.tensorboard_log, tb_log_name, reset_num_timesteps)
        if isinstance(callback, list):
            callback = CallbackList(callback)
        if not isinstance(callback, BaseCallback):
            callback = ConvertCallback(callback)
        if progress_bar:
            require("rich", "progress", "progress_bar=True")
            callback = CallbackList([callback, ProgressBarCallback()])
        callback.init_callback(self)
        return total_timesteps, callback

    def _make_replay_buffer(self) -> ReplayBuffer:
        config = self.config
        return ReplayBuffer(
            config.buffer_size,
            self.observation_space,
            n_actions=int(self.action_space.n),
            n_envs=self.n_envs,
            frame_stack=self.observation_space.shape[0] if config.frame_stack_replay else 1,
            n_steps=config.n_steps,
            gamma=config.gamma,
            prioritized=config.prioritized_replay,
            alpha=config.prioritized_replay_alpha,
            eps=config.prioritized_replay_eps,
            seed=int(self._rng.integers(2**63)),
        )

    def _make_actor_pool(self, total_timesteps: int) -> ActorPool | None:
        """The actor processes for a ``learn`` call up to ``total_timesteps``; ``None`` for the sequential loop."""
        if self._actor_env_factory is None or self.num_timesteps >= total_timesteps:
            return None
        seeds = [
            (None if self.seed is None else int(self._rng.integers(2**31)), int(self._rng.integers(2**63)))
            for _ in range(self.n_envs)
        ]
        return ActorPool(
            self._actor_env_factory,
            self.n_envs,
            q_net=self.q_net,
            spec=self.spec,
            observation_space=self.observation_space,
            frame_stack_replay=self.config.frame_stack_replay,
            train_freq=self.config.train_freq_tuple,
            learning_starts=self.config.learning_starts,
            schedule=self.exploration_schedule,
            exploration_rate=self.exploration_rate,
            num_timesteps=self.num_timesteps,
            total_timesteps=total_timesteps,
            actor_sync_interval=self.config.actor_sync_interval,
            seeds=seeds,
        )

    def _collect_rollout(
        self, callback: BaseCallback, log_interval: int | None, actors: ActorPool | None = None
    ) -> tuple[int, bool]:
        """Step the envs (or take the ``actors``' steps) for one ``train_freq`` round; returns (transitions
        collected, keep training)."""
        env, replay_buffer = self.env, self.replay_buffer
        frequency, unit = self.config.train_freq_tuple
        target_every = max(self.config.target_update_interval // self.n_envs, 1)
        no_truncation = np.zeros(self.n_envs, dtype=bool)
        self.policy.set_training_mode(False)
        callback.on_rollout_start()
        n_steps = n_episodes = 0
        while (n_steps < frequency) if unit == "step" else (n_episodes < frequency):
            if actors is None:
                actions = self._explore(self._last_obs)
                new_obs, rewards, dones, infos = env.step(actions)
            else:
                actions, new_obs, rewards, dones, infos = actors.step()
            self.num_timesteps += self.n_envs
            self._buffer_steps += self.n_envs
            n_steps += 1
            callback.update_locals(locals())
            if not callback.on_step():
                return n_steps * self.n_envs, False
            n_done = int(np.count_nonzero(dones))
            if n_done:
                terminated, truncated, final_obs = _split_dones(dones, infos)
                replay_buffer.add(actions, rewards, terminated, truncated, new_obs, final_obs)
                self.ep_info_buffer.extend(info["episode"] for info in infos if "episode" in info)
            else:
                replay_buffer.add(actions, rewards, dones, no_truncation, new_obs, {})
            self._last_obs = new_obs
            self._n_calls += 1
            if self._n_calls % target_every == 0:
                self._update_target()
            self.exploration_rate = self.exploration_schedule(self.num_timesteps, self._total_timesteps)
            self.logger.record("rollout/exploration_rate", self.exploration_rate)
            for _ in range(n_done):
                n_episodes += 1
                self._episode_num += 1
                if log_interval and self._episode_num % log_interval == 0:
                    self.dump_logs()
        callback.on_rollout_end()
        return n_steps * self.n_envs, True

    def _explore(self, observations: np.ndarray) -> np.ndarray:
        """Epsilon-greedy actions for the envs; uniformly random until ``learning_starts`` (SB3's rule)."""
        n_actions, n_envs = int(self.action_space.n), self.n_envs
        if self.num_timesteps < self.config.learning_starts:
            return self._rng.integers(n_actions, size=n_envs)
        explore = self._rng.random(n_envs) < self.exploration_rate
        if explore.all():
            return self._rng.integers(n_actions, size=n_envs)
        with torch.inference_mode():
            greedy = self.q_net(torch.from_numpy(observations).to(self.device)).argmax(dim=1).cpu().numpy()
        if explore.any():
            return np.where(explore, self._rng.integers(n_actions, size=n_envs), greedy)
        return greedy

    def _update_target(self) -> None:
        """Move the target network towards the online one by ``tau`` (a copy when ``tau == 1``)."""
        with torch.no_grad():
            if self.config.tau == 1.0:
                torch._foreach_copy_(self._target_params, self._params)
            else:
                torch._foreach_lerp_(self._target_params, self._params, self.config.tau)

    def train(self, gradient_steps: int) -> None:
        """One training round: ``gradient_steps`` minibatch updates of the online Q-network.

        With ``update_precision == "bf16"`` the networks' forward and backward passes run under bf16 autocast;
        the weights, their gradients, the optimizer state, the TD targets and the loss stay float32.
        """
        config = self.config
        self.policy.set_training_mode(True)
        learning_rate = self.current_learning_rate
        for group in self.optimizer.param_groups:
            group["lr"] = learning_rate
        losses = []
        for batch in self._minibatches(gradient_steps):
            observations, next_observations = batch.observations, batch.next_observations
            if self._channels_last:
                observations = observations.contiguous(memory_format=torch.channels_last)
                next_observations = next_observations.contiguous(memory_format=torch.channels_last)
            with torch.no_grad():
                with self._autocast():
                    next_q_target = self.q_net_target(next_observations).float()
                    if config.double_q:
                        # Double DQN: the online net picks the next action, the target net values it.
                        next_actions = self.q_net(next_observations).argmax(dim=1, keepdim=True)
                if config.double_q:
                    next_values = next_q_target.gather(1, next_actions).squeeze(1)
                else:
                    next_values = next_q_target.max(dim=1).values
                # discounts is gamma**k for a k-step return, 0 where the episode terminated within it.
                targets = batch.returns + batch.discounts * next_values
            with self._autocast():
                q_values = self.q_net(observations).gather(1, batch.actions).squeeze(1)
            q_values = q_values.float()
            if batch.weights is None:
                loss = self._loss_fn(q_values, targets)
            else:
                # Prioritized replay: importance weights undo the bias of the skewed sampling.
                loss = (batch.weights * self._loss_fn(q_values, targets, reduction="none")).mean()
            self.optimizer.zero_grad(set_to_none=True)
            loss.backward()
            if config.max_grad_norm is not None:
                torch.nn.utils.clip_grad_norm_(self._params, config.max_grad_norm)
            if config.max_grad_value is not None:
                torch.nn.utils.clip_grad_value_(self._params, config.max_grad_value)
            self.optimizer.step()
            if batch.weights is not None:
                td_errors = (targets - q_values.detach()).cpu().numpy()
                self.replay_buffer.update_priorities(batch.indices, td_errors)
            losses.append(loss.detach())
        self._n_updates += gradient_steps
        self.logger.record("train/learning_rate", learning_rate)
        self.logger.record("train/loss", torch.stack(losses).mean().item())
        self.logger.record("train/n_updates", self._n_updates, exclude="tensorboard")

    @property
    def current_learning_rate(self) -> float:
        """The step size now: ``learning_rate``, or with ``learning_rate_final`` the linear decay's value at this
        point of the ``learn()`` call."""
        config = self.config
        if config.learning_rate_final is None:
            return config.learning_rate
        progress = min(1.0, self.num_timesteps / max(self._total_timesteps, 1))
        return config.learning_rate + (config.learning_rate_final - config.learning_rate) * progress

    def _autocast(self) -> torch.autocast:
        """bf16 autocast on the model's device when the update runs in bf16, else a no-op context."""
        return torch.autocast(self.device.type, dtype=torch.bfloat16, enabled=self.update_precision == "bf16")

    def _minibatches(self, gradient_steps: int) -> Iterator[ReplaySample]:
        """The minibatches of one training round, on the model's device."""
        batch_size, replay_buffer = self.config.batch_size, self.replay_buffer
        if replay_buffer.prioritized:
            # Priorities change after every step, so each minibatch is drawn after the previous update.
            progress = min(1.0, self.num_timesteps / max(self._total_timesteps, 1))
            beta = self.config.prioritized_replay_beta0 + (1.0 - self.config.prioritized_replay_beta0) * progress
            for _ in range(gradient_steps):
                yield self._to_device(replay_buffer.sample(batch_size, beta))
            return
        # Uniform sampling does not depend on the updates, so many minibatches come from one draw.
        bytes_per_sample = 2 * self.observation_space.dtype.itemsize * int(np.prod(self.observation_space.shape))
        steps_per_draw = max(1, min(gradient_steps, _MAX_BYTES_PER_DRAW // (bytes_per_sample * batch_size)))
        remaining = gradient_steps
        while remaining > 0:
            steps = min(steps_per_draw, remaining)
            yield from self._to_device(replay_buffer.sample(batch_size * steps)).split(batch_size)
            remaining -= steps

    def _to_device(self, batch: ReplaySample) -> ReplaySample:
        if self.device.type == "cpu":
            return batch
        move = lambda tensor: None if tensor is None else tensor.to(self.device, non_blocking=True)  # noqa: E731
        return ReplaySample(
            observations=move(batch.observations),
            actions=move(batch.actions),
            returns=move(batch.returns),
            next_observations=move(batch.next_observations),
            discounts=move(batch.discounts),
            weights=move(batch.weights),
            indices=batch.indices,
        )

    # -- logging -----------------------------------------------------------------------------------

    @property
    def logger(self) -> Logger:
        """SB3's ``Logger``: stdout with ``verbose=1``, TensorBoard with ``tensorboard_log``."""
        return self._logger

    def set_logger(self, logger: Logger) -> None:
        """Log to ``logger`` (e.g. ``stable_baselines3.common.logger.configure(folder, ["csv"])``)."""
        self._logger = logger
        self._custom_logger = True

    def dump_logs(self) -> None:
        """Write the training statistics (SB3's ``time/``, ``rollout/`` and ``train/`` keys)."""
        time_elapsed = max((time.time_ns() - self.start_time) / 1e9, sys.float_info.epsilon)
        fps = int((self.num_timesteps - self._num_timesteps_at_start) / time_elapsed)
        self.logger.record("time/episodes", self._episode_num, exclude="tensorboard")
        if self.ep_info_buffer:
            self.logger.record("rollout/ep_rew_mean", safe_mean([info["r"] for info in self.ep_info_buffer]))
            self.logger.record("rollout/ep_len_mean", safe_mean([info["l"] for info in self.ep_info_buffer]))
        self.logger.record("time/fps", fps)
        self.logger.record("time/time_elapsed", int(time_elapsed), exclude="tensorboard")
        self.logger.record("time/total_timesteps", self.num_timesteps, exclude="tensorboard")
        self.logger.dump(step=self.num_timesteps)
        self._last_dump_timesteps = self.num_timesteps

    # -- inference ---------------------------------------------------------------------------------

    def predict(
        self,
        observation: np.ndarray,
        state: tuple[np.ndarray, ...] | None = None,
        episode_start: np.ndarray | None = None,
        deterministic: bool = False,
    ) -> tuple[np.ndarray, tuple[np.ndarray, ...] | None]:
        """Actions for one observation or a batch ``(n, *obs_shape)``; SB3's signature and return types: a 0-d
        int64 array for one observation, an ``(n,)`` array for a batch.

        With ``deterministic=False`` each action is random with probability ``exploration_rate`` (decided per
        observation); ``deterministic=True`` is greedy. ``state`` is returned unchanged (no recurrence).
        """
        actions, state = self.policy.predict(observation, state, episode_start)
        if not deterministic and self.exploration_rate > 0:
            explore = self._rng.random(actions.shape) < self.exploration_rate
            actions = np.where(explore, self._rng.integers(int(self.action_space.n), size=actions.shape), actions)
        return actions, state

    # -- checkpoints -------------------------------------------------------------------------------

    def save(
        self, path: str | os.PathLike[str], include_optimizer: bool = True, include_replay_buffer: bool = False
    ) -> None:
        """Write a checkpoint directory at ``path`` (a zip archive if ``path`` ends in ``.zip``).

        See :mod:`mario_zoo.agents.checkpoint` for the layout. With ``include_replay_buffer=True`` the checkpoint
        also holds the replay buffer and every RNG state (:meth:`save_replay_buffer`), written in the same atomic
        replace, so that ``DQN.load`` + :meth:`load_replay_buffer` continue training losslessly.
        """
        config = checkpoint.CheckpointConfig(
            policy=self.policy_name,
            policy_kwargs=self.policy_kwargs,
            hyperparameters=self.config,
            network=self.spec,
            observation_space=self.observation_space,
            action_space=self.action_space,
            env_id=self._env_id,
            env_kwargs=self._env_kwargs,
            seed=self.seed,
            num_timesteps=self.num_timesteps,
            exploration_rate=float(self.exploration_rate),
            exploration_total_timesteps=self._total_timesteps,
            n_updates=self._n_updates,
            episodes=self._episode_num,
            n_calls=self._n_calls,
            versions=checkpoint.package_versions(),
        )
        optimizer = checkpoint.optimizer_to_tensors(self.optimizer) if include_optimizer else None
        if not include_replay_buffer:
            checkpoint.write_checkpoint(path, config, self.policy.state_dict(), optimizer)
            return
        with self._replay_files(path) as replay_files:
            checkpoint.write_checkpoint(path, config, self.policy.state_dict(), optimizer, replay_files=replay_files)

    def save_replay_buffer(self, path: str | os.PathLike[str]) -> None:
        """Write the replay buffer and every RNG state to ``path``, atomically and without pickle:
        ``replay.safetensors`` and ``replay.json`` in a directory if ``path`` has no suffix, else in one zip
        archive at exactly ``path``, whatever its suffix (``.zip``, or the ``*_replay_buffer_N_steps.pkl`` that
        SB3's ``CheckpointCallback(save_replay_buffer=True)`` asks for: a name only, there is no pickle inside).

        Besides the buffer's rows, write positions, priorities and sampling generator, it holds the agent's
        exploration generator, torch's, numpy's and Python's global RNG states, the action space's and each env's
        generator, the observations the agent acts on next and the buffer's step counter: everything a run
        needs, with the checkpoint's weights and optimizer state, to continue exactly as if it never stopped.
        See :mod:`mario_zoo.agents.training_state` for the layout.
        """
        target = Path(path)
        archive = target.suffix != ""
        if archive and target.is_dir():
            raise FileExistsError(
                f"Cannot write the replay buffer file {target}: a directory is there (older mario_zoo versions saved "
                "replay buffers at paths with a suffix, such as SB3's *.pkl, as directories). Remove it or choose "
                "another path."
            )
        with self._replay_files(path) as replay_files:
            checkpoint.write_files(path, replay_files, archive=archive)

    def load_replay_buffer(self, path: str | os.PathLike[str], truncate_last_traj: bool = True) -> None:
        """Restore the replay buffer and every RNG state saved by :meth:`save_replay_buffer` or by
        ``save(path, include_replay_buffer=True)``; ``path`` is that directory, zip or checkpoint.

        The buffer must have the layout this model's hyperparameters and env give (capacity, envs, observation
        shape, ``n_steps``, ``gamma``, prioritized replay): a corrupt file or another layout is a ``ValueError``
        naming the file, and leaves the model as it was. Restoring also sets torch's, numpy's and Python's global
        RNG states. The env's generators are given to the env (now, or to the one :meth:`set_env` gets next,
        which is then not reseeded).

        Args:
            path: the checkpoint or replay files.
            truncate_last_traj: SB3's name. ``True``: the episodes in progress when the buffer was saved end
                there, and the next ``learn`` resets the env. ``False``: ``learn`` continues them from the saved
                observations, which is right only if the env continues them too (it is the same env, or its
                state was restored). Bit for bit, a run continued this way draws the minibatches and reaches
                the weights of the run that saved it.
        """
        n_envs = read_replay_config(path).get("buffer", {}).get("n_envs")
        if isinstance(n_envs, bool) or not isinstance(n_envs, int) or n_envs < 1:
            raise ValueError(f"{path}: {checkpoint.REPLAY_CONFIG_FILE} is corrupt: bad buffer n_envs {n_envs!r}.")
        if self.env is not None and n_envs != self.n_envs:
            raise ValueError(
                f"{path}: the replay buffer was saved from {n_envs} envs but this model trains on {self.n_envs}; "
                f"set_env with {n_envs} envs first."
            )
        # Building the buffer draws its seed from the agent's generator: put both back if the files are bad.
        previous_n_envs, previous_rng = self.n_envs, self._rng.bit_generator.state
        self.n_envs = n_envs
        try:
            buffer = self._make_replay_buffer()
            state = read_replay(path, buffer)
            training, rng = state.config["training"], state.config["rng"]
            buffer_steps = int(training["buffer_steps"])
            agent_rng = generator_from_state(rng["model"])
            action_space_rng = None if rng["action_space"] is None else generator_from_state(rng["action_space"])
            env_rngs = [None if item is None else generator_from_state(item) for item in rng["env"] or []]
            torch_rng = torch.from_numpy(state.tensors["rng.torch"])
            last_observations = None if truncate_last_traj else state.tensors.get("last_observations")
            if not truncate_last_traj and last_observations is None:
                raise ValueError(f"{path}: the replay files hold no last observations to continue episodes from.")
        except (KeyError, TypeError, AttributeError) as error:
            self.n_envs, self._rng.bit_generator.state = previous_n_envs, previous_rng
            raise ValueError(f"{path}: {checkpoint.REPLAY_CONFIG_FILE} is corrupt: missing or bad {error}.") from None
        except BaseException:
            self.n_envs, self._rng.bit_generator.state = previous_n_envs, previous_rng
            raise
        self.replay_buffer, self._buffer_steps, self._rng = buffer, buffer_steps, agent_rng
        if action_space_rng is not None:
            # Gymnasium keeps a space's generator here; Space.seed() is the only public way to set it.
            self.action_space._np_random = action_space_rng
        set_global_rng_states(rng)
        torch.set_rng_state(torch_rng)
        if torch.cuda.is_available():
            for index in range(torch.cuda.device_count()):
                if f"rng.cuda.{index}" in state.tensors:
                    torch.cuda.set_rng_state(torch.from_numpy(state.tensors[f"rng.cuda.{index}"]), index)
        self._last_obs = last_observations
        self._pending_env_rngs = env_rngs if rng["env"] is not None else None
        self._restore_env_rngs()

    @contextmanager
    def _replay_files(self, path: str | os.PathLike[str]) -> Iterator[dict[str, bytes | Path]]:
        """The replay files, written into a temporary folder next to ``path`` (removed afterwards)."""
        if self.replay_buffer is None:
            raise ValueError("This model has no replay buffer yet: learn() creates it (or load_replay_buffer()).")
        target = Path(path)
        target.parent.mkdir(parents=True, exist_ok=True)
        tensors = {"rng.torch": torch.get_rng_state().numpy()}
        if self.device.type == "cuda":
            tensors |= {f"rng.cuda.{i}": state.numpy() for i, state in enumerate(torch.cuda.get_rng_state_all())}
        if self._last_obs is not None:
            tensors["last_observations"] = np.asarray(self._last_obs)
        action_space_rng = getattr(self.action_space, "_np_random", None)
        rng = {
            "model": generator_state(self._rng),
            "action_space": None if action_space_rng is None else generator_state(action_space_rng),
            "env": self._env_rng_states(),
            **global_rng_states(),
        }
        training = {"num_timesteps": self.num_timesteps, "buffer_steps": self._buffer_steps}
        with tempfile.TemporaryDirectory(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent) as folder:
            write_replay_files(Path(folder), self.replay_buffer, training=training, rng=rng, tensors=tensors)
            yield {
                name: Path(folder) / name for name in (checkpoint.REPLAY_TENSORS_FILE, checkpoint.REPLAY_CONFIG_FILE)
            }

    def _env_rng_states(self) -> list[dict[str, Any] | None] | None:
        """Each env's ``np_random`` state, ``None`` where an env has none; ``None`` without an env."""
        generators = self._pending_env_rngs if self.env is None else self.env.get_attr("np_random")
        if generators is None:
            return None
        return [generator_state(item) if isinstance(item, np.random.Generator) else None for item in generators]

    def _restore_env_rngs(self) -> None:
        generators = self._pending_env_rngs
        if generators is None or self.env is None or len(generators) != self.env.num_envs:
            return
        for index, generator in enumerate(generators):
            if generator is not None:
                self.env.set_attr("np_random", generator, indices=[index])
        self._pending_env_rngs = None

    @classmethod
    def load(
        cls,
        path: str | os.PathLike[str],
        env: gym.Env | VecEnv | str | None = None,
        device: torch.device | str = "auto",
        custom_objects: dict[str, Any] | None = None,
        print_system_info: bool = False,
        force_reset: bool = True,
        **kwargs: Any,
    ) -> DQN:
        """Load a checkpoint directory or ``.zip`` written by :meth:`save` (``"x"`` finds ``"x.zip"``, as in SB3).

        A Stable-Baselines3 DQN ``.zip`` loads too: its ``policy.pth`` weights and ``policy.optimizer.pth`` state
        are read as plain tensor dicts (``torch.load(..., weights_only=True)``), never unpickled; see
        :mod:`mario_zoo.agents.sb3`.

        Args:
            path: the checkpoint.
            env: env to continue training on (its spaces must match); ``None`` for inference only.
            device: where to put the networks (``"auto"``, ``"cpu"``, ``"cuda"``, ``"cuda:1"``, ``"mps"``).
            custom_objects: SB3's values to use instead of the saved ones; hyperparameters, ``verbose``, ``seed``,
                ``tensorboard_log``, ``exploration_rate``, spaces that fit the network, and SB3's replay options
                are applied, other keys are dropped with a warning (see :mod:`mario_zoo.agents.sb3_options`).
            print_system_info: print this machine's versions, then those the checkpoint was saved with.
            force_reset: SB3's meaning: the env is reset before the next ``learn``. A checkpoint holds no
                observations to continue from, so ``False`` matters only once :meth:`load_replay_buffer`
                (``truncate_last_traj=False``) restored them.
            **kwargs: hyperparameters to override (e.g. ``learning_rate=0.0``, ``buffer_size=1``), ``verbose``,
                ``tensorboard_log``, ``seed``, ``exploration_rate``, and the SB3 arguments ``custom_objects`` takes;
                they win over ``custom_objects``, as in SB3. ``policy_kwargs`` must equal the stored ones.

        Raises:
            mario_zoo.CheckpointError: the checkpoint is missing, damaged, changed after it was written, or not one
                this mario_zoo reads; the message names the file.
        """
        arguments = split_load_arguments(kwargs, custom_objects)
        check_flag("force_reset", force_reset)
        if check_flag("print_system_info", print_system_info):
            print(format_system_info("CURRENT SYSTEM INFO", current_system_info()))
        stored = checkpoint.read_checkpoint(path)
        config = stored.config
        if print_system_info:
            print(format_system_info("SAVED MODEL SYSTEM INFO", config.versions))
        hyperparameters = dataclasses.replace(config.hyperparameters, **arguments.hyperparameters)
        check_replay_arguments(**arguments.replay, n_steps=hyperparameters.n_steps)
        _check_stored_network(config, arguments)
        observation_space, action_space = replace_spaces(
            config.observation_space, config.action_space, arguments.attributes
        )
        model = cls.__new__(cls)
        model._setup(
            kind=config.network.kind,
            observation_space=observation_space,
            action_space=action_space,
            config=hyperparameters,
            policy_kwargs=config.policy_kwargs,
            spec=config.network,
            tensorboard_log=arguments.run_options.get("tensorboard_log"),
            verbose=arguments.run_options.get("verbose", 0),
            seed=arguments.run_options.get("seed"),
            device=device,
        )
        checkpoint.load_state_strict(model.policy, stored.model, path)
        if stored.optimizer is not None:
            checkpoint.load_optimizer_tensors(model.optimizer, stored.optimizer, path)
        model.num_timesteps = config.num_timesteps
        model.exploration_rate = arguments.attributes.get("exploration_rate", config.exploration_rate)
        model._total_timesteps = config.exploration_total_timesteps
        model._n_updates = config.n_updates
        model._episode_num = config.episodes
        model._n_calls = config.n_calls
        model._env_id, model._env_kwargs = config.env_id, dict(config.env_kwargs)
        if env is not None:
            model.set_env(env, force_reset=force_reset)
        return model

    # -- Stable-Baselines3's parameter access --------------------------------------------------------

    def get_parameters(self) -> dict[str, dict[str, Any]]:
        """The model's state as SB3 names it: ``{"policy": state dict, "policy.optimizer": optimizer state}``.

        Example:
            >>> model = DQN("MlpPolicy", "CartPole-v1", device="cpu")
            >>> sorted(model.get_parameters())
            ['policy', 'policy.optimizer']
        """
        return {"policy": self.policy.state_dict(), "policy.optimizer": self.optimizer.state_dict()}

    def set_parameters(
        self,
        load_path_or_dict: str | os.PathLike[str] | dict[str, dict[str, Any]],
        exact_match: bool = True,
        device: torch.device | str = "auto",
    ) -> None:
        """Load parameters from :meth:`get_parameters`' dict or from a checkpoint, keeping everything else.

        SB3's semantics: with ``exact_match`` every object (``"policy"``, ``"policy.optimizer"``) must be given and
        every weight must match; without it, the objects and weights given are loaded and the rest stays.
        ``device`` is accepted for SB3 compatibility; tensors go where the model's networks are.
        """
        if isinstance(load_path_or_dict, dict):
            params = load_path_or_dict
        else:
            stored = checkpoint.read_checkpoint(load_path_or_dict)
            params = {"policy": stored.model}
            if stored.optimizer is not None:
                checkpoint.load_optimizer_tensors(self.optimizer, stored.optimizer, load_path_or_dict)
                params["policy.optimizer"] = self.optimizer.state_dict()
        valid = ("policy", "policy.optimizer")
        unknown = sorted(set(params) - set(valid))
        if unknown:
            raise ValueError(f"Unknown parameter object(s) {unknown}; valid names are {valid} (see get_parameters()).")
        missing = sorted(set(valid) - set(params))
        if exact_match and missing:
            raise ValueError(
                f"Names {missing} were not found in the given parameters; pass exact_match=False to load the others."
            )
        if "policy" in params:
            if exact_match:
                checkpoint.load_state_strict(self.policy, params["policy"], "the given parameters")
            else:
                self.policy.load_state_dict(params["policy"], strict=False)
        if "policy.optimizer" in params:
            self.optimizer.load_state_dict(params["policy.optimizer"])

    def set_random_seed(self, seed: int | None = None) -> None:
        """Seed Python, NumPy, torch, the action space, exploration and the env (SB3's method); ``None`` does nothing."""
        if seed is None:
            return
        set_random_seed(seed, using_cuda=self.device.type == "cuda")
        self.action_space.seed(seed)
        self._rng = np.random.default_rng(seed)
        if self.env is not None:
            self.env.seed(seed)

    @property
    def env_id(self) -> str | None:
        """Gymnasium ID of the env the model was trained on (``None`` if it had none): with :attr:`env_kwargs`,
        ``gym.make(model.env_id, **model.env_kwargs)`` rebuilds it."""
        return self._env_id

    @property
    def env_kwargs(self) -> dict[str, Any]:
        """``gym.make`` keyword arguments of the env the model was trained on (a copy)."""
        return dict(self._env_kwargs)


def _whole_number(name: str, value: Any) -> int:
    """An int, or a float with no fractional part (SB3 accepts ``learn(1e5)``)."""
    if isinstance(value, float | np.floating) and float(value).is_integer():
        return int(value)
    if isinstance(value, bool) or not isinstance(value, int | np.integer):
        raise TypeError(f"{name} must be a whole number such as 100_000 or 1e5, got {value!r}.")
    return int(value)


def _resolve_policy(policy: str | type) -> tuple[str, bool]:
    """``(network kind, dueling)`` for a policy name or class."""
    if isinstance(policy, str):
        if policy in POLICY_ALIASES:
            return POLICY_ALIASES[policy]
        if policy == "MultiInputPolicy":
            raise ValueError(
                "MultiInputPolicy (Dict observations) is not supported; flatten the observation with "
                "gymnasium.wrappers.FlattenObservation and use 'MlpPolicy'."
            )
        raise ValueError(f"Unknown policy {policy!r}; valid choices are {tuple(POLICY_ALIASES)} or those classes.")
    # Subclasses first: DuelingCnnPolicy is a DuelingMlpPolicy, SB3's CnnPolicy is a DQNPolicy.
    for cls, resolved in (
        (DuelingCnnPolicy, ("cnn", True)),
        (DuelingMlpPolicy, ("mlp", True)),
        (SB3CnnPolicy, ("cnn", False)),
        (SB3DQNPolicy, ("mlp", False)),
    ):
        if isinstance(policy, type) and issubclass(policy, cls):
            return resolved
    raise ValueError(
        f"Unknown policy {policy!r}; pass one of {tuple(POLICY_ALIASES)}, SB3's DQN MlpPolicy/CnnPolicy class, "
        "or mario_zoo.agents.DuelingMlpPolicy/DuelingCnnPolicy."
    )


def _check_stored_network(config: checkpoint.CheckpointConfig, arguments: LoadArguments) -> None:
    """Refuse ``policy_kwargs`` or a ``policy_class`` given to ``DQN.load`` that would build another network than
    the stored one (SB3 refuses other ``policy_kwargs`` in the same words)."""
    given = arguments.attributes
    if "policy_kwargs" in given:
        normalized = _normalize_policy_kwargs(given["policy_kwargs"], config.network.kind)
        if normalized != config.policy_kwargs:
            raise ValueError(
                "The specified policy kwargs do not equal the stored policy kwargs. "
                f"Stored kwargs: {config.policy_kwargs}, specified kwargs: {given['policy_kwargs']}"
            )
    if "policy_class" in given:
        stored = (config.network.kind, config.network.dueling)
        if _resolve_policy(given["policy_class"]) != stored:
            raise ValueError(
                f"policy_class {given['policy_class']!r} builds another network than the stored "
                f"{config.policy}{' (dueling)' if config.network.dueling else ''}; leave it out."
            )


def _normalize_policy_kwargs(policy_kwargs: dict[str, Any] | None, kind: str) -> dict[str, Any]:
    """Validate SB3-style ``policy_kwargs`` and make them plain data for ``config.json``."""
    given = dict(policy_kwargs or {})
    unknown = sorted(set(given) - set(POLICY_KWARGS))
    if unknown:
        hint = ""
        if {"optimizer_class", "optimizer_kwargs"} & set(unknown):
            hint = " Choose the optimizer with the hyperparameters optimizer='adam'|'adamw', amsgrad, weight_decay."
        raise ValueError(f"Unsupported policy_kwargs {unknown}; supported keys are {POLICY_KWARGS}.{hint}")
    activation = given.get("activation_fn", "relu")
    if isinstance(activation, type):
        names = {cls: name for name, cls in ACTIVATIONS.items()}
        if activation not in names:
            raise ValueError(
                f"activation_fn {activation.__name__} is not supported; choose one of {tuple(ACTIVATIONS)}."
            )
        activation = names[activation]
    if activation not in ACTIVATIONS:
        raise ValueError(f"activation_fn {activation!r} is not supported; choose one of {tuple(ACTIVATIONS)}.")
    extractor_kwargs = dict(given.get("features_extractor_kwargs") or {})
    if set(extractor_kwargs) - {"features_dim"}:
        raise ValueError(f"features_extractor_kwargs supports only 'features_dim', got {sorted(extractor_kwargs)}.")
    net_arch = given.get("net_arch", _DEFAULT_NET_ARCH[kind])
    if not isinstance(net_arch, list | tuple):
        raise ValueError(f"net_arch must be a list of layer widths, e.g. [64, 64], got {net_arch!r}.")
    return {
        "net_arch": list(net_arch),
        "activation_fn": activation,
        "features_extractor_kwargs": extractor_kwargs,
        "normalize_images": bool(given.get("normalize_images", True)),
    }


def _make_env(env: gym.Env | VecEnv | str | EnvFactory, verbose: int, actors: int) -> tuple[VecEnv, EnvFactory | None]:
    """The env as a ``VecEnv`` (``actors`` envs when they step in actor processes), and the factory the actors
    rebuild it with (``None``: the sequential loop steps it here)."""
    factory = env_factory(env) if actors else None
    if actors and factory is None:
        reason = f"the env is an instance ({type(env).__name__}), which an actor process cannot rebuild"
    elif factory is not None:
        try:
            pickle.dumps(factory)
        except Exception as error:  # pickling a user's callable can raise anything
            reason, factory = f"the env factory cannot be pickled ({error})", None
    if actors and factory is None:
        print(
            f"mario_zoo: actors={actors} ignored, {reason}; stepping it in this process. Pass an env ID or a "
            "picklable env factory to use actors.",
            file=sys.stderr,
        )
    return wrap_env(env, verbose, n_envs=actors if factory is not None else 1), factory


def _check_spaces(observation_space: spaces.Space, action_space: spaces.Space) -> None:
    if not isinstance(action_space, spaces.Discrete):
        raise ValueError(
            f"DQN needs a Discrete action space, got {action_space}. For continuous (Box) actions use an "
            "actor-critic algorithm such as stable_baselines3.SAC or TD3, or discretize the actions with a wrapper."
        )
    if isinstance(observation_space, spaces.Dict | spaces.Tuple):
        raise ValueError(
            f"Dict and Tuple observation spaces are not supported, got {observation_space}. Flatten the "
            "observation with gymnasium.wrappers.FlattenObservation (or keep the one key you need)."
        )
    if not isinstance(observation_space, spaces.Box):
        raise ValueError(
            f"DQN needs a Box observation space, got {observation_space}. For Discrete observations one-hot "
            "encode them in an ObservationWrapper."
        )


def _check_same_spaces(env: VecEnv, observation_space: spaces.Box, action_space: spaces.Discrete) -> None:
    _check_spaces(env.observation_space, env.action_space)
    if env.observation_space.shape != observation_space.shape or env.action_space.n != action_space.n:
        raise ValueError(
            f"The env's spaces ({env.observation_space}, {env.action_space}) differ from the model's "
            f"({observation_space}, {action_space}); use an env built like the one the model was trained on."
        )


def _split_dones(dones: np.ndarray, infos: list[dict[str, Any]]) -> tuple[np.ndarray, np.ndarray, dict[int, Any]]:
    """Tell terminations from time-limit truncations; a truncated episode's last observation is bootstrapped."""
    terminated, truncated, final_obs = dones.copy(), np.zeros_like(dones), {}
    for index in np.flatnonzero(dones):
        if infos[index].get("TimeLimit.truncated", False):
            terminated[index], truncated[index] = False, True
            final_obs[int(index)] = infos[index]["terminal_observation"]
    return terminated, truncated, final_obs


def _json_kwargs(kwargs: dict[str, Any]) -> dict[str, Any]:
    """The env kwargs that survive JSON; others are dropped with a warning (the checkpoint stays plain data)."""
    kept = {}
    for key, value in kwargs.items():
        try:
            json.dumps(value)
        except TypeError:
            warnings.warn(f"env kwarg {key}={value!r} is not plain data and is not saved with the model.", stacklevel=3)
            continue
        kept[key] = value
    return kept


def _make_optimizer(config: DQNConfig, params: list[torch.nn.Parameter], device: torch.device) -> torch.optim.Optimizer:
    optimizer_class = torch.optim.AdamW if config.optimizer == "adamw" else torch.optim.Adam
    return optimizer_class(
        params,
        lr=config.learning_rate,
        eps=config.adam_eps,
        weight_decay=config.weight_decay,
        amsgrad=config.amsgrad,
        # The fused kernel does the same math in one pass; it exists for CPU and CUDA.
        fused=device.type in ("cpu", "cuda"),
    )
