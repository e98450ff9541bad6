"""The ``mario-zoo`` command line.

Example:
    >>> main(["envs"])  # doctest: +ELLIPSIS
    MarioDQN-v0        World 1-1
    MarioDQN-1-1-v0    World 1-1
    ...
    MarioDQN-8-4-v0    World 8-4
    <BLANKLINE>
    Options (gym.make kwargs, defaults): actions='simple', frame_skip=4, size=84, stack=4, noop_max=0, stall_steps=None, reward_clip=None, reward_scale=1.0
    0
"""

from __future__ import annotations

import argparse
import sys

from mario_zoo import __version__
from mario_zoo.envs import DEFAULT_OPTIONS, ENV_IDS, parse_env_id

EPILOG = """examples:
  mario-zoo envs          list the registered MarioDQN IDs and their gym.make options
  mario-zoo --version
"""


def _cmd_envs(_: argparse.Namespace) -> int:
    for env_id in ENV_IDS:
        world, stage = parse_env_id(env_id)
        print(f"{env_id:<18} World {world}-{stage}")
    options = ", ".join(f"{key}={value!r}" for key, value in DEFAULT_OPTIONS.items())
    print(f"\nOptions (gym.make kwargs, defaults): {options}")
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="mario-zoo",
        description="Super Mario Bros environments, DQN agents and a zoo of trained agents.",
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--version", action="version", version=f"mario-zoo {__version__}")
    verbs = parser.add_subparsers(dest="verb", metavar="VERB", required=True)
    envs = verbs.add_parser(
        "envs",
        help="list the registered environment IDs and options",
        epilog="example:\n  mario-zoo envs",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    envs.set_defaults(run=_cmd_envs)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Run the CLI; return the process exit code (argparse exits with 2 on bad usage)."""
    args = build_parser().parse_args(argv)
    return args.run(args)


if __name__ == "__main__":
    sys.exit(main())
