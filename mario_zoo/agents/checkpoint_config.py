"""``config.json``, a checkpoint's typed description: :class:`CheckpointConfig`, parsed and checked on read.

Everything but the tensors: algorithm, hyperparameters, network layout, spaces, env ID and kwargs, training
counters (and, in a checkpoint that can continue training, the run options and recent episodes SB3's ``load``
restores), package versions, ``format_version`` and the sha256 of each tensor file. Reading is strict: unknown
keys, wrong types and contradictions are a :class:`CheckpointError` naming the file.
:mod:`mario_zoo.agents.checkpoint` reads and writes the files.
"""

from __future__ import annotations

import math
import os
import re
from dataclasses import dataclass, field
from typing import Any

from gymnasium import spaces

from mario_zoo.agents.config import DQNConfig
from mario_zoo.agents.networks import NetworkSpec
from mario_zoo.agents.spaces import space_from_dict, space_to_dict
from mario_zoo.envs.kwargs import split_training_options

MODEL_FILE = "model.safetensors"
OPTIMIZER_FILE = "optimizer.safetensors"
CONFIG_FILE = "config.json"
#: Bumped whenever a reader of an older version could misread a newer checkpoint. Version 2 added ``files``
#: (the sha256 of each tensor file; version 1 loads unverified); version 3 keeps the training-only env options in
#: ``train_env_kwargs`` (older ``env_kwargs`` are split on read); version 4 adds the hyperparameters
#: ``learning_rate_final`` and ``ema_decay`` and the averaged weights (``ema.<index>``) beside the optimizer state,
#: which an older reader would refuse as unknown rather than ask to be upgraded; version 5 adds ``target_epsilon``;
#: version 6 adds ``advantage_learning``; version 7 adds ``exploration_repeat`` and ``frontier_exploration_eps``;
#: version 8 adds ``frontier_exploration_steps``; version 9 lets ``model.safetensors`` leave the target network out
#: (a zoo agent ships the online one only; an older reader would call the file corrupt). Every checkpoint written
#: states the version of the code that wrote it, as with each bump before.
FORMAT_VERSION = 9
TARGET_OPTIONAL_SINCE = 9
"""From this format version on, ``model.safetensors`` may hold the online network alone."""
TENSOR_FILES = (MODEL_FILE, OPTIMIZER_FILE)
_POLICIES = {"mlp": "MlpPolicy", "cnn": "CnnPolicy"}
_SHA256 = re.compile(r"^[0-9a-f]{64}$")
MAX_PATH_CHARS = 4096
"""Length limit of a path kept in config.json (Linux's PATH_MAX)."""
MACHINE_LOCAL: dict[str, Any] = {"tensorboard_log": None, "ep_info_buffer": ()}
"""The training state's fields that stay on the machine that trained: an agent to play has these values."""


class CheckpointError(ValueError):
    """A checkpoint cannot be loaded: corrupt, changed after it was written, or not a mario_zoo checkpoint.

    The message names the file and the problem.
    """


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
        mario_zoo.agents.checkpoint_config.CheckpointError: ckpt: config.json contradicts itself: action_space has 3 actions but the network has 2 outputs.
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
    verbose: int = 0
    """SB3's ``verbose`` of the model."""
    tensorboard_log: str | None = None
    """The model's TensorBoard folder; kept with the training state only (an agent to play has none)."""
    ep_info_buffer: tuple[dict[str, float], ...] = ()
    """The last finished episodes' ``Monitor`` statistics (``r``, ``l``, ``t``) behind ``rollout/ep_rew_mean``;
    kept with the training state only."""
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
        if len(self.ep_info_buffer) > self.hyperparameters.stats_window_size:
            raise ValueError(
                f"ep_info_buffer holds {len(self.ep_info_buffer)} episodes, more than stats_window_size="
                f"{self.hyperparameters.stats_window_size}."
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
            "training": {
                "n_updates": self.n_updates,
                "episodes": self.episodes,
                "n_calls": self.n_calls,
                "verbose": self.verbose,
                "tensorboard_log": self.tensorboard_log,
                "ep_info_buffer": [dict(entry) for entry in self.ep_info_buffer],
            },
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
        version = data["format_version"]
        required = {key for key, since in _KEYS_SINCE.items() if since <= version}
        missing = sorted(required - set(data))
        known = {"algorithm", "format_version", *_SECTIONS}
        unknown = sorted(set(data) - known)
        if missing or unknown:
            raise CheckpointError(
                f"{where} is not a checkpoint config this mario_zoo understands (missing: {missing or 'none'}; "
                f"unknown: {unknown or 'none'}; expected keys: {', '.join(sorted(known))})."
            )
        _check_version_fields(data, version, where)
        values: dict[str, Any] = {"algorithm": "DQN", "format_version": version}
        for key, parse in _SECTIONS.items():
            if key in data:
                try:
                    values.update(parse(data[key]))
                except (TypeError, ValueError, KeyError, AttributeError) as error:
                    raise CheckpointError(f"{where} has an invalid {key!r} entry: {one_line(error)}") from None
        try:
            return cls(**values)
        except (TypeError, ValueError) as error:
            raise CheckpointError(f"{where} contradicts itself: {one_line(error)}") from None


def _parse_exploration(data: Any) -> dict[str, Any]:
    _expect(data, dict, "an object")
    rate = data["rate"]
    if isinstance(rate, bool) or not isinstance(rate, int | float) or not 0.0 <= rate <= 1.0:
        raise ValueError(f"rate must be a number in [0, 1], got {rate!r}")
    return {"exploration_rate": float(rate), "exploration_total_timesteps": _count(data["total_timesteps"])}


def _parse_training(data: Any) -> dict[str, Any]:
    _expect(data, dict, "an object")
    values: dict[str, Any] = {name: _count(data[name]) for name in ("n_updates", "episodes", "n_calls")}
    # Format 7 checkpoints written before these were kept have none of them.
    verbose = _count(data.get("verbose", 0))
    log = data.get("tensorboard_log")
    if log is not None and (not isinstance(log, str) or len(log) > MAX_PATH_CHARS):
        shown = f"a string of {len(log):,} characters" if isinstance(log, str) else repr(log)
        raise ValueError(
            f"expected tensorboard_log a folder path (up to {MAX_PATH_CHARS} characters) or null, got {shown}"
        )
    entries = data.get("ep_info_buffer", [])
    _expect(entries, list, "ep_info_buffer a list")
    return {**values, "verbose": verbose, "tensorboard_log": log, "ep_info_buffer": tuple(map(_episode, entries))}


def _episode(entry: Any) -> dict[str, float]:
    """One ``ep_info_buffer`` entry: a few named, finite numbers (Monitor's ``r``, ``l``, ``t`` and info keys)."""
    _expect(entry, dict, "an episode's statistics as an object")
    if len(entry) > 32 or not all(
        isinstance(key, str) and isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)
        for key, value in entry.items()
    ):
        raise ValueError(f"expected an episode's statistics as up to 32 names of finite numbers, got {entry!r}")
    return dict(entry)


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


def _parse_seed(data: Any) -> int | None:
    seed = _parse_optional_int(data)
    if seed is not None and seed >= 2**32:
        raise ValueError(f"expected a seed below 2**32 (numpy's limit) or null, got {seed}")
    return seed


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
    "seed": lambda data: {"seed": _parse_seed(data)},
    "num_timesteps": lambda data: {"num_timesteps": _count(data)},
    "exploration": _parse_exploration,
    "training": _parse_training,
    "versions": lambda data: {"versions": _mapping(data)},
    "files": _parse_files,
}


_KEYS_SINCE = {
    **dict.fromkeys(
        ("policy", "policy_kwargs", "hyperparameters", "network", "observation_space", "action_space", "env_id",
         "env_kwargs", "seed", "num_timesteps", "exploration", "training", "versions"),
        1,
    ),
    "files": 2,
}  # fmt: skip
"""The keys every ``config.json`` of a format version has (``train_env_kwargs``, since 3, only when there are
training-only env options)."""

_HYPERPARAMETERS_SINCE = {
    "actors": 2, "actor_sync_interval": 2, "precision": 2, "learning_rate_final": 2, "ema_decay": 3,
    "target_epsilon": 5, "advantage_learning": 6, "exploration_repeat": 7, "frontier_exploration_eps": 7,
    "frontier_exploration_steps": 8,
}  # fmt: skip
"""The first format version that wrote each hyperparameter (some arrived partway through a version: a checkpoint of
that version may lack them, and loads with their defaults, which are what it trained with); every other one is in
every version."""

_COMPLETE_SINCE = 5
"""From this format version on, every hyperparameter of the version is in every checkpoint written."""


def _check_version_fields(data: dict[str, Any], version: int, where: str) -> None:
    """A config holds what its format version wrote: from version 5 on every hyperparameter of that version (a
    missing one would load as today's default, not the agent's), and never one that only a later version writes (a
    config claiming an older version than it is would skip that version's checks, such as the sha256 of its files)."""
    hyperparameters = data.get("hyperparameters")
    if not isinstance(hyperparameters, dict):
        return  # its parser names the type
    expected = {name for name in DQNConfig.field_names() if _HYPERPARAMETERS_SINCE.get(name, 1) <= version}
    missing = sorted(expected - set(hyperparameters)) if version >= _COMPLETE_SINCE else []
    later = sorted(name for name in hyperparameters if _HYPERPARAMETERS_SINCE.get(name, 1) > version)
    if version < 3 and "train_env_kwargs" in data:
        later.append("train_env_kwargs")
    if missing:
        raise CheckpointError(f"{where} lacks the hyperparameters {missing}, which format version {version} records.")
    if later:
        raise CheckpointError(
            f"{where} says format version {version} but holds {later}, written only by later versions: the file "
            "was edited."
        )


def _expect(value: Any, kind: type | tuple[type, ...], description: str) -> None:
    if not isinstance(value, kind):
        raise TypeError(f"expected {description}, got {value!r}")


def _count(value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise ValueError(f"expected a whole number >= 0, got {value!r}")
    return value


def one_line(error: BaseException) -> str:
    """An error's message on one line (or its type's name when it has none)."""
    return " ".join(str(error).split()) or type(error).__name__


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
