"""Registered Mario environment IDs and the factory behind them."""

from mario_zoo.envs.kwargs import playing_kwargs
from mario_zoo.envs.mario import (
    DEFAULT_OPTIONS,
    ENV_IDS,
    LEVELS,
    make_mario_env,
    parse_env_id,
    register_envs,
)

__all__ = ["DEFAULT_OPTIONS", "ENV_IDS", "LEVELS", "make_mario_env", "parse_env_id", "playing_kwargs", "register_envs"]
