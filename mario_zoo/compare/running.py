"""Running a comparison: every (algorithm, seed) run in a worker process of its own, evaluated alike.

it serves both agents) plays ``eval_episodes`` greedy episodes; after training a final evaluation plays
``final_episodes``. Both use :func:`mario_zoo.evaluation.evaluate` (Mario: 0..30 random no-ops at each start,
``x_pos`` and flag rate). Speeds are env steps per second of training, evaluation time excluded; the two
algorithms' runs are interleaved so that they share the machine's load alike.

Example:
"""

from __future__ import annotations

import dataclasses
import json
import multiprocessing
import resource
import statistics
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
from mario_zoo.callbacks import ProgressBar
from mario_zoo.compare.report import PLOT_WINDOW, to_json, to_markdown
from mario_zoo.compare.results import CompareResult, RunResult
from mario_zoo.compare.settings import ALGORITHMS, LABELS, ComparePlan, make_agent, plan_compare
from mario_zoo.evaluation import Evaluation, evaluate, evaluation_env_kwargs, is_mario
from mario_zoo.extras import installed
from mario_zoo.plotting import plot_runs
from mario_zoo.runs import RunConfig, RunFolder, lock_run


class PeriodicEvaluation(BaseCallback):
    """Every ``eval_freq`` env steps, evaluate the model greedily (:func:`mario_zoo.evaluation.evaluate`).

    An SB3 callback, so the same object measures our DQN and SB3's. ``curve`` gets one point per evaluation;
    ``seconds`` adds up the time spent evaluating, which a speed measurement subtracts.
    """

    def __init__(self, env_id: str, env_kwargs: dict[str, Any], eval_freq: int, n_episodes: int):
        super().__init__()
        self.env_id = env_id
        self.env_kwargs = evaluation_env_kwargs(env_id, env_kwargs)
        self.eval_freq = eval_freq
        self.n_episodes = n_episodes
        self.curve: list[dict[str, Any]] = []
        self.seconds = 0.0
        self._next = eval_freq

    def _on_step(self) -> bool:
        if self.num_timesteps >= self._next:
            self.evaluate(self.n_episodes)
            self._next = (self.num_timesteps // self.eval_freq + 1) * self.eval_freq
        return True

    def evaluate(self, n_episodes: int) -> Evaluation:
        """Evaluate now over ``n_episodes`` and append the point to ``curve``."""
        start = time.perf_counter()
        # Seeded greedy episodes (Mario: random no-op starts): compare tests differences over episodes.
        evaluation = evaluate(self.model, self.env_id, self.env_kwargs, protocol="episodes", n_episodes=n_episodes)
        self.seconds += time.perf_counter() - start
        self.curve.append({"steps": self.model.num_timesteps, "episodes": n_episodes, **_numbers(evaluation)})
        return evaluation


def _numbers(evaluation: Evaluation) -> dict[str, Any]:
    numbers = {"mean": evaluation.result.mean_reward, "std": evaluation.result.std_reward}
    if evaluation.x_pos is not None:
        numbers |= {"x_pos_mean": statistics.fmean(evaluation.x_pos), "x_pos_max": max(evaluation.x_pos)}
        numbers["flag_rate"] = evaluation.flag_rate
    return numbers


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
        evaluations = PeriodicEvaluation(settings.env_id, settings.env_kwargs, plan.eval_freq, plan.eval_episodes)
        callbacks: list[BaseCallback] = [evaluations]
        if plan.progress:
            callbacks.append(ProgressBar(plan.steps, description=f"{LABELS[algorithm]} seed {seed}", position=position))
        start = time.perf_counter()
        try:
            model.learn(plan.steps, callback=callbacks)
        finally:
            env.close()
        train_seconds = time.perf_counter() - start - evaluations.seconds
        final = evaluations.evaluate(plan.final_episodes)
        run.write_config(dataclasses.replace(config, status="finished"))
    # ru_maxrss is in KiB on Linux, in bytes on macOS.
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * (1 if sys.platform == "darwin" else 1024)
    return RunResult(
        algorithm=algorithm,
        seed=seed,
        num_timesteps=model.num_timesteps,
        train_seconds=train_seconds,
        peak_rss_bytes=peak,
        final=_numbers(final),
        curve=evaluations.curve,
        final_evaluation=final.to_dict(),
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
