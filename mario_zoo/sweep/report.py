"""What a sweep leaves in its folder, read from the study's results: ``best.yml`` (a preset file
``mario-zoo train --preset`` takes), ``trials.csv``, Optuna's optimisation-history and parameter-importance plots,
and ``summary.md`` (also printed); for a seed matrix, the mean, a 95% bootstrap interval and the per-seed table.

Example:
    >>> exit_text(-9), exit_text(1)
    ('was killed by SIGKILL', 'exited with code 1')
"""

from __future__ import annotations

import csv
import dataclasses
import io
import signal
import statistics
import warnings
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import optuna

from mario_zoo.agents.presets import Preset, write_preset_file
from mario_zoo.atomic import write_text
from mario_zoo.compare.stats import bootstrap_interval
from mario_zoo.evaluation import run_protocol
from mario_zoo.extras import installed
from mario_zoo.sweep.plan import SweepPlan, trial_preset
from mario_zoo.sweep.space import NETWORK_PARAMETER, env_kwarg
from mario_zoo.sweep.study import shown_url


def write_outputs(
    plan: SweepPlan, study: optuna.Study, seconds: float, exits: tuple[int, ...], complete: bool
) -> tuple[tuple[Path, ...], str]:
    """Write the outputs of ``plan``'s study into ``plan.out``; return the files written (``summary.md`` last) and
    the summary."""
    trials = study.get_trials(deepcopy=False)
    files = [_write_trials_csv(plan.out / "trials.csv", trials)]
    if plan.seeds is None:
        best = _best_trial(trials)
        if best is not None:
            files.append(plan.out / "best.yml")
            write_preset_file(best_preset(plan, best.params, best.value, best.number), files[-1])
        if installed("matplotlib"):  # the plot extra; the summary and trials.csv hold the same numbers
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
    return dataclasses.replace(
        trial_preset(plan, decoded),
        name=f"{plan.preset.name}-sweep",
        description=(
            f"Best of study {plan.study_name} (trial {number}, steady {_OBJECTIVE_NAMES[plan.objective]} {value:.2f}): "
            f"{plan.preset.name} tuned "
            f"on {plan.preset.env_id} for {plan.steps:,} steps by mario-zoo sweep."
        ),
        n_timesteps=plan.steps,
    )


def _write_trials_csv(path: Path, trials: Sequence[optuna.trial.FrozenTrial]) -> Path:
    names = sorted({name for trial in trials for name in trial.params})
    nature = any("nature" in trial.user_attrs for trial in trials)
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(
        ["number", "state", "value", "duration_seconds", "retry_of", *names, *(NATURE_COLUMNS if nature else ())]
    )
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
                *(_nature_cells(trial) if nature else ()),
            ]
        )
    return write_text(path, buffer.getvalue())


NATURE_COLUMNS = ("nature_episodes", "nature_mean_reward", "nature_flag_rate")
"""``trials.csv``'s columns for the Nature-protocol evaluation of each finished trial (``--nature-episodes``)."""


def _nature_cells(trial: optuna.trial.FrozenTrial) -> list[Any]:
    nature = trial.user_attrs.get("nature")
    if not isinstance(nature, dict):
        return ["", "", ""]
    return [nature.get(key, "") for key in ("n_eval_episodes", "mean_reward", "flag_rate")]


def _nature_text(trial: optuna.trial.FrozenTrial) -> str:
    """A trial's Nature-protocol result for the summary: ``"12/30 flags"`` (Mario) or ``"return 187.3"``."""
    nature = trial.user_attrs.get("nature")
    if not isinstance(nature, dict):
        return ""
    if nature.get("flag_count") is not None:
        return f"{nature['flag_count']}/{nature['n_eval_episodes']} flags"
    return f"return {nature['mean_reward']:.1f}"


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


_OBJECTIVE_NAMES = {"mean_reward": "return", "flag_rate": "flag rate", "x_pos_mean": "furthest x"}


def _objective_text(plan: SweepPlan) -> str:
    protocol = run_protocol(plan.preset.env_id, n_episodes=plan.eval_episodes)
    text = (
        f"mean {_OBJECTIVE_NAMES[plan.objective]} of the last {plan.steady} evaluations ({protocol.name} protocol, "
        f"{protocol.n_episodes} greedy episodes every {plan.eval_freq:,} steps, mario_zoo.evaluation.evaluate), after "
        f"{plan.steps:,} training steps"
    )
    if plan.nature_episodes:
        text += f"; each finished trial also plays {plan.nature_episodes} Nature-protocol episodes (epsilon 0.05)"
    return text


def _ending(complete: bool, exits: tuple[int, ...], plan: SweepPlan) -> list[str]:
    lines = []
    killed = [f"worker {number} {exit_text(code)}" for number, code in enumerate(exits) if code]
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
        f"- storage: {shown_url(plan.storage)}",
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
        for name, value in best.params.items():
            if name == NETWORK_PARAMETER:
                was = plan.preset.policy_kwargs.get(name)
            elif env_kwarg(name) is not None:
                was = plan.preset.env_kwargs.get(env_kwarg(name), "(env default)")
            else:
                was = getattr(plan.preset.config, name)
            lines.append(f"| {name} | {_cell(value)} | {_cell(was)} |")
        nature = " Nature |" if plan.nature_episodes else ""
        lines += ["", "## Top trials", "", f"| trial | value | state | seconds |{nature}", "|---|---|---|---|"]
        lines[-1] += "---|" if nature else ""
        ranked = sorted((trial for trial in trials if trial.value is not None), key=lambda trial: -trial.value)
        for trial in ranked[:5]:
            duration = trial.duration.total_seconds() if trial.duration is not None else float("nan")
            row = f"| {trial.number} | {trial.value:.2f} | {trial.state.name.lower()} | {duration:.1f} |"
            lines.append(row + (f" {_nature_text(trial)} |" if nature else ""))
        lines += ["", f"Train with it: `mario-zoo train --preset {plan.out / 'best.yml'}`"]
    lines += ["", "Files: " + ", ".join(str(path) for path in files)]
    lines += _ending(complete, exits, plan)
    return "\n".join(lines) + "\n"


def _cell(value: Any) -> str:
    return f"{value:.4g}" if isinstance(value, float) else str(value)


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
        f"- storage: {shown_url(plan.storage)}",
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
    nature = plan.nature_episodes > 0
    lines += [
        "| seed | value | seconds |" + (" Nature |" if nature else ""),
        "|---|---|---|" + ("---|" if nature else ""),
    ]
    for seed in plan.seeds:
        trial = by_seed.get(seed)
        if trial is None:
            lines.append(f"| {seed} | not finished | |" + (" |" if nature else ""))
        else:
            row = f"| {seed} | {trial.value:.2f} | {trial.duration.total_seconds():.1f} |"
            lines.append(row + (f" {_nature_text(trial)} |" if nature else ""))
    lines += _ending(complete, exits, plan)
    return "\n".join(lines) + "\n"


def exit_text(code: int) -> str:
    """How a worker process ended, from its exit code (negative: killed by that signal)."""
    if code < 0:
        return f"was killed by {signal.Signals(-code).name}"
    return f"exited with code {code}"
