"""Play an agent greedily from given no-op counts and, where an episode ends in the stall cut, say whether another
action held from where the agent stood still would have gone on.

What it answers: whether a start that the exact sweep counts as lost at a given x is lost to the level (no action
helps) or to the agent's choice there (standing still or pushing against a wall while a jump would clear it), as
with 1-3's flagpole, whose base block stops a Mario that runs at it on the ground. The emulator is deterministic and
the agent greedy, so each line is exact: the episode is replayed action for action up to the moment it first stood
at its last x, and each action of the env's set is then held for up to ``--hold`` steps.

Example (World 1-3, see benchmarks/RESULTS.md, "World 1: 1-3")::

    python benchmarks/world_1/stall_probe.py runs/w13m/snapshots/step-000215000 --noops 6 17 18 24 30
"""

from __future__ import annotations

import argparse

import gymnasium as gym

import mario_zoo  # noqa: F401  (registers the MarioDQN IDs)
from mario_zoo.evaluation import evaluation_env_kwargs
from mario_zoo.sources import load_agent, parse_source
from mario_zoo.wrappers.episode import NOOPS_OPTION


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("agent", help="run folder, snapshot, checkpoint or zoo name")
    parser.add_argument("--noops", type=int, nargs="+", default=list(range(31)), help="no-op counts (default 0-30)")
    parser.add_argument("--hold", type=int, default=30, help="steps each other action is held at most (default 30)")
    args = parser.parse_args()

    loaded = load_agent(parse_source(args.agent), device="cpu")
    env = gym.make(loaded.env_id, **evaluation_env_kwargs(loaded.env_id, loaded.env_kwargs))
    names = env.get_wrapper_attr("get_action_meanings")()  # the joypad wrapper's, e.g. 'right A'
    print(f"{loaded.env_id}: {args.agent} greedy from no-ops {args.noops}")
    for noops in args.noops:
        obs, info = env.reset(options={NOOPS_OPTION: noops})
        actions, xs = [], []
        while True:
            action = int(loaded.model.predict(obs, deterministic=True)[0])
            obs, _, terminated, truncated, info = env.step(action)
            actions.append(action)
            xs.append(info["x_pos"])
            if terminated or truncated:
                break
        end = (
            "flag" if info.get("flag_get") else "died" if terminated else "stall cut" if info.get("stalled") else "cut"
        )
        line = f"no-ops {noops:2d}: {end} at x {xs[-1]} after {len(actions)} steps"
        if end == "stall cut":
            first = xs.index(xs[-1])  # the step at which it first stood at its last x
            tried = []
            for other in range(int(env.action_space.n)):
                env.reset(options={NOOPS_OPTION: noops})
                for action in actions[: first + 1]:
                    env.step(action)
                held = 0
                while held < args.hold:
                    _, _, terminated, truncated, info = env.step(other)
                    held += 1
                    if terminated or truncated or info["x_pos"] > xs[-1] + 16:
                        break
                result = "flag" if info.get("flag_get") else "died" if terminated else f"x {info['x_pos']}"
                tried.append(f"{names[other]}: {result} in {held}")
            line += f" (stood at it from step {first + 1}; held from there: {'; '.join(tried)})"
        print(line)
    env.close()


if __name__ == "__main__":
    main()
