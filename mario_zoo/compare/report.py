"""The report of a comparison: ``compare.md`` (tables, intervals, tests, the settings mapping) and ``compare.json``.

Example:
    >>> _plural(1, "seed"), _seed_text((0, 1, 2, 5))
    ('1 seed', '0,1,2,5')
"""

from __future__ import annotations

import dataclasses
import statistics
from collections.abc import Sequence
from importlib.metadata import version
from typing import Any

from mario_zoo.compare.results import AlgorithmSummary, CompareResult, differences
from mario_zoo.compare.settings import LABELS, MEMORY_ONLY_FIELDS, NO_SB3_EQUIVALENT, sb3_kwargs
from mario_zoo.compare.stats import CONFIDENCE

PLOT_WINDOW = 20
"""Training episodes per moving average in the plot: short budgets have only a few hundred episodes."""


def to_markdown(result: CompareResult, *, title: bool = True) -> str:
    """The results table, the ours/SB3 speed ratio, the settings both used and what SB3 could not match.

    ``title=False`` leaves out the top-level ``#`` heading, for pages that give the section their own title.
    """
    plan, settings = result.plan, result.plan.settings
    summaries = result.summaries()
    mario = summaries[0].x_pos_means is not None
    lines = [f"# {LABELS['mario_zoo']} vs {LABELS['sb3']} on {settings.env_id}", ""] if title else []
    lines += [
        f"{plan.steps:,} env steps per run, seeds {_seed_text(plan.seeds)}, {plan.workers} worker(s), "
        f"{result.seconds / 60:.1f} min. Final evaluation: {_plural(plan.final_episodes, 'greedy episode')} per seed; "
        f"periodic: {plan.eval_episodes} every {plan.eval_freq:,} steps"
        + (" (Mario: 0..30 random no-ops at each start)." if mario else "."),
        "",
        *_results_table(result, summaries, mario),
    ]
    ours, theirs = (statistics.median(summary.steps_per_second) for summary in summaries)
    lines += [
        "",
        f"Speed ratio (median env steps/s, ours / SB3): {ours / theirs:.2f}x. Speeds exclude evaluation time.",
        "",
        *_difference_section(result, summaries),
        "",
        *_settings_section(result),
    ]
    if result.plot is not None:
        curves = f"training-episode return, {PLOT_WINDOW}-episode mean, mean +/- std over seeds"
        lines += ["", f"Learning curves: {result.plot.name} ({curves}). Raw numbers: {result.raw.name}."]
    return "\n".join(lines) + "\n"


def _results_table(result: CompareResult, summaries: list[AlgorithmSummary], mario: bool) -> list[str]:
    """One row per library: returns, threshold statistics, Mario's x_pos and flags, speed and memory."""
    plan, threshold = result.plan, result.plan.settings.threshold
    header = ["algorithm", f"final eval return (mean +/- std over {_plural(len(plan.seeds), 'seed')})"]
    header.append(f"steady return (mean of the last {plan.steady_last} evals; 95% CI)")
    if threshold is not None:
        header += [
            f"evals >= {threshold:g} (share; 95% CI)",
            f"seeds solved (>= {threshold:g})",
            f"median env steps to {threshold:g}",
        ]
    if mario:
        header += ["x_pos mean", "x_pos max", "flag rate"]
    header += ["env steps/s (median)", "peak RSS per worker (median, max)"]
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    for summary in summaries:
        data = summary.to_dict()
        cells = [LABELS[summary.algorithm], f"{data['final_mean']:.1f} +/- {data['final_std']:.1f}"]
        cells.append(f"{data['steady_mean']:.1f} {_interval(summary.steady_interval, '.1f')}")
        if threshold is not None:
            cells.append(f"{data['share_mean']:.0%} {_interval(summary.share_interval, '.0%')}")
            reached = sum(steps is not None for steps in summary.steps_to_threshold)
            median = summary.median_steps_to_threshold
            cells += [
                f"{summary.solved}/{len(plan.seeds)}",
                f"{median:,.0f} ({reached}/{len(plan.seeds)} reached)" if median is not None else "never",
            ]
        if mario:
            cells += [
                f"{statistics.fmean(summary.x_pos_means):.0f}",
                f"{summary.x_pos_max}",
                f"{statistics.fmean(summary.flag_rates):.0%}",
            ]
        cells += [
            f"{data['median_steps_per_second']:,.0f}",
            f"{data['median_peak_rss_bytes'] / 2**20:,.0f} MiB, {max(summary.peak_rss_bytes) / 2**20:,.0f} MiB",
        ]
        lines.append("| " + " | ".join(cells) + " |")
    return lines


def _difference_section(result: CompareResult, summaries: list[AlgorithmSummary]) -> list[str]:
    """ "Is there a difference?": what is compared, and one sentence per tested difference."""
    plan, threshold = result.plan, result.plan.settings.threshold
    share = (
        f" and the share is that of its periodic evaluations reaching {threshold:g}" if threshold is not None else ""
    )
    return [
        "## Is there a difference?",
        "",
        f"Per run, the steady return is the mean return of its last {plan.steady_last} periodic evaluations{share}; "
        f"intervals are {CONFIDENCE:.0%} bootstrap intervals of the mean over seeds, and each difference is tested "
        "with a two-sided permutation test of equal means.",
        "",
        *(
            [f"- {difference.sentence()}" for difference in differences(*summaries)]
            or ["- one seed per library: no interval and no test of the difference (run several, e.g. --seeds 0-9)."]
        ),
    ]


def _settings_section(result: CompareResult) -> list[str]:
    """The matched settings, the env kwargs both used, and what was not matched."""
    settings = result.plan.settings
    lines = [
        f"## Matched settings (preset `{settings.preset}`)",
        "",
        "| setting | value | mario_zoo DQN | SB3 DQN |",
        "|---|---|---|---|",
        *(
            f"| {name} | {value} | `{ours_name}` | `{sb3_name}` |"
            for name, value, ours_name, sb3_name in settings.mapping_rows()
        ),
    ]
    if settings.env_kwargs:
        kwargs = ", ".join(f"{key}={value!r}" for key, value in settings.env_kwargs.items())
        lines += ["", f"Env kwargs (both): {kwargs}."]
    kept = [name for name in MEMORY_ONLY_FIELDS if getattr(settings.hyperparameters, name)]
    notes = [
        *(f"`{name}={value}` off: {NO_SB3_EQUIVALENT[name]}." for name, value in settings.dropped.items()),
        *(f"`{name}=True` kept for ours: it changes replay memory, not learning." for name in kept),
    ]
    if notes:
        lines += ["", "Not matched:", "", *(f"- {note}" for note in notes)]
    lines += [
        "",
        "SB3 cannot match (kept off in both): double DQN, dueling head, prioritized replay, exponential epsilon, "
        "MSE loss, element-wise gradient clipping.",
    ]
    return lines


def _interval(interval: tuple[float, float] | None, spec: str) -> str:
    """``[low, high]`` in ``spec``; one seed has no interval."""
    return "(one seed)" if interval is None else f"[{interval[0]:{spec}}, {interval[1]:{spec}}]"


def _plural(number: int, noun: str) -> str:
    """``"1 seed"``, ``"2 seeds"``."""
    return f"{number} {noun}{'' if number == 1 else 's'}"


def _seed_text(seeds: Sequence[int]) -> str:
    contiguous = list(seeds) == list(range(seeds[0], seeds[0] + len(seeds)))
    return f"{seeds[0]}-{seeds[-1]}" if contiguous and len(seeds) > 1 else ",".join(map(str, seeds))


def to_json(result: CompareResult) -> dict[str, Any]:
    """Every number of ``result`` as plain data (what ``compare.json`` holds)."""
    plan = result.plan
    return {
        "env_id": plan.settings.env_id,
        "steps": plan.steps,
        "seeds": list(plan.seeds),
        "workers": plan.workers,
        "eval_freq": plan.eval_freq,
        "eval_episodes": plan.eval_episodes,
        "final_episodes": plan.final_episodes,
        "seconds": result.seconds,
        "command": list(plan.command),
        "settings": dataclasses.asdict(plan.settings) | {"sb3_kwargs": _plain(sb3_kwargs(plan.settings))},
        "mapping": [
            dict(zip(("setting", "value", "mario_zoo", "sb3"), row, strict=True))
            for row in plan.settings.mapping_rows()
        ],
        "summary": {summary.algorithm: summary.to_dict() for summary in result.summaries()},
        "steady_last": plan.steady_last,
        "differences": [difference.to_dict() for difference in differences(*result.summaries())],
        "runs": [run.to_dict() for run in result.runs],
        "versions": {name: version(name) for name in ("mario-zoo", "stable-baselines3", "torch", "gymnasium")},
    }


def _plain(value: Any) -> Any:
    """Classes (an optimizer) as their dotted names, so the SB3 kwargs fit in JSON."""
    if isinstance(value, dict):
        return {key: _plain(item) for key, item in value.items()}
    if isinstance(value, type):
        return f"{value.__module__}.{value.__qualname__}"
    if isinstance(value, tuple):
        return list(value)
    return value
