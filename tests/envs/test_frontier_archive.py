"""Frontier archives: the game states of frontier starts, kept on disk as the inputs that reach them, come back
exactly in another env (another process, a resumed run)."""

from __future__ import annotations

import base64
import json
import re

import gymnasium as gym
import numpy as np
import pytest

import mario_zoo  # noqa: F401  (registers the IDs)
from mario_zoo.envs import MarioEmulator
from mario_zoo.envs.frontier_archive import ArchivedCell, merge_into_archive, read_archive, read_backward_point
from mario_zoo.envs.kwargs import split_training_options

# Mostly rightward actions of the "simple" set, with some NOOP and A: episodes that go somewhere and die.
_ACTIONS, _WEIGHTS = [0, 1, 2, 3, 4, 5], [0.1, 0.25, 0.2, 0.2, 0.15, 0.1]
_TRAINING = {"frontier_fraction": 0.5, "frontier_bucket": 32, "frontier_back": 32, "frontier_mode": "uniform"}
# Training noise: the inputs must capture sticky repeats and no-ops, frame by frame.
_NOISE = {"repeat_action_probability": 0.25, "noop_max": 10, "stall_steps": 40}


def _play_episodes(env: gym.Env, n: int, seed: int) -> None:
    rng = np.random.default_rng(seed)
    env.reset(seed=seed)
    for _ in range(n):
        while True:
            _, _, terminated, truncated, _ = env.step(int(rng.choice(_ACTIONS, p=_WEIGHTS)))
            if terminated or truncated:
                break
        env.reset()


def _wrapper(env: gym.Env):
    return env.get_wrapper_attr("start_snapshot").__self__


def test_replaying_a_snapshots_inputs_reaches_the_same_game_state():
    env = gym.make("MarioDQN-v0", **_TRAINING, **_NOISE)
    emulator: MarioEmulator = env.unwrapped
    rng = np.random.default_rng(0)
    saved = []
    env.reset(seed=1)
    for _ in range(4):  # the later episodes partly start from snapshots of the earlier ones
        for step in range(400):
            _, _, terminated, truncated, _ = env.step(int(rng.choice(_ACTIONS, p=_WEIGHTS)))
            if terminated or truncated:
                break
            if step % 15 == 5:
                saved.append((emulator.snapshot(), bytes(emulator.ram)))
        env.reset()
    assert len(saved) >= 8
    other = MarioEmulator(target=(1, 1))
    for snapshot, ram in sorted(saved, key=lambda item: item[0].inputs) + saved[::-1]:  # shared prefixes, then not
        replayed = other.replay(snapshot.inputs)
        assert bytes(other.ram) == ram
        assert (replayed.x_pos, replayed.trackers, replayed.inputs) == (
            snapshot.x_pos,
            snapshot.trackers,
            snapshot.inputs,
        )


def test_inputs_start_empty_and_count_only_the_players_frames():
    emulator = MarioEmulator(target=(1, 1))
    assert emulator.inputs == b"", "the start screen the env skips while it is built is no input"
    emulator.step(0b10000000)  # nes-py's own step, one frame
    emulator.reset()
    assert emulator.inputs == b""
    emulator.step(0b10000000)
    emulator.step(0b10000001)
    assert emulator.inputs == b"\x80\x81"
    assert emulator.replay(emulator.inputs).inputs == b"\x80\x81"


def test_inputs_that_end_the_episode_are_refused():
    emulator = MarioEmulator(target=(1, 1))
    emulator.reset()
    with pytest.raises(ValueError, match=r"^The episode ended at frame \d+ of 5000 replayed inputs"):
        emulator.replay(b"\x80" * 5000)  # running right into the first Goomba


def test_a_new_env_starts_from_the_archive_another_env_wrote(tmp_path):
    path = tmp_path / "frontier.json"
    first = gym.make("MarioDQN-v0", frontier_archive=str(path), **_TRAINING, **_NOISE)
    _play_episodes(first, 12, seed=0)
    kept = {bucket: cell for bucket, cell in _wrapper(first)._cells.items()}
    frontier = first.get_wrapper_attr("frontier")
    first.close()  # writes what is not yet written
    archived = read_archive(path, (1, 1))
    assert len(archived) == len(kept) >= 5
    assert {(cell.x_pos, cell.reach) for cell in archived} == {
        (cell.snapshot.x_pos, cell.reach) for cell in kept.values()
    }

    second = gym.make("MarioDQN-v0", frontier_archive=str(path), **_TRAINING, **_NOISE)
    second.reset(seed=5)
    assert second.get_wrapper_attr("frontier") == frontier
    wrapper = _wrapper(second)
    assert wrapper._cells.keys() == kept.keys()
    for bucket, cell in kept.items():
        # The same moment of the game: restore each and compare the emulator's memory.
        second.unwrapped.reset(options={"snapshot": wrapper._cells[bucket].snapshot})
        ram = bytes(second.unwrapped.ram)
        second.unwrapped.reset(options={"snapshot": cell.snapshot})
        assert ram == bytes(second.unwrapped.ram)
    # Seeded resets return to the archive's states, not to nothing.
    second.reset(seed=6)
    assert second.get_wrapper_attr("frontier") == frontier and len(wrapper._cells) == len(kept)


def test_envs_merge_into_one_archive_keeping_the_furthest_reach(tmp_path):
    path = tmp_path / "frontier.json"
    envs = [gym.make("MarioDQN-v0", frontier_archive=str(path), **_TRAINING, **_NOISE) for _ in range(2)]
    for seed, env in enumerate(envs):
        _play_episodes(env, 6, seed=seed)
    cells = [_wrapper(env)._cells for env in envs]
    for env in envs:
        env.close()
    best = {}
    for kept in cells:
        for bucket, cell in kept.items():
            best[bucket] = max(best.get(bucket, 0), cell.reach)
    archived = read_archive(path, (1, 1))
    assert {cell.x_pos // 32: cell.reach for cell in archived} == best


def test_the_archive_is_written_every_few_episodes_while_training(tmp_path, monkeypatch):
    from mario_zoo.envs import frontier

    monkeypatch.setattr(frontier, "SAVE_EVERY", 3)
    path = tmp_path / "frontier.json"
    env = gym.make("MarioDQN-v0", frontier_archive=str(path), **_TRAINING, **_NOISE)
    _play_episodes(env, 2, seed=0)
    assert not path.exists()
    _play_episodes(env, 2, seed=1)
    assert path.is_file() and read_archive(path, (1, 1))


def test_a_cell_whose_inputs_lead_elsewhere_is_left_out_with_a_warning(tmp_path):
    path = tmp_path / "frontier.json"
    env = gym.make("MarioDQN-v0", frontier_archive=str(path), **_TRAINING, **_NOISE)
    _play_episodes(env, 8, seed=0)
    env.close()
    document = json.loads(path.read_text())
    document["cells"][-1]["x_pos"] -= 1  # not where its inputs lead
    path.write_text(json.dumps(document))
    other = gym.make("MarioDQN-v0", frontier_archive=str(path), **_TRAINING)
    with pytest.warns(UserWarning, match=r"the inputs of 1 of its cells did not lead back to their x positions"):
        other.reset(seed=0)
    assert len(_wrapper(other)._cells) == len(document["cells"]) - 1


def test_merging_keeps_per_stretch_the_cell_that_reached_furthest(tmp_path):
    path = tmp_path / "frontier.json"
    merge_into_archive(path, (1, 3), [ArchivedCell(100, 500, b"\x80" * 3), ArchivedCell(200, 500, b"\x81")], bucket=64)
    merge_into_archive(path, (1, 3), [ArchivedCell(120, 900, b"\x01"), ArchivedCell(210, 400, b"\x02")], bucket=64)
    cells = read_archive(path, (1, 3))
    assert [(cell.x_pos, cell.reach, cell.inputs) for cell in cells] == [(120, 900, b"\x01"), (200, 500, b"\x81")]
    assert not [name for name in (p.name for p in tmp_path.iterdir()) if name.endswith(".tmp")]


@pytest.mark.parametrize(
    ("document", "message"),
    [
        ("not json", r"is not valid JSON"),
        ({"format": "something else"}, r"is not a mario-zoo frontier archive"),
        ({"format": "mario-zoo frontier archive", "version": 9, "level": [1, 1], "cells": []}, r"of version 9"),
        ({"format": "mario-zoo frontier archive", "version": 1, "level": [1, 2], "cells": []}, r"World 1-2's frontier"),
        ({"format": "mario-zoo frontier archive", "version": 1, "level": [1, 1], "cells": {}}, r"no list of at most"),
        (
            {"format": "mario-zoo frontier archive", "version": 1, "level": [1, 1], "cells": [{"x_pos": 5}]},
            r"cell 0 is not \{x_pos, reach, inputs\}",
        ),
        (
            {
                "format": "mario-zoo frontier archive",
                "version": 1,
                "level": [1, 1],
                "cells": [{"x_pos": 50, "reach": 40, "inputs": ""}],
            },
            r"cell 0 has x_pos 50 and reach 40",
        ),
        (
            {
                "format": "mario-zoo frontier archive",
                "version": 1,
                "level": [1, 1],
                "cells": [{"x_pos": 5, "reach": 40, "inputs": "%%%"}],
            },
            r"cell 0's inputs are not base64",
        ),
        (
            {"format": "mario-zoo frontier archive", "version": 1, "level": [1, 1], "cells": [], "backward_x": -5},
            r"bad backward_x -5",
        ),
    ],
)
def test_a_damaged_archive_is_one_error_naming_the_file_and_the_fix(tmp_path, document, message):
    path = tmp_path / "frontier.json"
    path.write_text(document if isinstance(document, str) else json.dumps(document))
    with pytest.raises(ValueError, match=rf"{re.escape(str(path))}.*{message}"):
        read_archive(path, (1, 1)) if "backward_x" not in message else read_backward_point(path, (1, 1))
    env = gym.make("MarioDQN-v0", frontier_archive=str(path), **_TRAINING)
    with pytest.raises(ValueError, match=message):
        env.reset(seed=0)


def test_an_archive_bigger_than_the_limit_is_refused_before_parsing(tmp_path, monkeypatch):
    from mario_zoo.envs import frontier_archive

    monkeypatch.setattr(frontier_archive, "MAX_ARCHIVE_BYTES", 100)
    path = tmp_path / "frontier.json"
    cell = {"x_pos": 1, "reach": 2, "inputs": base64.b64encode(b"\x80" * 200).decode()}
    path.write_text(json.dumps({"format": "x", "cells": [cell]}))
    with pytest.raises(ValueError, match=r"larger than the .* limit"):
        read_archive(path, (1, 1))


@pytest.mark.parametrize(
    ("kwargs", "error", "message"),
    [
        (
            {"frontier_archive": "runs/a/frontier.json"},
            ValueError,
            "keeps the states of frontier starts, which are off",
        ),
        ({"frontier_archive": 3, "frontier_fraction": 0.5}, TypeError, "frontier_archive must be a file path"),
    ],
)
def test_bad_frontier_archive_options_fail_at_construction(kwargs, error, message):
    with pytest.raises(error, match=re.escape(message)):
        gym.make("MarioDQN-v0", **kwargs)


def test_the_archive_path_is_no_setting_an_agent_keeps(tmp_path):
    env = gym.make("MarioDQN-v0", frontier_archive=str(tmp_path / "frontier.json"), **_TRAINING)
    assert env.spec.kwargs["frontier_archive"] == str(tmp_path / "frontier.json")
    play, training = split_training_options(env.spec.kwargs)
    assert "frontier_archive" not in play and "frontier_archive" not in training
    assert training["frontier_fraction"] == 0.5
    assert "frontier_archive" not in gym.make("MarioDQN-v0").spec.kwargs


def test_an_archive_damaged_while_training_is_a_warning_not_the_end_of_training(tmp_path, monkeypatch):
    from mario_zoo.envs import frontier

    monkeypatch.setattr(frontier, "SAVE_EVERY", 1)
    path = tmp_path / "frontier.json"
    env = gym.make("MarioDQN-v0", frontier_archive=str(path), **_TRAINING, **_NOISE)
    _play_episodes(env, 1, seed=0)
    assert path.is_file()
    path.write_text("damaged by someone else")
    with pytest.warns(UserWarning, match=r"^Frontier states not saved: .*frontier\.json is not valid JSON"):
        _play_episodes(env, 3, seed=1)
    with pytest.warns(UserWarning, match=r"^Frontier states not saved: "):
        wrapper = _wrapper(env)
        wrapper._unsaved = True
        env.close()
    assert env.unwrapped._env is None, "the emulator is closed all the same"


def test_replay_moments_are_the_first_frame_in_each_stretch_and_replay_to_themselves():
    emulator = MarioEmulator(target=(1, 1))
    inputs = b"\x80" * 120  # walking right: x 40 to about 226
    moments = emulator.replay_moments(inputs, bucket=32)
    stretches = [moment.x_pos // 32 for moment in moments]
    assert stretches == sorted(set(stretches)) and len(stretches) >= 5
    assert all(inputs.startswith(moment.inputs) for moment in moments)
    other = MarioEmulator(target=(1, 1))
    for moment in moments:
        before = other.replay(moment.inputs[:-1]).x_pos if len(moment.inputs) > 1 else None
        assert other.replay(moment.inputs).x_pos == moment.x_pos
        if before is not None:  # the frame before is in an earlier stretch: this is the first one in it
            assert before // 32 < moment.x_pos // 32
    with pytest.raises(ValueError, match=r"bucket must be a width in x pixels \(an int >= 1\), got 0"):
        emulator.replay_moments(inputs, bucket=0)


def test_reading_an_archive_fills_the_stretches_along_its_paths_with_their_furthest_reach(tmp_path):
    """A cell of a chain of frontier starts (one whose inputs begin with another's) stands for an episode through
    every moment of its inputs: read with narrower stretches, or where a stretch's own cell reached less, the
    path's first moment in each stretch is kept, with the reach of the furthest cell on it."""
    path = tmp_path / "frontier.json"
    short, chained = b"\x80" * 60, b"\x80" * 120  # x 121, then on to about 226
    other_start = b"\x00" * 30 + b"\x80" * 12  # another episode, waiting first: x under 64
    other_x = MarioEmulator(target=(1, 1)).replay(other_start).x_pos
    assert other_x < 64
    cells = [ArchivedCell(121, 130, short), ArchivedCell(226, 700, chained), ArchivedCell(other_x, 400, other_start)]
    merge_into_archive(path, (1, 1), cells, bucket=64)

    env = gym.make("MarioDQN-v0", frontier_archive=str(path), frontier_fraction=1.0, frontier_bucket=16)
    env.reset(seed=0)
    kept = _wrapper(env)._cells
    # The archive's own cells, then each path's first moment in a stretch where its episode reached further.
    expected = {cell.x_pos // 16: (cell.inputs, cell.reach) for cell in cells}
    for inputs, reach in ((other_start, 400), (chained, 700)):
        for moment in MarioEmulator(target=(1, 1)).replay_moments(inputs, bucket=16):
            stretch = moment.x_pos // 16
            if stretch not in expected or reach > expected[stretch][1]:
                expected[stretch] = (moment.inputs, reach)
    assert {stretch: (cell.snapshot.inputs, cell.reach) for stretch, cell in kept.items()} == expected
    # The short cell's own moment lies on the chained path, which reached further: its stretch starts there.
    assert kept[121 // 16].reach == 700 and chained.startswith(kept[121 // 16].snapshot.inputs)
    for stretch, cell in kept.items():  # each is the game state its inputs reach
        assert MarioEmulator(target=(1, 1)).replay(cell.snapshot.inputs).x_pos == cell.snapshot.x_pos
        assert cell.snapshot.x_pos // 16 == stretch


def test_the_backward_point_merges_to_the_one_furthest_back_and_a_bad_one_writes_nothing(tmp_path):
    path = tmp_path / "frontier.json"
    merge_into_archive(path, (1, 1), [ArchivedCell(100, 500, b"\x80" * 40)], bucket=64)
    assert read_backward_point(path, (1, 1)) is None  # an archive without one (from other modes, or older)
    merge_into_archive(path, (1, 1), [], bucket=64, backward_x=700)
    merge_into_archive(path, (1, 1), [], bucket=64, backward_x=300)
    merge_into_archive(path, (1, 1), [], bucket=64, backward_x=900)
    merge_into_archive(path, (1, 1), [], bucket=64)  # a writer without one keeps it
    assert read_backward_point(path, (1, 1)) == 300 and len(read_archive(path, (1, 1))) == 1
    before = path.read_bytes()
    for bad in (-1, True, 2.5, 10**9):
        with pytest.raises(ValueError, match=r"backward_x must be an x position"):
            merge_into_archive(path, (1, 1), [ArchivedCell(200, 900, b"\x81")], bucket=64, backward_x=bad)
    assert path.read_bytes() == before
