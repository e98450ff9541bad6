"""``mario-zoo enjoy``: watch an agent play, live, in a window (the work is :mod:`mario_zoo.video`)."""

from __future__ import annotations

import argparse
import sys

from mario_zoo.cli.common import (
    add_agent_options,
    frame_rate,
    load_agent,
    parse_source,
    positive,
    replay_options,
    use_threads,
    viewing_kwargs,
)

ENJOY_EPILOG = """examples:
  mario-zoo enjoy runs/MarioDQN-v0_dqn_s0_20250101-120000
  mario-zoo enjoy hub:your-name/dqn-CartPole-v1 --episodes 3 --scale 1

Opens a window (pygame) and plays in real time. Without a display (DISPLAY/WAYLAND_DISPLAY unset, e.g. over
ssh) it says so, points to `mario-zoo record`, and exits with code 1.
"""


def add_parser(verbs: argparse._SubParsersAction) -> None:
    enjoy = verbs.add_parser(
        "enjoy",
        help="watch an agent play in a window",
        description="Watch an agent play, live, in a window.",
        epilog=ENJOY_EPILOG,
    )
    add_agent_options(enjoy, episodes=1)
    enjoy.add_argument("--fps", type=frame_rate, help="playback speed (default: real time)")
    enjoy.add_argument("--scale", type=positive, default=2, help="window size as a multiple of the frame (default 2)")
    enjoy.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    from mario_zoo.video import has_display, show

    source = parse_source(args.agent)
    if not has_display():
        print(
            "mario-zoo enjoy: no display (DISPLAY and WAYLAND_DISPLAY are unset), so no window can open. Record a "
            f"video instead: mario-zoo record {source} --out replay.mp4",
            file=sys.stderr,
        )
        return 1
    use_threads(args.threads)
    agent = load_agent(source, args.device)
    replay = show(agent.model, agent.env_id, viewing_kwargs(agent), scale=args.scale, **replay_options(args))
    print(f"{source} on {agent.env_id}: {replay.summary()}")
    return 0
