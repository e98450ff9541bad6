"""Named hyperparameter presets for :class:`~mario_zoo.agents.DQN`, read from ``mario_zoo/hyperparams/dqn.yml``,
or from a YAML file of the same schema (what ``mario-zoo sweep`` writes as ``best.yml``).

Example:
    >>> preset = load_preset("cartpole-tutorial")
    >>> preset.env_id, preset.config.batch_size, preset.policy_kwargs["net_arch"]
    ('CartPole-v1', 128, [128, 128])
    >>> load_preset("cartpole-fastest")  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    ValueError: Unknown DQN preset 'cartpole-fastest'; valid presets are: ...

A preset file holds one entry in ``dqn.yml``'s schema; :func:`load_preset` takes its path as well as a name:

    >>> import dataclasses, tempfile
    >>> path = Path(tempfile.mkdtemp()) / "best.yml"
    >>> tuned = dataclasses.replace(load_preset("cartpole-fast"), name="cartpole-tuned")
    >>> write_preset_file(tuned, path)
    >>> load_preset(str(path)) == tuned
    True
"""

from __future__ import annotations

import dataclasses
import functools
import os
from dataclasses import dataclass, field
from functools import cache
from importlib.resources import files
from pathlib import Path
from typing import Any

import gymnasium as gym
import yaml
from stable_baselines3.common.vec_env import VecEnv

from mario_zoo.agents.config import DQNConfig, check_hyperparameter_names
from mario_zoo.agents.dqn import DQN
from mario_zoo.agents.sb3_options import REPLAY_ARGUMENTS, RUN_OPTIONS
from mario_zoo.atomic import write_text
from mario_zoo.reading import parse_yaml, read_yaml

_PRESET_FILE = files("mario_zoo").joinpath("hyperparams", "dqn.yml")
_PRESET_KEYS = ("description", "env_id", "policy", "n_timesteps", "env_kwargs", "policy_kwargs", "hyperparameters")
# DQN's arguments that are not hyperparameters: Preset.make_model passes them to DQN beside the config.
_MODEL_OPTIONS = (*RUN_OPTIONS, *REPLAY_ARGUMENTS, "device", "policy_kwargs")


@dataclass(frozen=True)
class Preset:
    """One entry of ``dqn.yml``: an env, a policy, a training budget and DQN hyperparameters, parsed once into
    :attr:`config`."""

    name: str
    """Key in ``dqn.yml``."""
    description: str
    """What the preset is for, one line."""
    env_id: str
    """Gymnasium env ID it was tuned on."""
    policy: str
    """Policy name passed to :class:`DQN`."""
    n_timesteps: int
    """Training budget in env steps."""
    config: DQNConfig
    """The hyperparameters, checked: the file's values over :class:`DQNConfig`'s defaults."""
    written: tuple[str, ...] = ()
    """The hyperparameters the file sets, in its order (their values: :attr:`hyperparameters`)."""
    policy_kwargs: dict[str, Any] = field(default_factory=dict)
    """Network options (``net_arch``...)."""
    env_kwargs: dict[str, Any] = field(default_factory=dict)
    """``gym.make`` keyword arguments of the env it was tuned on (rl-zoo's ``env_kwargs``); ``mario-zoo train
    --env-kwargs`` adds to and replaces them."""

    def __post_init__(self) -> None:
        check_hyperparameter_names(dict.fromkeys(self.written))

    @property
    def hyperparameters(self) -> dict[str, Any]:
        """The hyperparameters the file sets, as plain data (what :func:`write_preset_file` writes back)."""
        values = self.config.to_dict()
        return {name: values[name] for name in self.written}

    def with_hyperparameters(self, values: dict[str, Any]) -> Preset:
        """This preset with ``values`` replacing hyperparameters (:meth:`DQNConfig.replace`: checked once); a file
        written from it sets them too.

        Example:
            >>> tuned = load_preset("cartpole-fast").with_hyperparameters({"gamma": 0.9, "tau": 0.5})
            >>> tuned.config.gamma, tuned.hyperparameters["tau"]
            (0.9, 0.5)
        """
        written = (*self.written, *(name for name in values if name not in self.written))
        return dataclasses.replace(self, config=self.config.replace(**values), written=written)

    def make_model(self, env: gym.Env | VecEnv | str | None = None, **overrides: Any) -> DQN:
        """A fresh :class:`DQN` with this preset; ``overrides`` replace hyperparameters or set ``seed``,
        ``device``, ``verbose``, ``tensorboard_log`` (or another of ``DQN``'s arguments, such as ``policy_kwargs``).

        Example:
            >>> model = load_preset("cartpole-fast").make_model(seed=0, device="cpu")
            >>> model.double_q
            True
        """
        options = {name: value for name, value in overrides.items() if name in _MODEL_OPTIONS}
        changes = {name: value for name, value in overrides.items() if name not in _MODEL_OPTIONS}
        if env is None:
            env = functools.partial(gym.make, self.env_id, **self.env_kwargs) if self.env_kwargs else self.env_id
        options = {"policy_kwargs": self.policy_kwargs, **options}
        return DQN(self.policy, env, config=self.config.replace(**changes), **options)


def preset_names() -> tuple[str, ...]:
    """All preset names, in file order."""
    return tuple(_read_presets())


def is_preset_path(name_or_path: str | os.PathLike[str]) -> bool:
    """Whether ``name_or_path`` names a preset file (a ``.yml``/``.yaml`` path) rather than a ``dqn.yml`` entry."""
    return isinstance(name_or_path, os.PathLike) or str(name_or_path).lower().endswith((".yml", ".yaml"))


def load_preset(name_or_path: str | os.PathLike[str]) -> Preset:
    """The preset called ``name_or_path`` in ``dqn.yml``, or the one in the YAML file at that path; its
    hyperparameters are checked, once, into ``Preset.config``."""
    if is_preset_path(name_or_path):
        return load_preset_file(name_or_path)
    presets = _read_presets()
    if name_or_path not in presets:
        raise ValueError(
            f"Unknown DQN preset {name_or_path!r}; valid presets are: {', '.join(presets)} (or the path of a .yml "
            "preset file, such as the best.yml that `mario-zoo sweep` writes)."
        )
    return presets[name_or_path]


def load_preset_file(path: str | os.PathLike[str]) -> Preset:
    """The one preset in the YAML file at ``path`` (``dqn.yml``'s schema: ``name: {env_id: ..., ...}``)."""
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"Preset file {path} does not exist; pass a preset name or the path of a .yml file.")
    raw = read_yaml(path, source=f"Preset file {path}")
    if not isinstance(raw, dict) or len(raw) != 1:
        found = "nothing" if not raw else f"{len(raw)} entries" if isinstance(raw, dict) else type(raw).__name__
        raise ValueError(
            f"Preset file {path} must hold exactly one preset (name: {{env_id: ..., policy: ..., n_timesteps: ..., "
            f"hyperparameters: {{...}}}}), found {found}."
        )
    return _parse_presets(raw, str(path))[next(iter(raw))]


def write_preset_file(preset: Preset, path: str | os.PathLike[str]) -> None:
    """Write ``preset`` to ``path`` (atomically) in ``dqn.yml``'s schema, so :func:`load_preset` reads it back."""
    entry = {key: getattr(preset, key) for key in _PRESET_KEYS}
    write_text(Path(path), yaml.dump({preset.name: entry}, Dumper=_PresetDumper, sort_keys=False, width=120))


class _PresetDumper(yaml.SafeDumper):
    """Writes like ``dqn.yml``: block mappings, lists on one line (``net_arch: [64, 64]``)."""


_PresetDumper.add_representer(
    list, lambda dumper, data: dumper.represent_sequence("tag:yaml.org,2002:seq", data, flow_style=True)
)


@cache
def _read_presets() -> dict[str, Preset]:
    return _parse_presets(parse_yaml(_PRESET_FILE.read_text(encoding="utf-8"), "dqn.yml"), "dqn.yml")


def _parse_presets(raw: dict[str, Any], where: str) -> dict[str, Preset]:
    presets = {}
    for name, entry in raw.items():
        if not isinstance(entry, dict):
            raise ValueError(f"Preset {name!r} in {where} must be a mapping of {', '.join(_PRESET_KEYS)}.")
        unknown = set(entry) - set(_PRESET_KEYS)
        if unknown:
            raise ValueError(f"Preset {name!r} in {where} has unknown keys {sorted(unknown)}; valid: {_PRESET_KEYS}.")
        missing = [key for key in ("env_id", "policy", "n_timesteps") if key not in entry]
        if missing:
            raise ValueError(f"Preset {name!r} in {where} lacks {', '.join(missing)}; every preset has them.")
        steps = _check_preset_fields(name, entry, where)
        for key in ("env_kwargs", "policy_kwargs", "hyperparameters"):
            if not isinstance(entry.get(key) or {}, dict):
                raise ValueError(f"Preset {name!r} in {where}: {key} must be a mapping, got {entry[key]!r}.")
        hyperparameters = dict(entry.get("hyperparameters") or {})
        presets[str(name)] = Preset(
            name=str(name),
            description=entry.get("description", ""),
            env_id=entry["env_id"],
            policy=entry["policy"],
            n_timesteps=steps,
            config=DQNConfig.from_dict(hyperparameters),
            written=tuple(hyperparameters),
            policy_kwargs=dict(entry.get("policy_kwargs") or {}),
            env_kwargs=dict(entry.get("env_kwargs") or {}),
        )
    return presets


def _check_preset_fields(name: Any, entry: dict[str, Any], where: str) -> int:
    """Refuse a preset's scalar fields of the wrong type or outside their range, in one line naming the field;
    returns its ``n_timesteps`` as an int.

    Example:
        >>> _check_preset_fields("fast", {"env_id": "CartPole-v1", "policy": "MlpPolicy", "n_timesteps": 0}, "x.yml")
        Traceback (most recent call last):
        ...
        ValueError: Preset 'fast' in x.yml: n_timesteps must be a whole number of env steps >= 1 (such as 50000), got 0.
    """
    steps = entry["n_timesteps"]
    if isinstance(steps, float) and steps.is_integer():
        steps = int(steps)  # YAML reads 1.0e+5 as a float
    if isinstance(steps, bool) or not isinstance(steps, int) or steps < 1:
        raise ValueError(
            f"Preset {name!r} in {where}: n_timesteps must be a whole number of env steps >= 1 (such as 50000), got "
            f"{entry['n_timesteps']!r}."
        )
    for key, example in (("env_id", "CartPole-v1"), ("policy", "MlpPolicy"), ("description", "one line")):
        if key in entry and (not isinstance(entry[key], str) or not entry[key].strip()):
            raise ValueError(
                f"Preset {name!r} in {where}: {key} must be a non-empty string such as {example!r}, got {entry[key]!r}."
            )
    return steps
