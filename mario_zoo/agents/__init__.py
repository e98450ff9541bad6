"""DQN agents with Stable-Baselines3's interface, and dueling Q-networks usable inside SB3's own DQN.

The agent and policy classes pull in torch, so they load on first access: reading settings (``DQNConfig``, a run's
``run.json``) stays cheap.

Example:
    >>> from mario_zoo.agents import DQN, DQNConfig
    >>> DQNConfig().batch_size == DQN("MlpPolicy", "CartPole-v1", device="cpu").batch_size
    True
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from mario_zoo.agents.config import DQNConfig
from mario_zoo.extras import lazy_attributes

if TYPE_CHECKING:
    from mario_zoo.agents.dqn import DQN
    from mario_zoo.agents.policies import DuelingCnnPolicy, DuelingMlpPolicy

__getattr__ = lazy_attributes(
    __name__,
    {
        "DQN": "mario_zoo.agents.dqn",
        "DuelingCnnPolicy": "mario_zoo.agents.policies",
        "DuelingMlpPolicy": "mario_zoo.agents.policies",
    },
)


__all__ = ["DQN", "DQNConfig", "DuelingCnnPolicy", "DuelingMlpPolicy"]
