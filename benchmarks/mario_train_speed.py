"""Mario training speed: ``mario-zoo train --preset mario`` (defaults) vs SB3's DQN, side by side in one run.

Every run trains on ``MarioDQN-v0`` (default env kwargs) with the same batch (32), ``train_freq`` (4),
``gradient_steps`` (1), ``learning_starts`` and step budget:

- **ours**: what ``mario-zoo train --preset mario`` builds (``training.plan_run`` + ``build_model``, with its
  torch thread setting): dueling double DQN, 3-step prioritized
  frame-deduplicating replay, and one actor process on a machine with >= 2 cores;
- **ours, no actor**: the same with ``actors=0`` (env and updates take turns in one process);
- **ours, fp32** and **ours, no actor, fp32**: the same in float32, when the ``precision`` hyperparameter exists;
- **SB3**: ``stable_baselines3.DQN("CnnPolicy", ...)`` with the same learning rate, Adam epsilon, gamma, target
  interval and gradient clipping, torch's default thread count, a replay buffer the size of the budget.

``--threads N`` gives every learner N torch threads (as ``mario-zoo train --threads N`` does; actors always use
one): on a machine busy with other work, torch's default (one thread per core) spins against that work.

Runs are interleaved (ours, ours no actor, ..., SB3, then again) and each reports env steps/s of the training
phase (from step ``learning_starts`` to the end: the long-run rate, without process start-up and the random
warm-up) and of the whole ``learn`` call; the table shows medians over ``--repeats`` and the ratio to SB3's. It
also reports the CPU time per env step of the learning process and of the actor over the training phase, and the
rate they allow when each process has a core to itself (``1 / max(learner, actor)``): on a machine shared with
other work the wall-clock rates measure the contention as much as the code.

``--memory`` instead trains one run of ours (with its actor) with a ``--buffer``-transition replay buffer and
reports, from /proc (Linux), each process's peak RSS and, in the last training round, its RSS, PSS (shared pages
split between the processes that map them: torch's libraries are mapped by both) and private memory, plus what
a full buffer adds (its arrays are mapped lazily: only the rows written so far are resident).

Usage:
    python benchmarks/mario_train_speed.py --steps 3000 --learning-starts 1000 --repeats 3
    python benchmarks/mario_train_speed.py --steps 1500 --learning-starts 500 --repeats 1 --threads 1   # quick
    python benchmarks/mario_train_speed.py --memory --steps 3000 --buffer 200000
"""

from __future__ import annotations

import argparse
import dataclasses
import functools
import os
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

import gymnasium as gym
import stable_baselines3
import torch
from stable_baselines3.common.callbacks import BaseCallback

import mario_zoo  # noqa: F401  (registers MarioDQN-v0)
from mario_zoo import training
from mario_zoo.agents import DQNConfig
from mario_zoo.agents.presets import load_preset

ENV_ID = "MarioDQN-v0"


def _actor_pids() -> list[int]:
    """This process's actor processes (spawned children), from /proc."""
    pids = []
    for entry in Path("/proc").iterdir():
        try:
            if (
                entry.name.isdigit()
                and int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1]) == os.getpid()
                and b"spawn_main" in (entry / "cmdline").read_bytes()
            ):
                pids.append(int(entry.name))
        except OSError:  # the process exited meanwhile
            continue
    return pids


def _cpu_seconds(pid: int) -> float:
    """User + system CPU time of ``pid`` so far."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


class TrainingPhaseClock(BaseCallback):
    """Wall and CPU time from when the step counter passes ``start`` on: CPU time of this process (all its
    threads) and of its actors, up to the end of each round (the last round's is kept; actors stop after it)."""

    def __init__(self, start: int):
        super().__init__()
        self.start = start
        self.started_at: float | None = None
        self.ended_at = 0.0
        self.steps_at_start = self.steps_at_cpu_end = 0
        self.cpu_at_start: tuple[float, float] = (0.0, 0.0)
        self.cpu_at_end: tuple[float, float] = (0.0, 0.0)

    def _cpu(self) -> tuple[float, float]:
        return time.process_time(), sum(_cpu_seconds(pid) for pid in _actor_pids())

    def _on_step(self) -> bool:
        if self.started_at is None and self.num_timesteps >= self.start:
            self.started_at, self.steps_at_start = time.perf_counter(), self.num_timesteps
            self.cpu_at_start = self._cpu()
        return True

    def _on_rollout_end(self) -> None:
        if self.started_at is not None:
            self.cpu_at_end, self.steps_at_cpu_end = self._cpu(), self.num_timesteps

    def _on_training_end(self) -> None:
        self.ended_at = time.perf_counter()


@dataclasses.dataclass(frozen=True)
class Measurement:
    training_rate: float
    """Env steps/s from ``learning_starts`` to the end."""
    overall_rate: float
    """Env steps/s of the whole ``learn`` call."""
    updates: int
    """Gradient updates done."""
    learner_cpu_ms: float
    """CPU milliseconds per env step of the learning process in the training phase."""
    actor_cpu_ms: float
    """CPU milliseconds per env step of the actor processes in the training phase (0 without actors)."""


def _measure(model, steps: int, learning_starts: int) -> Measurement:
    clock = TrainingPhaseClock(learning_starts)
    started = time.perf_counter()
    model.learn(steps, callback=clock)
    elapsed = time.perf_counter() - started
    trained = model.num_timesteps - clock.steps_at_start
    cpu_steps = max(1, clock.steps_at_cpu_end - clock.steps_at_start)
    learner_cpu, actor_cpu = (end - start for end, start in zip(clock.cpu_at_end, clock.cpu_at_start, strict=True))
    return Measurement(
        trained / (clock.ended_at - clock.started_at),
        model.num_timesteps / elapsed,
        model._n_updates,
        1e3 * learner_cpu / cpu_steps,
        1e3 * actor_cpu / cpu_steps,
    )


def run_ours(steps: int, learning_starts: int, overrides: dict[str, object], threads: int | None) -> Measurement:
    """``mario-zoo train --preset mario --hp learning_starts=... [overrides] [--threads N]`` without the run
    folder's files."""
    config = training.plan_run(
        preset="mario", steps=steps, overrides={"learning_starts": learning_starts, **overrides}, device="cpu"
    )
    training.configure_torch_threads(config, threads)
    model = training.build_model(config)
    try:
        return _measure(model, steps, learning_starts)
    finally:
        model.get_env().close()


def run_sb3(steps: int, learning_starts: int, threads: int | None) -> Measurement:
    if threads is not None:
        torch.set_num_threads(threads)
    preset = load_preset("mario").hyperparameters
    env = gym.make(ENV_ID)
    model = stable_baselines3.DQN(
        "CnnPolicy",
        env,
        learning_rate=preset["learning_rate"],
        buffer_size=steps,
        learning_starts=learning_starts,
        batch_size=preset["batch_size"],
        gamma=preset["gamma"],
        train_freq=preset["train_freq"],
        gradient_steps=preset["gradient_steps"],
        target_update_interval=preset["target_update_interval"],
        exploration_fraction=preset["exploration_fraction"],
        exploration_final_eps=preset["exploration_final_eps"],
        max_grad_norm=preset["max_grad_norm"],
        policy_kwargs={"optimizer_kwargs": {"eps": preset["adam_eps"]}},
        seed=0,
        device="cpu",
    )
    try:
        return _measure(model, steps, learning_starts)
    finally:
        env.close()


def variants() -> dict[str, dict[str, object]]:
    """Our runs: name -> ``--hp`` overrides on top of the defaults."""
    runs: dict[str, dict[str, object]] = {"ours (mario-zoo train defaults)": {}, "ours, no actor": {"actors": 0}}
    if "precision" in DQNConfig.field_names():
        runs["ours, fp32"] = {"precision": "fp32"}
        runs["ours, no actor, fp32"] = {"actors": 0, "precision": "fp32"}
    return runs


def speed(steps: int, learning_starts: int, repeats: int, threads: int | None) -> None:
    default_threads = torch.get_num_threads()
    runs: dict[str, Callable[[], Measurement]] = {
        name: functools.partial(run_ours, steps, learning_starts, overrides, threads)
        for name, overrides in variants().items()
    }
    runs["SB3 DQN (CnnPolicy)"] = functools.partial(run_sb3, steps, learning_starts, threads)
    results: dict[str, list[Measurement]] = {name: [] for name in runs}
    for _ in range(repeats):
        for name, run in runs.items():
            torch.set_num_threads(default_threads)
            results[name].append(run())
            print(f"{name}: {results[name][-1]}", file=sys.stderr, flush=True)
    defaults = training.plan_run(preset="mario", steps=steps).hyperparameters
    print(
        f"{steps:,} env steps per run, learning_starts {learning_starts:,}, batch 32, train_freq 4, 1 gradient step; "
        f"{repeats} interleaved repeats (medians); {os.process_cpu_count()} cores; torch threads per learner: "
        f"{threads or 'each launcher default'}; ours' defaults: actors="
        f"{defaults.actors}, precision={getattr(defaults, 'precision', 'fp32 (no precision option)')}\n"
    )
    sb3 = statistics.median(m.training_rate for m in results["SB3 DQN (CnnPolicy)"])
    sb3_overall = statistics.median(m.overall_rate for m in results["SB3 DQN (CnnPolicy)"])
    print(
        "| run | env steps/s, training phase | runs | x SB3 | env steps/s, whole learn() | x SB3 | updates "
        "| CPU ms per step: learner + actor | steps/s if every process had its own core | x SB3 |"
    )
    print("|---|---|---|---|---|---|---|---|---|---|")
    bounds = {
        name: statistics.median(1e3 / max(m.learner_cpu_ms, m.actor_cpu_ms) for m in measurements)
        for name, measurements in results.items()
    }
    for name, measurements in results.items():
        rate = statistics.median(m.training_rate for m in measurements)
        overall = statistics.median(m.overall_rate for m in measurements)
        each = ", ".join(f"{m.training_rate:.0f}" for m in measurements)
        learner = statistics.median(m.learner_cpu_ms for m in measurements)
        actor = statistics.median(m.actor_cpu_ms for m in measurements)
        print(
            f"| {name} | {rate:.0f} | {each} | {rate / sb3:.2f}x | {overall:.0f} | {overall / sb3_overall:.2f}x | "
            f"{measurements[0].updates} | {learner:.1f} + {actor:.1f} | {bounds[name]:.0f} | "
            f"{bounds[name] / bounds['SB3 DQN (CnnPolicy)']:.2f}x |"
        )


def _memory_kb(pid: int | str) -> dict[str, int]:
    """Peak RSS (``VmHWM``), and RSS, PSS and private (USS) memory now, in kB, from /proc."""
    status = dict(line.split(":", 1) for line in Path(f"/proc/{pid}/status").read_text().splitlines())
    rollup = {}
    for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines()[1:]:
        name, value = line.split(":", 1)
        rollup[name] = int(value.split()[0])
    return {
        "peak_rss": int(status["VmHWM"].split()[0]),
        "rss": rollup["Rss"],
        "pss": rollup["Pss"],
        "uss": rollup["Private_Clean"] + rollup["Private_Dirty"],
    }


class MemoryAtEnd(BaseCallback):
    """Reads the memory of this process and of its actor processes in the last round (they stop after it)."""

    def __init__(self, last_round_from: int):
        super().__init__()
        self.last_round_from = last_round_from
        self.learner: dict[str, int] = {}
        self.actors: list[dict[str, int]] = []

    def _on_step(self) -> bool:
        return True

    def _on_rollout_end(self) -> None:
        if self.num_timesteps < self.last_round_from:
            return
        self.learner = _memory_kb("self")
        self.actors = [_memory_kb(pid) for pid in _actor_pids()]


def memory(steps: int, learning_starts: int, buffer: int) -> None:
    config = training.plan_run(
        preset="mario", steps=steps, overrides={"learning_starts": learning_starts, "buffer_size": buffer}
    )
    training.configure_torch_threads(config)
    model = training.build_model(config)
    measured = MemoryAtEnd(last_round_from=steps - config.hyperparameters.train_freq_tuple[0])
    model.learn(steps, callback=measured)
    model.get_env().close()
    replay = model.replay_buffer
    per_row = replay.nbytes / replay.capacity
    written = min(replay.capacity, max(replay.rows_written) * replay.n_envs)
    # np.zeros maps the buffer lazily: the rows not written yet are not resident; a full buffer adds them.
    unfilled_mb = (replay.capacity - written) * per_row / 2**20
    processes = [("learning process", measured.learner)] + [
        (f"actor {index}", actor) for index, actor in enumerate(measured.actors)
    ]
    print(
        f"{steps:,} steps, actors={config.hyperparameters.actors}, buffer_size {buffer:,} "
        f"({written:,} rows written, {per_row:,.0f} B per transition, {replay.nbytes / 2**20:,.0f} MB when full)\n"
    )
    print("| process | peak RSS MB | RSS MB | PSS MB | private (USS) MB |")
    print("|---|---|---|---|---|")
    for name, kb in processes:
        print(
            f"| {name} | {kb['peak_rss'] / 1024:.0f} | {kb['rss'] / 1024:.0f} | {kb['pss'] / 1024:.0f} | {kb['uss'] / 1024:.0f} |"
        )
    total = {key: sum(kb[key] for _, kb in processes) / 1024 for key in ("peak_rss", "pss", "uss")}
    print(
        f"| **all, buffer full** (+{unfilled_mb:,.0f} MB of rows not yet written) | "
        f"**{total['peak_rss'] + unfilled_mb:,.0f}** | | **{total['pss'] + unfilled_mb:,.0f}** | "
        f"{total['uss'] + unfilled_mb:,.0f} |"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--steps", type=int, default=3000, help="env steps per run (default 3000)")
    parser.add_argument("--learning-starts", type=int, default=1000, help="random steps before updates (default 1000)")
    parser.add_argument("--repeats", type=int, default=3, help="interleaved repeats; medians reported (default 3)")
    parser.add_argument(
        "--threads", type=int, help="torch threads of every learner (default: mario-zoo train's setting; SB3: torch's)"
    )
    parser.add_argument("--memory", action="store_true", help="measure peak memory instead of speed")
    parser.add_argument("--buffer", type=int, default=200_000, help="--memory: replay buffer size (default 200000)")
    args = parser.parse_args()
    if args.memory:
        memory(args.steps, args.learning_starts, args.buffer)
    else:
        speed(args.steps, args.learning_starts, args.repeats, args.threads)


if __name__ == "__main__":
    main()
