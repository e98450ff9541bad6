"""Hyperparameters of :class:`~mario_zoo.agents.DQN`, validated up front.

Every field that Stable-Baselines3's ``DQN`` also has keeps SB3's name, default and meaning, so swapping
``from stable_baselines3 import DQN`` for ``from mario_zoo import DQN`` keeps a training script's behaviour.
The other fields switch on the improvements SB3 lacks; each defaults to off.
"""

from __future__ import annotations

import dataclasses
import difflib
import math
from dataclasses import dataclass
from typing import Any, Literal

TrainFreqUnit = Literal["step", "episode"]

EXPLORATION_SCHEDULES = ("linear", "exponential")
LOSSES = ("huber", "mse")
OPTIMIZERS = ("adam", "adamw")
PRECISIONS = ("fp32", "bf16", "auto")
TRAIN_FREQ_UNITS = ("step", "episode")
#: The hyperparameters that shape the replay buffer (what SB3 sets with replay_buffer_class and its kwargs).
REPLAY_HYPERPARAMETERS = (
    "buffer_size",
    "n_steps",
    "frame_stack_replay",
    "prioritized_replay",
    "prioritized_replay_alpha",
    "prioritized_replay_beta0",
    "prioritized_replay_eps",
)


@dataclass(frozen=True)
class DQNConfig:
    """The hyperparameters of one DQN run. Unknown names and out-of-range values raise at construction.

    Example:
        >>> config = DQNConfig(learning_rate=1e-3, double_q=True, train_freq=(1, "episode"))
        >>> config.train_freq, config.double_q
        ((1, 'episode'), True)
        >>> DQNConfig(loss="l1")
        Traceback (most recent call last):
        ...
        ValueError: loss must be one of ('huber', 'mse'), got 'l1'.
    """

    # Shared with Stable-Baselines3's DQN (same names, defaults and meaning).
    learning_rate: float = 1e-4
    """Optimizer step size (0 keeps the weights fixed; SB3 allows it, and rl-zoo loads agents to play with it)."""
    buffer_size: int = 1_000_000
    """Replay capacity in transitions, shared by all envs."""
    learning_starts: int = 100
    """Env steps of uniformly random actions (handed-over actions excepted) collected before the first gradient step."""
    batch_size: int = 32
    """Transitions per gradient step."""
    tau: float = 1.0
    """Target update coefficient: 1 copies the online net (hard update), < 1 is a Polyak (soft) update."""
    gamma: float = 0.99
    """Discount factor."""
    train_freq: int | tuple[int, TrainFreqUnit] = 4
    """Train after this many vec-env steps, or ``(n, "step" | "episode")``."""
    gradient_steps: int = 1
    """Gradient steps per training round; -1 means as many as env steps collected in the round."""
    n_steps: int = 1
    """Length of the n-step return used in the TD target (1 = plain one-step DQN)."""
    target_update_interval: int = 10_000
    """Env steps between target updates (each update moves the target by ``tau``)."""
    exploration_fraction: float = 0.1
    """Linear schedule: fraction of a ``learn()`` call's steps over which epsilon decays."""
    exploration_initial_eps: float = 1.0
    """Epsilon at the start of training."""
    exploration_final_eps: float = 0.05
    """Epsilon at the end of the decay."""
    max_grad_norm: float | None = 10.0
    """Clip the gradient's global L2 norm to this (``None`` = off)."""
    stats_window_size: int = 100
    """Episodes averaged in the ``rollout/ep_rew_mean`` and ``rollout/ep_len_mean`` logs."""

    # Our extensions; each defaults to SB3's behaviour.
    exploration_schedule: Literal["linear", "exponential"] = "linear"
    """Epsilon shape: SB3's ``"linear"`` or the PyTorch tutorial's ``"exponential"``."""
    exploration_decay: float = 1000.0
    """Exponential schedule: steps over which the distance to the final epsilon shrinks by a factor e."""
    double_q: bool = False
    """Double DQN: the online net picks the next action, the target net values it."""
    dueling: bool = False
    """Dueling head: Q = V + A - mean(A)."""
    prioritized_replay: bool = False
    """Proportional prioritized replay (sum-tree) with importance-sampling weights."""
    prioritized_replay_alpha: float = 0.6
    """How strongly priorities skew sampling (0 = uniform)."""
    prioritized_replay_beta0: float = 0.4
    """Initial importance-sampling exponent; annealed linearly to 1 over a ``learn()`` call."""
    prioritized_replay_eps: float = 1e-6
    """Added to every |TD error| so that no transition gets zero priority."""
    frame_stack_replay: bool = False
    """Observations are stacked frames (oldest first on axis 0): store one frame per transition."""
    loss: Literal["huber", "mse"] = "huber"
    """TD loss: ``"huber"`` (smooth L1, SB3's) or ``"mse"``."""
    max_grad_value: float | None = None
    """Clip every gradient element to ``[-max_grad_value, max_grad_value]`` (``None`` = off)."""
    optimizer: Literal["adam", "adamw"] = "adam"
    """``"adam"`` or ``"adamw"`` (decoupled weight decay)."""
    amsgrad: bool = False
    """Use the AMSGrad variant of Adam/AdamW."""
    weight_decay: float = 0.0
    """Optimizer weight decay (the PyTorch tutorial's AdamW uses torch's default 0.01)."""
    adam_eps: float = 1e-8
    """Adam's epsilon (denominator guard)."""
    precision: Literal["fp32", "bf16", "auto"] = "fp32"
    """Update math: ``"fp32"``, ``"bf16"`` (autocast, fp32 weights and loss) or ``"auto"`` (bf16 where native)."""
    actors: int = 0
    """Actor processes that step the env beside the learner, one env each (0 = step it in the learning process)."""
    actor_sync_interval: int = 1
    """Gradient updates between copies of the online weights to the actors."""
    learning_rate_final: float | None = None
    """Decay the step size linearly to this over a ``learn()`` call (``None``: constant; 0 = rl-zoo's ``lin_<lr>``)."""
    ema_decay: float | None = None
    """Average the weights for evaluation: moved by ``1 - ema_decay`` per update (see ``DQN.averaged_weights``)."""
    target_epsilon: float | None = None
    """TD targets value the next state as an epsilon-greedy policy does (expected SARSA; ``None``: greedy, DQN's)."""
    advantage_learning: float | None = None
    """Alpha of the advantage-learning operator: TD targets minus ``alpha * (max Q(s, .) - Q(s, a))`` (``None``: off)."""
    exploration_repeat: float | None = None
    """Hold each random action for a zeta(mu)-distributed number of steps, mu this value > 1 (ez-greedy; ``None``: 1)."""
    frontier_exploration_eps: float | None = None
    """Epsilon in episodes whose reset ``info["frontier_start"]`` is true (``None``: the schedule's epsilon)."""
    frontier_exploration_steps: int | None = None
    """Steps that ``frontier_exploration_eps`` lasts from a frontier start, then the schedule's (``None``: all)."""

    def __post_init__(self) -> None:
        if callable(self.learning_rate):
            raise TypeError(
                f"learning_rate must be a number, got the schedule {self.learning_rate!r}: SB3's callable schedules "
                "are not stored in a JSON checkpoint; for a linear decay set learning_rate (the start) and "
                "learning_rate_final (the end), e.g. learning_rate=1e-3, learning_rate_final=0.0."
            )
        _check_number("learning_rate", self.learning_rate, low=0.0)
        _check_int("buffer_size", self.buffer_size, minimum=1, maximum=2**32)
        _check_int("learning_starts", self.learning_starts, minimum=0)
        _check_int("batch_size", self.batch_size, minimum=1, maximum=2**24)
        _check_number("tau", self.tau, low=0.0, high=1.0, low_inclusive=False)
        _check_number("gamma", self.gamma, low=0.0, high=1.0)
        object.__setattr__(self, "train_freq", _normalize_train_freq(self.train_freq))
        _check_int("gradient_steps", self.gradient_steps, minimum=-1, maximum=2**20)
        _check_int("n_steps", self.n_steps, minimum=1, maximum=10_000)
        _check_int("target_update_interval", self.target_update_interval, minimum=1)
        for name in ("exploration_fraction", "exploration_initial_eps", "exploration_final_eps"):
            _check_number(name, getattr(self, name), low=0.0, high=1.0)
        _check_optional_positive("max_grad_norm", self.max_grad_norm)
        _check_int("stats_window_size", self.stats_window_size, minimum=1, maximum=2**24)
        _check_choice("exploration_schedule", self.exploration_schedule, EXPLORATION_SCHEDULES)
        _check_number("exploration_decay", self.exploration_decay, low=0.0, low_inclusive=False)
        for name in ("double_q", "dueling", "prioritized_replay", "frame_stack_replay", "amsgrad"):
            if not isinstance(getattr(self, name), bool):
                raise TypeError(f"{name} must be True or False, got {getattr(self, name)!r}.")
        _check_number("prioritized_replay_alpha", self.prioritized_replay_alpha, low=0.0)
        _check_number("prioritized_replay_beta0", self.prioritized_replay_beta0, low=0.0, high=1.0)
        _check_number("prioritized_replay_eps", self.prioritized_replay_eps, low=0.0, low_inclusive=False)
        _check_choice("loss", self.loss, LOSSES)
        _check_optional_positive("max_grad_value", self.max_grad_value)
        _check_choice("optimizer", self.optimizer, OPTIMIZERS)
        _check_number("weight_decay", self.weight_decay, low=0.0)
        _check_number("adam_eps", self.adam_eps, low=0.0, low_inclusive=False)
        _check_choice("precision", self.precision, PRECISIONS)
        _check_int("actors", self.actors, minimum=0, maximum=1024)
        _check_int("actor_sync_interval", self.actor_sync_interval, minimum=1)
        if self.learning_rate_final is not None:
            _check_number("learning_rate_final", self.learning_rate_final, low=0.0)
        if self.target_epsilon is not None:
            _check_number("target_epsilon", self.target_epsilon, low=0.0, high=1.0)
        if self.advantage_learning is not None:
            _check_number("advantage_learning", self.advantage_learning, low=0.0, high=1.0, high_inclusive=False)
        check_repeat(self.exploration_repeat)
        check_frontier_eps(self.frontier_exploration_eps)
        check_frontier_steps(self.frontier_exploration_steps, self.frontier_exploration_eps)
        if self.ema_decay is not None:
            _check_number("ema_decay", self.ema_decay, low=0.0, high=1.0, low_inclusive=False)
            if self.ema_decay == 1.0:
                raise ValueError("ema_decay must be below 1 (1 would never move the average), got 1.0.")
        check_train_freq_envs(self, self.actors, f"actors={self.actors} step one env each", "actors=1")

    @property
    def train_freq_tuple(self) -> tuple[int, TrainFreqUnit]:
        """``train_freq`` as ``(frequency, unit)``."""
        if isinstance(self.train_freq, int):
            return self.train_freq, "step"
        return self.train_freq

    def learning_rate_at(self, progress: float) -> float:
        """The step size at ``progress`` (0 to 1) of a ``learn()`` call: ``learning_rate``, or with
        ``learning_rate_final`` the linear decay's value there.

        Example:
            >>> DQNConfig(learning_rate=1e-3, learning_rate_final=0.0).learning_rate_at(0.25)
            0.00075
        """
        if self.learning_rate_final is None:
            return self.learning_rate
        return self.learning_rate + (self.learning_rate_final - self.learning_rate) * min(1.0, progress)

    @classmethod
    def field_names(cls) -> tuple[str, ...]:
        """Every hyperparameter name, in declaration order."""
        return tuple(field.name for field in dataclasses.fields(cls))

    @classmethod
    def from_dict(cls, values: dict[str, Any]) -> DQNConfig:
        """Build a config from plain data (a YAML preset or a checkpoint's ``config.json``).

        Unknown names raise a ``TypeError`` that suggests the closest valid name.

        Example:
            >>> DQNConfig.from_dict({"learning_rate": 1e-3, "train_freq": [4, "step"]}).train_freq
            (4, 'step')
            >>> DQNConfig.from_dict({"learning_rat": 1e-3})  # doctest: +ELLIPSIS
            Traceback (most recent call last):
            ...
            TypeError: Unknown DQN hyperparameter 'learning_rat' (did you mean 'learning_rate'?). Valid names: ...
        """
        check_hyperparameter_names(values)
        return cls(**values)

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-ready data; ``DQNConfig.from_dict(config.to_dict()) == config``."""
        values = dataclasses.asdict(self)
        if isinstance(self.train_freq, tuple):
            values["train_freq"] = list(self.train_freq)
        return values

    def replace(self, **changes: Any) -> DQNConfig:
        """This config with ``changes``: ``dataclasses.replace``, whose ``__post_init__`` checks the result once,
        after a check of the names that suggests the closest valid one. No changes: this very config.

        Example:
            >>> DQNConfig().replace(gamma=0.9, train_freq=(1, "episode")).gamma
            0.9
            >>> DQNConfig().replace(gama=0.9)  # doctest: +ELLIPSIS
            Traceback (most recent call last):
            ...
            TypeError: Unknown DQN hyperparameter 'gama' (did you mean 'gamma'?). Valid names: ...
        """
        if not changes:
            return self
        check_hyperparameter_names(changes)
        return dataclasses.replace(self, **changes)


def config_from_arguments(
    config: DQNConfig | None, hyperparameters: dict[str, Any], *, dueling: bool = False
) -> DQNConfig:
    """The config a ``DQN(...)`` call gives: ``config`` as it is, or one built from the hyperparameter keywords
    (never both); a dueling policy (``DuelingCnnPolicy``) turns ``dueling`` on.

    Example:
        >>> config = config_from_arguments(None, {"gamma": 0.9}, dueling=True)
        >>> config.gamma, config.dueling, config_from_arguments(config, {}) is config
        (0.9, True, True)
        >>> config_from_arguments(DQNConfig(), {"gamma": 0.9, "batch_size": 64})
        Traceback (most recent call last):
        ...
        TypeError: DQN takes its hyperparameters either as config=DQNConfig(...) or as keywords, not both: got config and gamma, batch_size. Put them in the config: config=config.replace(gamma=..., batch_size=...).
    """
    if config is None:
        check_hyperparameter_names(hyperparameters)
        return DQNConfig(**{**hyperparameters, "dueling": hyperparameters.get("dueling", False) or dueling})
    if hyperparameters:
        names, placeholders = ", ".join(hyperparameters), ", ".join(f"{name}=..." for name in hyperparameters)
        raise TypeError(
            f"DQN takes its hyperparameters either as config=DQNConfig(...) or as keywords, not both: got config and "
            f"{names}. Put them in the config: config=config.replace({placeholders})."
        )
    if not isinstance(config, DQNConfig):
        raise TypeError(
            f"config must be a DQNConfig, got {type(config).__name__}; build one with DQNConfig(...) or "
            "DQNConfig.from_dict(values)."
        )
    return config.replace(dueling=True) if dueling and not config.dueling else config


def whole_numbers(values: dict[str, Any]) -> dict[str, Any]:
    """``values`` with a whole float given to an int field made an int: YAML reads ``1e6`` and ``1.0e+5`` as floats
    (``--hp buffer_size=1e6``, a search space's choices).

    Example:
        >>> whole_numbers({"buffer_size": 1e6, "gamma": 1.0, "learning_starts": 2.5})
        {'buffer_size': 1000000, 'gamma': 1.0, 'learning_starts': 2.5}
    """
    int_fields = {
        field.name
        for field in dataclasses.fields(DQNConfig)
        if isinstance(field.default, int) and not isinstance(field.default, bool)
    }
    return {
        name: int(value) if name in int_fields and isinstance(value, float) and value.is_integer() else value
        for name, value in values.items()
    }


def check_hyperparameter_names(values: dict[str, Any]) -> None:
    """Raise a ``TypeError`` naming the first unknown hyperparameter and the closest valid one."""
    valid = DQNConfig.field_names()
    for name in values:
        if name not in valid:
            close = difflib.get_close_matches(name, valid, n=1)
            hint = f" (did you mean {close[0]!r}?)" if close else ""
            raise TypeError(f"Unknown DQN hyperparameter {name!r}{hint}. Valid names: {', '.join(valid)}.")


_MAX_COUNT = 2**53
"""The largest count a hyperparameter may be unless it says otherwise: what JSON numbers and float step counters
hold exactly."""


def _check_int(name: str, value: Any, minimum: int, maximum: int = _MAX_COUNT) -> None:
    if isinstance(value, bool) or not isinstance(value, int):
        raise TypeError(f"{name} must be an int, got {value!r} of type {type(value).__name__}.")
    if value < minimum:
        raise ValueError(f"{name} must be >= {minimum}, got {value}.")
    if value > maximum:
        raise ValueError(f"{name} must be <= {maximum:,}, got {value:,}.")


def _check_number(
    name: str,
    value: Any,
    low: float | None = None,
    high: float | None = None,
    low_inclusive: bool = True,
    high_inclusive: bool = True,
    *,
    optional: bool = False,
    meaning: str = "",
) -> None:
    """``value`` must be a finite number within the bounds (or ``None`` if ``optional``); ``meaning``, in
    parentheses after the bounds, says what the number is."""
    if optional and value is None:
        return
    kind = "a number or None" if optional else "a number"
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise TypeError(f"{name} must be {kind}, got {value!r} of type {type(value).__name__}.")
    too_low = low is not None and (value < low or (value == low and not low_inclusive))
    too_high = high is not None and (value > high or (value == high and not high_inclusive))
    if (isinstance(value, float) and not math.isfinite(value)) or too_low or too_high:
        left = "[" if low_inclusive and low is not None else "("
        right = "]" if high_inclusive and high is not None else ")"
        bounds = f"{left}{low if low is not None else '-inf'}, {high if high is not None else 'inf'}{right}"
        explained = f" ({meaning})" if meaning else ""
        raise ValueError(f"{name} must be in {bounds}{explained}{' or None' if optional else ''}, got {value!r}.")


def _check_optional_positive(name: str, value: Any) -> None:
    if value is not None:
        _check_number(name, value, low=0.0, low_inclusive=False)


def _check_choice(name: str, value: Any, choices: tuple[str, ...]) -> None:
    if value not in choices:
        raise ValueError(f"{name} must be one of {choices}, got {value!r}.")


def _normalize_train_freq(value: Any) -> int | tuple[int, TrainFreqUnit]:
    """Accept SB3's forms (``4`` or ``(4, "step")``) and JSON's list form; keep an int an int."""
    if isinstance(value, list | tuple):
        if len(value) != 2:
            raise ValueError(f"train_freq must be an int or (frequency, unit), got {value!r}.")
        frequency, unit = value
        _check_int("train_freq frequency", frequency, minimum=1)
        _check_choice("train_freq unit", unit, TRAIN_FREQ_UNITS)
        return int(frequency), unit
    _check_int("train_freq", value, minimum=1)
    return int(value)


def check_repeat(value: Any) -> None:
    """``exploration_repeat`` must be ``None`` or a number above 1 (the zeta exponent)."""
    _check_number(
        "exploration_repeat",
        value,
        low=1,
        low_inclusive=False,
        optional=True,
        meaning="the zeta distribution's exponent mu; 2 is ez-greedy's usual value",
    )


def check_frontier_eps(value: Any) -> None:
    """``frontier_exploration_eps`` must be ``None`` or a probability."""
    _check_number("frontier_exploration_eps", value, low=0.0, high=1.0, optional=True)


def check_frontier_steps(value: Any, frontier_eps: Any) -> None:
    """``frontier_exploration_steps`` must be ``None`` or an int >= 1, and only with a ``frontier_exploration_eps``.

    Example:
        >>> check_frontier_steps(8, None)
        Traceback (most recent call last):
        ...
        ValueError: frontier_exploration_steps=8 limits frontier_exploration_eps to the first steps of frontier-start episodes, but frontier_exploration_eps is None; set it too (e.g. frontier_exploration_eps=1.0), or drop frontier_exploration_steps.
    """
    if value is None:
        return
    _check_int("frontier_exploration_steps", value, minimum=1)
    if frontier_eps is None:
        raise ValueError(
            f"frontier_exploration_steps={value} limits frontier_exploration_eps to the first steps of frontier-start "
            "episodes, but frontier_exploration_eps is None; set it too (e.g. frontier_exploration_eps=1.0), or drop "
            "frontier_exploration_steps."
        )


def check_train_freq_envs(config: DQNConfig, n_envs: int, envs: str, single: str = "a single env") -> None:
    """A ``train_freq`` in episodes needs one env (SB3's rule): with several, whose episode would it count?
    ``envs`` says where the ``n_envs`` come from, ``single`` how to have one instead."""
    if n_envs > 1 and config.train_freq_tuple[1] == "episode":
        raise ValueError(
            f"train_freq={config.train_freq!r} counts episodes, which needs a single env; {envs}. "
            f"Use train_freq in steps (e.g. train_freq=4) or {single}."
        )
