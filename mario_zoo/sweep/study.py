"""Every touch of Optuna's storage: check a URL, open the storage (creating its tables under a lock), load or
create a study with its sampler and pruner, tie the study to its settings, count its trials.

Functions here take plain values (a URL, a study name, seconds between heartbeats, a number of retries), never a
sweep plan, so that :mod:`~mario_zoo.sweep.plan` can check a storage and :mod:`~mario_zoo.sweep.worker` can run
on one. A worker killed mid-trial stops sending Optuna's heartbeat; after ``3 * heartbeat`` seconds another worker
marks its trial failed and Optuna's ``RetryHeartbeatStaleTrialCallback`` queues a copy of it.

Example:
    >>> shown_url("postgresql://user:secret@db.example:5432/studies")
    'postgresql://user:***@db.example:5432/studies'
    >>> check_storage("redis://localhost/0", study_name="s", settings={}, heartbeat=20)  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    ValueError: Unsupported --storage URL scheme 'redis' in 'redis://localhost/0'; valid schemes: sqlite, ...
"""

from __future__ import annotations

import contextlib
import json
import warnings
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np
import optuna

from mario_zoo.extras import require
from mario_zoo.sweep.lock import StudyLock

STORAGE_SCHEMES = ("sqlite", "postgresql", "mysql")
"""URL schemes of Optuna's RDB storage (drivers may follow a ``+``, e.g. ``postgresql+psycopg``)."""

DEFAULT_HEARTBEAT = 20
"""Seconds between a running trial's heartbeats; a trial silent for 3 times as long is failed and retried."""

MAX_RETRY = 3
"""Times a trial whose worker died is retried."""

_URL_SHAPES = "sqlite:///path/study.db, postgresql://user:password@host:5432/db or mysql://user@host/db"


def study_lock(url: str, study_name: str) -> StudyLock:
    """The lock the workers of study ``study_name`` take to decide on a trial and take it from the queue."""
    return StudyLock(url, f"mario-zoo sweep {study_name}")


def check_storage(
    url: str, *, study_name: str, settings: Mapping[str, Any], heartbeat: int, default: bool = False
) -> None:
    """Raise a ``ValueError`` if ``url`` is malformed or unreachable, or holds study ``study_name`` with other
    ``settings``. A SQLite file that does not exist yet is not created (nor is its folder, unless ``default``: the
    sweep creates its own output folder)."""
    from sqlalchemy.engine import make_url
    from sqlalchemy.exc import ArgumentError

    shown = shown_url(url)
    try:
        parsed = make_url(url)
    except (ArgumentError, ValueError):
        raise ValueError(
            f"Malformed --storage URL {shown!r}; expected an Optuna RDB URL such as {_URL_SHAPES}."
        ) from None
    scheme = parsed.get_backend_name()
    if scheme not in STORAGE_SCHEMES:
        raise ValueError(
            f"Unsupported --storage URL scheme {parsed.drivername!r} in {shown!r}; valid schemes: "
            f"{', '.join(STORAGE_SCHEMES)} (e.g. {_URL_SHAPES})."
        )
    if scheme == "sqlite":
        if not parsed.database or parsed.database == ":memory:":
            raise ValueError(
                f"--storage {shown!r} names no database file; workers share a file: sqlite:///path/study.db."
            )
        database = Path(parsed.database)
        if not database.exists():
            if not default and not database.parent.is_dir():
                raise ValueError(
                    f"Cannot reach --storage {shown!r}: the folder {database.parent} does not exist; create it first."
                )
            return
    try:
        storage = open_storage(url, heartbeat=heartbeat)
    except Exception as error:  # the drivers' errors share no base class: name the cause in one line
        reason = " ".join(str(error).split()) or type(error).__name__
        raise ValueError(f"Cannot reach --storage {shown!r}: {reason[:300]}") from None
    _check_settings(storage, url, study_name, settings)


def _check_settings(
    storage: optuna.storages.BaseStorage, url: str, study_name: str, settings: Mapping[str, Any]
) -> None:
    """Raise a ``ValueError`` if ``storage`` holds study ``study_name`` with other ``settings``."""
    try:
        study = optuna.load_study(study_name=study_name, storage=storage)
    except KeyError:
        return
    stored = study.user_attrs.get("settings")
    if stored is not None and plain(stored) != plain(settings):
        keys = list(settings) + [key for key in stored if key not in settings]
        differ = [key for key in keys if plain(stored.get(key)) != plain(settings.get(key))]
        details = ", ".join(
            f"{key} differ"
            if isinstance(settings.get(key), dict | list)
            else f"{key} {stored.get(key)!r} (now {settings.get(key)!r})"
            for key in differ
        )
        raise ValueError(
            f"Study {study_name!r} in {shown_url(url)} was started with other settings: {details}. "
            "Rerun with the same settings to continue it, or pass another --study-name."
        )


def plain(value: Any) -> Any:
    """``value`` as JSON data (tuples become lists), as Optuna's storage keeps it.

    Example:
        >>> plain({"net_arch": (64, 64)})
        {'net_arch': [64, 64]}
    """
    return json.loads(json.dumps(value))


def shown_url(url: str) -> str:
    """``url`` with its password hidden, for messages and summaries."""
    from sqlalchemy.engine import make_url

    with contextlib.suppress(Exception):
        return make_url(url).render_as_string(hide_password=True)
    return url


def open_storage(url: str, *, heartbeat: int, max_retry: int = MAX_RETRY) -> optuna.storages.RDBStorage:
    """Optuna's RDB storage at ``url``, with a heartbeat every ``heartbeat`` seconds and up to ``max_retry`` retries
    of a trial whose worker died (silent for ``3 * heartbeat`` seconds)."""
    from optuna.storages import RDBStorage, RetryHeartbeatStaleTrialCallback

    engine_kwargs: dict[str, Any] = {}
    if url.startswith("sqlite"):
        # Several processes write one file: wait for the lock instead of failing after SQLite's 5 s.
        engine_kwargs["connect_args"] = {"timeout": 120}
    elif url.startswith("postgresql"):
        require("psycopg", "postgres", "a PostgreSQL study")
        engine_kwargs["connect_args"] = {"connect_timeout": 10}
    # Optuna creates its tables on first use, and two processes doing it at once on a new database collide.
    with warnings.catch_warnings(), StudyLock(url, "mario-zoo sweep tables"):
        warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
        return RDBStorage(
            url,
            engine_kwargs=engine_kwargs,
            heartbeat_interval=heartbeat,
            grace_period=3 * heartbeat,
            heartbeat_stale_trial_callback=RetryHeartbeatStaleTrialCallback(max_retry=max_retry),
        )


def make_sampler(kind: str, *, seed: int, stream: int, trials: int) -> optuna.samplers.BaseSampler:
    """The sampler of one process (``stream``) of a study of ``trials`` trials: ``tpe``, ``random`` or ``grid``
    (a random sampler: the workers queue each grid point themselves)."""
    stream_seed = int(np.random.SeedSequence([seed, stream]).generate_state(1)[0])
    if kind in ("random", "grid"):
        return optuna.samplers.RandomSampler(seed=stream_seed)
    return optuna.samplers.TPESampler(seed=stream_seed, n_startup_trials=min(10, max(trials // 3, 1)))


def make_pruner(kind: str, *, steps: int) -> optuna.pruners.BasePruner:
    """``median`` or ``none``, for trials of ``steps`` env steps."""
    if kind == "none":
        return optuna.pruners.NopPruner()
    # Compare trials only once they had a third of their budget, and only against 5 finished ones (rl-zoo's habit).
    return optuna.pruners.MedianPruner(n_startup_trials=5, n_warmup_steps=steps // 3)


def load_study(
    storage: optuna.storages.BaseStorage,
    study_name: str,
    *,
    sampler: optuna.samplers.BaseSampler,
    pruner: optuna.pruners.BasePruner,
) -> optuna.Study:
    """Study ``study_name`` in ``storage`` (created if new), maximising its trials' values."""
    return optuna.create_study(
        study_name=study_name,
        storage=storage,
        sampler=sampler,
        pruner=pruner,
        direction="maximize",
        load_if_exists=True,
    )


def tie_settings(study: optuna.Study, settings: Mapping[str, Any]) -> None:
    """Record what ``study`` is tied to, once: the first invocation's ``settings``."""
    if "settings" not in study.user_attrs:
        study.set_user_attr("settings", plain(settings))


def count_trials(study: optuna.Study) -> dict[str, int]:
    """Trials per state; ``FAIL_UNRETRIED``: failed trials no retry was queued for (their settings raised, or
    their worker died more than ``MAX_RETRY`` times)."""
    counts = {"COMPLETE": 0, "PRUNED": 0, "RUNNING": 0, "WAITING": 0, "FAIL": 0}
    trials = study.get_trials(deepcopy=False)
    retried = {trial.system_attrs["failed_trial"] for trial in trials if "failed_trial" in trial.system_attrs}
    for trial in trials:
        counts[trial.state.name] += 1
    counts["FAIL_UNRETRIED"] = sum(trial.state.name == "FAIL" and trial.number not in retried for trial in trials)
    return counts
