"""Observation and action spaces as plain JSON data, for ``config.json``: ``Box`` and ``Discrete`` only, read back
with limits (a hostile file cannot ask for a huge or deeply nested space).

Example:
    >>> space_from_dict(space_to_dict(spaces.Box(-1.0, 1.0, (3,)))) == spaces.Box(-1.0, 1.0, (3,))
    True
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
from gymnasium import spaces

MAX_SPACE_ELEMENTS = 2**26
"""Most elements an observation space may have (a (4, 84, 84) Mario frame stack has 28,224)."""
MAX_SPACE_DIMENSIONS = 8
"""Most dimensions an observation space may have."""
_BOX_DTYPES = (
    *("bool", "int8", "int16", "int32", "int64", "uint8", "uint16", "uint32", "uint64"),
    *("float16", "float32", "float64"),
)


def space_to_dict(space: spaces.Space) -> dict[str, Any]:
    """A ``Box`` or ``Discrete`` space as plain JSON data (infinite bounds as the strings "inf"/"-inf").

    Example:
        >>> space_to_dict(spaces.Box(0, 255, (4, 84, 84), np.uint8))
        {'type': 'Box', 'shape': [4, 84, 84], 'dtype': 'uint8', 'low': 0, 'high': 255}
        >>> space_from_dict(space_to_dict(spaces.Discrete(7)))
        Discrete(7)
    """
    if isinstance(space, spaces.Discrete):
        return {"type": "Discrete", "n": int(space.n), "start": int(space.start)}
    if isinstance(space, spaces.Box):
        return {
            "type": "Box",
            "shape": list(space.shape),
            "dtype": str(space.dtype),
            "low": _bounds_to_data(space.low),
            "high": _bounds_to_data(space.high),
        }
    raise ValueError(f"Only Box and Discrete spaces can be stored in a checkpoint, got {space}.")


def space_from_dict(data: dict[str, Any]) -> spaces.Space:
    """Inverse of :func:`space_to_dict`."""
    if data["type"] == "Discrete":
        n, start = data["n"], data.get("start", 0)
        if (
            isinstance(n, bool)
            or not isinstance(n, int)
            or n < 1
            or isinstance(start, bool)
            or not isinstance(start, int)
        ):
            raise ValueError(f"a Discrete space needs an int n >= 1 and an int start, got n={n!r}, start={start!r}")
        return spaces.Discrete(n, start=start)
    if data["type"] == "Box":
        if not isinstance(data["shape"], list) or len(data["shape"]) > MAX_SPACE_DIMENSIONS:
            raise ValueError(
                f"a Box shape must be a list of at most {MAX_SPACE_DIMENSIONS} ints, got {data['shape']!r}"
            )
        shape = tuple(data["shape"])
        if not all(isinstance(side, int) and not isinstance(side, bool) and side >= 1 for side in shape):
            raise ValueError(f"a Box shape must be a list of ints >= 1, got {data['shape']!r}")
        if math.prod(shape) > MAX_SPACE_ELEMENTS:
            raise ValueError(
                f"a Box of shape {list(shape)} has {math.prod(shape):,} elements, more than the {MAX_SPACE_ELEMENTS:,} "
                "an observation may have"
            )
        if not isinstance(data["dtype"], str) or data["dtype"] not in _BOX_DTYPES:
            raise ValueError(f"a Box dtype must be one of {_BOX_DTYPES}, got {data['dtype']!r}")
        dtype = np.dtype(data["dtype"])
        low = np.asarray(_bounds_from_data(data["low"]), dtype=np.float64)
        high = np.asarray(_bounds_from_data(data["high"]), dtype=np.float64)
        return spaces.Box(
            np.broadcast_to(low, shape).astype(dtype), np.broadcast_to(high, shape).astype(dtype), dtype=dtype
        )
    raise ValueError(f"Unknown space type {data['type']!r} in checkpoint; expected 'Box' or 'Discrete'.")


def _bounds_to_data(bounds: np.ndarray) -> Any:
    values = bounds.astype(np.float64)
    flat = values.reshape(-1)
    # A uniform bound (the usual case for images) is stored once instead of once per pixel.
    data = flat[0] if flat.size and (flat == flat[0]).all() else values.tolist()
    return _encode_floats(data, integral=np.issubdtype(bounds.dtype, np.integer))


def _encode_floats(data: Any, integral: bool) -> Any:
    if isinstance(data, list):
        return [_encode_floats(item, integral) for item in data]
    value = float(data)
    if math.isinf(value):
        return "inf" if value > 0 else "-inf"
    return int(value) if integral else value


def _bounds_from_data(data: Any) -> Any:
    if isinstance(data, list):
        return [_bounds_from_data(item) for item in data]
    return float(data)
