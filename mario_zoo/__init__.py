"""mario_zoo: preprocessed Super Mario Bros environments, SB3-compatible DQN agents and a zoo of trained agents.

Importing the package registers the ``MarioDQN-*`` Gymnasium IDs, so ``gym.make("MarioDQN-v0")`` works after
``import mario_zoo`` and ``gym.make("mario_zoo:MarioDQN-v0")`` works with no import at all.

The agent classes pull in torch, so they load lazily: ``import mario_zoo`` in an environment worker process
stays cheap.

Example:
    >>> import gymnasium as gym
    >>> import mario_zoo
    >>> env = gym.make("MarioDQN-v0")
    >>> env.observation_space.shape
    (4, 84, 84)
    >>> env.close()
"""

from __future__ import annotations

from importlib.metadata import PackageNotFoundError, version

from mario_zoo.envs import ENV_IDS, make_mario_env, register_envs
from mario_zoo.extras import lazy_attributes

try:
    __version__ = version("mario-zoo")
except PackageNotFoundError:  # running from a source tree that was never installed
    __version__ = "0.0.0+unknown"

register_envs()

# Public names that live in modules importing torch; resolved on first access.
__getattr__ = lazy_attributes(
    __name__,
    {
        "CheckpointError": "mario_zoo.agents.checkpoint",
        "DQN": "mario_zoo.agents",
        "DQNConfig": "mario_zoo.agents",
        "load_pretrained": "mario_zoo.zoo",
    },
)


__all__ = [
    "DQN",
    "ENV_IDS",
    "CheckpointError",
    "DQNConfig",
    "__version__",
    "load_pretrained",
    "make_mario_env",
    "register_envs",
]
