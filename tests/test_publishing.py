"""mario-zoo zoo publish (mario_zoo.publishing): what it writes, what it keeps, and what it refuses."""

from __future__ import annotations

import dataclasses
import re
from datetime import datetime
from pathlib import Path

import pytest

from mario_zoo.agents import DQN
from mario_zoo.cli import main
from mario_zoo.hub._files import sha256_of
from mario_zoo.publishing import command_settings, publish, reproduce_command
from mario_zoo.runs import RunFolder
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
                               command=["mario-zoo", "train", "--seed", "3", "--steps", "300", "--out", "x", "--no-progress"])  # fmt: skip
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
    assert training_info.command == "mario-zoo train --seed 3 --steps 300"
    assert training_info.wall_time_seconds is not None and training_info.wall_time_seconds >= 0
    assert isinstance(DQN.load(published.bundled), DQN)


def test_wall_time_adds_up_the_sittings_of_a_resumed_run(tmp_path):
    run = RunFolder(tmp_path)
    run.monitor.write_text('#{"t_start": 0}\nr,l,t\n9,9,1.5\n9,9,10.0\n#{"t_start": 5}\n9,9,2.0\n9,9,4.5\n9,9,')
    assert run.wall_seconds() == 14.5 and run.wall_seconds(until_step=27) == 12.0


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
                               eval_freq=300, command=["mario-zoo", "train", "--seed", "0", "--steps", "600"], **plan)  # fmt: skip
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
    # The run's command trains on to step 600; the card says this agent is its best model's step.
    steps = DQN.load(run.best_model).num_timesteps
    assert steps < 600 and training_info.preset == "cartpole-fast"
    assert (
        training_info.command
        == f"mario-zoo train --seed 0 --steps 600    # how it was trained; this agent: step {steps:,}"
    )
    assert training_info.total_timesteps == DQN.load(run.best_model).num_timesteps
    assert training_info.wall_time_seconds <= run.wall_seconds()
    assert "learning_curve.png" in published.figures
    assert "\nmario-zoo zoo publish runs/<the run folder>/best_model --name best\n" in published.card.read_text()


def test_a_mario_card_shows_both_protocols_and_where_episodes_end(tmp_path, monkeypatch):
    import json

    import imageio.v3 as iio

    from mario_zoo import evaluation

    monkeypatch.setattr(evaluation, "MARIO_EVAL_NOOP_MAX", 2)  # a 3-start sweep keeps the test short
    shipped = read_registry().bundled_dir("dqn-MarioDQN-1-1-v0")
    registry = tmp_path / "zoo" / "registry.json"
    published = publish(
        shipped, "mario", episodes=2, dtype="float16", command="mario-zoo train --preset mario --seed 0",
        registry=registry, cards_dir=tmp_path / "cards", docs_dir=tmp_path / "docs",
    )  # fmt: skip
    sweep = published.evaluation
    assert (sweep.protocol, sweep.noops) == ("noop-sweep", [0, 1, 2])
    assert set(published.figures) == {"x_pos_histogram.png"}  # a bare checkpoint: no run, no learning curve
    assert iio.imread(published.figures["x_pos_histogram.png"]).shape[:2] == (540, 960)
    card = published.card.read_text()
    flags = sum(sweep.flags)
    assert f"The flag in **{flags} of 3** episodes" in card and "of the noop-sweep protocol" in card
    assert "| noop-sweep | 3 |" in card and "| nature | 2 |" in card and "95% Wilson interval" in card
    assert "(x_pos_histogram.png)" in card and published.replay_gif.is_file()
    assert "One greedy episode from " in card and "no-ops at the level start" in card
    assert 'mario_zoo.load_pretrained("mario")' in card and "load_from_hub" not in card  # not pushed: no Hub repo
    entry = json.loads(registry.read_text())["agents"]["mario"]
    assert entry["results"]["protocol"] == "noop-sweep"
    assert entry["results"]["protocol_description"].startswith("noop-sweep protocol: 3 episodes")
    assert entry["results"]["n_eval_episodes"] == 3
    assert entry["other_results"]["nature"]["n_eval_episodes"] == 2
    assert entry["other_results"]["nature"]["protocol_description"].startswith("nature protocol: 2 episodes")
    assert "noop_max" not in entry["env_kwargs"]  # the play env: the protocols set their own no-ops


def _sweep(flags: list[bool]):
    from mario_zoo.results import Evaluation

    count = len(flags)
    return Evaluation(
        env_id="MarioDQN-1-1-v0",
        env_kwargs={"actions": "right_only", "noop_max": count - 1},  # the env the sweep played
        episode_rewards=[1.0] * count,
        episode_lengths=[10] * count,
        protocol="noop-sweep",
        x_pos=[3161 if flag else 700 for flag in flags],
        flags=flags,
        noops=list(range(count)),
    )


@pytest.mark.parametrize(
    ("flags", "noops", "note"),
    [
        (
            [False, False, True, True],
            2,
            "One greedy episode from 2 no-ops at the level start (the first of the 2 of 4 no-op starts whose episode "
            "reaches the flag); it reaches the flag.",
        ),
        (
            [False, False, False],
            0,
            "One greedy episode from 0 no-ops at the level start (none of the 3 no-op starts reaches the flag); it "
            "does not reach the flag.",
        ),
    ],
)
def test_the_mario_gif_is_a_sweep_episode_and_says_which(tmp_path, monkeypatch, flags, noops, note):
    import mario_zoo.zoo_cards as publishing
    from mario_zoo import video
    from mario_zoo.video import Replay

    calls = []

    def fake_record(model, env_id, env_kwargs, path, *, reset_options, **_):
        calls.append((reset_options, env_kwargs["noop_max"]))
        Path(path).write_text(f"noops {reset_options['noops']}")
        return Replay(Path(path), 30.0, 10, [1.0], [10], [flags[reset_options["noops"]]])

    monkeypatch.setattr(video, "record", fake_record)
    gif = tmp_path / "mario.gif"
    assert publishing._record_gif(None, gif, _sweep(flags)) == note
    assert calls == [({"noops": noops}, len(flags) - 1)]  # one recording: the sweep's own episode, on its env
    assert sorted(path.name for path in tmp_path.iterdir()) == ["mario.gif"]


def test_a_recording_that_differs_from_the_sweep_says_so(tmp_path, monkeypatch):
    import mario_zoo.zoo_cards as publishing
    from mario_zoo import video
    from mario_zoo.video import Replay

    def fake_record(model, env_id, env_kwargs, path, **_):
        Path(path).write_text("x")
        return Replay(Path(path), 30.0, 10, [1.0], [10], [False])

    monkeypatch.setattr(video, "record", fake_record)
    note = publishing._record_gif(None, tmp_path / "m.gif", _sweep([True, False]))
    assert note.endswith("it does not reach the flag. (The recording differs from the sweep's episode of that start.)")


def test_the_warm_start_chain_walks_init_from_back_through_the_zoo(tmp_path):
    import dataclasses

    from mario_zoo.zoo.registry import Registry
    from mario_zoo.zoo_cards import warm_start_chain

    cartpole = read_registry().get(CARTPOLE)

    def entry(name, command):
        training = dataclasses.replace(cartpole.training, command=command)
        return dataclasses.replace(cartpole, name=name, training=training)

    zoo = Registry(
        tmp_path / "registry.json",
        {
            "a": entry("a", "mario-zoo train --seed 0  # step 650,000"),
            "b": entry("b", "mario-zoo train --init-from a --seed 1"),
            "loop1": entry("loop1", "mario-zoo train --init-from loop2"),
            "loop2": entry("loop2", "mario-zoo train --init-from loop1"),
        },
    )
    assert warm_start_chain("b", zoo) == [
        "mario-zoo train --seed 0  # makes a; step 650,000",
        "mario-zoo train --init-from a --seed 1  # makes b",
    ]
    assert warm_start_chain("runs/some-run/best_model", zoo) == [] and warm_start_chain(None, zoo) == []
    assert len(warm_start_chain("loop1", zoo)) <= len(zoo.entries)  # a damaged registry's loop ends


def _warm_run_from(tmp_path, name: str):
    """A tiny CartPole run that says it was warm-started from the zoo agent ``name``."""
    from mario_zoo import training
    from mario_zoo.runs import RunFolder

    config = training.plan_run(preset="cartpole-fast", steps=300, seed=1, device="cpu", eval_episodes=0,
                               init_from=name, command=["mario-zoo", "train", "--init-from", name, "--seed", "1", "--steps", "300"])  # fmt: skip
    run = RunFolder(tmp_path / "warm")  # what counts here is run.json's init_from, not the weights
    training.train(run, config, training.build_model(config), progress=False)
    return run


def test_publishing_over_the_agent_it_was_warm_started_from_keeps_that_one(tmp_path):
    import dataclasses

    registry = tmp_path / "zoo" / "registry.json"
    first = _publish(tmp_path, replay=True, command="mario-zoo train --seed 0  # the first")
    # Another zoo agent trained from the first: once the first is kept under a new name, it names that one.
    sibling = dataclasses.replace(first.entry.training, command="mario-zoo train --init-from cartpole --seed 2")
    # ... and one trained from that one, whose card's chain names the first too; and an agent whose name holds it.
    grandchild = dataclasses.replace(first.entry.training, command="mario-zoo train --init-from sibling --seed 3")
    zoo = read_registry(registry).with_entry(dataclasses.replace(first.entry, name="sibling", training=sibling))
    zoo = zoo.with_entry(dataclasses.replace(first.entry, name="grandchild", training=grandchild))
    zoo.with_entry(dataclasses.replace(first.entry, name="cartpole.v2")).write()
    sibling_card = tmp_path / "cards" / "sibling.md"
    sibling_card.write_text(
        "mario-zoo train --seed 0  # makes cartpole\nmario-zoo train --init-from cartpole --seed 2\n"
    )
    grandchild_card = tmp_path / "cards" / "grandchild.md"
    grandchild_card.write_text("--init-from cartpole  # makes sibling; unlike cartpole.v2 (model_cards/cartpole.md)\n")
    run = _warm_run_from(tmp_path, "cartpole")
    options = {"episodes": 1, "replay": False, "registry": registry, "cards_dir": tmp_path / "cards",
               "docs_dir": tmp_path / "docs"}  # fmt: skip
    before = {path: path.read_bytes() for path in tmp_path.rglob("*") if path.is_file() and "warm" not in path.parts}
    with pytest.raises(ValueError, match="--keep-previous-as cartpole-previous"):
        publish(run.path, "cartpole", **options)
    # Not warm-started from it, but replacing the agent another one was trained from: the same refusal.
    with pytest.raises(
        ValueError,
        match=r"agents grandchild, sibling were trained from 'cartpole'.*--keep-previous-as cartpole-previous",
    ):
        publish(run.path, "cartpole", command="mario-zoo train --seed 7", **options)
    for name, taken in (("cartpole", "already a zoo agent"), ("../x", "not a zoo name")):
        with pytest.raises(ValueError, match=re.escape(taken)):
            publish(run.path, "cartpole", keep_previous_as=name, **options)
    with pytest.raises(ValueError, match="the zoo has no agent 'other' to keep"):
        publish(run.path, "other", keep_previous_as="other-old", **options)
    after = {path: path.read_bytes() for path in tmp_path.rglob("*") if path.is_file() and "warm" not in path.parts}
    assert after == before, "a refused publish writes nothing"

    published = publish(run.path, "cartpole", keep_previous_as="cartpole-first", **options)
    zoo = read_registry(registry)
    kept = zoo.get("cartpole-first")
    assert published.kept == kept and kept.files == first.entry.files and kept.results == first.entry.results
    assert kept.repo_id == "mario-zoo/cartpole-first", "never pushed: the kept agent gets a repo of its own name"
    assert zoo.get("cartpole").files != first.entry.files
    assert zoo.get("sibling").training.command == "mario-zoo train --init-from cartpole-first --seed 2"
    assert sibling_card.read_text() == (
        "mario-zoo train --seed 0  # makes cartpole-first\nmario-zoo train --init-from cartpole-first --seed 2\n"
    ), "the sibling's card names the agent it was trained from by its kept name"
    assert grandchild_card.read_text() == (
        "--init-from cartpole-first  # makes sibling; unlike cartpole.v2 (model_cards/cartpole-first.md)\n"
    ), "every card whose chain passes through the replaced agent; never another zoo name that contains it"
    assert load_pretrained("cartpole-first", registry=registry).num_timesteps == first.entry.training.total_timesteps
    kept_card = (tmp_path / "cards" / "cartpole-first.md").read_text()
    assert 'load_pretrained("cartpole-first")' in kept_card and 'load_pretrained("cartpole")' not in kept_card
    assert (tmp_path / "docs" / "cartpole-first.gif").read_bytes() == (tmp_path / "docs" / "cartpole.gif").read_bytes()
    # The new card reproduces the chain through the kept name: `--init-from cartpole` now loads the new agent.
    command = "mario-zoo train --init-from cartpole-first --seed 1 --steps 300"
    assert published.entry.training.command == command
    card = published.card.read_text()
    assert "after a warm start from `cartpole-first`" in card
    assert "mario-zoo train --seed 0  # makes cartpole-first; the first\n" + command in card


def test_publishing_the_same_files_again_needs_no_kept_copy_for_the_agents_trained_from_them(tmp_path):
    import dataclasses

    first = _publish(tmp_path)  # e.g. to evaluate and card it again under new protocols
    heir = dataclasses.replace(first.entry.training, command="mario-zoo train --init-from cartpole --seed 2")
    read_registry(first.registry).with_entry(dataclasses.replace(first.entry, name="heir", training=heir)).write()
    again = _publish(tmp_path, episodes=3)
    assert again.entry.files == first.entry.files and again.kept is None
    assert read_registry(first.registry).get("heir").training.command == heir.command
    with pytest.raises(ValueError, match="agents heir were trained from 'cartpole'"):
        _publish(tmp_path, dtype="float16")  # other files: the heir would name them


def test_a_kept_agent_pinned_on_the_hub_keeps_its_repo_and_pin(tmp_path):
    import dataclasses

    registry = tmp_path / "zoo" / "registry.json"
    first = _publish(tmp_path)
    read_registry(registry).with_entry(dataclasses.replace(first.entry, revision="b" * 40)).write()
    with first.card.open("a") as card:
        card.write("\nOn the Hub: mario-zoo/cartpole (load cartpole, not cartpole-v2).\n")
    published = _publish(tmp_path, dtype="float16", keep_previous_as="cartpole-pinned")
    kept = read_registry(registry).get("cartpole-pinned")
    assert (kept.repo_id, kept.revision) == ("mario-zoo/cartpole", "b" * 40)
    assert published.entry.revision is None and published.entry.training.command == "mario-zoo train --seed 0"
    kept_card = (tmp_path / "cards" / "cartpole-pinned.md").read_text()
    assert "On the Hub: mario-zoo/cartpole (load cartpole-pinned, not cartpole-v2)." in kept_card


def test_a_checkpoints_command_names_its_warm_start(tmp_path):
    published = _publish(tmp_path, command="mario-zoo train --init-from dqn-CartPole-v1 --seed 5")
    assert "after a warm start from `dqn-CartPole-v1`" in published.card.read_text()


def test_rename_init_from_changes_only_that_option():
    from mario_zoo.zoo_keeping import rename_init_from

    assert (
        rename_init_from("mario-zoo train --init-from=a --seed 1", "a", "b") == "mario-zoo train --init-from=b --seed 1"
    )
    unchanged = "mario-zoo train --init-from ab --preset a  # a comment"
    assert rename_init_from(unchanged, "a", "b") == unchanged


def test_the_cards_episode_ends_say_how_many_left_by_a_warp_pipe():
    from mario_zoo.results import Evaluation
    from mario_zoo.zoo_cards import _episode_ends

    played = dict(env_id="MarioDQN-1-2-v0", env_kwargs={}, episode_rewards=[1.0] * 3, episode_lengths=[9] * 3)
    flags = dict(x_pos=[900, 2400, 3100], flags=[False, False, True], protocol="noop-sweep", noops=[0, 1, 2])
    counted = _episode_ends(Evaluation(**played, **flags, warps=[False, True, False]))
    assert "The flag in **1 of 3** episodes" in counted
    assert "left the level by a warp pipe in 1 of the 3 episodes" in counted
    none = _episode_ends(Evaluation(**played, **flags, warps=[False] * 3))
    assert "left the level by a warp pipe in 0 of the 3 episodes" in none  # 1-2 has a warp zone: none is news
    assert "warp" not in _episode_ends(Evaluation(**played, **flags))  # not counted then: nothing said
    on_1_1 = {**played, "env_id": "MarioDQN-1-1-v0"}
    assert "warp" not in _episode_ends(Evaluation(**on_1_1, **flags, warps=[False] * 3))  # no warp zone: noise


def _run_named(tmp_path, folder: str, init_from: str | None, seed: int):
    """A tiny CartPole run whose run.json says it started from ``init_from`` (what counts here, not the weights)."""
    from mario_zoo import training
    from mario_zoo.runs import RunFolder

    warm = ["--init-from", init_from] if init_from else []
    command = ["mario-zoo", "train", *warm, "--seed", str(seed), "--steps", "300", "--out", str(tmp_path / folder),
               "--no-progress"]  # fmt: skip
    config = training.plan_run(preset="cartpole-fast", steps=300, seed=seed, device="cpu", eval_episodes=0,
                               init_from=init_from, command=command)  # fmt: skip
    run = RunFolder(tmp_path / folder)
    training.train(run, config, training.build_model(config), progress=False)
    return run


def test_an_agent_warm_started_through_run_folders_lists_each_run_back_to_the_zoo(tmp_path, capsys):
    from mario_zoo.cli.zoo import _show
    from mario_zoo.zoo.registry import Registry

    first = _run_named(tmp_path, "first", CARTPOLE, seed=1)
    second = _run_named(tmp_path, "second", str(first.checkpoint), seed=2)
    last = _run_named(tmp_path, "last", str(second.model), seed=3)
    registry = tmp_path / "zoo" / "registry.json"
    zoo_agent = read_registry().get(CARTPOLE)
    Registry(registry, {CARTPOLE: zoo_agent}).write()  # the zoo agent the first run started from
    published = publish(
        last.path, "chained", episodes=1, replay=False, registry=registry, cards_dir=tmp_path / "cards",
        docs_dir=tmp_path / "docs",
    )  # fmt: skip
    training = published.entry.training
    assert [stage.agent for stage in training.warm_starts] == [str(first.checkpoint), str(second.model)]
    assert [stage.command for stage in training.warm_starts] == [
        f"mario-zoo train --init-from {CARTPOLE} --seed 1 --steps 300 --out {first.path.as_posix()}",
        f"mario-zoo train --init-from {first.checkpoint} --seed 2 --steps 300 --out {second.path.as_posix()}",
    ]
    assert [stage.total_timesteps for stage in training.warm_starts] == [
        DQN.load(first.checkpoint).num_timesteps, DQN.load(second.model).num_timesteps
    ]  # fmt: skip
    assert training.command == f"mario-zoo train --init-from {second.model} --seed 3 --steps 300"
    assert training.origin == CARTPOLE
    assert training.chain_timesteps == training.total_timesteps + sum(s.total_timesteps for s in training.warm_starts)
    assert read_registry(registry).get("chained") == published.entry, "the warm starts round-trip through JSON"
    # The card reproduces the chain: the zoo agent's own command, then each run, then the agent's command.
    card = published.card.read_text()
    lines = [*[s.reproduce_line for s in training.warm_starts], training.command]
    zoo_line = f"{zoo_agent.training.command}  # makes {CARTPOLE}"
    assert "\n".join(lines) in card and card.index(zoo_line) < card.index(lines[0])
    assert f"| with the 2 runs before it | {training.chain_timesteps:,} env steps" in card
    assert "\nmario-zoo zoo publish runs/<the run folder> --name chained\n" in card
    capsys.readouterr()
    assert _show(read_registry(registry), "chained", as_json=False) == 0
    out = capsys.readouterr().out
    assert f"  warm start  {lines[0]}" in out and f"  warm start  {lines[1]}" in out


def test_the_warm_start_walk_stops_where_the_weights_are_gone_or_outside_a_run(tmp_path):
    from mario_zoo.publishing import warm_start_stages

    first = _run_named(tmp_path, "first", None, seed=1)
    second = _run_named(tmp_path, "second", str(first.model), seed=2)
    assert [stage.agent for stage in warm_start_stages(str(second.model))] == [str(first.model), str(second.model)]
    assert warm_start_stages(str(SHIPPED)) == (), "a checkpoint outside any run says nothing of its training"
    first.config_file.unlink()  # the first run is gone: the chain starts at the second
    assert [stage.agent for stage in warm_start_stages(str(second.model))] == [str(second.model)]
    assert warm_start_stages(str(tmp_path / "nowhere")) == ()


def test_the_warm_start_walk_reads_relative_paths_whole_run_folders_and_stops_at_runs_it_cannot_reproduce(
    tmp_path, monkeypatch
):
    import os

    from mario_zoo import training
    from mario_zoo.publishing import warm_start_stages

    monkeypatch.chdir(tmp_path)
    first = _run_named(Path("."), "first", None, seed=1)
    second = _run_named(Path("."), "second", "first", seed=2)  # the whole run folder: its final model
    stages = warm_start_stages("second/model")
    assert [(stage.agent, stage.command) for stage in stages] == [
        ("first", "mario-zoo train --seed 1 --steps 300 --out first"),
        ("second/model", "mario-zoo train --init-from first --seed 2 --steps 300 --out second"),
    ]
    assert stages[0].total_timesteps == DQN.load(first.model).num_timesteps
    # The folder trained on after the second run started from it: which weights it took is no longer known.
    later = datetime.fromisoformat(second.read_config().created).timestamp() + 60
    os.utime(first.model / "config.json", (later, later))
    assert [stage.agent for stage in warm_start_stages("second/model")] == ["second/model"]
    # A run started from Python records no command line to reproduce it.
    config = training.plan_run(preset="cartpole-fast", steps=300, seed=4, device="cpu", eval_episodes=0, command=[])
    python_run = RunFolder(tmp_path / "python")
    training.train(python_run, config, training.build_model(config), progress=False)
    assert warm_start_stages("python/model") == ()


@pytest.mark.parametrize(
    ("warm_starts", "message"),
    [
        ({"agent": "runs/a"}, "warm_starts must be a list of at most 16 runs"),
        ([{"agent": "runs/a"}], r"warm_starts\[0\]: missing keys \['command', 'total_timesteps'"),
        (
            [{"agent": "runs/a", "command": "rm -rf /", "total_timesteps": 1, "wall_time_seconds": None}],
            "must be a `mario-zoo train ...` command line",
        ),
        (
            [{"agent": "a", "command": "mario-zoo trainer", "total_timesteps": 1, "wall_time_seconds": None}],
            "command line",
        ),
        (
            [{"agent": "a", "command": "mario-zoo train 'x", "total_timesteps": 1, "wall_time_seconds": None}],
            "command line",
        ),
        (
            [{"agent": "a", "command": "mario-zoo train", "total_timesteps": 1, "wall_time_seconds": float("inf")}],
            "finite",
        ),
        (
            [
                {
                    "agent": "runs/a/model",
                    "command": "mario-zoo train --out runs/a",
                    "total_timesteps": 1,
                    "wall_time_seconds": 9,
                }
            ],
            "it makes 'runs/a/model', but the next command starts from None",
        ),
        ([{"agent": "", "command": "mario-zoo train", "total_timesteps": 1, "wall_time_seconds": None}], "agent"),
        (
            [{"agent": "a", "command": "mario-zoo train", "total_timesteps": -1, "wall_time_seconds": None}],
            "an int >= 0",
        ),
        (
            [{"agent": "a", "command": "mario-zoo train", "total_timesteps": True, "wall_time_seconds": 1}],
            "an int >= 0",
        ),
        ([{"agent": "a", "command": "mario-zoo train", "total_timesteps": 1, "wall_time_seconds": "1h"}], "seconds"),
    ],
)
def test_a_registry_with_bad_warm_starts_is_refused_naming_the_entry(tmp_path, warm_starts, message):
    import json

    data = json.loads(read_registry().path.read_text())
    data["agents"][CARTPOLE]["training"]["warm_starts"] = warm_starts
    path = tmp_path / "registry.json"
    path.write_text(json.dumps(data))
    with pytest.raises(ValueError, match=f"{CARTPOLE}.training(: |.)warm_starts") as error:
        read_registry(path)
    assert re.search(message, str(error.value))


def test_keeping_a_replaced_agent_renames_the_first_command_of_a_chain_through_runs():
    import dataclasses

    from mario_zoo.zoo.registry import WarmStart
    from mario_zoo.zoo_keeping import rename_origin

    stage = WarmStart("runs/a/model", "mario-zoo train --init-from cartpole --out runs/a", 300, None)
    training = dataclasses.replace(
        read_registry().get(CARTPOLE).training, command="mario-zoo train --init-from runs/a/model", warm_starts=(stage,)
    )
    renamed = rename_origin(training, "cartpole", "cartpole-first")
    assert renamed.origin == "cartpole-first" and renamed.command == training.command
    assert renamed.warm_starts[0].command == "mario-zoo train --init-from cartpole-first --out runs/a"


def test_the_world_table_and_the_cards_heading_count_the_runs_of_a_chain(tmp_path):
    import dataclasses

    from mario_zoo.cli.zoo import world_table
    from mario_zoo.zoo.registry import Registry, WarmStart
    from mario_zoo.zoo_cards import _chain_heading

    mario = read_registry().get("dqn-MarioDQN-1-1-v0")
    stage = WarmStart("runs/a/model", "mario-zoo train --seed 0 --out runs/a", 500_000, 7200.0)
    command = "mario-zoo train --init-from runs/a/model --seed 1"
    training = dataclasses.replace(mario.training, command=command, wall_time_seconds=3600.0, warm_starts=(stage,))
    zoo = Registry(tmp_path / "registry.json", {"solo": dataclasses.replace(mario, name="solo", training=training)})
    lines = world_table(zoo)
    row = next(line for line in lines if "solo" in line)
    assert lines[-1].endswith("solo: solo (through 1 run).")
    assert f"{training.total_timesteps + 500_000:,}" in row and row.endswith(" 3.0")
    assert _chain_heading(training.commands) == " (the whole chain of warm starts, from scratch)"
    assert "its first command starts from `runs/b`, whose training is not recorded here" in _chain_heading(
        ["mario-zoo train --init-from runs/b --out runs/a", "mario-zoo train --init-from runs/a/model"]
    )
    assert _chain_heading(["mario-zoo train"]) == ""


def test_the_training_command_names_a_resume_only_for_agents_it_made():
    """A snapshot taken before the command's own target owes nothing to a later --resume --steps; argparse's
    prefix of --steps counts as --steps."""
    from mario_zoo.publishing import run_training_command
    from mario_zoo.runs import RunConfig

    settings = RunConfig(env_id="CartPole-v1", preset="cartpole-fast", policy="MlpPolicy", total_timesteps=2500,
                         seed=0, command=["mario-zoo", "train", "--step", "1500"])  # fmt: skip
    assert (
        run_training_command(settings, 500)
        == "mario-zoo train --step 1500    # how it was trained; this agent: step 500"
    )
    assert run_training_command(settings, 2000) == (
        "mario-zoo train --step 1500    # how it was trained, then --resume RUN --steps 2500; this agent: step 2,000"
    )
    assert (
        run_training_command(dataclasses.replace(settings, total_timesteps=1500), 1536) == "mario-zoo train --step 1500"
    )
