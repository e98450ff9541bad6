"""A frontier archive on disk: the game states that frontier starts keep, written as the joypad inputs that reach
them, so that a training run stopped and resumed starts its episodes where the stopped one had got.

nes-py's native states exist in one process only and cannot be written; the game is deterministic, so the inputs
from the level start (:attr:`~mario_zoo.envs.emulator.MarioSnapshot.inputs`, a byte per frame) are the state:
:meth:`~mario_zoo.envs.emulator.MarioEmulator.replay` rebuilds it in any process. The file is JSON::

    {"format": "mario-zoo frontier archive", "version": 1, "level": [1, 3],
     "cells": [{"x_pos": 776, "reach": 2410, "inputs": "<base64>"}, ...], "backward_x": 512}

one cell per x stretch (the snapshot kept there, the furthest x its episode reached, its inputs), and, from
``frontier_mode="backward"``, the x its starts along the furthest path have moved back to (optional). Several envs
(actor processes) may write the same file: :func:`merge_into_archive` keeps, per stretch, the cell that reached
furthest, and the point furthest back, under a lock, and replaces the file atomically. Reading checks the size, the layout, the level and
every value before anything is used.

Example:
    >>> import tempfile
    >>> path = Path(tempfile.mkdtemp()) / "frontier.json"
    >>> merge_into_archive(path, (1, 1), [ArchivedCell(x_pos=300, reach=700, inputs=b"\\x80" * 90)], bucket=64)
    >>> merge_into_archive(path, (1, 1), [ArchivedCell(x_pos=310, reach=500, inputs=b"\\x81" * 95)], bucket=64)
    >>> [(cell.x_pos, cell.reach, len(cell.inputs)) for cell in read_archive(path, (1, 1))]
    [(300, 700, 90)]
    >>> read_archive(path, (1, 2))  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    ValueError: .../frontier.json holds World 1-1's frontier, not World 1-2's: ...
"""

from __future__ import annotations

import base64
import binascii
import fcntl
import json
import os
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from mario_zoo.atomic import write_text
from mario_zoo.reading import parse_json, read_bytes

ARCHIVE_FORMAT = "mario-zoo frontier archive"
ARCHIVE_VERSION = 1
MAX_ARCHIVE_BYTES = 64 * 2**20
"""Size limit of an archive file (a cleared 3,200-pixel level with 64-pixel stretches: 50 cells, about 100 KB)."""
MAX_CELLS = 100_000
MAX_X = 100_000
"""The largest x position an archive may hold (a level is at most a few thousand pixels long)."""
MAX_INPUTS = 200_000
"""Frames per cell at most: a level's 400-unit clock runs out after about 9,600 frames."""


@dataclass(frozen=True)
class ArchivedCell:
    """One kept game state, as written: where it is, how far its episode got, and the inputs that reach it."""

    x_pos: int
    """Mario's x position at the saved moment."""
    reach: int
    """The furthest ``x_pos`` the episode that passed through it reached."""
    inputs: bytes
    """The joypad byte of every frame from the level start to the saved moment."""


def read_archive(path: str | os.PathLike[str], level: tuple[int, int]) -> list[ArchivedCell]:
    """The cells of the archive at ``path``, checked: a damaged file, or one of another level, is a ``ValueError``
    naming it and the fix."""
    return read_archive_and_point(path, level)[0]


def read_archive_and_point(
    path: str | os.PathLike[str], level: tuple[int, int]
) -> tuple[list[ArchivedCell], int | None]:
    """The cells of the archive at ``path`` and its backward point (``None``: none), from one read of the file,
    checked as :func:`read_archive` and :func:`read_backward_point` check them."""
    source = str(path)
    document = _document(path, level)
    cells = document.get("cells")
    if not isinstance(cells, list) or len(cells) > MAX_CELLS:
        raise ValueError(f"{source} has no list of at most {MAX_CELLS:,} cells; {_FIX}")
    point = document.get("backward_x")
    if point is not None and not (_is_int(point) and 0 <= point <= MAX_X):
        raise ValueError(f"{source} has a bad backward_x {point!r} (an x position, 0-{MAX_X:,}); {_FIX}")
    return [_cell(entry, index, source) for index, entry in enumerate(cells)], point


def read_backward_point(path: str | os.PathLike[str], level: tuple[int, int]) -> int | None:
    """The x that ``frontier_mode="backward"`` starts had moved back to when the archive at ``path`` was written
    (``None``: it holds none), checked as :func:`read_archive` checks the file.

    Example:
        >>> import tempfile
        >>> path = Path(tempfile.mkdtemp()) / "frontier.json"
        >>> merge_into_archive(path, (1, 3), [], bucket=16, backward_x=900)
        >>> merge_into_archive(path, (1, 3), [], bucket=16, backward_x=1200)  # another process, further right
        >>> read_backward_point(path, (1, 3))
        900
    """
    return read_archive_and_point(path, level)[1]


def _document(path: str | os.PathLike[str], level: tuple[int, int]) -> dict[str, Any]:
    """The archive file's JSON object, its format, version and level checked."""
    source = str(path)
    data = read_bytes(path, max_bytes=MAX_ARCHIVE_BYTES)
    document = parse_json(data, source, max_bytes=MAX_ARCHIVE_BYTES, max_depth=4)
    if not isinstance(document, dict) or document.get("format") != ARCHIVE_FORMAT:
        raise ValueError(f"{source} is not a mario-zoo frontier archive; {_FIX}")
    if document.get("version") != ARCHIVE_VERSION:
        raise ValueError(
            f"{source} is a frontier archive of version {document.get('version')!r}; this mario-zoo reads version "
            f"{ARCHIVE_VERSION}. {_FIX}"
        )
    stored = document.get("level")
    if not (isinstance(stored, list) and len(stored) == 2 and all(_is_int(value) for value in stored)):
        raise ValueError(f"{source} has a bad level {stored!r}; {_FIX}")
    if tuple(stored) != tuple(level):
        raise ValueError(
            f"{source} holds World {stored[0]}-{stored[1]}'s frontier, not World {level[0]}-{level[1]}'s: frontier "
            "starts of one level cannot start another. Delete it, or train that level with it."
        )
    return document


def merge_into_archive(
    path: str | os.PathLike[str],
    level: tuple[int, int],
    cells: Iterable[ArchivedCell],
    *,
    bucket: int,
    backward_x: int | None = None,
) -> None:
    """Add ``cells`` to the archive at ``path`` (created if missing): per ``bucket``-pixel stretch of x, the cell
    whose episode reached furthest stays (the one already there on a tie); of ``backward_x`` and the point already
    there, the one further back. Several processes may merge at once: each holds ``<path>.lock`` while it reads and
    replaces the file."""
    if backward_x is not None and not (_is_int(backward_x) and 0 <= backward_x <= MAX_X):
        raise ValueError(f"backward_x must be an x position (an int 0-{MAX_X:,}), got {backward_x!r}.")
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    with open(target.with_name(target.name + ".lock"), "a") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            existing, stored = read_archive_and_point(target, level) if target.is_file() else ([], None)
            points = [backward_x, stored]
            kept = furthest_per_stretch([*existing, *cells], bucket=bucket)
            document: dict[str, Any] = {
                "format": ARCHIVE_FORMAT,
                "version": ARCHIVE_VERSION,
                "level": list(level),
                "cells": [_entry(kept[stretch]) for stretch in sorted(kept)],
            }
            if any(point is not None for point in points):
                document["backward_x"] = min(point for point in points if point is not None)
            write_text(target, json.dumps(document) + "\n")
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)


def furthest_per_stretch(cells: Iterable[ArchivedCell], *, bucket: int) -> dict[int, ArchivedCell]:
    """Per ``bucket``-pixel stretch of x (``x_pos // bucket``), the cell whose episode reached furthest (the
    earlier one on a tie), the rule frontier starts keep their states by.

    Example:
        >>> cells = [ArchivedCell(100, 500, b"a"), ArchivedCell(120, 900, b"b"), ArchivedCell(200, 400, b"c")]
        >>> {stretch: cell.inputs for stretch, cell in furthest_per_stretch(cells, bucket=64).items()}
        {1: b'b', 3: b'c'}
    """
    kept: dict[int, ArchivedCell] = {}
    for cell in cells:
        stretch = cell.x_pos // bucket
        if stretch not in kept or cell.reach > kept[stretch].reach:
            kept[stretch] = cell
    return kept


_FIX = "it is damaged or not one mario-zoo wrote: delete it (training rebuilds it from its own episodes)."


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _cell(entry: Any, index: int, source: str) -> ArchivedCell:
    """Cell ``index`` of the file ``source``, checked."""
    if not isinstance(entry, dict) or set(entry) != {"x_pos", "reach", "inputs"}:
        raise ValueError(f"{source}: cell {index} is not {{x_pos, reach, inputs}}; {_FIX}")
    x_pos, reach, encoded = entry["x_pos"], entry["reach"], entry["inputs"]
    if not (_is_int(x_pos) and _is_int(reach) and 0 <= x_pos <= reach):
        raise ValueError(f"{source}: cell {index} has x_pos {x_pos!r} and reach {reach!r}; {_FIX}")
    if not isinstance(encoded, str) or len(encoded) > 4 * MAX_INPUTS // 3 + 4:
        raise ValueError(f"{source}: cell {index} has no inputs of at most {MAX_INPUTS:,} frames; {_FIX}")
    try:
        inputs = base64.b64decode(encoded, validate=True)
    except binascii.Error:
        raise ValueError(f"{source}: cell {index}'s inputs are not base64; {_FIX}") from None
    return ArchivedCell(x_pos, reach, inputs)


def _entry(cell: ArchivedCell) -> dict[str, Any]:
    return {"x_pos": cell.x_pos, "reach": cell.reach, "inputs": base64.b64encode(cell.inputs).decode("ascii")}
