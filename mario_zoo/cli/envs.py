"""``mario-zoo envs``: the registered env IDs and the options every one of them takes."""

from __future__ import annotations

import argparse

from mario_zoo.envs import DEFAULT_OPTIONS, ENV_IDS, parse_env_id


def add_parser(verbs: argparse._SubParsersAction) -> None:
    envs = verbs.add_parser(
        "envs", help="list the registered environment IDs and options", epilog="example:\n  mario-zoo envs"
    )
    envs.set_defaults(run=run)


def run(_: argparse.Namespace) -> int:
    for env_id in ENV_IDS:
        world, stage = parse_env_id(env_id)
        print(f"{env_id:<18} World {world}-{stage}")
    options = ", ".join(f"{key}={value!r}" for key, value in DEFAULT_OPTIONS.items())
    print(f"\nOptions (gym.make kwargs, defaults): {options}")
    return 0
