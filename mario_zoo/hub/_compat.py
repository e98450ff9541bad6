"""Is a downloaded checkpoint one we can load, and does a given env fit it? Checked before building any model.

Both checks run on the plain ``config.json`` data, so they can fail fast with the repo and revision in the
message, where the agent's own loader would only know a cache path.
"""

from __future__ import annotations

from typing import Any

from gymnasium import spaces

from mario_zoo.agents import checkpoint
from mario_zoo.hub.errors import IncompatibleCheckpointError, SpaceMismatchError


def check_config(config: Any, where: str) -> None:
    """Refuse a ``config.json`` that is not a DQN checkpoint config of a format version we read.

    ``where`` names the checkpoint in messages, e.g. ``"config.json of user/repo@3f2c..."``.

    Example:
        >>> check_config({"algorithm": "DQN", "format_version": 99}, "config.json of a/b@main")  # doctest: +ELLIPSIS
        Traceback (most recent call last):
        ...
        mario_zoo.hub.errors.IncompatibleCheckpointError: config.json of a/b@main has format_version 99, ...
    """
    if not isinstance(config, dict) or "format_version" not in config:
        raise IncompatibleCheckpointError(
            f"{where} is not a mario-zoo checkpoint config (it has no 'format_version'). Load repos published "
            "with mario_zoo.hub.push_to_hub, which hold config.json and model.safetensors."
        )
    found = config["format_version"]
    if isinstance(found, bool) or not isinstance(found, int):
        raise IncompatibleCheckpointError(
            f"{where} has format_version {found!r}, which is not an integer: the file is damaged or was not "
            "written by mario-zoo."
        )
    if found > checkpoint.FORMAT_VERSION:
        raise IncompatibleCheckpointError(
            f"{where} has format_version {found}, newer than the versions this mario-zoo reads "
            f"(<= {checkpoint.FORMAT_VERSION}). Upgrade with `pip install -U mario-zoo`, or load an older "
            "revision of the repo."
        )
    if config.get("algorithm") != "DQN":
        raise IncompatibleCheckpointError(
            f"{where} describes a {config.get('algorithm')!r} agent; mario-zoo loads 'DQN' checkpoints only."
        )


def check_env_spaces(env: Any, config: dict[str, Any], where: str) -> None:
    """Refuse an env (gymnasium Env or SB3 VecEnv) whose spaces differ from those the checkpoint was trained on.

    Example:
        >>> import gymnasium as gym
        >>> config = {"observation_space": {"type": "Box", "shape": [4], "dtype": "float32", "low": "-inf",
        ...           "high": "inf"}, "action_space": {"type": "Discrete", "n": 2, "start": 0},
        ...           "env_id": "CartPole-v1", "env_kwargs": {}}
        >>> check_env_spaces(gym.make("Acrobot-v1"), config, "a/b@main")  # doctest: +ELLIPSIS
        Traceback (most recent call last):
        ...
        mario_zoo.hub.errors.SpaceMismatchError: The env does not fit a/b@main: ...
    """
    expected_observation = checkpoint.space_from_dict(config["observation_space"])
    expected_action = checkpoint.space_from_dict(config["action_space"])
    if _same_space(env.observation_space, expected_observation) and _same_space(env.action_space, expected_action):
        return
    make = f"gym.make({config.get('env_id')!r}, **{config.get('env_kwargs', {})!r})"
    raise SpaceMismatchError(
        f"The env does not fit {where}: the agent was trained with observation space {expected_observation} and "
        f"action space {expected_action}, the env has {env.observation_space} and {env.action_space}. Pass the "
        f"env the agent was trained on ({make}), or env=None to only call predict()."
    )


def _same_space(actual: spaces.Space, expected: spaces.Space) -> bool:
    """Same kind, shape and size; bounds are not compared (they may round-trip through JSON as floats)."""
    if isinstance(expected, spaces.Discrete):
        return isinstance(actual, spaces.Discrete) and actual.n == expected.n and actual.start == expected.start
    return isinstance(actual, spaces.Box) and actual.shape == expected.shape and actual.dtype == expected.dtype
