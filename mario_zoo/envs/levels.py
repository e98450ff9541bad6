"""The ``MarioDQN-*`` IDs and the levels they name: what both the emulator and the env factory check against.

``MarioDQN-v0`` is World 1-1; ``MarioDQN-<world>-<stage>-v0`` covers all 32 levels. This module imports nothing
of the package, so the emulator (which checks the level of the ID ``gym.make`` gave it) and the factory (which
registers the IDs) both stand on it.
"""

from __future__ import annotations

import re
from typing import Any

#: Every (world, stage) of Super Mario Bros.
LEVELS: tuple[tuple[int, int], ...] = tuple((world, stage) for world in range(1, 9) for stage in range(1, 5))

_LEVEL_ID = re.compile(r"^MarioDQN-(\d+)-(\d+)-v0$")

#: The levels with a warp zone, whose pipes leave the level (``info["left_stage"]``): 1-2 and 4-2.
WARP_ZONE_LEVELS: tuple[tuple[int, int], ...] = ((1, 2), (4, 2))

#: All registered IDs: ``MarioDQN-v0`` first, then the 32 levels in order.
ENV_IDS: tuple[str, ...] = ("MarioDQN-v0", *(f"MarioDQN-{w}-{s}-v0" for w, s in LEVELS))


def check_level(world: Any, stage: Any) -> None:
    """Raise a ``TypeError`` or ``ValueError`` naming the valid levels unless ``world``-``stage`` is one."""
    valid = "valid levels: World 1-8, stage 1-4, e.g. MarioDQN-1-1-v0"
    for name, value, high in (("world", world, 8), ("stage", stage, 4)):
        if isinstance(value, bool) or not isinstance(value, int):
            raise TypeError(f"{name} must be an int, got {value!r} of type {type(value).__name__} ({valid}).")
        if not 1 <= value <= high:
            raise ValueError(f"{name} must be one of 1-{high}, got {value} ({valid}).")


def check_level_of_id(env_id: str, level: tuple[int, int]) -> None:
    """Raise a ``ValueError`` if ``env_id`` is a ``MarioDQN`` ID naming another level than ``level`` (world, stage).

    Example:
        >>> check_level_of_id("MarioDQN-1-1-v0", (1, 1))
        >>> check_level_of_id("MarioDQN-1-1-v0", (8, 1))
        Traceback (most recent call last):
        ...
        ValueError: MarioDQN-1-1-v0 plays World 1-1, but world=8, stage=1 was passed. For World 8-1 use gym.make('MarioDQN-8-1-v0'); or drop the world/stage kwargs.
    """
    if env_id not in ENV_IDS:
        return
    named = parse_env_id(env_id)
    if tuple(level) != named:
        world, stage = level
        raise ValueError(
            f"{env_id} plays World {named[0]}-{named[1]}, but world={world}, stage={stage} was passed. For World "
            f"{world}-{stage} use gym.make('MarioDQN-{world}-{stage}-v0'); or drop the world/stage kwargs."
        )


def parse_env_id(env_id: str) -> tuple[int, int]:
    """Return ``(world, stage)`` of a ``MarioDQN`` ID, or raise a ``ValueError`` listing the valid IDs.

    Example:
        >>> parse_env_id("MarioDQN-v0"), parse_env_id("MarioDQN-8-4-v0")
        ((1, 1), (8, 4))
        >>> parse_env_id("MarioDQN-9-1-v0")
        Traceback (most recent call last):
        ...
        ValueError: Unknown Mario env ID 'MarioDQN-9-1-v0': world must be one of 1-8, got 9 (valid levels: World 1-8, stage 1-4, e.g. MarioDQN-1-1-v0).
    """
    if env_id == "MarioDQN-v0":
        return 1, 1
    match = _LEVEL_ID.match(env_id) if isinstance(env_id, str) else None
    if match is None:
        raise ValueError(
            f"Unknown Mario env ID {env_id!r}; valid IDs are 'MarioDQN-v0' and 'MarioDQN-<world>-<stage>-v0' "
            "with world 1-8 and stage 1-4."
        )
    world, stage = int(match[1]), int(match[2])
    try:
        check_level(world, stage)
    except ValueError as err:
        raise ValueError(f"Unknown Mario env ID {env_id!r}: {err}") from None
    return world, stage


def has_warp_zone(env_id: str) -> bool:
    """Whether ``env_id`` is a ``MarioDQN`` ID of a level with a warp zone (:data:`WARP_ZONE_LEVELS`).

    Example:
        >>> has_warp_zone("MarioDQN-1-2-v0"), has_warp_zone("MarioDQN-v0"), has_warp_zone("CartPole-v1")
        (True, False, False)
    """
    return env_id in ENV_IDS and parse_env_id(env_id) in WARP_ZONE_LEVELS
