"""Plan a training run before anything is written: the preset, the ``--hp`` overrides, the env and its kwargs,
the evaluation settings and a warm start, checked into one :class:`~mario_zoo.runs.RunConfig` (``run.json``); and
the plan of a resume from a run folder. Bad input raises a ``ValueError`` or ``TypeError`` naming the valid choices;
:func:`build_model` builds the agent in memory. :mod:`mario_zoo.training` trains it.

Example:
    >>> config = plan_run(preset="cartpole-fast", steps=200, seed=0, device="cpu")
    >>> config.total_timesteps, config.hyperparameters.double_q
    (200, True)
    >>> plan_run(preset="cartpole-fast", overrides={"gama": 0.9})  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    ValueError: Unknown --hp key 'gama' (did you mean 'gamma'?); valid keys: ...
"""

from __future__ import annotations

import dataclasses
import difflib
import functools
import os
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import gymnasium as gym
import torch

from mario_zoo.agents import DQN, DQNConfig, checkpoint, training_state
from mario_zoo.agents.config import whole_numbers
from mario_zoo.agents.device import check_device
from mario_zoo.agents.presets import Preset, load_preset, preset_names
from mario_zoo.agents.replay_memory import check_run_memory
from mario_zoo.envs import parse_env_id
from mario_zoo.envs.frontier_archive import read_archive
from mario_zoo.envs.spec import check_env_kwargs
from mario_zoo.evaluation import is_mario, run_protocol
from mario_zoo.run_lock import check_not_in_use
from mario_zoo.runs import RunConfig, RunFolder, open_run, read_evaluations

DEFAULT_ENV = "CartPole-v1"
"""The env ``mario-zoo train`` trains on when given neither ``--preset`` nor ``--env`` (as rl-zoo does)."""
MARIO_GENERIC_ID = "MarioDQN-v0"
"""The Mario ID not tied to a level in its name: presets on it are the default for every level."""

DEFAULT_SAVE_FREQ = 10_000
"""Env steps between checkpoints."""

CNN_POLICIES = ("CnnPolicy", "DuelingCnnPolicy")
"""Policies that read images: their runs save the replay buffer with each checkpoint unless told not to."""

POLICY_KWARGS_KEY = "policy_kwargs"
"""The one override that is not a :class:`~mario_zoo.agents.DQNConfig` field: network options, a mapping."""


def default_actors(preset: Preset) -> int:
    """Actor processes a run uses unless ``--hp actors=N`` says otherwise: one for image presets (CNN policies:
    ``mario``, ``mario-1-1``) on a machine with at least 2 cores (the emulator steps on one core while the updates
    run on another), else none.

    Example:
        >>> default_actors(load_preset("cartpole-fast"))
        0
    """
    return 1 if preset.policy in CNN_POLICIES and (os.process_cpu_count() or 1) >= 2 else 0


def override_keys() -> tuple[str, ...]:
    """The keys ``--hp`` accepts: every DQN hyperparameter, and ``policy_kwargs``."""
    return (*DQNConfig.field_names(), POLICY_KWARGS_KEY)


def choose_preset(preset: str | Preset | None, env_id: str | None) -> Preset:
    """The preset ``preset`` (a :class:`Preset`, or its name or file); else the quickest one tuned for ``env_id``
    (default ``CartPole-v1``).

    Example:
        >>> choose_preset(None, None).name, choose_preset(None, "MarioDQN-4-2-v0").name
        ('cartpole-fast', 'mario')
        >>> choose_preset(None, "MarioDQN-1-1-v0").name
        'mario-1-1'
        >>> choose_preset(None, "Acrobot-v1")  # doctest: +ELLIPSIS
        Traceback (most recent call last):
        ...
        ValueError: No preset is tuned for Acrobot-v1; pass --preset NAME to use one anyway (valid presets: ...).
    """
    if isinstance(preset, Preset):
        return preset
    if preset is not None:
        return load_preset(preset)
    env_id = env_id or DEFAULT_ENV
    presets = [load_preset(name) for name in preset_names()]
    # The presets of this very ID; else, for a Mario level, those not tied to a level's own ID (MarioDQN-v0).
    tuned = [item for item in presets if item.env_id == env_id] or [
        item for item in presets if is_mario(env_id) and item.env_id == MARIO_GENERIC_ID
    ]
    if not tuned:
        raise ValueError(
            f"No preset is tuned for {env_id}; pass --preset NAME to use one anyway (valid presets: "
            f"{', '.join(preset_names())})."
        )
    # min() keeps the first of equals, so file order breaks ties.
    return min(tuned, key=lambda item: item.n_timesteps)


def check_env_id(env_id: str) -> None:
    """Raise a ``ValueError`` naming the valid choices if ``env_id`` is not a registered Gymnasium ID.

    Example:
        >>> check_env_id("CartPol-v1")  # doctest: +ELLIPSIS
        Traceback (most recent call last):
        ...
        ValueError: Unknown env ID 'CartPol-v1' (did you mean 'CartPole-v1'?); valid IDs: ...
    """
    if env_id in gym.registry:
        return
    if env_id.startswith("MarioDQN"):
        parse_env_id(env_id)  # raises with the valid Mario IDs
    close = difflib.get_close_matches(env_id, list(gym.registry), n=1)
    hint = f" (did you mean {close[0]!r}?)" if close else ""
    raise ValueError(
        f"Unknown env ID {env_id!r}{hint}; valid IDs: MarioDQN-v0 and MarioDQN-<world>-<stage>-v0 (`mario-zoo "
        "envs` lists them) or any registered Gymnasium ID with discrete actions, e.g. CartPole-v1, Acrobot-v1."
    )


def plan_run(
    *,
    preset: str | Preset | None = None,
    env_id: str | None = None,
    overrides: dict[str, Any] | None = None,
    env_kwargs: dict[str, Any] | None = None,
    seed: int = 0,
    steps: int | None = None,
    device: str = "auto",
    save_freq: int = DEFAULT_SAVE_FREQ,
    save_replay: bool | None = None,
    eval_episodes: int = 10,
    eval_freq: int | None = None,
    eval_protocol: str | None = None,
    snapshot_freq: int | None = None,
    command: list[str] | None = None,
    init_from: str | None = None,
    frontier_from: str | os.PathLike[str] | None = None,
) -> RunConfig:
    """Check a new run's settings and return its ``run.json`` contents; writes nothing.

    Args:
        preset: ``dqn.yml`` preset name, the path of a preset .yml file such as a sweep's ``best.yml``, or a
            :class:`~mario_zoo.agents.presets.Preset` (a sweep trial's) (default: see :func:`choose_preset`).
        env_id: env to train on (default: the preset's).
        overrides: hyperparameters replacing the preset's (``--hp``): DQN fields and ``policy_kwargs``.
        env_kwargs: ``gym.make`` keyword arguments, added to (and replacing) the preset's ``env_kwargs``.
        seed: seed of the model, env and exploration.
        steps: step target (default: the preset's ``n_timesteps``).
        device: torch device.
        save_freq: env steps between checkpoints.
        save_replay: checkpoints also hold the replay buffer and RNG states (default: for CNN policies, which
            read images, where refilling the buffer costs the most).
        eval_episodes: episodes of the final evaluation (0 = none), and of each periodic one.
        eval_freq: env steps between periodic evaluations (``None`` = none); needs ``eval_episodes >= 1``.
        eval_protocol: protocol of those evaluations (:data:`mario_zoo.evaluation.PROTOCOLS`; default: the env's,
            Mario's exact no-op sweep, which plays its 31 starts whatever ``eval_episodes`` says).
        snapshot_freq: env steps between snapshots of the agent in the run's ``snapshots/`` (``None`` = none).
        command: the command line, kept in ``run.json``.
        init_from: the agent the network starts from, for the record (:func:`build_model` takes its weights).
        frontier_from: a frontier archive (another run's ``frontier.json``, or one kept beside a recipe) the run's
            frontier starts begin with, instead of the ``init_from`` run's (``--frontier-from``); it must hold the
            level the run trains on, and the run must use frontier starts.
    """
    if env_id is not None:
        check_env_id(env_id)
    chosen = choose_preset(preset, env_id)
    env_id = env_id or chosen.env_id
    check_env_kwargs(env_id, {**chosen.env_kwargs, **(env_kwargs or {})})
    check_device(device)
    overrides = dict(overrides or {})
    policy_kwargs, hyperparameters = _apply_overrides(chosen, overrides)
    _check_counts(
        ("seed", seed, 0), ("steps", steps, 1), ("save_freq", save_freq, 1), ("snapshot_freq", snapshot_freq, 1)
    )
    if isinstance(eval_episodes, bool) or not isinstance(eval_episodes, int) or eval_episodes < 0:
        raise ValueError(f"eval_episodes must be an int >= 0, got {eval_episodes!r}.")
    _check_eval_freq(eval_freq, eval_episodes)
    if eval_episodes:
        run_protocol(env_id, eval_protocol, eval_episodes)  # a bad name or a protocol the env lacks: refused now
    env_kwargs = {**chosen.env_kwargs, **(env_kwargs or {})}
    if frontier_from is not None:
        frontier_from = check_frontier_from(frontier_from, env_id, env_kwargs)
    return RunConfig(
        env_id=env_id,
        preset=chosen.name,
        policy=chosen.policy,
        total_timesteps=steps or chosen.n_timesteps,
        seed=seed,
        device=device,
        hyperparameters=hyperparameters,
        policy_kwargs=policy_kwargs,
        env_kwargs=env_kwargs,
        overrides=overrides,
        save_freq=save_freq,
        save_replay=chosen.policy in CNN_POLICIES if save_replay is None else bool(save_replay),
        eval_episodes=eval_episodes,
        eval_freq=eval_freq,
        eval_protocol=eval_protocol,
        snapshot_freq=snapshot_freq,
        command=list(command or []),
        init_from=init_from,
        frontier_from=frontier_from,
    )


def check_frontier_from(path: str | os.PathLike[str], env_id: str, env_kwargs: Mapping[str, Any]) -> str:
    """``path`` as ``run.json`` records it, once it is a readable frontier archive of the level a run with
    ``env_kwargs`` plays on ``env_id`` and that run uses frontier starts; a ``ValueError`` naming the fix otherwise.

    Example:
        >>> check_frontier_from("missing.json", "MarioDQN-1-3-v0", {"frontier_fraction": 0.5})
        Traceback (most recent call last):
        ...
        ValueError: --frontier-from missing.json: no such file (a frontier archive, such as a run's frontier.json).
    """
    if not isinstance(path, str | os.PathLike):
        raise TypeError(f"frontier_from must be a file path (str), got {path!r}.")
    if not is_mario(env_id) or not env_kwargs.get("frontier_fraction"):
        raise ValueError(
            f"--frontier-from {os.fspath(path)} seeds frontier starts, which {env_id} with these settings does not "
            "use; pass a Mario env with --env-kwargs frontier_fraction=F (F > 0), or drop --frontier-from."
        )
    if not os.path.isfile(path):
        raise ValueError(
            f"--frontier-from {os.fspath(path)}: no such file (a frontier archive, such as a run's frontier.json)."
        )
    try:
        read_archive(path, _level(env_id, env_kwargs))
    except (OSError, ValueError) as error:
        raise ValueError(f"--frontier-from: {str(error).rstrip('.')}.") from None
    return os.fspath(path)


def _apply_overrides(preset: Preset, overrides: dict[str, Any]) -> tuple[dict[str, Any], DQNConfig]:
    """``preset``'s network options and config with the ``--hp`` ``overrides`` and the default ``actors`` applied: one
    :meth:`DQNConfig.replace`, so the config is checked once."""
    unknown = [key for key in overrides if key not in override_keys()]
    if unknown:
        close = difflib.get_close_matches(unknown[0], override_keys(), n=1)
        hint = f" (did you mean {close[0]!r}?)" if close else ""
        if unknown[0] in ("net_arch", "activation_fn", "features_extractor_kwargs", "normalize_images"):
            hint = f' (a network option: --hp "policy_kwargs={{{unknown[0]}: ...}}")'
        raise ValueError(f"Unknown --hp key {unknown[0]!r}{hint}; valid keys: {', '.join(override_keys())}.")
    network = overrides.get(POLICY_KWARGS_KEY, {})
    if not isinstance(network, dict):
        raise ValueError(f"policy_kwargs must be a mapping such as {{net_arch: [64, 64]}}, got {network!r}.")
    changes = whole_numbers({key: value for key, value in overrides.items() if key != POLICY_KWARGS_KEY})
    if "actors" not in preset.written and "actors" not in changes and default_actors(preset):
        changes["actors"] = default_actors(preset)
    return {**preset.policy_kwargs, **network}, preset.config.replace(**changes)


def build_model(config: RunConfig, init_weights: Mapping[str, torch.Tensor] | None = None) -> DQN:
    """A fresh DQN for ``config``, on an env without logging (:func:`train` attaches the logging one).

    Building it checks what only the env can tell (kwargs, spaces, network options); errors are ``ValueError`` or
    ``TypeError``. With ``init_weights`` (a trained agent's ``policy.state_dict()``: rl-zoo's ``--trained-agent``, our
    ``--init-from``) the network (online and target; a zoo agent, which ships its online network alone, gives its
    online one to both) starts from those weights; the optimizer, the replay buffer, the step counter and
    exploration start afresh, and the replay fills with the network's own epsilon-greedy play from the first step
    (no ``learning_starts`` of uniformly random actions; epsilon follows the schedule, so a warm start wants a low
    ``exploration_initial_eps``). Its network must be the one ``config`` builds: any other is a
    ``ValueError`` naming the weights that differ.
    """
    # A factory rather than an env instance, so that a model with actors can build its env in them.
    model = DQN(
        config.policy,
        functools.partial(gym.make, config.env_id, **config.env_kwargs),
        policy_kwargs=config.policy_kwargs,
        seed=config.seed,
        device=config.device,
        config=config.hyperparameters,
    )
    if init_weights is not None:
        _warm_start(model, init_weights, config.init_from or "the initial agent")
    _check_run_memory(model, config.total_timesteps)
    return model


def _check_run_memory(model: DQN, steps: int) -> None:
    """Refuse, before a run folder is written, a replay buffer that the ``steps`` a run stores could never fit in this
    machine's memory (``learn`` would refuse it only after the folder exists)."""
    try:
        check_run_memory(model.config.buffer_size, model.observation_space, model.config.frame_stack_replay, steps)
    except ValueError:
        if model.env is not None:
            model.env.close()
        raise


def _warm_start(model: DQN, weights: Mapping[str, torch.Tensor], name: str) -> None:
    mine = model.policy.state_dict()
    differing = sorted(
        key
        for key in set(mine) | set(weights)
        if key not in mine or key not in weights or tuple(mine[key].shape) != tuple(weights[key].shape)
    )
    if differing:
        shown = ", ".join(
            f"{key} ({tuple(weights[key].shape) if key in weights else 'absent'} vs "
            f"{tuple(mine[key].shape) if key in mine else 'absent'})"
            for key in differing[:3]
        )
        raise ValueError(
            f"--init-from {name}: its network differs from this run's in {len(differing)} weight(s): {shown}"
            f"{' ...' if len(differing) > 3 else ''}. Warm-start from an agent with the same env, action set and "
            "policy_kwargs (net_arch, dueling)."
        )
    model.policy.load_state_dict(weights)  # copies into the model's tensors, in their dtype (float16 weights too)
    model.reset_averaged_weights()
    # A trained network explores better than uniform actions: random ones would fill the replay with early deaths.
    model.random_steps = 0


@dataclass(frozen=True)
class ResumePlan:
    """What :func:`resume` continues."""

    run: RunFolder
    """The run folder."""
    config: RunConfig
    """Its settings, with a new step target or device if asked."""
    start: int
    """Steps its checkpoint holds (0: it was killed before the first checkpoint, so it starts over)."""


def plan_resume(
    path: str | os.PathLike[str],
    *,
    steps: int | None = None,
    device: str | None = None,
    eval_episodes: int | None = None,
    save_replay: bool | None = None,
    eval_freq: int | None = None,
    snapshot_freq: int | None = None,
) -> ResumePlan:
    """Check that the run at ``path`` can continue; ``steps``, ``device``, ``eval_episodes``, ``eval_freq``,
    ``snapshot_freq`` and ``save_replay`` replace its settings when given. Writes nothing.

    Raises :class:`~mario_zoo.run_lock.RunInUseError` (a ``ValueError`` naming the pid) if a live process is training
    the run.
    """
    run = open_run(path)
    check_not_in_use(run)
    config = run.read_config()
    start = 0
    if run.checkpoint.is_file():
        try:
            start = checkpoint.read_config(run.checkpoint).num_timesteps
        except (OSError, ValueError) as error:
            reason = str(error).rstrip(".")
            agents = [folder for folder in (run.model, run.best_model) if folder.is_dir()]
            warm = f"start a new run from its agent (mario-zoo train --init-from {agents[0]}), or " if agents else ""
            raise ValueError(
                f"Cannot resume {run.path}: its checkpoint is unreadable ({reason}). Nothing was changed: {warm}"
                f"restore {run.checkpoint.name} from a backup."
            ) from error
    if steps is not None:
        if isinstance(steps, bool) or not isinstance(steps, int) or steps <= start:
            raise ValueError(f"--steps must be more than the {start} steps {run.path} has done, got {steps!r}.")
        config = dataclasses.replace(config, total_timesteps=steps)
    elif config.status == "finished":
        raise ValueError(
            f"Run {run.path} already finished its {config.total_timesteps} steps; pass --steps N (N > {start}) "
            "to train it further."
        )
    _check_started_over_is_safe(run, config)
    if device is not None:
        check_device(device)
        config = dataclasses.replace(config, device=device)
    if eval_episodes is not None:
        config = dataclasses.replace(config, eval_episodes=eval_episodes)
    if save_replay is not None:
        config = dataclasses.replace(config, save_replay=save_replay)
    if eval_freq is not None:
        config = dataclasses.replace(config, eval_freq=eval_freq)
    if snapshot_freq is not None:
        _check_counts(("snapshot_freq", snapshot_freq, 1))
        config = dataclasses.replace(config, snapshot_freq=snapshot_freq)
    _check_eval_freq(config.eval_freq, config.eval_episodes)
    try:
        check_env_id(config.env_id)  # run.json was checked as data; the env it names must still exist here
        check_env_kwargs(config.env_id, config.env_kwargs)
        run.truncated_logs(start)  # the logs the resume cuts back to the checkpoint, read (not written) now
    except (OSError, ValueError) as error:
        raise ValueError(f"Cannot resume {run.path}: {str(error).rstrip('.')}. Nothing was changed.") from None
    if start and run.frontier_archive.is_file() and is_mario(config.env_id):
        try:
            read_archive(run.frontier_archive, mario_level(config))
        except (OSError, ValueError) as error:
            raise ValueError(f"Cannot resume {run.path}: {str(error).rstrip('.')}. Nothing was changed.") from None
    return ResumePlan(run, config, start)


def _check_started_over_is_safe(run: RunFolder, config: RunConfig) -> None:
    """A run without ``checkpoint.zip`` resumes from step 0, which replaces its logs, agents and snapshots: only
    right for a run stopped before its first checkpoint (at ``save_freq`` steps; an evaluation or a snapshot may come
    before it). One that shows it got past that point lost its checkpoint, and is refused with nothing changed."""
    if run.checkpoint.exists() and not run.checkpoint.is_file():
        raise ValueError(f"Cannot resume {run.path}: {run.checkpoint} is not a file. Nothing was changed.")
    if run.checkpoint.is_file():
        return
    evaluated = max((point.timesteps for point in read_evaluations(run.evaluations)), default=0)
    snapshot = max((steps for steps, _ in run.snapshot_folders()), default=0)
    trained = [
        name
        for name, present in (
            (f"status {config.status!r}", config.status != "running"),
            ("model/", run.model.is_dir()),
            (f"an evaluation at step {evaluated:,}", evaluated >= config.save_freq),
            (f"a snapshot at step {snapshot:,}", snapshot >= config.save_freq),
        )
        if present
    ]
    if trained:
        agents = [folder for folder in (run.model, run.best_model) if folder.is_dir()]
        warm = f", start a new run from its agent (mario-zoo train --init-from {agents[0]})," if agents else ""
        raise ValueError(
            f"Cannot resume {run.path}: it has no {run.checkpoint.name}, but it trained past its first checkpoint "
            f"({', '.join(trained)}); resuming would start it over and replace them. Nothing was changed: restore "
            f"{run.checkpoint.name} from a backup{warm} or delete the run folder to train it again."
        )


def mario_level(config: RunConfig) -> tuple[int, int]:
    """``(world, stage)`` a Mario run plays: its env ID's, unless its ``env_kwargs`` name another.

    Example:
        >>> mario_level(plan_run(env_id="MarioDQN-1-3-v0"))
        (1, 3)
    """
    return _level(config.env_id, config.env_kwargs)


def _level(env_id: str, env_kwargs: Mapping[str, Any]) -> tuple[int, int]:
    world, stage = parse_env_id(env_id)
    return env_kwargs.get("world", world), env_kwargs.get("stage", stage)


def load_resumed_model(plan: ResumePlan, init_weights: Mapping[str, torch.Tensor] | None = None) -> DQN:
    """The model :func:`resume` continues: loaded from the run's checkpoint (with its replay buffer and RNG states
    when it has them), or, if the run was stopped before its first checkpoint, a fresh one (from ``init_weights``,
    the weights of the run's ``init_from``, for a warm start). Writes nothing.

    A damaged checkpoint or replay buffer (a truncated file, a changed sha256) is a ``ValueError`` naming the file,
    raised before anything in the run folder is touched.
    """
    config = plan.config
    try:
        if plan.start and training_state.has_replay(plan.run.checkpoint):
            # Lossless: the buffer and every RNG state come from the checkpoint, so nothing is reseeded.
            model = DQN.load(plan.run.checkpoint, device=config.device)
            model.load_replay_buffer(plan.run.checkpoint)
        elif plan.start:
            # A new seed: a resumed run must not replay the random stream the run started with.
            model = DQN.load(plan.run.checkpoint, device=config.device, seed=(config.seed + plan.start) % 2**32)
            _check_run_memory(model, config.total_timesteps - plan.start)  # its replay starts empty
    except (OSError, ValueError) as error:
        raise ValueError(
            f"Cannot resume {plan.run.path}: {' '.join(str(error).split())} Nothing was changed; the run folder is "
            "as it was."
        ) from error
    if plan.start:
        model.random_steps = 0 if config.init_from else model.random_steps  # as the warm start played
        return model
    if config.init_from and init_weights is None:
        raise ValueError(
            f"{plan.run.path} is a warm start from {config.init_from}: pass its weights to start it again."
        )
    return build_model(config, init_weights)


def _check_counts(*checks: tuple[str, Any, int]) -> None:
    """Refuse each ``(name, value, minimum)`` whose value is given (not ``None``) but not an int >= ``minimum``.

    Example:
        >>> _check_counts(("seed", 0, 0), ("steps", None, 1), ("save_freq", 0, 1))
        Traceback (most recent call last):
        ...
        ValueError: save_freq must be an int >= 1, got 0.
    """
    for name, value, minimum in checks:
        if value is not None and (isinstance(value, bool) or not isinstance(value, int) or value < minimum):
            raise ValueError(f"{name} must be an int >= {minimum}, got {value!r}.")


def _check_eval_freq(eval_freq: int | None, eval_episodes: int) -> None:
    if eval_freq is None:
        return
    if isinstance(eval_freq, bool) or not isinstance(eval_freq, int) or eval_freq < 1:
        raise ValueError(f"eval_freq must be an int >= 1 (env steps between evaluations), got {eval_freq!r}.")
    if eval_episodes < 1:
        raise ValueError(
            f"--eval-freq {eval_freq} evaluates over --eval-episodes episodes, which is {eval_episodes}; pass "
            "--eval-episodes N (N >= 1) or drop --eval-freq."
        )
