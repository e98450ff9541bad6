"""Environment throughput: ``MarioDQN-v0`` against the raw nes-py emulator and Gymnasium's wrapper chain.

What is measured, in one process, on the same seeded action sequence:

* **raw emulator** -- the exact emulator work ``MarioDQN-v0`` does for that sequence (every
  ``frame_advance`` and every backup restore on reset, recorded once from the env and replayed on a bare
  ``SuperMarioBrosEnv``), with nothing else: the physical limit.
* **MarioDQN-v0** -- ``gym.make("MarioDQN-v0")`` stepping those actions; frames/s = agent steps x skip / time.
* **gymnasium chain** -- ``JoypadSpace -> MaxAndSkipObservation(4) -> GrayscaleObservation ->
  ResizeObservation((84, 84)) -> FrameStackObservation(4)``, Gymnasium's own wrappers, for reference.
* **2 async envs vs 1** -- ``gym.make_vec(..., vectorization_mode="async")`` agent steps/s with 2 envs over 1,
  next to the same ratio for 2 bare emulator processes (what the 2 cores of this machine give at best).

The three single-process runs are interleaved and repeated, as are the 1-env and 2-env async runs; medians
are reported.

Run: ``.venv/bin/python benchmarks/env_throughput.py --steps 2000 --repeats 5``
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import statistics
import time

import gymnasium as gym
import numpy as np
from gym_super_mario_bros import SuperMarioBrosEnv
from gym_super_mario_bros.actions import SIMPLE_MOVEMENT
from gymnasium.wrappers import FrameStackObservation, GrayscaleObservation, MaxAndSkipObservation
from gymnasium.wrappers import ResizeObservation as GymResize
from nes_py.wrappers import JoypadSpace

import mario_zoo  # noqa: F401  (registers MarioDQN-v0)

SKIP = 4


def agent_actions(steps: int, seed: int) -> np.ndarray:
    return np.random.default_rng(seed).integers(0, len(SIMPLE_MOVEMENT), steps)


def run_env(env: gym.Env, actions: np.ndarray, seed: int) -> float:
    """Step ``env`` through ``actions`` (resetting on episode end); return seconds."""
    env.reset(seed=seed)
    start = time.perf_counter()
    for action in actions:
        _, _, terminated, truncated, _ = env.step(action)
        if terminated or truncated:
            env.reset()
    return time.perf_counter() - start


def record_emulator_calls(actions: np.ndarray, seed: int) -> list[int]:
    """Return the emulator calls MarioDQN-v0 makes for ``actions``: a byte per frame, -1 per restore."""
    env = gym.make("MarioDQN-v0")
    nes = env.unwrapped
    calls: list[int] = []
    advance, restore = nes._frame_advance, nes._restore
    nes._frame_advance = lambda byte: (calls.append(int(byte)), advance(byte))[1]
    nes._restore = lambda: (calls.append(-1), restore())[1]
    env.reset(seed=seed)
    calls.clear()
    run_env(env, actions, seed)
    env.close()
    return calls


def run_raw(nes: SuperMarioBrosEnv, calls: list[int]) -> float:
    """Replay the recorded emulator calls on a bare emulator; return seconds."""
    native = nes._env
    native.restore()
    start = time.perf_counter()
    for byte in calls:
        if byte < 0:
            native.restore()
        else:
            native.frame_advance(byte)
    return time.perf_counter() - start


def gymnasium_chain() -> gym.Env:
    env = JoypadSpace(gym.make("SuperMarioBros-1-1-v0"), SIMPLE_MOVEMENT)
    env = MaxAndSkipObservation(env, skip=SKIP)
    env = GrayscaleObservation(env)
    env = GymResize(env, (84, 84))
    return FrameStackObservation(env, 4)


def _raw_worker(frames: int, barrier, results) -> None:
    nes = SuperMarioBrosEnv(target=(1, 1))
    native = nes._env
    native.restore()
    barrier.wait()
    start = time.perf_counter()
    for i in range(frames):
        native.frame_advance(0b10000000 if i % 50 else 0b10000001)  # run right, jump now and then
    results.put(time.perf_counter() - start)


def raw_parallel_frames_per_second(processes: int, frames: int) -> float:
    """Frames/s of ``processes`` bare emulators running at once: the hardware's own parallel scaling."""
    context = multiprocessing.get_context("fork")
    barrier, results = context.Barrier(processes), context.Queue()
    workers = [context.Process(target=_raw_worker, args=(frames, barrier, results)) for _ in range(processes)]
    for worker in workers:
        worker.start()
    elapsed = max(results.get() for _ in workers)
    for worker in workers:
        worker.join()
    return processes * frames / elapsed


def vector_steps_per_second(num_envs: int, steps: int, seed: int) -> float:
    envs = gym.make_vec("mario_zoo:MarioDQN-v0", num_envs=num_envs, vectorization_mode="async")
    envs.reset(seed=seed)
    rng = np.random.default_rng(seed)
    for _ in range(20):  # warm up the workers
        envs.step(rng.integers(0, 7, num_envs))
    start = time.perf_counter()
    for _ in range(steps):
        envs.step(rng.integers(0, 7, num_envs))
    elapsed = time.perf_counter() - start
    envs.close()
    return steps * num_envs / elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--steps", type=int, default=2000, help="agent steps per run")
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--vector-steps", type=int, default=1500, help="vector steps per async run")
    parser.add_argument("--vector-repeats", type=int, default=5, help="interleaved 1-env / 2-env async runs")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--json", action="store_true", help="print one JSON object instead of markdown")
    args = parser.parse_args()

    actions = agent_actions(args.steps, args.seed)
    calls = record_emulator_calls(actions, args.seed)
    n_frames = sum(1 for c in calls if c >= 0)
    agent_frames = args.steps * SKIP
    nes = SuperMarioBrosEnv(target=(1, 1))
    ours_env = gym.make("MarioDQN-v0")
    chain_env = gymnasium_chain()

    raw_fps, ours_fps, chain_fps, ratios, chain_ratios = [], [], [], [], []
    for _ in range(args.repeats):
        raw_t = run_raw(nes, calls)
        ours_t = run_env(ours_env, actions, args.seed)
        chain_t = run_env(chain_env, actions, args.seed)
        raw_fps.append(n_frames / raw_t)
        ours_fps.append(agent_frames / ours_t)
        chain_fps.append(agent_frames / chain_t)
        ratios.append(raw_t / ours_t)
        chain_ratios.append(raw_t / chain_t)

    ones, twos, speedups, raw_speedups = [], [], [], []
    for _ in range(args.vector_repeats):
        ones.append(vector_steps_per_second(1, args.vector_steps, args.seed))
        twos.append(vector_steps_per_second(2, args.vector_steps, args.seed))
        speedups.append(twos[-1] / ones[-1])
        raw_frames = args.vector_steps * SKIP
        raw_speedups.append(
            raw_parallel_frames_per_second(2, raw_frames) / raw_parallel_frames_per_second(1, raw_frames)
        )
    one, two = statistics.median(ones), statistics.median(twos)
    result = {
        "agent_steps": args.steps,
        "emulator_frames": n_frames,
        "repeats": args.repeats,
        "raw_frames_per_s": statistics.median(raw_fps),
        "mariodqn_frames_per_s": statistics.median(ours_fps),
        "gymnasium_chain_frames_per_s": statistics.median(chain_fps),
        "mariodqn_over_raw": statistics.median(ratios),
        "gymnasium_chain_over_raw": statistics.median(chain_ratios),
        "async_1_env_steps_per_s": one,
        "async_2_env_steps_per_s": two,
        "async_2_over_1": statistics.median(speedups),
        "raw_2_processes_over_1": statistics.median(raw_speedups),
    }
    if args.json:
        print(json.dumps(result, indent=2))
        return
    print("| metric | value |\n|---|---|")
    print(f"| raw emulator (same {n_frames} frames as MarioDQN-v0) | {result['raw_frames_per_s']:.0f} frames/s |")
    print(f"| MarioDQN-v0 (agent steps x {SKIP}) | {result['mariodqn_frames_per_s']:.0f} frames/s |")
    print(f"| gymnasium wrapper chain | {result['gymnasium_chain_frames_per_s']:.0f} frames/s |")
    print(f"| **MarioDQN-v0 / raw emulator** (median of {args.repeats}) | **{result['mariodqn_over_raw']:.3f}** |")
    print(f"| gymnasium chain / raw emulator | {result['gymnasium_chain_over_raw']:.3f} |")
    print(f"| async, 1 env | {one:.0f} agent steps/s |")
    print(f"| async, 2 envs | {two:.0f} agent steps/s |")
    print(f"| **2 async envs / 1** (median of {args.vector_repeats}) | **{result['async_2_over_1']:.2f}x** |")
    print(f"| 2 bare emulator processes / 1 (the machine's own scaling) | {result['raw_2_processes_over_1']:.2f}x |")


if __name__ == "__main__":
    main()
