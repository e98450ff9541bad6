"""``mario-zoo record``: an agent's episodes as an mp4 or a GIF (the work is :mod:`mario_zoo.video`)."""

from __future__ import annotations

import argparse
from pathlib import Path

from mario_zoo.cli.common import (
    add_agent_options,
    bad_input,
    frame_rate,
    load_agent,
    parse_source,
    positive,
    replay_options,
    use_threads,
    viewing_kwargs,
)

RECORD_EPILOG = """examples:
  mario-zoo record runs/CartPole-v1_dqn_s0_20250101-120000                  -> <run>/replay.mp4
  mario-zoo record runs/MarioDQN-v0_dqn_s0_20250101-120000 --out mario.gif --stride 2
  mario-zoo record hub:your-name/dqn-CartPole-v1 --episodes 3 --out cartpole.mp4

The extension picks the format: .mp4 (H.264) or .gif. Each episode gives one frame per step plus its first.
"""


def add_parser(verbs: argparse._SubParsersAction) -> None:
    record = verbs.add_parser(
        "record",
        help="record an agent's episodes as mp4 or gif",
        description="Record an agent's episodes to a video file.",
        epilog=RECORD_EPILOG,
    )
    add_agent_options(record, episodes=1)
    record.add_argument(
        "--out", metavar="FILE", help="video file, .mp4 or .gif (default <run>/replay.mp4 or replay.mp4)"
    )
    record.add_argument("--fps", type=frame_rate, help="playback speed (default: real time)")
    record.add_argument(
        "--progress", action=argparse.BooleanOptionalAction, default=True, help="show a progress bar (default on)"
    )
    record.add_argument("--stride", type=positive, default=1, help="keep every N-th frame (default 1)")
    record.add_argument("--max-frames", type=positive, default=5000, help="stop after N frames (default 5000)")
    record.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    from mario_zoo.video import check_video_path, record

    source = parse_source(args.agent)
    default = Path(source.location) / "replay.mp4" if source.kind == "run" else Path("replay.mp4")
    with bad_input():
        out = check_video_path(args.out or default)
    use_threads(args.threads)
    agent = load_agent(source, args.device)
    options = {"stride": args.stride, "max_frames": args.max_frames, "progress": args.progress}
    replay = record(agent.model, agent.env_id, viewing_kwargs(agent), out, **options, **replay_options(args))
    print(f"Wrote {out}: {source} on {agent.env_id}, {replay.summary()}")
    return 0
