"""Bounded reads of JSON and YAML from disk: the one reader every file mario-zoo parses goes through.

A file on disk may be damaged, truncated, or written by someone else (a downloaded checkpoint, a shared sweep
space). Before anything is parsed its size is checked against a limit, and the nesting depth of its JSON or YAML
against another, so a multi-gigabyte or ten-thousand-level document is refused in one line instead of filling the
memory or overflowing the parser's stack. YAML is read with ``yaml.safe_load`` (no Python objects) and without
anchors or aliases, whose expansion can turn a few hundred bytes into gigabytes (the "billion laughs"). Every
failure is a ``ValueError`` naming the file, the limit and the fix. This module sits below every other one and
imports none of them.

Example:
    >>> import tempfile
    >>> from pathlib import Path
    >>> path = Path(tempfile.mkdtemp()) / "space.yml"
    >>> _ = path.write_text("a: &x [1, 2]\\nb: *x\\n")
    >>> read_yaml(path)  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    ValueError: .../space.yml uses an anchor (&x, line 1); mario-zoo reads YAML without anchors and aliases ...
    >>> parse_json("[[[1]]]", "deep.json", max_depth=2)
    Traceback (most recent call last):
    ...
    ValueError: deep.json nests 3 levels deep; the limit is 2. The file is damaged or not one mario-zoo wrote.
"""

from __future__ import annotations

import json
import os
import re
from typing import IO, Any

import yaml

MAX_JSON_BYTES = 16 * 2**20
"""Default size limit of a JSON file (a checkpoint's ``config.json`` with per-pixel bounds is well under 1 MiB)."""
MAX_YAML_BYTES = 2**20
"""Default size limit of a YAML file (``dqn.yml`` is 5 KB)."""
MAX_DEPTH = 32
"""Default limit on how deeply objects and lists nest (mario-zoo's files nest at most 5 levels)."""

_JSON_STRING = re.compile(r'"(?:[^"\\]|\\.)*"', re.DOTALL)
_BRACKETS = re.compile(r"[\[\]{}]")


def read_bytes(path: str | os.PathLike[str], *, max_bytes: int, source: str | None = None) -> bytes:
    """The contents of ``path``, refused with a ``ValueError`` naming ``source`` (default: the path) if they exceed
    ``max_bytes``.

    At most ``max_bytes + 1`` bytes are read, whatever the file system reports, so a file growing while it is
    read, or a device, cannot make the read unbounded.
    """
    with open(path, "rb") as stream:
        return read_stream(stream, source or str(path), max_bytes=max_bytes)


def read_stream(stream: IO[bytes], source: str, *, max_bytes: int) -> bytes:
    """At most ``max_bytes`` bytes of ``stream`` (a file or a zip member called ``source``); more is a ``ValueError``."""
    data = stream.read(max_bytes + 1)
    if len(data) > max_bytes:
        raise ValueError(
            f"{source} is larger than the {_size(max_bytes)} limit for this file; it is damaged or not one mario-zoo "
            "wrote."
        )
    return data


def parse_json(data: bytes | str, source: str, *, max_bytes: int = MAX_JSON_BYTES, max_depth: int = MAX_DEPTH) -> Any:
    """Parse JSON text read from ``source``, after checking its size and nesting depth.

    Example:
        >>> parse_json(b'{"a": [1, "]]]"]}', "ok.json", max_depth=2)
        {'a': [1, ']]]']}
        >>> parse_json(b'{"a": 1', "cut.json")  # doctest: +ELLIPSIS
        Traceback (most recent call last):
        ...
        ValueError: cut.json is not valid JSON (Expecting ',' delimiter: line 1 column 8 (char 7)); it is damaged ...
    """
    if len(data) > max_bytes:
        raise ValueError(f"{source} is larger than the {_size(max_bytes)} limit for this file; it is damaged.")
    try:
        text = data.decode("utf-8") if isinstance(data, bytes) else data
    except UnicodeDecodeError as error:
        raise ValueError(f"{source} is not UTF-8 text ({error}); it is damaged or not one mario-zoo wrote.") from None
    depth = json_depth(text)
    if depth > max_depth:
        raise ValueError(
            f"{source} nests {depth} levels deep; the limit is {max_depth}. The file is damaged or not one mario-zoo "
            "wrote."
        )
    try:
        return json.loads(text)
    except ValueError as error:  # JSONDecodeError, and Python's limit on the digits of one integer
        raise ValueError(
            f"{source} is not valid JSON ({error}); it is damaged (a truncated write?) or not one mario-zoo wrote."
        ) from None


def read_json(
    path: str | os.PathLike[str],
    *,
    max_bytes: int = MAX_JSON_BYTES,
    max_depth: int = MAX_DEPTH,
    source: str | None = None,
) -> Any:
    """The JSON document at ``path``, bounded as :func:`parse_json` says; errors name ``source`` (default: the
    path)."""
    source = source or str(path)
    return parse_json(
        read_bytes(path, max_bytes=max_bytes, source=source), source, max_bytes=max_bytes, max_depth=max_depth
    )


def json_depth(text: str) -> int:
    """How deeply the objects and lists of JSON ``text`` nest (brackets inside strings do not count).

    Example:
        >>> json_depth('{"a": [1, {"b": "[["}]}'), json_depth("7")
        (3, 0)
    """
    depth = deepest = 0
    for bracket in _BRACKETS.findall(_JSON_STRING.sub('""', text)):
        depth += 1 if bracket in "[{" else -1
        deepest = max(deepest, depth)
    return deepest


def parse_yaml(text: str, source: str, *, max_bytes: int = MAX_YAML_BYTES, max_depth: int = MAX_DEPTH) -> Any:
    """``yaml.safe_load(text)`` after checking its size, its depth, and that it uses no anchors or aliases.

    Example:
        >>> parse_yaml("cartpole: {env_id: CartPole-v1, n_timesteps: 50000}", "dqn.yml")
        {'cartpole': {'env_id': 'CartPole-v1', 'n_timesteps': 50000}}
    """
    if len(text.encode("utf-8")) > max_bytes:
        raise ValueError(f"{source} is larger than the {_size(max_bytes)} limit for this file; it is damaged.")
    depth = 0
    try:
        # The event stream comes from PyYAML's iterative parser: nothing is built (or expanded) before it is checked.
        for event in yaml.parse(text, Loader=yaml.SafeLoader):
            anchor = getattr(event, "anchor", None)
            if anchor is not None:
                kind = "an alias" if isinstance(event, yaml.AliasEvent) else "an anchor"
                sign = "*" if isinstance(event, yaml.AliasEvent) else "&"
                raise ValueError(
                    f"{source} uses {kind} ({sign}{anchor}, line {event.start_mark.line + 1}); mario-zoo reads YAML "
                    "without anchors and aliases (their expansion can be unbounded): write the values out in full."
                )
            if isinstance(event, yaml.MappingStartEvent | yaml.SequenceStartEvent):
                depth += 1
                if depth > max_depth:
                    raise ValueError(
                        f"{source} nests more than {max_depth} levels deep (line {event.start_mark.line + 1}); the "
                        "file is damaged or not one mario-zoo can read."
                    )
            elif isinstance(event, yaml.MappingEndEvent | yaml.SequenceEndEvent):
                depth -= 1
        return yaml.safe_load(text)
    except yaml.YAMLError as error:
        reason = str(error).splitlines()[0] if str(error) else type(error).__name__
        raise ValueError(f"{source} is not valid YAML: {reason}.") from None


def read_yaml(
    path: str | os.PathLike[str],
    *,
    max_bytes: int = MAX_YAML_BYTES,
    max_depth: int = MAX_DEPTH,
    source: str | None = None,
) -> Any:
    """The YAML document at ``path``, bounded and checked as :func:`parse_yaml` says; errors name ``source``
    (default: the path)."""
    source = source or str(path)
    try:
        text = read_bytes(path, max_bytes=max_bytes, source=source).decode("utf-8")
    except UnicodeDecodeError as error:
        raise ValueError(f"{source} is not UTF-8 text ({error}); it is damaged or not a YAML file.") from None
    return parse_yaml(text, source, max_bytes=max_bytes, max_depth=max_depth)


def _size(count: int) -> str:
    """``16 MiB``, ``1 MiB``, ``512 bytes``.

    Example:
        >>> _size(16 * 2**20), _size(3 * 2**10), _size(512)
        ('16 MiB', '3 KiB', '512 bytes')
    """
    for unit, scale in (("MiB", 2**20), ("KiB", 2**10)):
        if count >= scale and count % scale == 0:
            return f"{count // scale} {unit}"
    return f"{count} bytes"
