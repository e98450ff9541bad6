"""Joypad action sets: a small ``Discrete`` space mapped onto NES controller bytes."""

from __future__ import annotations

from typing import Any, SupportsFloat

import gymnasium as gym
import numpy as np
from gym_super_mario_bros.actions import COMPLEX_MOVEMENT, RIGHT_ONLY, SIMPLE_MOVEMENT
from gymnasium import spaces

from mario_zoo.wrappers._validation import check_choice, check_fraction

#: Named button combinations; each inner list is one action, index 0 is always ``NOOP``.
ACTION_SETS: dict[str, list[list[str]]] = {
    "right_only": RIGHT_ONLY,
    "simple": SIMPLE_MOVEMENT,
    "complex": COMPLEX_MOVEMENT,
}

_BUTTON_BITS = {
    "right": 0b10000000,
    "left": 0b01000000,
    "down": 0b00100000,
    "up": 0b00010000,
    "start": 0b00001000,
    "select": 0b00000100,
    "B": 0b00000010,
    "A": 0b00000001,
    "NOOP": 0,
}


class JoypadActions(gym.Wrapper):
    """Expose a named joypad action set as ``Discrete(n)`` over an env that takes NES controller bytes.

    Example:
        >>> from gym_super_mario_bros import SuperMarioBrosEnv
        >>> env = JoypadActions(SuperMarioBrosEnv(target=(1, 1)), actions="right_only")
        >>> env.action_space, env.get_action_meanings()[2]
        (Discrete(5), 'right A')
        >>> env.get_keys_to_action()[(ord("d"), ord("o"))]  # gymnasium.utils.play: d is right, o is A
        2
        >>> JoypadActions(SuperMarioBrosEnv(target=(1, 1)), actions="fast")
        Traceback (most recent call last):
        ...
        ValueError: Unknown actions 'fast'; valid choices are: 'right_only', 'simple', 'complex'.
    """

    def __init__(self, env: gym.Env, actions: str = "simple") -> None:
        super().__init__(env)
        self.actions = check_choice("actions", actions, ACTION_SETS)
        if not (isinstance(env.action_space, spaces.Discrete) and env.action_space.n == 256):
            raise ValueError(
                f"JoypadActions expects an env that takes NES controller bytes (Discrete(256)), got {env.action_space}."
            )
        combos = ACTION_SETS[actions]
        self._bytes = np.array([sum(_BUTTON_BITS[button] for button in combo) for combo in combos], np.uint8)
        self._meanings = [" ".join(combo) for combo in combos]
        self.action_space = spaces.Discrete(len(combos))

    def step(self, action: Any) -> tuple[Any, SupportsFloat, bool, bool, dict[str, Any]]:
        if not self.action_space.contains(action):
            raise ValueError(
                f"Action {action!r} is not in {self.action_space}; valid actions are 0..{self.action_space.n - 1} "
                f"({', '.join(self._meanings)})."
            )
        return self.env.step(int(self._bytes[action]))

    @property
    def joypad_bytes(self) -> tuple[int, ...]:
        """The controller byte each action presses, by action index (``NOOP`` is 0)."""
        return tuple(int(byte) for byte in self._bytes)

    def get_action_meanings(self) -> list[str]:
        """Return the button combination of each action, e.g. ``['NOOP', 'right', 'right A', ...]``."""
        return list(self._meanings)

    def get_keys_to_action(self) -> dict[tuple[int, ...], int]:
        """Keyboard keys (sorted tuples of ``ord`` codes, nes-py's layout: WASD, O = A, P = B, Enter = start, Space
        = select) of each action, for :func:`gymnasium.utils.play.play`; the empty tuple is ``NOOP``."""
        keys_of_byte = {
            int(byte): tuple(int(key) for key in keys) for keys, byte in self.env.unwrapped.get_keys_to_action().items()
        }
        return {keys_of_byte[int(byte)]: action for action, byte in enumerate(self._bytes)}


RANDOM_ACTION_MEANING = "the chance that each step plays a uniformly random action instead of the agent's"
"""What ``random_action_probability`` means, for its error messages."""

_RANDOM_ACTION_STREAM = 0x5EED
"""Spawn key of the random-action generator's stream (any constant other than the env's and sticky actions')."""


class RandomActions(gym.Wrapper):
    """With probability ``probability``, each step plays a uniformly random action of the ``Discrete`` action space
    instead of the one given (possibly the same one): the Nature protocol's epsilon-greedy noise (Mnih et al. 2015)
    made part of the env's dynamics.

    Acting epsilon-greedily in training is not the same: the random action is then the agent's, and Q-learning's
    targets value every next state as if the agent never erred again, so a greedy policy learns to pass hazards with
    no margin for one wrong step. Here the agent's action is the one recorded, and its outcome includes the chance
    of a random one, so the values, and the greedy policy, are those of the noisy game the protocol evaluates.
    ``info["random_action"]`` says whether the step's action was replaced; the draws come from the wrapper's own
    generator, seeded by ``reset(seed=...)``.

    Example:
        >>> env = RandomActions(gym.make("CartPole-v1"), probability=1.0)
        >>> _ = env.reset(seed=0)
        >>> sum(env.step(0)[4]["random_action"] for _ in range(5))
        5
    """

    def __init__(self, env: gym.Env, probability: float) -> None:
        super().__init__(env)
        self.probability = check_fraction("random_action_probability", probability, meaning=RANDOM_ACTION_MEANING)
        if not isinstance(env.action_space, spaces.Discrete):
            raise ValueError(f"RandomActions draws from a Discrete action space, got {env.action_space}.")
        self._rng: np.random.Generator | None = None

    def reset(self, *, seed: int | None = None, options: dict[str, Any] | None = None) -> tuple[Any, dict[str, Any]]:
        if seed is not None or self._rng is None:
            # A stream of its own (spawned from the seed), so these draws do not shift the env's other draws.
            self._rng = np.random.default_rng(np.random.SeedSequence(seed, spawn_key=(_RANDOM_ACTION_STREAM,)))
        return self.env.reset(seed=seed, options=options)

    def step(self, action: Any) -> tuple[Any, SupportsFloat, bool, bool, dict[str, Any]]:
        if self._rng is None:
            raise RuntimeError("Call reset() before step().")
        space = self.action_space
        replaced = self._rng.random() < self.probability
        if replaced:
            action = space.start + int(self._rng.integers(space.n))
        observation, reward, terminated, truncated, info = self.env.step(action)
        return observation, reward, terminated, truncated, {**info, "random_action": replaced}
