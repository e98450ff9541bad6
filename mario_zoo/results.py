"""One evaluation's record, its statistics, and the summaries kept of it.

:class:`Evaluation` is what :func:`mario_zoo.evaluation.evaluate` returns: how the episodes were played (env,
protocol, epsilon, seed, no-op starts) and what each one did (return, length and, where the env reports them, the
furthest ``x_pos``, whether it reached the flag and whether a warp pipe took it out of the level). Every statistic
is a property of it, computed here and nowhere else, under one name that ``results.json``
(:meth:`Evaluation.to_dict`), a run's ``evaluations.csv`` and ``eval/*`` logs, ``compare.json`` and the zoo's
registry all use:

==================  ============================================================================
``n_eval_episodes`` episodes played
``mean_reward``     mean undiscounted episode return (``std_reward``: their standard deviation)
``mean_ep_length``  mean episode length in env steps
``flag_rate``       share of episodes that reached the flag (``flag_interval``: its 95% Wilson interval)
``x_pos_mean``      mean over episodes of the furthest ``x_pos`` (``x_pos_max``: the furthest of any)
``warp_count``      episodes that left the level by a warp pipe (a property of the record only: ``results.json``
                    keeps the per-episode ``warps``)
==================  ============================================================================

Where only the numbers are kept (a row of ``evaluations.csv``, the registry's published results) they are a
:class:`Statistics`, made by :meth:`Statistics.of` from the record. Files written by earlier versions keep loading:
:func:`current_names` reads their names (``episodes``, ``mean_x_pos``, ``max_x_pos``) as today's, and
:meth:`Evaluation.from_dict` reads any ``results.json``. This module imports neither torch nor the emulator, so run
folders and the registry use it cheaply.

Example:
    >>> evaluation = Evaluation(env_id="MarioDQN-v0", env_kwargs={"noop_max": 30}, protocol="noop-sweep",
    ...                         episode_rewards=[2500.0, 800.0], episode_lengths=[400, 120],
    ...                         x_pos=[3161, 1200], flags=[True, False], noops=[0, 1])
    >>> evaluation.mean_reward, evaluation.flag_rate, evaluation.x_pos_mean, evaluation.x_pos_max
    (1650.0, 0.5, 2180.5, 3161)
    >>> Statistics.of(evaluation)
    Statistics(n_eval_episodes=2, mean_reward=1650.0, std_reward=850.0, mean_ep_length=260.0, flag_rate=0.5, x_pos_mean=2180.5, x_pos_max=3161)
    >>> Evaluation.from_dict(evaluation.to_dict()) == evaluation
    True
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Self

import numpy as np

EVAL_SEED = 0
"""Seed of the evaluation env's first reset: fixed, so a published number can be reproduced."""

LEGACY_NAMES = {"episodes": "n_eval_episodes", "mean_x_pos": "x_pos_mean", "max_x_pos": "x_pos_max"}
"""Names earlier versions wrote for a statistic (``evaluations.csv`` columns), and today's name of each."""


def current_names(data: Mapping[str, Any]) -> dict[str, Any]:
    """``data`` with each statistic under today's name (see :data:`LEGACY_NAMES`).

    Example:
        >>> current_names({"timesteps": "100", "episodes": "31", "mean_x_pos": "2100.5"})
        {'timesteps': '100', 'n_eval_episodes': '31', 'x_pos_mean': '2100.5'}
    """
    return {LEGACY_NAMES.get(key, key): value for key, value in data.items()}


def wilson_interval(successes: int, trials: int, z: float = 1.959964) -> tuple[float, float]:
    """The Wilson score interval of a proportion (95% by default): sound at 0 and ``trials`` successes too.

    Example:
        >>> [round(bound, 3) for bound in wilson_interval(50, 100)]
        [0.404, 0.596]
        >>> [round(bound, 3) for bound in wilson_interval(0, 100)]
        [0.0, 0.037]
    """
    import scipy.stats  # only the records that report a flag need it; reading a registry or a run does not

    if trials < 1 or not 0 <= successes <= trials:
        raise ValueError(f"Need 0 <= successes <= trials and trials >= 1, got {successes} of {trials}.")
    interval = scipy.stats.binomtest(successes, trials).proportion_ci(
        confidence_level=2 * scipy.stats.norm.cdf(z) - 1, method="wilson"
    )
    return float(interval.low), float(interval.high)


@dataclass(frozen=True, kw_only=True)
class Statistics:
    """An evaluation's numbers without its episodes: what a row of ``evaluations.csv`` and the registry keep."""

    n_eval_episodes: int
    """Episodes played."""
    mean_reward: float
    """Mean undiscounted episode return."""
    std_reward: float
    """Standard deviation of the episode returns."""
    mean_ep_length: float | None = None
    """Mean episode length in env steps (``None``: not recorded, in registry entries published before it was)."""
    flag_rate: float | None = None
    """Mario: share of episodes that reached the flag."""
    x_pos_mean: float | None = None
    """Mario: mean over episodes of the furthest ``x_pos``."""
    x_pos_max: int | None = None
    """Mario: the furthest ``x_pos`` of any episode."""

    @classmethod
    def of(cls, evaluation: Evaluation, **extra: Any) -> Self:
        """The statistics of ``evaluation``, each read from its property of the same name; ``extra`` fills the
        fields a subclass adds (a row's ``timesteps``, the registry's provenance)."""
        return cls(**{name: getattr(evaluation, name) for name in STATISTICS}, **extra)

    @property
    def mean_reward_text(self) -> str:
        """``"mean +/- std"``, the form model-index and leaderboards use."""
        return f"{self.mean_reward:.2f} +/- {self.std_reward:.2f}"

    @property
    def rank(self) -> tuple[float, ...]:
        """What "best" means: for Mario the flag rate, then the mean furthest ``x_pos`` (the return mixes in the
        clock, score and ``reward_scale``; the flag is the goal); for other envs the mean return.

        Example:
            >>> Statistics(n_eval_episodes=5, mean_reward=120.0, std_reward=3.0, mean_ep_length=400.0,
            ...            flag_rate=0.2, x_pos_mean=2100.0, x_pos_max=2400).rank
            (0.2, 2100.0)
        """
        if self.flag_rate is not None and self.x_pos_mean is not None:
            return (self.flag_rate, self.x_pos_mean)
        return (self.mean_reward,)


_EVALUATE_AGAIN = "Evaluate the agent again (mario-zoo evaluate --json) rather than editing the record."


def _is_int(value: Any) -> bool:
    return isinstance(value, int | np.integer) and not isinstance(value, bool | np.bool_)


def _is_bool(value: Any) -> bool:
    return isinstance(value, bool | np.bool_)


def _is_number(value: Any) -> bool:
    if not isinstance(value, int | float | np.integer | np.floating) or isinstance(value, bool | np.bool_):
        return False
    try:
        return math.isfinite(value)
    except OverflowError:  # an int too large for a float
        return False


STATISTICS = tuple(item.name for item in dataclasses.fields(Statistics))
"""The statistics' names, in the order files list them."""


@dataclass(frozen=True, kw_only=True)
class Evaluation:
    """One evaluation: how its episodes were played and what each did; every statistic is a property."""

    env_id: str
    """Gymnasium id of the evaluation env."""
    env_kwargs: dict[str, Any]
    """Keyword arguments the env was made with (``gym.make(env_id, **env_kwargs)``): the protocol's."""
    episode_rewards: list[float]
    """Return of each episode, in order."""
    episode_lengths: list[int]
    """Length of each episode in env steps, in order."""
    protocol: str = "episodes"
    """The protocol's name, one of :data:`mario_zoo.evaluation.PROTOCOLS`."""
    epsilon: float | None = None
    """Probability of a random action (``None``: greedy)."""
    seed: int = EVAL_SEED
    """Seed passed to the first ``reset`` of the evaluation env."""
    x_pos: list[int] | None = None
    """Furthest ``x_pos`` of each episode, for envs whose ``info`` has it."""
    flags: list[bool] | None = None
    """Whether each episode reached the flag (``info["flag_get"]``)."""
    warps: list[bool] | None = None
    """Whether each episode left the level by a warp pipe (World 1-2's warp zone), which ends it without the flag
    (``info["left_stage"]``; ``None`` in records from before warps were counted)."""
    noops: list[int] | None = None
    """The sweep: the no-op count each episode started with, in order (``None`` for random no-op starts)."""
    date: str = field(default_factory=lambda: datetime.now(UTC).isoformat(timespec="seconds"))
    """When the evaluation ran (UTC, ISO 8601)."""
    package_versions: dict[str, str] = field(default_factory=dict)
    """Versions of Python and the packages that influence the result."""

    def __post_init__(self) -> None:
        """Refuse a record whose per-episode lists disagree (a hand-edited or truncated ``results.json``): each
        names one value per episode, of its own type. Numpy values (what a rollout collects) become the Python
        values JSON writes, so :meth:`to_dict` is always serialisable.

        Example:
            >>> record = Evaluation(env_id="CartPole-v1", env_kwargs={}, episode_rewards=[np.float32(9.5)],
            ...                     episode_lengths=[np.int64(10)])
            >>> type(record.episode_rewards[0]).__name__, type(record.episode_lengths[0]).__name__
            ('float', 'int')
        """
        if isinstance(self.episode_rewards, str | bytes | Mapping) or not hasattr(self.episode_rewards, "__len__"):
            raise ValueError(
                f"Evaluation.episode_rewards must be a list of one number per episode, got {self.episode_rewards!r}. "
                + _EVALUATE_AGAIN
            )
        count = len(self.episode_rewards)
        per_episode = (
            ("episode_rewards", self.episode_rewards, _is_number, "finite number", float),
            ("episode_lengths", self.episode_lengths, _is_int, "integer", int),
            ("x_pos", self.x_pos, _is_int, "integer", int),
            ("flags", self.flags, _is_bool, "true/false", bool),
            ("warps", self.warps, _is_bool, "true/false", bool),
            ("noops", self.noops, _is_int, "integer", int),
        )
        for name, values, valid, kind, python_type in per_episode:
            if values is None:
                continue
            if isinstance(values, str | bytes | Mapping) or not hasattr(values, "__len__"):
                raise ValueError(
                    f"Evaluation.{name} must be a list of one {kind} value per episode, got {values!r}. "
                    + _EVALUATE_AGAIN
                )
            if len(values) != count:
                raise ValueError(
                    f"Evaluation.{name} has {len(values)} values for {count} episodes (episode_rewards); a record "
                    "keeps one per episode. " + _EVALUATE_AGAIN
                )
            wrong = [value for value in values if not valid(value)]
            if wrong:
                raise ValueError(
                    f"Evaluation.{name} must hold one {kind} value per episode, got {wrong[0]!r} of type "
                    f"{type(wrong[0]).__name__}. " + _EVALUATE_AGAIN
                )
            object.__setattr__(self, name, [python_type(value) for value in values])
        if self.flags is not None and self.warps is not None:
            both = [
                index for index, (flag, warp) in enumerate(zip(self.flags, self.warps, strict=True)) if flag and warp
            ]
            if both:
                raise ValueError(
                    f"Episodes {both} both reached the flag and left the level by a warp pipe; a warp ends an "
                    "episode without the flag, so the record is inconsistent. Evaluate the agent again."
                )

    @property
    def n_eval_episodes(self) -> int:
        """Episodes played."""
        return len(self.episode_rewards)

    @property
    def deterministic(self) -> bool:
        """Whether the agent acted greedily (SB3's ``deterministic=True``)."""
        return self.epsilon is None

    @property
    def mean_reward(self) -> float:
        """Mean undiscounted episode return."""
        return float(np.mean(self.episode_rewards))

    @property
    def std_reward(self) -> float:
        """Standard deviation of the episode returns."""
        return float(np.std(self.episode_rewards))

    @property
    def mean_ep_length(self) -> float:
        """Mean episode length in env steps."""
        return float(np.mean(self.episode_lengths))

    mean_reward_text = Statistics.mean_reward_text
    """``"mean +/- std"``, the form model-index and leaderboards use (the summary's own)."""

    @property
    def flag_count(self) -> int | None:
        """Episodes that reached the flag (``None`` where the env reports no flag)."""
        return None if self.flags is None else sum(self.flags)

    @property
    def warp_count(self) -> int | None:
        """Episodes that left the level by a warp pipe (``None`` where they were not counted)."""
        return None if self.warps is None else sum(self.warps)

    @property
    def flag_rate(self) -> float | None:
        """Share of episodes that reached the flag."""
        return None if self.flags is None else float(np.mean(self.flags))

    @property
    def flag_interval(self) -> tuple[float, float] | None:
        """95% Wilson score interval of the flag rate (``None`` where the env reports no flag)."""
        return None if self.flags is None else wilson_interval(sum(self.flags), len(self.flags))

    @property
    def x_pos_mean(self) -> float | None:
        """Mean over episodes of the furthest ``x_pos``."""
        return None if self.x_pos is None else float(np.mean(self.x_pos))

    @property
    def x_pos_max(self) -> int | None:
        """The furthest ``x_pos`` of any episode."""
        return None if self.x_pos is None else max(self.x_pos)

    @property
    def policy(self) -> str:
        """How the agent acted, in a few words: ``greedy actions`` or ``epsilon-greedy actions (epsilon 0.05)``."""
        return "greedy actions" if self.epsilon is None else f"epsilon-greedy actions (epsilon {self.epsilon:g})"

    @property
    def starts(self) -> str:
        """How the episodes started: each no-op count once (the sweep), or a seeded reset and random no-ops."""
        if self.noops is not None:
            return f"one episode from each no-op count {min(self.noops)}-{max(self.noops)}"
        noop_max = self.env_kwargs.get("noop_max")
        return f"env seeded with {self.seed}" + (f", 0-{noop_max} random no-ops" if noop_max else "")

    @property
    def description(self) -> str:
        """One sentence saying how the numbers were obtained."""
        kwargs = f" with kwargs {self.env_kwargs}" if self.env_kwargs else ""
        return (
            f"{self.protocol} protocol: {self.n_eval_episodes} episodes of {self.env_id}{kwargs}, {self.policy}, "
            f"{self.starts}; stable_baselines3.common.evaluation.evaluate_policy on a Monitor-wrapped env (mean and "
            "standard deviation of the undiscounted episode return)."
        )

    def summary(self) -> str:
        """Human-readable lines: mean +/- std return, and for Mario mean/max ``x_pos`` and the flag rate."""
        policy = "greedy actions" if self.epsilon is None else f"epsilon-greedy actions, epsilon={self.epsilon:g}"
        starts = (
            f"no-op counts {min(self.noops)}-{max(self.noops)}" if self.noops is not None else f"env seed {self.seed}"
        )
        lines = [
            f"{self.env_id}: mean return {self.mean_reward_text} over {self.n_eval_episodes} episodes "
            f"({self.protocol} protocol: {policy}, {starts})"
        ]
        if self.x_pos is not None and self.flags is not None:
            low, high = self.flag_interval or (0.0, 0.0)
            lines.append(
                f"x_pos: mean {self.x_pos_mean:.1f}, max {self.x_pos_max}; flag reached in {self.flag_count} "
                f"of {self.n_eval_episodes} episodes ({100 * (self.flag_rate or 0.0):.0f}%, 95% Wilson interval "
                f"{100 * low:.0f}%-{100 * high:.0f}%)"
                + (
                    f"; left the level by a warp pipe in {self.warp_count} of {self.n_eval_episodes} episodes"
                    if self.warp_count
                    else ""
                )
            )
        return "\n".join(lines)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready data (``results.json``, ``evaluate --json``): the episodes, how they were played, and every
        statistic this env reports (Mario's only for Mario)."""
        data = {
            **{name: value for name, value in dataclasses.asdict(self).items() if value is not None},
            **{name: value for name, value in dataclasses.asdict(Statistics.of(self)).items() if value is not None},
            "deterministic": self.deterministic,
            "epsilon": self.epsilon,
            "protocol_description": self.description,
        }
        if self.flag_interval is not None:
            data["flag_interval"] = list(self.flag_interval)
        return data

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Evaluation:
        """The record of a ``results.json`` (or ``evaluate --json``) written by any mario-zoo version.

        The statistics are not read: they are properties of the episodes. Files from before protocols had names
        hold a sentence in ``protocol`` (and no ``protocol_description``): their episodes are the ``episodes``
        protocol's.
        """
        named = "protocol_description" in data
        epsilon = data.get("epsilon")
        if epsilon is None and data.get("deterministic") is False:
            raise ValueError(
                "This results.json was played with exploration (deterministic: false) but records no epsilon; "
                "its policy cannot be told. Evaluate the agent again with `mario-zoo evaluate --json`."
            )
        optional = ("x_pos", "flags", "warps", "noops", "date", "package_versions")
        return cls(
            env_id=data["env_id"],
            env_kwargs=dict(data["env_kwargs"]),
            episode_rewards=data["episode_rewards"],
            episode_lengths=data["episode_lengths"],
            protocol=data["protocol"] if named else "episodes",
            epsilon=epsilon,
            seed=int(data.get("seed", EVAL_SEED)),
            **{name: data[name] for name in optional if data.get(name) is not None},
        )
