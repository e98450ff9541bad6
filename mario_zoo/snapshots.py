"""A run's snapshots judged after it or beside it, with their evaluations kept in the run.

``train --snapshot-freq N`` keeps the agent every N steps in ``RUN/snapshots/step-<steps>/``;
``mario-zoo evaluate RUN/snapshots/*`` plays each one. When it plays them under the run's own protocol (the one
its periodic evaluations use; for Mario, the exact no-op sweep), it also records each result in
``RUN/snapshot_evaluations.csv`` (beside ``snapshots/``, so that ``snapshots/*`` names snapshots only), which has
the columns of ``evaluations.csv``. The run's time to clear, its
evaluation curve (``mario-zoo plot --evaluations``) and the card of an agent published from one of its snapshots
then count them beside the periodic evaluations: a run trained with snapshots and no ``--eval-freq`` still has a
curve. A row counts while its snapshot folder is there, so a resumed run's dropped snapshots drop out with it.
Writers hold ``snapshot_evaluations.lock`` and merge their rows, so two evaluating processes (or one beside the
training) keep each other's.

Example:
    >>> import tempfile
    >>> from mario_zoo.runs import EvaluationPoint, RunConfig
    >>> run = RunFolder(Path(tempfile.mkdtemp()))
    >>> run.write_config(RunConfig("MarioDQN-1-1-v0", "mario-1-1", "CnnPolicy", total_timesteps=1, seed=0))
    >>> (run.snapshots / "step-000050000").mkdir(parents=True)
    >>> snapshot_run(run.snapshots / "step-000050000") == run, snapshot_run(run.path / "best_model")
    (True, None)
    >>> point = EvaluationPoint(timesteps=50_000, n_eval_episodes=31, mean_reward=1.0, std_reward=0.0, flag_rate=0.5)
    >>> _ = record_point(run, point)
    >>> [(point.timesteps, point.flag_rate) for point in evaluation_points(run)]
    [(50000, 0.5)]
"""

from __future__ import annotations

from pathlib import Path

from filelock import FileLock, Timeout

from mario_zoo.evaluation import run_protocol
from mario_zoo.results import Evaluation
from mario_zoo.runs import EvaluationPoint, RunFolder, open_run, read_evaluations, snapshot_name, write_evaluations

LOCK_TIMEOUT = 600.0
"""Seconds to wait for another process recording a snapshot's evaluation (each holds the lock for one write)."""


def snapshot_evaluations(run: RunFolder) -> Path:
    """Where the evaluations of ``run``'s snapshots are kept."""
    return run.path / "snapshot_evaluations.csv"


def snapshot_run(path: str | Path) -> RunFolder | None:
    """The run whose ``snapshots/`` folder holds the checkpoint at ``path`` (``None``: not a snapshot of a run)."""
    path = Path(path)
    run = RunFolder(path.parent.parent)
    if path.parent.name != run.snapshots.name or not run.config_file.is_file():
        return None
    return run if any(folder.name == path.name for _, folder in run.snapshot_folders()) else None


def run_of_agent(path: str | Path) -> RunFolder | None:
    """The run an agent's weights lie in: the run folder itself (its latest agent), else as
    :func:`run_of_checkpoint` finds it."""
    return open_run(path) if RunFolder(Path(path)).config_file.is_file() else run_of_checkpoint(path)


def run_of_checkpoint(path: str | Path) -> RunFolder | None:
    """The run a checkpoint comes from: the folder holding it (``model/``, ``best_model/``, ``checkpoint.zip``) or,
    for a snapshot, the run whose ``snapshots/`` holds it; ``None`` for a checkpoint outside any run."""
    path = Path(path)
    if RunFolder(path.parent).config_file.is_file():
        return open_run(path.parent)
    run = snapshot_run(path)
    return None if run is None else open_run(run.path)


def record(run: RunFolder, steps: int, evaluation: Evaluation) -> bool:
    """Keep the evaluation of ``run``'s snapshot at ``steps`` env steps, if it was played under the run's own
    protocol (that of its periodic evaluations: name, episodes, epsilon, seed; a run trained without periodic
    evaluations, ``--eval-episodes 0``, counts the protocol's default episodes); returns whether it was kept."""
    settings = run.read_config()
    protocol = run_protocol(settings.env_id, settings.eval_protocol, settings.eval_episodes or None)
    played = (evaluation.env_id, evaluation.protocol, evaluation.n_eval_episodes, evaluation.epsilon, evaluation.seed)
    if played != (settings.env_id, protocol.name, protocol.n_episodes, protocol.epsilon, protocol.seed):
        return False
    record_point(run, EvaluationPoint.of(evaluation, timesteps=steps))
    return True


def record_point(run: RunFolder, point: EvaluationPoint) -> Path:
    """Add ``point`` to the run's snapshot evaluations (replacing one at the same step), under their lock."""
    path = snapshot_evaluations(run)
    lock = FileLock(path.with_suffix(".lock"))
    try:
        with lock.acquire(timeout=LOCK_TIMEOUT):
            kept = [old for old in read_evaluations(path) if old.timesteps != point.timesteps]
            return write_evaluations(path, sorted([*kept, point], key=lambda row: row.timesteps))
    except Timeout:
        raise RuntimeError(
            f"Another process has held {lock.lock_file} for {LOCK_TIMEOUT:.0f} s; if none is evaluating this run's "
            "snapshots, delete the lock file and evaluate again."
        ) from None


def evaluation_points(run: RunFolder) -> list[EvaluationPoint]:
    """The run's evaluations by env steps: its periodic ones (``evaluations.csv``) and those of its snapshots still
    there (a periodic one wins at the same step: both judged the same weights)."""
    periodic = read_evaluations(run.evaluations)
    steps = {point.timesteps for point in periodic}
    kept = {name.name for _, name in run.snapshot_folders()}
    judged = [
        point
        for point in read_evaluations(snapshot_evaluations(run))
        if point.timesteps not in steps and snapshot_name(point.timesteps) in kept
    ]
    return sorted([*periodic, *judged], key=lambda point: point.timesteps)
