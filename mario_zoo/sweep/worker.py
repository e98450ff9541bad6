"""Running a sweep: worker processes take trials from the study until it has ``plan.trials`` finished ones, each
trial trains the preset with its settings and is scored on its periodic evaluations, and the main process watches
the workers and writes the outputs (:mod:`~mario_zoo.sweep.report`).

- **The objective.** A trial trains the preset with the sampled settings for ``steps`` env steps; every
  ``eval_freq`` steps it plays ``eval_episodes`` greedy episodes with :func:`mario_zoo.evaluation.evaluate` (the
  one evaluation protocol; Mario: the exact no-op sweep) and reports to Optuna the mean of the last ``steady``
  evaluations' ``objective`` (the return, or Mario's flag rate or mean furthest x), so the pruner sees the same
  steady statistic the trial is finally scored by. With ``nature_episodes``, a finished trial's agent is also
  played under the Nature protocol, and that evaluation is kept in the trial's ``nature`` user attribute.
- **Exactly N trials.** ``--trials N`` is the study's total. A worker decides whether one more trial is needed
  (counting the running and queued ones) and queues it while holding the study's lock
  (:mod:`~mario_zoo.sweep.lock`), and Optuna's ``ask`` hands queued trials out one each, so parallel workers never
  overshoot, on one machine or many.
"""

from __future__ import annotations

import contextlib
import itertools
import multiprocessing
import os
import signal
import socket
import statistics
import sys
import time
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import optuna
import torch
from optuna.trial import TrialState
from tqdm import tqdm

from mario_zoo.agents.actor import die_with_parent
from mario_zoo.callbacks import PeriodicEvaluation
from mario_zoo.evaluation import evaluate
from mario_zoo.planning import build_model, plan_run
from mario_zoo.runs import EvaluationPoint
from mario_zoo.sweep.plan import SweepPlan, open_study, trial_preset
from mario_zoo.sweep.report import exit_text, write_outputs
from mario_zoo.sweep.space import encode_choice
from mario_zoo.sweep.study import count_trials, study_lock, tie_settings

_POLL_SECONDS = 0.5


def _trial_evaluations(trial: optuna.Trial, plan: SweepPlan, env_kwargs: dict[str, Any]) -> PeriodicEvaluation:
    """The periodic evaluation of ``mario-zoo train`` (no files written) that reports the steady statistic (the mean
    objective of the last ``steady`` evaluations) to the trial after each evaluation, and stops training when the
    pruner says so."""

    def report(point: EvaluationPoint) -> bool:
        trial.report(_steady(evaluations.history, plan.steady, plan.objective), point.timesteps)
        return not trial.should_prune()

    evaluations = PeriodicEvaluation(
        plan.preset.env_id, env_kwargs, eval_freq=plan.eval_freq, n_episodes=plan.eval_episodes, on_evaluation=report
    )
    return evaluations


def _steady(history: list[EvaluationPoint], last: int, objective: str = "mean_reward") -> float:
    """The steady statistic: the mean ``objective`` (an evaluation statistic) of the last ``last`` evaluations.

    Example:
        >>> points = [EvaluationPoint(timesteps=step, n_eval_episodes=31, mean_reward=reward, std_reward=0.0,
        ...                           flag_rate=flags) for step, reward, flags in ((1, 900.0, 0.2), (2, 1500.0, 0.6))]
        >>> _steady(points, 3), _steady(points, 1, "flag_rate")
        (1200.0, 0.6)
    """
    return statistics.fmean(getattr(point, objective) for point in history[-last:])


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
    config = plan_run(
        preset=trial_preset(plan, params),
        init_from=plan.init_from,
        seed=seed,
        steps=plan.steps,
        device="cpu",
        eval_episodes=0,
    )
    began = time.monotonic()
    model = build_model(config, plan.init_weights)
    evaluations = _trial_evaluations(trial, plan, config.env_kwargs)
    try:
        model.learn(plan.steps, callback=evaluations)
        # A trial the pruner stopped is pruned; one that ran its budget is scored, after its last evaluation.
        pruned = evaluations.stopped
        if not pruned and (evaluations.last is None or evaluations.last.timesteps < plan.steps):
            evaluations.evaluate()
    finally:
        model.get_env().close()
    history = evaluations.history
    trial.set_user_attr("evaluations", [[point.timesteps, getattr(point, plan.objective)] for point in history])
    trial.set_user_attr("train_seconds", round(time.monotonic() - began, 3))
    value = _steady(history, plan.steady, plan.objective)
    if pruned:
        raise optuna.TrialPruned(f"pruned at step {history[-1].timesteps} with {value:.2f}")
    if plan.nature_episodes:
        trial.set_user_attr("nature", _nature(model, config.env_id, config.env_kwargs, plan.nature_episodes))
    return value


NATURE_ATTRIBUTES = ("n_eval_episodes", "mean_reward", "std_reward", "flag_count", "flag_rate", "x_pos_mean")
"""What a trial's ``nature`` user attribute keeps of its Nature-protocol evaluation (``None`` where the env does not
report it)."""


def _nature(model: Any, env_id: str, env_kwargs: dict[str, Any], n_episodes: int) -> dict[str, Any]:
    """The Nature-protocol evaluation of a trial's agent (its averaged weights where it keeps them), as plain data."""
    averaged = getattr(model, "averaged_weights", contextlib.nullcontext)
    with averaged():
        nature = evaluate(model, env_id, env_kwargs, protocol="nature", n_episodes=n_episodes)
    return {name: getattr(nature, name) for name in NATURE_ATTRIBUTES}


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
    study = open_study(plan, stream=1 + index + os.getpid())
    lock = study_lock(plan.storage, plan.study_name)
    while True:
        with lock:
            optuna.storages.fail_stale_trials(study)
            counts = count_trials(study)
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
    grid = itertools.product(*([encode_choice(choice) for choice in item.choices] for item in plan.space.parameters))
    point = next(point for point in grid if tuple(map(repr, point)) not in taken)
    return dict(zip(names, point, strict=True))


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
    study = open_study(plan, stream=0)
    tie_settings(study, plan.settings)
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
    counts = count_trials(study)
    complete = counts["COMPLETE"] + counts["PRUNED"] >= plan.trials
    files, summary = write_outputs(plan, study, time.monotonic() - started, exits, complete)
    return SweepResult(plan, summary, files, complete, time.monotonic() - started, exits)


def _queue_seeds(plan: SweepPlan, study: optuna.Study) -> None:
    """Queue one trial per seed the study has not run or queued yet."""
    with study_lock(plan.storage, plan.study_name):
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
                        f"mario-zoo sweep: worker {number} (pid {worker.pid}) {exit_text(worker.exitcode)}; {retry}.",
                        file=sys.stderr,
                    )
            if plan.progress:
                counts = count_trials(study)
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


def _best_value(study: optuna.Study) -> float | None:
    values = [trial.value for trial in study.get_trials(deepcopy=False) if trial.state.name == "COMPLETE"]
    return max(values) if values else None
