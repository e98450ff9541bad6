"""DQN agents with Stable-Baselines3's interface, and dueling Q-networks usable inside SB3's own DQN.

The agent and policy classes pull in torch, so they load on first access: reading settings (``DQNConfig``, a run's
``run.json``) stays cheap.

Example:
    >>> from mario_zoo.agents import DQN, DQNConfig
    >>> DQNConfig().batch_size == DQN("MlpPolicy", "CartPole-v1", device="cpu").batch_size
    True
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

from mario_zoo.agents.config import DQNConfig

if TYPE_CHECKING:
    from mario_zoo.agents.dqn import DQN
    from mario_zoo.agents.policies import DuelingCnnPolicy, DuelingMlpPolicy

_LAZY = {
    "DQN": "mario_zoo.agents.dqn",
    "DuelingCnnPolicy": "mario_zoo.agents.policies",
    "DuelingMlpPolicy": "mario_zoo.agents.policies",
}


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        return getattr(import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'mario_zoo.agents' has no attribute {name!r}")


__all__ = ["DQN", "DQNConfig", "DuelingCnnPolicy", "DuelingMlpPolicy"]
