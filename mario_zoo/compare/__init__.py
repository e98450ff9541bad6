"""Ours vs Stable-Baselines3: train :class:`mario_zoo.DQN` and SB3's ``DQN`` with matched hyperparameters on the
same env, budget and seeds, evaluate both with one protocol, and report whether they differ.

Five modules, each importing only those above it:

- :mod:`~mario_zoo.compare.settings`: what "matched" means (our hyperparameters mapped onto SB3's, what SB3
  cannot do), seeds, budgets and the validated plan;
- :mod:`~mario_zoo.compare.stats`: the numbers: 95% bootstrap intervals and permutation tests (scipy.stats);
- :mod:`~mario_zoo.compare.results`: the records (a run, an algorithm over seeds, the whole comparison), with a
  steady return per run (the mean of its last periodic evaluations) and the tests of the difference;
- :mod:`~mario_zoo.compare.report`: ``compare.md`` and ``compare.json``;
- :mod:`~mario_zoo.compare.running`: every (algorithm, seed) run in a worker process of its own, periodically
  evaluated by :class:`mario_zoo.callbacks.PeriodicEvaluation` (``mario-zoo train``'s), producing the records and
  writing the report.

Example (a 2-seed, 2,000-step CartPole comparison takes ~10 s)::

    result = compare("CartPole-v1", steps=2000, seeds="0-1", workers=2, out="compare/smoke")
    print(result.table.read_text())
"""

from mario_zoo.compare.report import to_json, to_markdown
from mario_zoo.compare.results import AlgorithmSummary, CompareResult, RunResult
from mario_zoo.compare.running import compare, run_compare
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
from mario_zoo.compare.stats import Difference, bootstrap_interval, permutation_test

__all__ = [
    "ALGORITHMS",
    "LABELS",
    "AlgorithmSummary",
    "ComparePlan",
    "CompareResult",
    "Difference",
    "MatchedSettings",
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
