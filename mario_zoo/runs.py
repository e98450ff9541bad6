"""Run folders: where ``mario-zoo train`` writes everything about one training run, and how it is read back.

::

    runs/<env>_dqn_s<seed>_<YYYYmmdd-HHMMSS>/
        run.json            what the run was asked to do (env, preset, hyperparameters, seed, step target,
                            status): all that ``mario-zoo train --resume`` needs
        checkpoint.zip      the latest training state (weights, optimizer, counters; with ``--save-replay`` the
                            replay buffer and RNG states), replaced atomically
        model/              the final agent, a checkpoint directory (config.json, model.safetensors)
        monitor.csv         one row per training episode: return ``r``, length ``l``, seconds ``t`` (SB3 Monitor;
                            Mario runs add the final ``x_pos`` and ``flag_get``)
        progress.csv        SB3 logger rows (rollout/ep_rew_mean, rollout/exploration_rate, train/loss, ...)
        tensorboard/        the same logs for ``tensorboard --logdir runs``
        results.json        the final evaluation (mean/std return, per-episode numbers, protocol)
        evaluations.csv     with ``--eval-freq``: one row per periodic evaluation (timesteps, then its statistics
                            under their names in :mod:`mario_zoo.results`: mean/std return, mean length; Mario:
                            flag rate, mean/max furthest x_pos)
        best_model/         with ``--eval-freq``: the agent of the best periodic evaluation, a checkpoint directory
        snapshots/          with ``--snapshot-freq``: the agent every N steps (``step-000050000/``, ...), checkpoint
                            directories kept to choose among later (``mario-zoo evaluate runs/NAME/snapshots/*``)
        snapshot_evaluations.csv  the snapshots' evaluations under the run's protocol, recorded by ``mario-zoo
                            evaluate`` (:mod:`mario_zoo.snapshots`), with ``snapshot_evaluations.lock``
        frontier.json       Mario runs with frontier starts: the game states they start from, as the inputs that
                            reach them (:mod:`mario_zoo.envs.frontier_archive`), so that ``--resume`` starts where
                            the stopped run had got; with ``frontier.json.lock``
        learning_curve.png  episode return and its 100-episode mean (with ``--eval-freq``, a second panel: the
                            periodic evaluations)
        run.lock            held (an OS file lock, :mod:`mario_zoo.run_lock`) by the process training the run, so
                            that a second one refuses; the lock dies with its process, so a killed run never blocks
                            its ``--resume``
        run.pid             while the lock is held: the pid of the process holding it, for the refusal message

Example:
    >>> import tempfile
    >>> run = RunFolder(Path(tempfile.mkdtemp()) / "cartpole")
    >>> run.write_config(RunConfig(env_id="CartPole-v1", preset="cartpole-fast", policy="MlpPolicy",
    ...                            total_timesteps=1000, seed=0))
    >>> open_run(run.path).read_config().total_timesteps
    1000
    >>> run.episodes().returns.size  # no episode finished yet
    0
"""

from __future__ import annotations

import csv
import dataclasses
import io
import json
import math
import os
import re
import shutil
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np

from mario_zoo.agents.config import DQNConfig
from mario_zoo.atomic import write_text
from mario_zoo.evaluation_log import EVALUATION_COLUMNS as EVALUATION_COLUMNS  # evaluations.csv's, also from here
from mario_zoo.evaluation_log import EvaluationPoint as EvaluationPoint
from mario_zoo.evaluation_log import evaluations_text
from mario_zoo.evaluation_log import read_evaluations as read_evaluations
from mario_zoo.evaluation_log import write_evaluations as write_evaluations
from mario_zoo.reading import read_bytes, read_json
from mario_zoo.run_lock import RunInUseError as RunInUseError  # the lock's names, where they were first
from mario_zoo.run_lock import check_not_in_use as check_not_in_use
from mario_zoo.run_lock import lock_run as lock_run

RUN_FORMAT_VERSION = 2
"""Bumped whenever an older mario-zoo could misread a newer ``run.json`` (2: every hyperparameter, not only changes)."""

RUNS_DIR = Path("runs")
"""Where runs go unless ``--out`` says otherwise (relative to the working directory)."""

MAX_RUN_JSON_BYTES = 2**20
"""Size limit of ``run.json`` (a few KB when mario-zoo writes it)."""

RUN_STATUSES = ("running", "interrupted", "finished")

RUN_POLICIES = ("MlpPolicy", "CnnPolicy", "DuelingMlpPolicy", "DuelingCnnPolicy")
"""The policy names a run trains (``DQN``'s, :data:`mario_zoo.agents.sb3_options.POLICY_ALIASES`; spelt out here so
that reading ``run.json`` imports no torch)."""
"""The values of ``run.json``'s ``status``."""

RUN_PROTOCOLS = ("noop-sweep", "nature", "episodes")
"""The names of :data:`mario_zoo.evaluation.PROTOCOLS`, spelt out so that reading a run folder does not import torch
(a test checks that they agree)."""


@dataclass(frozen=True)
class RunConfig:
    """The contents of ``run.json``: what a training run was asked to do."""

    env_id: str
    """Gymnasium ID trained on."""
    preset: str
    """Name of the ``dqn.yml`` preset the hyperparameters start from."""
    policy: str
    """Policy name passed to the DQN constructor."""
    total_timesteps: int
    """Step target of the whole run (a resumed run trains until it is reached)."""
    seed: int
    """Seed of the model, the env and exploration."""
    device: str = "auto"
    """Torch device asked for."""
    hyperparameters: DQNConfig = field(default_factory=DQNConfig)
    """The DQN's settings: the preset's, with the ``--hp`` overrides applied (all of them in the file)."""
    policy_kwargs: dict[str, Any] = field(default_factory=dict)
    """Network options: the preset's, with a ``--hp policy_kwargs=...`` override applied."""
    env_kwargs: dict[str, Any] = field(default_factory=dict)
    """``gym.make`` keyword arguments of the training env."""
    overrides: dict[str, Any] = field(default_factory=dict)
    """The ``--hp`` overrides as given, for the record."""
    save_freq: int = 10_000
    """Env steps between checkpoints."""
    save_replay: bool = False
    """Checkpoints also hold the replay buffer and every RNG state, for a lossless ``--resume``."""
    eval_episodes: int = 10
    """Episodes of the final evaluation (0 = none), and of each periodic one."""
    eval_freq: int | None = None
    """Env steps between periodic evaluations (``None``: none)."""
    eval_protocol: str | None = None
    """Protocol of the periodic and final evaluations (``None``: the env's default, Mario's no-op sweep)."""
    snapshot_freq: int | None = None
    """Env steps between snapshots, agents kept in ``snapshots/`` to choose among later (``None``: none)."""
    command: list[str] = field(default_factory=list)
    """The command line that started the run."""
    init_from: str | None = None
    """The agent whose network weights the run started from (``--init-from``: a warm start), or ``None``."""
    frontier_from: str | None = None
    """The frontier archive the run's frontier starts began with (``--frontier-from``), or ``None``."""
    created: str = field(default_factory=lambda: datetime.now(UTC).isoformat(timespec="seconds"))
    """When the run started (UTC, ISO 8601)."""
    status: str = "running"
    """``"running"`` (or killed), ``"interrupted"`` (Ctrl-C, checkpoint saved) or ``"finished"``."""
    format_version: int = RUN_FORMAT_VERSION
    """Version of this file's layout."""

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready data, every hyperparameter included (:meth:`DQNConfig.to_dict`)."""
        return {**dataclasses.asdict(self), "hyperparameters": self.hyperparameters.to_dict()}

    @classmethod
    def from_dict(cls, data: Any, source: str = "run.json") -> RunConfig:
        """Inverse of :meth:`to_dict`; refuses files written by a newer mario-zoo, and any field of the wrong type
        or outside its range with a ``ValueError`` naming ``source`` and the field; the hyperparameters become a
        :class:`DQNConfig` here, checked once.

        Example:
            >>> RunConfig.from_dict({"env_id": "CartPole-v1", "preset": "cartpole-fast", "policy": "MlpPolicy",
            ...                      "total_timesteps": "many", "seed": 0, "format_version": 1})
            Traceback (most recent call last):
            ...
            ValueError: run.json has an invalid total_timesteps: expected an int >= 1, got 'many'. The file is damaged; restore it, or start a new run.
        """
        if not isinstance(data, dict):
            raise ValueError(
                f"{source} must hold a JSON object of run settings, found a {type(data).__name__}. The file is "
                "damaged; restore it, or start a new run."
            )
        version = data.get("format_version")
        if isinstance(version, bool) or not isinstance(version, int) or version > RUN_FORMAT_VERSION:
            raise ValueError(
                f"{source} has format_version {version!r}; this mario-zoo reads versions <= {RUN_FORMAT_VERSION}. "
                "Upgrade mario-zoo (pip install -U mario-zoo) to resume this run."
            )
        missing = [name for name in ("env_id", "preset", "policy", "total_timesteps", "seed") if name not in data]
        if missing:
            raise ValueError(
                f"{source} lacks {', '.join(missing)}; the file is damaged. Restore it, or start a new run."
            )
        known = {item.name for item in dataclasses.fields(cls)}
        unknown = sorted(str(key) for key in data if key not in known)
        if unknown:
            raise ValueError(
                f"{source} has unknown fields {unknown} (valid: {', '.join(sorted(known))}). The file is damaged; "
                "restore it, or start a new run."
            )
        # Version 1 wrote only the hyperparameters that differ from the defaults (unchanged since): from_dict below
        # fills in the others, and the run's next write is in the current version.
        values = {**{key: value for key, value in data.items() if key in known}, "format_version": RUN_FORMAT_VERSION}
        for name, value in values.items():
            expected = _check_field(name, value)
            if expected is not None:
                raise ValueError(
                    f"{source} has an invalid {name}: expected {expected}, got {value!r}. The file is damaged; "
                    "restore it, or start a new run."
                )
        try:
            values["hyperparameters"] = DQNConfig.from_dict(values.get("hyperparameters", {}))
        except (TypeError, ValueError) as error:
            raise ValueError(
                f"{source} has invalid hyperparameters: {error} The file is damaged; restore it, or start a new run."
            ) from None
        return cls(**values)


def _check_field(name: str, value: Any) -> str | None:
    """What a ``run.json`` field should be, if ``value`` is not that; ``None`` if it is fine.

    Example:
        >>> _check_field("seed", -1), _check_field("eval_freq", None), _check_field("status", "paused")
        ('an int >= 0 and below 2**32', None, "one of ('running', 'interrupted', 'finished')")
    """
    minimums = {"total_timesteps": 1, "seed": 0, "save_freq": 1, "eval_episodes": 0, "eval_freq": 1, "snapshot_freq": 1}
    if name in minimums:
        if name in ("eval_freq", "snapshot_freq") and value is None:
            return None
        is_int = isinstance(value, int) and not isinstance(value, bool)
        if name == "seed":
            return None if is_int and 0 <= value < 2**32 else "an int >= 0 and below 2**32"
        return None if is_int and value >= minimums[name] else f"an int >= {minimums[name]}"
    if name in ("hyperparameters", "policy_kwargs", "env_kwargs", "overrides"):
        return None if isinstance(value, dict) else "a mapping"
    if name == "command":
        return None if isinstance(value, list) and all(isinstance(item, str) for item in value) else "a list of strings"
    if name in ("init_from", "frontier_from"):
        return None if value is None or isinstance(value, str) else "a string or null"
    if name == "eval_protocol":
        return None if value is None or value in RUN_PROTOCOLS else f"null or one of {RUN_PROTOCOLS}"
    if name == "save_replay":
        return None if isinstance(value, bool) else "true or false"
    if name == "status":
        return None if value in RUN_STATUSES else f"one of {RUN_STATUSES}"
    if name == "format_version":
        return None
    if name == "policy":
        return None if value in RUN_POLICIES else f"one of {RUN_POLICIES}"
    return None if isinstance(value, str) else "a string"


@dataclass(frozen=True)
class Episodes:
    """The training episodes of a run, in the order they finished."""

    returns: np.ndarray
    """Undiscounted return of each episode."""
    lengths: np.ndarray
    """Length of each episode in env steps."""

    @property
    def steps(self) -> np.ndarray:
        """Env steps done when each episode ended (episodes cut short by a resume are not counted)."""
        return np.cumsum(self.lengths)

    def rolling_mean(self, window: int = 100) -> np.ndarray:
        """Mean return of the last ``window`` episodes (fewer at the start), as the PyTorch tutorial plots it. A
        return that is not a finite number (an env that gave ``nan``) is left out of the windows that hold it, and a
        window of no finite return is ``nan`` (a gap in the curve), so it does not blank the rest of the curve.

        Example:
            >>> Episodes(np.array([1.0, 3.0, 5.0]), np.array([1, 1, 1])).rolling_mean(2)
            array([1., 2., 4.])
            >>> Episodes(np.array([1.0, np.nan, 5.0, 7.0]), np.array([1, 1, 1, 1])).rolling_mean(2)
            array([1., 1., 5., 6.])
        """
        finite = np.isfinite(self.returns)
        sums = np.cumsum(np.concatenate([[0.0], np.where(finite, self.returns, 0.0)]))
        counts = np.cumsum(np.concatenate([[0], finite.astype(np.int64)]))
        ends = np.arange(1, self.returns.size + 1)
        starts = np.maximum(ends - window, 0)
        kept = counts[ends] - counts[starts]
        with np.errstate(invalid="ignore", divide="ignore"):
            return np.where(kept > 0, (sums[ends] - sums[starts]) / np.maximum(kept, 1), np.nan)


@dataclass(frozen=True)
class RunFolder:
    """The files of one run folder (see the module docstring)."""

    path: Path

    @property
    def config_file(self) -> Path:
        return self.path / "run.json"

    @property
    def checkpoint(self) -> Path:
        return self.path / "checkpoint.zip"

    @property
    def model(self) -> Path:
        return self.path / "model"

    @property
    def monitor(self) -> Path:
        return self.path / "monitor.csv"

    @property
    def progress(self) -> Path:
        return self.path / "progress.csv"

    @property
    def tensorboard(self) -> Path:
        return self.path / "tensorboard"

    @property
    def results(self) -> Path:
        return self.path / "results.json"

    @property
    def learning_curve(self) -> Path:
        return self.path / "learning_curve.png"

    @property
    def evaluations(self) -> Path:
        return self.path / "evaluations.csv"

    @property
    def best_model(self) -> Path:
        return self.path / "best_model"

    @property
    def snapshots(self) -> Path:
        return self.path / "snapshots"

    @property
    def frontier_archive(self) -> Path:
        return self.path / "frontier.json"

    @property
    def lock_file(self) -> Path:
        return self.path / "run.lock"

    @property
    def pid_file(self) -> Path:
        return self.path / "run.pid"

    @property
    def name(self) -> str:
        return self.path.name

    def read_config(self) -> RunConfig:
        """The run's ``run.json``, checked: a damaged file is one ``ValueError`` naming it."""
        data = read_json(self.config_file, max_bytes=MAX_RUN_JSON_BYTES)
        return RunConfig.from_dict(data, str(self.config_file))

    def write_config(self, config: RunConfig) -> None:
        """Write ``run.json`` atomically (creating the folder)."""
        write_text(self.config_file, json.dumps(config.to_dict(), indent=2, sort_keys=True) + "\n")

    def latest_agent(self) -> Path | None:
        """The final model if training finished, else the latest checkpoint, else ``None``."""
        if (self.model / "config.json").is_file():
            return self.model
        return self.checkpoint if self.checkpoint.is_file() else None

    def episodes(self) -> Episodes:
        """The episodes logged in ``monitor.csv`` (none if it does not exist yet)."""
        rows = [_parse_monitor_row(line) for line in _monitor_rows(self.monitor)]
        rows = [row for row in rows if row is not None]
        return Episodes(
            returns=np.array([row[0] for row in rows], dtype=np.float64),
            lengths=np.array([row[1] for row in rows], dtype=np.int64),
        )

    def unreadable_monitor_rows(self) -> int:
        """How many complete lines of ``monitor.csv`` below its header are not episode rows (0 if it does not exist;
        a killed run's half-written last line does not count)."""
        return sum(
            1 for line in _monitor_rows(self.monitor) if line.endswith("\n") and _parse_monitor_row(line) is None
        )

    def last_episode_time(self) -> float:
        """The ``t`` column (seconds since the run started) of the last complete ``monitor.csv`` row; 0 if none."""
        for line in reversed(_monitor_rows(self.monitor)):
            if (row := _parse_monitor_row(line)) is not None:
                return row[2]
        return 0.0

    def wall_seconds(self, until_step: int | None = None) -> float | None:
        """Training wall time from ``monitor.csv``, up to the episode that ended at or before ``until_step`` env
        steps (``None``: all); ``None`` without the file. Older runs' clocks restarted at each ``--resume``, so each
        sitting's end is summed.

        Example:
            >>> import tempfile
            >>> run = RunFolder(Path(tempfile.mkdtemp()))
            >>> _ = run.monitor.write_text('#{}\\nr,l,t\\n9,9,1.5\\n9,9,10.0\\n#{"t_start": 5}\\n9,9,2.0\\n9,9,4.5\\n9,9,')
            >>> run.wall_seconds(), run.wall_seconds(until_step=20)
            (14.5, 10.0)
        """
        if not self.monitor.is_file():
            return None
        total, sitting, steps = 0.0, 0.0, 0
        for row in filter(None, map(_parse_monitor_row, _monitor_rows(self.monitor))):
            steps += row[1]
            if until_step is not None and steps > until_step:
                break
            if row[2] < sitting:  # the clock restarted: a new sitting
                total += sitting
            sitting = row[2]
        return total + sitting

    def truncate_logs(self, num_timesteps: int) -> int:
        """Drop log rows written after the checkpoint at ``num_timesteps``; returns the episodes kept.

        A run killed after its last checkpoint has logged episodes and SB3 logger rows that the checkpoint does
        not know about; the resumed run replays those steps, so their rows go, and the logs stay one history.
        """
        texts, kept = self.truncated_logs(num_timesteps)
        for path, text in texts.items():
            write_text(path, text)
        self.drop_snapshots_after(num_timesteps)  # of the steps the resumed run replays
        return kept

    def truncated_logs(self, num_timesteps: int) -> tuple[dict[Path, str], int]:
        """What :meth:`truncate_logs` would write (file -> text) and the episodes it keeps; writes nothing, so that
        a resume checks its logs before it changes the folder. A log that cannot be read (too large, not text, a
        damaged ``evaluations.csv``) is a ``ValueError`` naming it."""
        texts: dict[Path, str] = {}
        kept = 0
        if self.monitor.is_file():
            header, rows = _split_monitor(self.monitor)
            lines = []
            steps = 0
            for line in rows:
                row = _parse_monitor_row(line)
                if row is None:  # the half-written last line of a killed process
                    continue
                steps += row[1]
                if steps > num_timesteps:
                    break
                lines.append(line)
            kept = len(lines)
            texts[self.monitor] = "".join(header + lines)
        if self.progress.is_file():
            texts[self.progress] = _truncate_progress(read_log(self.progress), num_timesteps)
        if self.evaluations.is_file():
            kept_points = [point for point in read_evaluations(self.evaluations) if point.timesteps <= num_timesteps]
            texts[self.evaluations] = evaluations_text(kept_points)
        return texts, kept

    def drop_snapshots_after(self, num_timesteps: int) -> None:
        """Delete the snapshots taken after ``num_timesteps`` env steps (all of them for 0: a run started over)."""
        for steps, path in self.snapshot_folders():
            if steps > num_timesteps:
                path.unlink() if path.is_symlink() else shutil.rmtree(path)  # a link goes, never what it points to

    def snapshot_folders(self) -> list[tuple[int, Path]]:
        """The run's snapshots (``train --snapshot-freq``) as ``(env steps, folder)``, in step order.

        Example:
            >>> import tempfile
            >>> run = RunFolder(Path(tempfile.mkdtemp()))
            >>> (run.snapshots / "step-000050000").mkdir(parents=True)
            >>> (run.snapshots / "notes.txt").write_text("mine")
            4
            >>> [(steps, path.name) for steps, path in run.snapshot_folders()]
            [(50000, 'step-000050000')]
        """
        if not self.snapshots.is_dir():
            return []
        found = [(_snapshot_steps(path.name), path) for path in self.snapshots.iterdir() if path.is_dir()]
        return sorted((steps, path) for steps, path in found if steps is not None)


def snapshot_name(steps: int) -> str:
    """The folder name of the snapshot at ``steps`` env steps: zero-padded, so that names sort by steps.

    Example:
        >>> snapshot_name(50_000)
        'step-000050000'
    """
    return f"step-{steps:09d}"


def _snapshot_steps(name: str) -> int | None:
    """The env steps in a snapshot folder's name, or ``None`` if it is not one."""
    match = re.fullmatch(r"step-(\d{9,})", name)
    return int(match.group(1)) if match else None


def open_run(path: str | os.PathLike[str]) -> RunFolder:
    """The run folder at ``path``; a missing folder or ``run.json`` raises ``FileNotFoundError`` naming the runs
    that do exist next to it."""
    run = RunFolder(Path(path))
    if run.config_file.is_file():
        return run
    if run.path.is_dir():
        raise FileNotFoundError(f"{run.path} is not a mario-zoo run folder (it has no run.json).")
    raise FileNotFoundError(f"No run folder {str(run.path)!r}. {describe_runs(run.path.parent)}")


def list_runs(parent: str | os.PathLike[str]) -> list[RunFolder]:
    """The run folders directly inside ``parent``, sorted by name."""
    folder = Path(parent)
    if not folder.is_dir():
        return []
    return [RunFolder(entry) for entry in sorted(folder.iterdir()) if (entry / "run.json").is_file()]


def describe_runs(parent: str | os.PathLike[str]) -> str:
    """One sentence naming the runs in ``parent``, for error messages."""
    runs = list_runs(parent)
    where = str(parent) if str(parent) not in ("", ".") else "the current folder"
    if not runs:
        return f"There are no runs in {where}; start one with `mario-zoo train`."
    return f"Runs in {where}: {', '.join(run.name for run in runs)}."


def default_run_path(env_id: str, seed: int, now: float | None = None) -> Path:
    """``runs/<env>_dqn_s<seed>_<YYYYmmdd-HHMMSS>``, rl-zoo-style: env, algorithm, seed and start time.

    Example:
        >>> default_run_path("CartPole-v1", 3, now=0.0).as_posix()[:25]
        'runs/CartPole-v1_dqn_s3_1'
    """
    stamp = time.strftime("%Y%m%d-%H%M%S", time.localtime(time.time() if now is None else now))
    return RUNS_DIR / f"{env_id}_dqn_s{seed}_{stamp}"


MAX_LOG_BYTES = 1 << 30
"""Largest ``monitor.csv`` or ``progress.csv`` read (a row is under 100 bytes and 1 KB: millions of episodes)."""


def read_log(path: Path) -> str:
    """The text of a run's log, at most :data:`MAX_LOG_BYTES`; a file that is not UTF-8 text is a ``ValueError``
    naming it."""
    data = read_bytes(path, max_bytes=MAX_LOG_BYTES)
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as error:
        raise ValueError(
            f"{path} is damaged: byte {error.start} is not text (UTF-8). Delete the damaged lines, or the file."
        ) from None


def _split_monitor(path: Path) -> tuple[list[str], list[str]]:
    """(the ``#{json}`` and CSV header lines, the row lines) of a Monitor file."""
    lines = read_log(path).splitlines(keepends=True)
    header_end = 0
    while header_end < len(lines) and (lines[header_end].startswith("#") or lines[header_end].startswith("r,")):
        header_end += 1
    return lines[:header_end], lines[header_end:]


def _monitor_rows(path: Path) -> list[str]:
    return _split_monitor(path)[1] if path.is_file() else []


def _parse_monitor_row(line: str) -> tuple[float, int, float] | None:
    """(return, length, seconds) of a Monitor row ``r,l,t``; ``None`` for a truncated or malformed line (a killed
    run's last line, or a resumed older run's ``#{...}`` header in the middle)."""
    if not line.endswith("\n"):
        return None
    fields = line.strip().split(",")
    try:
        return float(fields[0]), int(fields[1]), float(fields[2])
    except (IndexError, ValueError):
        return None


def _truncate_progress(text: str, num_timesteps: int) -> str:
    """Keep the SB3 logger rows up to ``num_timesteps`` (and drop a half-written last line)."""
    if not text.endswith("\n"):
        text = text[: text.rfind("\n") + 1]
    rows = list(csv.reader(io.StringIO(text)))
    if not rows or "time/total_timesteps" not in rows[0]:
        return text
    column = rows[0].index("time/total_timesteps")
    output = io.StringIO()
    writer = csv.writer(output, lineterminator="\n")
    writer.writerow(rows[0])
    for row in rows[1:]:
        if len(row) == len(rows[0]) and (steps := _finite(row[column])) is not None and steps <= num_timesteps:
            writer.writerow(row)  # a row whose step is not a number is dropped, as a half-written one is
    return output.getvalue()


def _finite(cell: str) -> float | None:
    """``cell`` as a finite number, or ``None``."""
    try:
        value = float(cell)
    except ValueError:
        return None
    return value if math.isfinite(value) else None
