"""Is a downloaded checkpoint one we can load, and does a given env fit it? Checked before building any model.

Both checks run on the plain ``config.json`` data, so they can fail fast with the repo and revision in the
message, where the agent's own loader would only know a cache path. The checks themselves are the checkpoint's
format-version check and Stable-Baselines3's space check; this module only names the repo and the fix.
"""

from __future__ import annotations

from typing import Any

from stable_baselines3.common.utils import check_for_correct_spaces

from mario_zoo.agents import checkpoint
from mario_zoo.agents.spaces import space_from_dict
from mario_zoo.hub.errors import IncompatibleCheckpointError, SpaceMismatchError


def check_config(config: Any, where: str) -> None:
    """Refuse a ``config.json`` that is not a DQN checkpoint config of a format version we read.

    ``where`` names the checkpoint in messages, e.g. ``"config.json of user/repo@3f2c..."``.

    Example:
        >>> check_config({"algorithm": "DQN", "format_version": 99}, "config.json of a/b@main")  # doctest: +ELLIPSIS
        Traceback (most recent call last):
        ...
        mario_zoo.hub.errors.IncompatibleCheckpointError: config.json of a/b@main has checkpoint format_version 99, ...
    """
    if not isinstance(config, dict):
        raise IncompatibleCheckpointError(
            f"{where} is not a mario-zoo checkpoint config (not a JSON object). Load repos published with "
            "mario_zoo.hub.push_to_hub, which hold config.json and model.safetensors."
        )
    try:
        checkpoint.check_format_version(config, where)
    except ValueError as error:
        raise IncompatibleCheckpointError(f"{error} Or load an older revision of the repo.") from error
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
    expected_observation = space_from_dict(config["observation_space"])
    expected_action = space_from_dict(config["action_space"])
    try:
        check_for_correct_spaces(env, expected_observation, expected_action)
    except ValueError as error:
        make = f"gym.make({config.get('env_id')!r}, **{config.get('env_kwargs', {})!r})"
        raise SpaceMismatchError(
            f"The env does not fit {where}: the agent was trained with observation space {expected_observation} "
            f"and action space {expected_action}, the env has {env.observation_space} and {env.action_space}. "
            f"Pass the env the agent was trained on ({make}), or env=None to only call predict()."
        ) from error
