"""A DQN's files, as Stable-Baselines3's interface names them: ``save``, ``load``, ``get_parameters``,
``set_parameters``, ``save_replay_buffer`` and ``load_replay_buffer``.

:class:`Checkpointing` holds these methods apart from the algorithm (:mod:`mario_zoo.agents.dqn`), which
inherits them: :class:`~mario_zoo.agents.DQN` is the only class that does, and these methods read and set its
attributes (annotated below). The formats are :mod:`~mario_zoo.agents.checkpoint` and
:mod:`~mario_zoo.agents.training_state`; what a lossless resume captures is :mod:`~mario_zoo.agents.resuming`;
:mod:`~mario_zoo.agents.reading` chooses between our reader and the SB3-zip converter.

Example:
    >>> import tempfile
    >>> from mario_zoo import DQN
    >>> model = DQN("MlpPolicy", "CartPole-v1", seed=0, device="cpu")
    >>> model.save(f"{tempfile.mkdtemp()}/model.zip")
"""

from __future__ import annotations

import io
import os
import tempfile
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Self

import gymnasium as gym
import numpy as np
import torch
from gymnasium import spaces
from stable_baselines3.common.vec_env import VecEnv

from mario_zoo.agents import checkpoint
from mario_zoo.agents.config import DQNConfig
from mario_zoo.agents.exploration import Explorer
from mario_zoo.agents.networks import NetworkSpec
from mario_zoo.agents.optimizer_state import load_optimizer_tensors, optimizer_to_tensors
from mario_zoo.agents.policies import QPolicy
from mario_zoo.agents.reading import read_checkpoint
from mario_zoo.agents.replay import ReplayBuffer
from mario_zoo.agents.resuming import is_replay_archive, read_resumption, replay_files, rng_states, saved_n_envs
from mario_zoo.agents.sb3 import translate_sb3_policy_state
from mario_zoo.agents.sb3_options import (
    check_flag,
    check_replay_arguments,
    check_stored_network,
    current_system_info,
    format_system_info,
    replace_spaces,
    replay_buffer_from_save_names,
    split_load_arguments,
)

_PARAMETERS_HINT = (
    "Pass get_parameters() of an agent with the same network (a mario_zoo DQN, or SB3's DQN with MlpPolicy or "
    "CnnPolicy, whose names are translated), or exact_match=False to load the weights that match."
)


class Checkpointing:
    """Saving and loading a :class:`~mario_zoo.agents.DQN`: its weights, optimizer state, counters, replay buffer
    and RNG states (never pickle).

    Besides the attributes annotated here, these methods call the DQN's ``_setup`` (everything but the env),
    ``_make_replay_buffer`` and ``set_env``.
    """

    config: DQNConfig
    policy_name: str
    policy_kwargs: dict[str, Any]
    spec: NetworkSpec
    policy: QPolicy
    optimizer: torch.optim.Optimizer
    observation_space: spaces.Box
    action_space: spaces.Discrete
    device: torch.device
    seed: int | None
    env: VecEnv | None
    n_envs: int
    replay_buffer: ReplayBuffer
    _replay_buffer: ReplayBuffer | None
    num_timesteps: int
    exploration_rate: float
    _rng: np.random.Generator
    _last_obs: np.ndarray | None
    _buffer_steps: int
    _total_timesteps: int
    _n_updates: int
    _episode_num: int
    _n_calls: int
    _env_id: str | None
    _env_kwargs: dict[str, Any]
    _train_env_kwargs: dict[str, Any]
    _pending_env_rngs: list[np.random.Generator | None] | None
    _explorer: Explorer | None

    @property
    def env_id(self) -> str | None:
        """Gymnasium ID of the env the model was trained on (``None`` if it had none)."""
        return self._env_id

    @property
    def env_kwargs(self) -> dict[str, Any]:
        """``gym.make`` keyword arguments of the env the model plays (a copy): ``gym.make(model.env_id,
        **model.env_kwargs)`` is always right for evaluation. The training-only options (frontier starts, training
        no-ops, sticky actions) are in :attr:`train_env_kwargs`."""
        return dict(self._env_kwargs)

    @property
    def train_env_kwargs(self) -> dict[str, Any]:
        """``gym.make`` keyword arguments of the env the model was trained on: :attr:`env_kwargs` plus the
        training-only options (a copy)."""
        return {**self._env_kwargs, **self._train_env_kwargs}

    def save(
        self,
        path: str | os.PathLike[str] | io.BufferedIOBase,
        include_optimizer: bool = True,
        include_replay_buffer: bool = False,
        *,
        exclude: Iterable[str] | None = None,
        include: Iterable[str] | None = None,
    ) -> None:
        """Write a checkpoint directory at ``path`` (a zip archive if ``path`` ends in ``.zip``, or if ``path`` is a
        binary file object, such as ``io.BytesIO()``, as in SB3).

        See :mod:`mario_zoo.agents.checkpoint` for the layout. With ``include_replay_buffer=True`` the checkpoint
        also holds the replay buffer and every RNG state (:meth:`save_replay_buffer`), written in the same atomic
        replace, so that ``DQN.load`` + :meth:`load_replay_buffer` continue training losslessly.

        SB3's ``exclude`` and ``include`` (keyword only) name pickled attributes: ours pickle none, so ``exclude``
        has nothing left to leave out, and ``include=["replay_buffer"]`` is ``include_replay_buffer=True``; see
        :func:`~mario_zoo.agents.sb3_options.replay_buffer_from_save_names`.
        """
        if not isinstance(include_optimizer, bool):
            raise TypeError(
                f"include_optimizer must be True or False, got {include_optimizer!r}. SB3's second argument is "
                f"exclude; pass it by name here: save(path, exclude=[...])."
            )
        check_flag("include_replay_buffer", include_replay_buffer)
        include_replay_buffer = replay_buffer_from_save_names(exclude, include, include_replay_buffer)
        if _is_stream(path, "write"):
            with tempfile.TemporaryDirectory() as folder:
                archive = Path(folder) / "checkpoint.zip"
                self.save(archive, include_optimizer, include_replay_buffer)
                path.write(archive.read_bytes())
            return
        config = checkpoint.CheckpointConfig(
            policy=self.policy_name,
            policy_kwargs=self.policy_kwargs,
            hyperparameters=self.config,
            network=self.spec,
            observation_space=self.observation_space,
            action_space=self.action_space,
            env_id=self._env_id,
            env_kwargs=self._env_kwargs,
            train_env_kwargs=self._train_env_kwargs,
            seed=self.seed,
            num_timesteps=self.num_timesteps,
            exploration_rate=float(self.exploration_rate),
            exploration_total_timesteps=self._total_timesteps,
            n_updates=self._n_updates,
            episodes=self._episode_num,
            n_calls=self._n_calls,
            verbose=self.verbose,
            tensorboard_log=self.tensorboard_log,  # both dropped from an agent to play (write_checkpoint)
            ep_info_buffer=_finite_episodes(self.ep_info_buffer),
            versions=checkpoint.package_versions(),
        )
        averaged = self._average.tensors if self._average else None
        if include_optimizer and self._average is not None and self._average.swapped:
            raise ValueError(
                "Inside averaged_weights() the network holds the averaged weights: save an agent to play there "
                "(include_optimizer=False), and the training state (optimizer, average) outside the block."
            )
        optimizer = optimizer_to_tensors(self.optimizer, averaged) if include_optimizer else None
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
        archive = is_replay_archive(path)
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
        n_envs = saved_n_envs(path)
        if self.env is not None and n_envs != self.n_envs:
            raise ValueError(
                f"{path}: the replay buffer was saved from {n_envs} envs but this model trains on {self.n_envs}; "
                f"set_env with {n_envs} envs first."
            )
        # Building the buffer draws its seed from the agent's generator: put both back if the files are bad.
        previous_n_envs, previous_rng = self.n_envs, self._rng.bit_generator.state
        self.n_envs = n_envs
        try:
            resumption = read_resumption(path, self._make_replay_buffer(), truncate_last_traj)
            # Episodes continued keep their held random actions; ended ones start afresh at the env's reset.
            explorer = None
            if resumption.explorer_state is not None:
                explorer = Explorer.from_config(self.config, n_envs, int(self.action_space.n))
                explorer.restore(resumption.explorer_state, str(path))
        except BaseException:
            self.n_envs, self._rng.bit_generator.state = previous_n_envs, previous_rng
            raise
        self._replay_buffer, self._buffer_steps = resumption.buffer, resumption.buffer_steps
        self._rng = resumption.agent_rng
        if resumption.action_space_rng is not None:
            # Gymnasium keeps a space's generator here; Space.seed() is the only public way to set it.
            self.action_space._np_random = resumption.action_space_rng
        resumption.restore_global_rngs()
        self._last_obs = resumption.last_observations
        self._pending_env_rngs = resumption.env_rngs
        self._restore_env_rngs()
        self._explorer = explorer

    def _restore_env_rngs(self) -> None:
        """Give the env the generators a replay file held for it, once it has as many envs as they were saved for."""
        generators = self._pending_env_rngs
        if generators is None or self.env is None or len(generators) != self.env.num_envs:
            return
        queued = self.env.unwrapped._seeds  # what set_env queued for the next reset, which would replace them
        for index, generator in enumerate(generators):
            if generator is not None:
                self.env.set_attr("np_random", generator, indices=[index])
                queued[index] = None
        self._pending_env_rngs = None

    @contextmanager
    def _replay_files(self, path: str | os.PathLike[str]) -> Iterator[dict[str, bytes | Path]]:
        """The replay files of this model, in a temporary folder next to ``path`` (removed afterwards)."""
        buffer = self.replay_buffer  # first: a fresh model's draws its seed from the agent's generator
        env_generators = self._pending_env_rngs
        if self.env is not None:  # an env with a seed queued for its next reset is saved as that (no generator)
            queued = self.env.unwrapped._seeds
            env_generators = [
                None if seed is not None else rng
                for seed, rng in zip(queued, self.env.get_attr("np_random"), strict=True)
            ]
        rng = rng_states(self._rng, self.action_space, env_generators, self.device)
        training = {"num_timesteps": self.num_timesteps, "buffer_steps": self._buffer_steps}
        if self._explorer is not None and (explorer_state := self._explorer.state()) is not None:
            training["explorer"] = explorer_state
        with replay_files(path, buffer, rng=rng, last_observations=self._last_obs, training=training) as files:
            yield files

    @classmethod
    def load(
        cls,
        path: str | os.PathLike[str] | io.BufferedIOBase,
        env: gym.Env | VecEnv | str | None = None,
        device: torch.device | str = "auto",
        custom_objects: dict[str, Any] | None = None,
        print_system_info: bool = False,
        force_reset: bool = True,
        **kwargs: Any,
    ) -> Self:
        """Load a checkpoint directory or ``.zip`` written by :meth:`save` (``"x"`` finds ``"x.zip"``, as in SB3).

        A Stable-Baselines3 DQN ``.zip`` loads too: its ``policy.pth`` weights and ``policy.optimizer.pth`` state
        are read as plain tensor dicts (``torch.load(..., weights_only=True)``), never unpickled; see
        :mod:`mario_zoo.agents.sb3`.

        Args:
            path: the checkpoint, or a binary file object holding a zip of one (what ``save(io.BytesIO())`` wrote).
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
        if _is_stream(path, "read"):
            with tempfile.TemporaryDirectory() as folder:
                archive = Path(folder) / "checkpoint.zip"
                archive.write_bytes(path.read())
                try:
                    return cls.load(archive, env, device, custom_objects, print_system_info, force_reset, **kwargs)
                except checkpoint.CheckpointError as error:  # name what the caller gave, not the temporary copy
                    message = str(error).replace(str(archive), f"the file object {path!r}")
                    raise checkpoint.CheckpointError(message) from None
        arguments = split_load_arguments(kwargs, custom_objects)
        check_flag("force_reset", force_reset)
        if check_flag("print_system_info", print_system_info):
            print(format_system_info("CURRENT SYSTEM INFO", current_system_info()))
        stored = read_checkpoint(path)
        config = stored.config
        if print_system_info:
            print(format_system_info("SAVED MODEL SYSTEM INFO", config.versions))
        hyperparameters = config.hyperparameters.replace(**arguments.hyperparameters)
        check_replay_arguments(**arguments.replay, n_steps=hyperparameters.n_steps)
        check_stored_network(config, arguments)
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
            # SB3 keeps these in its zip too, so a loaded model logs and seeds as the saved one did.
            tensorboard_log=arguments.run_options.get("tensorboard_log", config.tensorboard_log),
            verbose=arguments.run_options.get("verbose", config.verbose),
            seed=arguments.run_options.get("seed", config.seed),
            device=device,
        )
        checkpoint.load_state_strict(model.policy, stored.model, path)
        model.reset_averaged_weights()
        if stored.optimizer is not None:
            model._restore_average(load_optimizer_tensors(model.optimizer, stored.optimizer, path), path)
        model.num_timesteps = config.num_timesteps
        model.exploration_rate = arguments.attributes.get("exploration_rate", config.exploration_rate)
        model._total_timesteps = config.exploration_total_timesteps
        model._n_updates = config.n_updates
        model._episode_num = config.episodes
        model._n_calls = config.n_calls
        model.ep_info_buffer.extend(dict(entry) for entry in config.ep_info_buffer)
        model._env_id, model._env_kwargs = config.env_id, dict(config.env_kwargs)
        model._train_env_kwargs = dict(config.train_env_kwargs)
        if env is not None:
            model.set_env(env, force_reset=force_reset)
        return model

    def _restore_average(self, averaged: list[torch.Tensor] | None, source: object) -> None:
        """Restore a checkpoint's averaged weights, kept only when this model averages (``ema_decay``)."""
        if averaged is not None and self._average is not None:
            self._average.load(averaged, source)

    # -- Stable-Baselines3's parameter access --------------------------------------------------------

    def get_parameters(self) -> dict[str, dict[str, Any]]:
        """The model's state as SB3 names it: ``{"policy": state dict, "policy.optimizer": optimizer state}``.

        Example:
            >>> from mario_zoo import DQN
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
        averaged: list[torch.Tensor] | None = None
        if isinstance(load_path_or_dict, dict):
            params = load_path_or_dict
        else:
            stored = read_checkpoint(load_path_or_dict)
            params = {"policy": stored.model}
            if stored.optimizer is not None:
                averaged = load_optimizer_tensors(self.optimizer, stored.optimizer, load_path_or_dict)
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
            policy = translate_sb3_policy_state(params["policy"], self.spec)  # SB3's get_parameters() too
            if exact_match:
                checkpoint.load_state_strict(self.policy, policy, "the given parameters", _PARAMETERS_HINT)
            else:
                self.policy.load_state_dict(policy, strict=False)
        if "policy.optimizer" in params:
            # The state (moments, steps) loads; the settings stay this agent's config (SB3's or another agent's
            # eps, weight decay or fused flag would otherwise replace them while model.config says otherwise).
            settings = [{k: v for k, v in group.items() if k != "params"} for group in self.optimizer.param_groups]
            self.optimizer.load_state_dict(params["policy.optimizer"])
            for group, kept in zip(self.optimizer.param_groups, settings, strict=True):
                group.update(kept)
        if "policy" in params:
            self.reset_averaged_weights()
            self._restore_average(averaged, load_path_or_dict)


def _finite_episodes(episodes: Iterable[dict[str, Any]]) -> tuple[dict[str, float], ...]:
    """``ep_info_buffer``'s episodes for JSON: their numbers (Monitor's ``r``, ``l``, ``t`` and numeric info keys),
    leaving out an episode with a non-finite one (JSON has no NaN, and a mean over it would be NaN anyway)."""
    kept = []
    for episode in episodes:
        numbers = {
            str(key): value.item() if isinstance(value, np.generic) else value
            for key, value in episode.items()
            if isinstance(value, int | float | np.integer | np.floating) and not isinstance(value, bool | np.bool_)
        }
        if all(np.isfinite(value) for value in numbers.values()):
            kept.append(numbers)
    return tuple(kept)


def _is_stream(path: object, method: str) -> bool:
    """Whether ``path`` is a file object (it has ``method``, ``read`` or ``write``) rather than a path."""
    return not isinstance(path, str | os.PathLike) and callable(getattr(path, method, None))
