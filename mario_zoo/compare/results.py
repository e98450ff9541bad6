"""The records of a comparison: one run (:class:`RunResult`), one algorithm over seeds (:class:`AlgorithmSummary`)
and the whole comparison (:class:`CompareResult`), with the tests that set the two algorithms side by side.

:mod:`~mario_zoo.compare.running` produces these records, :mod:`~mario_zoo.compare.report` writes them out; the
numbers behind their intervals and tests are :mod:`~mario_zoo.compare.stats`'.
"""

from __future__ import annotations

import dataclasses
import statistics
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from mario_zoo.compare.settings import ALGORITHMS, ComparePlan
from mario_zoo.compare.stats import Difference, bootstrap_interval, compare_means
from mario_zoo.results import Evaluation
from mario_zoo.runs import EvaluationPoint


@dataclass(frozen=True)
class RunResult:
    """One (algorithm, seed) run."""

    algorithm: str
    """``"mario_zoo"`` or ``"sb3"``."""
    seed: int
    """Seed of the model, its env and exploration."""
    num_timesteps: int
    """Env steps trained (``learn`` finishes its last ``train_freq`` round, so it can pass the budget)."""
    train_seconds: float
    """Training wall-clock time, evaluations excluded."""
    peak_rss_bytes: int
    """The worker process's peak resident memory (``getrusage``), training and evaluations included."""
    curve: list[EvaluationPoint]
    """Periodic evaluations, then the final one."""
    final_evaluation: Evaluation
    """The final evaluation's record."""

    @property
    def final(self) -> EvaluationPoint:
        """The final evaluation's statistics (the curve's last point)."""
        return self.curve[-1]

    @property
    def steps_per_second(self) -> float:
        """Env steps per second of training."""
        return self.num_timesteps / max(self.train_seconds, 1e-9)

    @property
    def periodic(self) -> list[dict[str, Any]]:
        """The periodic evaluations: the curve without its final evaluation (that one alone if there were none)."""
        return self.curve[:-1] or self.curve[-1:]

    def steady_return(self, last: int) -> float:
        """Mean return of the last ``last`` periodic evaluations (all of them if there are fewer).

        Example:
            >>> curve = [EvaluationPoint(timesteps=100 * (index + 1), n_eval_episodes=1, mean_reward=mean, std_reward=0.0)
            ...          for index, mean in enumerate((10.0, 500.0, 480.0, 500.0))]
            >>> run = RunResult("sb3", 0, 400, 1.0, 0, curve, Evaluation(env_id="CartPole-v1", env_kwargs={},
            ...                 episode_rewards=[500.0], episode_lengths=[500]))
            >>> run.steady_return(2), run.share_reaching(475.0), run.steps_to(475.0)
            (490.0, 0.6666666666666666, 200)
        """
        return statistics.fmean(point.mean_reward for point in self.periodic[-last:])

    def share_reaching(self, threshold: float) -> float:
        """Share of the periodic evaluations whose mean return reached ``threshold``."""
        return statistics.fmean(point.mean_reward >= threshold for point in self.periodic)

    def steps_to(self, threshold: float) -> int | None:
        """Env steps at the first evaluation whose mean return reached ``threshold`` (``None``: never)."""
        return next((point.timesteps for point in self.curve if point.mean_reward >= threshold), None)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready data (a run in ``compare.json``): the final statistics, the curve, the final record in full."""
        return {
            "algorithm": self.algorithm,
            "seed": self.seed,
            "num_timesteps": self.num_timesteps,
            "train_seconds": self.train_seconds,
            "peak_rss_bytes": self.peak_rss_bytes,
            "final": dataclasses.asdict(self.final),
            "curve": [dataclasses.asdict(point) for point in self.curve],
            "final_evaluation": self.final_evaluation.to_dict(),
            "steps_per_second": self.steps_per_second,
        }


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
        finals = [run.final.mean_reward for run in runs]
        mario = all(run.final.flag_rate is not None for run in runs)
        return cls(
            algorithm=algorithm,
            final_means=finals,
            solved=None if threshold is None else sum(mean >= threshold for mean in finals),
            steps_to_threshold=[run.steps_to(threshold) if threshold is not None else None for run in runs],
            steps_per_second=[run.steps_per_second for run in runs],
            peak_rss_bytes=[run.peak_rss_bytes for run in runs],
            x_pos_means=[run.final.x_pos_mean for run in runs] if mario else None,
            x_pos_max=max(run.final.x_pos_max for run in runs) if mario else None,
            flag_rates=[run.final.flag_rate for run in runs] if mario else None,
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


@dataclass(frozen=True)
class CompareResult:
    """Everything a comparison measured, and where it wrote it."""

    plan: ComparePlan
    """What was asked."""
    runs: list[RunResult]
    """Every run, seeds in order, ours first."""
    seconds: float
    """Wall-clock time of the whole comparison."""
    table: Path
    """``compare.md``: settings, results table, notes."""
    plot: Path | None
    """``learning_curves.png`` (``None`` when no run finished an episode)."""
    raw: Path
    """``compare.json``: every number."""

    def summaries(self) -> list[AlgorithmSummary]:
        """One summary per algorithm, in ``ALGORITHMS`` order."""
        threshold = self.plan.settings.threshold
        return [
            AlgorithmSummary.of(
                name, [run for run in self.runs if run.algorithm == name], threshold, self.plan.steady_last
            )
            for name in ALGORITHMS
        ]


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
