"""Env specs and ``gym.make`` kwargs: the spec of a Mario env built without ``gym.make``, and the check that every
kwarg given for an env ID is one its constructor takes.

``gym.make`` gives its env an :class:`~gymnasium.envs.registration.EnvSpec` (ID and kwargs), which an agent trained
on it records to rebuild the same env. :func:`~mario_zoo.envs.mario.make_mario_env` called directly gives its env
the spec of the same call made through ``gym.make``. An unknown kwarg reaches the env's constructor as a
``TypeError`` that ``gym.make`` rewraps with every kwarg's value; :func:`check_env_kwargs` says instead, in one line,
which key is unknown and which are valid.
"""

from __future__ import annotations

import dataclasses
import difflib
import inspect
import numbers
from collections.abc import Callable, Mapping
from typing import Any

import gymnasium as gym
from gymnasium.envs.registration import EnvSpec, load_env_creator

_KEYWORDS = (inspect.Parameter.POSITIONAL_OR_KEYWORD, inspect.Parameter.KEYWORD_ONLY)


def mario_env_spec(factory: Callable[..., gym.Env], arguments: Mapping[str, Any]) -> EnvSpec:
    """The spec ``gym.make("MarioDQN-<world>-<stage>-v0", **kwargs)`` gives, for a call of ``factory`` (the Mario
    entry point) with ``arguments`` (its parameters' values; other names are ignored, and ``render_mode=None`` is
    left out as ``gym.make`` leaves it out).

    Example:
        >>> from mario_zoo.envs.mario import make_mario_env
        >>> spec = mario_env_spec(make_mario_env, {"world": 4, "stage": 2, "actions": "right_only", "other": 1})
        >>> spec.id, spec.kwargs
        ('MarioDQN-4-2-v0', {'world': 4, 'stage': 2, 'actions': 'right_only'})
    """
    kwargs = {name: arguments[name] for name in inspect.signature(factory).parameters if name in arguments}
    for optional in ("render_mode", "frontier_archive"):  # left out when None, as gym.make leaves them out
        if kwargs.get(optional) is None:
            kwargs.pop(optional, None)
    env_id = f"MarioDQN-{kwargs['world']}-{kwargs['stage']}-v0"
    if env_id in gym.registry:
        return dataclasses.replace(gym.spec(env_id), kwargs=kwargs)
    return EnvSpec(id=env_id, entry_point=f"{factory.__module__}:{factory.__name__}", kwargs=kwargs)


def valid_env_kwargs(env_id: str) -> tuple[str, ...] | None:
    """The keyword arguments ``gym.make(env_id, ...)`` accepts: its constructor's and ``gym.make``'s own; ``None``
    when the constructor takes any (``**kwargs``) or cannot be inspected.

    Example:
        >>> valid_env_kwargs("CartPole-v1")
        ('sutton_barto_reward', 'render_mode', 'max_episode_steps', 'disable_env_checker')
    """
    creator = _creator(env_id)
    try:
        parameters = inspect.signature(creator).parameters.values()
    except (TypeError, ValueError):
        return None
    if any(parameter.kind is inspect.Parameter.VAR_KEYWORD for parameter in parameters):
        return None
    own = [name for name in inspect.signature(gym.make).parameters if name != "id"]
    names = [parameter.name for parameter in parameters if parameter.kind in _KEYWORDS]
    return tuple(dict.fromkeys([*names, *(name for name in own if name != "kwargs")]))


def check_env_kwargs(env_id: str, env_kwargs: Mapping[str, Any]) -> None:
    """Raise a ``ValueError`` naming the first key of ``env_kwargs`` that ``gym.make(env_id, ...)`` does not accept,
    with the valid ones. IDs that are not registered are left to the caller's own check.

    Example:
        >>> check_env_kwargs("MarioDQN-v0", {"actions": "right_only"})
        >>> check_env_kwargs("MarioDQN-v0", {"action": "right_only"})  # doctest: +ELLIPSIS
        Traceback (most recent call last):
        ...
        ValueError: Unknown env kwarg 'action' for MarioDQN-v0 (did you mean 'actions'?); valid kwargs: world, stage, actions, ...
    """
    if env_id not in gym.registry:
        return
    valid = valid_env_kwargs(env_id)
    unknown = [key for key in env_kwargs if valid is not None and key not in valid]
    if not unknown:
        _check_make_options(env_id, env_kwargs)
        return
    close = difflib.get_close_matches(str(unknown[0]), valid, n=1)
    hint = f" (did you mean {close[0]!r}?)" if close else ""
    listing = "`mario-zoo envs` lists them with their defaults" if env_id.startswith("MarioDQN") else "fix the key"
    raise ValueError(
        f"Unknown env kwarg {unknown[0]!r} for {env_id}{hint}; valid kwargs: {', '.join(valid)} ({listing})."
    )


def _check_make_options(env_id: str, env_kwargs: Mapping[str, Any]) -> None:
    """``gym.make``'s own options, which no env constructor checks: ``max_episode_steps`` a whole number >= 1 (a
    YAML ``yes`` would be 1: one-step episodes), ``disable_env_checker`` a bool, ``render_mode`` one the env offers.

    Example:
        >>> check_env_kwargs("CartPole-v1", {"max_episode_steps": True})
        Traceback (most recent call last):
        ...
        ValueError: max_episode_steps for CartPole-v1 must be a whole number >= 1 or None, got True.
    """
    steps = env_kwargs.get("max_episode_steps")
    if steps is not None and (isinstance(steps, bool) or not isinstance(steps, numbers.Integral) or steps < 1):
        raise ValueError(f"max_episode_steps for {env_id} must be a whole number >= 1 or None, got {steps!r}.")
    checker = env_kwargs.get("disable_env_checker")
    if checker is not None and not isinstance(checker, bool):
        raise ValueError(f"disable_env_checker for {env_id} must be true or false, got {checker!r}.")
    mode = env_kwargs.get("render_mode")
    modes = _render_modes(env_id)
    if mode is not None and modes is not None:
        # gym.make adds its own wrappers for "<mode>_list" and, from rgb_array, "human".
        valid = (
            *modes,
            *(f"{each}_list" for each in modes if each != "human"),
            *(("human",) if "rgb_array" in modes else ()),
        )
        if mode not in valid:
            raise ValueError(
                f"render_mode {mode!r} is not one {env_id} offers; valid render modes: {', '.join(dict.fromkeys(valid))}."
            )


def _render_modes(env_id: str) -> tuple[str, ...] | None:
    """The render modes ``env_id``'s class declares in its metadata, or ``None`` when it cannot be told."""
    creator = _creator(env_id)
    modes = getattr(creator, "metadata", {}).get("render_modes") if isinstance(creator, type) else None
    return tuple(modes) if isinstance(modes, list | tuple) and modes else None


def _creator(env_id: str) -> Callable[..., Any] | None:
    """What ``gym.make(env_id)`` calls (its class or function), or ``None`` when it cannot be loaded."""
    spec = gym.spec(env_id)
    try:
        return spec.entry_point if callable(spec.entry_point) else load_env_creator(spec.entry_point)
    except (AttributeError, ImportError, TypeError, ValueError):
        return None
