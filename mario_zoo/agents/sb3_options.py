"""Stable-Baselines3 arguments that are not DQN hyperparameters, and what each means here: policies named or
given as classes, ``policy_kwargs``, callbacks, ``learn(1e5)``, SB3's replay and load options.

SB3 scripts pass ``DQN(...)`` the replay options ``optimize_memory_usage``, ``replay_buffer_class`` and
``replay_buffer_kwargs``, and ``DQN.load(...)`` ``custom_objects``, ``print_system_info``, ``force_reset`` and
attribute overrides as keyword arguments. rl-zoo's ``enjoy``, for one, loads every off-policy agent with
``custom_objects={"learning_rate": 0.0, "lr_schedule": ..., "clip_range": ...}``, ``buffer_size=1`` and
``optimize_memory_usage=False``. This module maps each onto our typed settings, or refuses it with a message
that names SB3's behaviour and ours. Nothing here unpickles: ``custom_objects`` only ever replaces values, as in
SB3, and our checkpoints hold no Python objects to replace.

Example:
    >>> arguments = split_load_arguments({"buffer_size": 1}, {"learning_rate": 0.0, "lr_schedule": print})
    >>> arguments.hyperparameters
    {'learning_rate': 0.0, 'buffer_size': 1}
    >>> check_replay_arguments(replay_buffer_class="HerReplayBuffer")  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    ValueError: replay_buffer_class='HerReplayBuffer' is not supported: mario_zoo's replay is chosen by ...
"""

from __future__ import annotations

import inspect
import os
import platform
import warnings
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch
from gymnasium import spaces
from stable_baselines3 import DQN as SB3DQN
from stable_baselines3.common.buffers import NStepReplayBuffer
from stable_baselines3.common.buffers import ReplayBuffer as SB3ReplayBuffer
from stable_baselines3.common.callbacks import BaseCallback, CallbackList, ConvertCallback, ProgressBarCallback
from stable_baselines3.common.type_aliases import MaybeCallback
from stable_baselines3.dqn.policies import CnnPolicy as SB3CnnPolicy
from stable_baselines3.dqn.policies import DQNPolicy as SB3DQNPolicy

from mario_zoo.agents.checkpoint import CheckpointConfig, package_versions
from mario_zoo.agents.config import REPLAY_HYPERPARAMETERS, DQNConfig, check_hyperparameter_names
from mario_zoo.agents.networks import ACTIVATIONS, NetworkSpec
from mario_zoo.agents.policies import DuelingCnnPolicy, DuelingMlpPolicy
from mario_zoo.agents.replay import ReplayBuffer

# Policy names (SB3's and ours) -> (network kind, dueling).
POLICY_ALIASES: dict[str, tuple[str, bool]] = {
    "MlpPolicy": ("mlp", False),
    "CnnPolicy": ("cnn", False),
    "DuelingMlpPolicy": ("mlp", True),
    "DuelingCnnPolicy": ("cnn", True),
}
POLICY_KWARGS = ("net_arch", "activation_fn", "features_extractor_kwargs", "normalize_images")
_DEFAULT_NET_ARCH = {"mlp": [64, 64], "cnn": []}
REPLAY_ARGUMENTS = ("optimize_memory_usage", "replay_buffer_class", "replay_buffer_kwargs")
RUN_OPTIONS = ("verbose", "tensorboard_log", "seed")
#: Model attributes (not hyperparameters) that ``DQN.load`` can replace, as SB3's ``load`` does.
LOAD_ATTRIBUTES = ("exploration_rate", "observation_space", "action_space", "policy_kwargs", "policy_class")
# SB3's load rebuilds these from the hyperparameters right after custom_objects replaced them (its
# _setup_model), so replacing them changes nothing there either; learning_rate and exploration_* set them.
_REBUILT_BY_SB3 = ("lr_schedule", "exploration_schedule")
# SB3's NStepReplayBuffer default.
_SB3_NSTEP_DEFAULT = 3


@dataclass(frozen=True)
class LoadArguments:
    """``DQN.load``'s ``custom_objects`` and keyword arguments, sorted by what they change (keywords win, as in
    SB3, which applies them after ``custom_objects``)."""

    hyperparameters: dict[str, Any]
    """Fields of :class:`~mario_zoo.agents.config.DQNConfig` to replace."""
    run_options: dict[str, Any]
    """``verbose``, ``tensorboard_log``, ``seed``."""
    replay: dict[str, Any]
    """SB3's replay options, for :func:`check_replay_arguments`."""
    attributes: dict[str, Any]
    """Model attributes among :data:`LOAD_ATTRIBUTES`."""


def split_load_arguments(kwargs: dict[str, Any], custom_objects: Any) -> LoadArguments:
    """Sort ``DQN.load``'s keyword arguments and ``custom_objects``.

    An unknown keyword argument is a ``TypeError`` naming the closest hyperparameter. A ``custom_objects`` key
    that names no hyperparameter or attribute we can replace is dropped with one warning, as SB3 drops the
    keys its saved data does not hold; ``lr_schedule`` and ``exploration_schedule`` are dropped silently,
    because SB3 rebuilds them from ``learning_rate`` and the ``exploration_*`` hyperparameters too.
    """
    if custom_objects is None:
        custom_objects = {}
    if not isinstance(custom_objects, dict):
        raise ValueError(
            f"custom_objects must be a dict or None, got a {type(custom_objects).__name__}: "
            "{attribute name: value to use instead of the saved one}."
        )
    # SB3's schedules are functions; ``exploration_schedule`` also names our hyperparameter (a shape name), which a
    # custom object may still set by name.
    custom_objects = {
        key: value for key, value in custom_objects.items() if not (key in _REBUILT_BY_SB3 and callable(value))
    }
    applicable = (*DQNConfig.field_names(), *RUN_OPTIONS, *REPLAY_ARGUMENTS, *LOAD_ATTRIBUTES)
    ignored = [key for key in custom_objects if key not in applicable and key not in _REBUILT_BY_SB3]
    if ignored:
        warnings.warn(
            f"DQN.load ignored custom_objects {sorted(ignored, key=str)}: mario_zoo replaces only hyperparameters, "
            f"{', '.join(RUN_OPTIONS + LOAD_ATTRIBUTES)} and SB3's replay options; a checkpoint holds no other "
            "objects to replace.",
            stacklevel=3,
        )
    check_hyperparameter_names({key: value for key, value in kwargs.items() if key not in applicable})
    given = {**{key: value for key, value in custom_objects.items() if key in applicable}, **kwargs}
    arguments = LoadArguments(
        hyperparameters={key: value for key, value in given.items() if key in DQNConfig.field_names()},
        run_options={key: value for key, value in given.items() if key in RUN_OPTIONS},
        replay={key: value for key, value in given.items() if key in REPLAY_ARGUMENTS},
        attributes={key: value for key, value in given.items() if key in LOAD_ATTRIBUTES},
    )
    if "exploration_rate" in arguments.attributes:
        _check_rate(arguments.attributes["exploration_rate"])
    return arguments


def check_replay_arguments(
    optimize_memory_usage: Any = False,
    replay_buffer_class: Any = None,
    replay_buffer_kwargs: Any = None,
    *,
    n_steps: int = 1,
) -> None:
    """Accept SB3's replay options where they describe our replay; refuse the others, naming ours.

    Our replay stores each observation once (the next observation is the next row), as SB3's
    ``optimize_memory_usage=True`` does, and still bootstraps from a time limit's final observation, as SB3's
    default ``handle_timeout_termination=True`` does; so ``optimize_memory_usage`` may be either value and
    changes nothing. ``replay_buffer_class`` may be ``None``, SB3's ``ReplayBuffer`` or ours; what SB3's other
    buffers add is chosen here by the hyperparameters in ``REPLAY_HYPERPARAMETERS``.

    Args:
        optimize_memory_usage: SB3's flag.
        replay_buffer_class: SB3's replay class.
        replay_buffer_kwargs: SB3's extra replay arguments.
        n_steps: the model's n-step return length.
    """
    if not isinstance(optimize_memory_usage, bool):
        raise TypeError(f"optimize_memory_usage must be True or False, got {optimize_memory_usage!r}.")
    options = ", ".join(REPLAY_HYPERPARAMETERS)
    if replay_buffer_kwargs is not None and not isinstance(replay_buffer_kwargs, dict):
        raise TypeError(f"replay_buffer_kwargs must be a dict or None, got {replay_buffer_kwargs!r}.")
    replay_buffer_kwargs = replay_buffer_kwargs or {}
    if replay_buffer_class is NStepReplayBuffer:
        n = replay_buffer_kwargs.get("n_steps", _SB3_NSTEP_DEFAULT)
        raise ValueError(
            f"replay_buffer_class=NStepReplayBuffer is not needed: pass n_steps={n} (mario_zoo's replay computes "
            "n-step returns) with replay_buffer_class=None."
        )
    if replay_buffer_class is SB3ReplayBuffer and n_steps > 1:
        raise ValueError(
            f"SB3 ignores n_steps={n_steps} with replay_buffer_class=ReplayBuffer (1-step returns), while mario_zoo's "
            f"replay computes n-step returns: pass replay_buffer_class=None with n_steps={n_steps}, or n_steps=1."
        )
    if replay_buffer_class not in (None, SB3ReplayBuffer, ReplayBuffer):
        name = replay_buffer_class.__name__ if isinstance(replay_buffer_class, type) else repr(replay_buffer_class)
        raise ValueError(
            f"replay_buffer_class={name} is not supported: mario_zoo's replay is chosen by hyperparameters "
            f"({options}); pass replay_buffer_class=None or SB3's ReplayBuffer."
        )
    if replay_buffer_kwargs.get("handle_timeout_termination", True) is not True:
        raise ValueError(
            "replay_buffer_kwargs handle_timeout_termination=False is not supported: SB3 then treats time-limit "
            "truncations as terminal, while mario_zoo's replay always bootstraps from their final observation "
            "(SB3's default, True)."
        )
    unknown = sorted(set(replay_buffer_kwargs) - {"handle_timeout_termination"}, key=str)
    if unknown:
        raise ValueError(
            f"Unsupported replay_buffer_kwargs {unknown}; mario_zoo's replay takes only "
            f"handle_timeout_termination=True and is set up by the hyperparameters {options}."
        )


def replace_spaces(
    observation_space: spaces.Box, action_space: spaces.Discrete, attributes: dict[str, Any]
) -> tuple[spaces.Box, spaces.Discrete]:
    """The spaces to load a model with: the stored ones, or replacements given to ``DQN.load`` that fit the
    stored network (same observation shape and dtype, same number of actions), e.g. exact bounds for an SB3 zip,
    whose bounds are not readable without unpickling."""
    observation = attributes.get("observation_space", observation_space)
    if not (
        isinstance(observation, spaces.Box)
        and observation.shape == observation_space.shape
        and observation.dtype == observation_space.dtype
    ):
        raise ValueError(
            f"observation_space {observation} does not fit the stored network, which reads {observation_space}; "
            f"pass a Box of shape {observation_space.shape} and dtype {observation_space.dtype}, or none."
        )
    action = attributes.get("action_space", action_space)
    if not (isinstance(action, spaces.Discrete) and action.n == action_space.n):
        raise ValueError(
            f"action_space {action} does not fit the stored network, which outputs {action_space.n} Q-values; "
            f"pass Discrete({action_space.n}), or none."
        )
    return observation, action


#: SB3's ``DQN.__init__`` parameters after ``policy`` and ``env``, in its order: what positional arguments there mean.
SB3_POSITIONAL = tuple(
    name
    for name in inspect.signature(SB3DQN.__init__).parameters
    if name not in ("self", "policy", "env") and not name.startswith("_")  # _init_setup_model: SB3's own
)


def positional_arguments(args: tuple[Any, ...], keywords: dict[str, Any], defaults: dict[str, Any]) -> dict[str, Any]:
    """``DQN(policy, env, 1e-3, 50_000)``: the arguments after ``env`` named in SB3's order, merged with the
    ``keywords`` given (those equal to their ``defaults`` count as not given); a name given both ways is a
    ``TypeError``, as Python's own.

    Example:
        >>> positional_arguments((1e-3, 5000), {"seed": 0}, {"seed": None})
        {'seed': 0, 'learning_rate': 0.001, 'buffer_size': 5000}
    """
    if len(args) > len(SB3_POSITIONAL):
        raise TypeError(
            f"DQN() takes at most {len(SB3_POSITIONAL)} arguments after policy and env (SB3's order: "
            f"{', '.join(SB3_POSITIONAL)}), got {len(args)}."
        )
    named = dict(zip(SB3_POSITIONAL, args, strict=False))
    given = {name for name, value in keywords.items() if name not in defaults or value is not defaults[name]}
    if both := sorted(given & set(named)):
        raise TypeError(f"DQN() got multiple values for {', '.join(both)} (by position, in SB3's order, and by name).")
    return {**keywords, **named}


def check_run_options(verbose: Any, tensorboard_log: Any) -> tuple[int, str | None]:
    """SB3's ``verbose`` (0 none, 1 info, 2 debug) and ``tensorboard_log`` (a folder or ``None``), checked."""
    if isinstance(verbose, bool) or not isinstance(verbose, int | np.integer) or verbose < 0:
        raise TypeError(f"verbose must be 0 (no output), 1 (info) or 2 (debug), got {verbose!r}.")
    if tensorboard_log is not None and not isinstance(tensorboard_log, str | os.PathLike):
        raise TypeError(f"tensorboard_log must be a folder path or None, got {tensorboard_log!r}.")
    return int(verbose), None if tensorboard_log is None else os.fspath(tensorboard_log)


def check_flag(name: str, value: Any) -> bool:
    """``value``, which must be a bool (``force_reset``, ``print_system_info``)."""
    if not isinstance(value, bool):
        raise TypeError(f"{name} must be True or False, got {value!r}.")
    return value


def replay_buffer_from_save_names(
    exclude: Iterable[str] | None, include: Iterable[str] | None, include_replay_buffer: bool
) -> bool:
    """Whether ``save`` writes the replay buffer, given SB3's ``exclude`` and ``include`` attribute names.

    SB3's ``save(path, exclude=..., include=...)`` chooses which *pickled attributes* go into the zip; the weights
    and the optimizer state are saved whatever they say, and the replay buffer only when ``include`` names it.
    Our checkpoints pickle nothing (JSON and safetensors), so every name ``exclude`` gives is already left out
    (``"env"``, ``"replay_buffer"``, ``"_last_obs"``...), and ``include`` can ask for the one saved extra that
    exists here, ``"replay_buffer"`` (as in SB3, a name in both is included).

    Example:
        >>> replay_buffer_from_save_names(["env", "replay_buffer"], None, False)
        False
        >>> replay_buffer_from_save_names(None, ["replay_buffer"], False)
        True
        >>> replay_buffer_from_save_names(None, ["env"], False)  # doctest: +ELLIPSIS
        Traceback (most recent call last):
        ...
        ValueError: save(include=['env']): mario_zoo checkpoints hold no pickled attributes; ...
    """
    excluded = _attribute_names("exclude", exclude)
    included = _attribute_names("include", include)
    unknown = [name for name in included if name != "replay_buffer"]
    if unknown:
        raise ValueError(
            f"save(include={unknown!r}): mario_zoo checkpoints hold no pickled attributes; the weights, optimizer "
            f"state, hyperparameters, spaces and counters are always saved, and the one extra that can be included "
            f"is 'replay_buffer' (or pass include_replay_buffer=True)."
        )
    if include_replay_buffer and "replay_buffer" in excluded and not included:
        raise ValueError(
            "save(include_replay_buffer=True, exclude=['replay_buffer']) contradicts itself; drop one of them."
        )
    return include_replay_buffer or bool(included)  # SB3: a name in both include and exclude is included


def _attribute_names(name: str, names: Iterable[str] | None) -> list[str]:
    """``names`` as a list of attribute names (SB3's ``exclude``/``include``: any iterable of strings, or None)."""
    if names is None:
        return []
    if isinstance(names, str) or not isinstance(names, Iterable):
        raise TypeError(f"{name} must be a list of attribute names (as in SB3), got {names!r}; e.g. {name}=['env'].")
    names = list(names)
    bad = [value for value in names if not isinstance(value, str)]
    if bad:
        raise TypeError(f"{name} must hold attribute names (strings), got {bad[0]!r} in {names!r}.")
    return names


def current_system_info() -> dict[str, str]:
    """This machine's OS, Python and package versions and whether a GPU is usable, as SB3 reports them."""
    return {
        "OS": f"{platform.platform()} {platform.version()}",
        **package_versions(),
        "GPU Enabled": str(torch.cuda.is_available()),
    }


def format_system_info(title: str, info: dict[str, str]) -> str:
    """SB3's layout: ``== TITLE ==`` and one ``- name: version`` line each.

    Example:
        >>> print(format_system_info("SAVED MODEL SYSTEM INFO", {"torch": "2.5.0"}))
        == SAVED MODEL SYSTEM INFO ==
        - torch: 2.5.0
        <BLANKLINE>
    """
    lines = [f"- {name}: {value}" for name, value in info.items()] or ["(not recorded)"]
    return "\n".join([f"== {title} ==", *lines, ""])


def resolve_policy(policy: str | type) -> tuple[str, bool]:
    """``(network kind, dueling)`` for a policy name or class."""
    if isinstance(policy, str):
        if policy in POLICY_ALIASES:
            return POLICY_ALIASES[policy]
        if policy == "MultiInputPolicy":
            raise ValueError(
                "MultiInputPolicy (Dict observations) is not supported; flatten the observation with "
                "gymnasium.wrappers.FlattenObservation and use 'MlpPolicy'."
            )
        raise ValueError(f"Unknown policy {policy!r}; valid choices are {tuple(POLICY_ALIASES)} or those classes.")
    # Subclasses first: DuelingCnnPolicy is a DuelingMlpPolicy, SB3's CnnPolicy is a DQNPolicy.
    for cls, resolved in (
        (DuelingCnnPolicy, ("cnn", True)),
        (DuelingMlpPolicy, ("mlp", True)),
        (SB3CnnPolicy, ("cnn", False)),
        (SB3DQNPolicy, ("mlp", False)),
    ):
        if isinstance(policy, type) and issubclass(policy, cls):
            return resolved
    raise ValueError(
        f"Unknown policy {policy!r}; pass one of {tuple(POLICY_ALIASES)}, SB3's DQN MlpPolicy/CnnPolicy class, "
        "or mario_zoo.agents.DuelingMlpPolicy/DuelingCnnPolicy."
    )


def normalize_policy_kwargs(policy_kwargs: dict[str, Any] | None, kind: str) -> dict[str, Any]:
    """Validate SB3-style ``policy_kwargs`` and make them plain data for ``config.json``."""
    given = dict(policy_kwargs or {})
    unknown = sorted(set(given) - set(POLICY_KWARGS))
    if unknown:
        hint = ""
        if {"optimizer_class", "optimizer_kwargs"} & set(unknown):
            hint = " Choose the optimizer with the hyperparameters optimizer='adam'|'adamw', amsgrad, weight_decay."
        raise ValueError(f"Unsupported policy_kwargs {unknown}; supported keys are {POLICY_KWARGS}.{hint}")
    activation = given.get("activation_fn", "relu")
    if isinstance(activation, type):
        names = {cls: name for name, cls in ACTIVATIONS.items()}
        if activation not in names:
            raise ValueError(
                f"activation_fn {activation.__name__} is not supported; choose one of {tuple(ACTIVATIONS)}."
            )
        activation = names[activation]
    if activation not in ACTIVATIONS:
        raise ValueError(f"activation_fn {activation!r} is not supported; choose one of {tuple(ACTIVATIONS)}.")
    extractor_kwargs = dict(given.get("features_extractor_kwargs") or {})
    if set(extractor_kwargs) - {"features_dim"}:
        raise ValueError(f"features_extractor_kwargs supports only 'features_dim', got {sorted(extractor_kwargs)}.")
    net_arch = given.get("net_arch", _DEFAULT_NET_ARCH[kind])
    if not isinstance(net_arch, list | tuple):
        raise ValueError(f"net_arch must be a list of layer widths, e.g. [64, 64], got {net_arch!r}.")
    return {
        "net_arch": list(net_arch),
        "activation_fn": activation,
        "features_extractor_kwargs": extractor_kwargs,
        "normalize_images": bool(given.get("normalize_images", True)),
    }


def check_stored_network(config: CheckpointConfig, arguments: LoadArguments) -> None:
    """Refuse ``policy_kwargs`` or a ``policy_class`` given to ``DQN.load`` that would build another network than
    the stored one (SB3 refuses other ``policy_kwargs`` in the same words)."""
    given = arguments.attributes
    if "policy_kwargs" in given:
        normalized = normalize_policy_kwargs(given["policy_kwargs"], config.network.kind)
        if normalized != config.policy_kwargs:
            raise ValueError(
                "The specified policy kwargs do not equal the stored policy kwargs. "
                f"Stored kwargs: {config.policy_kwargs}, specified kwargs: {given['policy_kwargs']}"
            )
    if "policy_class" in given:
        stored = (config.network.kind, config.network.dueling)
        if resolve_policy(given["policy_class"]) != stored:
            raise ValueError(
                f"policy_class {given['policy_class']!r} builds another network than the stored "
                f"{config.policy}{' (dueling)' if config.network.dueling else ''}; leave it out."
            )


def network_spec(
    kind: str,
    observation_space: spaces.Box,
    action_space: spaces.Discrete,
    policy_kwargs: dict[str, Any],
    dueling: bool,
) -> NetworkSpec:
    """The network that normalized ``policy_kwargs`` (:func:`normalize_policy_kwargs`) describe for these spaces."""
    return NetworkSpec(
        kind=kind,
        observation_shape=observation_space.shape,
        n_actions=int(action_space.n),
        net_arch=tuple(policy_kwargs["net_arch"]),
        dueling=dueling,
        activation=policy_kwargs["activation_fn"],
        features_dim=policy_kwargs["features_extractor_kwargs"].get("features_dim", 512),
        normalize_images=policy_kwargs["normalize_images"],
    )


def as_callback(callback: MaybeCallback, progress_bar: bool) -> BaseCallback:
    """``learn``'s ``callback`` (``None``, a callable, a ``BaseCallback`` or a list of them) as one callback, with
    SB3's progress bar when asked, as SB3's ``learn`` builds it."""
    if isinstance(callback, list):
        callback = CallbackList(callback)
    if not isinstance(callback, BaseCallback):
        callback = ConvertCallback(callback)
    if progress_bar:
        callback = CallbackList([callback, ProgressBarCallback()])
    return callback


def whole_number(name: str, value: Any) -> int:
    """An int, or a float with no fractional part (SB3 accepts ``learn(1e5)``)."""
    if isinstance(value, float | np.floating) and float(value).is_integer():
        return int(value)
    if isinstance(value, bool) or not isinstance(value, int | np.integer):
        raise TypeError(f"{name} must be a whole number such as 100_000 or 1e5, got {value!r}.")
    return int(value)


def _check_rate(value: Any) -> None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise TypeError(f"exploration_rate must be a number, got {value!r}.")
    if not 0.0 <= value <= 1.0:
        raise ValueError(f"exploration_rate must be in [0.0, 1.0], got {value!r}.")
