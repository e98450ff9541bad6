"""Lossless resume on disk: a replay buffer and every RNG state, in safetensors and JSON (never pickle).

Two files, inside a checkpoint (``DQN.save(path, include_replay_buffer=True)``) or on their own
(``DQN.save_replay_buffer(path)``, a directory, or one zip archive where ``path`` has a suffix):

::

    replay.safetensors   the buffer's filled rows (frames, actions, rewards, terminated, valid, and for
                         frame-stacked buffers depth and zero_padded), the prioritized buffer's sum-tree, the
                         observations the agent acts on next, torch's RNG states
    replay.json          format and version, the buffer's layout (capacity, envs, observation shape, frame
                         stack, n-step, priorities), its write positions and counters, the training counters,
                         the numpy Generator states (the agent's, the buffer's, the action space's, each env's),
                         numpy's and Python's global RNG states, and the sha256 of replay.safetensors

The buffer computes n-step returns when it samples, from consecutive rows, so its n-step state *is* its rows and
write positions (``heads``, ``rows_written``): nothing is pending between steps. Only the filled rows are
written, straight from the buffer's arrays (no copy); reading streams them back into a new buffer in chunks,
checking the sha256 on the way, so a corrupt file never half-loads.

Example:
    >>> import tempfile, gymnasium as gym
    >>> buffer = ReplayBuffer(100, gym.spaces.Box(0, 255, (2, 4), np.uint8), n_actions=3, seed=0)
    >>> buffer.start_episodes(np.zeros((1, 2, 4), np.uint8))
    >>> buffer.add(np.array([1]), np.array([0.5]), np.array([False]), np.array([False]), np.ones((1, 2, 4)), {})
    >>> folder = Path(tempfile.mkdtemp())
    >>> write_replay_files(folder, buffer, training={}, rng={}, tensors={})
    >>> copy = ReplayBuffer(100, gym.spaces.Box(0, 255, (2, 4), np.uint8), n_actions=3)
    >>> state = read_replay(folder, copy)
    >>> len(copy), copy.rewards[0, 0], copy.rng.random() == buffer.rng.random()
    (1, np.float32(0.5), True)
"""

from __future__ import annotations

import hashlib
import json
import math
import os
import random
import struct
import zipfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

import numpy as np
from safetensors.numpy import save_file

from mario_zoo.agents.checkpoint import MAX_CONFIG_BYTES, REPLAY_CONFIG_FILE, REPLAY_TENSORS_FILE
from mario_zoo.agents.replay import ReplayBuffer
from mario_zoo.reading import parse_json, read_stream

REPLAY_FORMAT = "mario_zoo.replay"
#: Bumped whenever a reader of an older version could misread a newer replay file.
REPLAY_FORMAT_VERSION = 1
# Streamed reads go through a buffer of this size: loading never holds a second copy of the frames.
_CHUNK_BYTES = 16 * 2**20
# The layout fields that must match between a saved buffer and the buffer it is loaded into.
_LAYOUT_FIELDS = (
    "rows_per_env",
    "n_envs",
    "observation_shape",
    "observation_dtype",
    "frame_stack",
    "n_steps",
    "gamma",
    "prioritized",
    "alpha",
    "eps",
)
_SAFETENSORS_DTYPES = {
    "BOOL": np.dtype(bool),
    "U8": np.dtype(np.uint8),
    "I8": np.dtype(np.int8),
    "U16": np.dtype(np.uint16),
    "I16": np.dtype(np.int16),
    "U32": np.dtype(np.uint32),
    "I32": np.dtype(np.int32),
    "U64": np.dtype(np.uint64),
    "I64": np.dtype(np.int64),
    "F16": np.dtype(np.float16),
    "F32": np.dtype(np.float32),
    "F64": np.dtype(np.float64),
}


@dataclass(frozen=True)
class ReplayState:
    """What :func:`read_replay` read besides the buffer itself."""

    config: dict[str, Any]
    """The parsed ``replay.json``."""
    tensors: dict[str, np.ndarray]
    """The extra arrays saved with the buffer (``last_observations``, ``rng.torch``...)."""


def buffer_layout(buffer: ReplayBuffer) -> dict[str, Any]:
    """The fields that fix a buffer's array shapes and the meaning of its contents, as plain data."""
    return {
        "rows_per_env": buffer.rows_per_env,
        "n_envs": buffer.n_envs,
        "observation_shape": list(buffer.observation_shape),
        "observation_dtype": str(buffer.frames.dtype),
        "frame_stack": buffer.frame_stack,
        "n_steps": buffer.n_steps,
        "gamma": buffer.gamma,
        "prioritized": buffer.prioritized,
        "alpha": buffer.alpha,
        "eps": buffer.eps,
    }


def write_replay_files(
    folder: Path,
    buffer: ReplayBuffer,
    *,
    training: dict[str, Any],
    rng: dict[str, Any],
    tensors: dict[str, np.ndarray],
) -> None:
    """Write ``replay.safetensors`` and ``replay.json`` into ``folder`` (a temporary folder: the caller moves
    them into place atomically).

    Args:
        folder: where to write.
        buffer: the replay buffer.
        training: counters to restore with the buffer (plain data).
        rng: RNG states (plain data) besides the buffer's own generator.
        tensors: extra arrays (observations, torch RNG states) to store next to the buffer's.
    """
    filled = _rows_filled(buffer)
    arrays = {f"buffer.{name}": array[:filled] for name, array in _buffer_arrays(buffer).items()}
    if buffer.tree is not None:
        arrays["buffer.tree"] = buffer.tree.nodes
    arrays |= tensors
    tensors_path = folder / REPLAY_TENSORS_FILE
    # safetensors reads each array where it lies: slices along the first axis are contiguous, so nothing is copied.
    save_file({name: np.ascontiguousarray(array) for name, array in arrays.items()}, str(tensors_path))
    config = {
        "format": REPLAY_FORMAT,
        "format_version": REPLAY_FORMAT_VERSION,
        "buffer": {
            **buffer_layout(buffer),
            "rows_filled": filled,
            "heads": list(buffer.heads),
            "rows_written": list(buffer.rows_written),
            "n_valid": buffer.n_valid,
            "max_priority": buffer.max_priority,
            "rng": generator_state(buffer.rng),
        },
        "training": training,
        "rng": rng,
        "sha256": {REPLAY_TENSORS_FILE: _file_sha256(tensors_path)},
    }
    (folder / REPLAY_CONFIG_FILE).write_text(json.dumps(config, sort_keys=True, indent=2))


def has_replay(path: str | os.PathLike[str]) -> bool:
    """Whether the checkpoint (or replay directory / zip) at ``path`` carries a replay buffer."""
    source = _resolve(path)
    if source.is_dir():
        return (source / REPLAY_CONFIG_FILE).is_file() and (source / REPLAY_TENSORS_FILE).is_file()
    if not zipfile.is_zipfile(source):
        return False
    with zipfile.ZipFile(source) as archive:
        return {REPLAY_CONFIG_FILE, REPLAY_TENSORS_FILE} <= set(archive.namelist())


def read_replay_config(path: str | os.PathLike[str]) -> dict[str, Any]:
    """The ``replay.json`` at ``path``, checked for its format and version."""
    source = _resolve(path)
    name = _describe(source, REPLAY_CONFIG_FILE)
    with _open_member(source, REPLAY_CONFIG_FILE) as stream:
        config = parse_json(read_stream(stream, name, max_bytes=MAX_CONFIG_BYTES), name, max_bytes=MAX_CONFIG_BYTES)
    if not isinstance(config, dict) or config.get("format") != REPLAY_FORMAT:
        raise ValueError(f"{name} is not a mario_zoo replay file (no 'format': {REPLAY_FORMAT!r}).")
    version = config.get("format_version")
    if isinstance(version, bool) or not isinstance(version, int) or version > REPLAY_FORMAT_VERSION:
        raise ValueError(
            f"{name} has replay format_version {version!r}, but this mario_zoo reads versions <= "
            f"{REPLAY_FORMAT_VERSION}. Upgrade mario_zoo (pip install -U mario-zoo) to load it."
        )
    return config


def read_replay(path: str | os.PathLike[str], buffer: ReplayBuffer) -> ReplayState:
    """Fill the new, empty ``buffer`` from the replay files at ``path``; return the rest of what they hold.

    Raises a ``ValueError`` naming the file if the files are corrupt or were saved from a buffer of another
    layout (capacity, envs, observation shape, n-step, priorities).
    """
    source = _resolve(path)
    config = read_replay_config(source)
    name = _describe(source, REPLAY_TENSORS_FILE)
    try:
        saved = config["buffer"]
        layout = {key: saved[key] for key in _LAYOUT_FIELDS}
        filled, expected_sha256 = int(saved["rows_filled"]), config["sha256"][REPLAY_TENSORS_FILE]
    except (KeyError, TypeError, ValueError) as error:
        raise ValueError(f"{_describe(source, REPLAY_CONFIG_FILE)} is corrupt: missing or bad {error}.") from None
    current = buffer_layout(buffer)
    different = [
        f"{key}={layout[key]!r} (this model's: {current[key]!r})"
        for key in _LAYOUT_FIELDS
        if layout[key] != current[key]
    ]
    if different:
        raise ValueError(
            f"{name} holds a replay buffer of another layout: {'; '.join(different)}. Load it into a model built "
            "with the same hyperparameters (buffer_size, n_steps, gamma, prioritized_replay...) and env."
        )
    destinations = {f"buffer.{key}": array[:filled] for key, array in _buffer_arrays(buffer).items()}
    if buffer.tree is not None:
        destinations["buffer.tree"] = buffer.tree.nodes
    with _open_member(source, REPLAY_TENSORS_FILE) as stream:
        extra = _read_safetensors(stream, destinations, expected_sha256, name)
    _check_counters(saved, buffer, filled, _describe(source, REPLAY_CONFIG_FILE))
    buffer.heads = [int(head) for head in saved["heads"]]
    buffer.rows_written = [int(count) for count in saved["rows_written"]]
    buffer.n_valid = int(saved["n_valid"])
    buffer.max_priority = float(saved["max_priority"])
    buffer.rng = generator_from_state(saved["rng"])
    if buffer.n_valid != int(np.count_nonzero(buffer.valid)):
        raise ValueError(
            f"{name} is corrupt: n_valid={buffer.n_valid} but {np.count_nonzero(buffer.valid)} rows are valid."
        )
    return ReplayState(config, extra)


def _check_counters(saved: dict[str, Any], buffer: ReplayBuffer, filled: int, name: str) -> None:
    """The buffer's write positions as its own writes leave them: one head and one count per env, each head the row
    its count of writes ends on, the rows filled those the counts reach, a finite positive top priority. Anything
    else would resume writing over the middle of the saved transitions."""

    def whole(value: Any) -> bool:
        return isinstance(value, int) and not isinstance(value, bool) and 0 <= value <= 2**53

    heads, written, rows = saved["heads"], saved["rows_written"], buffer.rows_per_env
    problems = []
    if not (isinstance(heads, list) and isinstance(written, list) and len(heads) == len(written) == buffer.n_envs):
        problems.append(f"heads and rows_written must list one number per env ({buffer.n_envs})")
    elif not all(map(whole, written)) or not all(isinstance(h, int) and not isinstance(h, bool) for h in heads):
        problems.append("heads and rows_written must be whole numbers")
    else:
        ends = [(count - 1) % rows if count else -1 for count in written]
        if heads != ends:
            problems.append(f"heads {heads} are not where rows_written {written} end ({ends})")
        if filled != min(rows, max(written)):
            problems.append(f"rows_filled={filled} is not what rows_written reach ({min(rows, max(written))})")
    n_valid, top = saved["n_valid"], saved["max_priority"]
    if not whole(n_valid) or n_valid > buffer.capacity:
        problems.append(f"n_valid={n_valid!r} is not a count of at most {buffer.capacity} rows")
    if isinstance(top, bool) or not isinstance(top, int | float) or not math.isfinite(top) or top <= 0:
        problems.append(f"max_priority={top!r} is not a finite number > 0")
    if problems:
        raise ValueError(f"{name} is corrupt: {'; '.join(problems)}.")


def check_global_rng_states(states: dict[str, Any], source: object) -> None:
    """Raise a ``ValueError`` naming ``source`` unless :func:`set_global_rng_states` can restore ``states``; changes
    nothing global (each state is tried on a generator of its own)."""
    try:
        version, internal, gauss = states["python"]
        random.Random().setstate((version, tuple(internal), gauss))
        np.random.RandomState().set_state(_arrays_for(states["numpy_global"]))
    except (KeyError, TypeError, ValueError, IndexError, OverflowError) as error:
        raise ValueError(
            f"{source}: the saved global RNG states are damaged ({type(error).__name__}: {error})."
        ) from None


def generator_state(generator: np.random.Generator) -> dict[str, Any]:
    """A numpy ``Generator``'s state as plain JSON data (its bit generator's ``state`` dict).

    Example:
        >>> generator = np.random.default_rng(0)
        >>> copy = generator_from_state(json.loads(json.dumps(generator_state(generator))))
        >>> copy.integers(1000, size=3).tolist() == generator.integers(1000, size=3).tolist()
        True
    """
    return _plain(generator.bit_generator.state)


def generator_from_state(state: dict[str, Any]) -> np.random.Generator:
    """Inverse of :func:`generator_state`."""
    bit_generator = getattr(np.random, state["bit_generator"])()
    bit_generator.state = _arrays_for(state)
    return np.random.Generator(bit_generator)


def global_rng_states() -> dict[str, Any]:
    """Python's ``random`` and numpy's global (legacy) RNG states, as plain data."""
    version, internal, gauss = random.getstate()
    return {"python": [version, list(internal), gauss], "numpy_global": _plain(np.random.get_state(legacy=False))}


def set_global_rng_states(states: dict[str, Any]) -> None:
    """Inverse of :func:`global_rng_states`."""
    version, internal, gauss = states["python"]
    random.setstate((version, tuple(internal), gauss))
    np.random.set_state(_arrays_for(states["numpy_global"]))


def _buffer_arrays(buffer: ReplayBuffer) -> dict[str, np.ndarray]:
    arrays = {
        "frames": buffer.frames,
        "actions": buffer.actions,
        "rewards": buffer.rewards,
        "terminated": buffer.terminated,
        "valid": buffer.valid,
    }
    if buffer.frame_stack > 1:
        arrays |= {"depth": buffer.depth, "zero_padded": buffer.zero_padded}
    return arrays


def _rows_filled(buffer: ReplayBuffer) -> int:
    """Rows ever written, counted from row 0 (each env's ring starts there); the rest are still zeros."""
    return min(buffer.rows_per_env, max(buffer.rows_written))


def _plain(value: Any) -> Any:
    """numpy arrays and scalars inside an RNG state, as lists and Python numbers."""
    if isinstance(value, dict):
        return {key: _plain(item) for key, item in value.items()}
    if isinstance(value, np.ndarray):
        return value.tolist()
    if isinstance(value, np.generic):
        return value.item()
    return value


def _arrays_for(state: dict[str, Any]) -> dict[str, Any]:
    """Give back the uint32 key array that MT19937 states hold (PCG64 and the others hold plain ints)."""
    if state.get("bit_generator") == "MT19937":
        inner = state["state"]
        return {**state, "state": {**inner, "key": np.asarray(inner["key"], dtype=np.uint32)}}
    return state


def _file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as stream:
        while chunk := stream.read(_CHUNK_BYTES):
            digest.update(chunk)
    return digest.hexdigest()


def _resolve(path: str | os.PathLike[str]) -> Path:
    """``path``, or ``path.zip`` where only that exists (as ``DQN.load`` and SB3 look it up)."""
    given = Path(path)
    with_zip = given.with_name(given.name + ".zip")
    return with_zip if not given.exists() and given.suffix.lower() != ".zip" and with_zip.is_file() else given


def _describe(source: Path, member: str) -> str:
    return str(source / member) if source.is_dir() else f"{source}:{member}"


@contextmanager
def _open_member(source: Path, member: str) -> Iterator[IO[bytes]]:
    """Open ``member`` of a directory or zip for streamed reading; a missing file is a ``ValueError``."""
    if source.is_dir():
        if not (source / member).is_file():
            raise ValueError(f"{source} holds no replay buffer: it has no {member} (save it with the replay).")
        with (source / member).open("rb") as stream:
            yield stream
        return
    if not source.is_file():
        raise FileNotFoundError(f"No checkpoint or replay file at {source}.")
    if not zipfile.is_zipfile(source):
        raise ValueError(f"{source} is neither a directory nor a zip archive of replay files.")
    with zipfile.ZipFile(source) as archive:
        if member not in archive.namelist():
            raise ValueError(f"{source} holds no replay buffer: the archive has no {member} (save it with the replay).")
        with archive.open(member) as stream:
            yield stream


def _read_safetensors(
    stream: IO[bytes], destinations: dict[str, np.ndarray], expected_sha256: str, name: str
) -> dict[str, np.ndarray]:
    """Stream a safetensors file: arrays named in ``destinations`` are read into them, the others returned.

    Every declared dtype and shape is checked against its destination and the whole file against its sha256.
    """
    digest = hashlib.sha256()

    def read_exactly(size: int) -> bytes:
        data = stream.read(size)
        if len(data) != size:
            raise ValueError(f"{name} is corrupt: it ends early (truncated file).")
        digest.update(data)
        return data

    (header_size,) = struct.unpack("<Q", read_exactly(8))
    if header_size > 100 * 2**20:
        raise ValueError(f"{name} is corrupt: its header claims {header_size} bytes.")
    header = parse_json(read_exactly(header_size), f"The header of {name}", max_bytes=header_size, max_depth=4)
    if not isinstance(header, dict):
        raise ValueError(f"{name} is corrupt: its header is not a JSON object.")
    header.pop("__metadata__", None)
    for key, entry in header.items():
        if not (
            isinstance(entry, dict)
            and isinstance(entry.get("dtype"), str)
            and isinstance(entry.get("shape"), list)
            and all(isinstance(size, int) and size >= 0 for size in entry["shape"])
            and isinstance(entry.get("data_offsets"), list)
            and len(entry["data_offsets"]) == 2
            and all(isinstance(offset, int) for offset in entry["data_offsets"])
        ):
            raise ValueError(f"{name} is corrupt: bad header entry for {key!r} ({entry!r}).")
    missing = sorted(set(destinations) - set(header))
    if missing:
        raise ValueError(f"{name} is corrupt or of another layout: it lacks {missing}.")
    extra: dict[str, np.ndarray] = {}
    position = 0
    for key, entry in sorted(header.items(), key=lambda item: item[1]["data_offsets"][0]):
        dtype = _SAFETENSORS_DTYPES.get(entry["dtype"])
        shape = tuple(entry["shape"])
        begin, end = entry["data_offsets"]
        if dtype is None or begin != position or end - begin != dtype.itemsize * int(np.prod(shape)):
            raise ValueError(f"{name} is corrupt: bad entry for {key!r} ({entry}).")
        target = destinations.get(key)
        if target is None:
            target = extra[key] = np.empty(shape, dtype=dtype)
        elif target.dtype != dtype or target.shape != shape:
            raise ValueError(
                f"{name} is corrupt or of another layout: {key!r} is {entry['dtype']} {list(shape)}, expected "
                f"{target.dtype} {list(target.shape)}."
            )
        view = memoryview(target.reshape(-1).view(np.uint8))
        for start in range(0, len(view), _CHUNK_BYTES):
            chunk = read_exactly(min(_CHUNK_BYTES, len(view) - start))
            view[start : start + len(chunk)] = chunk
        position = end
    if stream.read(1):
        raise ValueError(f"{name} is corrupt: it has bytes after its last tensor.")
    if digest.hexdigest() != expected_sha256:
        raise ValueError(
            f"{name} is corrupt: its sha256 is {digest.hexdigest()}, but {REPLAY_CONFIG_FILE} records {expected_sha256}."
        )
    return extra
