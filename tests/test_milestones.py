"""Time to clear: the first evaluation at a flag rate, its env steps and wall hours, with a warm start's offset."""

from __future__ import annotations

import pytest

from mario_zoo.milestones import flag_curve, time_to_clear
from mario_zoo.runs import EvaluationPoint, RunFolder, write_evaluations


def _run(tmp_path, rates, *, steps_per_eval=50_000, seconds_per_1k=10.0, name="run"):
    run = RunFolder(tmp_path / name)
    run.path.mkdir()
    total = steps_per_eval * len(rates)
    rows = "".join(f"1,1000,{seconds_per_1k * k}\n" for k in range(1, total // 1000 + 1))
    run.monitor.write_text('#{"t_start": 0}\nr,l,t\n' + rows)
    points = [
        EvaluationPoint(
            timesteps=steps_per_eval * (k + 1),
            n_eval_episodes=31,
            mean_reward=0.0,
            std_reward=0.0,
            flag_rate=rate,
            x_pos_mean=1000.0 + k,
            x_pos_max=3000,
        )
        for k, rate in enumerate(rates)
    ]
    write_evaluations(run.evaluations, points)
    return run


def test_each_milestone_is_the_first_evaluation_at_or_above_its_rate(tmp_path):
    run = _run(tmp_path, [0.0, 16 / 31, 10 / 31, 28 / 31, 1.0])
    half, most = time_to_clear(run)
    assert half.reached and half.timesteps == 100_000 and half.flag_rate == 16 / 31
    assert half.wall_hours == pytest.approx(100 * 10.0 / 3600)
    assert most.timesteps == 200_000 and most.wall_hours == pytest.approx(200 * 10.0 / 3600)
    assert "200,000 env steps, 0.56 h (90% then)" in most.describe()


def test_a_rate_never_reached_says_how_far_the_run_got_and_its_best(tmp_path):
    run = _run(tmp_path, [0.1, 0.6, 0.3])
    (only,) = time_to_clear(run, rates=[0.9])
    assert not only.reached and only.timesteps is None and only.wall_hours is None
    assert only.evaluated_steps == 150_000 and only.best.flag_rate == 0.6
    assert only.describe() == "90%: not reached in 150,000 env steps (best 60% at 100,000)"


def test_a_warm_start_counts_from_scratch_with_the_earlier_runs_offsets(tmp_path):
    run = _run(tmp_path, [0.0, 0.5])
    (half,) = time_to_clear(run, rates=[0.5], offset_steps=650_000, offset_seconds=3600.0)
    assert half.timesteps == 750_000 and half.wall_hours == pytest.approx(1 + 100 * 10.0 / 3600)
    assert flag_curve(run, offset_steps=650_000)[-1].startswith("| 750,000 | ")


@pytest.mark.parametrize("rate", [0, 1.5, -0.1, True, "half"])
def test_a_rate_outside_zero_to_one_is_refused(tmp_path, rate):
    with pytest.raises(ValueError, match="Flag rates must be in"):
        time_to_clear(_run(tmp_path, [0.5]), rates=[rate])


def test_a_run_without_evaluations_or_flags_says_what_to_do(tmp_path):
    run = RunFolder(tmp_path / "bare")
    run.path.mkdir()
    with pytest.raises(ValueError, match="--eval-freq"):
        time_to_clear(run)
    write_evaluations(
        run.evaluations, [EvaluationPoint(timesteps=1000, n_eval_episodes=5, mean_reward=200.0, std_reward=1.0)]
    )
    with pytest.raises(ValueError, match="for Mario runs"):
        time_to_clear(run)


def test_a_mario_card_shows_the_runs_time_to_clear(tmp_path):
    from types import SimpleNamespace

    from mario_zoo.runs import RunConfig
    from mario_zoo.zoo_cards import _time_to_clear_section

    run = _run(tmp_path, [0.0, 0.6, 0.95])
    run.write_config(
        RunConfig(env_id="MarioDQN-1-1-v0", preset="mario-1-1", policy="CnnPolicy", total_timesteps=1, seed=0)
    )
    section = _time_to_clear_section(run, SimpleNamespace(flags=[True, False]), None)
    assert section.startswith("## Time to clear") and "from scratch" in section
    warm = _time_to_clear_section(run, SimpleNamespace(flags=[True, False]), "dqn-a")
    assert "since its warm start from `dqn-a`" in warm
    assert "| 100,000 | 0.28 | 60% | 1,001 |" in section
    assert "- 50%: 100,000 env steps, 0.28 h (60% then)" in section and "- 90%: 150,000 env steps" in section
    # Not Mario (no flags), or no evaluations: no section.
    assert _time_to_clear_section(run, SimpleNamespace(flags=None), None) is None
    assert _time_to_clear_section(None, SimpleNamespace(flags=[True]), None) is None


def test_a_chain_of_runs_is_timed_from_scratch_each_earlier_run_up_to_where_the_next_started(tmp_path):
    first = _run(tmp_path, [0.0, 0.6, 0.95], name="first")  # its 150k evaluation came after the warm start
    second = _run(tmp_path, [0.6, 0.8, 0.92], seconds_per_1k=20.0, name="second")
    half, most = time_to_clear(second, through=[(first, 100_000)])
    assert (half.timesteps, half.wall_hours) == (100_000, pytest.approx(100 * 10.0 / 3600))
    assert most.timesteps == 100_000 + 150_000 and most.flag_rate == 0.92
    assert most.wall_hours == pytest.approx((100 * 10.0 + 150 * 20.0) / 3600)
    assert flag_curve(second, through=[(first, 100_000)])[2:] == [
        "| 50,000 | 0.14 | 0% | 1,000 |",
        "| 100,000 | 0.28 | 60% | 1,001 |",
        "| 150,000 | 0.56 | 60% | 1,000 |",
        "| 200,000 | 0.83 | 80% | 1,001 |",
        "| 250,000 | 1.11 | 92% | 1,002 |",
    ]
    (never,) = time_to_clear(second, rates=[1.0], through=[(first, 100_000)])
    assert never.describe() == "100%: not reached in 250,000 env steps (best 92% at 250,000)"
    second.evaluations.unlink()  # the last run is not evaluated: the earlier ones cannot stand for it
    with pytest.raises(ValueError, match="--eval-freq"):
        time_to_clear(second, through=[(first, 100_000)])


def test_a_mario_card_times_a_chain_of_warm_starts_through_run_folders_from_scratch(tmp_path):
    from types import SimpleNamespace

    from mario_zoo.runs import RunConfig
    from mario_zoo.zoo.registry import Training, WarmStart
    from mario_zoo.zoo_cards import _time_to_clear_section

    first = _run(tmp_path, [0.0, 0.6, 0.95], name="first")
    second = _run(tmp_path, [0.6, 0.92], name="second")
    for run in (first, second):
        run.write_config(
            RunConfig(env_id="MarioDQN-1-1-v0", preset="mario-1-1", policy="CnnPolicy", total_timesteps=1, seed=0)
        )
    snapshot = first.path / "snapshots" / "step-000100000"
    snapshot.mkdir(parents=True)
    agent = snapshot.as_posix()

    def training(origin=""):
        stage = WarmStart(agent, f"mario-zoo train {origin}--seed 0 --out {first.path}", 100_000, 1000.0)
        command = f"mario-zoo train --init-from {agent} --seed 1"
        return Training("mario-1-1", 1, 100_000, 1000.0, "x86_64 CPU, 2 cores", command, (stage,))

    flags = SimpleNamespace(flags=[True])
    section = _time_to_clear_section(second, flags, agent, training())
    assert "of the 2 runs of its chain, from scratch" in section and "| 150,000 | 0.42 | 60% | 1,000 |" in section
    assert "- 90%: 200,000 env steps, 0.56 h (92% then)" in section
    from_zoo = _time_to_clear_section(second, flags, agent, training("--init-from dqn-a "))
    assert "of the 2 runs of its chain, since its warm start from `dqn-a`" in from_zoo
    # An earlier run that is gone: the card times the agent's own run, from its warm start.
    snapshot.rmdir()
    alone = _time_to_clear_section(second, flags, agent, training())
    assert f"The run's periodic evaluations, since its warm start from `{agent}`" in alone
    assert "- 90%: 100,000 env steps" in alone
