"""The checkpoint format: a directory (or a ``.zip`` of one) of safetensors weights and a JSON config.

::

    model.safetensors       online and target Q-network weights; an agent to play may leave the target out
                            (format version 9 on), which then starts as a copy of the online network
    optimizer.safetensors   optimizer state (optional), for resuming training
    config.json             algorithm, hyperparameters, network spec, spaces, env ID and kwargs, training
                            counters, package versions, format_version, and the sha256 of each tensor file
    replay.safetensors      the replay buffer and torch's RNG state (optional), for a lossless resume
    replay.json             the buffer's layout, every other RNG state and replay.safetensors's sha256 (optional;
                            see :mod:`mario_zoo.agents.training_state`)

No pickle anywhere: weights load with ``safetensors``, the config with ``json``. Reading is strict: the config
parses into a typed :class:`CheckpointConfig` (unknown keys, wrong types, contradictions refused), every tensor
file must match its sha256 in ``config.json``, and the weights must fit the network. Anything wrong is one
:class:`CheckpointError` (a ``ValueError``) naming the file; a missing checkpoint is a
:class:`CheckpointNotFoundError` (a ``FileNotFoundError``). SB3 zips: :mod:`mario_zoo.agents.reading`.

Example:
    >>> import tempfile
    >>> folder = tempfile.mkdtemp()
    >>> read_config(f"{folder}/missing")  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    mario_zoo.agents.checkpoint.CheckpointNotFoundError: No checkpoint at .../missing (nor .../missing.zip).
"""

from __future__ import annotations

import contextlib
import dataclasses
import hashlib
import json
import os
import platform
import shutil
import zipfile
from dataclasses import dataclass
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Any

import torch
from safetensors.torch import load as load_safetensors_bytes
from safetensors.torch import save as save_safetensors_bytes

# The config.json schema and its error types live in checkpoint_config; imported here, checkpoint's public names.
from mario_zoo.agents.checkpoint_config import (
    CONFIG_FILE,
    FORMAT_VERSION,
    MACHINE_LOCAL,
    MODEL_FILE,
    OPTIMIZER_FILE,
    TARGET_OPTIONAL_SINCE,
    TENSOR_FILES,
    CheckpointConfig,
    CheckpointError,
    check_format_version,
    one_line,
)
from mario_zoo.agents.networks import NetworkSpec
from mario_zoo.agents.spaces import space_from_dict, space_to_dict
from mario_zoo.atomic import atomic_directory, atomic_target, usual_file_mode
from mario_zoo.reading import parse_json, read_stream

__all__ = [
    "CONFIG_FILE",
    "FORMAT_VERSION",
    "MACHINE_LOCAL",
    "MAX_CONFIG_BYTES",
    "MAX_CONFIG_DEPTH",
    "MODEL_FILE",
    "OPTIMIZER_FILE",
    "REPLAY_CONFIG_FILE",
    "REPLAY_TENSORS_FILE",
    "TARGET_OPTIONAL_SINCE",
    "TARGET_PREFIX",
    "TENSOR_FILES",
    "Checkpoint",
    "CheckpointConfig",
    "CheckpointError",
    "CheckpointNotFoundError",
    "check_format_version",
    "find_checkpoint",
    "is_zip_path",
    "load_state_strict",
    "online_only",
    "package_versions",
    "read_checkpoint",
    "read_config",
    "space_from_dict",
    "space_to_dict",
    "write_checkpoint",
    "write_files",
]

TARGET_PREFIX = "q_net_target."
"""Names of the target network's weights in ``model.safetensors`` begin so (the online network's: ``q_net.``)."""
_ONLINE_PREFIX = "q_net."
REPLAY_TENSORS_FILE = "replay.safetensors"
REPLAY_CONFIG_FILE = "replay.json"
_CHECKPOINT_FILES = frozenset({CONFIG_FILE, *TENSOR_FILES, REPLAY_TENSORS_FILE, REPLAY_CONFIG_FILE})
MAX_CONFIG_BYTES = 16 * 2**20
"""Size limit of ``config.json`` and ``replay.json`` (a Mario config is 3 KB; per-pixel bounds stay under 1 MiB)."""
MAX_CONFIG_DEPTH = 32
_CORRUPT = "The checkpoint is corrupt or was written by incompatible code."
"""Nesting limit of ``config.json`` (it nests 4 levels, plus the dimensions of a Box's per-element bounds)."""


class CheckpointNotFoundError(CheckpointError, FileNotFoundError):
    """No checkpoint at the given path."""


@dataclass(frozen=True)
class Checkpoint:
    """The contents of a checkpoint, read into memory and verified."""

    config: CheckpointConfig
    """The parsed ``config.json``."""
    model: dict[str, torch.Tensor]
    """Network weights by parameter name."""
    optimizer: dict[str, torch.Tensor] | None
    """Flattened optimizer state, if the checkpoint has one."""
    target_stored: bool = True
    """Whether ``model.safetensors`` holds the target network (``False``: an agent shipped to play, whose ``model``
    has the target filled in as a copy of the online network, as a freshly built agent starts)."""


def online_only(model: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    """The online network's weights of ``model`` (a policy's state dict): what an agent to play needs.

    Example:
        >>> sorted(online_only({"q_net.w": torch.zeros(1), "q_net_target.w": torch.zeros(1)}))
        ['q_net.w']
    """
    return {key: tensor for key, tensor in model.items() if not key.startswith(TARGET_PREFIX)}


def _with_target(model: dict[str, torch.Tensor]) -> tuple[dict[str, torch.Tensor], bool]:
    """``model`` with the target network filled in as a copy of the online one where the file left it out (whole:
    a file holding part of it is left to :func:`load_state_strict` to refuse); and whether the file held it."""
    if any(key.startswith(TARGET_PREFIX) for key in model):
        return model, True
    copies = {
        TARGET_PREFIX + key.removeprefix(_ONLINE_PREFIX): tensor.clone()
        for key, tensor in model.items()
        if key.startswith(_ONLINE_PREFIX)
    }
    return {**model, **copies}, False


def is_zip_path(path: str | os.PathLike[str]) -> bool:
    """Whether ``save`` writes (and ``load`` reads) a zip archive rather than a directory at ``path``."""
    return Path(path).suffix.lower() == ".zip"


def write_checkpoint(
    path: str | os.PathLike[str],
    config: CheckpointConfig,
    model: dict[str, torch.Tensor],
    optimizer: dict[str, torch.Tensor] | None = None,
    replay_files: dict[str, Path] | None = None,
) -> Path:
    """Write a checkpoint atomically: into a temporary sibling first, then moved over ``path``.

    A path ending in ``.zip`` gets a zip archive (replaced in one ``os.replace``); any other path gets a
    directory. An existing directory is only replaced if it is a checkpoint, never an unrelated folder.
    ``config.files`` is filled in with the sha256 of the tensor files written. ``replay_files`` (written by
    :mod:`mario_zoo.agents.training_state`, which checks them itself) are moved or streamed in.
    """
    tensors = {MODEL_FILE: _tensor_bytes(model)}
    if optimizer is not None:
        tensors[OPTIMIZER_FILE] = _tensor_bytes(optimizer)
    digests = {name: hashlib.sha256(data).hexdigest() for name, data in tensors.items()}
    config = dataclasses.replace(config, files=digests, format_version=FORMAT_VERSION)
    if optimizer is None:  # an agent to play: no local folder, no episodes of the machine that trained it
        config = dataclasses.replace(config, **MACHINE_LOCAL)
    files = {CONFIG_FILE: json.dumps(config.to_json(), sort_keys=True, indent=2).encode(), **tensors}
    return write_files(path, {**files, **(replay_files or {})})


def write_files(path: str | os.PathLike[str], files: dict[str, bytes | Path], archive: bool | None = None) -> Path:
    """Write ``files`` (name -> contents, or a written file to move or stream in) atomically as a directory, or
    a zip archive if ``archive`` is true (``None``: if ``path`` ends in ``.zip``, as :func:`write_checkpoint`
    does)."""
    target = Path(path)
    if is_zip_path(target) if archive is None else archive:
        with atomic_target(target) as temporary, zipfile.ZipFile(temporary, "w") as archive:
            for name, data in files.items():
                # Weights barely compress; the JSON does.
                info = zipfile.ZipInfo.from_file(data, name) if isinstance(data, Path) else zipfile.ZipInfo(name)
                info.compress_type = zipfile.ZIP_DEFLATED if name.endswith(".json") else zipfile.ZIP_STORED
                # A regular file that unpacks with the usual permissions (zipfile's own default is 0600).
                info.external_attr = (0o100000 | usual_file_mode()) << 16
                if isinstance(data, Path):
                    with data.open("rb") as source, archive.open(info, "w") as member:
                        shutil.copyfileobj(source, member, 1 << 20)  # streamed: a replay file can be gigabytes
                else:
                    archive.writestr(info, data)
        return target
    if target.is_file():
        raise FileExistsError(f"Cannot save a checkpoint directory at {target}: a file is there. Remove it first.")
    if target.is_dir() and not {entry.name for entry in target.iterdir()} <= _CHECKPOINT_FILES:
        raise FileExistsError(
            f"Cannot save a checkpoint at {target}: the directory holds other files than a checkpoint's "
            f"({sorted(_CHECKPOINT_FILES)}). Choose a new path."
        )
    with atomic_directory(target) as temporary:
        for name, data in files.items():
            if isinstance(data, Path):
                shutil.move(data, temporary / name)
            else:
                (temporary / name).write_bytes(data)
    return target


def find_checkpoint(path: str | os.PathLike[str]) -> tuple[Path, frozenset[str] | None]:
    """The checkpoint at ``path`` (``"x"`` finds ``"x.zip"``) and, for a zip archive, its member names (``None``
    for a directory); nothing else is read. A missing path or an unreadable archive raises as :func:`read_config`
    does."""
    source = _CheckpointFiles(path)
    return source.path, source.names


def read_config(path: str | os.PathLike[str]) -> CheckpointConfig:
    """The checked ``config.json`` of a checkpoint directory or zip (the tensor files are not read).

    Example:
        >>> import tempfile
        >>> from gymnasium import spaces
        >>> from mario_zoo.agents.config import DQNConfig
        >>> from mario_zoo.agents.networks import NetworkSpec
        >>> folder = tempfile.mkdtemp()
        >>> config = CheckpointConfig(
        ...     policy="MlpPolicy", policy_kwargs={}, hyperparameters=DQNConfig(),
        ...     network=NetworkSpec(kind="mlp", observation_shape=(4,), n_actions=2),
        ...     observation_space=spaces.Box(-1, 1, (4,)), action_space=spaces.Discrete(2), num_timesteps=7)
        >>> _ = write_checkpoint(f"{folder}/ckpt", config, {"w": torch.zeros(1)})
        >>> read_config(f"{folder}/ckpt").num_timesteps
        7
    """
    source = _CheckpointFiles(path)
    return CheckpointConfig.from_json(source.json(CONFIG_FILE), source.path)


def max_tensor_bytes(network: NetworkSpec, name: str) -> int:
    """The largest ``name`` (a tensor file) a checkpoint of ``network`` can hold: the online and target networks'
    weights in float32 (the optimizer file: Adam's two moments, AMSGrad's maximum, the averaged weights and one copy
    to spare), plus the header and counters. A larger file, or a zip member that would inflate to more, is refused
    before it is read whole, so a zip bomb costs no memory."""
    copies = 2 if name == MODEL_FILE else 5
    return copies * 4 * network.parameter_count() + _TENSOR_HEADER_BYTES


_TENSOR_HEADER_BYTES = 1 << 20
"""Room for a safetensors header (names, shapes, offsets) and small tensors (step counters) in a tensor file."""


def read_checkpoint(path: str | os.PathLike[str]) -> Checkpoint:
    """Read and verify a whole checkpoint (directory or zip): config, sha256 of each tensor file, tensors.

    Only our format: :func:`mario_zoo.agents.reading.read_checkpoint` also converts a Stable-Baselines3 zip.
    """
    source = _CheckpointFiles(path)
    config = CheckpointConfig.from_json(source.json(CONFIG_FILE), source.path)
    tensors: dict[str, dict[str, torch.Tensor] | None] = {}
    for name in TENSOR_FILES:
        if name == OPTIMIZER_FILE and not source.has(name):
            tensors[name] = None
            continue
        data = source.read(name, max_tensor_bytes(config.network, name))
        expected = config.files.get(name)
        if config.format_version >= 2 and expected is None:
            raise CheckpointError(f"{source.path}: {CONFIG_FILE} records no sha256 for {name}, which is present.")
        if expected is not None and hashlib.sha256(data).hexdigest() != expected:
            raise CheckpointError(
                f"{source.path}/{name} does not match the sha256 in {CONFIG_FILE}: the file was changed or damaged "
                "after it was written."
            )
        try:
            tensors[name] = load_safetensors_bytes(data)
        except Exception as error:  # safetensors raises its own SafetensorError (or others) for malformed files
            raise CheckpointError(f"{source.path}/{name} is not a valid safetensors file: {one_line(error)}") from None
    model, target_stored = tensors[MODEL_FILE], True
    if config.format_version >= TARGET_OPTIONAL_SINCE:
        model, target_stored = _with_target(model)
    if not target_stored and tensors[OPTIMIZER_FILE] is not None:
        raise CheckpointError(
            f"{source.path}/{MODEL_FILE} lacks the target network, which a checkpoint to resume training from "
            f"(it has {OPTIMIZER_FILE}) must hold: {_CORRUPT}"
        )
    return Checkpoint(config, model, tensors[OPTIMIZER_FILE], target_stored)


def load_state_strict(
    module: torch.nn.Module, tensors: dict[str, torch.Tensor], source: object, hint: str = _CORRUPT
) -> None:
    """Load weights into ``module``; any missing, unexpected or reshaped weight is a :class:`CheckpointError`
    ending with ``hint``."""
    expected = module.state_dict()
    missing = sorted(set(expected) - set(tensors))
    unexpected = sorted(set(tensors) - set(expected))
    reshaped = [
        f"{name}: checkpoint {tuple(tensors[name].shape)} vs model {tuple(expected[name].shape)}"
        for name in sorted(set(expected) & set(tensors))
        if tensors[name].shape != expected[name].shape
    ]
    if missing or unexpected or reshaped:
        raise CheckpointError(
            f"{source}: the weights do not match the network built from its config "
            f"(missing: {missing or 'none'}; unexpected: {unexpected or 'none'}; shape mismatch: "
            f"{reshaped or 'none'}). {hint}"
        )
    retyped = [
        f"{name}: {str(tensors[name].dtype).removeprefix('torch.')}"
        for name in sorted(expected)
        if tensors[name].is_floating_point() != expected[name].is_floating_point()
    ]
    if retyped:
        raise CheckpointError(f"{source}: weights that must be floating point are not ({', '.join(retyped)}). {hint}")
    check_finite(tensors, source)
    module.load_state_dict(tensors, strict=True)


def check_finite(tensors: dict[str, torch.Tensor], source: object) -> None:
    """Refuse weights or optimizer state holding ``nan`` or infinities: a network that diverged, or a damaged file,
    would otherwise load and act as if it were trained (``argmax`` of all-``nan`` Q-values is action 0)."""
    bad = [
        name for name, tensor in sorted(tensors.items()) if tensor.is_floating_point() and not tensor.isfinite().all()
    ]
    if bad:
        shown = ", ".join(bad[:5]) + (f" and {len(bad) - 5} more" if len(bad) > 5 else "")
        raise CheckpointError(
            f"{source}: {shown} hold nan or infinite values: the training diverged or the file is damaged; load an "
            "earlier checkpoint."
        )


def package_versions() -> dict[str, str]:
    """Versions of Python and the packages that shape a checkpoint."""
    versions = {"python": platform.python_version()}
    for name in ("mario-zoo", "torch", "stable-baselines3", "gymnasium", "numpy", "safetensors"):
        try:
            versions[name] = version(name)
        except PackageNotFoundError:
            versions[name] = "not installed"
    return versions


def _tensor_bytes(tensors: dict[str, torch.Tensor]) -> bytes:
    return save_safetensors_bytes({name: t.detach().cpu().contiguous() for name, t in tensors.items()})


class _CheckpointFiles:
    """The files of a checkpoint directory or zip archive, each read whole; every failure names the path.

    A path without ``.zip`` that does not exist is looked up with ``.zip`` appended, as SB3's ``load`` does; and
    ``x.zip`` that does not exist finds the directory ``x``, which ``save("x")`` writes (SB3 would have written
    ``x.zip``, so SB3 habits such as ``load("logs/best_model.zip")`` after an ``EvalCallback`` find it).
    """

    def __init__(self, path: str | os.PathLike[str]):
        given = Path(path)
        if given.suffix.lower() == ".zip":
            candidates = [given, given.with_name(given.name[: -len(".zip")])]
        else:
            candidates = [given, given.with_name(given.name + ".zip")]
        found = next((candidate for candidate in candidates if candidate.exists()), None)
        if found is not None and found != given and given.suffix.lower() == ".zip" and not found.is_dir():
            found = None  # x.zip falls back to a checkpoint directory x only, not to any file named x
        if found is None:
            other = candidates[1]
            also = f"{other} is a file, not a checkpoint directory" if other.is_file() else f"nor {other}"
            raise CheckpointNotFoundError(f"No checkpoint at {given} ({also}).")
        self.path = found
        self._names: set[str] | None = None
        if found.is_dir():
            return
        try:
            with zipfile.ZipFile(found) as archive:
                self._names = set(archive.namelist())
        except (zipfile.BadZipFile, OSError, EOFError, ValueError) as error:
            raise CheckpointError(
                f"{found} is neither a checkpoint directory nor a readable zip archive of one ({one_line(error)})."
            ) from None

    @property
    def names(self) -> frozenset[str] | None:
        """The archive's member names (``None`` for a directory)."""
        return None if self._names is None else frozenset(self._names)

    def has(self, name: str) -> bool:
        if self._names is None:
            return (self.path / name).is_file()
        return name in self._names

    def read(self, name: str, max_bytes: int | None = None) -> bytes:
        """The file ``name`` whole; with ``max_bytes``, no more than that is read or inflated (a larger file, or a
        zip member that inflates past it, is a :class:`CheckpointError`)."""
        if not self.has(name):
            where = "the archive has" if self._names is not None else "it has"
            # Another library's zip (SB3's holds `data` and `policy.pth`) is read by a reader above this module.
            hint = (
                " DQN.load reads Stable-Baselines3 zips."
                if self._names is not None and not self.has(CONFIG_FILE)
                else ""
            )
            raise CheckpointNotFoundError(f"{self.path} is not a mario_zoo checkpoint: {where} no {name}.{hint}")
        where = f"{self.path}/{name}" if self._names is None else f"{self.path}:{name}"
        try:
            with contextlib.ExitStack() as stack:
                if self._names is None:
                    stream = stack.enter_context((self.path / name).open("rb"))
                else:
                    stream = stack.enter_context(stack.enter_context(zipfile.ZipFile(self.path)).open(name))
                return stream.read() if max_bytes is None else read_stream(stream, where, max_bytes=max_bytes)
        except ValueError as error:
            raise CheckpointError(one_line(error)) from None
        except OSError:
            raise
        except Exception as error:  # zipfile raises many kinds (BadZipFile, zlib.error, EOFError...) for a bad archive
            raise CheckpointError(
                f"{self.path} is a damaged zip archive: reading {name} failed ({one_line(error)})."
            ) from None

    def json(self, name: str) -> Any:
        """The JSON file ``name``, read no further than :data:`MAX_CONFIG_BYTES` and nested no deeper than
        :data:`MAX_CONFIG_DEPTH` (a damaged or hostile file is refused before it is parsed)."""
        data = self.read(name, MAX_CONFIG_BYTES)
        where = f"{self.path}/{name}" if self._names is None else f"{self.path}:{name}"
        try:
            return parse_json(data, where, max_bytes=MAX_CONFIG_BYTES, max_depth=MAX_CONFIG_DEPTH)
        except ValueError as error:
            raise CheckpointError(one_line(error)) from None
