"""Game snapshots and frontier starts: a restored start plays on exactly as the saved game would have."""

import dataclasses
import itertools
import re
import warnings

import cv2
import gymnasium as gym
import numpy as np
import pytest
from gymnasium.utils.env_checker import check_env
from stable_baselines3.common.env_checker import check_env as sb3_check_env

import mario_zoo  # noqa: F401  (registers the IDs)
from mario_zoo.envs import FrontierStarts, MarioEmulator, MarioSnapshot
from mario_zoo.envs.frontier_archive import read_backward_point
from mario_zoo.envs.kwargs import playing_kwargs
from mario_zoo.evaluation import evaluation_env_kwargs

# Mostly rightward actions of the "simple" set (right, right A, right B, right A B), with some NOOP and A.
_ACTIONS, _WEIGHTS = [0, 1, 2, 3, 4, 5], [0.1, 0.25, 0.2, 0.2, 0.15, 0.1]


def _actions(seed: int, n: int) -> np.ndarray:
    return np.random.default_rng(seed).choice(_ACTIONS, size=n, p=_WEIGHTS)


def _screen_frame(env: gym.Env, size: int) -> np.ndarray:
    """The emulator's current screen as one observation slot: grayscaled by nes-py and resized like the env."""
    gray = env.unwrapped.observation("grayscale")
    return cv2.resize(gray, (size, size), interpolation=cv2.INTER_AREA)


def _play(env: gym.Env, actions) -> list[tuple]:
    """(obs, reward, terminated, truncated, info) of each step, up to the end of the episode."""
    steps = []
    for action in actions:
        steps.append(env.step(action))
        if steps[-1][2] or steps[-1][3]:
            break
    return steps


def _assert_same_steps(restored: list[tuple], original: list[tuple], first_frame: np.ndarray) -> None:
    """Rewards, flags and info equal; observation ``j`` (1-based) holds the last ``j`` original frames, and the
    refilled first frame in the slots before them."""
    assert len(restored) == len(original)
    stack = first_frame.shape[0]
    for j, (mine, theirs) in enumerate(zip(restored, original, strict=True), start=1):
        assert mine[1:4] == theirs[1:4], f"step {j}"
        assert mine[4] == theirs[4], f"step {j}"
        new = min(j, stack)
        np.testing.assert_array_equal(mine[0][stack - new :], theirs[0][stack - new :])
        np.testing.assert_array_equal(mine[0][: stack - new], first_frame[: stack - new])


@pytest.mark.parametrize(
    ("kwargs", "saved_at"),
    [
        ({}, 30),
        ({"frame_skip": 3, "stack": 2, "size": 64, "reward_scale": 0.1, "reward_clip": 1.0, "stall_steps": 15}, 55),
    ],
)
def test_a_restored_snapshot_plays_on_in_lockstep_with_the_saved_game(kwargs, saved_at):
    actions = _actions(7, saved_at + 60)
    original = gym.make("MarioDQN-v0", **kwargs)
    original.reset(seed=3)
    assert not any(step[2] or step[3] for step in _play(original, actions[:saved_at]))
    snapshot = original.unwrapped.snapshot()
    saved_info = original.unwrapped._get_info()
    saved_frame = _screen_frame(original, original.observation_space.shape[1])
    played_on = _play(original, actions[saved_at:])
    assert len(played_on) > 10

    restored = gym.make("MarioDQN-v0", **kwargs)
    obs, info = restored.reset(seed=11, options={"snapshot": snapshot})
    # The first observation is the frame stack refilled with the saved moment's screen, as after a level start.
    first = np.stack([saved_frame] * restored.observation_space.shape[0])
    np.testing.assert_array_equal(obs, first)
    # info is the saved game's; like every reset, its reward diagnostics start at zero.
    assert info["x_pos"] == snapshot.x_pos == saved_info["x_pos"] > 100
    assert {k: v for k, v in info.items() if not k.startswith("reward_")} == {
        k: v for k, v in saved_info.items() if not k.startswith("reward_")
    }
    assert set(info["reward_components"].values()) == {0.0}
    _assert_same_steps(_play(restored, actions[saved_at:]), played_on, first)


def test_frontier_starts_restore_the_furthest_snapshot_in_lockstep():
    bucket = 64
    kwargs = {"frontier_fraction": 1.0, "frontier_bucket": bucket, "frontier_back": 0, "stall_steps": 30}
    env = gym.make("MarioDQN-v0", **kwargs)
    actions = _actions(5, 400)
    _, info = env.reset(seed=0)
    assert info["frontier_start"] is False
    episode, frames = [], []
    for action in actions:
        episode.append(env.step(action))
        frames.append(_screen_frame(env, 84))
        if episode[-1][2] or episode[-1][3]:
            break
    assert episode[-1][2] or episode[-1][3], "the first episode must end to count"
    # The snapshot furthest right: the last step that entered a new bucket (the episode's end does not count).
    entries = {}
    for index, step in enumerate(episode[:-1]):
        entries.setdefault(step[4]["x_pos"] // bucket, index)
    saved_at = entries[max(entries)]
    assert env.get_wrapper_attr("frontier") == max(step[4]["x_pos"] for step in episode)

    obs, info = env.reset()
    assert info["frontier_start"] is True
    assert info["x_pos"] == episode[saved_at][4]["x_pos"]
    first = np.stack([frames[saved_at]] * 4)
    np.testing.assert_array_equal(obs, first)
    # Entering a new bucket is a new best x, so the stall counter of the saved game was 0, as after a reset:
    # even the stall truncation happens at the same step.
    replay = _play(env, actions[saved_at + 1 :])
    _assert_same_steps(replay, episode[saved_at + 1 :], first)


def test_the_stall_counter_starts_over_on_a_frontier_start():
    env = gym.make("MarioDQN-v0", actions="right_only", frontier_fraction=1.0, frontier_back=64, stall_steps=5)
    env.reset(seed=0)
    ended = _play(env, [1] * 30 + [0] * 100)  # run right, then stand until the stall truncation ends it
    assert ended[-1][3] and ended[-1][4]["stalled"]
    _, info = env.reset()
    assert info["frontier_start"] is True
    # Standing still from the restored start: Mario coasts a few steps, then the counter runs to 5 from there.
    best, last_progress, truncated_at = info["x_pos"], 0, None
    for index, (_, _, _, truncated, info) in enumerate(_play(env, [0] * 100), start=1):
        if info["x_pos"] > best:
            best, last_progress = info["x_pos"], index
        if truncated:
            truncated_at = index
    assert truncated_at == last_progress + 5


def test_frontier_starts_take_no_noops():
    env = gym.make("MarioDQN-v0", actions="right_only", noop_max=30, frontier_fraction=1.0, frontier_back=64)
    env.reset(seed=0)
    _play(env, [1] * 200)
    start = env.get_wrapper_attr("start_snapshot")()
    for _ in range(5):
        obs, info = env.reset()
        # Mario runs at the saved moment: a single no-op would move him and push a new frame onto the stack.
        assert info["frontier_start"] is True and info["x_pos"] == start.x_pos
        assert (obs == obs[0]).all()


def test_fraction_decides_how_many_episodes_start_at_the_frontier():
    env = gym.make("MarioDQN-v0", actions="right_only", frontier_fraction=0.5, frontier_back=64)
    env.reset(seed=0)
    _play(env, [1] * 200)
    starts = []
    for _ in range(40):
        _, info = env.reset()
        starts.append(info["frontier_start"])
        env.step(0)
    assert 8 <= sum(starts) <= 32


def test_nothing_qualifies_until_an_episode_got_back_pixels_past_a_snapshot():
    env = gym.make("MarioDQN-v0", actions="right_only", frontier_fraction=1.0, frontier_back=10_000)
    env.reset(seed=0)
    _play(env, [1] * 200)
    _, info = env.reset()
    assert info["frontier_start"] is False and info["x_pos"] < 100


def test_a_bucket_keeps_the_snapshot_of_the_episode_that_got_furthest():
    env = gym.make("MarioDQN-v0", frontier_fraction=1.0, frontier_bucket=10_000, frontier_back=0)
    wrapper = env.get_wrapper_attr("start_snapshot").__self__
    env.reset(seed=0)
    _play(env, [0, 0, 0])  # abandoned near the start: the one bucket's first snapshot, reach ~40
    env.reset()  # a frontier start from it
    first = wrapper.start_snapshot()
    _play(env, [1] * 200)  # runs right from there: the bucket's new snapshot is from this better episode
    env.reset()
    assert wrapper.frontier > 200
    assert wrapper.start_snapshot() is not first


def test_a_seeded_reset_starts_a_reproducible_history():
    env = gym.make("MarioDQN-v0", frontier_fraction=1.0, frontier_bucket=32, frontier_back=32, stall_steps=20)
    histories = []
    for _ in range(2):
        _, info = env.reset(seed=0)  # forgets what the previous history kept
        assert env.get_wrapper_attr("frontier") == 0 and info["frontier_start"] is False
        starts = []
        for episode in range(3):
            _play(env, _actions(episode, 300))
            _, info = env.reset()
            starts.append((info["frontier_start"], info["x_pos"]))
        histories.append(starts)
    assert histories[0] == histories[1]
    assert all(frontier_start for frontier_start, _ in histories[0])


def test_frontier_envs_pass_the_env_checkers():
    kwargs = {"frontier_fraction": 1.0, "frontier_bucket": 1, "frontier_back": 0}
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        check_env(gym.make("MarioDQN-v0", **kwargs), skip_render_check=True)
        sb3_check_env(gym.make("MarioDQN-v0", **kwargs), warn=True)
    assert [str(w.message) for w in caught if "different from the unwrapped version" not in str(w.message)] == []


def test_evaluation_envs_never_start_at_the_frontier():
    trained = {"actions": "right_only", "frontier_fraction": 1.0, "frontier_bucket": 32, "frontier_back": 0}
    kwargs = evaluation_env_kwargs("MarioDQN-v0", trained)
    assert not any(key.startswith("frontier_") for key in kwargs)
    env = gym.make("MarioDQN-v0", **kwargs)
    assert env.spec.kwargs["frontier_fraction"] == 0.0
    wrapper = env
    while isinstance(wrapper, gym.Wrapper):
        assert not isinstance(wrapper, FrontierStarts)
        wrapper = wrapper.env
    env.reset(seed=0)
    _play(env, [1] * 200)
    for _ in range(3):
        _, info = env.reset()
        assert "frontier_start" not in info and info["x_pos"] < 100


def test_frontier_options_show_in_spec_kwargs():
    env = gym.make("MarioDQN-v0", frontier_fraction=0.25, frontier_bucket=32, frontier_back=96)
    assert {key: env.spec.kwargs[key] for key in ("frontier_fraction", "frontier_bucket", "frontier_back")} == {
        "frontier_fraction": 0.25,
        "frontier_bucket": 32,
        "frontier_back": 96,
    }
    wrapper = env.get_wrapper_attr("start_snapshot").__self__
    assert (wrapper.fraction, wrapper.bucket, wrapper.back) == (0.25, 32, 96)
    assert gym.make("MarioDQN-v0").spec.kwargs["frontier_fraction"] == 0.0


@pytest.mark.parametrize(
    ("kwargs", "error", "message"),
    [
        (
            {"frontier_fraction": 1.5},
            ValueError,
            "frontier_fraction must be in [0, 1] (the share of episodes started near the frontier), got 1.5.",
        ),
        ({"frontier_fraction": -0.1}, ValueError, "frontier_fraction must be in [0, 1]"),
        ({"frontier_fraction": "0.5"}, TypeError, "frontier_fraction must be a number, got '0.5' of type str."),
        ({"frontier_fraction": float("nan")}, ValueError, "frontier_fraction must be a finite number, got nan."),
        ({"frontier_bucket": 0}, ValueError, "frontier_bucket must be an integer >= 1, got 0. It is a width"),
        ({"frontier_bucket": 64.0}, TypeError, "frontier_bucket must be an integer >= 1, got 64.0 of type float."),
        ({"frontier_back": -1}, ValueError, "frontier_back must be an integer >= 0, got -1. It is a distance"),
    ],
)
def test_bad_frontier_options_fail_at_construction(kwargs, error, message):
    with pytest.raises(error, match=re.escape(message)):
        gym.make("MarioDQN-v0", **kwargs)


def test_frontier_starts_need_the_mario_emulator():
    with pytest.raises(ValueError, match=re.escape("FrontierStarts needs a MarioEmulator underneath")):
        FrontierStarts(gym.make("CartPole-v1"), fraction=0.5)


def test_snapshots_restore_only_in_their_own_level():
    source = MarioEmulator(target=(1, 1))
    source.reset(seed=0)
    snapshot = source.snapshot()
    assert isinstance(snapshot, MarioSnapshot) and snapshot.level == (1, 1)
    with pytest.raises(ValueError, match=re.escape("saved in World 1-1; this env plays World 1-2")):
        MarioEmulator(target=(1, 2)).reset(options={"snapshot": snapshot})
    with pytest.raises(TypeError, match=re.escape("options['snapshot'] must be a MarioSnapshot")):
        source.reset(options={"snapshot": b"state"})


def test_uniform_mode_starts_all_along_the_level_behind_the_frontier():
    kwargs = {"frontier_fraction": 1.0, "frontier_bucket": 32, "frontier_back": 32, "frontier_mode": "uniform"}
    env = gym.make("MarioDQN-v0", actions="right_only", **kwargs)
    wrapper = env.get_wrapper_attr("start_snapshot").__self__
    env.reset(seed=0)
    _play(env, [1] * 200)  # one run right: snapshots in every 32-px bucket up to the frontier
    env.reset()
    kept = sorted(cell.snapshot.x_pos for cell in wrapper._cells.values())
    eligible = [x for x in kept if x <= wrapper.frontier - 32]
    assert len(eligible) >= 6
    starts = []
    for _ in range(200):
        _, info = env.reset()
        assert info["frontier_start"] is True
        starts.append(info["x_pos"])
    # Every start is a kept snapshot behind the frontier, and each is drawn about as often (200 draws).
    assert set(starts) <= set(eligible)
    counts = [starts.count(x) for x in eligible]
    assert min(counts) >= 1 and max(counts) <= 4 * 200 / len(eligible)
    # The furthest mode always takes the last one.
    furthest = gym.make("MarioDQN-v0", actions="right_only", **{**kwargs, "frontier_mode": "furthest"})
    furthest.reset(seed=0)
    _play(furthest, [1] * 200)
    assert {furthest.reset()[1]["x_pos"] for _ in range(5)} == {max(eligible)}


def test_uniform_starts_are_reproducible_from_a_seed():
    kwargs = {"frontier_fraction": 1.0, "frontier_bucket": 32, "frontier_back": 32, "frontier_mode": "uniform"}
    env = gym.make("MarioDQN-v0", actions="right_only", stall_steps=20, **kwargs)
    histories = []
    for _ in range(2):
        env.reset(seed=3)
        _play(env, [1] * 150)
        histories.append([env.reset()[1]["x_pos"] for _ in range(10)])
    assert histories[0] == histories[1] and len(set(histories[0])) > 1


@pytest.mark.parametrize(("mode", "error"), [("random", ValueError), (1, TypeError)])
def test_a_bad_frontier_mode_names_the_choices(mode, error):
    with pytest.raises(error, match=r"frontier_mode.*'furthest', 'uniform', 'failures', 'mixed'"):
        gym.make("MarioDQN-v0", frontier_fraction=0.5, frontier_mode=mode)


def test_failures_mode_gathers_starts_before_where_recent_episodes_failed():
    kwargs = {"frontier_fraction": 1.0, "frontier_bucket": 32, "frontier_back": 32, "frontier_mode": "failures"}
    env = gym.make("MarioDQN-v0", actions="right_only", **kwargs)
    wrapper = env.get_wrapper_attr("start_snapshot").__self__
    env.reset(seed=0)
    steps = _play(env, [1] * 200)  # one run right: kept states in every 32-px stretch, then a death
    died_at = steps[-1][4]["x_pos"]
    assert steps[-1][2] and not steps[-1][4]["flag_get"]
    env.reset()
    assert list(wrapper._failures) == [died_at], "a failed episode's end is counted where it ended"
    kept = sorted(
        cell.snapshot.x_pos for cell in wrapper._cells.values() if cell.snapshot.x_pos <= wrapper.frontier - 32
    )
    assert len(kept) >= 6
    # Many recent failures at one place: the states less than 64 px before it get almost every start.
    obstacle = kept[len(kept) // 2] + 40
    wrapper._failures.extend([obstacle] * 200)
    before = {x for x in kept if x < obstacle <= x + 64}
    starts = [env.reset()[1]["x_pos"] for _ in range(100)]
    assert set(starts) <= set(kept) and sum(x in before for x in starts) >= 85
    weights = wrapper.failure_weights(
        [cell.snapshot for cell in wrapper._cells.values() if cell.snapshot.x_pos in kept]
    )
    assert weights.sum() == pytest.approx(1.0) and weights.min() > 0  # every kept state can still be drawn
    # A seeded reset forgets the failures with the states.
    env.reset(seed=1)
    assert not wrapper._failures


def test_mixed_mode_draws_half_of_the_starts_as_failures_does_and_half_uniformly():
    kwargs = {"frontier_fraction": 1.0, "frontier_bucket": 32, "frontier_back": 32, "frontier_mode": "mixed"}
    env = gym.make("MarioDQN-v0", actions="right_only", **kwargs)
    wrapper = env.get_wrapper_attr("start_snapshot").__self__
    env.reset(seed=0)
    _play(env, [1] * 200)
    env.reset()
    kept = sorted(
        cell.snapshot.x_pos for cell in wrapper._cells.values() if cell.snapshot.x_pos <= wrapper.frontier - 32
    )
    obstacle = kept[len(kept) // 2] + 40
    wrapper._failures.extend([obstacle] * 500)  # failures alone would start almost every episode before it
    before = {x for x in kept if x < obstacle <= x + 64}
    starts = [env.reset()[1]["x_pos"] for _ in range(400)]
    share = sum(x in before for x in starts) / len(starts)
    uniform_share = 0.5 * len(before) / len(kept)  # the uniform half's draws that land there anyway
    assert set(starts) <= set(kept)
    assert 0.5 + uniform_share - 0.1 < share < 0.5 + uniform_share + 0.1
    assert {x for x in starts if x not in before} == set(kept) - before  # the other half reaches every kept state


def test_a_flag_is_no_failure():
    env = gym.make("MarioDQN-v0", frontier_fraction=0.5, frontier_mode="failures")
    wrapper = env.get_wrapper_attr("start_snapshot").__self__
    env.reset(seed=0)
    wrapper._episode_active, wrapper._episode_end = True, (3161, True)
    env.reset()
    wrapper._episode_active, wrapper._episode_end = True, (722, False)
    env.reset()
    assert list(wrapper._failures) == [722]


def _backward_env(back: int = 32) -> tuple[gym.Env, FrontierStarts]:
    kwargs = {"frontier_fraction": 1.0, "frontier_bucket": 16, "frontier_back": back, "frontier_mode": "backward"}
    env = gym.make("MarioDQN-v0", actions="right_only", **kwargs)
    return env, env.get_wrapper_attr("start_snapshot").__self__


def _run_from_resets(env: gym.Env, wrapper: FrontierStarts, episodes: int, path_actions) -> list[int]:
    """Reset ``episodes`` times; an episode that starts on the path plays ``path_actions``, any other one step.
    Returns the x of each start on the path."""
    path_starts = []
    for _ in range(episodes):
        _, info = env.reset()
        if wrapper._target is not None:
            path_starts.append(info["x_pos"])
            _play(env, path_actions)
        else:
            env.step(0)
    return path_starts


def test_backward_mode_starts_on_the_furthest_path_and_moves_back_only_as_episodes_from_there_succeed():
    env, wrapper = _backward_env(back=32)
    env.reset(seed=0)
    _play(env, [1] * 200)  # walk right into the first Goomba: the path, every 16-px stretch
    reach = wrapper.frontier
    env.reset()
    point = wrapper.backward_point
    assert reach - 32 - 16 < point <= reach - 32, "the first point is back px behind where the path ended"
    # Episodes cut short from there fail: the point stays, and about half of the starts are on the path near it.
    path_starts = _run_from_resets(env, wrapper, 40, [0] * 5)
    assert wrapper.backward_point == point
    assert 10 <= len(path_starts) <= 30 and all(point - 32 <= x <= point for x in path_starts)
    # Walking right from a moment of the path gets as far as the path did: successes move the point back.
    points = [point]
    for _ in range(3):
        while wrapper.backward_point == points[-1]:
            _run_from_resets(env, wrapper, 1, [1] * 200)
        points.append(wrapper.backward_point)
    assert all(later <= earlier - 32 for earlier, later in itertools.pairwise(points))
    # A seeded reset forgets the path with the states.
    env.reset(seed=1)
    assert wrapper.backward_point is None


def test_backward_mode_follows_a_further_path_and_keeps_its_point():
    env, wrapper = _backward_env(back=32)
    env.reset(seed=0)
    _play(env, [1] * 200)
    env.reset()
    point, first_reach = wrapper.backward_point, wrapper._path_reach
    env.reset(seed=0)  # a level start (no path: the seeded reset forgot it) that jumps past the Goomba
    steps = _play(env, ([4] * 6 + [1] * 2) * 20)
    assert not (steps[-1][2] or steps[-1][3]) and wrapper._path_reach == 0
    env.reset()
    assert wrapper.frontier > 1000 and wrapper._path_reach == wrapper.frontier > first_reach
    assert wrapper.backward_point > 1000 - 32 - 16, "a new first path: back px behind its end"
    # The frontier moves on along a path that starts where the first one ended: the point keeps its x.
    wrapper._point = max(i for i, moment in enumerate(wrapper._path) if moment.x_pos <= point)
    kept_x = wrapper.backward_point
    wrapper._frontier += 64
    wrapper._cells[10_000] = type(next(iter(wrapper._cells.values())))(wrapper._path[-1], wrapper._frontier)
    env.reset()
    assert wrapper._path_reach == wrapper._frontier and wrapper.backward_point == kept_x


def test_a_furthest_episode_whose_inputs_do_not_replay_is_tried_once_until_a_further_one(monkeypatch):
    env, wrapper = _backward_env(back=32)
    env.reset(seed=0)
    _play(env, [1] * 200)
    tries = []

    def does_not_replay(inputs, bucket):
        tries.append(len(inputs))
        raise ValueError("its inputs lead elsewhere")

    monkeypatch.setattr(wrapper._emulator, "replay_moments", does_not_replay)
    for _ in range(5):
        env.reset()
        env.step(0)
    assert len(tries) == 1 and wrapper.backward_point is None, "no path, and no replay at every reset"
    # A further episode is a new path to try.
    wrapper._frontier += 64
    wrapper._cells[10_000] = type(next(iter(wrapper._cells.values())))(wrapper._emulator.snapshot(), wrapper._frontier)
    env.reset()
    env.reset()
    assert len(tries) == 2


def test_backward_mode_keeps_its_point_in_the_archive_and_a_new_env_starts_from_there(tmp_path):
    archive = tmp_path / "frontier.json"
    kwargs = {"frontier_fraction": 1.0, "frontier_bucket": 16, "frontier_back": 32, "frontier_mode": "backward"}
    env = gym.make("MarioDQN-v0", actions="right_only", frontier_archive=str(archive), **kwargs)
    wrapper = env.get_wrapper_attr("start_snapshot").__self__
    env.reset(seed=0)
    _play(env, [1] * 200)
    env.reset()
    first = wrapper.backward_point
    while wrapper.backward_point == first:
        _run_from_resets(env, wrapper, 1, [1] * 200)
    moved = wrapper.backward_point
    env.close()  # saves the archive
    assert read_backward_point(archive, (1, 1)) == moved < first

    again = gym.make("MarioDQN-v0", actions="right_only", frontier_archive=str(archive), **kwargs)
    again.reset(seed=0)
    assert again.get_wrapper_attr("backward_point") == moved
    again.close()


def test_backward_mode_with_follow_hands_over_the_paths_own_next_actions_from_each_path_start():
    kwargs = {"frontier_fraction": 1.0, "frontier_bucket": 16, "frontier_back": 64, "frontier_mode": "backward"}
    env = gym.make("MarioDQN-v0", actions="right_only", frontier_follow=12, **kwargs)
    wrapper = env.get_wrapper_attr("start_snapshot").__self__
    env.reset(seed=0)
    played = ([1] * 3 + [4] * 5 + [2] * 2 + [3] * 4) * 12  # right, long and short jumps, runs: no repeat of 4
    _play(env, played)
    lengths, uniform = [], []
    for _ in range(60):
        _, info = env.reset()  # every kept state lies on the one path: uniform starts follow it too
        if wrapper._target is None:
            uniform.append(len(info.get("frontier_actions", ())))
        start_inputs = wrapper._emulator.inputs  # the restored state's: the path's beginning
        assert wrapper._path_inputs.startswith(start_inputs)
        handed = info.get("frontier_actions", ())
        lengths.append(len(handed))
        # Each handed-over step is the action the path played at its last frame, a frame skip at a time (a
        # no-op free level start: the path's step n is frames 4n..4n+3).
        first = len(start_inputs)
        assert list(handed) == [played[(first + 4 * (step + 1) - 1) // 4] for step in range(len(handed))]
    assert max(lengths) <= 12 and len(set(lengths)) >= 6, "0..follow steps, drawn anew"
    assert len(uniform) >= 15 and np.mean(np.array(uniform) > 0) > 0.7
    # A state whose inputs are not the path's beginning (another episode's) hands over nothing.
    elsewhere = dataclasses.replace(wrapper._path[5], inputs=bytes(len(wrapper._path[5].inputs)))
    assert wrapper.path_actions(elsewhere, 12) == () and len(wrapper.path_actions(wrapper._path[5], 12)) == 12
    # Played from the start, the handed-over actions go on along the path, to where it went.
    env.reset(seed=0)
    _play(env, played)
    while wrapper._target is None or len(info.get("frontier_actions", ())) < 10:
        _, info = env.reset()
    steps = _play(env, info["frontier_actions"])
    assert steps[-1][4]["x_pos"] > info["x_pos"] + 30


@pytest.mark.parametrize(("successes", "moves"), [(2, True), (3, False)])
def test_backward_point_moves_once_frontier_successes_of_the_last_ten_path_episodes_succeeded(successes, moves):
    env, wrapper = _backward_env(back=32)
    wrapper.successes = successes
    env.reset(seed=0)
    _play(env, [1] * 200)
    env.reset()
    point, tried = wrapper.backward_point, 0
    while tried < 10:  # eight path episodes cut short, then two that walk as far as the path went
        if wrapper._target is not None:
            _play(env, [1] * 200 if tried >= 8 else [0] * 5)
            tried += 1
        else:
            env.step(0)
        env.reset()
    assert (wrapper.backward_point < point) == moves


def test_frontier_follow_needs_the_backward_mode_and_a_count():
    with pytest.raises(ValueError, match=r"frontier_follow=8 acts on the path and point of frontier_mode='backward'"):
        gym.make("MarioDQN-v0", frontier_fraction=0.5, frontier_mode="uniform", frontier_follow=8)
    with pytest.raises(ValueError, match="frontier_follow"):
        gym.make("MarioDQN-v0", frontier_fraction=0.5, frontier_mode="backward", frontier_follow=-1)
    with pytest.raises(ValueError, match=r"frontier_successes must be an integer in \[1, 10\]"):
        gym.make("MarioDQN-v0", frontier_fraction=0.5, frontier_mode="backward", frontier_successes=11)
    with pytest.raises(ValueError, match="frontier_successes=3 acts on the path and point"):
        gym.make("MarioDQN-v0", frontier_fraction=0.5, frontier_mode="mixed", frontier_successes=3)
    assert gym.make("MarioDQN-v0", frontier_fraction=0.5, frontier_mode="backward", frontier_successes=3)
    assert "frontier_follow" not in playing_kwargs({"frontier_follow": 8, "frontier_successes": 2})
