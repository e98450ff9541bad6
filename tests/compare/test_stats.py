"""The statistics of a comparison: steady numbers per run, bootstrap intervals, permutation tests, verdicts."""

from __future__ import annotations

import statistics

import pytest

from mario_zoo.compare import RunResult, bootstrap_interval, permutation_test
from mario_zoo.compare.results import AlgorithmSummary, differences
from mario_zoo.compare.stats import compare_means
from mario_zoo.results import Evaluation
from mario_zoo.runs import EvaluationPoint

FINAL = Evaluation(env_id="CartPole-v1", env_kwargs={}, episode_rewards=[0.0], episode_lengths=[9])


def _point(steps: int, mean: float) -> EvaluationPoint:
    return EvaluationPoint(timesteps=steps, n_eval_episodes=10, mean_reward=mean, std_reward=0.0)


def _run(algorithm: str, means: list[float]) -> RunResult:
    """A run whose curve has ``means`` as periodic evaluations, then a final one of 0 (which steady numbers skip)."""
    curve = [_point(1000 * (index + 1), mean) for index, mean in enumerate(means)]
    return RunResult(algorithm, 0, 1000 * len(means), 1.0, 2**20, [*curve, _point(1000 * len(means), 0.0)], FINAL)


def test_the_steady_return_averages_the_last_periodic_evaluations_not_the_final_one():
    run = _run("sb3", [100.0, 500.0, 300.0, 500.0])
    assert run.steady_return(2) == 400.0
    assert run.steady_return(10) == 350.0, "fewer evaluations than asked: all of them"
    assert run.share_reaching(475.0) == 0.5


def test_without_periodic_evaluations_the_final_one_counts():
    run = RunResult("sb3", 0, 10, 1.0, 0, [_point(10, 7.0)], FINAL)
    assert (run.steady_return(5), run.share_reaching(5.0)) == (7.0, 1.0)


def test_the_bootstrap_interval_holds_the_mean_narrows_with_more_seeds_and_is_reproducible():
    few = [400.0, 500.0, 450.0, 480.0]
    low, high = bootstrap_interval(few)
    assert low < statistics.fmean(few) < high and bootstrap_interval(few) == (low, high)
    many_low, many_high = bootstrap_interval(few * 10)
    assert many_high - many_low < high - low
    assert bootstrap_interval([5.0, 5.0, 5.0]) == (5.0, 5.0)


def test_one_value_has_no_bootstrap_interval_and_a_one_seed_report_says_so():
    assert bootstrap_interval([5.0]) is None and bootstrap_interval([]) is None
    summary = AlgorithmSummary.of("sb3", [_run("sb3", [400.0])], 475.0, 5)
    assert (summary.steady_interval, summary.share_interval) == (None, None)
    assert summary.to_dict()["steady_interval"] is None


def test_unequal_groups_count_differences_as_far_apart_either_way():
    # Pooled 0, 0, 0, 0, 4 split 2 + 3: the 4 splits with 4 in the pair differ by 2 - 0 = 2, the 6 without by
    # |0 - 4/3|: only the first 4 are as far apart as observed.
    assert permutation_test([4.0, 0.0], [0.0, 0.0, 0.0]) == (0.4, 10, True)


def test_one_seed_per_library_is_not_tested():
    with pytest.raises(ValueError, match="at least two values in each group, got 1 and 3"):
        permutation_test([3.0], [0.0, 0.0, 0.0])
    one = AlgorithmSummary.of("sb3", [_run("sb3", [400.0])], 475.0, 5)
    assert differences(one, one) == []


def test_the_permutation_test_is_exact_for_few_seeds_and_sampled_for_many():
    assert permutation_test([1.0, 2.0, 3.0], [1.0, 2.0, 3.0]) == (1.0, 20, True)
    # 4 against 4 completely separated: 2 of the 70 splits are as extreme (two-sided).
    p_value, splits, exact = permutation_test([10.0, 11.0, 12.0, 13.0], [0.0, 1.0, 2.0, 3.0])
    assert (splits, exact) == (70, True) and p_value == pytest.approx(2 / 70)
    p_value, splits, exact = permutation_test([500.0 + i for i in range(20)], [100.0 + i for i in range(20)])
    assert (splits, exact) == (10_000, False) and p_value == pytest.approx(1 / 10_001)


def test_three_of_ten_against_seven_of_ten_is_no_significant_difference():
    # RESULTS.md's CartPole headline: solved at the final snapshot by 3/10 of our seeds and 7/10 of SB3's.
    ours, theirs = [1.0] * 3 + [0.0] * 7, [1.0] * 7 + [0.0] * 3
    difference = compare_means("seeds solved", ours, theirs, share=True)
    assert 0.1 < difference.p_value < 0.3 and not difference.significant
    assert difference.sentence().startswith("seeds solved: mario_zoo DQN 30%, SB3 DQN 70% (difference -40 points)")
    assert difference.sentence().endswith("no significant difference (p >= 0.05).")


def test_clearly_different_libraries_are_called_significant():
    difference = compare_means(
        "steady return", [480.0, 490.0, 500.0, 495.0, 485.0], [200.0, 210.0, 190.0, 220.0, 205.0]
    )
    assert difference.significant and difference.difference > 250
    assert "significant difference (p < 0.05)" in difference.sentence()


def test_a_summary_tests_the_steady_return_and_the_share_at_the_threshold():
    ours = AlgorithmSummary.of(
        "mario_zoo", [_run("mario_zoo", [500.0, 480.0]), _run("mario_zoo", [300.0, 500.0])], 475.0, 2
    )
    theirs = AlgorithmSummary.of("sb3", [_run("sb3", [100.0, 200.0]), _run("sb3", [500.0, 100.0])], 475.0, 2)
    assert ours.steady_returns == [490.0, 400.0] and ours.threshold_shares == [1.0, 0.5]
    assert [difference.statistic for difference in differences(ours, theirs)] == [
        "steady return",
        "share of evaluations at the threshold",
    ]
    data = ours.to_dict()
    assert data["steady_mean"] == 445.0 and data["share_mean"] == 0.75 and len(data["steady_interval"]) == 2
    assert AlgorithmSummary.of("sb3", [_run("sb3", [1.0])], None, 5).share_interval is None
