"""Learning curves as PNG files: one run the way the PyTorch DQN tutorial draws it, or several runs compared.

Figures are drawn on matplotlib's Agg canvas directly (no ``pyplot``), so plotting needs no display and leaves
the caller's matplotlib backend alone. matplotlib comes with the ``plot`` extra, imported when a figure is drawn. Every PNG is ``FIGURE_PIXELS`` (960x540) and written atomically.

Example:
    >>> import tempfile
    >>> import imageio.v3 as iio
    >>> episodes = Episodes(np.array([10.0, 20.0, 15.0, 40.0]), np.array([10, 20, 15, 40]))
    >>> path = save_learning_curve(episodes, Path(tempfile.mkdtemp()) / "curve.png", title="CartPole-v1")
    >>> iio.imread(path).shape[:2]  # height, width
    (540, 960)
"""

from __future__ import annotations

import json
import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from mario_zoo.atomic import atomic_target
from mario_zoo.extras import installed, require
from mario_zoo.results import Evaluation
from mario_zoo.runs import Episodes, EvaluationPoint, RunFolder
from mario_zoo.snapshots import evaluation_points

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

FIGURE_PIXELS = (960, 540)
"""Width and height of every PNG, in pixels."""
_DPI = 100
_X_BIN = 64
"""Width in x pixels of a bar of the x_pos histogram (the frontier starts' bucket)."""
_GRID_POINTS = 200
X_AXES = ("steps", "episodes")
"""What ``plot_runs`` can put on the x axis."""


def save_learning_curve(
    episodes: Episodes,
    path: str | os.PathLike[str],
    *,
    title: str,
    window: int = 100,
    evaluations: Sequence[EvaluationPoint] = (),
) -> Path:
    """The tutorial's plot: each training episode's return, and the mean of the last ``window`` episodes.

    With periodic ``evaluations`` (``evaluations.csv``), a second panel draws them against env steps: for Mario the
    flag rate and the mean furthest ``x_pos``; for other envs the mean return +/- one standard deviation.

    Example:
        >>> import tempfile
        >>> import imageio.v3 as iio
        >>> points = [EvaluationPoint(timesteps=steps, n_eval_episodes=5, mean_reward=1.0, std_reward=0.0,
        ...                           mean_ep_length=300.0, x_pos_mean=x, x_pos_max=int(x) + 50, flag_rate=rate)
        ...           for steps, x, rate in [(1000, 700.0, 0.0), (2000, 1500.0, 0.2), (3000, 2900.0, 0.6)]]
        >>> episodes = Episodes(np.array([10.0, 20.0]), np.array([400, 600]))
        >>> path = save_learning_curve(episodes, Path(tempfile.mkdtemp()) / "c.png", title="1-1", evaluations=points)
        >>> iio.imread(path).shape[:2]
        (540, 960)
    """
    figure = _figure()
    if evaluations:
        axes, evaluation_axes = figure.subplots(1, 2)
        _draw_evaluations(evaluation_axes, evaluations)
    else:
        axes = figure.subplots()
    number = np.arange(1, episodes.returns.size + 1)
    axes.plot(number, episodes.returns, color="tab:blue", alpha=0.4, linewidth=0.8, label="episode return")
    axes.plot(number, episodes.rolling_mean(window), color="tab:orange", linewidth=2, label=f"mean of last {window}")
    axes.set(xlabel="episode", ylabel="return", title=title)
    axes.legend(loc="upper left")
    axes.grid(alpha=0.3)
    return _save(figure, path)


def why_no_curve() -> str:
    """Why a run's ``learning_curve.png`` is missing: the plot extra, or no finished episode to draw."""
    if not installed("matplotlib"):
        return "matplotlib is missing: pip install 'mario-zoo[plot]', then mario-zoo plot RUN"
    return "no episode finished"


def save_x_pos_histogram(evaluation: Evaluation, path: str | os.PathLike[str], *, title: str) -> Path:
    """Where a Mario evaluation's episodes ended: a histogram of each episode's furthest ``x_pos``, the episodes
    that reached the flag in green, with the flag rate and its 95% interval in the legend.

    Example:
        >>> import tempfile
        >>> import imageio.v3 as iio
        >>> done = Evaluation(env_id="MarioDQN-1-1-v0", env_kwargs={}, episode_rewards=[1.0] * 3,
        ...                   episode_lengths=[9] * 3, x_pos=[1200, 2400, 3161], flags=[False, False, True])
        >>> path = save_x_pos_histogram(done, Path(tempfile.mkdtemp()) / "x.png", title="1-1")
        >>> iio.imread(path).shape[:2]
        (540, 960)
    """
    if evaluation.x_pos is None or evaluation.flags is None or evaluation.flag_interval is None:
        raise ValueError(f"{evaluation.env_id} reports no x_pos or flag: the histogram is for Mario envs.")
    x_pos, flags = np.asarray(evaluation.x_pos), np.asarray(evaluation.flags, dtype=bool)
    bins = np.arange(0, max(int(x_pos.max()), 0) + _X_BIN + 1, _X_BIN)
    low, high = evaluation.flag_interval
    figure = _figure()
    axes = figure.subplots()
    axes.hist(
        [x_pos[~flags], x_pos[flags]],
        bins=bins,
        stacked=True,
        color=["tab:red", "tab:green"],
        label=[
            f"did not reach the flag ({evaluation.n_eval_episodes - evaluation.flag_count})",
            f"reached the flag ({evaluation.flag_count}): rate {evaluation.flag_rate:.0%}, 95% interval "
            f"[{low:.0%}, {high:.0%}]",
        ],
    )
    axes.set(xlabel="furthest x_pos of the episode", ylabel="episodes", title=title)
    axes.legend(loc="upper left")
    axes.grid(alpha=0.3)
    return _save(figure, path)


def _draw_evaluations(axes: Axes, evaluations: Sequence[EvaluationPoint]) -> None:
    steps = np.array([point.timesteps for point in evaluations], dtype=np.float64)
    episodes = evaluations[-1].n_eval_episodes
    if all(point.flag_rate is not None for point in evaluations):
        axes.plot(steps, [point.flag_rate for point in evaluations], "o-", color="tab:green", label="flag rate")
        axes.set(xlabel="env steps", ylabel="flag rate", ylim=(-0.05, 1.05))
        axes.set_title(f"greedy evaluations ({episodes} episodes each)")
        x_axes = axes.twinx()
        x_pos = [point.x_pos_mean for point in evaluations]
        x_axes.plot(steps, x_pos, "s--", color="tab:purple", label="mean furthest x_pos")
        x_axes.set(ylabel="mean furthest x_pos")
        lines = axes.get_lines() + x_axes.get_lines()
        axes.legend(lines, [line.get_label() for line in lines], loc="upper left")
    else:
        mean = np.array([point.mean_reward for point in evaluations])
        std = np.array([point.std_reward for point in evaluations])
        axes.plot(steps, mean, "o-", color="tab:green", label="mean return")
        axes.fill_between(steps, mean - std, mean + std, color="tab:green", alpha=0.2, label="+/- std")
        axes.set(xlabel="env steps", ylabel="return", title=f"greedy evaluations ({episodes} episodes each)")
        axes.legend(loc="upper left")
    axes.grid(alpha=0.3)


@dataclass(frozen=True)
class CurveGroup:
    """One curve of :func:`plot_runs`: a run, or runs of different seeds and otherwise equal settings averaged."""

    label: str
    """Legend entry."""
    runs: tuple[RunFolder, ...]
    """The runs drawn (several: one per seed, averaged)."""
    final_x: float
    """Where the curve ends: env steps or episodes (for several seeds, the last one all of them reached)."""
    final: float
    """The curve's last value: the ``window``-episode mean return at ``final_x`` (for several seeds, their mean)."""

    def summary(self, window: int, x_axis: str = "steps") -> str:
        """What the curve ends at, in words.

        Example:
            >>> seeds = (RunFolder(Path("runs/s0")), RunFolder(Path("runs/s1")))
            >>> print(CurveGroup("cartpole-fast (2 seeds, mean +/- std)", seeds, 12000.0, 41.96).summary(100))
            cartpole-fast (2 seeds, mean +/- std): 42.0 at step 12,000 (mean over the seeds of the mean return of their last 100 episodes; the curve's last point)
        """
        where = f"step {self.final_x:,.0f}" if x_axis == "steps" else f"episode {self.final_x:,.0f}"
        what = f"mean return of the last {window} episodes"
        if len(self.runs) > 1:
            what = f"mean over the seeds of the {what.replace('the last', 'their last')}"
        return f"{self.label}: {self.final:.1f} at {where} ({what}; the curve's last point)"


@dataclass(frozen=True)
class RunsPlot:
    """What :func:`plot_runs` drew."""

    path: Path
    """The PNG written."""
    curves: list[CurveGroup]
    """One per curve, in legend order."""
    skipped: tuple[RunFolder, ...]
    """Runs left out because they have no finished episode yet."""


def plot_runs(
    runs: Sequence[RunFolder],
    path: str | os.PathLike[str],
    *,
    window: int = 100,
    x_axis: str = "steps",
    title: str | None = None,
) -> RunsPlot:
    """Plot the ``window``-episode mean return of each run; runs of distinct seeds and otherwise equal settings
    share one curve: their mean, with a band of +/- one standard deviation across seeds.

    Runs with no finished episode yet are left out (:attr:`RunsPlot.skipped`). Runs that repeat a seed of their
    settings (a rerun, a copy) are not independent seeds: each is drawn on its own, labelled by seed and name.
    Raises ``ValueError`` if no run has a finished episode or ``x_axis`` is not one of ``X_AXES``.
    """
    if x_axis not in X_AXES:
        raise ValueError(f"x_axis must be one of {X_AXES}, got {x_axis!r}.")
    curves = {}
    for run in runs:
        episodes = run.episodes()
        if episodes.returns.size:
            x = episodes.steps if x_axis == "steps" else np.arange(1, episodes.returns.size + 1)
            curves[run] = (x.astype(np.float64), episodes.rolling_mean(window))
    if not curves:
        names = ", ".join(str(run.path) for run in runs)
        raise ValueError(f"No run has a finished episode to plot yet ({names}); plot them once an episode has ended.")
    skipped = tuple(run for run in runs if run not in curves)
    groups = _group_by_settings([run for run in runs if run in curves])
    several_envs = len({env_id for env_id, _, _ in groups}) > 1

    figure = _figure()
    axes = figure.subplots()
    summary = []
    for env_id, label, members in groups:
        label = f"{env_id} {label}" if several_envs else label
        if len(members) == 1:
            x, y = curves[members[0]]
            axes.plot(x, y, linewidth=2, label=label)
            summary.append(CurveGroup(label, tuple(members), float(x[-1]), float(y[-1])))
            continue
        # Seeds end at different steps: compare them on the range they all cover.
        start = max(curves[run][0][0] for run in members)
        end = max(start, min(curves[run][0][-1] for run in members))
        grid = np.linspace(start, end, _GRID_POINTS)
        ys = np.stack([np.interp(grid, *curves[run]) for run in members])
        mean, std = ys.mean(axis=0), ys.std(axis=0)
        label = f"{label} ({len(members)} seeds, mean +/- std)"
        (line,) = axes.plot(grid, mean, linewidth=2, label=label)
        axes.fill_between(grid, mean - std, mean + std, color=line.get_color(), alpha=0.2)
        summary.append(CurveGroup(label, tuple(members), float(grid[-1]), float(mean[-1])))
    environments = sorted({env_id for env_id, _, _ in groups})
    axes.set(
        xlabel="env steps" if x_axis == "steps" else "episode",
        ylabel=f"mean return of the last {window} episodes",
        title=title or ", ".join(environments),
    )
    axes.legend(loc="upper left")
    axes.grid(alpha=0.3)
    return RunsPlot(_save(figure, path), summary, skipped)


@dataclass(frozen=True)
class EvaluationCurve:
    """One curve of :func:`plot_evaluations`: a run's periodic evaluations, or those of runs of different seeds
    and otherwise equal settings averaged at the steps all of them evaluated."""

    label: str
    """Legend entry."""
    runs: tuple[RunFolder, ...]
    """The runs drawn."""
    metric: str
    """``"flag rate"`` (Mario) or ``"mean return"``."""
    steps: tuple[int, ...]
    """Env steps of the points."""
    values: tuple[float, ...]
    """The metric at each point (for several seeds, their mean)."""
    x_pos: tuple[float, ...] | None = None
    """Mario: the mean furthest ``x_pos`` at each point, which ranks equal flag rates as ``best_model/`` does."""

    def summary(self) -> str:
        """The last point and the best one (ranked as ``best_model/`` is), in words.

        Example:
            >>> curve = EvaluationCurve("mario-1-1", (RunFolder(Path("runs/a")),), "flag rate", (100, 200, 300),
            ...                         (0.0, 0.0, 0.0), (700.0, 1450.0, 1200.0))
            >>> print(curve.summary())
            mario-1-1: flag rate 0% (mean furthest x_pos 1,200) at step 300, the last evaluation; best 0% (mean furthest x_pos 1,450) at step 200
        """

        def shown(index: int) -> str:
            if self.x_pos is None:
                return f"{self.values[index]:.1f}"
            return f"{self.values[index]:.0%} (mean furthest x_pos {self.x_pos[index]:,.0f})"

        ranks = list(zip(self.values, self.x_pos or self.values, strict=True))
        best = max(range(len(ranks)), key=lambda index: (ranks[index], -index))  # the first of equal bests
        seeds = " (the mean over the seeds)" if len(self.runs) > 1 else ""
        return (
            f"{self.label}: {self.metric}{seeds} {shown(-1)} at step {self.steps[-1]:,}, the last evaluation; "
            f"best {shown(best)} at step {self.steps[best]:,}"
        )


def plot_evaluations(
    runs: Sequence[RunFolder], path: str | os.PathLike[str], *, title: str | None = None
) -> tuple[Path, list[EvaluationCurve], tuple[RunFolder, ...]]:
    """Plot the evaluations of each run against env steps (the periodic ones, ``evaluations.csv`` from ``train
    --eval-freq``, and those of its snapshots, :mod:`mario_zoo.snapshots`): for Mario the flag rate and the mean furthest ``x_pos`` side by side, otherwise the mean return. Runs of
    distinct seeds and otherwise equal settings share one curve (their mean at the steps all of them evaluated, with
    a band of +/- one standard deviation). The training return cannot compare runs whose episodes start mid-level
    (frontier starts) or under noise; their evaluations can.

    Returns the PNG, the curves and the runs left out for having no evaluation yet; raises ``ValueError`` if none has.
    """
    evaluations = {run: points for run in runs if (points := evaluation_points(run))}
    if not evaluations:
        names = ", ".join(str(run.path) for run in runs)
        raise ValueError(
            f"No run has an evaluation to plot yet ({names}); train with --eval-freq N (or evaluate its snapshots: "
            "mario-zoo evaluate RUN/snapshots/*), or plot the training returns without --evaluations."
        )
    skipped = tuple(run for run in runs if run not in evaluations)
    mario = all(point.flag_rate is not None for points in evaluations.values() for point in points)
    metrics = (
        {"flag_rate": "flag rate", "x_pos_mean": "mean furthest x_pos"} if mario else {"mean_reward": "mean return"}
    )
    figure = _figure()
    panels = dict(zip(metrics, figure.subplots(1, len(metrics), squeeze=False)[0], strict=True))
    groups = _group_by_settings(list(evaluations))
    several_envs = len({env_id for env_id, _, _ in groups}) > 1
    curves = []
    for env_id, label, members, common in _common_steps(groups, evaluations):
        label = f"{env_id} {label}" if several_envs else label
        if len(members) > 1:
            label = f"{label} ({len(members)} seeds, mean +/- std)"
        means = {
            name: _draw_mean(axes, common, [evaluations[run] for run in members], name, label)
            for name, axes in panels.items()
        }
        first = next(iter(metrics))
        curves.append(
            EvaluationCurve(label, tuple(members), metrics[first], tuple(common), means[first], means.get("x_pos_mean"))
        )
    ticker = require("matplotlib.ticker", "plot", "plotting learning curves")
    for name, axes in panels.items():
        axes.set(xlabel="env steps", ylabel=metrics[name], ylim=(-0.05, 1.05) if name == "flag_rate" else None)
        axes.xaxis.set_major_formatter(ticker.EngFormatter(sep=""))  # 250k, 1.5M: a million steps fit side by side
        axes.grid(alpha=0.3)
    # Below the panels: labels that list a run's settings are too long to sit inside one.
    figure.legend(
        *next(iter(panels.values())).get_legend_handles_labels(), loc="outside lower center", fontsize="small"
    )
    environments = ", ".join(sorted({env_id for env_id, _, _ in groups}))
    figure.suptitle(title or f"periodic evaluations: {environments}")
    return _save(figure, path), curves, skipped


def _draw_mean(
    axes: Axes, steps: list[int], histories: list[list[EvaluationPoint]], name: str, label: str
) -> tuple[float, ...]:
    """Draw the statistic ``name`` of the runs' evaluations at ``steps``: their mean, with a band of +/- one standard
    deviation for several runs; returns the mean."""
    ys = np.array([[getattr(point, name) for point in points if point.timesteps in steps] for points in histories])
    mean = ys.mean(axis=0)
    (line,) = axes.plot(steps, mean, "o-", linewidth=2, markersize=4, label=label)
    if len(histories) > 1:
        axes.fill_between(steps, mean - ys.std(axis=0), mean + ys.std(axis=0), color=line.get_color(), alpha=0.2)
    return tuple(float(value) for value in mean)


def _common_steps(
    groups: list[tuple[str, str, list[RunFolder]]], evaluations: dict[RunFolder, list[EvaluationPoint]]
) -> list[tuple[str, str, list[RunFolder], list[int]]]:
    """Each group with the steps all its runs evaluated; seeds that share none (other ``--eval-freq``) are drawn
    one by one instead."""
    drawn = []
    for env_id, label, members in groups:
        common = sorted(set.intersection(*({point.timesteps for point in evaluations[run]} for run in members)))
        if common:
            drawn.append((env_id, label, members, common))
            continue
        for run in members:
            steps = [point.timesteps for point in evaluations[run]]
            drawn.append((env_id, f"{label} seed {run.read_config().seed} ({run.name})", [run], steps))
    return drawn


def _group_by_settings(runs: Sequence[RunFolder]) -> list[tuple[str, str, list[RunFolder]]]:
    """(env id, label, runs) for each curve, in the order first seen: runs with the same settings but the seed
    share one when their seeds are distinct; where a seed repeats, each run of those settings gets its own curve.
    """
    groups: dict[str, tuple[str, str, list[RunFolder]]] = {}
    seeds: dict[RunFolder, int] = {}
    lengths: dict[str, int] = {}
    for run in runs:
        config = run.read_config()
        seeds[run] = config.seed
        settings = json.dumps(
            [
                config.env_id,
                config.preset,
                config.policy,
                config.hyperparameters.to_dict(),
                config.policy_kwargs,
                config.env_kwargs,
                config.init_from,
                config.total_timesteps,  # the exploration and learning-rate schedules scale with it
            ],
            sort_keys=True,
        )
        changes = {**config.env_kwargs, **config.overrides}
        label = " ".join([config.preset, *(f"{key}={value}" for key, value in sorted(changes.items()))])
        groups.setdefault(settings, (config.env_id, label, []))[2].append(run)
        lengths[settings] = config.total_timesteps
    labels = [label for _, label, _ in groups.values()]
    for key, (env_id, label, members) in groups.items():
        if labels.count(label) > 1:  # settings that differ in the run length only
            groups[key] = (env_id, f"{label} {lengths[key]:,} steps", members)
    curves = []
    for env_id, label, members in groups.values():
        if len({seeds[run] for run in members}) == len(members):
            curves.append((env_id, label, members))
        else:
            curves.extend((env_id, f"{label} seed {seeds[run]} ({run.name})", [run]) for run in members)
    return curves


def _figure() -> Figure:
    figure = require("matplotlib.figure", "plot", "plotting learning curves")
    width, height = FIGURE_PIXELS
    return figure.Figure(figsize=(width / _DPI, height / _DPI), dpi=_DPI, layout="constrained")


def _save(figure: Figure, path: str | os.PathLike[str]) -> Path:
    with atomic_target(path) as temporary:
        figure.savefig(temporary, format="png", dpi=_DPI)
    return Path(path)
