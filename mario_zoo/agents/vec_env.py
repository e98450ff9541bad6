"""The ``VecEnv`` that :class:`~mario_zoo.agents.DQN` wraps its env in, and how it rebuilds that env elsewhere.

SB3's ``DummyVecEnv`` returns each step's observations through ``deepcopy`` of an ``OrderedDict`` of
buffers, which costs about as much as a CartPole step itself. For ``Box`` observation spaces a plain array
copy returns the same data, so :class:`BoxDummyVecEnv` does only that and is otherwise SB3's class.

An env given as an ID or as a factory (a picklable callable returning a Gymnasium env) can be built again in
an actor process (:mod:`mario_zoo.agents.actor`); :func:`env_factory` says how, and :func:`wrap_env` builds the
``VecEnv`` the same way in every process.
"""

from __future__ import annotations

import functools
import json
import pickle
import sys
import warnings
from collections.abc import Callable
from typing import Any

import gymnasium as gym
import numpy as np
from gymnasium import spaces
from stable_baselines3.common.env_util import is_wrapped
from stable_baselines3.common.monitor import Monitor
from stable_baselines3.common.preprocessing import is_image_space, is_image_space_channels_first
from stable_baselines3.common.vec_env import DummyVecEnv, VecEnv, VecNormalize, VecTransposeImage, is_vecenv_wrapped

EnvFactory = Callable[[], gym.Env]
"""A zero-argument callable that builds a new Gymnasium env, e.g. ``functools.partial(gym.make, "CartPole-v1")``."""


class BoxDummyVecEnv(DummyVecEnv):
    """SB3's ``DummyVecEnv`` for ``Box`` observation spaces, with a cheaper observation copy.

    Example:
        >>> import gymnasium as gym
        >>> env = BoxDummyVecEnv([lambda: gym.make("CartPole-v1")])
        >>> obs = env.reset()
        >>> obs.shape, obs is env.reset()
        ((1, 4), False)
    """

    def __init__(self, env_fns):
        super().__init__(env_fns)
        if not isinstance(self.observation_space, spaces.Box):
            raise ValueError(f"BoxDummyVecEnv needs a Box observation space, got {self.observation_space}.")

    def _obs_from_buf(self) -> np.ndarray:
        # The buffer is overwritten by the next step, so callers get their own copy (as with DummyVecEnv).
        return self.buf_obs[None].copy()


def env_factory(env: object) -> EnvFactory | None:
    """How to build ``env`` again: ``gym.make`` of an ID, a factory itself, ``None`` for an instance.

    Example:
        >>> env_factory("CartPole-v1")().spec.id
        'CartPole-v1'
        >>> env_factory(gym.make("CartPole-v1")) is None
        True
    """
    if isinstance(env, str):
        return functools.partial(gym.make, env)
    if callable(env) and not isinstance(env, gym.Env | VecEnv):
        return env
    return None


def wrap_env(env: gym.Env | VecEnv | str | EnvFactory, verbose: int = 0, n_envs: int = 1) -> VecEnv:
    """Make ``env`` an SB3 ``VecEnv`` the way SB3 does: ``gym.make``, ``Monitor``, ``DummyVecEnv``.

    An ID or a factory gives ``n_envs`` envs, each built afresh; an instance or a ``VecEnv`` is used as is.
    """
    factory = env_factory(env)
    if factory is not None:
        envs = [_monitored(factory()) for _ in range(n_envs)]
    elif isinstance(env, VecEnv):
        envs = []
    elif isinstance(env, gym.Env):
        envs = [_monitored(env)]
    else:
        raise TypeError(
            f"env must be a gymnasium.Env, an env ID string, a callable returning a gymnasium.Env or an SB3 "
            f"VecEnv, got {type(env).__name__}."
        )
    if envs:
        vec_class = BoxDummyVecEnv if isinstance(envs[0].observation_space, spaces.Box) else DummyVecEnv
        env = vec_class([lambda env=env: env for env in envs])
    space = env.observation_space
    if (
        isinstance(space, spaces.Box)
        and is_image_space(space)
        and not is_image_space_channels_first(space)
        and not is_vecenv_wrapped(env, VecTransposeImage)
    ):
        if verbose >= 1:
            print("Wrapping the env in a VecTransposeImage (the CNN reads channel-first images).")
        env = VecTransposeImage(env)
    return env


def _monitored(env: object) -> gym.Env:
    if not isinstance(env, gym.Env):
        raise TypeError(f"The env factory must return a gymnasium.Env, got {type(env).__name__}.")
    return env if is_wrapped(env, Monitor) else Monitor(env)


def make_env(env: gym.Env | VecEnv | str | EnvFactory, verbose: int, actors: int) -> tuple[VecEnv, EnvFactory | None]:
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


def check_spaces(observation_space: spaces.Space, action_space: spaces.Space) -> None:
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


def check_same_spaces(env: VecEnv, observation_space: spaces.Box, action_space: spaces.Discrete) -> None:
    check_spaces(env.observation_space, env.action_space)
    if env.observation_space.shape != observation_space.shape or env.action_space.n != action_space.n:
        raise ValueError(
            f"The env's spaces ({env.observation_space}, {env.action_space}) differ from the model's "
            f"({observation_space}, {action_space}); use an env built like the one the model was trained on."
        )


def split_dones(dones: np.ndarray, infos: list[dict[str, Any]]) -> tuple[np.ndarray, np.ndarray, dict[int, Any]]:
    """Tell terminations from time-limit truncations; a truncated episode's last observation is bootstrapped."""
    terminated, truncated, final_obs = dones.copy(), np.zeros_like(dones), {}
    for index in np.flatnonzero(dones):
        if infos[index].get("TimeLimit.truncated", False):
            terminated[index], truncated[index] = False, True
            final_obs[int(index)] = infos[index]["terminal_observation"]
    return terminated, truncated, final_obs


def env_values(
    vec_normalize: VecNormalize | None,
    rewards: np.ndarray,
    observations: np.ndarray,
    final_observations: dict[int, Any],
    terminated: np.ndarray,
    truncated: np.ndarray,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, dict[int, Any]]:
    """A step's ``ReplayBuffer.add`` arguments after the actions, as the env itself gave them: through a
    ``VecNormalize``, its original rewards and observations (SB3's rule; sampling normalizes them with the
    statistics of then, so old transitions are not frozen with old statistics)."""
    if vec_normalize is not None:
        rewards, observations = vec_normalize.get_original_reward(), original_observations(vec_normalize, observations)
        final_observations = {i: vec_normalize.unnormalize_obs(obs) for i, obs in final_observations.items()}
    return rewards, terminated, truncated, observations, final_observations


def original_observations(vec_normalize: VecNormalize | None, observations: np.ndarray) -> np.ndarray:
    """The env's own last observations behind ``observations`` (those of the last step or reset): through a
    ``VecNormalize``, its originals, which the replay keeps."""
    return observations if vec_normalize is None else vec_normalize.get_original_obs()


def json_kwargs(kwargs: dict[str, Any]) -> dict[str, Any]:
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
