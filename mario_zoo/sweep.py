"""Hyperparameter sweeps and seed matrices on Optuna: ``mario-zoo sweep``, from one laptop to many machines.

Optuna does the work that matters: its samplers (TPE, random) choose the settings, its pruner (median) stops bad
trials on their intermediate evaluations, and its RDB storage (an embedded SQLite file by default, or a
PostgreSQL/MySQL server that several machines join) holds the study, so that rerunning the same command continues
it. A worker killed mid-trial stops sending Optuna's heartbeat; after a grace period another worker marks its trial
failed and Optuna's ``RetryHeartbeatStaleTrialCallback`` (formerly ``RetryFailedTrialCallback``) queues a copy of
it, which the next free worker runs.

What this module adds:

- **Search spaces as data.** ``mario_zoo/hyperparams/dqn_space.yml`` holds one space per preset family (CartPole,
  Mario); :func:`load_space` picks the family whose ``envs`` patterns match the preset's env and checks every
  parameter name (a DQN hyperparameter or ``net_arch``) and distribution.
- **The objective.** A trial trains the preset with the sampled settings for ``steps`` env steps; every
  ``eval_freq`` steps it plays ``eval_episodes`` greedy episodes with :func:`mario_zoo.evaluation.evaluate` (the
  one evaluation protocol) and reports to Optuna the mean return of the last ``steady`` evaluations, so the
  pruner sees the same steady statistic the trial is finally scored by.
- **Exactly N trials.** ``--trials N`` is the study's total. A worker decides whether one more trial is needed
  (counting the running and queued ones) and queues it while holding the study's lock, and Optuna's ``ask`` hands
  queued trials out one each, so parallel workers never overshoot. The lock lives where the study does, so that it
  holds across machines too: a file lock next to a SQLite file, a PostgreSQL advisory lock, a MySQL named lock;
  each is released by the system when its holder dies, even by SIGKILL.
- **Outputs.** ``best.yml`` (a preset file ``mario-zoo train --preset`` takes), ``trials.csv``, Optuna's
  optimisation-history and parameter-importance plots, ``summary.md`` (also printed); for a seed matrix, the
  mean, a 95% bootstrap interval and the per-seed table.

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

import contextlib
import csv
import dataclasses
import difflib
import fcntl
import fnmatch
import hashlib
import io
import itertools
import json
import math
import multiprocessing
import os
import signal
import socket
import statistics
import sys
import time
import warnings
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from importlib.resources import files
from pathlib import Path
from typing import Any

import numpy as np
import optuna
import torch
import yaml
from optuna.trial import TrialState
from tqdm import tqdm

from mario_zoo.agents.actor import die_with_parent
from mario_zoo.agents.config import DQNConfig
from mario_zoo.agents.presets import Preset, load_preset, write_preset_file
from mario_zoo.atomic import write_text
from mario_zoo.callbacks import PeriodicEvaluation
from mario_zoo.compare import parse_seeds
from mario_zoo.reading import parse_yaml, read_yaml
from mario_zoo.runs import EvaluationPoint
from mario_zoo.training import build_model, plan_run

SPACE_FILE = files("mario_zoo").joinpath("hyperparams", "dqn_space.yml")
"""The search spaces ``mario-zoo sweep`` uses unless given ``--space FILE``."""

DISTRIBUTIONS = ("uniform", "log_uniform", "int", "categorical")
"""Distribution names a search-space parameter can have."""

NETWORK_PARAMETER = "net_arch"
"""The one searchable parameter that is not a DQN hyperparameter: the hidden layers (``policy_kwargs``)."""

SAMPLERS = ("tpe", "random", "grid")
PRUNERS = ("median", "none")
STORAGE_SCHEMES = ("sqlite", "postgresql", "mysql")
"""URL schemes of Optuna's RDB storage (drivers may follow a ``+``, e.g. ``postgresql+psycopg``)."""

DEFAULT_STEADY = 3
"""The objective averages this many last periodic evaluations."""

DEFAULT_HEARTBEAT = 20
"""Seconds between a running trial's heartbeats; a trial silent for 3 times as long is failed and retried."""

MAX_RETRY = 3
"""Times a trial whose worker died is retried."""

_FAMILY_KEYS = ("envs", "parameters")
ENV_KWARGS_PREFIX = "env_kwargs."
_POLL_SECONDS = 0.5


# -- search spaces -------------------------------------------------------------------------------------------


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
            picked = trial.suggest_categorical(self.name, [_encode_choice(choice) for choice in self.choices])
            return self.decode(picked)
        if self.distribution == "int":
            return trial.suggest_int(self.name, int(self.low), int(self.high), step=self.step or 1, log=self.log)
        return trial.suggest_float(self.name, self.low, self.high, log=self.distribution == "log_uniform")

    def decode(self, value: Any) -> Any:
        """The setting an Optuna parameter value stands for (a list choice is stored as its YAML text)."""
        lists = {_encode_choice(choice) for choice in self.choices if isinstance(choice, list | dict)}
        return yaml.safe_load(value) if isinstance(value, str) and value in lists else value


def _encode_choice(choice: Any) -> Any:
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


def _env_kwarg(name: str) -> str | None:
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
    if name not in valid and _env_kwarg(str(name)) is None:
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
        encoded = [_encode_choice(choice) for choice in choices]
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


# -- planning ------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class SweepPlan:
    """A validated sweep (see :func:`plan_sweep`); nothing is written until :func:`run_sweep`."""

    preset: Preset
    """The preset the trials start from."""
    preset_ref: str
    """``--preset`` as given: a ``dqn.yml`` name or a preset file's path."""
    space: SearchSpace | None
    """What to search (``None``: a seed matrix)."""
    seeds: tuple[int, ...] | None
    """A seed matrix's seeds (``None``: a search)."""
    trials: int
    """Finished trials the study is to have (a seed matrix: one per seed)."""
    steps: int
    """Env steps per trial."""
    workers: int
    """Worker processes on this machine."""
    storage: str
    """Optuna storage URL."""
    study_name: str
    """Name of the study in the storage."""
    out: Path
    """Output folder."""
    sampler: str = "tpe"
    pruner: str = "median"
    eval_freq: int = 1000
    """Env steps between periodic evaluations."""
    eval_episodes: int = 5
    """Greedy episodes per evaluation."""
    steady: int = DEFAULT_STEADY
    """The objective is the mean of this many last evaluations."""
    seed: int = 0
    """Seed of every search trial's training, and of the sampler."""
    heartbeat: int = DEFAULT_HEARTBEAT
    """Seconds between heartbeats of a running trial."""
    progress: bool = True
    command: tuple[str, ...] = ()
    init_from: str | None = None
    """The agent every trial's network starts from (``--init-from``), or ``None``: a fresh network."""
    init_weights: Mapping[str, torch.Tensor] | None = field(default=None, repr=False, compare=False)
    """That agent's ``policy.state_dict()``."""

    @property
    def settings(self) -> dict[str, Any]:
        """What a study is tied to: continuing it with other values would mix incomparable trials."""
        # The preset's contents, not its path: machines may keep the same best.yml in different folders.
        return _plain(
            {
                "preset": self.preset.name,
                "env_id": self.preset.env_id,
                "env_kwargs": self.preset.env_kwargs,
                "init_from": self.init_from,
                "hyperparameters": self.preset.hyperparameters,
                "policy_kwargs": self.preset.policy_kwargs,
                "steps": self.steps,
                "eval_freq": self.eval_freq,
                "eval_episodes": self.eval_episodes,
                "steady": self.steady,
                "mode": "seeds" if self.seeds is not None else "search",
                "space": None if self.space is None else [dataclasses.asdict(item) for item in self.space.parameters],
            }
        )


def plan_sweep(
    preset: str,
    *,
    trials: int | None = None,
    seeds: str | Sequence[int] | None = None,
    steps: int | None = None,
    workers: int = 1,
    storage: str | None = None,
    study_name: str | None = None,
    out: str | os.PathLike[str] | None = None,
    sampler: str = "tpe",
    pruner: str = "median",
    eval_freq: int | None = None,
    eval_episodes: int = 5,
    steady: int = DEFAULT_STEADY,
    seed: int = 0,
    space: str | os.PathLike[str] | None = None,
    heartbeat: int = DEFAULT_HEARTBEAT,
    progress: bool = True,
    command: Sequence[str] = (),
    init_from: str | None = None,
    init_weights: Mapping[str, torch.Tensor] | None = None,
) -> SweepPlan:
    """Check a sweep's settings, and that its storage is reachable and its study (if any) matches; writes nothing.

    Args:
        preset: a ``dqn.yml`` preset name or the path of a preset file.
        trials: finished trials the study is to have (a search; not with ``seeds``).
        seeds: a seed matrix instead of a search: ``"0-9"``, ``"0,3,5"`` or a sequence of ints.
        steps: env steps per trial (default: the preset's ``n_timesteps``).
        workers: worker processes on this machine.
        storage: an Optuna RDB storage URL (default ``sqlite:///<out>/study.db``).
        study_name: the study's name (default ``<preset>-sweep``, or ``<preset>-seeds`` for a seed matrix).
        out: output folder (default ``sweeps/<study name>``).
        sampler: ``tpe`` or ``random``.
        pruner: ``median`` or ``none``.
        eval_freq: env steps between evaluations (default: a tenth of ``steps``).
        eval_episodes: greedy episodes per evaluation.
        steady: the objective averages this many last evaluations.
        seed: seed of the search trials' training and of the sampler.
        space: a search space file replacing ``dqn_space.yml``.
        heartbeat: seconds between heartbeats; a trial silent for 3 times as long is retried.
        progress: show the progress bar.
        command: the command line, for the summary.
        init_from: the agent every trial's network starts from, for the record and the study's settings.
        init_weights: that agent's ``policy.state_dict()`` (:func:`mario_zoo.training.build_model`).
    """
    chosen = load_preset(preset)
    if (trials is None) == (seeds is None):
        raise ValueError("Pass either trials (a search, --trials N) or seeds (a seed matrix, --seeds 0-9), not both.")
    seed_list = parse_seeds(seeds) if seeds is not None else None
    for name, value, minimum in (
        ("trials", trials, 1),
        ("steps", steps, 1),
        ("workers", workers, 1),
        ("eval_freq", eval_freq, 1),
        ("eval_episodes", eval_episodes, 1),
        ("steady", steady, 1),
        ("seed", seed, 0),
        ("heartbeat", heartbeat, 1),
    ):
        if value is not None and (isinstance(value, bool) or not isinstance(value, int) or value < minimum):
            raise ValueError(f"{name} must be an int >= {minimum}, got {value!r}.")
    if sampler not in SAMPLERS:
        raise ValueError(f"Unknown sampler {sampler!r}; valid samplers: {', '.join(SAMPLERS)}.")
    if pruner not in PRUNERS:
        raise ValueError(f"Unknown pruner {pruner!r}; valid pruners: {', '.join(PRUNERS)}.")
    search_space = load_space(chosen.env_id, space) if seed_list is None else None
    if sampler == "grid" and search_space is not None:
        _check_grid(search_space, trials)
    steps = steps or chosen.n_timesteps
    study_name = study_name or f"{chosen.name}-{'seeds' if seed_list is not None else 'sweep'}"
    out_path = Path(out) if out is not None else Path("sweeps") / study_name
    if out_path.exists() and not out_path.is_dir():
        raise ValueError(f"--out {out_path} exists and is not a folder; choose another --out.")
    url = storage or f"sqlite:///{out_path / 'study.db'}"
    plan = SweepPlan(
        preset=chosen,
        preset_ref=str(preset),
        space=search_space,
        seeds=seed_list,
        trials=len(seed_list) if seed_list is not None else trials,
        steps=steps,
        workers=workers,
        storage=url,
        study_name=study_name,
        out=out_path,
        sampler=sampler,
        pruner=pruner,
        eval_freq=eval_freq or max(steps // 10, 1),
        eval_episodes=eval_episodes,
        steady=steady,
        seed=seed,
        heartbeat=heartbeat,
        progress=progress,
        command=tuple(command),
        init_from=init_from,
        init_weights=init_weights,
    )
    if init_weights is not None:  # a mismatched network fails here, not in every worker
        build_model(
            plan_run(preset=str(preset), steps=1, device="cpu", init_from=init_from), init_weights
        ).get_env().close()
    _check_storage(plan, default=storage is None)
    return plan


def _check_grid(space: SearchSpace, trials: int | None) -> None:
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


def _check_storage(plan: SweepPlan, *, default: bool) -> None:
    """Raise a ``ValueError`` if the storage URL is malformed or unreachable, or holds the study with other
    settings. A SQLite file that does not exist yet is not created."""
    from sqlalchemy.engine import make_url
    from sqlalchemy.exc import ArgumentError

    shown = _shown_url(plan.storage)
    shapes = "sqlite:///path/study.db, postgresql://user:password@host:5432/db or mysql://user@host/db"
    try:
        url = make_url(plan.storage)
    except (ArgumentError, ValueError):
        raise ValueError(f"Malformed --storage URL {shown!r}; expected an Optuna RDB URL such as {shapes}.") from None
    scheme = url.get_backend_name()
    if scheme not in STORAGE_SCHEMES:
        raise ValueError(
            f"Unsupported --storage URL scheme {url.drivername!r} in {shown!r}; valid schemes: "
            f"{', '.join(STORAGE_SCHEMES)} (e.g. {shapes})."
        )
    if scheme == "sqlite":
        if not url.database or url.database == ":memory:":
            raise ValueError(
                f"--storage {shown!r} names no database file; workers share a file: sqlite:///path/study.db."
            )
        database = Path(url.database)
        if not database.exists():
            if not default and not database.parent.is_dir():
                raise ValueError(
                    f"Cannot reach --storage {shown!r}: the folder {database.parent} does not exist; create it first."
                )
            return
    try:
        storage = _open_storage(plan)
    except Exception as error:  # the drivers' errors share no base class: name the cause in one line
        reason = " ".join(str(error).split()) or type(error).__name__
        raise ValueError(f"Cannot reach --storage {shown!r}: {reason[:300]}") from None
    _check_study(plan, storage)


def _check_study(plan: SweepPlan, storage: optuna.storages.BaseStorage) -> None:
    """Raise a ``ValueError`` if the storage holds ``plan``'s study with other settings."""
    try:
        study = optuna.load_study(study_name=plan.study_name, storage=storage)
    except KeyError:
        return
    stored = study.user_attrs.get("settings")
    if stored is not None and _plain(stored) != _plain(plan.settings):
        differ = [key for key in plan.settings if _plain(stored.get(key)) != _plain(plan.settings[key])]
        details = ", ".join(
            f"{key} differ"
            if isinstance(plan.settings[key], dict | list)
            else f"{key} {stored.get(key)!r} (now {plan.settings[key]!r})"
            for key in differ
        )
        raise ValueError(
            f"Study {plan.study_name!r} in {_shown_url(plan.storage)} was started with other settings: {details}. "
            "Rerun with the same settings to continue it, or pass another --study-name."
        )


def _plain(value: Any) -> Any:
    """``value`` as JSON data (tuples become lists), as Optuna's storage keeps it."""
    return json.loads(json.dumps(value))


def _shown_url(url: str) -> str:
    from sqlalchemy.engine import make_url

    with contextlib.suppress(Exception):
        return make_url(url).render_as_string(hide_password=True)
    return url


def _open_storage(plan: SweepPlan) -> optuna.storages.RDBStorage:
    """Optuna's RDB storage with heartbeats and retries of trials whose worker died."""
    from optuna.storages import RDBStorage, RetryHeartbeatStaleTrialCallback

    engine_kwargs: dict[str, Any] = {}
    if plan.storage.startswith("sqlite"):
        # Several processes write one file: wait for the lock instead of failing after SQLite's 5 s.
        engine_kwargs["connect_args"] = {"timeout": 120}
    elif plan.storage.startswith("postgresql"):
        engine_kwargs["connect_args"] = {"connect_timeout": 10}
    # Optuna creates its tables on first use, and two processes doing it at once on a new database collide.
    with warnings.catch_warnings(), _StudyLock(plan, name="mario-zoo sweep tables"):
        warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
        return RDBStorage(
            plan.storage,
            engine_kwargs=engine_kwargs,
            heartbeat_interval=plan.heartbeat,
            grace_period=3 * plan.heartbeat,
            heartbeat_stale_trial_callback=RetryHeartbeatStaleTrialCallback(max_retry=MAX_RETRY),
        )


def _sampler(plan: SweepPlan, stream: int) -> optuna.samplers.BaseSampler:

    seed = int(np.random.SeedSequence([plan.seed, stream]).generate_state(1)[0])
    if plan.sampler in ("random", "grid"):  # grid: the workers queue each point (_next_grid_point)
        return optuna.samplers.RandomSampler(seed=seed)
    return optuna.samplers.TPESampler(seed=seed, n_startup_trials=min(10, max(plan.trials // 3, 1)))


def _pruner(plan: SweepPlan) -> optuna.pruners.BasePruner:

    if plan.pruner == "none":
        return optuna.pruners.NopPruner()
    # Compare trials only once they had a third of their budget, and only against 5 finished ones (rl-zoo's habit).
    return optuna.pruners.MedianPruner(n_startup_trials=5, n_warmup_steps=plan.steps // 3)


def _load_study(plan: SweepPlan, storage: optuna.storages.BaseStorage, stream: int) -> optuna.Study:

    return optuna.create_study(
        study_name=plan.study_name,
        storage=storage,
        sampler=_sampler(plan, stream),
        pruner=_pruner(plan),
        direction="maximize",
        load_if_exists=True,
    )


# -- trials --------------------------------------------------------------------------------------------------


def _trial_settings(plan: SweepPlan, params: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any], dict[str, Any]]:
    """The preset's hyperparameters, network and env kwargs with ``params`` applied."""
    params = dict(params)
    policy_kwargs = dict(plan.preset.policy_kwargs)
    if NETWORK_PARAMETER in params:
        policy_kwargs[NETWORK_PARAMETER] = params.pop(NETWORK_PARAMETER)
    env_kwargs = dict(plan.preset.env_kwargs)
    for name in [name for name in params if _env_kwarg(name) is not None]:
        env_kwargs[_env_kwarg(name)] = params.pop(name)
    return {**plan.preset.hyperparameters, **params}, policy_kwargs, env_kwargs


class _TrialEvaluation(PeriodicEvaluation):
    """The periodic evaluation of ``mario-zoo train`` (no files written) that also reports the steady statistic
    (the mean return of the last ``steady`` evaluations) to the trial and stops training when the pruner says so."""

    def __init__(self, trial: optuna.Trial, plan: SweepPlan, env_kwargs: dict[str, Any]):
        super().__init__(plan.preset.env_id, env_kwargs, eval_freq=plan.eval_freq, n_episodes=plan.eval_episodes)
        self.trial, self.plan = trial, plan
        self.pruned = False

    @property
    def means(self) -> list[float]:
        """Mean return of each evaluation so far."""
        return [point.mean_reward for point in self.history]

    @property
    def steps(self) -> list[int]:
        """The env step of each evaluation so far."""
        return [point.timesteps for point in self.history]

    @property
    def value(self) -> float:
        """The steady statistic so far."""
        return statistics.fmean(self.means[-self.plan.steady :])

    def evaluate(self) -> EvaluationPoint:
        """Evaluate, and report the steady statistic at the current step."""
        point = super().evaluate()
        self.trial.report(self.value, point.timesteps)
        return point

    def _on_step(self) -> bool:
        done = len(self.history)
        super()._on_step()
        if len(self.history) > done:
            self.pruned = self.trial.should_prune()
        return not self.pruned


def _objective(plan: SweepPlan, trial: optuna.Trial, started: Callable[[], None] = lambda: None) -> float:
    """Train one trial's settings and return its steady statistic; raise ``TrialPruned`` when the pruner says so.
    ``started`` is called first."""

    started()
    trial.set_user_attr("host", socket.gethostname())
    trial.set_user_attr("pid", os.getpid())
    if plan.seeds is not None:
        seed, params = trial.suggest_int("seed", 0, 2**31 - 1), {}
    else:
        seed, params = plan.seed, plan.space.sample(trial)
    hyperparameters, policy_kwargs, env_kwargs = _trial_settings(plan, params)
    overrides = {key: value for key, value in hyperparameters.items() if plan.preset.hyperparameters.get(key) != value}
    config = plan_run(
        preset=plan.preset_ref,
        overrides={**overrides, "policy_kwargs": policy_kwargs},
        env_kwargs=env_kwargs,
        init_from=plan.init_from,
        seed=seed,
        steps=plan.steps,
        device="cpu",
        eval_episodes=0,
    )
    began = time.monotonic()
    model = build_model(config, plan.init_weights)
    callback = _TrialEvaluation(trial, plan, config.env_kwargs)
    try:
        model.learn(plan.steps, callback=callback)
        if not callback.pruned and (not callback.steps or callback.steps[-1] < plan.steps):
            callback.evaluate()
    finally:
        model.get_env().close()
    trial.set_user_attr(
        "evaluations", [[step, mean] for step, mean in zip(callback.steps, callback.means, strict=True)]
    )
    trial.set_user_attr("train_seconds", round(time.monotonic() - began, 3))
    if callback.pruned:
        raise optuna.TrialPruned(f"pruned at step {callback.steps[-1]} with {callback.value:.2f}")
    return callback.value


class _StudyLock:
    """The lock every worker of a study takes, on any machine, to decide on a trial and take it from the queue.

    SQLite: ``flock`` on ``<database>.lock``; PostgreSQL: ``pg_advisory_lock``; MySQL: ``GET_LOCK``. The kernel or
    the server releases it when its holder dies, so a killed worker never blocks the others. :meth:`release` may be
    called early (and again): a worker lets go as soon as its trial has started. ``name`` picks another lock than
    the study's (SQLite has one per database file).
    """

    def __init__(self, plan: SweepPlan, name: str | None = None):
        from sqlalchemy.engine import make_url

        url = make_url(plan.storage)
        self.backend = url.get_backend_name()
        self.path = f"{url.database}.lock" if self.backend == "sqlite" else None
        self.url = plan.storage
        self.name = (name or f"mario-zoo sweep {plan.study_name}")[:64]
        self.key = int.from_bytes(hashlib.sha256(self.name.encode()).digest()[:8], "big", signed=True)
        self._held: Any = None

    def acquire(self) -> None:
        """Wait for the lock."""
        import sqlalchemy

        if self.path is not None:
            handle = open(self.path, "a+")  # noqa: SIM115 (held across calls, closed by release())
            fcntl.flock(handle, fcntl.LOCK_EX)
            self._held = handle
            return
        take = {"postgresql": "SELECT pg_advisory_lock(:key)", "mysql": "SELECT GET_LOCK(:name, -1)"}[self.backend]
        connection = sqlalchemy.create_engine(self.url, poolclass=sqlalchemy.pool.NullPool).connect()
        connection.execute(sqlalchemy.text(take), {"key": self.key, "name": self.name})
        self._held = connection

    def release(self) -> None:
        """Let go of the lock if held."""
        import sqlalchemy

        held, self._held = self._held, None
        if held is None:
            return
        if self.path is not None:
            fcntl.flock(held, fcntl.LOCK_UN)
        else:
            free = {"postgresql": "SELECT pg_advisory_unlock(:key)", "mysql": "SELECT RELEASE_LOCK(:name)"}
            held.execute(sqlalchemy.text(free[self.backend]), {"key": self.key, "name": self.name})
        held.close()

    def __enter__(self) -> _StudyLock:
        self.acquire()
        return self

    def __exit__(self, *_: object) -> None:
        self.release()


def _worker(plan: SweepPlan, index: int) -> None:
    """One worker process: run trials until the study has ``plan.trials`` finished ones.

    Holding the study lock, a worker fails stale trials (Optuna queues their retries), counts the trials, queues
    one more if the study needs it, and lets Optuna's ``ask`` take the oldest queued trial; it releases the lock once
    the trial has started, so that no other worker can take the trial it queued or queue one too many.
    """
    die_with_parent(signal.SIGTERM)
    # Workers run side by side: one thread each; small networks gain nothing from more.
    torch.set_num_threads(1)
    optuna.logging.set_verbosity(optuna.logging.ERROR)
    warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
    storage = _open_storage(plan)
    study = _load_study(plan, storage, stream=1 + index + os.getpid())
    lock = _StudyLock(plan)
    while True:
        with lock:
            optuna.storages.fail_stale_trials(study)
            counts = _count(study)
            active = counts["COMPLETE"] + counts["PRUNED"] + counts["RUNNING"] + counts["WAITING"]
            if counts["FAIL_UNRETRIED"] >= max(plan.trials, 3):
                raise RuntimeError(
                    f"{counts['FAIL_UNRETRIED']} trials of study {plan.study_name} failed; their settings may not "
                    "fit together: check the search space."
                )
            run = counts["WAITING"] > 0
            if not run and plan.seeds is None and active < plan.trials:
                params = _next_grid_point(plan, study) if plan.sampler == "grid" else {}
                study.enqueue_trial(params, user_attrs={"queued_by": f"{socket.gethostname()}:{os.getpid()}"})
                run = True
            if run:
                try:
                    study.optimize(
                        lambda trial: _objective(plan, trial, started=lock.release),
                        n_trials=1,
                        catch=(ValueError, TypeError),
                    )
                except optuna.exceptions.UpdateFinishedTrialError:
                    # Our heartbeat came too late: another worker failed the trial and queued its retry. Carry on.
                    continue
        if not run and counts["RUNNING"]:
            # Others are running the last trials; if one dies, its retry will be queued: wait and look again.
            time.sleep(_POLL_SECONDS)
        elif not run:
            return


def _next_grid_point(plan: SweepPlan, study: optuna.Study) -> dict[str, Any]:
    """``--sampler grid``: the first combination of choices (in the space file's order) no live or finished trial
    holds. Workers queue it under the study lock, so each combination runs once (a failed one is retried)."""
    assert plan.space is not None
    names = plan.space.names
    live = (TrialState.COMPLETE, TrialState.PRUNED, TrialState.RUNNING, TrialState.WAITING)
    taken = {
        tuple(repr(trial.params.get(name, trial.system_attrs.get("fixed_params", {}).get(name))) for name in names)
        for trial in study.get_trials(deepcopy=False, states=live)
    }
    grid = itertools.product(*([_encode_choice(choice) for choice in item.choices] for item in plan.space.parameters))
    point = next(point for point in grid if tuple(map(repr, point)) not in taken)
    return dict(zip(names, point, strict=True))


def _count(study: optuna.Study) -> dict[str, int]:
    """Trials per state; ``FAIL_UNRETRIED``: failed trials no retry was queued for (their settings raised, or
    their worker died more than ``MAX_RETRY`` times)."""
    counts = {"COMPLETE": 0, "PRUNED": 0, "RUNNING": 0, "WAITING": 0, "FAIL": 0}
    trials = study.get_trials(deepcopy=False)
    retried = {trial.system_attrs["failed_trial"] for trial in trials if "failed_trial" in trial.system_attrs}
    for trial in trials:
        counts[trial.state.name] += 1
    counts["FAIL_UNRETRIED"] = sum(trial.state.name == "FAIL" and trial.number not in retried for trial in trials)
    return counts


# -- running -------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class SweepResult:
    """What a sweep left in its folder."""

    plan: SweepPlan
    summary: str
    """The markdown summary (also in ``summary.md``)."""
    files: tuple[Path, ...]
    """Everything written, ``summary.md`` last."""
    complete: bool
    """Whether the study has ``plan.trials`` finished trials."""
    seconds: float
    """Wall time of this invocation."""
    worker_exits: tuple[int, ...]
    """Exit code of each worker (negative: killed by that signal)."""


def run_sweep(plan: SweepPlan) -> SweepResult:
    """Run ``plan``'s workers until the study has ``plan.trials`` finished trials, then write the outputs."""
    started = time.monotonic()
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    plan.out.mkdir(parents=True, exist_ok=True)
    storage = _open_storage(plan)
    study = _load_study(plan, storage, stream=0)
    if "settings" not in study.user_attrs:
        study.set_user_attr("settings", _plain(plan.settings))
    if plan.seeds is not None:
        _queue_seeds(plan, study)
    # Workers fork from a server that has imported torch, SB3 and Optuna once: starting one costs milliseconds.
    context = multiprocessing.get_context("forkserver")
    context.set_forkserver_preload([__name__])
    # Not daemons: a worker's trial may start actor processes (Mario presets), which daemons may not. A worker gets
    # SIGTERM when its parent, the fork server, dies (it exits with this process), and is stopped below when this
    # one fails.
    workers = [context.Process(target=_worker, args=(plan, index), daemon=False) for index in range(plan.workers)]
    for worker in workers:
        worker.start()
    try:
        _watch(plan, study, workers)
    except BaseException:
        for worker in workers:
            if worker.is_alive():
                os.kill(worker.pid, signal.SIGTERM)
        raise
    exits = tuple(worker.exitcode for worker in workers)
    counts = _count(study)
    complete = counts["COMPLETE"] + counts["PRUNED"] >= plan.trials
    files, summary = _write_outputs(plan, study, time.monotonic() - started, exits, complete)
    return SweepResult(plan, summary, files, complete, time.monotonic() - started, exits)


def _queue_seeds(plan: SweepPlan, study: optuna.Study) -> None:
    """Queue one trial per seed the study has not run or queued yet."""
    with _StudyLock(plan):
        present = {
            trial.params.get("seed", trial.system_attrs.get("fixed_params", {}).get("seed"))
            for trial in study.get_trials(deepcopy=False)
            if trial.state.name != "FAIL"
        }
        for seed in plan.seeds:
            if seed not in present:
                study.enqueue_trial({"seed": seed})


def _watch(plan: SweepPlan, study: optuna.Study, workers: list[multiprocessing.process.BaseProcess]) -> None:
    """Wait for the workers, drawing a bar of finished trials (running, pruned, failed, best so far)."""
    bar = tqdm(total=plan.trials, desc=plan.study_name, unit="trial", file=sys.stderr, disable=not plan.progress)
    reported: set[int] = set()
    try:
        while True:
            alive = [worker for worker in workers if worker.is_alive()]
            for number, worker in enumerate(workers):
                if not worker.is_alive() and worker.exitcode and number not in reported:
                    reported.add(number)
                    retry = (
                        f"the others retry its trial after {3 * plan.heartbeat} s without a heartbeat"
                        if worker.exitcode < 0
                        else "its error is above"
                    )
                    bar.write(
                        f"mario-zoo sweep: worker {number} (pid {worker.pid}) {_exit_text(worker.exitcode)}; {retry}.",
                        file=sys.stderr,
                    )
            if plan.progress:
                counts = _count(study)
                finished = counts["COMPLETE"] + counts["PRUNED"]
                best = _best_value(study)
                bar.set_postfix_str(
                    f"running={counts['RUNNING']}, pruned={counts['PRUNED']}, failed={counts['FAIL']}, "
                    f"best={'-' if best is None else f'{best:.2f}'}",
                    refresh=False,
                )
                bar.update(min(finished, plan.trials) - bar.n)
            if not alive:
                return
            alive[0].join(_POLL_SECONDS)
    finally:
        bar.close()


def _exit_text(code: int) -> str:
    if code < 0:
        return f"was killed by {signal.Signals(-code).name}"
    return f"exited with code {code}"


def _best_value(study: optuna.Study) -> float | None:
    values = [trial.value for trial in study.get_trials(deepcopy=False) if trial.state.name == "COMPLETE"]
    return max(values) if values else None


# -- outputs -------------------------------------------------------------------------------------------------


def _write_outputs(
    plan: SweepPlan, study: optuna.Study, seconds: float, exits: tuple[int, ...], complete: bool
) -> tuple[tuple[Path, ...], str]:
    trials = study.get_trials(deepcopy=False)
    files = [_write_trials_csv(plan.out / "trials.csv", trials)]
    if plan.seeds is None:
        best = _best_trial(trials)
        if best is not None:
            files.append(plan.out / "best.yml")
            write_preset_file(best_preset(plan, best.params, best.value, best.number), files[-1])
        files += _write_plots(plan, study)
        summary = search_summary(plan, trials, seconds, exits, complete, files)
    else:
        summary = seeds_summary(plan, trials, seconds, exits, complete)
    files.append(plan.out / "summary.md")
    write_text(files[-1], summary)
    return tuple(files), summary


def _best_trial(trials: Sequence[optuna.trial.FrozenTrial]) -> optuna.trial.FrozenTrial | None:
    done = [trial for trial in trials if trial.state.name == "COMPLETE"]
    return max(done, key=lambda trial: (trial.value, -trial.number)) if done else None


def best_preset(plan: SweepPlan, params: dict[str, Any], value: float, number: int) -> Preset:
    """The preset ``best.yml`` holds: the sweep's preset with trial ``number``'s settings, tuned for ``plan.steps``."""
    known = plan.space.names if plan.space is not None else ()
    decoded = {name: plan.space[name].decode(raw) if name in known else raw for name, raw in params.items()}
    hyperparameters, policy_kwargs, env_kwargs = _trial_settings(plan, decoded)
    return Preset(
        name=f"{plan.preset.name}-sweep",
        description=(
            f"Best of study {plan.study_name} (trial {number}, steady return {value:.2f}): {plan.preset.name} tuned "
            f"on {plan.preset.env_id} for {plan.steps:,} steps by mario-zoo sweep."
        ),
        env_id=plan.preset.env_id,
        policy=plan.preset.policy,
        n_timesteps=plan.steps,
        hyperparameters=hyperparameters,
        policy_kwargs=policy_kwargs,
        env_kwargs=env_kwargs,
    )


def _write_trials_csv(path: Path, trials: Sequence[optuna.trial.FrozenTrial]) -> Path:
    names = sorted({name for trial in trials for name in trial.params})
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(["number", "state", "value", "duration_seconds", "retry_of", *names])
    for trial in trials:
        duration = trial.duration.total_seconds() if trial.duration is not None else ""
        writer.writerow(
            [
                trial.number,
                trial.state.name,
                "" if trial.value is None else trial.value,
                duration,
                trial.system_attrs.get("failed_trial", ""),
                *[trial.params.get(name, "") for name in names],
            ]
        )
    return write_text(path, buffer.getvalue())


def _write_plots(plan: SweepPlan, study: optuna.Study) -> list[Path]:
    """Optuna's matplotlib plots; parameter importances need two complete trials with different settings."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from optuna.visualization import matplotlib as plots

    written = []
    with warnings.catch_warnings():
        # Experimental-API notices, and the importance evaluator's notes on tiny studies: not the user's business.
        warnings.simplefilter("ignore")
        for name, plot in (
            ("optimization_history.png", plots.plot_optimization_history),
            ("param_importances.png", plots.plot_param_importances),
        ):
            try:
                axes = plot(study)
            except (ValueError, RuntimeError, ZeroDivisionError):
                continue
            figure = axes.figure
            figure.set_size_inches(8, 5)
            figure.tight_layout()
            figure.savefig(plan.out / name, dpi=100)
            plt.close(figure)
            written.append(plan.out / name)
    return written


def _states_text(trials: Sequence[optuna.trial.FrozenTrial]) -> str:
    counts: dict[str, int] = {}
    for trial in trials:
        counts[trial.state.name.lower()] = counts.get(trial.state.name.lower(), 0) + 1
    return ", ".join(f"{count} {state}" for state, count in sorted(counts.items()))


def _objective_text(plan: SweepPlan) -> str:
    return (
        f"mean greedy return of the last {plan.steady} evaluations ({plan.eval_episodes} episodes every "
        f"{plan.eval_freq:,} steps, mario_zoo.evaluation.evaluate), after {plan.steps:,} training steps"
    )


def _ending(complete: bool, exits: tuple[int, ...], plan: SweepPlan) -> list[str]:
    lines = []
    killed = [f"worker {number} {_exit_text(code)}" for number, code in enumerate(exits) if code]
    if killed:
        lines.append(f"Workers that did not finish cleanly: {'; '.join(killed)}.")
    if not complete:
        lines.append(f"The study is not complete ({plan.trials} trials asked); rerun the same command to continue it.")
    return lines


def search_summary(
    plan: SweepPlan,
    trials: Sequence[optuna.trial.FrozenTrial],
    seconds: float,
    exits: tuple[int, ...],
    complete: bool,
    files: Sequence[Path],
) -> str:
    """The markdown summary of a search: the study, the best trial against the preset, the top trials."""
    best = _best_trial(trials)
    lines = [
        f"# Sweep {plan.study_name}: preset {plan.preset.name} on {plan.preset.env_id}",
        "",
        f"- storage: {_shown_url(plan.storage)}",
        f"- trials: {_states_text(trials)} (target {plan.trials} finished; sampler {plan.sampler}, pruner "
        f"{plan.pruner}, {plan.workers} worker(s) here, {seconds:,.0f} s)",
        f"- objective: {_objective_text(plan)}",
        f"- command: {' '.join(plan.command) or '(library call)'}",
        "",
    ]
    if best is None:
        lines.append("No trial completed, so there is no best.yml.")
    else:
        lines += [
            f"## Best: trial {best.number}, value {best.value:.2f}",
            "",
            "| parameter | best | preset |",
            "|---|---|---|",
        ]
        hyperparameters, policy_kwargs = plan.preset.hyperparameters, plan.preset.policy_kwargs
        for name, value in best.params.items():
            if name == NETWORK_PARAMETER:
                was = policy_kwargs.get(name)
            elif _env_kwarg(name) is not None:
                was = plan.preset.env_kwargs.get(_env_kwarg(name), "(env default)")
            else:
                was = hyperparameters.get(name, getattr(DQNConfig(), name, None))
            lines.append(f"| {name} | {_cell(value)} | {_cell(was)} |")
        lines += ["", "## Top trials", "", "| trial | value | state | seconds |", "|---|---|---|---|"]
        ranked = sorted((trial for trial in trials if trial.value is not None), key=lambda trial: -trial.value)
        for trial in ranked[:5]:
            duration = trial.duration.total_seconds() if trial.duration is not None else float("nan")
            lines.append(f"| {trial.number} | {trial.value:.2f} | {trial.state.name.lower()} | {duration:.1f} |")
        lines += ["", f"Train with it: `mario-zoo train --preset {plan.out / 'best.yml'}`"]
    lines += ["", "Files: " + ", ".join(str(path) for path in files)]
    lines += _ending(complete, exits, plan)
    return "\n".join(lines) + "\n"


def _cell(value: Any) -> str:
    return f"{value:.4g}" if isinstance(value, float) else str(value)


def bootstrap_interval(
    values: Sequence[float], *, confidence: float = 0.95, resamples: int = 10_000
) -> tuple[float, float] | None:
    """A percentile bootstrap interval of the mean of ``values`` (``None`` for fewer than two values).

    Example:
        >>> low, high = bootstrap_interval([10.0, 12.0, 11.0, 13.0, 9.0])
        >>> 9.0 <= low < 11.0 < high <= 13.0
        True
    """
    if len(values) < 2:
        return None
    rng = np.random.default_rng(0)
    data = np.asarray(values, dtype=float)
    means = data[rng.integers(0, len(data), size=(resamples, len(data)))].mean(axis=1)
    tail = (1 - confidence) / 2
    return float(np.quantile(means, tail)), float(np.quantile(means, 1 - tail))


def seeds_summary(
    plan: SweepPlan,
    trials: Sequence[optuna.trial.FrozenTrial],
    seconds: float,
    exits: tuple[int, ...],
    complete: bool,
) -> str:
    """The markdown summary of a seed matrix: the mean over seeds, its 95% interval, and each seed's value."""
    by_seed = {
        trial.params["seed"]: trial
        for trial in trials
        if trial.state.name == "COMPLETE" and trial.params.get("seed") in plan.seeds
    }
    values = [by_seed[seed].value for seed in plan.seeds if seed in by_seed]
    interval = bootstrap_interval(values)
    lines = [
        f"# Seed matrix {plan.study_name}: preset {plan.preset.name} on {plan.preset.env_id}",
        "",
        f"- storage: {_shown_url(plan.storage)}",
        f"- seeds: {len(values)} of {len(plan.seeds)} finished ({plan.workers} worker(s) here, {seconds:,.0f} s)",
        f"- value: {_objective_text(plan)}",
        f"- command: {' '.join(plan.command) or '(library call)'}",
        "",
    ]
    if values:
        spread = f", std {statistics.pstdev(values):.2f}" if len(values) > 1 else ""
        ci = f"[{interval[0]:.2f}, {interval[1]:.2f}]" if interval else "n/a (one seed)"
        lines += [
            f"**mean {statistics.fmean(values):.2f}, 95% bootstrap interval {ci}{spread}, over {len(values)} seeds**",
            "",
        ]
    lines += ["| seed | value | seconds |", "|---|---|---|"]
    for seed in plan.seeds:
        trial = by_seed.get(seed)
        if trial is None:
            lines.append(f"| {seed} | not finished | |")
        else:
            lines.append(f"| {seed} | {trial.value:.2f} | {trial.duration.total_seconds():.1f} |")
    lines += _ending(complete, exits, plan)
    return "\n".join(lines) + "\n"
