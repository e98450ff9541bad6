"""Ours vs Stable-Baselines3: train :class:`mario_zoo.DQN` and SB3's ``DQN`` with matched hyperparameters on the
same env, budget and seeds, evaluate both with one protocol, and write a table, learning curves and raw numbers.

What "matched" means. Both agents get the same settings from one ``dqn.yml`` preset (``cartpole-rlzoo`` for
CartPole-v1, ``mario`` for the ``MarioDQN`` levels), each under its own name:

==================  ===========================================  ===================================================
setting             mario_zoo DQN                                SB3 DQN
==================  ===========================================  ===================================================
network             policy, ``net_arch``                         policy, ``policy_kwargs["net_arch"]`` (same layers)
learning rate       ``learning_rate``                            ``learning_rate``
replay capacity     ``buffer_size``                              ``buffer_size``
random steps first  ``learning_starts``                          ``learning_starts``
minibatch           ``batch_size``                               ``batch_size``
update ratio        ``train_freq``, ``gradient_steps``           ``train_freq``, ``gradient_steps``
target updates      ``target_update_interval``, ``tau``          ``target_update_interval``, ``tau``
discount, n-step    ``gamma``, ``n_steps``                       ``gamma``, ``n_steps`` (SB3 >= 2.6)
exploration         ``exploration_fraction``, ``_initial_eps``,  ``exploration_fraction``, ``_initial_eps``,
                    ``exploration_final_eps`` (linear)           ``exploration_final_eps`` (linear)
gradient clipping   ``max_grad_norm``                            ``max_grad_norm``
optimizer           ``optimizer`` (adam, adamw)                  ``policy_kwargs["optimizer_class"]`` (Adam, AdamW)
                    ``adam_eps``, ``weight_decay``, ``amsgrad``  ``policy_kwargs["optimizer_kwargs"]``: eps, ...
==================  ===========================================  ===================================================

SB3 has no equivalent for ``double_q``, ``dueling``, ``prioritized_replay`` (and its ``alpha``/``beta0``/``eps``),
the ``exponential`` epsilon schedule (``exploration_schedule``, ``exploration_decay``), ``loss="mse"`` (SB3 uses
the Huber loss only), ``max_grad_value`` and ``max_grad_norm=None`` (SB3 always clips). A comparison runs only
what both implement, so those stay at their SB3-equivalent defaults and the output lists what a preset had on
(the ``mario`` preset's double, dueling and prioritized DQN). ``frame_stack_replay`` is kept: it stores each
frame once instead of four times and changes memory, not what is learned.

Protocol. Each (algorithm, seed) run trains in a fresh worker process with one torch thread on the CPU, seeded
with the same seed. Every ``eval_freq`` steps a :class:`PeriodicEvaluation` callback (SB3's callback API, so
it serves both agents) plays ``eval_episodes`` greedy episodes; after training a final evaluation plays
``final_episodes``. Both use :func:`mario_zoo.evaluation.evaluate` (Mario: 0..30 random no-ops at each start,
``x_pos`` and flag rate). Speeds are env steps per second of training, evaluation time excluded; the two
algorithms' runs are interleaved so that they share the machine's load alike.

Example:
    >>> plan = plan_compare("CartPole-v1", steps=50_000, seeds="0-2,5")
    >>> plan.seeds, plan.settings.preset, plan.settings.threshold
    ((0, 1, 2, 5), 'cartpole-rlzoo', 475.0)
    >>> sb3_kwargs(plan.settings)["policy_kwargs"], sb3_kwargs(plan.settings)["train_freq"]
    ({'net_arch': [256, 256]}, 256)
    >>> plan_compare("Pendulum-v1", steps=1000, seeds="0")  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    ValueError: compare has matched settings for CartPole-v1 and the MarioDQN levels (MarioDQN-v0, ...
"""

from __future__ import annotations

import dataclasses
import json
import multiprocessing
import os
import re
import resource
import statistics
import sys
import time
from collections.abc import Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from importlib.metadata import version
from pathlib import Path
from typing import Any

import gymnasium as gym
from stable_baselines3.common.callbacks import BaseCallback
from stable_baselines3.common.monitor import Monitor
from tqdm import tqdm

from mario_zoo.agents.config import DQNConfig
from mario_zoo.agents.presets import load_preset
from mario_zoo.atomic import write_text
from mario_zoo.envs import parse_env_id
from mario_zoo.evaluation import Evaluation, evaluate, evaluation_env_kwargs, is_mario
from mario_zoo.plotting import plot_runs
from mario_zoo.runs import RunConfig, RunFolder
from mario_zoo.training import ProgressBar

ALGORITHMS = ("mario_zoo", "sb3")
"""The two implementations compared, in table order."""

LABELS = {"mario_zoo": "mario_zoo DQN", "sb3": "SB3 DQN"}
"""How each algorithm is named in tables and plots."""

MAX_SEED = 2**31 - 1
"""Largest seed accepted (numpy's and torch's seeding take 32-bit seeds)."""

SB3_FIELDS = (
    "learning_rate",
    "buffer_size",
    "learning_starts",
    "batch_size",
    "tau",
    "gamma",
    "train_freq",
    "gradient_steps",
    "n_steps",
    "target_update_interval",
    "exploration_fraction",
    "exploration_initial_eps",
    "exploration_final_eps",
    "max_grad_norm",
    "stats_window_size",
)
"""DQN settings that SB3's ``DQN`` takes under the same name, with the same meaning."""

OPTIMIZER_FIELDS = {"adam_eps": "eps", "weight_decay": "weight_decay", "amsgrad": "amsgrad"}
"""Our optimizer settings -> SB3's ``policy_kwargs["optimizer_kwargs"]`` keys (``optimizer`` picks the class)."""

MEMORY_ONLY_FIELDS = ("frame_stack_replay",)
"""Our settings that change how replay is stored, not what is learned: kept as the preset has them."""

NO_SB3_EQUIVALENT = {
    "double_q": "SB3's DQN has no double-DQN targets",
    "dueling": "SB3's DQN has no dueling head",
    "prioritized_replay": "SB3 has no prioritized replay",
    "prioritized_replay_alpha": "SB3 has no prioritized replay",
    "prioritized_replay_beta0": "SB3 has no prioritized replay",
    "prioritized_replay_eps": "SB3 has no prioritized replay",
    "exploration_schedule": "SB3 decays epsilon linearly only",
    "exploration_decay": "SB3 decays epsilon linearly only",
    "loss": "SB3 uses the Huber loss only",
    "max_grad_value": "SB3 clips the gradient norm only",
}
"""Our settings SB3 cannot match, and why; a comparison keeps them at their SB3-equivalent defaults."""

_PRESETS = {"CartPole-v1": "cartpole-rlzoo", "mario": "mario"}
_SUPPORTED = "CartPole-v1 and the MarioDQN levels (MarioDQN-v0, MarioDQN-<world>-<stage>-v0; `mario-zoo envs`)"
_SEED_ITEM = re.compile(r"^\s*(-?\d+)\s*(?:-\s*(-?\d+)\s*)?$")


@dataclass(frozen=True)
class EnvDefaults:
    """What a comparison on an env uses unless told otherwise."""

    steps: int
    """Training budget in env steps, per run."""
    seeds: str
    """Seeds, in ``--seeds`` syntax."""
    eval_freq: int
    """Env steps between periodic evaluations."""
    eval_episodes: int
    """Episodes per periodic evaluation."""
    final_episodes: int
    """Episodes of the final evaluation."""


CARTPOLE_DEFAULTS = EnvDefaults(steps=50_000, seeds="0-9", eval_freq=5_000, eval_episodes=10, final_episodes=100)
"""rl-zoo's CartPole-v1 budget; 100 final episodes, as a "solved" claim needs."""

MARIO_DEFAULTS = EnvDefaults(steps=20_000, seeds="0-1", eval_freq=5_000, eval_episodes=3, final_episodes=10)
"""A short Mario budget (tens of minutes on a laptop CPU): a greedy Mario episode can last ~2,000 steps."""


def env_defaults(env_id: str) -> EnvDefaults:
    """The defaults for ``env_id`` (call :func:`check_compare_env` first)."""
    return MARIO_DEFAULTS if is_mario(env_id) else CARTPOLE_DEFAULTS


def check_compare_env(env_id: str) -> None:
    """Raise a ``ValueError`` naming the supported envs unless ``env_id`` has matched settings.

    Example:
        >>> check_compare_env("MarioDQN-4-2-v0")
        >>> check_compare_env("MarioDQN-9-1-v0")  # doctest: +ELLIPSIS
        Traceback (most recent call last):
        ...
        ValueError: Unknown Mario env ID 'MarioDQN-9-1-v0': world must be one of 1-8, got 9 ...
    """
    if env_id == "CartPole-v1" or is_mario(env_id):
        return
    if env_id.startswith("MarioDQN"):
        parse_env_id(env_id)  # names the valid Mario IDs
    raise ValueError(
        f"compare has matched settings for {_SUPPORTED}; got {env_id!r}. Pass --env CartPole-v1 or --env MarioDQN-v0."
    )


def parse_seeds(seeds: str | Sequence[int]) -> tuple[int, ...]:
    """Seeds from ``"0-9"``, ``"0,3,5"``, ``"0-4,7"`` or a sequence of ints; each in ``[0, 2**31 - 1]``, no repeats.

    Example:
        >>> parse_seeds("0-3,7")
        (0, 1, 2, 3, 7)
        >>> parse_seeds("-1")
        Traceback (most recent call last):
        ...
        ValueError: Seeds must be in [0, 2147483647], got -1.
        >>> parse_seeds("0-")
        Traceback (most recent call last):
        ...
        ValueError: Malformed seeds '0-': use a range such as 0-9, a list such as 0,3,5, or both (0-4,7).
    """
    if isinstance(seeds, str):
        values: list[int] = []
        for item in seeds.split(","):
            match = _SEED_ITEM.match(item)
            if match is None:
                raise ValueError(
                    f"Malformed seeds {seeds!r}: use a range such as 0-9, a list such as 0,3,5, or both (0-4,7)."
                )
            first, last = int(match[1]), int(match[2] if match[2] is not None else match[1])
            for bound in (first, last):
                _check_seed(bound)
            if last < first:
                raise ValueError(f"Seed range {item.strip()!r} runs backwards; write it as {last}-{first}.")
            values.extend(range(first, last + 1))
    else:
        values = list(seeds)
        for seed in values:
            if isinstance(seed, bool) or not isinstance(seed, int):
                raise ValueError(f"Seeds must be ints, got {seed!r} of type {type(seed).__name__}.")
            _check_seed(seed)
    if not values:
        raise ValueError("No seeds given; pass at least one, e.g. seeds='0-9'.")
    repeated = sorted({seed for seed in values if values.count(seed) > 1})
    if repeated:
        raise ValueError(f"Seed {repeated[0]} is given more than once; each seed runs once per algorithm.")
    return tuple(values)


def _check_seed(seed: int) -> None:
    if not 0 <= seed <= MAX_SEED:
        raise ValueError(f"Seeds must be in [0, {MAX_SEED}], got {seed}.")


@dataclass(frozen=True)
class MatchedSettings:
    """The settings both algorithms train with, and what was left out because SB3 cannot do it."""

    env_id: str
    """Gymnasium ID trained and evaluated on."""
    preset: str
    """``dqn.yml`` preset the settings come from."""
    policy: str
    """``MlpPolicy`` or ``CnnPolicy`` (the same network in both libraries)."""
    hyperparameters: dict[str, Any]
    """Our :class:`~mario_zoo.agents.DQNConfig` fields (SB3's get the same values, see :func:`sb3_kwargs`)."""
    policy_kwargs: dict[str, Any]
    """``net_arch``."""
    env_kwargs: dict[str, Any] = field(default_factory=dict)
    """``gym.make`` keyword arguments, for training and evaluation."""
    dropped: dict[str, Any] = field(default_factory=dict)
    """Preset settings without an SB3 equivalent, turned off for the comparison: name -> the preset's value."""
    threshold: float | None = None
    """Return that counts as solved (the env spec's ``reward_threshold``; ``None`` for Mario)."""

    def mapping_rows(self) -> list[tuple[str, str, str, str]]:
        """(setting, value, our name, SB3's name) for every matched setting, for the output's mapping table."""
        optimizer = self.hyperparameters.get("optimizer", "adam")
        rows = [
            ("policy", self.policy, "policy", "policy"),
            ("net_arch", str(self.policy_kwargs["net_arch"]), "policy_kwargs", "policy_kwargs"),
        ]
        rows += [(name, _text(self.hyperparameters.get(name, _DEFAULTS[name])), name, name) for name in SB3_FIELDS]
        rows.append(("optimizer", optimizer, "optimizer", "policy_kwargs.optimizer_class"))
        rows += [
            (
                name,
                _text(self.hyperparameters.get(name, _DEFAULTS[name])),
                name,
                f"policy_kwargs.optimizer_kwargs.{key}",
            )
            for name, key in OPTIMIZER_FIELDS.items()
        ]
        return rows


_DEFAULTS = DQNConfig().to_dict()


def _text(value: Any) -> str:
    return json.dumps(value) if isinstance(value, list | tuple | bool) or value is None else f"{value:g}"


def matched_settings(
    env_id: str,
    steps: int,
    overrides: dict[str, Any] | None = None,
    env_kwargs: dict[str, Any] | None = None,
) -> MatchedSettings:
    """The preset for ``env_id`` with ``overrides`` applied, reduced to what SB3's DQN can match.

    ``overrides`` may change any matched setting (``SB3_FIELDS``, the optimizer's, ``policy_kwargs``); one
    without an SB3 equivalent raises a ``ValueError``.

    Example:
        >>> settings = matched_settings("MarioDQN-v0", steps=20_000, overrides={"learning_starts": 5000})
        >>> settings.hyperparameters["learning_starts"], settings.hyperparameters["n_steps"]
        (5000, 3)
        >>> sorted(settings.dropped)
        ['double_q', 'dueling', 'prioritized_replay']
        >>> matched_settings("CartPole-v1", 1000, {"double_q": True})
        Traceback (most recent call last):
        ...
        ValueError: double_q cannot be matched: SB3's DQN has no double-DQN targets. compare changes only settings both implement.
    """
    check_compare_env(env_id)
    preset = load_preset(_PRESETS["mario" if is_mario(env_id) else env_id])
    overrides = dict(overrides or {})
    policy_kwargs = dict(preset.policy_kwargs)
    network = overrides.pop("policy_kwargs", {})
    if not isinstance(network, dict) or set(network) - {"net_arch"}:
        raise ValueError(f"policy_kwargs may only set net_arch (e.g. {{net_arch: [64, 64]}}), got {network!r}.")
    policy_kwargs |= network
    matchable = (*SB3_FIELDS, "optimizer", *OPTIMIZER_FIELDS, *MEMORY_ONLY_FIELDS)
    for name in overrides:
        if name in NO_SB3_EQUIVALENT:
            raise ValueError(
                f"{name} cannot be matched: {NO_SB3_EQUIVALENT[name]}. compare changes only settings both implement."
            )
        if name not in matchable:
            raise ValueError(f"Unknown or unmatched setting {name!r}; compare accepts: {', '.join(matchable)}.")
    hyperparameters = {**preset.hyperparameters, **overrides}
    DQNConfig.from_dict(hyperparameters)  # type and range checks, with their messages
    dropped = {
        name: hyperparameters.pop(name)
        for name in list(hyperparameters)
        if name in NO_SB3_EQUIVALENT and hyperparameters[name] != _DEFAULTS[name]
    }
    for name in NO_SB3_EQUIVALENT:
        hyperparameters.pop(name, None)
    if hyperparameters.get("max_grad_norm", _DEFAULTS["max_grad_norm"]) is None:
        raise ValueError("max_grad_norm=None cannot be matched: SB3 always clips the gradient norm. Give a number.")
    return MatchedSettings(
        env_id=env_id,
        preset=preset.name,
        policy=preset.policy,
        hyperparameters=hyperparameters,
        policy_kwargs=policy_kwargs,
        env_kwargs=dict(env_kwargs or {}),
        dropped=dropped,
        threshold=gym.spec(env_id).reward_threshold,
    )


def sb3_kwargs(settings: MatchedSettings) -> dict[str, Any]:
    """Keyword arguments for ``stable_baselines3.DQN(settings.policy, env, **kwargs)`` (besides seed and device)."""
    import torch

    values = {**_DEFAULTS, **settings.hyperparameters}
    kwargs = {name: values[name] for name in SB3_FIELDS}
    if isinstance(kwargs["train_freq"], list):
        kwargs["train_freq"] = tuple(kwargs["train_freq"])
    policy_kwargs: dict[str, Any] = {"net_arch": list(settings.policy_kwargs["net_arch"])}
    if values["optimizer"] == "adamw":
        policy_kwargs["optimizer_class"] = torch.optim.AdamW
    # Only what differs from torch's defaults, so the SB3 model's settings read as SB3 users write them.
    optimizer_kwargs = {
        key: values[name]
        for name, key in OPTIMIZER_FIELDS.items()
        if values[name] != _torch_optimizer_default(values["optimizer"], key)
    }
    if optimizer_kwargs:
        policy_kwargs["optimizer_kwargs"] = optimizer_kwargs
    kwargs["policy_kwargs"] = policy_kwargs
    return kwargs


def _torch_optimizer_default(optimizer: str, key: str) -> Any:
    return {"eps": 1e-8, "amsgrad": False, "weight_decay": 0.01 if optimizer == "adamw" else 0.0}[key]


def build_model(algorithm: str, settings: MatchedSettings, env: gym.Env, seed: int) -> Any:
    """A fresh DQN of ``algorithm`` (``"mario_zoo"`` or ``"sb3"``) on ``env``, on the CPU, seeded with ``seed``.

    Example:
        >>> settings = matched_settings("CartPole-v1", 50_000)
        >>> ours = build_model("mario_zoo", settings, gym.make("CartPole-v1"), seed=0)
        >>> theirs = build_model("sb3", settings, gym.make("CartPole-v1"), seed=0)
        >>> (ours.batch_size, ours.target_update_interval), (theirs.batch_size, theirs.target_update_interval)
        ((64, 10), (64, 10))
    """
    if algorithm == "mario_zoo":
        from mario_zoo.agents import DQN

        return DQN(
            settings.policy,
            env,
            policy_kwargs=settings.policy_kwargs,
            seed=seed,
            device="cpu",
            **settings.hyperparameters,
        )
    if algorithm == "sb3":
        from stable_baselines3 import DQN as SB3DQN

        return SB3DQN(settings.policy, env, seed=seed, device="cpu", **sb3_kwargs(settings))
    raise ValueError(f"Unknown algorithm {algorithm!r}; valid algorithms: {', '.join(ALGORITHMS)}.")


class PeriodicEvaluation(BaseCallback):
    """Every ``eval_freq`` env steps, evaluate the model greedily (:func:`mario_zoo.evaluation.evaluate`).

    An SB3 callback, so the same object measures our DQN and SB3's. ``curve`` gets one point per evaluation;
    ``seconds`` adds up the time spent evaluating, which a speed measurement subtracts.
    """

    def __init__(self, env_id: str, env_kwargs: dict[str, Any], eval_freq: int, n_episodes: int):
        super().__init__()
        self.env_id = env_id
        self.env_kwargs = evaluation_env_kwargs(env_id, env_kwargs)
        self.eval_freq = eval_freq
        self.n_episodes = n_episodes
        self.curve: list[dict[str, Any]] = []
        self.seconds = 0.0
        self._next = eval_freq

    def _on_step(self) -> bool:
        if self.num_timesteps >= self._next:
            self.evaluate(self.n_episodes)
            self._next = (self.num_timesteps // self.eval_freq + 1) * self.eval_freq
        return True

    def evaluate(self, n_episodes: int) -> Evaluation:
        """Evaluate now over ``n_episodes`` and append the point to ``curve``."""
        start = time.perf_counter()
        evaluation = evaluate(self.model, self.env_id, self.env_kwargs, n_episodes=n_episodes)
        self.seconds += time.perf_counter() - start
        self.curve.append({"steps": self.model.num_timesteps, "episodes": n_episodes, **_numbers(evaluation)})
        return evaluation


def _numbers(evaluation: Evaluation) -> dict[str, Any]:
    numbers = {"mean": evaluation.result.mean_reward, "std": evaluation.result.std_reward}
    if evaluation.x_pos is not None:
        numbers |= {"x_pos_mean": statistics.fmean(evaluation.x_pos), "x_pos_max": max(evaluation.x_pos)}
        numbers["flag_rate"] = evaluation.flag_rate
    return numbers


@dataclass(frozen=True)
class ComparePlan:
    """A validated comparison (see :func:`plan_compare`); nothing is written until :func:`run_compare`."""

    settings: MatchedSettings
    """What both algorithms train with."""
    steps: int
    """Env steps per run."""
    seeds: tuple[int, ...]
    """Each seed runs once per algorithm."""
    workers: int
    """Runs trained at once, each in its own process."""
    out: Path
    """Output folder."""
    eval_freq: int
    """Env steps between periodic evaluations."""
    eval_episodes: int
    """Episodes per periodic evaluation."""
    final_episodes: int
    """Episodes of the final evaluation."""
    progress: bool = True
    """Show a progress bar per run."""
    command: tuple[str, ...] = ()
    """The command line, for the record."""


def plan_compare(
    env_id: str,
    *,
    steps: int | None = None,
    seeds: str | Sequence[int] | None = None,
    workers: int | None = None,
    out: str | os.PathLike[str] | None = None,
    overrides: dict[str, Any] | None = None,
    env_kwargs: dict[str, Any] | None = None,
    eval_freq: int | None = None,
    eval_episodes: int | None = None,
    final_episodes: int | None = None,
    progress: bool = True,
    command: Sequence[str] = (),
) -> ComparePlan:
    """Check a comparison's inputs and return its plan; raises ``ValueError`` naming the valid choices. Writes
    nothing. Unset values take :func:`env_defaults`; ``workers`` defaults to the cores, at most one per run;
    ``out`` to ``compare/<env>_<YYYYmmdd-HHMMSS>`` and must be empty or absent."""
    check_compare_env(env_id)
    defaults = env_defaults(env_id)
    steps = defaults.steps if steps is None else steps
    given = {
        "steps": steps,
        "eval_freq": defaults.eval_freq if eval_freq is None else eval_freq,
        "eval_episodes": defaults.eval_episodes if eval_episodes is None else eval_episodes,
        "final_episodes": defaults.final_episodes if final_episodes is None else final_episodes,
        "workers": workers,
    }
    for name, value in given.items():
        if value is not None and (isinstance(value, bool) or not isinstance(value, int) or value < 1):
            raise ValueError(f"{name} must be an int >= 1, got {value!r}.")
    seed_list = parse_seeds(defaults.seeds if seeds is None else seeds)
    runs = len(seed_list) * len(ALGORITHMS)
    settings = matched_settings(env_id, steps, overrides, env_kwargs)
    out = Path(out) if out is not None else Path("compare") / f"{env_id}_{time.strftime('%Y%m%d-%H%M%S')}"
    if out.exists() and (not out.is_dir() or any(out.iterdir())):
        raise ValueError(f"{out} already exists and is not an empty folder; choose another out folder.")
    return ComparePlan(
        settings=settings,
        steps=steps,
        seeds=seed_list,
        workers=workers if workers is not None else min(os.cpu_count() or 1, runs),
        out=out,
        eval_freq=given["eval_freq"],
        eval_episodes=given["eval_episodes"],
        final_episodes=given["final_episodes"],
        progress=progress,
        command=tuple(command),
    )


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
    final: dict[str, Any]
    """The final evaluation: mean, std (and Mario's x_pos_mean, x_pos_max, flag_rate)."""
    curve: list[dict[str, Any]]
    """Periodic evaluations, then the final one: steps, episodes, mean, std (...)."""
    final_evaluation: dict[str, Any]
    """The final evaluation in full (:meth:`mario_zoo.evaluation.Evaluation.to_dict`)."""

    @property
    def steps_per_second(self) -> float:
        """Env steps per second of training."""
        return self.num_timesteps / max(self.train_seconds, 1e-9)

    def steps_to(self, threshold: float) -> int | None:
        """Env steps at the first evaluation whose mean return reached ``threshold`` (``None``: never)."""
        return next((point["steps"] for point in self.curve if point["mean"] >= threshold), None)


def _train_one(plan: ComparePlan, algorithm: str, seed: int, position: int) -> RunResult:
    """Train and evaluate one run; runs in a worker process of its own (see :func:`run_compare`)."""
    import torch

    # One thread per run: workers run side by side, and small networks do not gain from more.
    torch.set_num_threads(1)
    settings = plan.settings
    run = RunFolder(plan.out / "runs" / f"{algorithm}_s{seed}")
    config = RunConfig(
        env_id=settings.env_id,
        # The plot groups runs by their settings; the label is what tells the two algorithms apart.
        preset=LABELS[algorithm],
        policy=settings.policy,
        total_timesteps=plan.steps,
        seed=seed,
        device="cpu",
        hyperparameters=settings.hyperparameters,
        policy_kwargs=settings.policy_kwargs,
        env_kwargs=settings.env_kwargs,
        eval_episodes=plan.final_episodes,
        command=list(plan.command),
    )
    run.write_config(config)
    env = Monitor(
        gym.make(settings.env_id, **settings.env_kwargs),
        str(run.monitor),
        info_keywords=("x_pos", "flag_get") if is_mario(settings.env_id) else (),
    )
    model = build_model(algorithm, settings, env, seed)
    evaluations = PeriodicEvaluation(settings.env_id, settings.env_kwargs, plan.eval_freq, plan.eval_episodes)
    callbacks: list[BaseCallback] = [evaluations]
    if plan.progress:
        callbacks.append(ProgressBar(plan.steps, description=f"{LABELS[algorithm]} seed {seed}", position=position))
    start = time.perf_counter()
    try:
        model.learn(plan.steps, callback=callbacks)
    finally:
        env.close()
    train_seconds = time.perf_counter() - start - evaluations.seconds
    final = evaluations.evaluate(plan.final_episodes)
    run.write_config(dataclasses.replace(config, status="finished"))
    # ru_maxrss is in KiB on Linux, in bytes on macOS.
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * (1 if sys.platform == "darwin" else 1024)
    return RunResult(
        algorithm=algorithm,
        seed=seed,
        num_timesteps=model.num_timesteps,
        train_seconds=train_seconds,
        peak_rss_bytes=peak,
        final=_numbers(final),
        curve=evaluations.curve,
        final_evaluation=final.to_dict(),
    )


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

    @property
    def median_steps_to_threshold(self) -> float | None:
        """Median over the seeds that reached the threshold (``None`` if none did)."""
        reached = [steps for steps in self.steps_to_threshold if steps is not None]
        return statistics.median(reached) if reached else None

    @classmethod
    def of(cls, algorithm: str, runs: Sequence[RunResult], threshold: float | None) -> AlgorithmSummary:
        """Summarise ``runs`` (all of ``algorithm``)."""
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
            AlgorithmSummary.of(name, [run for run in self.runs if run.algorithm == name], threshold)
            for name in ALGORITHMS
        ]


def compare(env_id: str, **options: Any) -> CompareResult:
    """Plan (:func:`plan_compare`, same keyword arguments) and run (:func:`run_compare`) a comparison.

    Example (a 2-seed, 2,000-step CartPole comparison takes ~10 s)::

        result = compare("CartPole-v1", steps=2000, seeds="0-1", workers=2, out="compare/smoke")
        print(result.table.read_text())
    """
    return run_compare(plan_compare(env_id, **options))


def run_compare(plan: ComparePlan) -> CompareResult:
    """Train every (algorithm, seed) run of ``plan`` in worker processes and write the table, plot and JSON.

    Each run gets a fresh process (``max_tasks_per_child=1``), so its peak memory is its own; processes fork from
    a server that has imported torch and SB3 once, so starting one costs milliseconds.
    """
    start = time.perf_counter()
    plan.out.mkdir(parents=True, exist_ok=True)
    # Ours and SB3's runs of a seed start together, so both meet the same machine load.
    tasks = [(algorithm, seed) for seed in plan.seeds for algorithm in ALGORITHMS]
    context = multiprocessing.get_context("forkserver")
    context.set_forkserver_preload([__name__])
    # The bars of all workers share one terminal; this lock keeps their redraws from interleaving.
    lock = context.RLock()
    with ProcessPoolExecutor(
        max_workers=min(plan.workers, len(tasks)),
        mp_context=context,
        max_tasks_per_child=1,
        initializer=tqdm.set_lock,
        initargs=(lock,),
    ) as pool:
        futures = [
            pool.submit(_train_one, plan, algorithm, seed, position) for position, (algorithm, seed) in enumerate(tasks)
        ]
        results = [future.result() for future in futures]
    runs = sorted(results, key=lambda run: (ALGORITHMS.index(run.algorithm), plan.seeds.index(run.seed)))
    plot = _plot(plan, runs)
    result = CompareResult(
        plan, runs, time.perf_counter() - start, plan.out / "compare.md", plot, plan.out / "compare.json"
    )
    write_text(result.table, to_markdown(result))
    write_text(result.raw, json.dumps(to_json(result), indent=2, sort_keys=True) + "\n")
    return result


PLOT_WINDOW = 20
"""Training episodes per moving average in the plot: short budgets have only a few hundred episodes."""


def _plot(plan: ComparePlan, runs: Sequence[RunResult]) -> Path | None:
    folders = [RunFolder(plan.out / "runs" / f"{run.algorithm}_s{run.seed}") for run in runs]
    folders = [folder for folder in folders if folder.episodes().returns.size]
    if not folders:
        return None
    path = plan.out / "learning_curves.png"
    title = f"{plan.settings.env_id}: mario_zoo DQN vs SB3 DQN, {plan.settings.preset} settings, {plan.steps:,} steps"
    plot_runs(folders, path, window=PLOT_WINDOW, title=title)
    return path


def to_markdown(result: CompareResult, *, title: bool = True) -> str:
    """The results table, the ours/SB3 speed ratio, the settings both used and what SB3 could not match.

    ``title=False`` leaves out the top-level ``#`` heading, for pages that give the section their own title.
    """
    plan, settings = result.plan, result.plan.settings
    summaries = result.summaries()
    threshold = settings.threshold
    mario = summaries[0].x_pos_means is not None
    header = ["algorithm", f"final eval return (mean +/- std over {_count(len(plan.seeds), 'seed')})"]
    if threshold is not None:
        header += [f"seeds solved (>= {threshold:g})", f"median env steps to {threshold:g}"]
    if mario:
        header += ["x_pos mean", "x_pos max", "flag rate"]
    header += ["env steps/s (median)", "peak RSS per worker (median, max)"]
    lines = [f"# {LABELS['mario_zoo']} vs {LABELS['sb3']} on {settings.env_id}", ""] if title else []
    lines += [
        f"{plan.steps:,} env steps per run, seeds {_seed_text(plan.seeds)}, {plan.workers} worker(s), "
        f"{result.seconds / 60:.1f} min. Final evaluation: {_count(plan.final_episodes, 'greedy episode')} per seed; "
        f"periodic: {plan.eval_episodes} every {plan.eval_freq:,} steps"
        + (" (Mario: 0..30 random no-ops at each start)." if mario else "."),
        "",
        "| " + " | ".join(header) + " |",
        "|" + "---|" * len(header),
    ]
    for summary in summaries:
        data = summary.to_dict()
        cells = [LABELS[summary.algorithm], f"{data['final_mean']:.1f} +/- {data['final_std']:.1f}"]
        if threshold is not None:
            reached = sum(steps is not None for steps in summary.steps_to_threshold)
            median = summary.median_steps_to_threshold
            cells += [
                f"{summary.solved}/{len(plan.seeds)}",
                f"{median:,.0f} ({reached}/{len(plan.seeds)} reached)" if median is not None else "never",
            ]
        if mario:
            cells += [
                f"{statistics.fmean(summary.x_pos_means):.0f}",
                f"{summary.x_pos_max}",
                f"{statistics.fmean(summary.flag_rates):.0%}",
            ]
        cells += [
            f"{data['median_steps_per_second']:,.0f}",
            f"{data['median_peak_rss_bytes'] / 2**20:,.0f} MiB, {max(summary.peak_rss_bytes) / 2**20:,.0f} MiB",
        ]
        lines.append("| " + " | ".join(cells) + " |")
    ours, theirs = (statistics.median(summary.steps_per_second) for summary in summaries)
    lines += [
        "",
        f"Speed ratio (median env steps/s, ours / SB3): {ours / theirs:.2f}x. Speeds exclude evaluation time.",
        "",
        f"## Matched settings (preset `{settings.preset}`)",
        "",
        "| setting | value | mario_zoo DQN | SB3 DQN |",
        "|---|---|---|---|",
        *(
            f"| {name} | {value} | `{ours_name}` | `{sb3_name}` |"
            for name, value, ours_name, sb3_name in settings.mapping_rows()
        ),
    ]
    if settings.env_kwargs:
        kwargs = ", ".join(f"{key}={value!r}" for key, value in settings.env_kwargs.items())
        lines += ["", f"Env kwargs (both): {kwargs}."]
    kept = [name for name in MEMORY_ONLY_FIELDS if settings.hyperparameters.get(name)]
    notes = [
        *(f"`{name}={value}` off: {NO_SB3_EQUIVALENT[name]}." for name, value in settings.dropped.items()),
        *(f"`{name}=True` kept for ours: it changes replay memory, not learning." for name in kept),
    ]
    if notes:
        lines += ["", "Not matched:", "", *(f"- {note}" for note in notes)]
    lines += [
        "",
        "SB3 cannot match (kept off in both): double DQN, dueling head, prioritized replay, exponential epsilon, "
        "MSE loss, element-wise gradient clipping.",
    ]
    if result.plot is not None:
        curves = f"training-episode return, {PLOT_WINDOW}-episode mean, mean +/- std over seeds"
        lines += ["", f"Learning curves: {result.plot.name} ({curves}). Raw numbers: {result.raw.name}."]
    return "\n".join(lines) + "\n"


def _count(number: int, noun: str) -> str:
    return f"{number} {noun}{'' if number == 1 else 's'}"


def _seed_text(seeds: Sequence[int]) -> str:
    contiguous = list(seeds) == list(range(seeds[0], seeds[0] + len(seeds)))
    return f"{seeds[0]}-{seeds[-1]}" if contiguous and len(seeds) > 1 else ",".join(map(str, seeds))


def to_json(result: CompareResult) -> dict[str, Any]:
    """Every number of ``result`` as plain data (what ``compare.json`` holds)."""
    plan = result.plan
    return {
        "env_id": plan.settings.env_id,
        "steps": plan.steps,
        "seeds": list(plan.seeds),
        "workers": plan.workers,
        "eval_freq": plan.eval_freq,
        "eval_episodes": plan.eval_episodes,
        "final_episodes": plan.final_episodes,
        "seconds": result.seconds,
        "command": list(plan.command),
        "settings": dataclasses.asdict(plan.settings) | {"sb3_kwargs": _plain(sb3_kwargs(plan.settings))},
        "mapping": [
            dict(zip(("setting", "value", "mario_zoo", "sb3"), row, strict=True))
            for row in plan.settings.mapping_rows()
        ],
        "summary": {summary.algorithm: summary.to_dict() for summary in result.summaries()},
        "runs": [dataclasses.asdict(run) | {"steps_per_second": run.steps_per_second} for run in result.runs],
        "versions": {name: version(name) for name in ("mario-zoo", "stable-baselines3", "torch", "gymnasium")},
    }


def _plain(value: Any) -> Any:
    """Classes (an optimizer) as their dotted names, so the SB3 kwargs fit in JSON."""
    if isinstance(value, dict):
        return {key: _plain(item) for key, item in value.items()}
    if isinstance(value, type):
        return f"{value.__module__}.{value.__qualname__}"
    if isinstance(value, tuple):
        return list(value)
    return value
