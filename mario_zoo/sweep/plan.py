"""A sweep's plan: the preset, what to search (or which seeds), budgets and the study, all checked before
anything is written (:func:`plan_sweep`), including that the storage is reachable and holds no study of the same
name with other settings (:func:`mario_zoo.sweep.study.check_storage`).

Example:
    >>> import tempfile
    >>> plan = plan_sweep("cartpole-fast", trials=4, steps=400, out=tempfile.mkdtemp())
    >>> plan.trials, plan.eval_freq, plan.space.family, plan.storage.startswith("sqlite:///")
    (4, 40, 'cartpole', True)
    >>> trial = trial_preset(plan, {"net_arch": [32], "gamma": 0.9})
    >>> trial.policy_kwargs["net_arch"], trial.config.gamma, trial.config.double_q
    ([32], 0.9, True)
"""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import optuna
import torch

from mario_zoo.agents.config import whole_numbers
from mario_zoo.agents.presets import Preset, load_preset
from mario_zoo.compare import parse_seeds
from mario_zoo.evaluation import is_mario
from mario_zoo.planning import build_model, plan_run
from mario_zoo.sweep.space import NETWORK_PARAMETER, SearchSpace, check_grid, env_kwarg, load_space
from mario_zoo.sweep.study import (
    DEFAULT_HEARTBEAT,
    check_storage,
    load_study,
    make_pruner,
    make_sampler,
    open_storage,
    plain,
)

SAMPLERS = ("tpe", "random", "grid")
PRUNERS = ("median", "none")

DEFAULT_STEADY = 3
"""The objective averages this many last periodic evaluations."""

OBJECTIVES = ("mean_reward", "flag_rate", "x_pos_mean")
"""The evaluation statistics a sweep can score (:mod:`mario_zoo.results`); the last two need a Mario env."""


@dataclass(frozen=True)
class SweepPlan:
    """A validated sweep (see :func:`plan_sweep`); nothing is written until :func:`run_sweep`."""

    preset: Preset
    """The preset the trials start from."""
    space: SearchSpace | None
    """What to search (``None``: a seed matrix)."""
    seeds: tuple[int, ...] | None
    """A seed matrix's seeds (``None``: a search)."""
    trials: int
    """Finished trials the study is to have (a seed matrix: one per seed)."""
    steps: int
    """Env steps per trial."""
    workers: int
    """Worker processes on this machine."""
    storage: str
    """Optuna storage URL."""
    study_name: str
    """Name of the study in the storage."""
    out: Path
    """Output folder."""
    sampler: str = "tpe"
    pruner: str = "median"
    eval_freq: int = 1000
    """Env steps between periodic evaluations."""
    eval_episodes: int = 5
    """Greedy episodes per evaluation."""
    steady: int = DEFAULT_STEADY
    """The objective is the mean of this many last evaluations."""
    seed: int = 0
    """Seed of every search trial's training, and of the sampler."""
    heartbeat: int = DEFAULT_HEARTBEAT
    """Seconds between heartbeats of a running trial."""
    progress: bool = True
    command: tuple[str, ...] = ()
    init_from: str | None = None
    """The agent every trial's network starts from (``--init-from``), or ``None``: a fresh network."""
    init_weights: Mapping[str, torch.Tensor] | None = field(default=None, repr=False, compare=False)
    """That agent's ``policy.state_dict()``."""
    objective: str = "mean_reward"
    """The statistic of the periodic evaluations the steady mean takes (one of :data:`OBJECTIVES`)."""
    nature_episodes: int = 0
    """Episodes of a Nature-protocol evaluation of each finished trial's agent, recorded beside its value (0: none)."""

    @property
    def settings(self) -> dict[str, Any]:
        """What a study is tied to: continuing it with other values would mix incomparable trials."""
        # The preset's contents, not its path: machines may keep the same best.yml in different folders.
        return plain(
            {
                "preset": self.preset.name,
                "env_id": self.preset.env_id,
                "env_kwargs": self.preset.env_kwargs,
                "init_from": self.init_from,
                "hyperparameters": self.preset.hyperparameters,
                "policy_kwargs": self.preset.policy_kwargs,
                "steps": self.steps,
                "eval_freq": self.eval_freq,
                "eval_episodes": self.eval_episodes,
                "steady": self.steady,
                "mode": "seeds" if self.seeds is not None else "search",
                "space": None if self.space is None else [dataclasses.asdict(item) for item in self.space.parameters],
                # Only when set: a study begun before these options existed continues with their defaults.
                **({"objective": self.objective} if self.objective != "mean_reward" else {}),
                **({"nature_episodes": self.nature_episodes} if self.nature_episodes else {}),
            }
        )


def plan_sweep(
    preset: str,
    *,
    trials: int | None = None,
    seeds: str | Sequence[int] | None = None,
    steps: int | None = None,
    workers: int = 1,
    storage: str | None = None,
    study_name: str | None = None,
    out: str | os.PathLike[str] | None = None,
    sampler: str = "tpe",
    pruner: str = "median",
    eval_freq: int | None = None,
    eval_episodes: int = 5,
    steady: int = DEFAULT_STEADY,
    seed: int = 0,
    space: str | os.PathLike[str] | None = None,
    heartbeat: int = DEFAULT_HEARTBEAT,
    progress: bool = True,
    command: Sequence[str] = (),
    init_from: str | None = None,
    init_weights: Mapping[str, torch.Tensor] | None = None,
    objective: str = "mean_reward",
    nature_episodes: int = 0,
) -> SweepPlan:
    """Check a sweep's settings, and that its storage is reachable and its study (if any) matches; writes nothing.

    Args (the others are :class:`SweepPlan`'s fields):
        preset: a ``dqn.yml`` preset name or the path of a preset file.
        trials: finished trials the study is to have (a search; not with ``seeds``).
        seeds: a seed matrix instead of a search: ``"0-9"``, ``"0,3,5"`` or a sequence of ints.
        steps: env steps per trial (default: the preset's ``n_timesteps``).
        storage: an Optuna RDB storage URL (default ``sqlite:///<out>/study.db``).
        study_name: the study's name (default ``<preset>-sweep``, or ``<preset>-seeds`` for a seed matrix).
        out: output folder (default ``sweeps/<study name>``).
        eval_freq: env steps between evaluations (default: a tenth of ``steps``).
        space: a search space file replacing ``dqn_space.yml``.
        init_weights: the ``policy.state_dict()`` of the agent ``init_from`` names (for ``build_model``).
        objective: the statistic scored: ``mean_reward``, or for Mario ``flag_rate`` (under the exact no-op sweep,
            the periodic evaluations' protocol) or ``x_pos_mean``.
        nature_episodes: also play each finished trial's agent for this many Nature-protocol episodes (epsilon
            0.05; Mario: 0-30 random no-ops) and record the result beside the value (``trials.csv``, the summary).
    """
    chosen = load_preset(preset)
    seed_list = _seed_list(trials, seeds)
    for name, value, minimum in (
        ("trials", trials, 1),
        ("steps", steps, 1),
        ("workers", workers, 1),
        ("eval_freq", eval_freq, 1),
        ("eval_episodes", eval_episodes, 1),
        ("steady", steady, 1),
        ("seed", seed, 0),
        ("heartbeat", heartbeat, 1),
        ("nature_episodes", nature_episodes, 0),
    ):
        if value is not None and (isinstance(value, bool) or not isinstance(value, int) or value < minimum):
            raise ValueError(f"{name} must be an int >= {minimum}, got {value!r}.")
    _check_objective(objective, chosen.env_id)
    search_space = _search_space(chosen, space, sampler, pruner, trials)
    steps = steps or chosen.n_timesteps
    study_name = study_name or f"{chosen.name}-{'seeds' if seed_list is not None else 'sweep'}"
    out_path = _out_folder(out, study_name)
    plan = SweepPlan(
        preset=chosen,
        space=search_space,
        seeds=seed_list,
        trials=len(seed_list) if seed_list is not None else trials,
        steps=steps,
        workers=workers,
        storage=storage or f"sqlite:///{out_path / 'study.db'}",
        study_name=study_name,
        out=out_path,
        sampler=sampler,
        pruner=pruner,
        eval_freq=eval_freq or max(steps // 10, 1),
        eval_episodes=eval_episodes,
        steady=steady,
        seed=seed,
        heartbeat=heartbeat,
        progress=progress,
        command=tuple(command),
        init_from=init_from,
        init_weights=init_weights,
        objective=objective,
        nature_episodes=nature_episodes,
    )
    _check_surroundings(plan, default_storage=storage is None)
    return plan


def _check_objective(objective: str, env_id: str) -> None:
    """``objective`` is one of :data:`OBJECTIVES` that ``env_id``'s evaluations report.

    Example:
        >>> _check_objective("flag_rate", "CartPole-v1")
        Traceback (most recent call last):
        ...
        ValueError: Objective 'flag_rate' needs an env that reports flags and x positions (MarioDQN-*); CartPole-v1 reports mean_reward only.
    """
    if objective not in OBJECTIVES:
        raise ValueError(f"Unknown objective {objective!r}; valid choices are: {', '.join(OBJECTIVES)}.")
    if objective != "mean_reward" and not is_mario(env_id):
        raise ValueError(
            f"Objective {objective!r} needs an env that reports flags and x positions (MarioDQN-*); {env_id} reports "
            "mean_reward only."
        )


def _seed_list(trials: int | None, seeds: str | Sequence[int] | None) -> tuple[int, ...] | None:
    """A seed matrix's seeds, or ``None`` for a search; exactly one of ``trials`` and ``seeds`` is given."""
    if (trials is None) == (seeds is None):
        raise ValueError("Pass either trials (a search, --trials N) or seeds (a seed matrix, --seeds 0-9), not both.")
    return parse_seeds(seeds) if seeds is not None else None


def _out_folder(out: str | os.PathLike[str] | None, study_name: str) -> Path:
    """``out``, or ``sweeps/<study name>``; not a file."""
    out_path = Path(out) if out is not None else Path("sweeps") / study_name
    if out_path.exists() and not out_path.is_dir():
        raise ValueError(f"--out {out_path} exists and is not a folder; choose another --out.")
    return out_path


def _search_space(
    preset: Preset, space: str | os.PathLike[str] | None, sampler: str, pruner: str, trials: int | None
) -> SearchSpace | None:
    """The space a search of ``trials`` trials samples, checked against the sampler (a grid needs choices only);
    ``None`` for a seed matrix (no ``trials``). The sampler and pruner are checked either way."""
    if sampler not in SAMPLERS:
        raise ValueError(f"Unknown sampler {sampler!r}; valid samplers: {', '.join(SAMPLERS)}.")
    if pruner not in PRUNERS:
        raise ValueError(f"Unknown pruner {pruner!r}; valid pruners: {', '.join(PRUNERS)}.")
    if trials is None:
        return None
    search_space = load_space(preset.env_id, space)
    if sampler == "grid":
        check_grid(search_space, trials)
    return search_space


def _check_surroundings(plan: SweepPlan, *, default_storage: bool) -> None:
    """Check what the plan needs outside itself: the starting network fits the preset's (a mismatch fails here,
    not in every worker), and the storage is reachable and holds no study of the name with other settings."""
    if plan.init_weights is not None:
        run = plan_run(preset=plan.preset, steps=1, device="cpu", init_from=plan.init_from)
        build_model(run, plan.init_weights).get_env().close()
    check_storage(
        plan.storage,
        study_name=plan.study_name,
        settings=plan.settings,
        heartbeat=plan.heartbeat,
        default=default_storage,
    )


def trial_preset(plan: SweepPlan, params: dict[str, Any]) -> Preset:
    """The preset a trial trains: ``plan.preset`` with ``params`` applied, ``net_arch`` to its network,
    ``env_kwargs.<key>`` to its env and the rest to its config (:meth:`DQNConfig.replace`, checked once)."""
    params = dict(params)
    policy_kwargs = dict(plan.preset.policy_kwargs)
    if NETWORK_PARAMETER in params:
        policy_kwargs[NETWORK_PARAMETER] = params.pop(NETWORK_PARAMETER)
    env_kwargs = dict(plan.preset.env_kwargs)
    for name in [name for name in params if env_kwarg(name) is not None]:
        env_kwargs[env_kwarg(name)] = params.pop(name)
    tuned = plan.preset.with_hyperparameters(whole_numbers(params))
    return dataclasses.replace(tuned, policy_kwargs=policy_kwargs, env_kwargs=env_kwargs)


def open_study(plan: SweepPlan, stream: int) -> optuna.Study:
    """``plan``'s study, opened for one process: the main one (``stream`` 0) or a worker (its own sampler seed)."""
    storage = open_storage(plan.storage, heartbeat=plan.heartbeat)
    sampler = make_sampler(plan.sampler, seed=plan.seed, stream=stream, trials=plan.trials)
    return load_study(storage, plan.study_name, sampler=sampler, pruner=make_pruner(plan.pruner, steps=plan.steps))
