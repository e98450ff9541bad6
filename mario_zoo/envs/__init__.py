"""Registered Mario environment IDs, the factory behind them, game snapshots and frontier starts."""

from mario_zoo.envs.emulator import MarioEmulator, MarioSnapshot
from mario_zoo.envs.frontier import FrontierStarts
from mario_zoo.envs.kwargs import TRAINING_ONLY_OPTIONS, playing_kwargs
from mario_zoo.envs.levels import ENV_IDS, LEVELS, parse_env_id
from mario_zoo.envs.mario import DEFAULT_OPTIONS, make_mario_env, register_envs

__all__ = [
    "DEFAULT_OPTIONS",
    "ENV_IDS",
    "LEVELS",
    "TRAINING_ONLY_OPTIONS",
    "FrontierStarts",
    "MarioEmulator",
    "MarioSnapshot",
    "make_mario_env",
    "parse_env_id",
    "playing_kwargs",
    "register_envs",
]
