"""The evaluation protocols, and :func:`evaluate`, which plays one and makes its record.

Every number mario-zoo reports comes from :func:`evaluate`: ``mario-zoo evaluate``, periodic and final evaluations
of a run, ``compare``, sweeps, a Hub repo's ``results.json`` and the zoo's registry. It plays Stable-Baselines3's
``evaluate_policy`` on a fresh ``Monitor``-wrapped env seeded with :data:`EVAL_SEED` (so rewards are whole-episode
returns and the same agent gets the same numbers on the same machine), under one of three protocols
(:data:`PROTOCOLS`):

- ``noop-sweep`` (Mario's default): greedy, one episode from each no-op count ``0..noop_max`` (31 episodes). The
  emulator is deterministic, so a greedy agent plays exactly one episode per no-op count: these episodes *are* the
  0-30 random no-op protocol, without its sampling noise. The right way to compare and choose checkpoints.
- ``nature`` (Mnih et al. 2015): epsilon 0.05 actions and 0..30 random no-ops (Mario), N seeded episodes (default
  30); the epsilon draws come from a generator seeded with the env, so the numbers are reproducible. It measures
  robustness: a memorised trajectory does not survive it.
- ``episodes`` (every other env's default): N seeded episodes, greedy unless an epsilon is given, Mario with 0..30
  random no-ops.

The protocol sets the env's no-ops and noise itself: the agent's training-only options (frontier starts, training
no-ops, sticky actions; :func:`mario_zoo.envs.playing_kwargs`) never reach an evaluation. Envs whose ``info``
reports ``x_pos`` and ``flag_get`` also get how far each episode got and whether it reached the flag. The record
is :class:`mario_zoo.results.Evaluation`, whose properties are every statistic reported anywhere. This module sits
below the Hub and the zoo and imports neither: publishing takes an evaluation already made.

Example:
    >>> class Left:  # anything with SB3's predict() signature
    ...     def predict(self, observation, state=None, episode_start=None, deterministic=False):
    ...         return [0] * len(observation), None
    >>> evaluation = evaluate(Left(), "CartPole-v1", n_episodes=3)
    >>> evaluation.protocol, evaluation.n_eval_episodes, evaluation.x_pos is None
    ('episodes', 3, True)
    >>> print(evaluation.summary())  # doctest: +ELLIPSIS
    CartPole-v1: mean return ... +/- ... over 3 episodes (episodes protocol: greedy actions, env seed 0)
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Sequence
from contextlib import nullcontext
from dataclasses import dataclass
from typing import Any

import gymnasium as gym
import numpy as np
from stable_baselines3.common.evaluation import evaluate_policy
from stable_baselines3.common.monitor import Monitor
from stable_baselines3.common.vec_env import DummyVecEnv
from tqdm import tqdm

from mario_zoo.agents.checkpoint import package_versions
from mario_zoo.envs import ENV_IDS, playing_kwargs
from mario_zoo.results import EVAL_SEED, Evaluation
from mario_zoo.results import wilson_interval as wilson_interval  # part of this module's interface, as before
from mario_zoo.wrappers.episode import NOOPS_OPTION

MARIO_EVAL_NOOP_MAX = 30
"""No-op starts of a Mario evaluation: 0..30 (random, or each once in the sweep), the Atari/Mario convention."""

NATURE_EPSILON = 0.05
"""The Nature protocol's probability of a random action (Mnih et al. 2015)."""

NATURE_EPISODES = 30
"""Episodes of the Nature protocol unless told otherwise."""

DEFAULT_EPISODES = 10
"""Episodes of the ``episodes`` protocol unless told otherwise."""

PROTOCOLS: dict[str, str] = {
    "noop-sweep": "greedy, one episode from each no-op count 0..noop_max (exact: no sampling noise; Mario only)",
    "nature": "epsilon 0.05 actions, 0..30 random no-ops (Mario), N seeded episodes (Mnih et al. 2015)",
    "episodes": "N seeded episodes, greedy unless an epsilon is given (Mario: 0..30 random no-ops)",
}
"""The evaluation protocols by name, each with one line saying what it plays."""


def is_mario(env_id: str | None) -> bool:
    """Whether ``env_id`` is one of the registered ``MarioDQN`` IDs."""
    return env_id in ENV_IDS


def default_protocol(env_id: str) -> str:
    """The protocol an env is evaluated with unless told otherwise: Mario's exact no-op sweep, else ``episodes``.

    Example:
        >>> default_protocol("MarioDQN-1-1-v0"), default_protocol("CartPole-v1")
        ('noop-sweep', 'episodes')
    """
    return "noop-sweep" if is_mario(env_id) else "episodes"


@dataclass(frozen=True)
class Protocol:
    """One evaluation protocol with its numbers filled in; :func:`protocol_for` builds and checks it."""

    name: str
    """One of :data:`PROTOCOLS`."""
    n_episodes: int
    """Episodes played (the sweep: ``noop_max + 1``)."""
    epsilon: float | None
    """Probability of a random action (``None``: greedy)."""
    noop_max: int | None
    """Mario: no-op starts 0..noop_max (random, or each once in the sweep); ``None`` for envs without them."""
    seed: int
    """Seed of the env's first reset (and of the epsilon draws)."""

    @property
    def noop_counts(self) -> list[int] | None:
        """The sweep's no-op count of each episode, in order (``None`` for the random-start protocols)."""
        return list(range(self.noop_max + 1)) if self.name == "noop-sweep" and self.noop_max is not None else None

    def describe(self) -> str:
        """How the episodes were played, in a few words.

        Example:
            >>> print(protocol_for("MarioDQN-v0").describe())
            noop-sweep protocol: greedy actions, one episode from each no-op count 0-30
            >>> print(protocol_for("MarioDQN-v0", "nature").describe())
            nature protocol: epsilon-greedy actions (epsilon 0.05), 0-30 random no-ops, env seed 0
        """
        policy = "greedy actions" if self.epsilon is None else f"epsilon-greedy actions (epsilon {self.epsilon:g})"
        if self.name == "noop-sweep":
            return f"{self.name} protocol: {policy}, one episode from each no-op count 0-{self.noop_max}"
        noops = f", 0-{self.noop_max} random no-ops" if self.noop_max else ""
        return f"{self.name} protocol: {policy}{noops}, env seed {self.seed}"


def protocol_for(
    env_id: str,
    name: str | None = None,
    *,
    n_episodes: int | None = None,
    epsilon: float | None = None,
    noop_max: int | None = None,
    seed: int = EVAL_SEED,
) -> Protocol:
    """Check a protocol's name and numbers for ``env_id`` and fill in its defaults.

    Args:
        env_id: the evaluation env's ID.
        name: one of :data:`PROTOCOLS` (default: :func:`default_protocol`).
        n_episodes: episodes (``nature``: 30, ``episodes``: 10; the sweep plays ``noop_max + 1``).
        epsilon: probability of a random action (``nature``: 0.05; the sweep is greedy).
        noop_max: Mario's no-op starts (default 30).
        seed: seed of the env's first reset and of the epsilon draws.

    Example:
        >>> protocol_for("MarioDQN-v0").n_episodes
        31
        >>> protocol_for("MarioDQN-v0", "exact")
        Traceback (most recent call last):
        ...
        ValueError: Unknown evaluation protocol 'exact'; valid choices are: 'noop-sweep', 'nature', 'episodes'.
    """
    name = default_protocol(env_id) if name is None else name
    if not isinstance(name, str) or name not in PROTOCOLS:
        choices = ", ".join(repr(choice) for choice in PROTOCOLS)
        raise ValueError(f"Unknown evaluation protocol {name!r}; valid choices are: {choices}.")
    mario = is_mario(env_id)
    _check_noop_max(env_id, noop_max)
    noops = (MARIO_EVAL_NOOP_MAX if noop_max is None else noop_max) if mario else None
    if epsilon is not None and (
        isinstance(epsilon, bool) or not isinstance(epsilon, int | float) or not 0.0 <= epsilon <= 1.0
    ):
        raise ValueError(f"epsilon must be a number in [0, 1], got {epsilon!r}.")
    if name == "noop-sweep":
        if not mario:
            raise ValueError(
                f"The noop-sweep protocol plays each no-op start of a MarioDQN env once; {env_id} has no no-op "
                "starts. Use --protocol episodes (or nature)."
            )
        if epsilon is not None:
            raise ValueError("The noop-sweep protocol is greedy; for epsilon-greedy episodes use --protocol nature.")
        assert noops is not None
        if n_episodes is not None and n_episodes != noops + 1:
            raise ValueError(
                f"The noop-sweep protocol plays one episode per no-op count 0-{noops} ({noops + 1} episodes), got "
                f"n_episodes={n_episodes!r} (--episodes); leave it unset, change noop_max (--noop-max N), or play N "
                "random-start episodes with the nature or episodes protocol (--protocol nature)."
            )
        n_episodes = noops + 1
    elif name == "nature":
        epsilon = NATURE_EPSILON if epsilon is None else epsilon
    n_episodes = n_episodes if n_episodes is not None else NATURE_EPISODES if name == "nature" else DEFAULT_EPISODES
    if isinstance(n_episodes, bool) or not isinstance(n_episodes, int) or n_episodes < 1:
        raise ValueError(f"The number of evaluation episodes must be an int >= 1, got {n_episodes!r}.")
    if isinstance(seed, bool) or not isinstance(seed, int):
        raise TypeError(f"seed must be an int, got {seed!r} of type {type(seed).__name__}.")
    return Protocol(name, n_episodes, None if epsilon is None else float(epsilon), noops, seed)


def run_protocol(env_id: str, name: str | None = None, n_episodes: int | None = None) -> Protocol:
    """A training run's evaluation protocol: ``name`` (default: the env's), with ``n_episodes`` where the protocol
    counts episodes (the no-op sweep plays one episode per no-op start, whatever ``--eval-episodes`` says).

    Example:
        >>> run_protocol("MarioDQN-v0", n_episodes=10).n_episodes, run_protocol("CartPole-v1", n_episodes=10).n_episodes
        (31, 10)
    """
    name = name or default_protocol(env_id)
    return protocol_for(env_id, name, n_episodes=None if name == "noop-sweep" else n_episodes)


def evaluation_env_kwargs(env_id: str, trained_kwargs: dict[str, Any], noop_max: int | None = None) -> dict[str, Any]:
    """The ``gym.make`` kwargs to evaluate on: the agent's play env (its training env without the training-only
    options: no frontier starts, no training no-ops or sticky actions), with Mario's no-op starts (default 30).

    Example:
        >>> evaluation_env_kwargs("MarioDQN-v0", {"actions": "right_only", "noop_max": 0, "frontier_fraction": 0.5})
        {'actions': 'right_only', 'noop_max': 30}
        >>> evaluation_env_kwargs("CartPole-v1", {}, noop_max=30)
        Traceback (most recent call last):
        ...
        ValueError: noop_max (--noop-max) applies to MarioDQN envs only; CartPole-v1 has no no-op starts. Leave it unset.
    """
    _check_noop_max(env_id, noop_max)
    kwargs = playing_kwargs(trained_kwargs)
    if is_mario(env_id):
        kwargs["noop_max"] = MARIO_EVAL_NOOP_MAX if noop_max is None else noop_max
    return kwargs


def _check_noop_max(env_id: str, noop_max: Any) -> None:
    """Refuse a ``noop_max`` for an env without no-op starts, or one that is not an int >= 0 (``None``: unset)."""
    if noop_max is None:
        return
    if not is_mario(env_id):
        raise ValueError(
            f"noop_max (--noop-max) applies to MarioDQN envs only; {env_id} has no no-op starts. Leave it unset."
        )
    if isinstance(noop_max, bool) or not isinstance(noop_max, int) or noop_max < 0:
        raise ValueError(f"noop_max must be an int >= 0, got {noop_max!r}.")


def results_document(evaluation: Evaluation, also: Sequence[Evaluation] = ()) -> dict[str, Any]:
    """What ``results.json`` holds: ``evaluation`` (the headline protocol) at the top level, and the evaluations of
    other protocols (Mario: the Nature protocol beside the sweep) under ``other_protocols``, by protocol name.

    Example:
        >>> class Left:
        ...     def predict(self, observation, state=None, episode_start=None, deterministic=False):
        ...         return [0] * len(observation), None
        >>> greedy = evaluate(Left(), "CartPole-v1", n_episodes=2)
        >>> noisy = evaluate(Left(), "CartPole-v1", protocol="nature", n_episodes=2)
        >>> document = results_document(greedy, [noisy])
        >>> document["protocol"], list(document["other_protocols"]), document["other_protocols"]["nature"]["epsilon"]
        ('episodes', ['nature'], 0.05)
    """
    data = evaluation.to_dict()
    if also:
        data["other_protocols"] = {other.protocol: other.to_dict() for other in also}
    return data


class _ProgressTracker:
    """``evaluate_policy`` callback: the furthest ``x_pos``, the flag and the warp of each finished episode, and a progress
    bar (episodes, mean return so far) when given one."""

    def __init__(self, bar: Any = None) -> None:
        self.x_pos: list[int] = []
        self.flags: list[bool] = []
        self.warps: list[bool] = []
        self.returns: list[float] = []
        self.warps_reported = True
        """Whether every episode's ``info`` said whether it left the level (``left_stage``): else no warp count."""
        self._best_x: int | None = None
        self._flag = self._warp = False
        self._bar = bar

    def __call__(self, local_vars: dict[str, Any], _: dict[str, Any]) -> None:
        info = local_vars["info"]
        if "x_pos" in info:
            self._best_x = max(int(info["x_pos"]), self._best_x or 0)
            self._flag = self._flag or bool(info.get("flag_get", False))
            self._warp = self._warp or bool(info.get("left_stage", False))
            self.warps_reported = self.warps_reported and "left_stage" in info
        # evaluate_policy counts an episode only when Monitor reports it; count the same ones.
        if local_vars["done"] and "episode" in info:
            if self._best_x is not None:
                self.x_pos.append(self._best_x)
                self.flags.append(self._flag)
                self.warps.append(self._warp)
            self._best_x, self._flag, self._warp = None, False, False
            self.returns.append(float(info["episode"]["r"]))
            if self._bar is not None:
                self._bar.set_postfix_str(f"mean return {np.mean(self.returns):.1f}", refresh=False)
                self._bar.update(1)


class _EpsilonGreedy:
    """The agent's greedy actions, each replaced by a uniformly random one with probability ``epsilon``, drawn
    from the evaluation's own seeded generator: the same evaluation gives the same numbers for any agent (ours,
    SB3's), whatever its own exploration state."""

    def __init__(self, model: Any, epsilon: float | None, n_actions: int | None, seed: int) -> None:
        if epsilon and n_actions is None:
            raise ValueError("An epsilon-greedy evaluation needs a Discrete action space.")
        self._model = model
        self._epsilon = epsilon
        self._n_actions = n_actions
        self._rng = np.random.default_rng(seed)

    def predict(
        self, observation: Any, state: Any = None, episode_start: Any = None, deterministic: bool = True
    ) -> tuple[np.ndarray, Any]:
        actions, state = self._model.predict(observation, state=state, episode_start=episode_start, deterministic=True)
        actions = np.asarray(actions)
        if self._epsilon:
            assert self._n_actions is not None
            explore = self._rng.random(actions.shape) < self._epsilon
            actions = np.where(explore, self._rng.integers(self._n_actions, size=actions.shape), actions)
        return actions, state


def evaluate(
    model: Any,
    env_id: str,
    env_kwargs: dict[str, Any] | None = None,
    *,
    protocol: str | Protocol | None = None,
    n_episodes: int | None = None,
    epsilon: float | None = None,
    noop_max: int | None = None,
    seed: int = EVAL_SEED,
    progress: bool = False,
) -> Evaluation:
    """Evaluate ``model`` on ``gym.make(env_id, **env_kwargs)`` under a protocol and summarise the episodes.

    Args:
        model: anything with SB3's ``predict`` (a DQN, an SB3 model).
        env_id: Gymnasium ID.
        env_kwargs: the agent's ``gym.make`` kwargs (its play env; training-only options are dropped and the
            protocol sets Mario's no-ops).
        protocol: a name from :data:`PROTOCOLS` or a :class:`Protocol` (default: :func:`default_protocol`).
        n_episodes, epsilon, noop_max, seed: the protocol's numbers (see :func:`protocol_for`); ignored when
            ``protocol`` is a :class:`Protocol`.
        progress: show a progress bar on stderr (episodes played, mean return so far).
    """
    if not isinstance(protocol, Protocol):
        protocol = protocol_for(env_id, protocol, n_episodes=n_episodes, epsilon=epsilon, noop_max=noop_max, seed=seed)
    kwargs = evaluation_env_kwargs(env_id, dict(env_kwargs or {}), protocol.noop_max)
    with (
        tqdm(total=protocol.n_episodes, unit="episode", desc="evaluating", file=sys.stderr, dynamic_ncols=True)
        if progress
        else nullcontext()
    ) as bar:
        tracker = _ProgressTracker(bar)
        rewards, lengths = _play_episodes(model, env_id, kwargs, protocol, tracker)
    tracked = len(tracker.x_pos) == protocol.n_episodes
    return Evaluation(
        env_id=env_id,
        env_kwargs=kwargs,
        episode_rewards=rewards,
        episode_lengths=lengths,
        protocol=protocol.name,
        epsilon=protocol.epsilon,
        seed=protocol.seed,
        x_pos=tracker.x_pos if tracked else None,
        flags=tracker.flags if tracked else None,
        warps=tracker.warps if tracked and tracker.warps_reported else None,
        noops=protocol.noop_counts,
        package_versions=package_versions(),
    )


def published_evaluations(
    model: Any,
    env_id: str,
    env_kwargs: dict[str, Any] | None,
    episodes: int,
    *,
    seed: int = EVAL_SEED,
    progress: bool = False,
) -> tuple[Evaluation, tuple[Evaluation, ...]]:
    """The evaluations a published agent carries (``zoo publish``, ``push``): the headline one, and the others its
    card and ``results.json`` report beside it.

    Mario: the exact no-op sweep (greedy from each of the 31 no-op starts), and the Nature protocol (epsilon 0.05,
    random 0-30 no-ops) over ``episodes`` seeded episodes. Other envs: ``episodes`` seeded greedy episodes.
    """
    if not is_mario(env_id):
        return evaluate(
            model, env_id, env_kwargs, protocol="episodes", n_episodes=episodes, seed=seed, progress=progress
        ), ()
    sweep = evaluate(model, env_id, env_kwargs, protocol="noop-sweep", progress=progress)
    nature = evaluate(model, env_id, env_kwargs, protocol="nature", n_episodes=episodes, seed=seed, progress=progress)
    return sweep, (nature,)


def check_agent_fits(model: Any, env_id: str, env_kwargs: dict[str, Any] | None = None) -> None:
    """Check that ``model`` reads the observations of ``gym.make(env_id, **playing_kwargs(env_kwargs))`` and gives
    its actions: a ``ValueError`` naming both spaces (e.g. a checkpoint whose ``env_id`` was edited), before any
    episode is played, instead of a failure inside the first ``predict``. An env that cannot be made is left to the
    caller's own checks (:func:`mario_zoo.envs.spec.check_env_kwargs` names a bad kwarg), and is not checked here.

    Example:
        >>> from mario_zoo import DQN
        >>> check_agent_fits(DQN("MlpPolicy", "CartPole-v1", device="cpu"), "MountainCar-v0")
        Traceback (most recent call last):
        ...
        ValueError: The agent reads observations of shape (4,), but MountainCar-v0 gives (2,): the agent was trained on another env (or its config.json names the wrong one).
    """
    try:
        env = gym.make(env_id, **playing_kwargs(env_kwargs))
    except (gym.error.Error, TypeError, ValueError):
        return
    try:
        _check_fits(model, env_id, env.observation_space, env.action_space)
    finally:
        env.close()


def _check_fits(model: Any, env_id: str, observation_space: gym.Space, action_space: gym.Space) -> None:
    mine = getattr(model, "observation_space", None)
    shape = observation_space.shape
    # SB3 keeps an (H, W, C) image env's space transposed to (C, H, W) and transposes inside predict.
    transposed = (shape[2], shape[0], shape[1]) if shape is not None and len(shape) == 3 else None
    if isinstance(mine, gym.spaces.Space) and mine.shape not in (shape, transposed):
        raise ValueError(
            f"The agent reads observations of shape {mine.shape}, but {env_id} gives {observation_space.shape}: the "
            "agent was trained on another env (or its config.json names the wrong one)."
        )
    actions = getattr(model, "action_space", None)
    if isinstance(actions, gym.spaces.Discrete) and actions != action_space:
        raise ValueError(
            f"The agent chooses among {actions}, but {env_id} takes {action_space}: the agent was trained on another "
            "env (or its config.json names the wrong one)."
        )


def _play_episodes(
    model: Any,
    env_id: str,
    env_kwargs: dict[str, Any],
    protocol: Protocol,
    callback: Callable[[dict[str, Any], dict[str, Any]], None],
) -> tuple[list[float], list[int]]:
    """The return and length of each episode: SB3's ``evaluate_policy`` on a fresh, seeded, ``Monitor``-wrapped
    env; ``callback`` sees every step. The sweep plays one episode per no-op count, each from a reset that asks
    ``NoopStart`` for exactly that count."""
    vec_env = DummyVecEnv([lambda: Monitor(gym.make(env_id, **env_kwargs))])
    try:
        _check_fits(model, env_id, vec_env.observation_space, vec_env.action_space)
    except ValueError:
        vec_env.close()
        raise
    space = vec_env.action_space
    policy = _EpsilonGreedy(
        model, protocol.epsilon, int(space.n) if isinstance(space, gym.spaces.Discrete) else None, protocol.seed
    )
    rounds = [(None, protocol.n_episodes)] if protocol.noop_counts is None else [(n, 1) for n in protocol.noop_counts]
    rewards: list[float] = []
    lengths: list[int] = []
    try:
        for noops, episodes in rounds:
            vec_env.seed(protocol.seed)
            if noops is not None:
                vec_env.set_options({NOOPS_OPTION: noops})
            round_rewards, round_lengths = evaluate_policy(
                policy,
                vec_env,
                n_eval_episodes=episodes,
                deterministic=protocol.epsilon is None,
                return_episode_rewards=True,
                callback=callback,
            )
            rewards += round_rewards
            lengths += round_lengths
    finally:
        vec_env.close()
    return [float(reward) for reward in rewards], [int(length) for length in lengths]
