"""Deep Q-Network with Stable-Baselines3's interface: collect -> store -> sample -> update.

The algorithm is ours (the PyTorch CartPole tutorial's DQN, grown): the loop lives in :meth:`DQN.learn`,
the update in :meth:`DQN.train`. What it shares with SB3 is the surface: constructor arguments, ``learn``,
``predict``, ``save``/``load``, SB3's ``VecEnv``, ``Monitor``, callbacks and ``Logger``. The files (``save``,
``load``, parameters, replay buffer) are :mod:`~mario_zoo.agents.persistence`'s; SB3's arguments are mapped in
:mod:`~mario_zoo.agents.sb3_options`, its envs in :mod:`~mario_zoo.agents.vec_env`.
"""

from __future__ import annotations

import contextlib
import inspect
import time
import warnings
from collections import deque
from collections.abc import Iterator
from typing import Any, ClassVar

import gymnasium as gym
import numpy as np
import torch
import torch.nn.functional as F
from gymnasium import spaces
from stable_baselines3.common.callbacks import BaseCallback
from stable_baselines3.common.type_aliases import MaybeCallback, TrainFreq, TrainFrequencyUnit
from stable_baselines3.common.utils import set_random_seed
from stable_baselines3.common.vec_env import VecEnv, VecNormalize, unwrap_vec_normalize

from mario_zoo.agents.actor import ActorPool
from mario_zoo.agents.averaging import AveragedWeights, WeightAverage
from mario_zoo.agents.config import DQNConfig, check_train_freq_envs, config_from_arguments
from mario_zoo.agents.device import resolve_device, torch_threads
from mario_zoo.agents.exploration import Explorer, reset_infos
from mario_zoo.agents.hyperparameters import HyperparameterAttributes
from mario_zoo.agents.logs import TrainingLogs, default_logger, quiet_logger
from mario_zoo.agents.networks import NetworkSpec, make_optimizer
from mario_zoo.agents.persistence import Checkpointing
from mario_zoo.agents.policies import QPolicy
from mario_zoo.agents.precision import resolve_precision
from mario_zoo.agents.replay import ReplayBuffer, ReplaySample, check_stacked, replay_buffer_for
from mario_zoo.agents.replay_memory import check_replay_memory, check_run_memory
from mario_zoo.agents.sb3_options import (
    POLICY_ALIASES,
    as_callback,
    check_replay_arguments,
    check_run_options,
    network_spec,
    normalize_policy_kwargs,
    positional_arguments,
    resolve_policy,
    whole_number,
)
from mario_zoo.agents.schedules import exploration_schedule
from mario_zoo.agents.targets import td_targets
from mario_zoo.agents.vec_env import (
    EnvFactory,
    check_same_spaces,
    check_spaces,
    env_factory,
    env_values,
    json_kwargs,
    make_env,
    original_observations,
    split_dones,
)
from mario_zoo.envs.kwargs import split_training_options
from mario_zoo.extras import require


class DQN(HyperparameterAttributes, Checkpointing, TrainingLogs, AveragedWeights):
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
        optimize_memory_usage: accepted either way: our replay stores each observation once, as SB3's ``True`` does.
        replay_buffer_class, replay_buffer_kwargs: SB3's replay options where ours match them
            (:func:`~mario_zoo.agents.sb3_options.check_replay_arguments`).
        config: a ready :class:`~mario_zoo.agents.config.DQNConfig` (checked when it was built), instead of
            hyperparameter keywords; giving both is a ``TypeError``.
        **hyperparameters: any field of :class:`~mario_zoo.agents.config.DQNConfig`.

    Differences from SB3's DQN: checkpoints are safetensors and JSON (a directory or zip), never pickle, with the
    replay buffer and RNG states only when asked; ``predict(..., deterministic=False)`` draws epsilon per
    observation; ``learning_rate`` is a number (``learning_rate_final`` decays it linearly); hyperparameters, not
    ``policy_kwargs``, choose the optimizer; ``learn`` runs an MLP on the CPU with one torch thread, as the CLI
    does (two threads spin against the env on 2 cores); ``model.learn_threads = None`` keeps torch's own setting.

    Actors. With ``actors=k`` (k >= 1), ``learn`` steps the env in ``k`` actor processes (as a ``k``-env ``VecEnv``
    would) while this process runs the updates: the sequential loop's algorithm (``actors=0``, the default), except
    that a round's actions come from weights at most one round old. See :mod:`mario_zoo.agents.actor`; a script
    that uses actors must guard its entry point with ``if __name__ == "__main__":``.

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
        *args: Any,
        policy_kwargs: dict[str, Any] | None = None,
        tensorboard_log: str | None = None,
        verbose: int = 0,
        seed: int | None = None,
        device: torch.device | str = "auto",
        optimize_memory_usage: bool = False,
        replay_buffer_class: type | None = None,
        replay_buffer_kwargs: dict[str, Any] | None = None,
        config: DQNConfig | None = None,
        **hyperparameters: Any,
    ):
        if args:  # SB3's order after env: DQN("MlpPolicy", env, 1e-3, 50_000)
            given = locals()
            defaults = {
                name: parameter.default
                for name, parameter in inspect.signature(DQN).parameters.items()
                if parameter.kind is parameter.KEYWORD_ONLY
            }
            keywords = {**{name: given[name] for name in defaults}, **hyperparameters}
            self.__init__(policy, env, **positional_arguments(args, keywords, defaults))
            return
        kind, dueling = resolve_policy(policy)
        config = config_from_arguments(config, hyperparameters, dueling=dueling)
        check_replay_arguments(optimize_memory_usage, replay_buffer_class, replay_buffer_kwargs, n_steps=config.n_steps)
        vec_env, factory = make_env(env, verbose, config.actors)
        try:
            self._setup(
                kind=kind,
                observation_space=vec_env.observation_space,
                action_space=vec_env.action_space,
                config=config,
                policy_kwargs=normalize_policy_kwargs(policy_kwargs, kind),
                spec=None,
                tensorboard_log=tensorboard_log,
                verbose=verbose,
                seed=seed,
                device=device,
            )
            stack = self.observation_space.shape[0] if config.frame_stack_replay else 1
            if (too_big := check_replay_memory(config.buffer_size, self.observation_space, stack)) is not None:
                # A warning, as SB3's: a model built to play never fills it, and a short learn() fills only part.
                warnings.warn(too_big, UserWarning, stacklevel=2)
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
        check_spaces(observation_space, action_space)
        if config.frame_stack_replay:
            check_stacked(observation_space)
        self.config = config
        self.policy_name = "CnnPolicy" if kind == "cnn" else "MlpPolicy"
        self.policy_kwargs = policy_kwargs
        self.observation_space: spaces.Box = observation_space
        self.action_space: spaces.Discrete = action_space
        self.verbose, self.tensorboard_log = check_run_options(verbose, tensorboard_log)
        self.seed = seed
        self.device = resolve_device(device)
        if seed is not None:
            set_random_seed(seed, using_cuda=self.device.type == "cuda")
            self.action_space.seed(seed)
        self._rng = np.random.default_rng(seed)

        self.spec = spec or network_spec(kind, observation_space, action_space, policy_kwargs, config.dueling)
        self.learn_threads: int | None = 1 if self.spec.kind == "mlp" and self.device.type == "cpu" else None
        self.policy = QPolicy(observation_space, action_space, self.spec).to(self.device)
        self.update_precision = resolve_precision(config.precision, self.device)
        # oneDNN's bf16 convolutions are fastest on channels-last (NHWC) batches; see benchmarks/mario_train_cost.py.
        self._channels_last = self.update_precision == "bf16" and kind == "cnn"
        self.q_net = self.policy.q_net
        self.q_net_target = self.policy.q_net_target
        self._params = list(self.q_net.parameters())
        self._target_params = list(self.q_net_target.parameters())
        self._average = None if config.ema_decay is None else WeightAverage(self._params, config.ema_decay)
        self.optimizer = make_optimizer(config, self._params, self.device)  # also policy.optimizer, as in SB3
        self._loss_fn = F.smooth_l1_loss if config.loss == "huber" else F.mse_loss
        self.exploration_schedule = exploration_schedule(config)
        self.exploration_rate = 0.0  # SB3's: predict(deterministic=False) is greedy until learn() sets the schedule's
        # Env steps of uniformly random actions (handed-over ones excepted) before epsilon-greedy play (SB3's rule:
        # learning_starts); a warm start sets 0, so its replay fills with the loaded network's own play.
        self.random_steps = config.learning_starts

        self.env: VecEnv | None = None
        self.n_envs = 0
        self._actor_env_factory: EnvFactory | None = None
        self._replay_buffer: ReplayBuffer | None = None  # built on first use (the replay_buffer property)
        self.num_timesteps = 0
        self._total_timesteps = 0
        self._num_timesteps_at_start = 0
        self._buffer_steps = 0
        self._episode_num = 0
        self._n_updates = 0
        self._n_calls = 0
        self._last_dump_timesteps = -1
        self._last_obs: np.ndarray | None = None
        self._explorer: Explorer | None = None
        self.ep_info_buffer: deque[dict[str, float]] = deque(maxlen=config.stats_window_size)
        self.start_time = time.time_ns()
        self._env_id: str | None = None
        self._env_kwargs: dict[str, Any] = {}
        self._train_env_kwargs: dict[str, Any] = {}
        self._logger = quiet_logger(verbose)
        self._custom_logger = False
        # Env generators read by load_replay_buffer before an env was set: given to the next env set_env gets.
        self._pending_env_rngs: list[np.random.Generator | None] | None = None

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
        self._attach_env(*make_env(env, self.verbose, self.config.actors), force_reset)

    def _attach_env(self, vec_env: VecEnv, factory: EnvFactory | None, force_reset: bool) -> None:
        """``set_env``'s work: ``factory`` rebuilds the env in actor processes (``None``: the sequential loop)."""
        check_same_spaces(vec_env, self.observation_space, self.action_space)
        check_train_freq_envs(self.config, vec_env.num_envs, f"got {vec_env.num_envs} envs")
        if vec_env.num_envs != self.n_envs:
            if self._replay_buffer is not None and len(self._replay_buffer):
                warnings.warn(
                    f"set_env with {vec_env.num_envs} envs drops the replay buffer's {len(self._replay_buffer):,} "
                    f"transitions, laid out for {self.n_envs} (SB3 refuses another number of envs).",
                    stacklevel=3,
                )
            self._replay_buffer, self._pending_env_rngs, self._last_obs = None, None, None
        if self.seed is not None and self._pending_env_rngs is None:
            vec_env.seed(self.seed)
        self.env, self.n_envs = vec_env, vec_env.num_envs
        self._restore_env_rngs()
        self._actor_env_factory = factory
        spec = vec_env.get_attr("spec", [0])[0]
        if spec is not None:
            self._env_id = spec.id
            self._env_kwargs, self._train_env_kwargs = split_training_options(json_kwargs(spec.kwargs))
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
            whole_number("total_timesteps", total_timesteps), callback, reset_num_timesteps, tb_log_name, progress_bar
        )
        actors = self._make_actor_pool(total_timesteps)
        with torch_threads(self.learn_threads), actors or contextlib.nullcontext(), self.learning():
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
        self.exploration_rate = self.exploration_schedule(self.num_timesteps, total_timesteps)
        if self._replay_buffer is None or self._buffer_steps == 0:
            config, steps = self.config, total_timesteps - self.num_timesteps
            check_run_memory(config.buffer_size, self.observation_space, config.frame_stack_replay, steps)
        if self._replay_buffer is None:
            self._replay_buffer, self._buffer_steps, self._last_obs = self._make_replay_buffer(), 0, None
        # With actors, each learn() call starts from the actors' first observations instead.
        explorer = self._ensure_explorer()
        if self._actor_env_factory is None and (reset_num_timesteps or self._last_obs is None):
            self._last_obs = self.env.reset()
            self.replay_buffer.start_episodes(original_observations(self.get_vec_normalize_env(), self._last_obs))
            explorer.episodes_started(np.ones(self.n_envs, bool), reset_infos(self.env))
        if not self._custom_logger:
            if self.tensorboard_log is not None:
                require("tensorboard", "tensorboard", "tensorboard_log")
            self._logger = default_logger(self.verbose, self.tensorboard_log, tb_log_name, reset_num_timesteps)
        if progress_bar:
            require("rich", "progress", "progress_bar=True")
        callback = as_callback(callback, progress_bar)
        callback.init_callback(self)
        return total_timesteps, callback

    @property
    def replay_buffer(self) -> ReplayBuffer:
        """SB3's: the replay buffer, empty until ``learn`` fills it (memory is taken as it fills)."""
        if self._replay_buffer is None:
            self._replay_buffer, self._buffer_steps = self._make_replay_buffer(), 0
        return self._replay_buffer

    def _make_replay_buffer(self) -> ReplayBuffer:
        seed, n_envs = int(self._rng.integers(2**63)), max(self.n_envs, 1)  # SB3's: one env until set_env
        return replay_buffer_for(self.config, self.observation_space, int(self.action_space.n), n_envs, seed)

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
            learning_starts=self.random_steps,
            schedule=self.exploration_schedule,
            exploration_rate=self.exploration_rate,
            exploration_repeat=self.config.exploration_repeat,
            frontier_exploration_eps=self.config.frontier_exploration_eps,
            frontier_exploration_steps=self.config.frontier_exploration_steps,
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
        # Also in SB3's collect_rollouts locals, which callbacks read (self.locals["train_freq"].frequency).
        train_freq, learning_starts, action_noise = (
            TrainFreq(frequency, TrainFrequencyUnit(unit)),
            self.random_steps,
            None,
        )
        target_every = max(self.config.target_update_interval // self.n_envs, 1)
        no_truncation = np.zeros(self.n_envs, dtype=bool)
        vec_normalize = self.get_vec_normalize_env() if actors is None else None
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
            terminated, truncated, final_obs = split_dones(dones, infos) if n_done else (dones, no_truncation, {})
            replay_buffer.add(actions, *env_values(vec_normalize, rewards, new_obs, final_obs, terminated, truncated))
            if n_done:
                self.ep_info_buffer.extend(info["episode"] for info in infos if "episode" in info)
                if actors is None:
                    self._explorer.episodes_started(dones, reset_infos(env))
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
        """Epsilon-greedy actions for the envs (:mod:`mario_zoo.agents.exploration`); uniformly random for the first
        ``random_steps`` (SB3's rule: ``learning_starts``); actions an env handed over are played first either way."""
        if self.num_timesteps < self.random_steps:
            return self._ensure_explorer().uniform(self._rng)

        def greedy() -> np.ndarray:
            with torch.inference_mode():
                return self.q_net(torch.from_numpy(observations).to(self.device)).argmax(dim=1).cpu().numpy()

        return self._ensure_explorer().act(self._rng, self.exploration_rate, greedy)

    def _ensure_explorer(self) -> Explorer:
        """The explorer of the current envs (one per ``n_envs``; kept across ``learn`` calls and resumes)."""
        if self._explorer is None or self._explorer.n_envs != self.n_envs:
            self._explorer = Explorer.from_config(self.config, self.n_envs, int(self.action_space.n))
        return self._explorer

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
        learning_rate = config.learning_rate_at(self.num_timesteps / max(self._total_timesteps, 1))
        for group in self.optimizer.param_groups:
            group["lr"] = learning_rate
        losses = []
        for batch in self._minibatches(gradient_steps):
            observations, next_observations = batch.observations, batch.next_observations
            if self._channels_last:
                observations = observations.contiguous(memory_format=torch.channels_last)
                next_observations = next_observations.contiguous(memory_format=torch.channels_last)
            with torch.no_grad(), self._autocast():
                next_q_target = self.q_net_target(next_observations).float()
                next_q_online = self.q_net(next_observations).float() if config.double_q else None
                with_gaps = config.advantage_learning is not None
                q_target = self.q_net_target(observations).float() if with_gaps else None
            targets = td_targets(
                batch.returns, batch.discounts, next_q_target, next_q_online=next_q_online,
                target_epsilon=config.target_epsilon, q_target=q_target, actions=batch.actions,
                advantage_learning=config.advantage_learning,
            )  # fmt: skip
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
            if self._average is not None:
                self._average.update()
            if batch.weights is not None:
                td_errors = (targets - q_values.detach()).cpu().numpy()
                self.replay_buffer.update_priorities(batch.indices, td_errors)
            losses.append(loss.detach())
        self._n_updates += gradient_steps
        self.logger.record("train/learning_rate", learning_rate)
        self.logger.record("train/loss", torch.stack(losses).mean().item())
        self.logger.record("train/n_updates", self._n_updates, exclude="tensorboard")

    def _autocast(self) -> torch.autocast:
        """bf16 autocast on the model's device when the update runs in bf16, else a no-op context."""
        return torch.autocast(self.device.type, dtype=torch.bfloat16, enabled=self.update_precision == "bf16")

    def _minibatches(self, gradient_steps: int) -> Iterator[ReplaySample]:
        """The minibatches of one training round, on the model's device (PER's beta annealed to 1 over the run)."""
        progress = min(1.0, self.num_timesteps / max(self._total_timesteps, 1))
        beta = self.config.prioritized_replay_beta0 + (1.0 - self.config.prioritized_replay_beta0) * progress
        vec_normalize = self.get_vec_normalize_env()
        return self.replay_buffer.minibatches(self.config.batch_size, gradient_steps, beta, self.device, vec_normalize)

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

    def set_random_seed(self, seed: int | None = None) -> None:
        """Seed Python, NumPy, torch, the action space, exploration and the env (SB3's method); ``None`` does nothing."""
        if seed is None:
            return
        set_random_seed(seed, using_cuda=self.device.type == "cuda")
        self.action_space.seed(seed)
        self._rng = np.random.default_rng(seed)
        if self.env is not None:
            self.env.seed(seed)
