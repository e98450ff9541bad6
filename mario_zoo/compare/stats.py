"""The statistics of a comparison: a steady number per run, intervals per library, a test of the difference.

One final snapshot says little: CartPole agents of both libraries flip between "solved" and "not solved" from one
periodic evaluation to the next, and 3 of 10 seeds against 7 of 10 is well within chance (Fisher's exact test:
p = 0.18). So a comparison reports, per run, a steady statistic (the mean return of its last K periodic
evaluations; the share of its evaluations that reached the threshold), per library a 95% bootstrap interval of
their mean over seeds, and for the difference between the libraries a two-sided permutation test, saying "no
significant difference" when p >= 0.05. Both come from scipy.stats (``bootstrap``, ``permutation_test``), seeded,
so the same runs give the same report. Sweeps' seed matrices use the same :func:`bootstrap_interval`.

Example:
    >>> ours, theirs = [480.0, 500.0, 470.0, 495.0], [490.0, 460.0, 500.0, 485.0]
    >>> low, high = bootstrap_interval(ours)
    >>> low <= sum(ours) / 4 <= high
    True
    >>> print(compare_means("steady return", ours, theirs).sentence())
    steady return: mario_zoo DQN 486.2, SB3 DQN 483.8 (difference +2.5); exact permutation test over 70 splits, p = 0.91: no significant difference (p >= 0.05).
"""

from __future__ import annotations

import dataclasses
import math
import statistics
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np
import scipy.stats

if TYPE_CHECKING:
    from mario_zoo.compare.running import RunResult

SIGNIFICANCE = 0.05
"""A difference is called significant when the test's p-value is below this."""

CONFIDENCE = 0.95
"""Coverage of the bootstrap intervals."""

RESAMPLES = 10_000
"""Bootstrap resamples, and random splits of a permutation test too large to enumerate."""

MAX_EXACT_SPLITS = 20_000
"""A permutation test enumerates every split of the pooled values up to this many; beyond, it samples."""

STATS_SEED = 0
"""Seed of the resampling, so a report is reproducible."""


def bootstrap_interval(values: Sequence[float], confidence: float = CONFIDENCE) -> tuple[float, float] | None:
    """Percentile bootstrap interval of the mean of ``values`` (``RESAMPLES`` resamples, seeded), or ``None`` for
    fewer than two values: resampling one value says nothing about its spread.

    Example:
        >>> bootstrap_interval([480.0, 500.0, 470.0, 495.0])
        (475.0, 497.5)
        >>> bootstrap_interval([3.0]) is None
        True
    """
    if not 0.0 < confidence < 1.0:
        raise ValueError(f"confidence must be in (0, 1), got {confidence!r}.")
    if len(values) < 2:
        return None
    # Percentile, not scipy's default BCa: BCa is undefined (NaN) when every seed gave the same value, as shares
    # of evaluations often do (all 0 or all 1).
    result = scipy.stats.bootstrap(
        (np.asarray(values, dtype=float),),
        np.mean,
        confidence_level=confidence,
        n_resamples=RESAMPLES,
        method="percentile",
        rng=np.random.default_rng(STATS_SEED),
    )
    return float(result.confidence_interval.low), float(result.confidence_interval.high)


def _mean_distance(first: np.ndarray, second: np.ndarray, axis: int) -> np.ndarray:
    return np.abs(first.mean(axis=axis) - second.mean(axis=axis))


def permutation_test(a: Sequence[float], b: Sequence[float]) -> tuple[float, int, bool]:
    """Two-sided permutation test of ``mean(a) == mean(b)``: the share of splits of the pooled values into groups
    of ``len(a)`` and ``len(b)`` whose difference of means is at least as large as the observed one.

    Returns ``(p_value, splits, exact)``: every split is enumerated when there are at most ``MAX_EXACT_SPLITS``,
    else ``RESAMPLES`` random ones are drawn (seeded; the observed split counts, so p > 0). The statistic is the
    absolute difference of means, so "two-sided" means "as far apart, either way", also for unequal group sizes.

    Example:
        >>> permutation_test([1.0, 2.0], [1.0, 2.0])
        (1.0, 6, True)
        >>> round(permutation_test([10.0, 11.0, 12.0, 13.0], [0.0, 1.0, 2.0, 3.0])[0], 4)
        0.0286
    """
    first, second = np.asarray(a, dtype=float), np.asarray(b, dtype=float)
    if first.size < 2 or second.size < 2:
        raise ValueError(
            f"A permutation test needs at least two values in each group, got {first.size} and {second.size}."
        )
    exact = math.comb(first.size + second.size, first.size) <= MAX_EXACT_SPLITS
    result = scipy.stats.permutation_test(
        (first, second),
        _mean_distance,
        permutation_type="independent",
        vectorized=True,
        n_resamples=math.inf if exact else RESAMPLES,
        alternative="greater",
        rng=np.random.default_rng(STATS_SEED),
    )
    return float(result.pvalue), int(result.null_distribution.size), exact


@dataclass(frozen=True)
class Difference:
    """How one statistic differs between our DQN and SB3's, and whether that is more than chance."""

    statistic: str
    """What is compared, e.g. ``"steady return"``."""
    ours: list[float]
    """Our runs' values, one per seed."""
    theirs: list[float]
    """SB3's runs' values, one per seed."""
    p_value: float
    """Two-sided permutation test of equal means."""
    splits: int
    """Splits of the pooled values the test looked at."""
    exact: bool
    """Whether the test enumerated every split (else it sampled ``splits`` of them)."""
    share: bool = False
    """Whether the values are shares (shown as percentages)."""

    @property
    def difference(self) -> float:
        """Our mean minus SB3's."""
        return statistics.fmean(self.ours) - statistics.fmean(self.theirs)

    @property
    def significant(self) -> bool:
        """Whether ``p_value < SIGNIFICANCE``."""
        return self.p_value < SIGNIFICANCE

    def sentence(self) -> str:
        """One line for the report: both means, the difference, the test and its verdict."""
        test = (
            f"exact permutation test over {self.splits:,} splits"
            if self.exact
            else f"permutation test, {self.splits:,} random splits"
        )
        verdict = (
            f"significant difference (p < {SIGNIFICANCE:g})"
            if self.significant
            else f"no significant difference (p >= {SIGNIFICANCE:g})"
        )
        ours, theirs = statistics.fmean(self.ours), statistics.fmean(self.theirs)
        if self.share:
            numbers = f"{ours:.0%}, SB3 DQN {theirs:.0%} (difference {100 * self.difference:+.0f} points)"
        else:
            numbers = f"{ours:.1f}, SB3 DQN {theirs:.1f} (difference {self.difference:+.1f})"
        return f"{self.statistic}: mario_zoo DQN {numbers}; {test}, p = {self.p_value:.2g}: {verdict}."

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready data, with the difference and the verdict."""
        return {**dataclasses.asdict(self), "difference": self.difference, "significant": self.significant}


def compare_means(statistic: str, ours: Sequence[float], theirs: Sequence[float], *, share: bool = False) -> Difference:
    """Test whether the mean of ``statistic`` differs between our runs and SB3's (:func:`permutation_test`)."""
    p_value, splits, exact = permutation_test(ours, theirs)
    values = [float(value) for value in ours], [float(value) for value in theirs]
    return Difference(statistic, *values, p_value, splits, exact, share)


@dataclass(frozen=True)
class AlgorithmSummary:
    """One algorithm's runs, summarised over seeds."""

    algorithm: str
    """``"mario_zoo"`` or ``"sb3"``."""
    final_means: list[float]
    """Final evaluation mean return of each seed."""
    solved: int | None
    """Seeds whose final evaluation mean reached the threshold (``None``: no threshold)."""
    steps_to_threshold: list[int | None]
    """Per seed, env steps at the first evaluation reaching the threshold (``None``: never)."""
    steps_per_second: list[float]
    """Training speed of each run."""
    peak_rss_bytes: list[int]
    """Peak memory of each run's worker."""
    x_pos_means: list[float] | None = None
    """Mario: each seed's final mean x_pos."""
    x_pos_max: int | None = None
    """Mario: furthest x_pos of any final evaluation episode."""
    flag_rates: list[float] | None = None
    """Mario: each seed's final flag rate."""
    steady_returns: list[float] = field(default_factory=list)
    """Per seed, the mean return of its last periodic evaluations (the plan's ``steady_last``)."""
    threshold_shares: list[float] | None = None
    """Per seed, the share of its periodic evaluations whose mean reached the threshold (``None``: no threshold)."""

    @property
    def steady_interval(self) -> tuple[float, float] | None:
        """95% bootstrap interval of the mean steady return over seeds (``None``: one seed)."""
        return bootstrap_interval(self.steady_returns)

    @property
    def share_interval(self) -> tuple[float, float] | None:
        """95% bootstrap interval of the mean share of evaluations at the threshold (``None``: no threshold, or
        one seed)."""
        return None if self.threshold_shares is None else bootstrap_interval(self.threshold_shares)

    @property
    def median_steps_to_threshold(self) -> float | None:
        """Median over the seeds that reached the threshold (``None`` if none did)."""
        reached = [steps for steps in self.steps_to_threshold if steps is not None]
        return statistics.median(reached) if reached else None

    @classmethod
    def of(
        cls, algorithm: str, runs: Sequence[RunResult], threshold: float | None, steady_last: int
    ) -> AlgorithmSummary:
        """Summarise ``runs`` (all of ``algorithm``); steady returns average the last ``steady_last`` evaluations."""
        finals = [run.final["mean"] for run in runs]
        mario = all("x_pos_mean" in run.final for run in runs)
        return cls(
            algorithm=algorithm,
            final_means=finals,
            solved=None if threshold is None else sum(mean >= threshold for mean in finals),
            steps_to_threshold=[run.steps_to(threshold) if threshold is not None else None for run in runs],
            steps_per_second=[run.steps_per_second for run in runs],
            peak_rss_bytes=[run.peak_rss_bytes for run in runs],
            x_pos_means=[run.final["x_pos_mean"] for run in runs] if mario else None,
            x_pos_max=max(run.final["x_pos_max"] for run in runs) if mario else None,
            flag_rates=[run.final["flag_rate"] for run in runs] if mario else None,
            steady_returns=[run.steady_return(steady_last) for run in runs],
            threshold_shares=None if threshold is None else [run.share_reaching(threshold) for run in runs],
        )

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready data, with the aggregates the table shows."""
        return {
            **dataclasses.asdict(self),
            "final_mean": statistics.fmean(self.final_means),
            "final_std": statistics.pstdev(self.final_means),
            "median_steps_to_threshold": self.median_steps_to_threshold,
            "median_steps_per_second": statistics.median(self.steps_per_second),
            "median_peak_rss_bytes": statistics.median(self.peak_rss_bytes),
            "steady_mean": statistics.fmean(self.steady_returns),
            "steady_interval": None if self.steady_interval is None else list(self.steady_interval),
            "share_mean": None if self.threshold_shares is None else statistics.fmean(self.threshold_shares),
            "share_interval": None if self.share_interval is None else list(self.share_interval),
        }


def differences(ours: AlgorithmSummary, theirs: AlgorithmSummary) -> list[Difference]:
    """The tests a report shows: the steady return, and the share of evaluations at the threshold if there is one;
    none when a library has a single seed (one value has no spread to test against)."""
    if min(len(ours.steady_returns), len(theirs.steady_returns)) < 2:
        return []
    tests = [compare_means("steady return", ours.steady_returns, theirs.steady_returns)]
    if ours.threshold_shares is not None and theirs.threshold_shares is not None:
        tests.append(
            compare_means(
                "share of evaluations at the threshold", ours.threshold_shares, theirs.threshold_shares, share=True
            )
        )
    return tests
