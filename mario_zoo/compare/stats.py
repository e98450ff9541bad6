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
from dataclasses import dataclass
from typing import Any

import numpy as np
import scipy.stats

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
