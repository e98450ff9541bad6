"""The checkpoint format: a directory (or a ``.zip`` of one) of safetensors weights and a JSON config.

::

    model.safetensors       online and target Q-network weights
    optimizer.safetensors   optimizer state (optional), for resuming training
    config.json             algorithm, hyperparameters, network spec, spaces, env ID and kwargs, training
                            counters, package versions, format_version

No pickle anywhere: weights load with ``safetensors`` and the config with ``json``, so opening a downloaded
checkpoint cannot run code. Other code (the hub) reads a checkpoint's config without building a model via
:func:`read_config`.
"""

from __future__ import annotations

import json
import math
import os
import platform
import shutil
import tempfile
import zipfile
from dataclasses import dataclass
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Any

import numpy as np
import torch
from gymnasium import spaces
from safetensors.torch import load as load_safetensors_bytes
from safetensors.torch import save as save_safetensors_bytes

MODEL_FILE = "model.safetensors"
OPTIMIZER_FILE = "optimizer.safetensors"
CONFIG_FILE = "config.json"
#: Bumped whenever a reader of an older version could misread a newer checkpoint.
FORMAT_VERSION = 1
_CHECKPOINT_FILES = frozenset({MODEL_FILE, OPTIMIZER_FILE, CONFIG_FILE})


@dataclass(frozen=True)
class Checkpoint:
    """The contents of a checkpoint, read into memory."""

    config: dict[str, Any]
    """The parsed ``config.json``."""
    model: dict[str, torch.Tensor]
    """Network weights by parameter name."""
    optimizer: dict[str, torch.Tensor] | None
    """Flattened optimizer state, if the checkpoint has one."""


def is_zip_path(path: str | os.PathLike[str]) -> bool:
    """Whether ``save`` writes (and ``load`` reads) a zip archive rather than a directory at ``path``."""
    return Path(path).suffix.lower() == ".zip"


def write_checkpoint(
    path: str | os.PathLike[str],
    config: dict[str, Any],
    model: dict[str, torch.Tensor],
    optimizer: dict[str, torch.Tensor] | None = None,
) -> Path:
    """Write a checkpoint atomically: into a temporary sibling first, then moved over ``path``.

    A path ending in ``.zip`` gets a zip archive (replaced in one ``os.replace``); any other path gets a
    directory. An existing directory is only replaced if it is a checkpoint, never an unrelated folder.
    """
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    files = {
        CONFIG_FILE: json.dumps(config, sort_keys=True, indent=2).encode(),
        MODEL_FILE: _tensor_bytes(model),
    }
    if optimizer is not None:
        files[OPTIMIZER_FILE] = _tensor_bytes(optimizer)
    if is_zip_path(target):
        _write_zip(target, files)
    else:
        _write_directory(target, files)
    return target


def read_config(path: str | os.PathLike[str]) -> dict[str, Any]:
    """The ``config.json`` of a checkpoint directory or zip, checked for a supported ``format_version``.

    Example:
        >>> import tempfile
        >>> folder = tempfile.mkdtemp()
        >>> _ = write_checkpoint(f"{folder}/ckpt", {"format_version": FORMAT_VERSION}, {"w": torch.zeros(1)})
        >>> read_config(f"{folder}/ckpt")["format_version"] == FORMAT_VERSION
        True
    """
    config = json.loads(_read_file(Path(path), CONFIG_FILE))
    check_format_version(config, path)
    return config


def read_checkpoint(path: str | os.PathLike[str]) -> Checkpoint:
    """Read a whole checkpoint (directory or zip) into memory."""
    source = Path(path)
    config = read_config(source)
    optimizer = None
    if _has_file(source, OPTIMIZER_FILE):
        optimizer = load_safetensors_bytes(_read_file(source, OPTIMIZER_FILE))
    return Checkpoint(config, load_safetensors_bytes(_read_file(source, MODEL_FILE)), optimizer)


def check_format_version(config: dict[str, Any], path: str | os.PathLike[str]) -> None:
    """Refuse configs without a format version or written by a newer mario_zoo."""
    found = config.get("format_version")
    if isinstance(found, bool) or not isinstance(found, int):
        raise ValueError(
            f"{path}: {CONFIG_FILE} has no integer format_version (got {found!r}); not a mario_zoo checkpoint."
        )
    if found > FORMAT_VERSION:
        raise ValueError(
            f"{path} has checkpoint format_version {found}, but this mario_zoo reads versions <= {FORMAT_VERSION}. "
            "Upgrade mario_zoo (pip install -U mario-zoo) to load it."
        )


def load_state_strict(module: torch.nn.Module, tensors: dict[str, torch.Tensor], source: object) -> None:
    """Load weights into ``module``; any missing, unexpected or reshaped weight is a ``ValueError``."""
    expected = module.state_dict()
    missing = sorted(set(expected) - set(tensors))
    unexpected = sorted(set(tensors) - set(expected))
    reshaped = [
        f"{name}: checkpoint {tuple(tensors[name].shape)} vs model {tuple(expected[name].shape)}"
        for name in sorted(set(expected) & set(tensors))
        if tensors[name].shape != expected[name].shape
    ]
    if missing or unexpected or reshaped:
        raise ValueError(
            f"{source}: the weights do not match the network built from its config "
            f"(missing: {missing or 'none'}; unexpected: {unexpected or 'none'}; shape mismatch: "
            f"{reshaped or 'none'}). The checkpoint is corrupt or was written by incompatible code."
        )
    module.load_state_dict(tensors, strict=True)


def optimizer_to_tensors(optimizer: torch.optim.Optimizer) -> dict[str, torch.Tensor]:
    """Flatten an optimizer's per-parameter state to ``{"state.<param index>.<name>": tensor}``.

    Hyperparameters (learning rate, betas...) are not stored: they come from the checkpoint's config.
    """
    flat: dict[str, torch.Tensor] = {}
    for index, state in optimizer.state_dict()["state"].items():
        for name, value in state.items():
            tensor = value if isinstance(value, torch.Tensor) else torch.tensor(value)
            flat[f"state.{index}.{name}"] = tensor.detach().cpu().contiguous()
    return flat


def load_optimizer_tensors(optimizer: torch.optim.Optimizer, flat: dict[str, torch.Tensor], source: object) -> None:
    """Inverse of :func:`optimizer_to_tensors`; the optimizer's own hyperparameters are kept."""
    current = optimizer.state_dict()
    n_params = sum(len(group["params"]) for group in current["param_groups"])
    state: dict[int, dict[str, torch.Tensor]] = {}
    for key, tensor in flat.items():
        prefix, index, name = key.split(".", 2) if key.count(".") >= 2 else (key, "", "")
        if prefix != "state" or not index.isdigit() or int(index) >= n_params:
            raise ValueError(f"{source}: unexpected optimizer entry {key!r} for an optimizer of {n_params} parameters.")
        state.setdefault(int(index), {})[name] = tensor
    optimizer.load_state_dict({"state": state, "param_groups": current["param_groups"]})


def package_versions() -> dict[str, str]:
    """Versions of Python and the packages that shape a checkpoint."""
    versions = {"python": platform.python_version()}
    for name in ("mario-zoo", "torch", "stable-baselines3", "gymnasium", "numpy", "safetensors"):
        try:
            versions[name] = version(name)
        except PackageNotFoundError:
            versions[name] = "not installed"
    return versions


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
        return spaces.Discrete(data["n"], start=data.get("start", 0))
    if data["type"] == "Box":
        dtype = np.dtype(data["dtype"])
        low = np.asarray(_bounds_from_data(data["low"]), dtype=np.float64)
        high = np.asarray(_bounds_from_data(data["high"]), dtype=np.float64)
        shape = tuple(data["shape"])
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


def _tensor_bytes(tensors: dict[str, torch.Tensor]) -> bytes:
    return save_safetensors_bytes({name: t.detach().cpu().contiguous() for name, t in tensors.items()})


def _write_zip(target: Path, files: dict[str, bytes]) -> None:
    handle, temp_name = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
    try:
        with os.fdopen(handle, "wb") as stream, zipfile.ZipFile(stream, "w") as archive:
            for name, data in files.items():
                # Weights barely compress; the JSON does.
                method = zipfile.ZIP_DEFLATED if name == CONFIG_FILE else zipfile.ZIP_STORED
                archive.writestr(name, data, compress_type=method)
        os.replace(temp_name, target)
    except BaseException:
        Path(temp_name).unlink(missing_ok=True)
        raise


def _write_directory(target: Path, files: dict[str, bytes]) -> None:
    if target.is_file():
        raise FileExistsError(f"Cannot save a checkpoint directory at {target}: a file is there. Remove it first.")
    if target.is_dir() and not {entry.name for entry in target.iterdir()} <= _CHECKPOINT_FILES:
        raise FileExistsError(
            f"Cannot save a checkpoint at {target}: the directory holds other files than a checkpoint's "
            f"({sorted(_CHECKPOINT_FILES)}). Choose a new path."
        )
    temp_dir = Path(tempfile.mkdtemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent))
    try:
        for name, data in files.items():
            (temp_dir / name).write_bytes(data)
        if target.is_dir():
            # A directory cannot be replaced in one rename: move the old one aside, then swap.
            old = temp_dir.with_name(temp_dir.name + ".old")
            os.replace(target, old)
            os.replace(temp_dir, target)
            shutil.rmtree(old)
        else:
            os.replace(temp_dir, target)
    except BaseException:
        shutil.rmtree(temp_dir, ignore_errors=True)
        raise


def _has_file(source: Path, name: str) -> bool:
    if source.is_dir():
        return (source / name).is_file()
    with zipfile.ZipFile(source) as archive:
        return name in archive.namelist()


def _read_file(source: Path, name: str) -> bytes:
    if source.is_dir():
        file = source / name
        if not file.is_file():
            raise FileNotFoundError(f"{source} is not a mario_zoo checkpoint: it has no {name}.")
        return file.read_bytes()
    if not source.is_file():
        hint = "" if source.suffix else f" (if you saved to '{source}.zip', pass that path)"
        raise FileNotFoundError(f"No checkpoint at {source}{hint}.")
    if not zipfile.is_zipfile(source):
        raise ValueError(f"{source} is neither a checkpoint directory nor a zip archive of one.")
    with zipfile.ZipFile(source) as archive:
        try:
            return archive.read(name)
        except KeyError:
            raise FileNotFoundError(f"{source} is not a mario_zoo checkpoint: the archive has no {name}.") from None
