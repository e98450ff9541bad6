"""The ``VecEnv`` that :class:`~mario_zoo.agents.DQN` wraps a single Gymnasium env in.

SB3's ``DummyVecEnv`` returns each step's observations through ``deepcopy`` of an ``OrderedDict`` of
buffers, which costs about as much as a CartPole step itself. For ``Box`` observation spaces a plain array
copy returns the same data, so :class:`BoxDummyVecEnv` does only that and is otherwise SB3's class.
"""

from __future__ import annotations

import numpy as np
from gymnasium import spaces
from stable_baselines3.common.vec_env import DummyVecEnv


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
