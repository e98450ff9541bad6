"""The settings of a comparison: our DQN's hyperparameters mapped onto SB3's, seeds, budgets and the plan.

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
import os
import re
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import gymnasium as gym

from mario_zoo.agents.config import DQNConfig
from mario_zoo.agents.presets import load_preset
from mario_zoo.envs import parse_env_id
from mario_zoo.evaluation import is_mario

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
    "precision": "SB3 updates in float32 only",
    "learning_rate_final": "compare passes SB3 a constant learning rate",
    "ema_decay": "SB3 evaluates its online weights, not an average",
    "target_epsilon": "SB3's TD targets bootstrap from the greedy action's value",
    "advantage_learning": "SB3's TD targets are Bellman targets, with no action-gap term",
    "exploration_repeat": "SB3's epsilon-greedy draws a new random action every step",
    "frontier_exploration_eps": "SB3 explores every episode at the schedule's epsilon",
    "frontier_exploration_steps": "SB3 explores every episode at the schedule's epsilon",
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

STEADY_LAST = 5
"""A run's steady return is the mean of its last this-many periodic evaluations: one final snapshot flips between
"solved" and "not solved" from one evaluation to the next, a mean over several does not."""

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
    hyperparameters: DQNConfig
    """Our DQN's settings (SB3's get the same values, see :func:`sb3_kwargs`); those SB3 cannot match at their
    defaults."""
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
        values = self.hyperparameters.to_dict()
        rows = [
            ("policy", self.policy, "policy", "policy"),
            ("net_arch", str(self.policy_kwargs["net_arch"]), "policy_kwargs", "policy_kwargs"),
        ]
        rows += [(name, _text(values[name]), name, name) for name in SB3_FIELDS]
        rows.append(("optimizer", self.hyperparameters.optimizer, "optimizer", "policy_kwargs.optimizer_class"))
        rows += [
            (name, _text(values[name]), name, f"policy_kwargs.optimizer_kwargs.{key}")
            for name, key in OPTIMIZER_FIELDS.items()
        ]
        return rows


_DEFAULTS = {item.name: item.default for item in dataclasses.fields(DQNConfig)}


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
        >>> config = settings.hyperparameters
        >>> config.learning_starts, config.n_steps, config.double_q
        (5000, 3, False)
        >>> sorted(settings.dropped)
        ['double_q', 'dueling', 'precision', 'prioritized_replay']
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
    # Overrides never name the unmatched settings (refused above): one replace sets both, checked once.
    dropped = {
        name: getattr(preset.config, name)
        for name in NO_SB3_EQUIVALENT
        if getattr(preset.config, name) != _DEFAULTS[name]
    }
    config = preset.config.replace(**overrides, **{name: _DEFAULTS[name] for name in dropped})
    if config.max_grad_norm is None:
        raise ValueError("max_grad_norm=None cannot be matched: SB3 always clips the gradient norm. Give a number.")
    return MatchedSettings(
        env_id=env_id,
        preset=preset.name,
        policy=preset.policy,
        hyperparameters=config,
        policy_kwargs=policy_kwargs,
        env_kwargs=dict(env_kwargs or {}),
        dropped=dropped,
        threshold=gym.spec(env_id).reward_threshold,
    )


def sb3_kwargs(settings: MatchedSettings) -> dict[str, Any]:
    """Keyword arguments for ``stable_baselines3.DQN(settings.policy, env, **kwargs)`` (besides seed and device)."""
    import torch

    values = settings.hyperparameters.to_dict()
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


def make_agent(algorithm: str, settings: MatchedSettings, env: gym.Env, seed: int) -> Any:
    """A fresh DQN of ``algorithm`` (``"mario_zoo"`` or ``"sb3"``) on ``env``, on the CPU, seeded with ``seed``.

    Example:
        >>> settings = matched_settings("CartPole-v1", 50_000)
        >>> ours = make_agent("mario_zoo", settings, gym.make("CartPole-v1"), seed=0)
        >>> theirs = make_agent("sb3", settings, gym.make("CartPole-v1"), seed=0)
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
            config=settings.hyperparameters,
        )
    if algorithm == "sb3":
        from stable_baselines3 import DQN as SB3DQN

        return SB3DQN(settings.policy, env, seed=seed, device="cpu", **sb3_kwargs(settings))
    raise ValueError(f"Unknown algorithm {algorithm!r}; valid algorithms: {', '.join(ALGORITHMS)}.")


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
    steady_last: int = 5
    """Periodic evaluations whose mean return makes a run's steady return (the last ones)."""
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
    steady_last: int = STEADY_LAST,
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
        "steady_last": steady_last,
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
        steady_last=steady_last,
        progress=progress,
        command=tuple(command),
    )
