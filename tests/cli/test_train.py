"""`mario-zoo train`: the run folder it writes, its progress bar, presets and overrides."""

from __future__ import annotations

import csv
import json
import shutil

import imageio.v3 as iio
import pytest

from mario_zoo.agents import DQN
from mario_zoo.plotting import FIGURE_PIXELS
from mario_zoo.runs import open_run, read_evaluations


def test_train_writes_a_complete_run_folder(trained_run):
    steps = trained_run.steps
    run = open_run(trained_run.path)
    config = run.read_config()
    assert (config.status, config.total_timesteps, config.preset, config.env_id) == (
        "finished",
        steps,
        "cartpole-fast",
        "CartPole-v1",
    )
    assert config.hyperparameters.learning_starts == 100 and config.overrides == {"learning_starts": 100}

    model = DQN.load(run.model)
    # Like SB3's, DQN.learn finishes its last train_freq round: it may end a little past the target.
    done = model.num_timesteps
    assert steps <= done < steps + model.train_freq and model.learning_starts == 100
    assert DQN.load(run.checkpoint).num_timesteps == done

    with run.progress.open() as stream:
        rows = list(csv.DictReader(stream))
    assert len(rows) >= 3 and "rollout/ep_rew_mean" in rows[0]
    assert int(rows[-1]["time/total_timesteps"]) <= done
    assert [int(row["time/total_timesteps"]) for row in rows] == sorted(
        int(row["time/total_timesteps"]) for row in rows
    )
    episodes = run.episodes()
    assert episodes.returns.size >= 10 and episodes.steps[-1] <= done
    assert any(path.name.startswith("events.out.tfevents") for path in run.tensorboard.iterdir())

    results = json.loads(run.results.read_text())
    assert results["n_eval_episodes"] == 2 and len(results["episode_rewards"]) == 2
    assert results["num_timesteps"] == done

    width, height = FIGURE_PIXELS
    assert iio.imread(run.learning_curve).shape[:2] == (height, width)


def test_train_shows_a_progress_bar_and_says_where_files_went(trained_run):
    err, out = trained_run.result.err, trained_run.result.out
    done = DQN.load(trained_run.path / "model").num_timesteps
    assert f"{done}/{done} [" in err  # the bar ends full
    for field in ("episodes=", "return_100=", "epsilon=", "step/s"):
        assert field in err
    assert "Final evaluation: CartPole-v1: mean return" in out
    for name in ("model", "learning_curve.png", "results.json", "progress.csv", "checkpoint.zip"):
        assert name in out


def test_default_run_folder_is_named_by_env_algo_seed_and_time(cli, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    result = cli("train", "--steps", 200, "--seed", 3, "--eval-episodes", 0, "--no-progress")
    assert result.code == 0, result.err
    (run,) = (tmp_path / "runs").iterdir()
    assert run.name.startswith("CartPole-v1_dqn_s3_") and len(run.name) == len("CartPole-v1_dqn_s3_20250101-120000")
    assert not (run / "results.json").exists()  # --eval-episodes 0
    assert open_run(run).read_config().seed == 3


def test_env_kwargs_and_policy_kwargs_reach_the_model(cli, tmp_path):
    result = cli(
        "train", "--steps", 150, "--eval-episodes", 0, "--no-progress", "--out", tmp_path / "run",
        "--hp", "policy_kwargs={net_arch: [16]}", "batch_size=16", "--env-kwargs", "max_episode_steps=50",
    )  # fmt: skip
    assert result.code == 0, result.err
    run = open_run(tmp_path / "run")
    model = DQN.load(run.model)
    assert model.policy_kwargs["net_arch"] == [16] and model.batch_size == 16
    assert run.episodes().lengths.max() <= 50


def test_eval_freq_evaluates_periodically_and_keeps_the_best_model(cli, tmp_path):
    result = cli(
        "train", "--steps", 600, "--hp", "learning_starts=100", "--eval-freq", 200, "--eval-episodes", 2,
        "--out", tmp_path / "run",
    )  # fmt: skip
    assert result.code == 0, result.err
    run = open_run(tmp_path / "run")
    assert run.read_config().eval_freq == 200
    points = read_evaluations(run.evaluations)
    assert [point.timesteps for point in points] == [200, 400, 600]
    assert all(point.n_eval_episodes == 2 for point in points)

    # best_model/ is a checkpoint of the first evaluation with the highest mean return.
    best = max(points, key=lambda point: point.mean_reward)
    assert DQN.load(run.best_model).num_timesteps == best.timesteps
    assert [path.name for path in run.path.rglob("*") if path.name.startswith(".") or ".tmp" in path.name] == []

    with run.progress.open() as stream:
        rows = [row for row in csv.DictReader(stream) if row["eval/mean_reward"]]
    assert [int(row["time/total_timesteps"]) for row in rows] == [200, 400, 600]
    assert "eval_return=" in result.err  # the progress bar's postfix
    assert "best model" in result.out

    width, height = FIGURE_PIXELS
    assert iio.imread(run.learning_curve).shape[:2] == (height, width)


def test_eval_protocol_is_kept_in_run_json_and_used_by_every_evaluation(cli, tmp_path):
    result = cli(
        "train", "--steps", 300, "--hp", "learning_starts=100", "--eval-freq", 300, "--eval-episodes", 2,
        "--eval-protocol", "nature", "--out", tmp_path / "run",
    )  # fmt: skip
    assert result.code == 0, result.err
    run = open_run(tmp_path / "run")
    assert run.read_config().eval_protocol == "nature"
    results = json.loads(run.results.read_text())
    assert (results["protocol"], results["epsilon"], results["n_eval_episodes"]) == ("nature", 0.05, 2)


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--eval-protocol", "exact"], "Unknown evaluation protocol 'exact'; valid choices are:"),
        (["--eval-protocol", "noop-sweep"], "CartPole-v1 has no no-op starts. Use --protocol episodes"),
    ],
)
def test_a_bad_eval_protocol_is_refused_before_the_run_folder_is_made(cli, tmp_path, args, message):
    result = cli("train", "--steps", 200, "--eval-freq", 100, *args, "--out", tmp_path / "run")
    assert result.code == 2 and message in result.err
    assert not (tmp_path / "run").exists()


def test_a_run_json_with_an_unknown_eval_protocol_is_damaged():
    from mario_zoo.runs import RunConfig

    data = {"env_id": "CartPole-v1", "preset": "cartpole-fast", "policy": "MlpPolicy", "total_timesteps": 10,
            "seed": 0, "format_version": 1, "eval_protocol": "bogus"}  # fmt: skip
    with pytest.raises(ValueError, match=r"run\.json has an invalid eval_protocol: expected null or one of"):
        RunConfig.from_dict(data)


def test_eval_freq_needs_evaluation_episodes(cli, tmp_path):
    result = cli("train", "--steps", 200, "--eval-freq", 100, "--eval-episodes", 0, "--out", tmp_path / "run")
    assert result.code == 2
    assert "--eval-freq 100 evaluates over --eval-episodes episodes, which is 0" in result.err
    assert not (tmp_path / "run").exists()


@pytest.mark.parametrize("actors", [1, 2])
def test_train_with_actor_processes_writes_the_same_run_folder(cli, tmp_path, actors):
    result = cli(
        "train", "--steps", 400, "--hp", "learning_starts=100", f"actors={actors}", f"gradient_steps={actors}",
        "--eval-episodes", 0, "--no-progress", "--out", tmp_path / "run",
    )  # fmt: skip
    assert result.code == 0, result.err
    run = open_run(tmp_path / "run")
    model = DQN.load(run.model)
    assert model.actors == actors and 400 <= model.num_timesteps < 400 + model.train_freq * actors
    # The learner wrote monitor.csv (the actors' Monitors write none: several would overwrite each other's rows):
    # one header, then every episode the learner counted, each intact (CartPole pays 1 per step).
    episodes = run.episodes()
    assert run.monitor.read_text().count("#{") == 1
    assert episodes.returns.size == model._episode_num >= 10 and episodes.steps[-1] <= model.num_timesteps
    assert episodes.returns.tolist() == episodes.lengths.astype(float).tolist()
    # On one clock: in time order, so the run's wall time is its last row's (several clocks read as restarts).
    times = [float(row.split(",")[2]) for row in run.monitor.read_text().splitlines()[2:]]
    assert times == sorted(times) and run.wall_seconds() == times[-1]
    with run.progress.open() as stream:
        assert int(list(csv.DictReader(stream))[-1]["time/total_timesteps"]) <= model.num_timesteps


def test_the_mario_preset_trains_with_an_actor_on_two_cores(monkeypatch):
    from mario_zoo import planning

    for cores, actors in ((2, 1), (1, 0)):
        monkeypatch.setattr(planning.os, "process_cpu_count", lambda cores=cores: cores)
        assert planning.plan_run(preset="mario").hyperparameters.actors == actors
    assert planning.plan_run(preset="mario", overrides={"actors": 0}).hyperparameters.actors == 0
    monkeypatch.setattr(planning.os, "process_cpu_count", lambda: 2)
    assert planning.plan_run(preset="cartpole-fast").hyperparameters.actors == 0


def test_the_summary_lists_only_the_files_the_run_wrote(cli, tmp_path, monkeypatch, capsys):
    import mario_zoo.plotting
    from mario_zoo.cli import train as train_verb
    from mario_zoo.runs import open_run
    from mario_zoo.training import TrainingOutcome

    result = cli("train", "--steps", 300, "--eval-episodes", 0, "--no-progress", "--out", tmp_path / "run")
    assert result.code == 0, result.err
    run = open_run(tmp_path / "run")
    run.learning_curve.unlink()  # as when matplotlib is missing, and tensorboard too
    shutil.rmtree(run.tensorboard)
    monkeypatch.setattr(mario_zoo.plotting, "installed", lambda module: module != "matplotlib")
    capsys.readouterr()
    train_verb._report(TrainingOutcome(run, 300, 0, 1.0, None))
    out = capsys.readouterr().out
    assert str(run.learning_curve) not in out and "tensorboard/" not in out
    assert "learning curve   not drawn (matplotlib is missing: pip install 'mario-zoo[plot]'" in out
