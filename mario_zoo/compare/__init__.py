"""Ours vs Stable-Baselines3: train :class:`mario_zoo.DQN` and SB3's ``DQN`` with matched hyperparameters on the
same env, budget and seeds, evaluate both with one protocol, and report whether they differ.

Three modules, in the order a comparison runs through them:

- :mod:`~mario_zoo.compare.settings`: what "matched" means (our hyperparameters mapped onto SB3's, what SB3
  cannot do), seeds, budgets and the validated plan;
- :mod:`~mario_zoo.compare.running`: every (algorithm, seed) run in a worker process of its own, periodically
  evaluated with :func:`mario_zoo.evaluation.evaluate`;
- :mod:`~mario_zoo.compare.report`: ``compare.md`` and ``compare.json``, with the statistics of
  :mod:`~mario_zoo.compare.stats`: a steady return per run (the mean of its last periodic evaluations), 95%
  bootstrap intervals per library and a permutation test of the difference (scipy.stats).

Example (a 2-seed, 2,000-step CartPole comparison takes ~10 s)::

    result = compare("CartPole-v1", steps=2000, seeds="0-1", workers=2, out="compare/smoke")
    print(result.table.read_text())
"""

from mario_zoo.compare.report import to_json, to_markdown
from mario_zoo.compare.running import CompareResult, PeriodicEvaluation, RunResult, compare, run_compare
from mario_zoo.compare.settings import (
    ALGORITHMS,
    LABELS,
    ComparePlan,
    MatchedSettings,
    make_agent,
    matched_settings,
    parse_seeds,
    plan_compare,
    sb3_kwargs,
)
from mario_zoo.compare.stats import AlgorithmSummary, Difference, bootstrap_interval, permutation_test

__all__ = [
    "ALGORITHMS",
    "LABELS",
    "AlgorithmSummary",
    "ComparePlan",
    "CompareResult",
    "Difference",
    "MatchedSettings",
    "PeriodicEvaluation",
    "RunResult",
    "bootstrap_interval",
    "compare",
    "make_agent",
    "matched_settings",
    "parse_seeds",
    "permutation_test",
    "plan_compare",
    "run_compare",
    "sb3_kwargs",
    "to_json",
    "to_markdown",
]
