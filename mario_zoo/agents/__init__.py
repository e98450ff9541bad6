"""DQN agents with Stable-Baselines3's interface, and dueling Q-networks usable inside SB3's own DQN.

Example:
    >>> from mario_zoo.agents import DQN, DQNConfig
    >>> DQNConfig().batch_size == DQN("MlpPolicy", "CartPole-v1", device="cpu").batch_size
    True
"""

from mario_zoo.agents.config import DQNConfig
from mario_zoo.agents.dqn import DQN
from mario_zoo.agents.policies import DuelingCnnPolicy, DuelingMlpPolicy

__all__ = ["DQN", "DQNConfig", "DuelingCnnPolicy", "DuelingMlpPolicy"]
