"""Put a trained agent into the zoo: bundle it, hash it, evaluate it as shipped, card it, register it, push it.

For maintainers, through ``mario-zoo zoo publish`` (run from the source checkout, whose ``model_cards/`` and
``docs/`` folders it writes). One command makes the registry, the bundled copy, the model card and (with
``--push``) the Hub repo agree byte for byte::

    mario-zoo zoo publish runs/CartPole-v1_dqn_s0_20250101-120000 --name dqn-CartPole-v1
    mario-zoo zoo publish runs/MarioDQN-v0_dqn_s0_20250101-120000 --name dqn-MarioDQN-1-1-v0 \\
        --dtype float16 --episodes 100 --push

It reads the agent from a run folder (preset, seed and command from ``run.json``, wall time from ``monitor.csv``)
or a checkpoint (then ``--command`` says how it was trained, and the preset and seed are read from it), stores its
weights in ``--dtype``, evaluates exactly those files (:func:`mario_zoo.evaluation.evaluate`; Mario: the exact no-op
sweep and the Nature protocol), records a GIF replay into ``<docs_dir>/<name>.gif`` and writes
``<cards_dir>/<name>.md`` (:mod:`mario_zoo.zoo_cards`). Evaluating, carding and (with ``push=True``) uploading the
same bytes in one commit is :func:`mario_zoo.release.release`, the flow ``mario-zoo push`` shares; a push is pinned
in the registry, and without one the pin is kept only if the files did not change. This module sits above the Hub
and the zoo: ``zoo/`` itself only holds the registry and loads agents.

Example:
    >>> import tempfile
    >>> from mario_zoo.zoo.registry import read_registry
    >>> folder = Path(tempfile.mkdtemp())
    >>> shipped = read_registry().bundled_dir("dqn-CartPole-v1")
    >>> published = publish(shipped, "my-cartpole", episodes=2, replay=False, command="mario-zoo train --seed 0",
    ...                     registry=folder / "registry.json", cards_dir=folder / "cards", docs_dir=folder / "docs")
    >>> published.entry.results.mean_reward, published.entry.revision is None
    (500.0, True)
    >>> published.entry.training.preset, published.entry.training.seed
    ('cartpole-fast', 0)
    >>> sorted(path.name for path in published.bundled.iterdir())
    ['config.json', 'model.safetensors']
"""

from __future__ import annotations

import dataclasses
import json
import os
import platform
import shlex
import shutil
import tempfile
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import torch

from mario_zoo.agents import DQN, checkpoint
from mario_zoo.agents.presets import load_preset
from mario_zoo.hub._files import sha256_of
from mario_zoo.planning import choose_preset
from mario_zoo.release import Upload, release
from mario_zoo.results import Evaluation
from mario_zoo.runs import RunConfig, RunFolder
from mario_zoo.snapshots import run_of_agent
from mario_zoo.sources import parse_source
from mario_zoo.zoo.registry import (
    AGENT_FILES,
    DTYPES,
    MAX_WARM_STARTS,
    REGISTRY_FILE,
    Results,
    Training,
    WarmStart,
    ZooEntry,
    check_command,
    check_name,
    check_repo_id,
    init_from_of,
    parse_training,
    read_registry,
)
from mario_zoo.zoo_cards import GIF_FILE, ZooCard
from mario_zoo.zoo_keeping import (
    check_descendants,
    keep,
    previous_to_keep,
    rename_in_cards,
    rename_origin,
    replace_agent_folder,
)

DEFAULT_NAMESPACE = "mario-zoo"
"""The Hub namespace of the project's agents: ``mario-zoo/<name>``."""

_TRAIN_FLAGS_WITHOUT_EFFECT = {"--out": 1, "--no-progress": 0, "--progress": 0}
"""``mario-zoo train`` options (and how many values follow them) that do not change the agent, dropped from the
reproduce command so that it does not point at the maintainer's folders."""


@dataclass(frozen=True)
class Published:
    """What :func:`publish` wrote."""

    entry: ZooEntry
    """The registry entry."""
    registry: Path
    """The registry file it was written to."""
    bundled: Path | None
    """The bundled copy (``None`` with ``bundle=False``)."""
    card: Path
    """The model card."""
    replay_gif: Path | None
    """The GIF replay (``None`` with ``replay=False``)."""
    figures: dict[str, Path]
    """The card's figures written into ``docs_dir``, by their name in the Hub repo: the learning curve (when the
    agent comes from a run folder, or a checkpoint inside one) and, for Mario, the ``x_pos`` histogram."""
    commit: str | None
    """The Hub commit made with ``push=True``."""
    evaluation: Evaluation
    """The evaluation of the shipped files (Mario: the exact no-op sweep)."""
    also: tuple[Evaluation, ...] = ()
    """Its evaluations under other protocols (Mario: the Nature protocol)."""
    kept: ZooEntry | None = None
    """The agent this one replaced, kept under another name (``keep_previous_as``)."""


def publish(
    source: str | os.PathLike[str],
    name: str,
    *,
    repo_id: str | None = None,
    episodes: int = 100,
    dtype: str = "float32",
    bundle: bool = True,
    push: bool = False,
    replay: bool = True,
    command: str | None = None,
    train_seconds: float | None = None,
    hardware: str | None = None,
    registry: str | os.PathLike[str] = REGISTRY_FILE,
    cards_dir: str | os.PathLike[str],
    docs_dir: str | os.PathLike[str],
    keep_previous_as: str | None = None,
) -> Published:
    """Publish the agent at ``source`` (run folder or checkpoint) into the zoo as ``name``.

    Args:
        source: a run folder (its final agent, or its latest checkpoint while it trains) or a checkpoint; a
            checkpoint inside a run folder (``best_model/``, ``checkpoint.zip``) takes the run's command, wall time
            and learning curve.
        name: zoo name, also the Hub repo's name and the card's file stem, e.g. ``dqn-MarioDQN-1-1-v0``.
        repo_id: Hub repo (default ``mario-zoo/<name>``).
        episodes: episodes of the evaluation that counts them: Mario's Nature protocol (beside the exact no-op
            sweep, which plays its 31 starts), other envs' seeded greedy episodes.
        dtype: precision of the shipped weights, ``float32`` or ``float16`` (halves the file; evaluated as stored).
        bundle: ship a copy inside the package (``mario_zoo/zoo/bundled/<name>/``).
        push: upload to the Hub in one commit and pin that commit in the registry (needs a write token).
        replay: record ``<docs_dir>/<name>.gif`` (uploaded as ``replay.gif``, with a ``replay.mp4``, when pushing).
        command: how the agent was trained; default: the run's ``mario-zoo train`` command. Required for a
            checkpoint, whose preset and seed are then read from it. Its ``--init-from`` is the warm start the card
            names, and the start of its chain of commands back through the zoo.
        train_seconds: training wall time; default: summed over the sittings in the run's ``monitor.csv``.
        hardware: where it trained; default: this machine.
        registry: the registry file to update; bundled copies go next to it, in ``bundled/``.
        cards_dir: where the model card goes (the project's ``model_cards/``).
        docs_dir: where the GIF goes (the project's ``docs/``).
        keep_previous_as: keep the zoo's agent ``name`` that this one replaces under this new name (its weights,
            results, card and figures). Required when the agent was warm-started from the agent it replaces
            (``--init-from name``), or other zoo agents were and the files differ: every chain of commands through
            it then names the kept agent, in the registry and in the cards (:mod:`mario_zoo.zoo_keeping`).
    """
    repo_id = _check_options(name, repo_id, dtype, episodes)
    zoo = read_registry(registry)
    run, path, training = _agent_of(source, command, train_seconds, hardware)
    # The warm start: as --command says, else as the run recorded it (and when the run started, for its walk back).
    settings = run.read_config() if run is not None and not command else None
    init_from = init_from_of(command) if command else settings.init_from if settings is not None else None
    started = settings.created if settings is not None else None
    training = dataclasses.replace(training, warm_starts=warm_start_stages(init_from, started))
    parse_training(json.loads(json.dumps(dataclasses.asdict(training))), f"{name}: training")  # before any write
    before, kept = zoo, previous_to_keep(zoo, name, training.origin, keep_previous_as)
    if kept is not None:
        training = rename_origin(training, name, kept.name)
        init_from = kept.name if init_from == name else init_from
    stored = checkpoint.read_checkpoint(path)
    env_id, env_kwargs = stored.config.env_id, stored.config.env_kwargs  # the play env: training-only options apart
    if not env_id:
        raise ValueError(f"{path} was trained on an env without a registered Gymnasium ID; the zoo cannot replay it.")
    with tempfile.TemporaryDirectory(prefix="mario-zoo-publish-") as staging:
        shipped = stage_agent(path, stored, dtype, Path(staging) / "agent")
        model = DQN.load(shipped, device="cpu")
        files = agent_digests(shipped)
        check_descendants(zoo, name, files, kept)
        if kept is not None:
            zoo = keep(zoo, zoo.entries[name], kept, Path(cards_dir), Path(docs_dir))
        within_run = _within_run(run, path) if parse_source(os.fspath(source)).kind == "checkpoint" else ""
        page = ZooCard(name, repo_id, model, stored.config.to_json(), training, dtype, bundle, push, replay, run,
                       init_from, zoo, Path(cards_dir), Path(docs_dir), within_run)  # fmt: skip
        upload = Upload(repo_id, video=replay, files=shipped) if push else None
        released = release(model, env_id, env_kwargs, episodes=episodes, card=page, upload=upload)
        commit = None if released.commit is None else released.commit.oid
        entry = ZooEntry(
            name=name,
            repo_id=repo_id,
            revision=_revision(zoo.entries.get(name), repo_id, files, commit),
            env_id=env_id,
            env_kwargs=env_kwargs,
            files=files,
            bundled=bundle,
            dtype=dtype,
            results=Results.of(released.evaluation),
            training=training,
            card=_display_path(page.path),
            other_results={other.protocol: Results.of(other) for other in released.also},
        )
        bundled = _bundle(zoo.bundled_dir(name), shipped if bundle else None)
        zoo.with_entry(entry).write()
    if kept is not None:
        rename_in_cards(before, before.entries[name], kept, Path(cards_dir))
    shown = released.card.files if released.card is not None else {}
    figures = {file: local for file, local in shown.items() if file != GIF_FILE}
    return Published(
        entry, zoo.path, bundled, page.path, shown.get(GIF_FILE), figures, commit, released.evaluation, released.also,
        kept,
    )  # fmt: skip


def warm_start_stages(init_from: str | None, started: str | None = None) -> tuple[WarmStart, ...]:
    """The runs a training's ``--init-from`` leads back through, oldest first: while it names weights in a run
    folder (the run itself, its ``model/``, ``best_model/``, ``checkpoint.zip`` or a snapshot), that run's command
    (with its ``--out``) and steps, then the run's own ``--init-from``, and so on.

    ``started`` is when the run naming ``init_from`` was created (``run.json``'s ``created``): a whole run folder
    names its latest agent, which counts only if it was saved before then (the folder may have trained on since).
    The walk stops, and the chain then begins with an ``--init-from`` it does not follow, at a zoo agent or Hub repo
    (whose training the zoo's lineage gives), at weights outside any run or saved after that start, at a path that
    is gone, at a run recorded without a ``mario-zoo train`` command (one started from Python), at a run met twice,
    and after :data:`~mario_zoo.zoo.registry.MAX_WARM_STARTS` runs.

    Example:
        >>> warm_start_stages(None), warm_start_stages("dqn-MarioDQN-1-1-v0")
        ((), ())
    """
    stages: list[WarmStart] = []
    seen: set[Path] = set()
    while init_from is not None and len(stages) < MAX_WARM_STARTS:
        found = _warm_start(init_from, started, seen)
        if found is None:
            break
        stage, settings = found
        stages.insert(0, stage)
        init_from, started = settings.init_from, settings.created
    return tuple(stages)


def _warm_start(init_from: str, started: str | None, seen: set[Path]) -> tuple[WarmStart, RunConfig] | None:
    """The run whose weights ``init_from`` names, and its settings; ``None`` where :func:`warm_start_stages` stops."""
    try:
        source = parse_source(init_from)
        if source.kind not in ("run", "checkpoint"):
            return None
        run = run_of_agent(source.location)
        if run is None or run.path.resolve() in seen:
            return None
        agent = run.latest_agent() if source.kind == "run" else Path(source.location)
        if agent is None or (source.kind == "run" and started is not None and _saved_after(agent, started)):
            return None
        settings, steps = run.read_config(), checkpoint.read_config(agent).num_timesteps
        words = check_command(reproduce_command(settings.command), f"{run.path}'s command")
    except (ValueError, FileNotFoundError):
        return None
    seen.add(run.path.resolve())
    seconds = run.wall_seconds(steps)
    stage = WarmStart(
        agent=init_from,
        command=shlex.join([*words, "--out", run.path.as_posix()]),
        total_timesteps=steps,
        wall_time_seconds=None if seconds is None else round(seconds, 1),
    )
    return stage, settings


def _within_run(run: RunFolder | None, path: Path) -> str:
    """``path`` relative to ``run``'s folder (``snapshots/step-000100000``), or empty outside any run.

    Example:
        >>> _within_run(RunFolder(Path("runs/a")), Path("runs/a/snapshots/step-000100000"))
        'snapshots/step-000100000'
    """
    if run is None:
        return ""
    resolved, folder = path.resolve(), run.path.resolve()
    return resolved.relative_to(folder).as_posix() if resolved.is_relative_to(folder) else ""


def _saved_after(agent: Path, created: str) -> bool:
    """Whether the checkpoint ``agent`` was last written after the ISO time ``created`` (to the second, which is
    what ``run.json`` keeps; an unreadable time: yes)."""
    written = (agent / checkpoint.CONFIG_FILE if agent.is_dir() else agent).stat().st_mtime
    try:
        return written >= datetime.fromisoformat(created).timestamp() + 1
    except ValueError:
        return True


def _check_options(name: str, repo_id: str | None, dtype: str, episodes: int) -> str:
    """Refuse a bad name, repo id, dtype or episode count; returns the repo id (default ``mario-zoo/<name>``)."""
    check_name(name)
    repo_id = repo_id or f"{DEFAULT_NAMESPACE}/{name}"
    check_repo_id(repo_id)
    if dtype not in DTYPES:
        raise ValueError(f"dtype must be one of {', '.join(DTYPES)}, got {dtype!r}.")
    if isinstance(episodes, bool) or not isinstance(episodes, int) or episodes < 1:
        raise ValueError(f"episodes must be an int >= 1, got {episodes!r}.")
    return repo_id


def _agent_of(
    source: str | os.PathLike[str], command: str | None, train_seconds: float | None, hardware: str | None
) -> tuple[RunFolder | None, Path, Training]:
    """The run folder the agent comes from (if any), the checkpoint to ship, and how it was trained."""
    agent = parse_source(os.fspath(source))
    if agent.kind not in ("run", "checkpoint"):
        raise ValueError(f"Publish a run folder or a checkpoint, not {agent}: the zoo ships files it has evaluated.")
    location = Path(agent.location)  # the run folder itself, or one holding the checkpoint or snapshot
    run = run_of_agent(location)
    path, training = _provenance(agent.kind, location, command, train_seconds, hardware, run)
    return run, path, training


def _revision(previous: ZooEntry | None, repo_id: str, files: dict[str, str], commit: str | None) -> str | None:
    """The Hub commit to pin: the one just pushed; else the previous pin, while the repo and files are those it
    pinned."""
    if commit is not None:
        return commit
    unchanged = previous is not None and (previous.repo_id, previous.files) == (repo_id, files)
    return previous.revision if unchanged and previous is not None else None


def _bundle(bundled: Path, shipped: Path | None) -> Path | None:
    """Copy the shipped files into the package's ``bundled`` folder, or (``None``) remove a stale copy, which would
    fail its hashes; returns the bundled copy."""
    if shipped is None:
        shutil.rmtree(bundled, ignore_errors=True)
        return None
    replace_agent_folder(shipped, bundled)
    return bundled


def agent_digests(shipped: Path) -> dict[str, str]:
    """The sha256 of each file of the agent staged in ``shipped``, as the registry records them."""
    return {file: sha256_of(shipped / file) for file in AGENT_FILES}


def stage_agent(path: Path, stored: checkpoint.Checkpoint, dtype: str, shipped: Path) -> Path:
    """Write the files to ship into ``shipped``: the online network's weights in ``dtype`` (an agent to play or
    fine-tune needs no target network: loading starts it as a copy, as a fresh agent's; this halves the download),
    or the very bytes at ``path`` where they are unchanged (so that their sha256, evaluated and published before, stay
    the same)."""
    weights = {key: _cast(tensor, dtype) for key, tensor in checkpoint.online_only(stored.model).items()}
    unchanged = (
        path.is_dir()
        and stored.optimizer is None
        and not stored.target_stored
        and all(tensor.dtype == stored.model[key].dtype for key, tensor in weights.items())
    )
    if unchanged:
        shipped.mkdir()
        for file in AGENT_FILES:
            shutil.copyfile(path / file, shipped / file)
    else:
        checkpoint.write_checkpoint(shipped, stored.config, weights)
    return shipped


def _provenance(
    kind: str,
    location: Path,
    command: str | None,
    train_seconds: float | None,
    hardware: str | None,
    run: RunFolder | None = None,
) -> tuple[Path, Training]:
    """The checkpoint to ship and how it was trained (``run``: the run folder it comes from, if any)."""
    hardware = hardware or f"{platform.machine()} CPU, {os.cpu_count()} cores"
    if run is not None:
        path = run.latest_agent() if kind == "run" else location
        if path is None:
            raise ValueError(f"Run {location} has no checkpoint yet; publish it once it has saved one.")
        settings = run.read_config()
        steps = checkpoint.read_config(path).num_timesteps
        seconds = train_seconds if train_seconds is not None else run.wall_seconds(steps)
        return path, Training(
            preset=settings.preset,
            seed=settings.seed,
            total_timesteps=steps,
            wall_time_seconds=None if seconds is None else round(seconds, 1),
            hardware=hardware,
            command=command or run_training_command(settings, steps),
        )
    if not command:
        raise ValueError(
            f"{location} is a checkpoint, which does not say how it was trained: pass --command with the command "
            "that trains it (or publish its run folder, whose run.json has it)."
        )
    config = checkpoint.read_config(location)
    preset, seed = command_settings(command, config.env_id)
    return location, Training(
        preset=preset,
        seed=seed,
        total_timesteps=config.num_timesteps,
        wall_time_seconds=train_seconds,
        hardware=hardware,
        command=command,
    )


def command_settings(command: str, env_id: str | None = None) -> tuple[str, int]:
    """The preset and seed a ``mario-zoo train`` command trains with (its defaults where it names none).

    ``env_id`` is the env the agent plays, which picks the default preset when the command names neither
    ``--preset`` nor ``--env``. A ``# comment`` at the end is ignored.

    Example:
        >>> command_settings("mario-zoo train --preset mario --steps 2e6 --seed 0  # checkpoint at step 650,000")
        ('mario', 0)
        >>> command_settings("mario-zoo train --seed=3", "CartPole-v1")
        ('cartpole-fast', 3)
        >>> command_settings("python train.py")
        Traceback (most recent call last):
        ...
        ValueError: The training command must be a `mario-zoo train ...` command line, got 'python train.py'.
    """
    words = check_command(command, "The training command")
    options: dict[str, str] = {}
    for index, word in enumerate(words):
        flag, equals, value = word.partition("=")
        if flag in ("--preset", "--env", "--seed"):
            options[flag] = value if equals else (words[index + 1] if index + 1 < len(words) else "")
    try:
        seed = int(options.get("--seed", "0"))
    except ValueError:
        raise ValueError(f"--seed in the training command must be an integer, got {options['--seed']!r}.") from None
    return choose_preset(options.get("--preset"), options.get("--env") or env_id).name, seed


def reproduce_command(command: list[str]) -> str:
    """A run's ``mario-zoo train`` command without the options that only concern the machine it ran on.

    Example:
        >>> reproduce_command(["mario-zoo", "train", "--seed", "0", "--out", "/tmp/run", "--no-progress"])
        'mario-zoo train --seed 0'
    """
    kept: list[str] = []
    skip = 0
    for word in command:
        if skip:
            skip -= 1
        elif word in _TRAIN_FLAGS_WITHOUT_EFFECT:
            skip = _TRAIN_FLAGS_WITHOUT_EFFECT[word]
        elif not word.startswith("--out="):
            kept.append(word)
    return shlex.join(kept)


def run_training_command(settings: RunConfig, steps: int) -> str:
    """The command that trained a run's agent at step ``steps`` (:func:`reproduce_command` of ``run.json``'s), with
    a comment where that command alone does not end at this agent: a ``--resume --steps`` that extended the run, an
    agent taken before the run's end (a snapshot, ``best_model/``, the checkpoint of an unfinished run).

    Example:
        >>> from mario_zoo.runs import RunConfig
        >>> settings = RunConfig(env_id="CartPole-v1", preset="cartpole-fast", policy="MlpPolicy", total_timesteps=4000,
        ...                      seed=1, command=["mario-zoo", "train", "--steps", "3000", "--out", "r"])
        >>> run_training_command(settings, 3500)
        'mario-zoo train --steps 3000    # how it was trained, then --resume RUN --steps 4000; this agent: step 3,500'
        >>> run_training_command(settings, 1000)  # a snapshot the first command made
        'mario-zoo train --steps 3000    # how it was trained; this agent: step 1,000'
        >>> run_training_command(dataclasses.replace(settings, total_timesteps=3000), 3072)
        'mario-zoo train --steps 3000'
    """
    notes = []
    planned = _planned_steps(settings)
    if planned is not None and planned != settings.total_timesteps and steps > planned:
        notes.append(f"how it was trained, then --resume RUN --steps {settings.total_timesteps}")
    if steps < settings.total_timesteps:
        notes.append(f"this agent: step {steps:,}")
    if notes and not notes[0].startswith("how"):
        notes.insert(0, "how it was trained")
    command = reproduce_command(settings.command)
    return f"{command}    # {'; '.join(notes)}" if notes else command


def _planned_steps(settings: RunConfig) -> int | None:
    """The step target of ``run.json``'s command (its ``--steps``, or a prefix argparse took for it, else its
    preset's), ``None`` if unknown."""
    words = settings.command
    for index, word in enumerate(words):
        flag, equals, value = word.partition("=")
        if len(flag) > 2 and "--steps".startswith(flag):  # argparse takes a prefix that names one option
            value = value if equals else (words[index + 1] if index + 1 < len(words) else "")
            try:
                return int(float(value.replace("_", "")))
            except ValueError:
                return None
    try:
        return load_preset(settings.preset).n_timesteps
    except (ValueError, OSError):
        return None


def _cast(tensor: torch.Tensor, dtype: str) -> torch.Tensor:
    return tensor.to(getattr(torch, dtype)) if tensor.is_floating_point() else tensor


def _display_path(path: Path) -> str:
    """``path`` relative to the working folder when inside it (the checkout, where cards are referred to), else
    absolute."""
    resolved, here = path.resolve(), Path.cwd().resolve()
    return resolved.relative_to(here).as_posix() if resolved.is_relative_to(here) else str(resolved)
