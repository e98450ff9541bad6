"""Episode control: random no-op starts (evaluation) and truncation when the agent stops making progress."""

from __future__ import annotations

from typing import Any, SupportsFloat

import gymnasium as gym

from mario_zoo.info_keys import FRONTIER_START_KEY
from mario_zoo.wrappers._validation import check_int, check_penalty

NOOPS_OPTION = "noops"
"""``reset(options={"noops": n})`` asks :class:`NoopStart` for exactly ``n`` no-ops instead of a random count."""


class NoopStart(gym.Wrapper):
    """On reset, take a random number (``0..noop_max``) of no-op actions so evaluations don't start identically.

    The count comes from the env's seeded ``np_random``, so ``reset(seed=s)`` stays reproducible;
    ``reset(options={"noops": n})`` takes exactly ``n`` instead (the exact no-op sweep of
    :mod:`mario_zoo.evaluation` plays each count once). Action
    ``noop_action`` must do nothing (``0`` is ``NOOP`` in every joypad action set). An episode whose reset
    ``info`` has ``"frontier_start": True`` (a saved mid-level state, see ``FrontierStarts``) gets no no-ops:
    it already starts somewhere new, and idling there could drop a mid-jump Mario into a pit.

    Example:
        >>> import mario_zoo, gymnasium as gym
        >>> env = gym.make("MarioDQN-v0", noop_max=30)
        >>> first, _ = env.reset(seed=1)
        >>> again, _ = env.reset(seed=1)
        >>> bool((first == again).all())
        True
        >>> _, info = env.reset(options={"noops": 30})
        >>> info["time"] < 400  # 30 no-ops of 4 frames: the game clock has ticked
        True
    """

    def __init__(self, env: gym.Env, noop_max: int = 30, noop_action: int = 0) -> None:
        super().__init__(env)
        self.noop_max = check_int("noop_max", noop_max, minimum=0)
        self.noop_action = noop_action

    def reset(self, *, seed: int | None = None, options: dict[str, Any] | None = None):
        obs, info = self.env.reset(seed=seed, options=options)
        if info.get(FRONTIER_START_KEY):
            return obs, info
        count = (options or {}).get(NOOPS_OPTION)
        if count is None:
            # noop_max 0 draws nothing, so the env's random stream is the same as without this wrapper.
            count = int(self.np_random.integers(0, self.noop_max + 1)) if self.noop_max else 0
        else:
            count = check_int(f"options[{NOOPS_OPTION!r}]", count, minimum=0)
        for _ in range(count):
            obs, _, terminated, truncated, info = self.env.step(self.noop_action)
            if terminated or truncated:
                obs, info = self.env.reset(options=options)
                if info.get(FRONTIER_START_KEY):
                    break
        return obs, info


class StallTruncation(gym.Wrapper):
    """End the episode after ``max_stall_steps`` agent steps without a new best ``info["x_pos"]``.

    Mario stuck against a pipe burns wall-clock time without teaching anything; by default this ends such episodes
    as *truncated* (not terminated), so value bootstrapping stays correct. With a ``penalty`` (a number <= 0) the
    cut is a failure instead, as the game's own clock running out is: the episode *terminates* and its last reward
    gets ``penalty`` added (the game gives -15 for a death), so standing still has a cost the values see. Either
    way ``info["stalled"]`` is ``True`` on the last step (and ``False`` on the others).

    Example:
        >>> import mario_zoo, gymnasium as gym
        >>> env = gym.make("MarioDQN-v0", stall_steps=5)
        >>> _ = env.reset(seed=0)
        >>> [env.step(0)[3] for _ in range(5)]  # NOOP never moves Mario
        [False, False, False, False, True]
        >>> env = gym.make("MarioDQN-v0", stall_steps=5, stall_penalty=-15)
        >>> _ = env.reset(seed=0)
        >>> _, reward, terminated, truncated, info = [env.step(0) for _ in range(5)][-1]
        >>> terminated, truncated, info["stalled"], reward  # the game clock's -1 this step, plus the penalty
        (True, False, True, -16.0)
    """

    def __init__(self, env: gym.Env, max_stall_steps: int, penalty: float | None = None) -> None:
        super().__init__(env)
        self.max_stall_steps = check_int("stall_steps", max_stall_steps, minimum=1)
        self.penalty = None if penalty is None else check_penalty("stall_penalty", penalty)
        self._best_x = 0
        self._stalled = 0

    def reset(self, *, seed: int | None = None, options: dict[str, Any] | None = None):
        obs, info = self.env.reset(seed=seed, options=options)
        self._best_x = info.get("x_pos", 0)
        self._stalled = 0
        return obs, info

    def step(self, action: Any) -> tuple[Any, SupportsFloat, bool, bool, dict[str, Any]]:
        obs, reward, terminated, truncated, info = self.env.step(action)
        x_pos = info["x_pos"]
        if x_pos > self._best_x:
            self._best_x = x_pos
            self._stalled = 0
        else:
            self._stalled += 1
        stalled = self._stalled >= self.max_stall_steps and not terminated
        if stalled:
            if self.penalty is None:
                truncated = True
            else:
                terminated, truncated = True, False
                reward = float(reward) + self.penalty
        return obs, reward, terminated, truncated, {**info, "stalled": stalled}
