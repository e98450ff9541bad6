"""python -m mario_zoo.zoo.publish: what it writes, what it keeps, and what it refuses."""

from __future__ import annotations

import json

import pytest

from mario_zoo.agents import DQN
from mario_zoo.evaluation import Evaluation
from mario_zoo.hub._files import sha256_of
from mario_zoo.hub.evaluation import EvaluationResult
from mario_zoo.zoo import load_pretrained, read_registry
from mario_zoo.zoo.publish import _card, _monitor_seconds, main, publish, reproduce_command
from mario_zoo.zoo.registry import Training

from .conftest import CARTPOLE

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
    assert "![cartpole playing CartPole-v1](../docs/cartpole.gif)" in card
    assert "float16 weights" in card and "mario-zoo train --seed 0" in card


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
    code = main([str(SHIPPED), "--name", "../evil", "--registry", str(tmp_path / "r.json")])
    err = capsys.readouterr().err
    assert code == 2 and "'../evil' is not a zoo name" in err and len(err.strip().splitlines()) == 1
    assert not (tmp_path / "r.json").exists()


def test_a_mario_card_reports_the_flag_rate_and_how_far_the_episodes_got(tmp_path):
    x_pos, flags = [434, 723, 1409, 3161], [False, False, False, True]
    result = EvaluationResult(
        env_id="MarioDQN-v0", env_kwargs={"noop_max": 30}, mean_reward=1.0, std_reward=0.5, n_eval_episodes=4,
        deterministic=True, episode_rewards=[0.5, 0.5, 1.5, 1.5], episode_lengths=[10, 20, 30, 40],
    )  # fmt: skip
    training = Training(
        preset="mario", seed=0, total_timesteps=1000, wall_time_seconds=60.0, hardware="a CPU", command="mario-zoo t"
    )
    card = _card(
        "mario", "mario-zoo/mario", _shipped_config(), Evaluation(result, None, x_pos=x_pos, flags=flags),
        training, None, tmp_path, "float16", True,
    ).text  # fmt: skip
    assert "The flag was reached in **1 of 4 episodes (25%)**." in card
    assert "min 434, quartiles 651 / 1066 / 1847, max 3161, mean 1431.8." in card
    assert "| 0-499 | 1 | 0 |\n| 500-999 | 1 | 0 |\n| 1000-1499 | 1 | 0 |" in card
    assert "| 3000-3499 | 1 | 1 |" in card


def _shipped_config():
    return json.loads((SHIPPED / "config.json").read_text())
