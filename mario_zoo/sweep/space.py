"""Search spaces as data: ``mario_zoo/hyperparams/dqn_space.yml`` holds one space per preset family (CartPole,
Mario); :func:`load_space` picks the family whose ``envs`` patterns match the preset's env and checks every
parameter name (a DQN hyperparameter, ``net_arch`` or ``env_kwargs.<key>``) and distribution.

Example:
    >>> space = load_space("CartPole-v1")
    >>> space.family, "learning_rate" in space.names, space["net_arch"].choices[:2]
    ('cartpole', True, ([64], [64, 64]))
    >>> parse_space({"cartpole": {"envs": ["CartPole-v1"], "parameters": {"learning_rat": {}}}}, "space.yml")  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    ValueError: Unknown parameter 'learning_rat' in space.yml (family cartpole) (did you mean 'learning_rate'?); valid ...
"""

from __future__ import annotations

import difflib
import fnmatch
import math
import os
from dataclasses import dataclass
from importlib.resources import files
from pathlib import Path
from typing import Any

import optuna
import yaml

from mario_zoo.agents.config import DQNConfig
from mario_zoo.reading import parse_yaml, read_yaml

SPACE_FILE = files("mario_zoo").joinpath("hyperparams", "dqn_space.yml")
"""The search spaces ``mario-zoo sweep`` uses unless given ``--space FILE``."""

DISTRIBUTIONS = ("uniform", "log_uniform", "int", "categorical")
"""Distribution names a search-space parameter can have."""

NETWORK_PARAMETER = "net_arch"
"""The one searchable parameter that is not a DQN hyperparameter: the hidden layers (``policy_kwargs``)."""

ENV_KWARGS_PREFIX = "env_kwargs."
"""Prefix of a searchable ``gym.make`` keyword argument (``env_kwargs.frontier_fraction``)."""

_FAMILY_KEYS = ("envs", "parameters")


@dataclass(frozen=True)
class Parameter:
    """One searchable setting and its distribution."""

    name: str
    """A :class:`~mario_zoo.agents.DQNConfig` field, ``net_arch``, or ``env_kwargs.<key>``."""
    distribution: str
    """One of :data:`DISTRIBUTIONS`."""
    low: float | None = None
    """Lower bound (``uniform``, ``log_uniform``, ``int``)."""
    high: float | None = None
    """Upper bound, inclusive."""
    step: int | None = None
    """``int`` only: spacing of the values."""
    log: bool = False
    """``int`` only: sample uniformly in log space."""
    choices: tuple[Any, ...] = ()
    """``categorical`` only: the values."""

    def suggest(self, trial: optuna.Trial) -> Any:
        """Ask ``trial`` for a value. Lists among categorical choices travel as their YAML text (Optuna's choices
        are scalars), so ``trials.csv`` shows ``[64, 64]``.

        Example:
            >>> import optuna
            >>> trial = optuna.trial.FixedTrial({"net_arch": "[64, 64]"})
            >>> Parameter("net_arch", "categorical", choices=([64], [64, 64])).suggest(trial)
            [64, 64]
        """
        if self.distribution == "categorical":
            picked = trial.suggest_categorical(self.name, [encode_choice(choice) for choice in self.choices])
            return self.decode(picked)
        if self.distribution == "int":
            return trial.suggest_int(self.name, int(self.low), int(self.high), step=self.step or 1, log=self.log)
        return trial.suggest_float(self.name, self.low, self.high, log=self.distribution == "log_uniform")

    def decode(self, value: Any) -> Any:
        """The setting an Optuna parameter value stands for (a list choice is stored as its YAML text)."""
        lists = {encode_choice(choice) for choice in self.choices if isinstance(choice, list | dict)}
        return yaml.safe_load(value) if isinstance(value, str) and value in lists else value


def encode_choice(choice: Any) -> Any:
    """A choice as Optuna stores it: a list or mapping as its YAML text, a scalar as it is."""
    return yaml.safe_dump(choice, default_flow_style=True).strip() if isinstance(choice, list | dict) else choice


@dataclass(frozen=True)
class SearchSpace:
    """The parameters one preset family searches over."""

    family: str
    """Key in the space file (``cartpole``, ``mario``)."""
    source: str
    """The file it was read from."""
    parameters: tuple[Parameter, ...]
    """In file order."""

    @property
    def names(self) -> tuple[str, ...]:
        """Parameter names, in file order."""
        return tuple(parameter.name for parameter in self.parameters)

    def __getitem__(self, name: str) -> Parameter:
        return next(parameter for parameter in self.parameters if parameter.name == name)

    def sample(self, trial: optuna.Trial) -> dict[str, Any]:
        """One value per parameter, from ``trial``."""
        return {parameter.name: parameter.suggest(trial) for parameter in self.parameters}


def valid_parameter_names() -> tuple[str, ...]:
    """Names a search space may use: every DQN hyperparameter, ``net_arch``, and ``env_kwargs.<key>`` for any
    ``gym.make`` keyword argument (e.g. ``env_kwargs.frontier_fraction``; the env checks the values)."""
    return (*DQNConfig.field_names(), NETWORK_PARAMETER, f"{ENV_KWARGS_PREFIX}<key>")


def env_kwarg(name: str) -> str | None:
    """The ``gym.make`` keyword a parameter name such as ``env_kwargs.frontier_fraction`` sets, or ``None``."""
    key = name.removeprefix(ENV_KWARGS_PREFIX) if name.startswith(ENV_KWARGS_PREFIX) else None
    return key if key and key.isidentifier() else None


def load_space(env_id: str, path: str | os.PathLike[str] | None = None) -> SearchSpace:
    """The search space for ``env_id``: the family of ``path`` (default ``dqn_space.yml``) whose ``envs``
    patterns match it."""
    source = str(path) if path is not None else "mario_zoo/hyperparams/dqn_space.yml"
    if path is None:
        raw = parse_yaml(SPACE_FILE.read_text(encoding="utf-8"), f"Search space file {source}")
    else:
        if not Path(path).is_file():
            raise FileNotFoundError(f"Search space file {path} does not exist; pass the path of a YAML space file.")
        raw = read_yaml(path, source=f"Search space file {source}")
    families = parse_space(raw, source)
    for patterns, space in families.values():
        if any(fnmatch.fnmatchcase(env_id, pattern) for pattern in patterns):
            return space
    covered = "; ".join(f"{family}: {', '.join(patterns)}" for family, (patterns, _) in families.items())
    raise ValueError(
        f"No search space in {source} covers {env_id} (its families cover {covered}); add a family whose envs "
        "match it, or pass --space FILE."
    )


def parse_space(raw: Any, source: str) -> dict[str, tuple[tuple[str, ...], SearchSpace]]:
    """Check a space file's contents: ``{family: {envs: [patterns], parameters: {name: distribution}}}``."""
    if not isinstance(raw, dict) or not raw:
        raise ValueError(
            f"Search space file {source} must map family names to {{envs: [...], parameters: {{...}}}}, got "
            f"{type(raw).__name__}."
        )
    families = {}
    for family, entry in raw.items():
        where = f"{source} (family {family})"
        if not isinstance(entry, dict) or set(entry) != set(_FAMILY_KEYS):
            keys = sorted(entry) if isinstance(entry, dict) else type(entry).__name__
            raise ValueError(
                f"Family {family!r} in {source} must have exactly the keys envs and parameters, got {keys}."
            )
        patterns = entry["envs"]
        if not isinstance(patterns, list) or not patterns or not all(isinstance(item, str) for item in patterns):
            raise ValueError(
                f"envs in {where} must be a list of env ID patterns such as [CartPole-v1], got {patterns!r}."
            )
        parameters = entry["parameters"]
        if not isinstance(parameters, dict) or not parameters:
            raise ValueError(f"parameters in {where} must map parameter names to distributions, got {parameters!r}.")
        parsed = tuple(_parse_parameter(name, spec, where) for name, spec in parameters.items())
        families[str(family)] = (tuple(patterns), SearchSpace(str(family), source, parsed))
    return families


def _parse_parameter(name: str, spec: Any, where: str) -> Parameter:
    valid = valid_parameter_names()
    if name not in valid and env_kwarg(str(name)) is None:
        close = difflib.get_close_matches(str(name), valid, n=1)
        hint = f" (did you mean {close[0]!r}?)" if close else ""
        raise ValueError(f"Unknown parameter {name!r} in {where}{hint}; valid parameters: {', '.join(valid)}.")
    shapes = (
        "{distribution: uniform|log_uniform, low: A, high: B}, {distribution: int, low: A, high: B[, step: S]"
        "[, log: true]} or {distribution: categorical, choices: [...]}"
    )
    if not isinstance(spec, dict) or spec.get("distribution") not in DISTRIBUTIONS:
        given = spec.get("distribution") if isinstance(spec, dict) else spec
        raise ValueError(
            f"Bad distribution {given!r} for {name} in {where}; valid distributions: {', '.join(DISTRIBUTIONS)}, "
            f"written as {shapes}."
        )
    kind = spec["distribution"]
    allowed = {"categorical": {"choices"}, "int": {"low", "high", "step", "log"}}.get(kind, {"low", "high"})
    extra = set(spec) - allowed - {"distribution"}
    if extra:
        raise ValueError(
            f"Bad distribution for {name} in {where}: {kind} takes {', '.join(sorted(allowed))}, not "
            f"{', '.join(sorted(extra))}."
        )
    if kind == "categorical":
        choices = spec.get("choices")
        if not isinstance(choices, list) or not choices:
            raise ValueError(f"Bad distribution for {name} in {where}: categorical needs a non-empty choices list.")
        encoded = [encode_choice(choice) for choice in choices]
        if len(set(map(repr, encoded))) != len(encoded):
            raise ValueError(f"Bad distribution for {name} in {where}: its choices {choices} repeat a value.")
        return Parameter(name, kind, choices=tuple(choices))
    low, high = spec.get("low"), spec.get("high")
    numbers = all(isinstance(value, int | float) and not isinstance(value, bool) for value in (low, high))
    if not numbers or not math.isfinite(low) or not math.isfinite(high) or low > high:
        raise ValueError(
            f"Bad distribution for {name} in {where}: {kind} needs numbers low <= high, got low={low!r}, high={high!r}."
        )
    if kind == "log_uniform" and low <= 0:
        raise ValueError(f"Bad distribution for {name} in {where}: log_uniform needs low > 0, got {low!r}.")
    if kind == "int":
        step, log = spec.get("step"), spec.get("log", False)
        if not all(float(value).is_integer() for value in (low, high)) or (
            step is not None and (isinstance(step, bool) or not isinstance(step, int) or step < 1)
        ):
            raise ValueError(f"Bad distribution for {name} in {where}: int needs whole low, high and step >= 1.")
        if not isinstance(log, bool) or (log and (low < 1 or step not in (None, 1))):
            raise ValueError(f"Bad distribution for {name} in {where}: int with log: true needs low >= 1 and no step.")
        return Parameter(name, kind, low=int(low), high=int(high), step=step, log=log)
    return Parameter(name, kind, low=float(low), high=float(high))


def check_grid(space: SearchSpace, trials: int | None) -> None:
    """The grid sampler tries every combination of categorical choices, at most once each."""
    continuous = [item.name for item in space.parameters if item.distribution != "categorical"]
    if continuous:
        raise ValueError(
            f"--sampler grid needs categorical parameters only; {', '.join(continuous)} in {space.source} "
            "are not (give them choices: [...], or use --sampler tpe or random)."
        )
    size = math.prod(len(item.choices) for item in space.parameters)
    if trials is not None and trials > size:
        raise ValueError(f"--trials {trials} exceeds the grid's {size} combinations; pass --trials {size} or fewer.")
