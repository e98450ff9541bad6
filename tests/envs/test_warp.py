"""Clearing counts in the env's own stage: a warp pipe that leaves the level ends the episode without the flag."""

from __future__ import annotations

import gymnasium as gym

from mario_zoo.envs.emulator import MarioEmulator

RIGHT = 0b10000000


def _warp(env: MarioEmulator, world: int, stage: int) -> None:
    """What a warp pipe does to the game: the world and stage it loads next (RAM 0x075f and 0x075c, zero-based)."""
    env.ram[0x075F], env.ram[0x075C] = world - 1, stage - 1


def test_leaving_the_stage_ends_the_episode_without_the_flag():
    env = MarioEmulator(target=(1, 2))
    try:
        _, info = env.reset(seed=0)
        assert (info["world"], info["stage"]) == (1, 2)
        for _ in range(5):
            _, _, terminated, _, info = env.step(RIGHT)
            assert not terminated and not info["flag_get"] and not info["left_stage"]
        _warp(env, 4, 1)
        _, _, terminated, truncated, info = env.step(RIGHT)
        assert terminated and not truncated and not info["flag_get"] and info["left_stage"]
        assert (info["world"], info["stage"]) == (4, 1)
    finally:
        env.close()


def test_a_flag_in_another_stage_is_not_this_levels(monkeypatch):
    env = MarioEmulator(target=(1, 2))
    try:
        env.reset(seed=0)
        # The game's own flag test (the flagpole slide, or the end of a world) says yes ...
        monkeypatch.setattr(type(env).__mro__[1], "_flag_get", property(lambda self: True))
        assert env._flag_get
        # ... but after a warp it is another level's flag.
        _warp(env, 4, 1)
        assert not env._flag_get
    finally:
        env.close()


def test_the_registered_ids_end_a_warped_episode_through_every_wrapper():
    env = gym.make("MarioDQN-1-2-v0", actions="right_only")
    try:
        env.reset(seed=0)
        _warp(env.unwrapped, 3, 1)
        _, _, terminated, _, info = env.step(0)
        assert terminated and not info["flag_get"] and info["world"] == 3 and info["left_stage"]
    finally:
        env.close()
