"""Where a Mario training step's time goes on this CPU: the env, acting, and one gradient update.

The ``mario`` preset's agent (dueling Nature CNN, double DQN, 3-step prioritized replay, batch 32) trains on
``MarioDQN-v0`` with ``actions=right_only``. This measures, with one torch thread and medians over repeats:

- one env step (4 emulated frames, grayscale, max-pool, resize, stack) with random actions;
- one greedy action (a forward pass on a single observation), in float32 and under bf16 autocast;
- one gradient update (``DQN.train(1)``: target forward, double-DQN online forward, online forward and backward,
  Adam) in each way the ``precision`` hyperparameter could run it: float32; bf16 autocast on contiguous (NCHW)
  batches; bf16 with channels-last (NHWC) input batches and float32 NCHW master weights (what
  ``precision="bf16"`` does); bf16 with the network's weights channels-last too.

From these it derives the env steps/s that ``train_freq`` 4 and 8 allow when the env and the updates take turns
on one core (what ``mario-zoo train`` does), and the bound if the env stepped on a second core while the update
runs. The derived rates ignore the ``learning_starts`` warm-up, logging and checkpoints. Without a CPU with
AVX512-BF16 or AMX, bf16 is emulated and slower than float32 (``precision="auto"`` then picks fp32).

Times are this process's CPU time (one thread, so on a quiet machine the same as wall time), so that the
numbers hold on a machine other jobs share.

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
from mario_zoo.agents.precision import cpu_bf16_supported
from mario_zoo.agents.presets import load_preset

ENV_KWARGS = {"actions": "right_only", "stall_steps": 150, "reward_scale": 0.1}


def _clock() -> float:
    """CPU seconds of this process: with one torch thread it is the wall time of a quiet machine, and other
    work on a shared machine barely moves it (wall time under load would)."""
    return time.process_time()


def env_step_seconds(steps: int) -> float:
    env = gym.make("MarioDQN-v0", **ENV_KWARGS)
    rng = np.random.default_rng(0)
    env.reset(seed=0)
    start = _clock()
    for _ in range(steps):
        _, _, terminated, truncated, _ = env.step(int(rng.integers(env.action_space.n)))
        if terminated or truncated:
            env.reset()
    elapsed = _clock() - start
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


def act_seconds(model: DQN, repeats: int, bfloat16: bool) -> float:
    observation = np.zeros((1, *model.observation_space.shape), dtype=np.uint8)
    with torch.autocast("cpu", dtype=torch.bfloat16, enabled=bfloat16):
        model.predict(observation, deterministic=True)
        start = _clock()
        for _ in range(repeats):
            model.predict(observation, deterministic=True)
    return (_clock() - start) / repeats


# name -> (update precision, channels-last input batches, channels-last weights)
UPDATE_VARIANTS = {
    "float32": ("fp32", False, False),
    "bf16 autocast, NCHW": ("bf16", False, False),
    "bf16 autocast, NHWC batches (precision=bf16)": ("bf16", True, False),
    "bf16 autocast, NHWC batches and weights": ("bf16", True, True),
}


def update_seconds(model: DQN, updates: int, variant: str) -> float:
    """Seconds per ``DQN.train`` gradient step with the update run as ``UPDATE_VARIANTS[variant]`` says."""
    precision, channels_last_batches, channels_last_weights = UPDATE_VARIANTS[variant]
    # The benchmark switches what precision="bf16" fixes, to measure each part of it.
    model.update_precision, model._channels_last = precision, channels_last_batches
    memory_format = torch.channels_last if channels_last_weights else torch.contiguous_format
    model.policy.to(memory_format=memory_format)
    # Adam's state must have its parameters' memory layout: start it afresh (it does not change the cost).
    model.optimizer.state.clear()
    model.train(3)  # warm-up: oneDNN picks its kernels on the first calls
    start = _clock()
    model.train(updates)
    return (_clock() - start) / updates


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--updates", type=int, default=30, help="gradient updates per measurement")
    parser.add_argument("--env-steps", type=int, default=500, help="env steps per measurement")
    parser.add_argument("--repeats", type=int, default=3, help="measurements per quantity (median reported)")
    args = parser.parse_args()
    torch.set_num_threads(1)

    env = statistics.median(env_step_seconds(args.env_steps) for _ in range(args.repeats))
    model = build_agent(fill_steps=1_000)
    act = statistics.median(act_seconds(model, 200, bfloat16=False) for _ in range(args.repeats))
    act_bf16 = statistics.median(act_seconds(model, 200, bfloat16=True) for _ in range(args.repeats))
    # Interleaved repeats, so that a burst of load elsewhere on the machine does not hit one variant only.
    samples: dict[str, list[float]] = {variant: [] for variant in UPDATE_VARIANTS}
    for _ in range(args.repeats):
        for variant in UPDATE_VARIANTS:
            samples[variant].append(update_seconds(model, args.updates, variant))
    updates = {variant: statistics.median(values) for variant, values in samples.items()}
    fp32 = updates["float32"]

    print(f"torch {torch.__version__}, 1 thread, bf16 native on this CPU: {cpu_bf16_supported()}; "
          f"medians of {args.repeats} measurements of CPU time\n")  # fmt: skip
    print("| quantity | ms |")
    print("|---|---|")
    print(f"| env step (4 frames, preprocessing) | {env * 1e3:.2f} |")
    print(f"| greedy action (batch 1 forward), float32 | {act * 1e3:.2f} |")
    print(f"| greedy action (batch 1 forward), bf16 autocast | {act_bf16 * 1e3:.2f} |")
    for variant, seconds in updates.items():
        print(f"| gradient update (batch 32), {variant} | {seconds * 1e3:.1f} ({fp32 / seconds:.2f}x) |")
    print()
    print("| train_freq | env steps/s, one core (env + updates in turn) | bound with the env on a 2nd core |")
    print("|---|---|---|")
    bf16 = updates["bf16 autocast, NHWC batches (precision=bf16)"]
    for train_freq in (4, 8):
        for name, update in (("float32", fp32), ("bf16", bf16)):
            serial = env + act + update / train_freq
            overlapped = max(env + act, update / train_freq)
            print(f"| {train_freq}, {name} update | {1 / serial:.0f} | {1 / overlapped:.0f} |")


if __name__ == "__main__":
    main()
