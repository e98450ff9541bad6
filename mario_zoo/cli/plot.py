"""``mario-zoo plot``: learning curves of runs, seeds averaged (the work is :mod:`mario_zoo.plotting`)."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import TYPE_CHECKING

from mario_zoo.cli.common import UsageError, bad_input, positive

if TYPE_CHECKING:
    from mario_zoo.runs import RunFolder

PLOT_EPILOG = """examples:
  mario-zoo plot runs/CartPole-v1_dqn_s0_20250101-120000 --out curve.png
  mario-zoo plot runs/ --out curves.png                      every run in runs/
  mario-zoo plot runs/*_s0_* runs/*_s1_* --x episodes --window 20

Runs that differ only in their seed are drawn as one curve: the mean, with a band of +/- one standard deviation.
"""


def add_parser(verbs: argparse._SubParsersAction) -> None:
    plot = verbs.add_parser(
        "plot",
        help="plot the learning curves of runs into a PNG",
        description="Plot the learning curves (mean return of the last episodes) of one or several runs, or with "
        "--evaluations their periodic evaluations.",
        epilog=PLOT_EPILOG,
    )
    plot.add_argument("runs", nargs="+", metavar="RUN", help="run folders, or folders of runs")
    plot.add_argument("--out", default="learning_curves.png", help="PNG file (default learning_curves.png)")
    plot.add_argument("--window", type=positive, help="episodes per moving average (default 100)")
    plot.add_argument("--x", choices=("steps", "episodes"), help="x axis (default steps)")
    plot.add_argument("--title", help="figure title (default: the env IDs)")
    plot.add_argument(
        "--evaluations",
        action="store_true",
        help="plot the runs' periodic evaluations (evaluations.csv) against env steps: Mario's flag rate and mean "
        "furthest x_pos, else the mean return",
    )
    plot.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    from mario_zoo.plotting import plot_evaluations, plot_runs

    if args.evaluations and (args.window is not None or args.x is not None):
        raise UsageError("--window and --x shape the training-return curves; --evaluations plots against env steps.")
    args.window = 100 if args.window is None else args.window
    args.x = args.x or "steps"
    with bad_input():
        out = Path(args.out)
        if out.suffix.lower() != ".png":
            raise ValueError(f"--out must be a .png file, got {str(out)!r}.")
        runs = _open_runs(args.runs)
        if args.evaluations:
            _, curves, skipped = plot_evaluations(runs, out, title=args.title)
        else:
            plotted = plot_runs(runs, out, window=args.window, x_axis=args.x, title=args.title)
    if args.evaluations:
        for run in skipped:
            print(f"Skipped {run.path}: no periodic evaluation yet.")
        print(f"Wrote {out}: {len(runs) - len(skipped)} run(s) in {len(curves)} curve(s); their evaluations:")
        for curve in curves:
            print(f"  {curve.summary()}")
        return 0
    for run in plotted.skipped:
        print(f"Skipped {run.path}: {_why_no_episodes(run)}")
    drawn = len(runs) - len(plotted.skipped)
    print(f"Wrote {out}: {drawn} run(s) in {len(plotted.curves)} curve(s); where each curve ends:")
    for curve in plotted.curves:
        print(f"  {curve.summary(args.window, args.x)}")
    return 0


def _open_runs(texts: list[str]) -> list[RunFolder]:
    """The RUN arguments: each a run folder, or a folder of runs."""
    from mario_zoo.runs import describe_runs, list_runs, open_run

    runs: list[RunFolder] = []
    for text in texts:
        path = Path(text)
        inside = list_runs(path) if not (path / "run.json").exists() else []
        if path.is_dir() and inside:
            runs.extend(inside)
        elif path.is_dir() and not (path / "run.json").exists():
            raise ValueError(f"{path} is neither a run folder nor a folder of runs. {describe_runs(path.parent)}")
        else:
            runs.append(open_run(path))
    return runs


def _why_no_episodes(run: RunFolder) -> str:
    """Why ``run`` has no episode to plot: none finished yet, or ``monitor.csv`` has lines but none reads as one."""
    if unreadable := run.unreadable_monitor_rows():
        return (
            f"its {run.monitor.name} has {unreadable} line(s) that are not episode rows (r,l,t) and none that is: the "
            "file is damaged."
        )
    return "no finished episode yet."
