"""The checkpoint format: a directory (or a ``.zip`` of one) of safetensors weights and a JSON config.

::

    model.safetensors       online and target Q-network weights
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

import dataclasses
import hashlib
import json
import os
import platform
import re
import shutil
import zipfile
from dataclasses import dataclass, field
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Any

import torch
from gymnasium import spaces
from safetensors.torch import load as load_safetensors_bytes
from safetensors.torch import save as save_safetensors_bytes

from mario_zoo.agents.config import DQNConfig
from mario_zoo.agents.networks import NetworkSpec
from mario_zoo.agents.spaces import space_from_dict, space_to_dict
from mario_zoo.atomic import atomic_directory, atomic_target, usual_file_mode
from mario_zoo.envs.kwargs import split_training_options
from mario_zoo.reading import parse_json, read_stream

MODEL_FILE = "model.safetensors"
OPTIMIZER_FILE = "optimizer.safetensors"
CONFIG_FILE = "config.json"
REPLAY_TENSORS_FILE = "replay.safetensors"
REPLAY_CONFIG_FILE = "replay.json"
#: Bumped whenever a reader of an older version could misread a newer checkpoint. Version 2 added ``files``
#: (the sha256 of each tensor file; version 1 loads unverified); version 3 keeps the training-only env options in
#: ``train_env_kwargs`` (older ``env_kwargs`` are split on read); version 4 adds the hyperparameters
#: ``learning_rate_final`` and ``ema_decay`` and the averaged weights (``ema.<index>``) beside the optimizer state,
#: which an older reader would refuse as unknown rather than ask to be upgraded; version 5 adds ``target_epsilon``;
#: version 6 adds ``advantage_learning``; version 7 adds ``exploration_repeat`` and ``frontier_exploration_eps``.
FORMAT_VERSION = 7
TENSOR_FILES = (MODEL_FILE, OPTIMIZER_FILE)
_CHECKPOINT_FILES = frozenset({CONFIG_FILE, *TENSOR_FILES, REPLAY_TENSORS_FILE, REPLAY_CONFIG_FILE})
_POLICIES = {"mlp": "MlpPolicy", "cnn": "CnnPolicy"}
_SHA256 = re.compile(r"^[0-9a-f]{64}$")
MAX_CONFIG_BYTES = 16 * 2**20
"""Size limit of ``config.json`` and ``replay.json`` (a Mario config is 3 KB; per-pixel bounds stay under 1 MiB)."""
MAX_CONFIG_DEPTH = 32
_CORRUPT = "The checkpoint is corrupt or was written by incompatible code."
"""Nesting limit of ``config.json`` (it nests 4 levels, plus the dimensions of a Box's per-element bounds)."""


class CheckpointError(ValueError):
    """A checkpoint cannot be loaded: corrupt, changed after it was written, or not a mario_zoo checkpoint.

    The message names the file and the problem.
    """


class CheckpointNotFoundError(CheckpointError, FileNotFoundError):
    """No checkpoint at the given path."""


@dataclass(frozen=True)
class CheckpointConfig:
    """The typed contents of ``config.json``: everything needed to rebuild an agent, validated on read.

    Example:
        >>> config = CheckpointConfig(
        ...     policy="MlpPolicy", policy_kwargs={}, hyperparameters=DQNConfig(),
        ...     network=NetworkSpec(kind="mlp", observation_shape=(4,), n_actions=2),
        ...     observation_space=spaces.Box(-1, 1, (4,)), action_space=spaces.Discrete(2),
        ...     files={MODEL_FILE: 64 * "0"})
        >>> CheckpointConfig.from_json(config.to_json(), "ckpt") == config
        True
        >>> CheckpointConfig.from_json({**config.to_json(), "action_space": {"type": "Discrete", "n": 3}}, "ckpt")
        Traceback (most recent call last):
        ...
        mario_zoo.agents.checkpoint.CheckpointError: ckpt: config.json contradicts itself: action_space has 3 actions but the network has 2 outputs.
    """

    policy: str
    """``"MlpPolicy"`` or ``"CnnPolicy"`` (dueling is a network option)."""
    policy_kwargs: dict[str, Any]
    """The SB3-style network options the model was built with."""
    hyperparameters: DQNConfig
    """The DQN hyperparameters."""
    network: NetworkSpec
    """The Q-network's layout."""
    observation_space: spaces.Box
    """The observation space trained on."""
    action_space: spaces.Discrete
    """The action space trained on."""
    env_id: str | None = None
    """Gymnasium ID of the training env (``None``: an env without one)."""
    env_kwargs: dict[str, Any] = field(default_factory=dict)
    """``gym.make`` keyword arguments of the env the agent plays (evaluation builds it from these)."""
    train_env_kwargs: dict[str, Any] = field(default_factory=dict)
    """Training-only options of the training env (``TRAINING_ONLY_OPTIONS``: frontier starts, training noise)."""
    seed: int | None = None
    """The model's seed."""
    num_timesteps: int = 0
    """Env steps trained."""
    exploration_rate: float = 1.0
    """Epsilon when saved."""
    exploration_total_timesteps: int = 0
    """Step target the exploration schedule was running towards."""
    n_updates: int = 0
    """Gradient steps done."""
    episodes: int = 0
    """Training episodes finished."""
    n_calls: int = 0
    """Vec-env steps done (target updates count them)."""
    versions: dict[str, str] = field(default_factory=dict)
    """Versions of Python and the packages that wrote it."""
    files: dict[str, str] = field(default_factory=dict)
    """sha256 of each tensor file, checked on read (empty only in format version 1)."""
    algorithm: str = "DQN"
    """Always ``"DQN"``."""
    format_version: int = FORMAT_VERSION
    """Layout version of the checkpoint."""

    def __post_init__(self) -> None:
        if self.network.n_actions != self.action_space.n:
            raise ValueError(
                f"action_space has {self.action_space.n} actions but the network has {self.network.n_actions} outputs."
            )
        if self.network.observation_shape != self.observation_space.shape:
            raise ValueError(
                f"observation_space has shape {self.observation_space.shape} but the network reads "
                f"{self.network.observation_shape}."
            )
        if self.policy != _POLICIES[self.network.kind]:
            raise ValueError(f"policy {self.policy!r} does not build a {self.network.kind!r} network.")
        # policy_kwargs describe the network the weights fit: an edit that contradicts it would load and misreport.
        net_arch = self.policy_kwargs.get("net_arch")
        if net_arch is not None and (
            not isinstance(net_arch, list | tuple) or tuple(net_arch) != self.network.net_arch
        ):
            raise ValueError(
                f"policy_kwargs net_arch={net_arch!r} contradicts the network's hidden layers "
                f"{list(self.network.net_arch)!r}, which the weights fit."
            )

    def to_json(self) -> dict[str, Any]:
        """Plain JSON data, in ``config.json``'s layout."""
        return {
            "algorithm": self.algorithm,
            "format_version": self.format_version,
            "policy": self.policy,
            "policy_kwargs": self.policy_kwargs,
            "hyperparameters": self.hyperparameters.to_dict(),
            "network": self.network.to_dict(),
            "observation_space": space_to_dict(self.observation_space),
            "action_space": space_to_dict(self.action_space),
            "env_id": self.env_id,
            "env_kwargs": self.env_kwargs,
            "train_env_kwargs": self.train_env_kwargs,
            "seed": self.seed,
            "num_timesteps": self.num_timesteps,
            "exploration": {
                "schedule": self.hyperparameters.exploration_schedule,
                "rate": self.exploration_rate,
                "total_timesteps": self.exploration_total_timesteps,
            },
            "training": {"n_updates": self.n_updates, "episodes": self.episodes, "n_calls": self.n_calls},
            "versions": self.versions,
            "files": self.files,
        }

    @classmethod
    def from_json(cls, data: Any, source: object) -> CheckpointConfig:
        """Parse and check ``config.json`` data; anything wrong is a :class:`CheckpointError` naming ``source``."""
        where = f"{source}: {CONFIG_FILE}"
        if not isinstance(data, dict):
            raise CheckpointError(f"{where} must hold a JSON object, found a {type(data).__name__}.")
        check_format_version(data, source)
        if data.get("algorithm") != "DQN":
            raise CheckpointError(f"{source} holds a {data.get('algorithm')!r} checkpoint, not a DQN one.")
        required = {"policy", "hyperparameters", "network", "observation_space", "action_space", "num_timesteps"}
        if data["format_version"] >= 2:
            required.add("files")
        missing = sorted(required - set(data))
        known = {"algorithm", "format_version", *_SECTIONS}
        unknown = sorted(set(data) - known)
        if missing or unknown:
            raise CheckpointError(
                f"{where} is not a checkpoint config this mario_zoo understands (missing: {missing or 'none'}; "
                f"unknown: {unknown or 'none'}; expected keys: {', '.join(sorted(known))})."
            )
        values: dict[str, Any] = {"algorithm": "DQN", "format_version": data["format_version"]}
        for key, parse in _SECTIONS.items():
            if key in data:
                try:
                    values.update(parse(data[key]))
                except (TypeError, ValueError, KeyError, AttributeError) as error:
                    raise CheckpointError(f"{where} has an invalid {key!r} entry: {_one_line(error)}") from None
        try:
            return cls(**values)
        except ValueError as error:
            raise CheckpointError(f"{where} contradicts itself: {error}") from None


def _parse_exploration(data: Any) -> dict[str, Any]:
    _expect(data, dict, "an object")
    rate = data["rate"]
    if isinstance(rate, bool) or not isinstance(rate, int | float) or not 0.0 <= rate <= 1.0:
        raise ValueError(f"rate must be a number in [0, 1], got {rate!r}")
    return {"exploration_rate": float(rate), "exploration_total_timesteps": _count(data["total_timesteps"])}


def _parse_training(data: Any) -> dict[str, Any]:
    _expect(data, dict, "an object")
    return {name: _count(data[name]) for name in ("n_updates", "episodes", "n_calls")}


def _parse_files(data: Any) -> dict[str, Any]:
    _expect(data, dict, "an object")
    for name, digest in data.items():
        if name not in TENSOR_FILES or not isinstance(digest, str) or not _SHA256.match(digest):
            raise ValueError(f"expected {{file: sha256 hex digest}} for files among {TENSOR_FILES}, got {name!r}")
    if MODEL_FILE not in data:
        raise ValueError(f"no sha256 for {MODEL_FILE}")
    return {"files": dict(data)}


def _parse_space(kind: type[spaces.Space]) -> Any:
    def parse(data: Any) -> spaces.Space:
        _expect(data, dict, "an object")
        space = space_from_dict(data)
        if not isinstance(space, kind):
            raise ValueError(f"expected a {kind.__name__} space, got {space}")
        return space

    return parse


def _parse_optional_int(data: Any) -> int | None:
    return None if data is None else _count(data)


def _parse_env_id(data: Any) -> str | None:
    if data is not None:
        _expect(data, str, "a string or null")
        if ":" in data:  # gym.make("module:Env-v0") imports the module: a file must not choose what runs
            raise ValueError(f"expected a registered Gymnasium ID, got {data!r}, which names a module to import")
    return data


def _parse_hyperparameters(data: Any) -> DQNConfig:
    _expect(data, dict, "an object")
    return DQNConfig.from_dict(data)


def _parse_network(data: Any) -> NetworkSpec:
    _expect(data, dict, "an object")
    return NetworkSpec.from_dict(data)


def _parse_policy(data: Any) -> str:
    if data not in _POLICIES.values():
        raise ValueError(f"expected one of {tuple(_POLICIES.values())}, got {data!r}")
    return data


def _mapping(data: Any) -> dict[str, Any]:
    _expect(data, dict, "an object")
    return dict(data)


def _split_env_kwargs(kwargs: dict[str, Any]) -> dict[str, Any]:
    play, training = split_training_options(kwargs)
    return {"env_kwargs": play, **({"train_env_kwargs": training} if training else {})}


_SECTIONS: dict[str, Any] = {
    "policy": lambda data: {"policy": _parse_policy(data)},
    "policy_kwargs": lambda data: {"policy_kwargs": _mapping(data)},
    "hyperparameters": lambda data: {"hyperparameters": _parse_hyperparameters(data)},
    "network": lambda data: {"network": _parse_network(data)},
    "observation_space": lambda data: {"observation_space": _parse_space(spaces.Box)(data)},
    "action_space": lambda data: {"action_space": _parse_space(spaces.Discrete)(data)},
    "env_id": lambda data: {"env_id": _parse_env_id(data)},
    "env_kwargs": lambda data: _split_env_kwargs(_mapping(data)),  # format <= 2 kept training options here
    "train_env_kwargs": lambda data: {"train_env_kwargs": _mapping(data)},
    "seed": lambda data: {"seed": _parse_optional_int(data)},
    "num_timesteps": lambda data: {"num_timesteps": _count(data)},
    "exploration": _parse_exploration,
    "training": _parse_training,
    "versions": lambda data: {"versions": _mapping(data)},
    "files": _parse_files,
}


def _expect(value: Any, kind: type | tuple[type, ...], description: str) -> None:
    if not isinstance(value, kind):
        raise TypeError(f"expected {description}, got {value!r}")


def _count(value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise ValueError(f"expected a whole number >= 0, got {value!r}")
    return value


def _one_line(error: BaseException) -> str:
    return " ".join(str(error).split()) or type(error).__name__


@dataclass(frozen=True)
class Checkpoint:
    """The contents of a checkpoint, read into memory and verified."""

    config: CheckpointConfig
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
        data = source.read(name)
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
            raise CheckpointError(f"{source.path}/{name} is not a valid safetensors file: {_one_line(error)}") from None
    return Checkpoint(config, tensors[MODEL_FILE], tensors[OPTIMIZER_FILE])


def check_format_version(config: dict[str, Any], path: str | os.PathLike[str]) -> None:
    """Refuse configs without a format version or written by a newer mario_zoo."""
    found = config.get("format_version")
    if isinstance(found, bool) or not isinstance(found, int) or found < 1:
        raise CheckpointError(
            f"{path}: {CONFIG_FILE} has no integer format_version (got {found!r}); not a mario_zoo checkpoint."
        )
    if found > FORMAT_VERSION:
        raise CheckpointError(
            f"{path} has checkpoint format_version {found}, but this mario_zoo reads versions <= {FORMAT_VERSION}. "
            "Upgrade mario_zoo (pip install -U mario-zoo) to load it."
        )


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
    module.load_state_dict(tensors, strict=True)


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
                f"{found} is neither a checkpoint directory nor a readable zip archive of one ({_one_line(error)})."
            ) from None

    @property
    def names(self) -> frozenset[str] | None:
        """The archive's member names (``None`` for a directory)."""
        return None if self._names is None else frozenset(self._names)

    def has(self, name: str) -> bool:
        if self._names is None:
            return (self.path / name).is_file()
        return name in self._names

    def read(self, name: str) -> bytes:
        if not self.has(name):
            where = "the archive has" if self._names is not None else "it has"
            # Another library's zip (SB3's holds `data` and `policy.pth`) is read by a reader above this module.
            hint = (
                " DQN.load reads Stable-Baselines3 zips."
                if self._names is not None and not self.has(CONFIG_FILE)
                else ""
            )
            raise CheckpointNotFoundError(f"{self.path} is not a mario_zoo checkpoint: {where} no {name}.{hint}")
        if self._names is None:
            return (self.path / name).read_bytes()
        try:
            with zipfile.ZipFile(self.path) as archive:
                return archive.read(name)
        except Exception as error:  # zipfile raises many kinds (BadZipFile, zlib.error, EOFError...) for a bad archive
            raise CheckpointError(
                f"{self.path} is a damaged zip archive: reading {name} failed ({_one_line(error)})."
            ) from None

    def json(self, name: str) -> Any:
        """The JSON file ``name``, read no further than :data:`MAX_CONFIG_BYTES` and nested no deeper than
        :data:`MAX_CONFIG_DEPTH` (a damaged or hostile file is refused before it is parsed)."""
        if not self.has(name):
            self.read(name)  # raises CheckpointNotFoundError naming what is missing
        where = f"{self.path}/{name}" if self._names is None else f"{self.path}:{name}"
        try:
            if self._names is None:
                with (self.path / name).open("rb") as stream:
                    data = read_stream(stream, where, max_bytes=MAX_CONFIG_BYTES)
            else:
                with zipfile.ZipFile(self.path) as archive, archive.open(name) as stream:
                    data = read_stream(stream, where, max_bytes=MAX_CONFIG_BYTES)
        except ValueError as error:
            raise CheckpointError(_one_line(error)) from None
        except Exception as error:  # zipfile raises many kinds (BadZipFile, zlib.error, EOFError...) for a bad archive
            raise CheckpointError(
                f"{self.path} is a damaged zip archive: reading {name} failed ({_one_line(error)})."
            ) from None
        try:
            return parse_json(data, where, max_bytes=MAX_CONFIG_BYTES, max_depth=MAX_CONFIG_DEPTH)
        except ValueError as error:
            raise CheckpointError(_one_line(error)) from None
