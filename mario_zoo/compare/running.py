"""Running a comparison: every (algorithm, seed) run in a worker process of its own, evaluated alike.

Every ``eval_freq`` env steps, :class:`mario_zoo.callbacks.PeriodicEvaluation` (an SB3 callback, so the one object
serves both agents; the same one ``mario-zoo train`` uses) plays ``eval_episodes`` seeded greedy episodes; after
training a final evaluation plays ``final_episodes``. Both use :func:`mario_zoo.evaluation.evaluate`'s
``episodes`` protocol (Mario: 0..30 random no-ops at each start, ``x_pos`` and flag rate). Speeds are env steps per
second of training, evaluation time excluded; the two algorithms' runs are interleaved so that they share the
machine's load alike.
"""

from __future__ import annotations

import dataclasses
import json
import multiprocessing
import resource
import sys
import time
from collections.abc import Sequence
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from typing import Any

import gymnasium as gym
from stable_baselines3.common.callbacks import BaseCallback
from stable_baselines3.common.monitor import Monitor
from tqdm import tqdm

from mario_zoo.atomic import write_text
from mario_zoo.callbacks import PeriodicEvaluation, ProgressBar
from mario_zoo.compare.report import PLOT_WINDOW, to_json, to_markdown
from mario_zoo.compare.results import CompareResult, RunResult
from mario_zoo.compare.settings import ALGORITHMS, LABELS, ComparePlan, make_agent, plan_compare
from mario_zoo.evaluation import is_mario, protocol_for
from mario_zoo.extras import installed
from mario_zoo.plotting import plot_runs
from mario_zoo.run_lock import lock_run
from mario_zoo.runs import RunConfig, RunFolder


def _train_one(plan: ComparePlan, algorithm: str, seed: int, position: int) -> RunResult:
    """Train and evaluate one run; runs in a worker process of its own (see :func:`run_compare`)."""
    import torch

    # One thread per run: workers run side by side, and small networks do not gain from more.
    torch.set_num_threads(1)
    settings = plan.settings
    run = RunFolder(plan.out / "runs" / f"{algorithm}_s{seed}")
    config = RunConfig(
        env_id=settings.env_id,
        # The plot groups runs by their settings; the label is what tells the two algorithms apart.
        preset=LABELS[algorithm],
        policy=settings.policy,
        total_timesteps=plan.steps,
        seed=seed,
        device="cpu",
        hyperparameters=settings.hyperparameters,
        policy_kwargs=settings.policy_kwargs,
        env_kwargs=settings.env_kwargs,
        eval_episodes=plan.final_episodes,
        command=list(plan.command),
    )
    # Held while the run folder is written, as `mario-zoo train` holds it: a second writer is refused.
    with lock_run(run):
        run.write_config(config)
        env = Monitor(
            gym.make(settings.env_id, **settings.env_kwargs),
            str(run.monitor),
            info_keywords=("x_pos", "flag_get") if is_mario(settings.env_id) else (),
        )
        model = make_agent(algorithm, settings, env, seed)
        # Seeded greedy episodes (Mario: random no-op starts): compare tests differences over episodes.
        evaluations = PeriodicEvaluation(
            settings.env_id,
            settings.env_kwargs,
            eval_freq=plan.eval_freq,
            n_episodes=plan.eval_episodes,
            protocol="episodes",
        )
        callbacks: list[BaseCallback] = [evaluations]
        if plan.progress:
            callbacks.append(ProgressBar(plan.steps, description=f"{LABELS[algorithm]} seed {seed}", position=position))
        start = time.perf_counter()
        try:
            model.learn(plan.steps, callback=callbacks)
        finally:
            env.close()
        train_seconds = time.perf_counter() - start - evaluations.seconds
        evaluations.evaluate(protocol_for(settings.env_id, "episodes", n_episodes=plan.final_episodes))
        final = evaluations.evaluation
        assert final is not None
        run.write_config(dataclasses.replace(config, status="finished"))
    # ru_maxrss is in KiB on Linux, in bytes on macOS.
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * (1 if sys.platform == "darwin" else 1024)
    return RunResult(
        algorithm=algorithm,
        seed=seed,
        num_timesteps=model.num_timesteps,
        train_seconds=train_seconds,
        peak_rss_bytes=peak,
        curve=evaluations.history,
        final_evaluation=final,
    )


def compare(env_id: str, **options: Any) -> CompareResult:
    """Plan (:func:`plan_compare`, same keyword arguments) and run (:func:`run_compare`) a comparison.

    Example (a 2-seed, 2,000-step CartPole comparison takes ~10 s)::

        result = compare("CartPole-v1", steps=2000, seeds="0-1", workers=2, out="compare/smoke")
        print(result.table.read_text())
    """
    return run_compare(plan_compare(env_id, **options))


def run_compare(plan: ComparePlan) -> CompareResult:
    """Train every (algorithm, seed) run of ``plan`` in worker processes and write the table, plot and JSON.

    Each run gets a fresh process (``max_tasks_per_child=1``), so its peak memory is its own; processes fork from
    a server that has imported torch and SB3 once, so starting one costs milliseconds.
    """
    start = time.perf_counter()
    plan.out.mkdir(parents=True, exist_ok=True)
    # Ours and SB3's runs of a seed start together, so both meet the same machine load.
    tasks = [(algorithm, seed) for seed in plan.seeds for algorithm in ALGORITHMS]
    context = multiprocessing.get_context("forkserver")
    context.set_forkserver_preload([__name__])
    # The bars of all workers share one terminal; this lock keeps their redraws from interleaving.
    lock = context.RLock()
    with ProcessPoolExecutor(
        max_workers=min(plan.workers, len(tasks)),
        mp_context=context,
        max_tasks_per_child=1,
        initializer=tqdm.set_lock,
        initargs=(lock,),
    ) as pool:
        futures = [
            pool.submit(_train_one, plan, algorithm, seed, position) for position, (algorithm, seed) in enumerate(tasks)
        ]
        results = [future.result() for future in futures]
    runs = sorted(results, key=lambda run: (ALGORITHMS.index(run.algorithm), plan.seeds.index(run.seed)))
    plot = _plot(plan, runs)
    result = CompareResult(
        plan, runs, time.perf_counter() - start, plan.out / "compare.md", plot, plan.out / "compare.json"
    )
    write_text(result.table, to_markdown(result))
    write_text(result.raw, json.dumps(to_json(result), indent=2, sort_keys=True) + "\n")
    return result


def _plot(plan: ComparePlan, runs: Sequence[RunResult]) -> Path | None:
    folders = [RunFolder(plan.out / "runs" / f"{run.algorithm}_s{run.seed}") for run in runs]
    folders = [folder for folder in folders if folder.episodes().returns.size]
    if not folders or not installed("matplotlib"):  # the plot extra draws it; compare.md holds the numbers
        return None
    path = plan.out / "learning_curves.png"
    title = f"{plan.settings.env_id}: mario_zoo DQN vs SB3 DQN, {plan.settings.preset} settings, {plan.steps:,} steps"
    plot_runs(folders, path, window=PLOT_WINDOW, title=title)
    return path
