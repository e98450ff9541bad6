"""mario-zoo zoo publish (mario_zoo.publishing): what it writes, what it keeps, and what it refuses."""

from __future__ import annotations

import re

import pytest

from mario_zoo.agents import DQN
from mario_zoo.cli import main
from mario_zoo.hub._files import sha256_of
from mario_zoo.publishing import _monitor_seconds, command_settings, publish, reproduce_command
from mario_zoo.zoo import load_pretrained, read_registry

CARTPOLE = "dqn-CartPole-v1"

SHIPPED = read_registry().bundled_dir(CARTPOLE)


def _publish(tmp_path, **options):
    options = {"episodes": 2, "replay": False, "command": "mario-zoo train --seed 0", **options}
    return publish(
        SHIPPED, "cartpole", registry=tmp_path / "zoo" / "registry.json", cards_dir=tmp_path / "cards",
        docs_dir=tmp_path / "docs", **options,
    )  # fmt: skip


def test_float16_weights_are_evaluated_as_shipped_and_halve_the_file(tmp_path):
    published = _publish(tmp_path, dtype="float16", replay=True)
    weights = published.bundled / "model.safetensors"
    assert weights.stat().st_size < 0.6 * (SHIPPED / "model.safetensors").stat().st_size
    assert published.entry.files["model.safetensors"] == sha256_of(weights)
    assert published.entry.results.mean_reward == 500.0
    model = load_pretrained("cartpole", registry=published.registry)
    assert next(model.policy.parameters()).dtype.is_floating_point
    assert published.replay_gif == tmp_path / "docs" / "cartpole.gif" and published.replay_gif.is_file()
    card = published.card.read_text()
    assert "![cartpole playing CartPole-v1](replay.gif)" in card and "../" not in card
    assert "float16 weights" in card and "mario-zoo train --seed 0" in card
    assert "replay.mp4" not in card, "nothing was pushed, so the repo has no video"


def test_republishing_unchanged_files_keeps_the_pinned_revision(tmp_path):
    import dataclasses

    first = _publish(tmp_path)
    pinned = dataclasses.replace(first.entry, revision="a" * 40)
    read_registry(first.registry).with_entry(pinned).write()
    assert _publish(tmp_path).entry.revision == "a" * 40
    assert _publish(tmp_path, dtype="float16").entry.revision is None, "new bytes are not what the Hub holds"


def test_a_checkpoint_needs_the_command_that_trained_it(tmp_path):
    with pytest.raises(ValueError, match="pass --command with the command that trains it"):
        _publish(tmp_path, command=None)
    assert not (tmp_path / "zoo").exists() and not (tmp_path / "cards").exists()


def test_a_run_folder_gives_preset_seed_command_and_wall_time(tmp_path):
    from mario_zoo import training
    from mario_zoo.runs import RunFolder

    config = training.plan_run(preset="cartpole-fast", steps=300, seed=3, device="cpu", eval_episodes=0,
                               command=["mario-zoo", "train", "--seed", "3", "--out", "x", "--no-progress"])  # fmt: skip
    run = RunFolder(tmp_path / "run")
    training.train(run, config, training.build_model(config), progress=False)
    published = publish(
        run.path, "tiny", episodes=1, replay=False, registry=tmp_path / "zoo" / "registry.json",
        cards_dir=tmp_path / "cards", docs_dir=tmp_path / "docs",
    )  # fmt: skip
    training_info = published.entry.training
    assert (training_info.preset, training_info.seed, training_info.total_timesteps) == (
        "cartpole-fast",
        3,
        384,
    )  # whole rounds of 128
    assert training_info.command == "mario-zoo train --seed 3"
    assert training_info.wall_time_seconds is not None and training_info.wall_time_seconds >= 0
    assert isinstance(DQN.load(published.bundled), DQN)


def test_wall_time_adds_up_the_sittings_of_a_resumed_run(tmp_path):
    monitor = tmp_path / "monitor.csv"
    monitor.write_text('#{"t_start": 0}\nr,l,t\n9,9,1.5\n9,9,10.0\n#{"t_start": 5}\n9,9,2.0\n9,9,4.5\n9,9,')
    assert _monitor_seconds(monitor) == 14.5


def test_reproduce_command_drops_machine_specific_options():
    assert (
        reproduce_command(["mario-zoo", "train", "--out=/x", "--preset", "mario"]) == "mario-zoo train --preset mario"
    )


def test_the_command_line_rejects_bad_input_in_one_line(tmp_path, capsys):
    code = main(["zoo", "publish", str(SHIPPED), "--name", "../evil", "--registry", str(tmp_path / "r.json")])
    err = capsys.readouterr().err
    assert code == 2 and "'../evil' is not a zoo name" in err and len(err.strip().splitlines()) == 1
    assert not (tmp_path / "r.json").exists()


def test_a_checkpoints_preset_and_seed_are_those_of_its_training_command(tmp_path):
    published = _publish(tmp_path, command="mario-zoo train --preset cartpole-rlzoo --seed 7  # a later checkpoint")
    training = published.entry.training
    assert (training.preset, training.seed) == ("cartpole-rlzoo", 7)
    assert "| preset | `cartpole-rlzoo` |\n| seed | 7 |" in published.card.read_text()


def test_the_training_command_must_be_a_mario_zoo_train_command():
    with pytest.raises(
        ValueError, match=re.escape("must be a `mario-zoo train ...` command line, got 'train.py --seed 1'")
    ):
        command_settings("train.py --seed 1")
    with pytest.raises(ValueError, match="--seed in the training command must be an integer, got 'x'"):
        command_settings("mario-zoo train --seed x")


def _tiny_run(tmp_path, **plan):
    from mario_zoo import training
    from mario_zoo.runs import RunFolder

    config = training.plan_run(preset="cartpole-fast", steps=600, seed=0, device="cpu", eval_episodes=2,
                               eval_freq=300, command=["mario-zoo", "train", "--seed", "0"], **plan)  # fmt: skip
    run = RunFolder(tmp_path / "run")
    training.train(run, config, training.build_model(config), progress=False)
    return run


def test_a_run_folder_gives_the_card_its_learning_curve_and_a_warm_start_row(tmp_path):
    import imageio.v3 as iio

    run = _tiny_run(tmp_path, init_from="dqn-CartPole-v1")
    published = publish(
        run.path, "tiny", episodes=1, replay=False, registry=tmp_path / "zoo" / "registry.json",
        cards_dir=tmp_path / "cards", docs_dir=tmp_path / "docs",
    )  # fmt: skip
    assert set(published.figures) == {"learning_curve.png"}
    assert published.figures["learning_curve.png"] == tmp_path / "docs" / "tiny_learning_curve.png"
    assert iio.imread(published.figures["learning_curve.png"]).shape[:2] == (540, 960)
    card = published.card.read_text()
    assert "## Learning curve" in card and "(learning_curve.png)" in card
    assert "after a warm start from `dqn-CartPole-v1`" in card
    assert "## Where the episodes end" not in card, "CartPole has no flag"


def test_a_checkpoint_inside_a_run_folder_takes_the_runs_command_and_time_up_to_its_step(tmp_path):
    run = _tiny_run(tmp_path)
    published = publish(
        run.best_model, "best", episodes=1, replay=False, registry=tmp_path / "zoo" / "registry.json",
        cards_dir=tmp_path / "cards", docs_dir=tmp_path / "docs",
    )  # fmt: skip
    training_info = published.entry.training
    assert training_info.command == "mario-zoo train --seed 0" and training_info.preset == "cartpole-fast"
    assert training_info.total_timesteps == DQN.load(run.best_model).num_timesteps
    assert training_info.wall_time_seconds <= _monitor_seconds(run.monitor)
    assert "learning_curve.png" in published.figures


def test_a_mario_card_shows_where_episodes_end_with_the_flag_rate_interval(tmp_path, monkeypatch):
    import imageio.v3 as iio

    import mario_zoo.publishing as publishing

    monkeypatch.setattr(publishing, "GIF_FLAG_TRIES", 2)
    shipped = read_registry().bundled_dir("dqn-MarioDQN-1-1-v0")
    published = publish(
        shipped, "mario", episodes=2, dtype="float16", command="mario-zoo train --preset mario --seed 0",
        registry=tmp_path / "zoo" / "registry.json", cards_dir=tmp_path / "cards", docs_dir=tmp_path / "docs",
    )  # fmt: skip
    assert set(published.figures) == {"x_pos_histogram.png"}  # a bare checkpoint: no run, no learning curve
    assert iio.imread(published.figures["x_pos_histogram.png"]).shape[:2] == (540, 960)
    card = published.card.read_text()
    flags = sum(published.evaluation.flags)
    assert f"The flag in **{flags} of 2** greedy episodes" in card and "95% Wilson interval" in card
    assert "(x_pos_histogram.png)" in card and published.replay_gif.is_file()
    assert not list((tmp_path / "docs").glob(".*candidate*")), "the candidate GIF is cleaned up"


def test_the_mario_gif_is_the_first_seed_whose_episode_reaches_the_flag(tmp_path, monkeypatch):
    import mario_zoo.publishing as publishing
    from mario_zoo.video import Replay

    calls = []

    def fake_record(model, env_id, env_kwargs, path, *, seed, **_):
        calls.append((seed, env_kwargs["noop_max"]))
        Path(path).write_text(f"seed {seed}")
        return Replay(Path(path), 30.0, 10, [1.0], [10], [seed == 2])

    from pathlib import Path

    monkeypatch.setattr(publishing, "record", fake_record)
    gif = tmp_path / "mario.gif"
    note = publishing._record_gif(None, "MarioDQN-1-1-v0", {"actions": "right_only"}, gif)
    assert [seed for seed, _ in calls] == [0, 1, 2] and all(noops == 30 for _, noops in calls)
    assert gif.read_text() == "seed 2" and "env seed 2" in note and "reaches the flag" in note
    assert sorted(path.name for path in tmp_path.iterdir()) == ["mario.gif"]
