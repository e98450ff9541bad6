"""Time to clear: the env steps and wall hours a Mario run took to its first evaluation at a given flag rate.

A run's periodic evaluations (``evaluations.csv``; for Mario by default the exact 31-start no-op sweep) give its
flag rate every ``--eval-freq`` steps, with those of its snapshots (``mario-zoo evaluate RUN/snapshots/*``, see
:mod:`mario_zoo.snapshots`), and ``monitor.csv`` its wall clock; a milestone is the first evaluation at or
above a rate. A run warm-started from another (``--init-from``) counts from its own start: give the runs it came
through (``through``), or their steps and seconds as ``offset_steps`` and ``offset_seconds``, to count from scratch.

Example:
    >>> import tempfile
    >>> from mario_zoo.runs import EvaluationPoint, RunFolder, write_evaluations
    >>> run = RunFolder(Path(tempfile.mkdtemp()))
    >>> _ = run.monitor.write_text("#{}\\nr,l,t\\n" + "".join(f"1,1000,{3.6 * k}\\n" for k in range(1, 301)))
    >>> row = {"n_eval_episodes": 31, "mean_reward": 0.0, "std_reward": 0.0}
    >>> _ = write_evaluations(run.evaluations, [
    ...     EvaluationPoint(timesteps=100_000, flag_rate=0.0, x_pos_mean=700.0, **row),
    ...     EvaluationPoint(timesteps=200_000, flag_rate=16 / 31, x_pos_mean=2900.0, **row),
    ... ])
    >>> for milestone in time_to_clear(run):
    ...     print(milestone.describe())
    50%: 200,000 env steps, 0.20 h (52% then)
    90%: not reached in 200,000 env steps (best 52% at 200,000)
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from mario_zoo.runs import EvaluationPoint, RunFolder
from mario_zoo.snapshots import evaluation_points

DEFAULT_RATES = (0.5, 0.9)
"""The flag rates the zoo's cards report time to: half and nine tenths of the starts."""


@dataclass(frozen=True)
class Milestone:
    """When a run first reached ``rate`` (``timesteps is None``: never, in its evaluations so far)."""

    rate: float
    """The flag rate aimed at (0-1)."""
    timesteps: int | None
    """Env steps at the first evaluation at or above ``rate``, with any offset; ``None`` if none was."""
    wall_hours: float | None
    """Training wall time to that evaluation, in hours, with any offset (``None``: never, or no monitor.csv)."""
    flag_rate: float | None
    """The rate measured there (``None``: never)."""
    evaluated_steps: int
    """The last evaluation's env steps, with any offset: how far the run was looked at."""
    best: EvaluationPoint | None
    """The best evaluation (by flag rate, then mean furthest x), its env steps with any offset."""

    @property
    def reached(self) -> bool:
        """Whether an evaluation reached the rate."""
        return self.timesteps is not None

    def describe(self) -> str:
        """One line: ``"50%: 350,000 env steps, 0.91 h (55% then)"`` or how far the run got without it."""
        head = f"{self.rate:.0%}: "
        if self.timesteps is not None:
            hours = "" if self.wall_hours is None else f", {self.wall_hours:.2f} h"
            return f"{head}{self.timesteps:,} env steps{hours} ({self.flag_rate:.0%} then)"
        best = ""
        if self.best is not None and self.best.flag_rate is not None:
            best = f" (best {self.best.flag_rate:.0%} at {self.best.timesteps:,})"
        return f"{head}not reached in {self.evaluated_steps:,} env steps{best}"


Stage = tuple[RunFolder, int]
"""An earlier run of a chain of warm starts, and the env step of the weights the next run started from."""


@dataclass(frozen=True)
class _Row:
    """An evaluation counted from the chain's start: ``point.timesteps`` with the earlier runs' steps added."""

    point: EvaluationPoint
    seconds: float | None
    """Training wall time to it, the earlier runs' included (``None``: a run without ``monitor.csv``)."""


def _rows(run: RunFolder, through: Sequence[Stage], offset_steps: int, offset_seconds: float) -> list[_Row]:
    """The evaluations of each run of ``through`` up to the step the next run started from, then all of ``run``'s,
    each counted from the start of the chain (plus the offsets)."""
    rows: list[_Row] = []
    steps, seconds = offset_steps, offset_seconds
    for folder, until in [*through, (run, None)]:
        for point in evaluation_points(folder):
            if until is not None and point.timesteps > until:
                break
            own = folder.wall_seconds(until_step=point.timesteps)
            total = None if own is None or seconds is None else own + seconds
            rows.append(_Row(dataclasses.replace(point, timesteps=point.timesteps + steps), total))
        if until is not None:
            own = folder.wall_seconds(until_step=until)
            steps, seconds = steps + until, None if own is None or seconds is None else seconds + own
    return rows


def time_to_clear(
    run: RunFolder | str | Path,
    rates: Sequence[float] = DEFAULT_RATES,
    *,
    offset_steps: int = 0,
    offset_seconds: float = 0.0,
    through: Sequence[Stage] = (),
) -> list[Milestone]:
    """The first evaluation of ``run`` at or above each of ``rates``; a run without flag rates (not Mario) or
    without evaluations is a ``ValueError`` that says how to get them.

    ``through``: the runs a warm-started ``run`` came through, oldest first, each with the step of the weights the
    next one started from; their evaluations up to that step count first, and their steps and wall time before
    ``run``'s, so that a chain of warm starts is timed from scratch.
    """
    run = run if isinstance(run, RunFolder) else RunFolder(Path(run))
    for rate in rates:
        if isinstance(rate, bool) or not isinstance(rate, int | float) or not 0.0 < rate <= 1.0:
            raise ValueError(f"Flag rates must be in (0, 1], got {rate!r}.")
    rows = _rows(run, through, offset_steps, offset_seconds)
    if not evaluation_points(run):  # the earlier runs of a chain cannot stand for the last
        raise ValueError(
            f"{run.path} has no evaluations ({run.evaluations.name}); train with --eval-freq N, or evaluate its "
            "snapshots (mario-zoo evaluate RUN/snapshots/*), to get them."
        )
    if any(row.point.flag_rate is None for row in rows):
        raise ValueError(f"{run.path}'s evaluations have no flag rates: time to clear is for Mario runs.")
    best = max((row.point for row in rows), key=lambda point: point.rank)
    milestones = []
    for rate in rates:
        first = next((row for row in rows if row.point.flag_rate is not None and row.point.flag_rate >= rate), None)
        milestones.append(
            Milestone(
                rate=float(rate),
                timesteps=None if first is None else first.point.timesteps,
                wall_hours=None if first is None or first.seconds is None else first.seconds / 3600,
                flag_rate=None if first is None else first.point.flag_rate,
                evaluated_steps=rows[-1].point.timesteps,
                best=best,
            )
        )
    return milestones


def flag_curve(
    run: RunFolder | str | Path, *, offset_steps: int = 0, offset_seconds: float = 0.0, through: Sequence[Stage] = ()
) -> list[str]:
    """A markdown table of the run's evaluations: env steps, wall hours, flag rate and mean furthest x (with
    ``through``, as :func:`time_to_clear` takes it, those of the earlier runs of its chain first)."""
    run = run if isinstance(run, RunFolder) else RunFolder(Path(run))
    lines = ["| env steps | wall hours | flag rate | mean furthest x |", "|---|---|---|---|"]
    for row in _rows(run, through, offset_steps, offset_seconds):
        point = row.point
        hours = "" if row.seconds is None else f"{row.seconds / 3600:.2f}"
        rate = "" if point.flag_rate is None else f"{point.flag_rate:.0%}"
        x_pos = "" if point.x_pos_mean is None else f"{point.x_pos_mean:,.0f}"
        lines.append(f"| {point.timesteps:,} | {hours} | {rate} | {x_pos} |")
    return lines
