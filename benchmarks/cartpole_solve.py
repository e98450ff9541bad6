"""Time to solve CartPole-v1: our fastest preset vs SB3's rl-zoo DQN, plus the PyTorch tutorial's preset.

"Solved" means a 100-episode deterministic evaluation (SB3's ``evaluate_policy`` on 100 fresh CartPole-v1
episodes) with mean return >= 475. Every ``--eval-freq`` env steps training pauses for an evaluation; the
reported times are training wall-clock only (evaluation time excluded, the clock stops while it runs). Our
runs stop at the first solving evaluation; SB3 runs its full budget (its run time is the reference) and
reports whether and when an evaluation solved it.

The tutorial check trains the ``cartpole-tutorial`` preset and reports the episode at which the mean
duration of the last 100 training episodes first passes 475 (the tutorial's own plot), within 600 episodes.

Usage:
    python benchmarks/cartpole_solve.py                       # 10 seeds ours, 3 SB3, 3 tutorial
    python benchmarks/cartpole_solve.py --seeds 3 --sb3-seeds 0 --tutorial-seeds 0 --set learning_rate=2e-3
"""

from __future__ import annotations

import argparse
import statistics
import time
from dataclasses import dataclass
from typing import Any

import gymnasium as gym
import numpy as np
import stable_baselines3
import torch
import yaml
from stable_baselines3.common.callbacks import BaseCallback
from stable_baselines3.common.evaluation import evaluate_policy
from stable_baselines3.common.monitor import Monitor
from stable_baselines3.common.vec_env import DummyVecEnv

from mario_zoo.agents.presets import load_preset

SOLVED = 475.0
EVAL_EPISODES = 100


@dataclass
class SolveResult:
    seed: int
    solved_at_steps: int | None
    train_seconds_to_solve: float | None
    train_seconds_total: float
    eval_means: list[tuple[int, float]]


class SolveClock(BaseCallback):
    """Evaluate every ``eval_freq`` steps with the clock paused; optionally stop at the first solve."""

    def __init__(self, eval_env: DummyVecEnv, eval_freq: int, stop_on_solve: bool):
        super().__init__()
        self.eval_env, self.eval_freq, self.stop_on_solve = eval_env, eval_freq, stop_on_solve
        self.next_eval = eval_freq
        self.paused = 0.0
        self.start = 0.0
        self.solved_at: tuple[int, float] | None = None
        self.eval_means: list[tuple[int, float]] = []

    def train_seconds(self) -> float:
        return time.perf_counter() - self.start - self.paused

    def _on_training_start(self) -> None:
        self.start = time.perf_counter()

    def _on_step(self) -> bool:
        if self.num_timesteps < self.next_eval:
            return True
        self.next_eval += self.eval_freq
        pause = time.perf_counter()
        mean, _ = evaluate_policy(self.model, self.eval_env, n_eval_episodes=EVAL_EPISODES, deterministic=True)
        self.eval_means.append((self.num_timesteps, float(mean)))
        solved_now = mean >= SOLVED and self.solved_at is None
        self.paused += time.perf_counter() - pause
        if solved_now:
            self.solved_at = (self.num_timesteps, self.train_seconds())
        return not (solved_now and self.stop_on_solve)


def make_eval_env(seed: int) -> DummyVecEnv:
    env = DummyVecEnv([lambda: Monitor(gym.make("CartPole-v1")) for _ in range(EVAL_EPISODES)])
    env.seed(10_000 + seed)
    return env


def run_ours(seed: int, max_steps: int, eval_freq: int, overrides: dict[str, Any]) -> SolveResult:
    model = load_preset("cartpole-fast").make_model(seed=seed, device="cpu", **overrides)
    clock = SolveClock(make_eval_env(seed), eval_freq, stop_on_solve=True)
    model.learn(max_steps, callback=clock)
    return _result(seed, clock)


def run_sb3(seed: int, max_steps: int, eval_freq: int) -> SolveResult:
    preset = load_preset("cartpole-rlzoo")
    model = stable_baselines3.DQN(
        "MlpPolicy",
        "CartPole-v1",
        policy_kwargs=preset.policy_kwargs,
        seed=seed,
        device="cpu",
        **preset.hyperparameters,
    )
    clock = SolveClock(make_eval_env(seed), eval_freq, stop_on_solve=False)
    model.learn(max_steps, callback=clock)
    return _result(seed, clock)


def _result(seed: int, clock: SolveClock) -> SolveResult:
    steps, seconds = clock.solved_at or (None, None)
    return SolveResult(seed, steps, seconds, clock.train_seconds(), clock.eval_means)


class EpisodeDurations(BaseCallback):
    """Record training episode lengths; stop once the last-100 mean passes the bar or after max_episodes."""

    def __init__(self, max_episodes: int):
        super().__init__()
        self.max_episodes = max_episodes
        self.durations: list[int] = []
        self.passed_at: int | None = None

    def _on_step(self) -> bool:
        for info in self.locals["infos"]:
            if "episode" in info:
                self.durations.append(int(info["episode"]["l"]))
                if len(self.durations) >= 100 and np.mean(self.durations[-100:]) > SOLVED:
                    self.passed_at = len(self.durations)
                    return False
        return len(self.durations) < self.max_episodes


def run_tutorial(seed: int, max_episodes: int) -> tuple[int | None, int, float]:
    preset = load_preset("cartpole-tutorial")
    model = preset.make_model(seed=seed, device="cpu")
    durations = EpisodeDurations(max_episodes)
    start = time.perf_counter()
    model.learn(preset.n_timesteps, callback=durations)
    return durations.passed_at, model.num_timesteps, time.perf_counter() - start


def _parse_overrides(pairs: list[str]) -> dict[str, Any]:
    return {key: yaml.safe_load(value) for key, value in (pair.split("=", 1) for pair in pairs)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seeds", type=int, default=10, help="seeds for our cartpole-fast preset")
    parser.add_argument("--sb3-seeds", type=int, default=3, help="seeds for SB3's rl-zoo run (0 = skip)")
    parser.add_argument("--tutorial-seeds", type=int, default=3, help="seeds for the tutorial preset (0 = skip)")
    parser.add_argument("--max-steps", type=int, default=50_000)
    parser.add_argument("--eval-freq", type=int, default=2_500)
    parser.add_argument("--set", nargs="*", default=[], metavar="KEY=VALUE", help="override cartpole-fast")
    args = parser.parse_args()
    torch.set_num_threads(1)
    overrides = _parse_overrides(args.set)

    print(f"## CartPole-v1 time to solve (100-episode deterministic mean >= {SOLVED:g}; eval time excluded)\n")
    ours = [run_ours(seed, args.max_steps, args.eval_freq, overrides) for seed in range(args.seeds)]
    if ours:
        _print_table("ours, cartpole-fast" + (f" {overrides}" if overrides else ""), ours)
    sb3 = [run_sb3(seed, args.max_steps, args.eval_freq) for seed in range(args.sb3_seeds)]
    if sb3:
        _print_table("SB3 DQN, rl-zoo settings (full run)", sb3)
    solved = [r.train_seconds_to_solve for r in ours if r.train_seconds_to_solve is not None]
    if ours:
        print(f"- ours solved {len(solved)}/{len(ours)} seeds within {args.max_steps} steps")
    if solved and sb3:
        ours_median = statistics.median(solved)
        sb3_median = statistics.median(r.train_seconds_total for r in sb3)
        print(
            f"- median time to solve: ours {ours_median:.1f} s vs SB3 full run {sb3_median:.1f} s "
            f"-> ratio {ours_median / sb3_median:.2f} (target <= 0.33)"
        )
    if sb3:
        sb3_solved = [r.train_seconds_to_solve for r in sb3 if r.train_seconds_to_solve is not None]
        sb3_final = sum(r.eval_means[-1][1] >= SOLVED for r in sb3 if r.eval_means)
        print(
            f"- SB3: an evaluation reached {SOLVED:g} on {len(sb3_solved)}/{len(sb3)} seeds"
            + (f" (median {statistics.median(sb3_solved):.1f} s to the first)" if sb3_solved else "")
            + f"; the final evaluation did on {sb3_final}/{len(sb3)}"
        )
    if args.tutorial_seeds:
        print("\n### Tutorial preset: mean duration of the last 100 training episodes > 475 within 600 episodes\n")
        print("| seed | passed at episode | env steps | wall s |\n|---|---|---|---|")
        for seed in range(args.tutorial_seeds):
            passed_at, steps, seconds = run_tutorial(seed, max_episodes=600)
            print(f"| {seed} | {passed_at if passed_at else 'not within 600'} | {steps} | {seconds:.1f} |")


def _print_table(title: str, results: list[SolveResult]) -> None:
    print(f"### {title}\n")
    print("| seed | solved at step | train s to solve | train s total | eval means (step: mean) |")
    print("|---|---|---|---|---|")
    for r in results:
        evals = ", ".join(f"{steps // 1000}k: {mean:.0f}" for steps, mean in r.eval_means)
        to_solve = f"{r.train_seconds_to_solve:.1f}" if r.train_seconds_to_solve is not None else "-"
        print(f"| {r.seed} | {r.solved_at_steps or '-'} | {to_solve} | {r.train_seconds_total:.1f} | {evals} |")
    print()


if __name__ == "__main__":
    main()
