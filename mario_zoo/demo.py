"""``make demo``: a random agent plays ``MarioDQN-v0``; its full-colour replay is saved as a GIF.

Run: ``python -m mario_zoo.demo [--steps N] [--out DIR]``. Needs no network.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import gymnasium as gym
import imageio.v3 as iio
import numpy as np

import mario_zoo  # noqa: F401  (registers MarioDQN-v0)


def record_random_agent(out_dir: Path, steps: int = 300, seed: int = 0) -> tuple[Path, dict]:
    """Play ``steps`` random agent steps on ``MarioDQN-v0``; write ``random_agent.gif`` into ``out_dir``."""
    env = gym.make("MarioDQN-v0", render_mode="rgb_array")
    rng = np.random.default_rng(seed)
    _, info = env.reset(seed=seed)
    frames, episode_return, best_x, episodes = [env.render()], 0.0, info["x_pos"], 1
    for _ in range(steps):
        _, reward, terminated, truncated, info = env.step(int(rng.integers(env.action_space.n)))
        frames.append(env.render())
        episode_return += float(reward)
        best_x = max(best_x, info["x_pos"])
        if terminated or truncated:
            episodes += 1
            env.reset()
    env.close()
    out_dir.mkdir(parents=True, exist_ok=True)
    path = out_dir / "random_agent.gif"
    tmp = path.with_suffix(".gif.tmp")
    # Every other agent step (8 NES frames) at 15 GIF frames/s: twice the speed of the real game.
    iio.imwrite(tmp, np.stack(frames[::2]), extension=".gif", duration=1000 / 15, loop=0)
    tmp.replace(path)
    return path, {"steps": steps, "episodes_started": episodes, "return": episode_return, "best_x_pos": best_x}


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m mario_zoo.demo", description=__doc__)
    parser.add_argument("--steps", type=int, default=300, help="agent steps to play (default 300)")
    parser.add_argument("--out", type=Path, default=Path("demo_out"), help="output folder (default demo_out/)")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    if args.steps < 1:
        parser.error(f"--steps must be >= 1, got {args.steps}")
    path, stats = record_random_agent(args.out, args.steps, args.seed)
    print(
        f"Random agent on MarioDQN-v0: {stats['steps']} steps, best x_pos {stats['best_x_pos']}, "
        f"return {stats['return']:.0f}"
    )
    print(f"Replay GIF: {path.resolve()}")


if __name__ == "__main__":
    main()
