"""Where a Mario training step's time goes on this CPU: the env, acting, and one gradient update.

The ``mario`` preset's agent (dueling Nature CNN, double DQN, 3-step prioritized replay, batch 32) trains on
``MarioDQN-v0`` with ``actions=right_only``. This measures, with one torch thread and medians over repeats:

- one env step (4 emulated frames, grayscale, max-pool, resize, stack) with random actions;
- one greedy action (a forward pass on a single observation);
- one gradient update (``DQN.train(1)``: target forward, double-DQN online forward, online forward and backward,
  Adam), in float32 and under ``torch.autocast("cpu", dtype=torch.bfloat16)``.

From these it derives the env steps/s that ``train_freq`` 4 and 8 allow when the env and the updates take turns
on one core (what ``mario-zoo train`` does), and the bound if the env stepped on a second core while the update
runs. The derived rates ignore the ``learning_starts`` warm-up, logging and checkpoints.

Usage:
    python benchmarks/mario_train_cost.py [--updates 30] [--env-steps 500] [--repeats 3]
"""

from __future__ import annotations

import argparse
import statistics
import time

import gymnasium as gym
import numpy as np
import torch

import mario_zoo  # noqa: F401  (registers MarioDQN-v0)
from mario_zoo.agents import DQN
from mario_zoo.agents.presets import load_preset

ENV_KWARGS = {"actions": "right_only", "stall_steps": 150, "reward_scale": 0.1}


def env_step_seconds(steps: int) -> float:
    env = gym.make("MarioDQN-v0", **ENV_KWARGS)
    rng = np.random.default_rng(0)
    env.reset(seed=0)
    start = time.perf_counter()
    for _ in range(steps):
        _, _, terminated, truncated, _ = env.step(int(rng.integers(env.action_space.n)))
        if terminated or truncated:
            env.reset()
    elapsed = time.perf_counter() - start
    env.close()
    return elapsed / steps


def build_agent(fill_steps: int) -> DQN:
    """The mario preset's agent with a replay buffer holding ``fill_steps`` random transitions."""
    preset = load_preset("mario")
    hyperparameters = {**preset.hyperparameters, "learning_starts": fill_steps, "buffer_size": 10_000}
    env = gym.make("MarioDQN-v0", **ENV_KWARGS)
    model = DQN("CnnPolicy", env, policy_kwargs=preset.policy_kwargs, seed=0, **hyperparameters)
    model.learn(fill_steps)  # all random actions: no update runs before learning_starts
    return model


def act_seconds(model: DQN, repeats: int) -> float:
    observation = np.zeros((1, *model.observation_space.shape), dtype=np.uint8)
    model.predict(observation, deterministic=True)
    start = time.perf_counter()
    for _ in range(repeats):
        model.predict(observation, deterministic=True)
    return (time.perf_counter() - start) / repeats


def update_seconds(model: DQN, updates: int, bfloat16: bool) -> float:
    with torch.autocast("cpu", dtype=torch.bfloat16, enabled=bfloat16):
        model.train(2)  # warm-up: oneDNN picks its kernels on the first calls
        start = time.perf_counter()
        model.train(updates)
    return (time.perf_counter() - start) / updates


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--updates", type=int, default=30, help="gradient updates per measurement")
    parser.add_argument("--env-steps", type=int, default=500, help="env steps per measurement")
    parser.add_argument("--repeats", type=int, default=3, help="measurements per quantity (median reported)")
    args = parser.parse_args()
    torch.set_num_threads(1)

    env = statistics.median(env_step_seconds(args.env_steps) for _ in range(args.repeats))
    model = build_agent(fill_steps=1_000)
    act = statistics.median(act_seconds(model, 200) for _ in range(args.repeats))
    fp32 = statistics.median(update_seconds(model, args.updates, bfloat16=False) for _ in range(args.repeats))
    bf16 = statistics.median(update_seconds(model, args.updates, bfloat16=True) for _ in range(args.repeats))

    print(f"torch {torch.__version__}, 1 thread; medians of {args.repeats} measurements\n")
    print("| quantity | ms |")
    print("|---|---|")
    print(f"| env step (4 frames, preprocessing) | {env * 1e3:.2f} |")
    print(f"| greedy action (batch 1 forward) | {act * 1e3:.2f} |")
    print(f"| gradient update, float32 (batch 32) | {fp32 * 1e3:.1f} |")
    print(f"| gradient update, bfloat16 autocast | {bf16 * 1e3:.1f} ({fp32 / bf16:.2f}x faster) |")
    print()
    print("| train_freq | env steps/s, one core (env + updates in turn) | bound with the env on a 2nd core |")
    print("|---|---|---|")
    for train_freq in (4, 8):
        serial = env + act + fp32 / train_freq
        overlapped = max(env + act, fp32 / train_freq)
        print(f"| {train_freq} | {1 / serial:.0f} | {1 / overlapped:.0f} |")


if __name__ == "__main__":
    main()
