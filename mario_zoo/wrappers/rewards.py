"""Reward shaping for learning: optional clipping to ``[-clip, clip]`` and scaling."""

from __future__ import annotations

from typing import Any, SupportsFloat

import gymnasium as gym

from mario_zoo.wrappers._validation import check_number


class RewardTransform(gym.RewardWrapper):
    """Multiply rewards by ``scale``, then clip them to ``[-clip, clip]`` when ``clip`` is set.

    The game's own reward (x progress, clock, death -25, flag +50) reaches about +/-60 per agent step; DQN's
    Huber loss learns more steadily with rewards near unit scale. ``info`` keeps the untransformed value
    under ``"raw_reward"`` so evaluation can still report game returns (on the step a training-only ``stall_penalty``
    applies, the penalty is in it).

    Example:
        >>> import mario_zoo, gymnasium as gym
        >>> env = gym.make("MarioDQN-v0", reward_scale=0.1, reward_clip=1.0)
        >>> _ = env.reset(seed=0)
        >>> _, reward, _, _, info = env.step(1)
        >>> reward == min(1.0, max(-1.0, 0.1 * info["raw_reward"]))
        True
    """

    def __init__(self, env: gym.Env, clip: float | None = None, scale: float = 1.0) -> None:
        super().__init__(env)
        self.clip = None if clip is None else check_number("reward_clip", clip, positive=True)
        self.scale = check_number("reward_scale", scale, positive=True)

    def step(self, action: Any) -> tuple[Any, SupportsFloat, bool, bool, dict[str, Any]]:
        obs, reward, terminated, truncated, info = self.env.step(action)
        info = {**info, "raw_reward": reward}
        return obs, self.reward(reward), terminated, truncated, info

    def reward(self, reward: SupportsFloat) -> float:
        value = float(reward) * self.scale
        if self.clip is not None:
            value = min(max(value, -self.clip), self.clip)
        return value
