"""``evaluations.csv``: the periodic evaluations of a training run (``train --eval-freq``), and the evaluations of
its snapshots beside it (``snapshot_evaluations.csv``), one row per evaluation, checked when read: a damaged row is
one ``ValueError`` naming the file and the line.

Example:
    >>> import tempfile
    >>> path = Path(tempfile.mkdtemp()) / "evaluations.csv"
    >>> _ = write_evaluations(path, [EvaluationPoint(timesteps=500, n_eval_episodes=2, mean_reward=9.5,
    ...                                              std_reward=0.5, mean_ep_length=9.5)])
    >>> [point.timesteps for point in read_evaluations(path)]
    [500]
"""

from __future__ import annotations

import csv
import io
import math
import os
from dataclasses import dataclass
from pathlib import Path

from mario_zoo.atomic import write_text
from mario_zoo.reading import read_bytes
from mario_zoo.results import STATISTICS, Statistics, current_names


@dataclass(frozen=True, kw_only=True)
class EvaluationPoint(Statistics):
    """One periodic evaluation during training: the statistics of a row of ``evaluations.csv`` (made from the
    evaluation by :meth:`~mario_zoo.results.Statistics.of`), and when it ran."""

    timesteps: int
    """Env steps the agent had trained when it was evaluated."""


EVALUATION_COLUMNS = ("timesteps", *STATISTICS)
"""The columns of ``evaluations.csv``: the step, then the statistics under their one name."""

_INTEGER_COLUMNS = ("timesteps", "n_eval_episodes", "x_pos_max")


def read_evaluations(path: str | os.PathLike[str]) -> list[EvaluationPoint]:
    """The rows of an ``evaluations.csv`` (none if the file does not exist), also as earlier versions named its
    columns (``episodes``, ``mean_x_pos``, ``max_x_pos``).

    Example:
        >>> import tempfile
        >>> path = Path(tempfile.mkdtemp()) / "evaluations.csv"
        >>> _ = write_evaluations(path, [EvaluationPoint(timesteps=500, n_eval_episodes=2, mean_reward=9.5,
        ...                                              std_reward=0.5, mean_ep_length=9.5)])
        >>> print(path.read_text().strip())
        timesteps,n_eval_episodes,mean_reward,std_reward,mean_ep_length,flag_rate,x_pos_mean,x_pos_max
        500,2,9.5,0.5,9.5,,,
        >>> read_evaluations(path)[0].mean_reward
        9.5
    """
    path = Path(path)
    if not path.is_file():
        return []
    points = []
    text = read_bytes(path, max_bytes=MAX_EVALUATIONS_BYTES).decode("utf-8", errors="replace")
    for line, row in enumerate(csv.DictReader(io.StringIO(text)), start=2):
        cells = {name: cell for name, cell in current_names(row).items() if name in EVALUATION_COLUMNS and cell}
        try:
            values = {name: _evaluation_number(name, cell) for name, cell in cells.items()}
            points.append(EvaluationPoint(**values))
        except (TypeError, ValueError) as error:
            raise ValueError(
                f"{path} line {line} is damaged ({str(error).rstrip('.')}): each row holds a step and finite "
                f"numbers under {', '.join(EVALUATION_COLUMNS)}. Delete the line, or the file to drop the history."
            ) from None
    return points


MAX_EVALUATIONS_BYTES = 16 * 2**20
"""Largest ``evaluations.csv`` read (a row is under 200 bytes: tens of thousands of evaluations)."""


def _evaluation_number(name: str, cell: str) -> int | float:
    """A cell of ``evaluations.csv``: a whole number >= 0 in the integer columns, else a finite float."""
    if name in _INTEGER_COLUMNS:
        value = int(cell)
        if value < 0:
            raise ValueError(f"{name} {cell!r} is negative")
        return value
    number = float(cell)
    if not math.isfinite(number):
        raise ValueError(f"{name} {cell!r} is not a finite number")
    return number


def write_evaluations(path: str | os.PathLike[str], points: list[EvaluationPoint]) -> Path:
    """Write ``points`` as ``evaluations.csv``, atomically (empty cells for the numbers an env does not report)."""
    return write_text(path, evaluations_text(points))


def evaluations_text(points: list[EvaluationPoint]) -> str:
    """The text of an ``evaluations.csv`` holding ``points``."""
    output = io.StringIO()
    writer = csv.writer(output, lineterminator="\n")
    writer.writerow(EVALUATION_COLUMNS)
    for point in points:
        writer.writerow(["" if (value := getattr(point, name)) is None else value for name in EVALUATION_COLUMNS])
    return output.getvalue()
