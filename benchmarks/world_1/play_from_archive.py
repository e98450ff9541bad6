"""Play an agent greedily from each game state of a run's frontier archive, and say where each episode ends.

What it answers: which sections the agent handles once it stands at a good state (the archive keeps, per stretch
of x, the state of the episode that got furthest from there), and so whether a level is stopped by its approach
to an obstacle or by the obstacle itself. The emulator is deterministic and the agent greedy, so every line is
exact for the given agent and archive.

Example (World 1-3, see benchmarks/RESULTS.md, "World 1: 1-3")::

    python benchmarks/world_1/play_from_archive.py runs/w13c/snapshots/step-000070000 runs/w13c/frontier.json \
        --x-min 300 --x-max 1100
"""

from __future__ import annotations

import argparse

import gymnasium as gym

import mario_zoo  # noqa: F401  (registers the MarioDQN IDs)
from mario_zoo.envs.frontier_archive import read_archive
from mario_zoo.evaluation import evaluation_env_kwargs
from mario_zoo.sources import load_agent, parse_source
from mario_zoo.wrappers.episode import NOOPS_OPTION


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("agent", help="run folder, checkpoint or zoo name")
    parser.add_argument("archive", help="a run's frontier.json")
    parser.add_argument("--x-min", type=int, default=0, help="first archived x to start from (default 0)")
    parser.add_argument("--x-max", type=int, default=10**6, help="last archived x to start from")
    parser.add_argument("--steps", type=int, default=400, help="steps per episode at most (default 400)")
    args = parser.parse_args()

    loaded = load_agent(parse_source(args.agent), device="cpu")
    env = gym.make(loaded.env_id, **evaluation_env_kwargs(loaded.env_id, loaded.env_kwargs))
    emulator = env.unwrapped
    print(f"{loaded.env_id}: {args.agent} greedy from each state of {args.archive} in x {args.x_min}-{args.x_max}")
    for cell in sorted(read_archive(args.archive, emulator.level), key=lambda cell: cell.x_pos):
        if not args.x_min <= cell.x_pos <= args.x_max:
            continue
        obs, info = env.reset(options={"snapshot": emulator.replay(cell.inputs), NOOPS_OPTION: 0})
        best = info["x_pos"]
        for _ in range(args.steps):
            obs, _, terminated, truncated, info = env.step(int(loaded.model.predict(obs, deterministic=True)[0]))
            best = max(best, info["x_pos"])
            if terminated or truncated:
                break
        end = "flag" if info.get("flag_get") else "died" if terminated else "stalled" if truncated else "alive"
        print(f"from x {cell.x_pos} (its episode reached {cell.reach}): furthest x {best}, {end}")
    env.close()


if __name__ == "__main__":
    main()
