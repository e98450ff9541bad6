"""How a DQN picks its actions in training: epsilon-greedy, with two optional extensions.

- **Temporally extended exploration** (``exploration_repeat``, "ez-greedy", Dabney, Ostrovski and Barreto 2021):
  a random action, once drawn, is held for ``n`` steps, ``n`` drawn from a zeta (discrete power-law) distribution
  with exponent ``mu`` (cut off at :data:`MAX_REPEAT`). Plain epsilon-greedy flickers between actions; a held random
  action is a press, so exploration finds what needs a button held for a while (Mario's full-height jump holds A
  for about five 4-frame steps, which uniform random actions almost never do).
- **A rate for frontier-start episodes** (``frontier_exploration_eps``): in an episode that the env started from a
  saved mid-level state (its reset ``info["frontier_start"]``, :class:`mario_zoo.envs.FrontierStarts`), explore
  with this epsilon instead of the schedule's, Go-Explore's "return, then explore": the start is already where the
  agent fails, and the greedy policy that failed there is the one thing not worth repeating. With
  ``frontier_exploration_steps`` it holds for an episode's first steps only, and the schedule's epsilon after: the
  exploration varies what is done at the start state (a jump's moment and length), and the greedy policy plays the
  rest, so the values learnt behind the start are the policy's own, not a random walk's.
- **Actions handed over by the env** (always on): an episode whose reset ``info`` has ``"frontier_actions"`` (a
  start on the path that :class:`mario_zoo.envs.FrontierStarts` follows, ``frontier_follow``) plays those actions
  first, then explores as above (the frontier steps count from there): "return, then explore", with the return's
  own transitions learnt as a demonstration's. Before ``learning_starts`` too: they replace the uniformly random
  action (:meth:`Explorer.uniform`).

With both off (the default), the actions and the random draws are exactly plain epsilon-greedy's, so runs and
their lossless resumes are unchanged. The learner's envs and each actor process use this same rule.

Example:
    >>> rng = np.random.default_rng(0)
    >>> explorer = Explorer(n_envs=1, n_actions=5, repeat=2.0)
    >>> [int(explorer.act(rng, 1.0, lambda: np.zeros(1, np.int64))[0]) for _ in range(8)]  # held presses
    [2, 1, 1, 1, 3, 3, 3, 3]
    >>> Explorer(n_envs=1, n_actions=5, repeat=1.0)
    Traceback (most recent call last):
    ...
    ValueError: exploration_repeat must be in (1, inf) (the zeta distribution's exponent mu; 2 is ez-greedy's usual value) or None, got 1.0.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from mario_zoo.agents.config import DQNConfig, check_frontier_eps, check_frontier_steps, check_repeat
from mario_zoo.info_keys import FOLLOW_KEY, FRONTIER_START_KEY

MAX_REPEAT = 100
"""Steps an exploratory action is held at most (the zeta distribution has a heavy tail)."""
MAX_FOLLOW = 10_000
"""Handed-over actions an episode takes at most (more is a bad ``info``)."""


def hold_probabilities(mu: float) -> np.ndarray:
    """P(a random action is held n steps) for n = 1..:data:`MAX_REPEAT`: the zeta(mu) distribution cut off there,
    ``n ** -mu`` normalised."""
    weights = np.arange(1, MAX_REPEAT + 1, dtype=np.float64) ** -float(mu)
    return weights / weights.sum()


def reset_infos(env: Any) -> Sequence[dict[str, Any]]:
    """The ``reset_infos`` of a VecEnv: SB3's VecEnv wrappers (``VecMonitor``, ``VecFrameStack``...) keep empty ones
    of their own, so they are read from the innermost env."""
    while hasattr(env, "venv"):
        env = env.venv
    return getattr(env, "reset_infos", ())


class Explorer:
    """Epsilon-greedy actions for ``n_envs`` envs, with held random actions and a frontier-start rate when asked.

    Args:
        n_envs: envs stepped together (one per row of the actions).
        n_actions: size of the discrete action space.
        repeat: ``exploration_repeat``, the zeta exponent of how long a random action is held; ``None``: one step.
        frontier_eps: ``frontier_exploration_eps``; ``None``: frontier-start episodes use the schedule's epsilon.
        frontier_steps: ``frontier_exploration_steps``, the first steps of a frontier-start episode that use
            ``frontier_eps``; ``None``: all of them.

    Example:
        >>> explorer = Explorer(n_envs=1, n_actions=5, frontier_eps=1.0, frontier_steps=2)
        >>> explorer.start(0, {"frontier_start": True})
        >>> rng, greedy = np.random.default_rng(1), lambda: np.full(1, 4)
        >>> [int(explorer.act(rng, 0.0, greedy)[0]) for _ in range(4)]  # two random steps, then greedy (4)
        [3, 4, 4, 4]
        >>> explorer.start(0, {"frontier_start": True, "frontier_actions": (2, 2, 1)})
        >>> [int(explorer.act(rng, 0.0, greedy)[0]) for _ in range(6)]  # handed over, two random, greedy
        [2, 2, 1, 0, 0, 4]
    """

    def __init__(
        self,
        n_envs: int,
        n_actions: int,
        *,
        repeat: float | None = None,
        frontier_eps: float | None = None,
        frontier_steps: int | None = None,
    ):
        check_repeat(repeat)
        check_frontier_eps(frontier_eps)
        check_frontier_steps(frontier_steps, frontier_eps)
        self.n_envs, self.n_actions = n_envs, n_actions
        self.repeat, self.frontier_eps, self.frontier_steps = repeat, frontier_eps, frontier_steps
        self._hold_probabilities = None if repeat is None else hold_probabilities(repeat)
        self._held = np.zeros(n_envs, dtype=np.int64)
        self._left = np.zeros(n_envs, dtype=np.int64)  # steps the held action still has to run
        self._frontier = np.zeros(n_envs, dtype=bool)
        self._frontier_left = np.zeros(n_envs, dtype=np.int64)  # with frontier_steps: its steps still to come
        self._follow: list[list[int]] = [[] for _ in range(n_envs)]  # handed-over actions still to play, in order

    @classmethod
    def from_config(cls, config: DQNConfig, n_envs: int, n_actions: int) -> Explorer:
        """The explorer a :class:`~mario_zoo.agents.config.DQNConfig` asks for."""
        return cls(
            n_envs,
            n_actions,
            repeat=config.exploration_repeat,
            frontier_eps=config.frontier_exploration_eps,
            frontier_steps=config.frontier_exploration_steps,
        )

    @property
    def plain(self) -> bool:
        """Both extensions off: plain epsilon-greedy."""
        return self.repeat is None and self.frontier_eps is None

    def act(self, rng: np.random.Generator, epsilon: float, greedy: Callable[[], np.ndarray]) -> np.ndarray:
        """The envs' next actions at exploration rate ``epsilon``, every random draw from ``rng`` (the agent's, so
        that seeds and resumes reproduce); ``greedy()``, called only when some env needs it, returns the greedy
        actions of all envs. An env with handed-over actions left plays the next of them; the draws are the same
        as without them, so they change no other env's actions."""
        following = self._following()
        if not following.any():
            return self._act(rng, epsilon, greedy, following)
        actions = self._act(
            rng, epsilon, lambda: greedy() if not following.all() else np.zeros(self.n_envs, np.int64), following
        )
        return self._play_handed_over(actions)

    def uniform(self, rng: np.random.Generator) -> np.ndarray:
        """The envs' next actions before learning starts (SB3's ``learning_starts``): uniformly random, except that
        an env with handed-over actions left plays the next of them. The draw is the same as without them. These
        random steps count among a frontier-start episode's first ``frontier_steps``, so an episode that runs on
        past ``learning_starts`` explores at ``frontier_eps`` only for those left, as :meth:`act` would have."""
        self._frontier_step(self._following())
        return self._play_handed_over(rng.integers(self.n_actions, size=self.n_envs))

    def _following(self) -> np.ndarray:
        """Which envs have handed-over actions left to play."""
        return np.array([bool(queue) for queue in self._follow])

    def _frontier_step(self, following: np.ndarray) -> np.ndarray:
        """The envs whose step now is one of their frontier-start episode's first ``frontier_steps`` (all of it
        with ``frontier_steps=None``), counted down; handed-over actions are not among them."""
        frontier = self._frontier & ~following
        if self.frontier_steps is not None:
            frontier = frontier & (self._frontier_left > 0)
            self._frontier_left[frontier] -= 1
        return frontier

    def _play_handed_over(self, actions: np.ndarray) -> np.ndarray:
        """``actions`` with each env that has handed-over actions left playing the next of them instead."""
        for index, queue in enumerate(self._follow):
            if queue:
                actions[index] = queue.pop(0)
        return actions

    def _act(
        self, rng: np.random.Generator, epsilon: float, greedy: Callable[[], np.ndarray], following: np.ndarray
    ) -> np.ndarray:
        """:meth:`act` for the envs not ``following`` handed-over actions (those rows are overwritten)."""
        if self.plain:
            explore = rng.random(self.n_envs) < epsilon
            if explore.all():
                return rng.integers(self.n_actions, size=self.n_envs)
            greedy_actions = greedy()
            if explore.any():
                return np.where(explore, rng.integers(self.n_actions, size=self.n_envs), greedy_actions)
            return greedy_actions
        holding = (self._left > 0) & ~following
        frontier = self._frontier_step(following)
        rates = np.where(frontier, self.frontier_eps if self.frontier_eps is not None else epsilon, epsilon)
        explore = ~holding & ~following & (rng.random(self.n_envs) < rates)
        actions = self._held.copy()
        if explore.any():
            drawn = rng.integers(self.n_actions, size=self.n_envs)
            actions[explore] = drawn[explore]
            if self.repeat is not None:
                lengths = rng.choice(MAX_REPEAT, size=self.n_envs, p=self._hold_probabilities) + 1
                self._held[explore] = drawn[explore]
                self._left[explore] = lengths[explore] - 1  # this step is the first of them
        self._left[holding] -= 1
        pick = ~(holding | explore | following)
        if pick.any():
            actions[pick] = greedy()[pick]
        return actions

    def state(self) -> dict[str, Any] | None:
        """What a lossless resume needs to continue the episodes in progress (plain data); ``None`` when plain and
        no handed-over actions are left."""
        follow = {"follow": [list(queue) for queue in self._follow]} if any(self._follow) else {}
        if self.plain:
            return follow or None
        state: dict[str, Any] = {"held": self._held.tolist(), "left": self._left.tolist()}
        state["frontier"] = self._frontier.tolist()
        if self.frontier_steps is not None:
            state["frontier_left"] = self._frontier_left.tolist()
        return {**state, **follow}

    def restore(self, state: Any, source: str) -> None:
        """Put back a :meth:`state`, checked: a bad one is a ``ValueError`` naming ``source``."""
        keys = set() if self.plain else {"held", "left", "frontier"}
        keys |= {"frontier_left"} if self.frontier_steps is not None and not self.plain else set()
        if not isinstance(state, dict) or set(state) - {"follow"} != keys:
            raise ValueError(f"{source}: bad explorer state {state!r}.")
        if "follow" in state:
            self._follow = self._checked_follow(state["follow"], source)
        if self.plain:
            return
        checks = {
            "held": lambda item: _is_int(item) and 0 <= item < self.n_actions,
            "left": lambda item: _is_int(item) and 0 <= item < MAX_REPEAT,
            "frontier": lambda item: isinstance(item, bool),
            "frontier_left": lambda item: _is_int(item) and 0 <= item <= (self.frontier_steps or 0),
        }
        for name, check in checks.items():
            if name not in state:
                continue
            values = state[name]
            if not isinstance(values, list) or len(values) != self.n_envs or not all(map(check, values)):
                raise ValueError(f"{source}: bad explorer state {name}={values!r} for {self.n_envs} envs.")
        self._held[:], self._left[:], self._frontier[:] = state["held"], state["left"], state["frontier"]
        if "frontier_left" in state:
            self._frontier_left[:] = state["frontier_left"]

    def episodes_started(self, dones: np.ndarray, reset_infos: Sequence[dict[str, Any]]) -> None:
        """After a step: the envs that are ``done`` began a new episode (``reset_infos``, a VecEnv's
        ``reset_infos``): a held action ends there, and the new episode's rate follows its start."""
        for index in np.flatnonzero(dones):
            self.start(int(index), reset_infos[index] if index < len(reset_infos) else {})

    def start(self, index: int, info: dict[str, Any]) -> None:
        """Env ``index`` began an episode whose reset returned ``info``; its ``"frontier_actions"``, if any, are
        played first (a ``ValueError`` if they are not actions of this space)."""
        self._follow[index] = self._checked_actions(info.get(FOLLOW_KEY, ()), f"reset info {FOLLOW_KEY!r}")
        self._left[index] = 0
        self._frontier[index] = bool(info.get(FRONTIER_START_KEY, False))
        self._frontier_left[index] = self.frontier_steps or 0

    def _checked_actions(self, actions: Any, source: str) -> list[int]:
        """``actions`` as a list of this space's action indices, at most :data:`MAX_FOLLOW`; else a ValueError."""
        if (
            not isinstance(actions, list | tuple)
            or len(actions) > MAX_FOLLOW
            or not all(_is_int(action) and 0 <= action < self.n_actions for action in actions)
        ):
            raise ValueError(
                f"{source}: {actions!r} is not a list of at most {MAX_FOLLOW} actions in 0..{self.n_actions - 1}."
            )
        return [int(action) for action in actions]

    def _checked_follow(self, follow: Any, source: str) -> list[list[int]]:
        """A :meth:`state`'s ``follow`` (one list of actions per env), checked."""
        if not isinstance(follow, list) or len(follow) != self.n_envs:
            raise ValueError(f"{source}: bad explorer state follow={follow!r} for {self.n_envs} envs.")
        return [self._checked_actions(queue, f"{source}: explorer state follow") for queue in follow]


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)
