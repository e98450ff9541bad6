"""``make demo``: the project's main job end to end, offline, in about a minute on a laptop CPU.

1. Train a DQN on ``CartPole-v1`` with the ``cartpole-fast`` preset, showing the live progress bar; the run
   folder gets the SB3 logs, checkpoints and the final agent (see :mod:`mario_zoo.runs`).
2. Evaluate it (10 greedy episodes) and draw its learning curve (episode return and its 100-episode mean).
3. Record a replay of World 1-1 as a GIF: the best zoo agent for it (``mario-zoo zoo list``) plays one greedy
   episode from the level start. An agent that reaches the flag at all plays the first of the no-op starts 0, 1, 2
   whose episode reaches the flag, and the demo says which start it is, that it was chosen, and how often the agent
   reaches the flag under both evaluation protocols; while the zoo has none, a random agent plays, and the demo
   says so.

It prints where every file went. Run: ``python -m mario_zoo.demo [--out DIR] [--steps N] [--seed N]``.
"""

from __future__ import annotations

import argparse
import os
import shutil
import time
from pathlib import Path

import gymnasium as gym
import numpy as np

import mario_zoo  # noqa: F401  (registers MarioDQN-v0)
from mario_zoo.video import Replay, playback_fps, record, write_video
from mario_zoo.zoo.registry import REGISTRY_FILE, ZooEntry, read_registry

DEMO_PRESET = "cartpole-fast"
MARIO_ENV = "MarioDQN-v0"
FLAG_TRIES = 3
"""No-op starts (0, 1, 2) the demo tries for a Mario replay that reaches the flag (with an agent that reaches it at
all); it says which one it shows."""


def record_random_agent(out_dir: Path, steps: int = 300, seed: int = 0) -> tuple[Path, dict]:
    """Play ``steps`` random agent steps on ``MarioDQN-v0``; write ``random_agent.gif`` into ``out_dir``.

    The GIF keeps every other step (half the file) and plays in real time.
    """
    env = gym.make(MARIO_ENV, render_mode="rgb_array")
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
    fps = playback_fps(env) / 2
    env.close()
    path = out_dir / "random_agent.gif"
    write_video(path, frames[::2], fps)
    return path, {"steps": steps, "episodes_started": episodes, "return": episode_return, "best_x_pos": best_x}


def record_zoo_agent(
    entry: ZooEntry, out_dir: Path, registry: str | os.PathLike[str] = REGISTRY_FILE
) -> tuple[Path, Replay, str]:
    """Play one greedy episode of the zoo agent ``entry`` on its env; write ``<name>.gif`` into ``out_dir``.

    The GIF keeps every other step, as for the random agent. A Mario agent that reaches the flag at all plays the
    first of the no-op starts ``0..FLAG_TRIES - 1`` whose episode does. Returns the GIF, the replay and a sentence
    saying which episode it is and whether it was chosen.
    """
    from mario_zoo.evaluation import evaluation_env_kwargs, is_mario
    from mario_zoo.wrappers.episode import NOOPS_OPTION
    from mario_zoo.zoo import load_pretrained

    model = load_pretrained(entry.name, device="cpu", registry=registry)
    path = out_dir / f"{entry.name}.gif"
    if not is_mario(entry.env_id):
        return path, record(model, entry.env_id, entry.env_kwargs, path, stride=2), "one greedy episode, env seed 0"
    kwargs = evaluation_env_kwargs(entry.env_id, entry.env_kwargs)
    tries = FLAG_TRIES if entry.results.flag_rate else 1
    for noops in range(tries):
        replay = record(model, entry.env_id, kwargs, path, stride=2, reset_options={NOOPS_OPTION: noops})
        if replay.episode_flags[:1] == [True]:
            if noops == 0:
                chosen = f" (chosen: the first of no-op starts 0-{tries - 1} to reach it)" if tries > 1 else ""
            else:
                chosen = f", the first of no-op starts 0-{noops} whose episode does (chosen)"
            return path, replay, f"one greedy episode from {noops} no-ops: it reaches the flag{chosen}"
    tried = f"; none of no-op starts 0-{tries - 1} does" if tries > 1 else ""
    return path, replay, f"one greedy episode from {tries - 1} no-ops: it does not reach the flag{tried}"


def _rates(entry: ZooEntry) -> str:
    """How often a zoo agent reaches the flag under each published protocol, e.g. ``"flag: 17 of 31 ..."``."""
    parts = [f"{entry.results.score_text} over {entry.results.n_eval_episodes} episodes"]
    for name, results in entry.other_results.items():
        parts.append(f"{name} protocol {results.score_text} over {results.n_eval_episodes} episodes")
    return "; ".join(parts)


def main(argv: list[str] | None = None) -> int:
    from mario_zoo import training
    from mario_zoo.runs import RunFolder

    parser = argparse.ArgumentParser(prog="python -m mario_zoo.demo", description=__doc__)
    parser.add_argument("--out", type=Path, default=Path("demo_out"), help="output folder (default demo_out/)")
    parser.add_argument("--steps", type=int, help=f"CartPole training steps (default: the {DEMO_PRESET} preset's)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--mario-steps", type=int, default=300, help="random agent steps on Mario (default 300)")
    args = parser.parse_args(argv)
    if args.mario_steps < 1:
        parser.error(f"--mario-steps must be >= 1, got {args.mario_steps}")
    try:
        config = training.plan_run(preset=DEMO_PRESET, steps=args.steps, seed=args.seed, device="cpu")
    except ValueError as error:
        parser.error(str(error))
    started = time.monotonic()
    run = RunFolder(args.out / f"{DEMO_PRESET}_s{args.seed}")
    if run.config_file.is_file():
        shutil.rmtree(run.path)  # the previous demo's run
    training.configure_torch_threads(config)

    print(
        f"[1/3] Training DQN on CartPole-v1: {config.total_timesteps:,} steps, preset {DEMO_PRESET}, seed {args.seed}"
    )
    outcome = training.train(run, config, training.build_model(config))
    if outcome.interrupted:
        print(f"Interrupted; resume with: mario-zoo train --resume {run.path}")
        return outcome.exit_code
    print(f"      trained in {outcome.seconds:.0f} s")
    print(f"[2/3] Evaluation: {outcome.evaluation.summary()}")
    mario_agent = read_registry().best_for(MARIO_ENV)
    if mario_agent is None:
        print(
            f"[3/3] Replay on {MARIO_ENV}: no trained Mario agent is available yet (none ships with mario-zoo), so a "
            "random agent plays"
        )
        gif, stats = record_random_agent(args.out, args.mario_steps, args.seed)
        print(f"      {stats['steps']} steps, furthest x_pos {stats['best_x_pos']}, return {stats['return']:.0f}")
    else:
        print(f"[3/3] Replay on {mario_agent.env_id}: zoo agent {mario_agent.name} (evaluation: {_rates(mario_agent)})")
        gif, replay, note = record_zoo_agent(mario_agent, args.out)
        print(f"      {note}; {replay.summary()}")

    print(f"\nDone in {time.monotonic() - started:.0f} s. Files:")
    if run.learning_curve.is_file():
        print(f"  learning curve      {run.learning_curve.resolve()}")
    else:
        from mario_zoo.plotting import why_no_curve

        print(f"  learning curve      not drawn ({why_no_curve()})")
    print(f"  evaluation          {run.results.resolve()}")
    print(f"  CartPole agent      {run.model.resolve()}/")
    tensorboard = ", tensorboard/" if run.tensorboard.is_dir() else ""
    print(f"  training logs       {run.progress.resolve()} (also monitor.csv{tensorboard})")
    print(f"  Mario replay (GIF)  {gif.resolve()}")
    print(f"Next: mario-zoo record {run.path} --out cartpole.gif    mario-zoo train --help")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
