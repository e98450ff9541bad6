"""``gym.make`` kwargs, ``make_mario_env``, rendering and info of the MarioDQN environments."""

import re

import gymnasium as gym
import numpy as np
import pytest
from gymnasium.utils.env_checker import check_env

import mario_zoo
from mario_zoo.envs import DEFAULT_OPTIONS, parse_env_id


def test_make_without_import_uses_module_prefix():
    env = gym.make("mario_zoo:MarioDQN-v0")
    assert env.observation_space == gym.spaces.Box(0, 255, (4, 84, 84), np.uint8)
    assert env.action_space == gym.spaces.Discrete(7)


def test_every_option_shows_in_spec_kwargs():
    env = gym.make("MarioDQN-2-3-v0", actions="right_only", frame_skip=2, size=64, stack=3, noop_max=5)
    assert env.spec.kwargs == {
        **DEFAULT_OPTIONS,
        "world": 2,
        "stage": 3,
        "actions": "right_only",
        "frame_skip": 2,
        "size": 64,
        "stack": 3,
        "noop_max": 5,
    }
    assert env.observation_space.shape == (3, 64, 64)
    assert env.action_space.n == 5
    _, info = env.reset(seed=0)
    assert (info["world"], info["stage"]) == (2, 3)


def test_make_mario_env_matches_gym_make():
    actions = np.random.default_rng(1).integers(0, 7, 30)
    a, b = gym.make("MarioDQN-v0"), mario_zoo.make_mario_env(world=1, stage=1)
    np.testing.assert_array_equal(a.reset(seed=0)[0], b.reset(seed=0)[0])
    for action in actions:
        step_a, step_b = a.step(action), b.step(action)
        np.testing.assert_array_equal(step_a[0], step_b[0])
        assert step_a[1:4] == step_b[1:4] and step_a[4]["x_pos"] == step_b[4]["x_pos"]


def test_info_keeps_game_fields():
    env = gym.make("MarioDQN-v0")
    _, info = env.reset(seed=0)
    for key in ("x_pos", "y_pos", "flag_get", "world", "stage", "life", "time", "score", "coins", "status"):
        assert key in info
    _, _, _, _, info = env.step(1)
    assert info["x_pos"] > 0 and info["flag_get"] is False


def test_rgb_array_render_is_full_colour_and_a_copy():
    env = gym.make("MarioDQN-v0", render_mode="rgb_array")
    env.reset(seed=0)
    first = env.render()
    assert first.shape == (240, 256, 3) and first.dtype == np.uint8
    assert not np.array_equal(first[..., 0], first[..., 2])  # colour, not gray
    kept = first.copy()
    for _ in range(10):
        env.step(1)
    np.testing.assert_array_equal(first, kept)
    assert not np.array_equal(env.render(), kept)


def test_reward_options_transform_the_game_reward():
    env = gym.make("MarioDQN-v0", reward_scale=0.5, reward_clip=1.0)
    env.reset(seed=0)
    _, reward, _, _, info = env.step(3)
    assert reward == min(1.0, max(-1.0, 0.5 * info["raw_reward"]))


def test_stall_steps_truncates():
    env = gym.make("MarioDQN-v0", stall_steps=3)
    env.reset(seed=0)
    assert [env.step(0)[3] for _ in range(3)] == [False, False, True]


@pytest.mark.parametrize("scale", [1.0, 0.1])
def test_stall_penalty_makes_the_cut_a_failure_in_game_units(scale):
    plain = gym.make("MarioDQN-v0", stall_steps=3, reward_scale=scale)
    penalised = gym.make("MarioDQN-v0", stall_steps=3, reward_scale=scale, stall_penalty=-15)
    plain.reset(seed=0)
    penalised.reset(seed=0)
    for step in range(3):
        _, expected, _, truncated, _ = plain.step(0)
        _, reward, terminated, cut, info = penalised.step(0)
        last = step == 2
        assert (terminated, cut, truncated) == (last, False, last)
        assert info.get("stalled", False) == last
        # The same rewards until the cut, which adds the penalty before reward_scale, as the game's death is.
        assert reward == pytest.approx(expected + (-15 * scale if last else 0.0))


def test_stall_penalty_is_training_only():
    from mario_zoo.envs.kwargs import playing_kwargs

    assert playing_kwargs({"stall_steps": 100, "stall_penalty": -15.0}) == {"stall_steps": 100}


@pytest.mark.parametrize(
    ("kwargs", "error", "message"),
    [
        ({"world": 0}, ValueError, "world must be one of 1-8, got 0 (valid levels: World 1-8, stage 1-4"),
        ({"world": 9}, ValueError, "world must be one of 1-8, got 9"),
        ({"stage": 5}, ValueError, "stage must be one of 1-4, got 5"),
        ({"world": "1"}, TypeError, "world must be an int, got '1' of type str"),
        (
            {"actions": "all"},
            ValueError,
            "Unknown actions 'all'; valid choices are: 'right_only', 'simple', 'complex'.",
        ),
        ({"actions": None}, TypeError, "actions must be a string, one of 'right_only', 'simple', 'complex'"),
        ({"frame_skip": 0}, ValueError, "frame_skip must be an integer >= 1, got 0."),
        ({"frame_skip": 4.0}, TypeError, "frame_skip must be an integer >= 1, got 4.0 of type float."),
        ({"size": 7}, ValueError, "size must be an integer in [8, 256], got 7."),
        ({"size": 10**6}, ValueError, "size must be an integer in [8, 256], got 1000000. Below 8x8"),
        ({"stack": 0}, ValueError, "stack must be an integer >= 1, got 0."),
        ({"stack": "4"}, TypeError, "stack must be an integer >= 1, got '4' of type str."),
        ({"noop_max": -1}, ValueError, "noop_max must be an integer >= 0, got -1."),
        ({"stall_steps": 0}, ValueError, "stall_steps must be an integer >= 1, got 0."),
        (
            {"stall_steps": 10, "stall_penalty": 15},
            ValueError,
            "stall_penalty must be a number <= 0 (a penalty added to the reward, e.g. -15), got 15.",
        ),
        (
            {"stall_steps": 10, "stall_penalty": "-15"},
            TypeError,
            "stall_penalty must be a number, got '-15' of type str.",
        ),
        (
            {"stall_penalty": -15},
            ValueError,
            "stall_penalty=-15 needs stall_steps, the cut it penalises: set stall_steps (e.g. stall_steps=100)",
        ),
        ({"reward_scale": 0}, ValueError, "reward_scale must be a number > 0, got 0.0."),
        ({"reward_clip": "1"}, TypeError, "reward_clip must be a number, got '1' of type str."),
        (
            {"render_mode": "rgb"},
            ValueError,
            "Unknown render_mode 'rgb'; valid choices are: (None, 'rgb_array', 'human').",
        ),
    ],
)
def test_bad_options_fail_at_construction(kwargs, error, message):
    with pytest.raises(error, match=re.escape(message)):
        gym.make("MarioDQN-v0", **kwargs)
    with pytest.raises(error, match=re.escape(message)):
        mario_zoo.make_mario_env(**kwargs)


def test_unknown_level_id_is_not_registered():
    # gym.make resolves IDs in Gymnasium's registry, whose error type is its own (NameNotFound);
    # it names the bad ID and suggests a registered one.
    with pytest.raises(gym.error.NameNotFound, match=re.escape("Environment `MarioDQN-9-1` doesn't exist.")):
        gym.make("MarioDQN-9-1-v0")


@pytest.mark.parametrize(
    ("env_id", "message"),
    [
        ("MarioDQN-9-1-v0", "Unknown Mario env ID 'MarioDQN-9-1-v0': world must be one of 1-8, got 9"),
        ("MarioDQN-1-0-v0", "Unknown Mario env ID 'MarioDQN-1-0-v0': stage must be one of 1-4, got 0"),
        (
            "Mario-1-1",
            "Unknown Mario env ID 'Mario-1-1'; valid IDs are 'MarioDQN-v0' and 'MarioDQN-<world>-<stage>-v0'",
        ),
    ],
)
def test_parse_env_id_names_valid_ids(env_id, message):
    with pytest.raises(ValueError, match=re.escape(message)):
        parse_env_id(env_id)


@pytest.mark.parametrize(
    ("env_id", "kwargs", "message"),
    [
        (
            "MarioDQN-1-1-v0",
            {"world": 8},
            "MarioDQN-1-1-v0 plays World 1-1, but world=8, stage=1 was passed. For World 8-1 use "
            "gym.make('MarioDQN-8-1-v0'); or drop the world/stage kwargs.",
        ),
        ("MarioDQN-v0", {"stage": 2}, "MarioDQN-v0 plays World 1-1, but world=1, stage=2 was passed."),
        ("MarioDQN-4-2-v0", {"world": 1, "stage": 1}, "MarioDQN-4-2-v0 plays World 4-2, but world=1, stage=1"),
    ],
)
def test_an_id_that_names_a_level_refuses_another(env_id, kwargs, message):
    with pytest.raises(ValueError, match=re.escape(message)):
        gym.make(env_id, **kwargs)


def test_an_id_accepts_its_own_level_as_kwargs():
    # Checkpoints store spec.kwargs, world and stage included: rebuilding from them must work.
    env = gym.make("MarioDQN-8-1-v0", world=8, stage=1)
    assert gym.make(env.spec.id, **env.spec.kwargs).reset(seed=0)[1]["world"] == 8
    assert gym.make("MarioDQN-v0", world=1, stage=1).spec.kwargs["world"] == 1


def test_render_fps_counts_agent_steps():
    # RecordVideo, HumanRendering and SB3's VecVideoRecorder play one frame per step at render_fps: real time is
    # the NES's 60 frames/s over the frame skip.
    assert gym.make("MarioDQN-v0").metadata["render_fps"] == 15
    assert gym.make("MarioDQN-v0", frame_skip=3).metadata["render_fps"] == 20


def test_human_mode_draws_every_reset_and_step(monkeypatch):
    monkeypatch.setenv("SDL_VIDEODRIVER", "dummy")  # a window nowhere: no display needed
    env = gym.make("MarioDQN-v0", render_mode="human")
    drawn = []
    human = env.env.env  # OrderEnforcing -> PassiveEnvChecker -> HumanRendering
    assert isinstance(human, gym.wrappers.HumanRendering)
    monkeypatch.setattr(human, "_render_frame", lambda: drawn.append(human.env.render().shape))
    env.reset(seed=0)
    for _ in range(3):
        env.step(1)
    assert env.render_mode == "human" and env.render() is None
    assert drawn == [(240, 256, 3)] * 4
    env.close()


def test_gymnasiums_render_check_passes(monkeypatch):
    # With its render check, check_env makes the env in each render mode (human too), resets and renders it.
    monkeypatch.setenv("SDL_VIDEODRIVER", "dummy")
    check_env(gym.make("MarioDQN-v0"))


def test_noops_option_plays_that_many_without_noop_max():
    env = gym.make("MarioDQN-v0")
    assert env.reset(seed=0)[1]["time"] == 400
    _, info = env.reset(seed=0, options={"noops": 30})  # 120 frames: the game clock ticks every 24
    assert info["time"] < 400


def test_stalled_is_in_every_step_info():
    env = gym.make("MarioDQN-v0", stall_steps=3)
    env.reset(seed=0)
    stalled = [env.step(0)[4]["stalled"] for _ in range(3)]
    assert stalled == [False, False, True]


def test_a_closed_env_says_so():
    env = gym.make("MarioDQN-v0")
    env.reset(seed=0)
    env.close()
    for call in (lambda: env.step(0), lambda: env.reset(seed=0)):
        with pytest.raises(gym.error.ClosedEnvironmentError, match=re.escape("This MarioDQN-v0 env is closed")):
            call()


def test_a_misspelt_reset_option_is_refused_naming_the_valid_ones():
    env = gym.make("MarioDQN-v0", noop_max=30)
    with pytest.raises(ValueError, match=re.escape("Unknown reset option(s) ['noop']; valid options are 'noops'")):
        env.reset(seed=0, options={"noop": 5})
    env.reset(seed=0, options={})
