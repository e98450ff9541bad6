"""Training speed at SB3 rl-zoo's CartPole-v1 DQN settings: SB3's DQN vs ours vs a bare-torch compute floor.

All runs do the same work: 50k env steps (196 rounds of ``train_freq=256`` steps, as SB3 collects whole
rounds), 128 gradient steps per round after ``learning_starts=1000`` (batch 64, MLP [256, 256], Adam
lr 2.3e-3, Huber loss, gradient-norm clipping at 10), a hard target sync every 10 env steps, and one greedy
forward pass per env step that acts greedily (epsilon-greedy with SB3's linear schedule; random steps skip
the network in every run). The floor is the same computation written as a plain loop over a raw
``gym.make("CartPole-v1")`` with a preallocated torch replay buffer: no VecEnv, Monitor, callbacks or
logger. It uses torch's fused Adam kernel, as ours does; a second floor run with torch's default Adam (the
one SB3 uses) shows how much of the gap to SB3 that kernel explains.

Each run uses one torch thread; only the ``learn`` call (or the floor's loop) is timed. Runs are interleaved
(SB3, ours, floor, floor with default Adam, SB3, ...) and the median over ``--repeats`` is reported.

Usage:
    python benchmarks/train_speed.py --repeats 3
    python benchmarks/train_speed.py --steps 10000 --repeats 1   # quick check
"""

from __future__ import annotations

import argparse
import statistics
import time
from collections.abc import Callable

import gymnasium as gym
import numpy as np
import stable_baselines3
import torch
import torch.nn.functional as F
from torch import nn

from mario_zoo.agents.presets import load_preset

PRESET = load_preset("cartpole-rlzoo")
HYPER = PRESET.hyperparameters


def run_sb3(steps: int, seed: int) -> tuple[float, int]:
    model = stable_baselines3.DQN(
        "MlpPolicy", "CartPole-v1", policy_kwargs=PRESET.policy_kwargs, seed=seed, device="cpu", **HYPER
    )
    start = time.perf_counter()
    model.learn(steps)
    return time.perf_counter() - start, model._n_updates


def run_ours(steps: int, seed: int) -> tuple[float, int]:
    model = PRESET.make_model(seed=seed, device="cpu")
    start = time.perf_counter()
    model.learn(steps)
    return time.perf_counter() - start, model._n_updates


def run_floor(steps: int, seed: int, fused_adam: bool = True) -> tuple[float, int]:
    """The same DQN computation as a bare loop: the least work any implementation has to do.

    ``fused_adam`` picks torch's fused Adam kernel, which ours uses; SB3 uses torch's default Adam.
    """
    torch.manual_seed(seed)
    rng = np.random.default_rng(seed)
    env = gym.make("CartPole-v1")
    hidden = PRESET.policy_kwargs["net_arch"]

    def make_net() -> nn.Sequential:
        return nn.Sequential(
            nn.Linear(4, hidden[0]), nn.ReLU(), nn.Linear(hidden[0], hidden[1]), nn.ReLU(), nn.Linear(hidden[1], 2)
        )

    q_net, target = make_net(), make_net()
    target.load_state_dict(q_net.state_dict())
    params, target_params = list(q_net.parameters()), list(target.parameters())
    optimizer = torch.optim.Adam(params, lr=HYPER["learning_rate"], fused=fused_adam)
    capacity, batch = HYPER["buffer_size"], HYPER["batch_size"]
    observations = torch.zeros(capacity, 4)
    next_observations = torch.zeros(capacity, 4)
    actions = torch.zeros(capacity, 1, dtype=torch.int64)
    rewards = torch.zeros(capacity)
    dones = torch.zeros(capacity)
    size = 0
    initial_eps, final_eps, fraction = 1.0, HYPER["exploration_final_eps"], HYPER["exploration_fraction"]

    start = time.perf_counter()
    obs, _ = env.reset(seed=seed)
    n_steps = n_updates = 0
    while n_steps < steps:
        for _ in range(HYPER["train_freq"]):
            progress = n_steps / steps
            eps = final_eps if progress >= fraction else initial_eps + progress * (final_eps - initial_eps) / fraction
            if n_steps < HYPER["learning_starts"] or rng.random() < eps:
                action = int(rng.integers(2))
            else:
                with torch.inference_mode():
                    action = int(q_net(torch.from_numpy(obs).unsqueeze(0)).argmax())
            next_obs, reward, terminated, truncated, _ = env.step(action)
            index = size % capacity
            observations[index] = torch.from_numpy(obs)
            next_observations[index] = torch.from_numpy(next_obs)
            actions[index, 0], rewards[index], dones[index] = action, reward, float(terminated)
            size += 1
            n_steps += 1
            obs = env.reset()[0] if terminated or truncated else next_obs
            if n_steps % HYPER["target_update_interval"] == 0:
                with torch.no_grad():
                    torch._foreach_copy_(target_params, params)
        if n_steps <= HYPER["learning_starts"]:
            continue
        for _ in range(HYPER["gradient_steps"]):
            idx = torch.randint(min(size, capacity), (batch,))
            with torch.no_grad():
                next_q = target(next_observations[idx]).max(dim=1).values
                targets = rewards[idx] + HYPER["gamma"] * (1.0 - dones[idx]) * next_q
            q = q_net(observations[idx]).gather(1, actions[idx]).squeeze(1)
            loss = F.smooth_l1_loss(q, targets)
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            torch.nn.utils.clip_grad_norm_(params, 10.0)
            optimizer.step()
            n_updates += 1
    return time.perf_counter() - start, n_updates


RUNS: dict[str, Callable[[int, int], tuple[float, int]]] = {
    "SB3 DQN": run_sb3,
    "ours": run_ours,
    "floor": run_floor,
    "floor, default Adam": lambda steps, seed: run_floor(steps, seed, fused_adam=False),
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--steps", type=int, default=PRESET.n_timesteps)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    torch.set_num_threads(1)

    seconds: dict[str, list[float]] = {name: [] for name in RUNS}
    updates: dict[str, int] = {}
    for repeat in range(args.repeats):
        for name, run in RUNS.items():
            elapsed, updates[name] = run(args.steps, repeat)
            seconds[name].append(elapsed)
            print(f"repeat {repeat}: {name:20s} {elapsed:6.2f} s ({updates[name]} gradient steps)", flush=True)

    env_steps = -(-args.steps // HYPER["train_freq"]) * HYPER["train_freq"]
    median = {name: statistics.median(times) for name, times in seconds.items()}
    print(f"\n## Training speed, CartPole-v1 at SB3 rl-zoo settings ({env_steps} env steps, 1 torch thread)\n")
    print("| run | median s | runs (s) | env steps/s | gradient steps | x floor |")
    print("|---|---|---|---|---|---|")
    for name, times in seconds.items():
        runs = ", ".join(f"{t:.2f}" for t in times)
        print(
            f"| {name} | {median[name]:.2f} | {runs} | {env_steps / median[name]:.0f} | {updates[name]} | "
            f"{median[name] / median['floor']:.3f} |"
        )
    print(f"\n- ours / floor: {median['ours'] / median['floor']:.3f} (target <= 1.05)")
    print(
        f"- SB3 / floor: {median['SB3 DQN'] / median['floor']:.3f}; SB3 / floor with SB3's default Adam: "
        f"{median['SB3 DQN'] / median['floor, default Adam']:.3f}"
    )
    print(f"- ours env-steps/s / SB3 env-steps/s: {median['SB3 DQN'] / median['ours']:.2f}x")


if __name__ == "__main__":
    main()
