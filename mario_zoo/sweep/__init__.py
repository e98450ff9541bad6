"""Hyperparameter sweeps and seed matrices on Optuna: ``mario-zoo sweep``, from one laptop to many machines.

Optuna does the work that matters: its samplers (TPE, random) choose the settings, its pruner (median) stops bad
trials on their intermediate evaluations, and its RDB storage (an embedded SQLite file by default, or a
PostgreSQL/MySQL server that several machines join) holds the study, so that rerunning the same command continues
it. A worker killed mid-trial stops sending Optuna's heartbeat; after a grace period another worker marks its trial
failed and Optuna's ``RetryHeartbeatStaleTrialCallback`` queues a copy of it, which the next free worker runs.

The modules, each importing only those above it:

- :mod:`~mario_zoo.sweep.space`: search spaces as data (``hyperparams/dqn_space.yml``), checked;
- :mod:`~mario_zoo.sweep.lock`: the study's lock, held across processes and machines, freed when its holder dies;
- :mod:`~mario_zoo.sweep.study`: every touch of Optuna's storage (URL checks, tables, studies, heartbeats, counts);
- :mod:`~mario_zoo.sweep.plan`: :func:`plan_sweep`, a validated :class:`SweepPlan`, nothing written;
- :mod:`~mario_zoo.sweep.report`: ``best.yml``, ``trials.csv``, plots and ``summary.md`` from the results;
- :mod:`~mario_zoo.sweep.worker`: the trial objective, the worker processes and :func:`run_sweep`.

Example (4 CartPole trials of 400 steps on 2 workers take ~10 s)::

    plan = plan_sweep("cartpole-fast", trials=4, steps=400, workers=2, out="sweeps/smoke")
    print(run_sweep(plan).summary)
"""

from mario_zoo.sweep import _extra  # noqa: F401  (first: without the sweep extra, one line says what to install)
from mario_zoo.sweep.plan import DEFAULT_STEADY, PRUNERS, SAMPLERS, SweepPlan, plan_sweep
from mario_zoo.sweep.report import best_preset, bootstrap_interval, search_summary, seeds_summary
from mario_zoo.sweep.space import (
    DISTRIBUTIONS,
    ENV_KWARGS_PREFIX,
    NETWORK_PARAMETER,
    SPACE_FILE,
    Parameter,
    SearchSpace,
    load_space,
    parse_space,
    valid_parameter_names,
)
from mario_zoo.sweep.study import DEFAULT_HEARTBEAT, MAX_RETRY, STORAGE_SCHEMES
from mario_zoo.sweep.worker import SweepResult, run_sweep

__all__ = [
    "DEFAULT_HEARTBEAT",
    "DEFAULT_STEADY",
    "DISTRIBUTIONS",
    "ENV_KWARGS_PREFIX",
    "MAX_RETRY",
    "NETWORK_PARAMETER",
    "PRUNERS",
    "SAMPLERS",
    "SPACE_FILE",
    "STORAGE_SCHEMES",
    "Parameter",
    "SearchSpace",
    "SweepPlan",
    "SweepResult",
    "best_preset",
    "bootstrap_interval",
    "load_space",
    "parse_space",
    "plan_sweep",
    "run_sweep",
    "search_summary",
    "seeds_summary",
    "valid_parameter_names",
]
