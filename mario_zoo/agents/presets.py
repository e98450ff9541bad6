"""Named hyperparameter presets for :class:`~mario_zoo.agents.DQN`, read from ``mario_zoo/hyperparams/dqn.yml``.

Example:
    >>> preset = load_preset("cartpole-tutorial")
    >>> preset.env_id, preset.hyperparameters["batch_size"], preset.policy_kwargs["net_arch"]
    ('CartPole-v1', 128, [128, 128])
    >>> load_preset("cartpole-fastest")  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    ValueError: Unknown DQN preset 'cartpole-fastest'; valid presets are: ...
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cache
from importlib.resources import files
from typing import Any

import gymnasium as gym
import yaml
from stable_baselines3.common.vec_env import VecEnv

from mario_zoo.agents.config import DQNConfig
from mario_zoo.agents.dqn import DQN

_PRESET_FILE = files("mario_zoo").joinpath("hyperparams", "dqn.yml")
_PRESET_KEYS = ("description", "env_id", "policy", "n_timesteps", "policy_kwargs", "hyperparameters")


@dataclass(frozen=True)
class Preset:
    """One entry of ``dqn.yml``: an env, a policy, a training budget and DQN hyperparameters."""

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
    hyperparameters: dict[str, Any] = field(default_factory=dict)
    """:class:`DQNConfig` fields that differ from the defaults."""
    policy_kwargs: dict[str, Any] = field(default_factory=dict)
    """Network options (``net_arch``...)."""

    def make_model(self, env: gym.Env | VecEnv | str | None = None, **overrides: Any) -> DQN:
        """A fresh :class:`DQN` with this preset; ``overrides`` replace hyperparameters or set ``seed``,
        ``device``, ``verbose``, ``tensorboard_log``.

        Example:
            >>> model = load_preset("cartpole-fast").make_model(seed=0, device="cpu")
            >>> model.double_q
            True
        """
        kwargs = {"policy_kwargs": self.policy_kwargs, **self.hyperparameters, **overrides}
        return DQN(self.policy, env if env is not None else self.env_id, **kwargs)


def preset_names() -> tuple[str, ...]:
    """All preset names, in file order."""
    return tuple(_read_presets())


def load_preset(name: str) -> Preset:
    """The preset called ``name``; its hyperparameters are validated."""
    presets = _read_presets()
    if name not in presets:
        raise ValueError(f"Unknown DQN preset {name!r}; valid presets are: {', '.join(presets)}.")
    return presets[name]


@cache
def _read_presets() -> dict[str, Preset]:
    raw = yaml.safe_load(_PRESET_FILE.read_text())
    presets = {}
    for name, entry in raw.items():
        unknown = set(entry) - set(_PRESET_KEYS)
        if unknown:
            raise ValueError(f"Preset {name!r} in dqn.yml has unknown keys {sorted(unknown)}; valid: {_PRESET_KEYS}.")
        DQNConfig.from_dict(entry.get("hyperparameters", {}))
        presets[name] = Preset(name=name, **entry)
    return presets
