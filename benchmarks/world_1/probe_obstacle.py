"""Probe an obstacle: play an agent greedily to a point of a level, then try many action sequences from there.

What it answers: from the state where a greedy agent's episodes go wrong, how often do random right-moving action
sequences get past, die, or are still alive short of the goal when the sequence ends (stuck in a dead end, or
slow)? A rare pass with many deaths says the section needs precise timing. The emulator
is deterministic, so the numbers are exact for the given agent, no-op start, point and seed.

Example (World 1-2's pocket at x 978, see benchmarks/RESULTS.md, "World 1: 1-2")::

    python benchmarks/world_1/probe_obstacle.py runs/w12b/snapshots/step-000150000 --noops 2 --x 850 \
        --past 1100 --trials 300
    python benchmarks/world_1/probe_obstacle.py runs/w13b/snapshots/step-000180000 --x 590 --past 800 \
        --trials 200 --epsilon 0.05 0.2 0.5     # how often the agent's own exploration gets past
    python benchmarks/world_1/probe_obstacle.py runs/w13c/snapshots/step-000170000 --past 800 --trials 60 \
        --archive runs/w13c/frontier.json --frame 288 --epsilon 0.3 1.0 --repeat 2
        # from the state that the archive's furthest episode reached at frame 288, with held random actions
"""

from __future__ import annotations

import argparse
import functools
from collections import Counter

import gymnasium as gym
import numpy as np

import mario_zoo  # noqa: F401  (registers the MarioDQN IDs)
from mario_zoo.agents.exploration import Explorer
from mario_zoo.envs.frontier_archive import read_archive
from mario_zoo.evaluation import evaluation_env_kwargs
from mario_zoo.sources import load_agent, parse_source
from mario_zoo.wrappers.episode import NOOPS_OPTION


def random_sequence(rng: np.random.Generator, n_actions: int, length: int) -> list[int]:
    """Actions held for 1-5 steps each (a press, not a flicker), ``length`` steps in all."""
    actions: list[int] = []
    while len(actions) < length:
        actions += [int(rng.integers(n_actions))] * int(rng.integers(1, 6))
    return actions[:length]


def greedy_actions(model, observation: np.ndarray) -> np.ndarray:
    """The agent's greedy action for one observation, as the batch of one the explorer asks for."""
    return model.predict(observation[None], deterministic=True)[0]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("agent", help="run folder, checkpoint or zoo name")
    parser.add_argument("--noops", type=int, default=0, help="no-op start of the greedy approach (default 0)")
    parser.add_argument("--x", type=int, help="play greedily until x_pos reaches this, and probe from there")
    parser.add_argument("--archive", help="instead of --x: a run's frontier.json; probe from its furthest episode")
    parser.add_argument("--frame", type=int, help="with --archive: the moment of that episode, in frames")
    parser.add_argument("--past", type=int, required=True, help="a sequence passes when x_pos exceeds this")
    parser.add_argument("--trials", type=int, default=300, help="random sequences to try (default 300)")
    parser.add_argument("--steps", type=int, default=80, help="steps per sequence (default 80)")
    parser.add_argument("--seed", type=int, default=0, help="seed of the sequences (default 0)")
    parser.add_argument(
        "--epsilon",
        type=float,
        nargs="+",
        help="instead of random sequences, the agent itself from there, acting randomly with each of these "
        "probabilities (how often training's exploration gets past)",
    )
    parser.add_argument(
        "--repeat", type=float, help="with --epsilon: hold random actions as exploration_repeat=MU does in training"
    )
    args = parser.parse_args()
    if (args.x is None) == (args.archive is None) or (args.archive is None) != (args.frame is None):
        parser.error("give --x, or --archive with --frame")
    if args.repeat is not None and not args.epsilon:
        parser.error("--repeat holds the agent's random actions: give --epsilon too")

    loaded = load_agent(parse_source(args.agent), device="cpu")
    env = gym.make(loaded.env_id, **evaluation_env_kwargs(loaded.env_id, loaded.env_kwargs))
    if args.archive is not None:
        furthest = max(read_archive(args.archive, env.unwrapped.level), key=lambda cell: (cell.reach, len(cell.inputs)))
        if not 0 < args.frame <= len(furthest.inputs):
            parser.error(f"--frame must be 1-{len(furthest.inputs)}, the frames of that episode kept in the archive")
        saved = env.unwrapped.replay(furthest.inputs[: args.frame])
        where = f"frame {args.frame} of the episode of {args.archive} that reached x {furthest.reach}"
        print(f"{loaded.env_id}: from x {saved.x_pos}, {where}; {args.trials} sequences from there")
    else:
        obs, info = env.reset(seed=0, options={NOOPS_OPTION: args.noops})
        while info["x_pos"] < args.x:
            action, _ = loaded.model.predict(obs, deterministic=True)
            obs, _, terminated, truncated, info = env.step(int(action))
            if terminated or truncated:
                raise SystemExit(
                    f"The greedy episode ended at x {info['x_pos']}, before x {args.x}; pick a smaller --x."
                )
        saved = env.unwrapped.snapshot()
        print(
            f"{loaded.env_id}: greedy from {args.noops} no-ops to x {info['x_pos']}; {args.trials} sequences from there"
        )

    n_actions = int(env.action_space.n)
    for epsilon in args.epsilon or [None]:
        rng = np.random.default_rng(args.seed)
        outcomes: Counter[str] = Counter()
        for _ in range(args.trials):
            # From the saved moment, no idling; the observation is the saved screen refilled, as a frontier start's.
            obs, info = env.reset(options={"snapshot": saved, NOOPS_OPTION: 0})
            best, outcome = info["x_pos"], "alive short of it"
            sequence = random_sequence(rng, n_actions, args.steps) if epsilon is None else None
            explorer = Explorer(1, n_actions, repeat=args.repeat)  # training's rule, a new episode
            for step in range(args.steps):
                if sequence is not None:
                    action = sequence[step]
                else:
                    action = int(explorer.act(rng, epsilon, functools.partial(greedy_actions, loaded.model, obs))[0])
                obs, _, terminated, truncated, info = env.step(action)
                best = max(best, info["x_pos"])
                if best > args.past:
                    outcome = "passed"
                    break
                if terminated or truncated:
                    outcome = "died" if terminated and not info.get("flag_get") else "ended"
                    break
            outcomes[outcome] += 1
        held = "" if args.repeat is None else f", random actions held (exploration_repeat {args.repeat})"
        how = "random sequences" if epsilon is None else f"the agent at epsilon {epsilon}{held}"
        counts = ", ".join(f"{name} {outcomes[name]}" for name in ("passed", "died", "alive short of it", "ended"))
        print(f"{how}: {counts}")
    env.close()


if __name__ == "__main__":
    main()
