"""Put a trained agent into the zoo: bundle it, hash it, evaluate it as shipped, card it, register it, push it.

For maintainers, through ``mario-zoo zoo publish`` (run from the source checkout, whose ``model_cards/`` and
``docs/`` folders it writes). One command makes the registry, the bundled copy, the model card and (with
``--push``) the Hub repo agree byte for byte::

    mario-zoo zoo publish runs/CartPole-v1_dqn_s0_20250101-120000 --name dqn-CartPole-v1
    mario-zoo zoo publish runs/MarioDQN-v0_dqn_s0_20250101-120000 --name dqn-MarioDQN-1-1-v0 \\
        --dtype float16 --episodes 100 --push

It reads the agent from a run folder (preset, seed and command from ``run.json``, wall time from ``monitor.csv``)
or a checkpoint (then ``--command`` says how it was trained, and the preset and seed are read from it), stores its
weights in ``--dtype``, evaluates exactly those files with the project's protocol
(:func:`mario_zoo.evaluation.evaluate`: greedy actions, env seed 0, Mario with 0..30 random no-op starts, x_pos and
flag rate), records a GIF replay into ``<docs_dir>/<name>.gif`` and writes ``<cards_dir>/<name>.md`` with
:func:`mario_zoo.hub.build_model_card`, plus the zoo's own sections (how to load it by name, the replay, how it was
trained). Evaluating, carding and (with ``push=True``) uploading the same bytes, the card, the evaluations, an mp4
replay and the GIF in one commit is :func:`mario_zoo.release.release`, the flow ``mario-zoo push`` shares; a push
is pinned in the registry, and without one the pin is kept only if the files did not change. This module sits above the Hub and the zoo: ``zoo/`` itself only holds the
registry and loads agents.

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

import os
import platform
import shlex
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch
from huggingface_hub import ModelCard

from mario_zoo.agents import DQN, checkpoint
from mario_zoo.atomic import atomic_target
from mario_zoo.evaluation import is_mario
from mario_zoo.hub import build_model_card, write_model_card
from mario_zoo.hub._files import sha256_of
from mario_zoo.milestones import flag_curve, time_to_clear
from mario_zoo.planning import choose_preset
from mario_zoo.plotting import save_learning_curve, save_x_pos_histogram
from mario_zoo.release import Card, Upload, release
from mario_zoo.results import Evaluation
from mario_zoo.runs import RunFolder, open_run, read_evaluations
from mario_zoo.sources import parse_source
from mario_zoo.video import record, record_sweep_replay
from mario_zoo.zoo.registry import (
    AGENT_FILES,
    DTYPES,
    REGISTRY_FILE,
    Registry,
    Results,
    Training,
    ZooEntry,
    check_name,
    check_repo_id,
    read_registry,
)

DEFAULT_NAMESPACE = "mario-zoo"
"""The Hub namespace of the project's agents: ``mario-zoo/<name>``."""

GIF_STRIDE = 2
"""Keep every other frame in replay GIFs: half the file, still real-time playback."""

GIF_MAX_FRAMES = 1_500
"""Cap on a replay GIF's frames (after the stride), so a long Mario episode stays a few megabytes."""

GIF_FILE = "replay.gif"
"""The GIF's name in the Hub repo, where the card's replay section links it."""

X_POS_FILE = "x_pos_histogram.png"
"""Mario: the histogram of where evaluation episodes ended, in the Hub repo."""

CURVE_FILE = "learning_curve.png"
"""The training run's learning curve (and its periodic evaluations), in the Hub repo."""

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
            checkpoint, whose preset and seed are then read from it.
        train_seconds: training wall time; default: summed over the sittings in the run's ``monitor.csv``.
        hardware: where it trained; default: this machine.
        registry: the registry file to update; bundled copies go next to it, in ``bundled/``.
        cards_dir: where the model card goes (the project's ``model_cards/``).
        docs_dir: where the GIF goes (the project's ``docs/``).
    """
    repo_id = _check_options(name, repo_id, dtype, episodes)
    zoo = read_registry(registry)
    run, path, training = _agent_of(source, command, train_seconds, hardware)
    stored = checkpoint.read_checkpoint(path)
    env_id, env_kwargs = stored.config.env_id, stored.config.env_kwargs  # the play env: training-only options apart
    if not env_id:
        raise ValueError(f"{path} was trained on an env without a registered Gymnasium ID; the zoo cannot replay it.")
    with tempfile.TemporaryDirectory(prefix="mario-zoo-publish-") as staging:
        shipped = _stage(path, stored, dtype, Path(staging) / "agent")
        model = DQN.load(shipped, device="cpu")
        files = {file: sha256_of(shipped / file) for file in AGENT_FILES}
        page = _ZooCard(name, repo_id, model, stored.config.to_json(), training, dtype, bundle, push, replay, run,
                        zoo, Path(cards_dir), Path(docs_dir))  # fmt: skip
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
    shown = released.card.files if released.card is not None else {}
    figures = {file: local for file, local in shown.items() if file != GIF_FILE}
    return Published(
        entry, zoo.path, bundled, page.path, shown.get(GIF_FILE), figures, commit, released.evaluation, released.also
    )


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
    run = _run_of(agent.kind, Path(agent.location))
    path, training = _provenance(agent.kind, Path(agent.location), command, train_seconds, hardware, run)
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
    _replace_folder(shipped, bundled)
    return bundled


def _stage(path: Path, stored: checkpoint.Checkpoint, dtype: str, shipped: Path) -> Path:
    """Write the files to ship into ``shipped``: the weights in ``dtype``, or the very bytes at ``path`` where they
    are unchanged (so that their sha256, evaluated and published before, stay the same)."""
    weights = {key: _cast(tensor, dtype) for key, tensor in stored.model.items()}
    unchanged = (
        path.is_dir()
        and stored.optimizer is None
        and all(weights[key].dtype == tensor.dtype for key, tensor in stored.model.items())
    )
    if unchanged:
        shipped.mkdir()
        for file in AGENT_FILES:
            shutil.copyfile(path / file, shipped / file)
    else:
        checkpoint.write_checkpoint(shipped, stored.config, weights)
    return shipped


def _run_of(kind: str, location: Path) -> RunFolder | None:
    """The run folder an agent comes from: the folder itself, or the one holding a checkpoint."""
    if kind == "run":
        return open_run(location)
    return open_run(location.parent) if RunFolder(location.parent).config_file.is_file() else None


@dataclass(frozen=True)
class _ZooCard:
    """Makes a zoo agent's card from its evaluations (:func:`mario_zoo.release.release`'s ``card``): records the
    GIF, draws the figures, writes ``<cards_dir>/<name>.md``; the GIF and figures go up with the card."""

    name: str
    repo_id: str
    model: DQN
    config: dict[str, Any]
    training: Training
    dtype: str
    bundle: bool
    push: bool
    replay: bool
    run: RunFolder | None
    zoo: Registry
    cards_dir: Path
    docs_dir: Path

    @property
    def path(self) -> Path:
        """Where the card is written."""
        return self.cards_dir / f"{self.name}.md"

    def __call__(self, evaluation: Evaluation, also: tuple[Evaluation, ...]) -> Card:
        gif, gif_note = None, None
        if self.replay:
            gif = self.docs_dir / f"{self.name}.gif"
            gif_note = _record_gif(self.model, gif, evaluation)
        figures = _figures(self.name, self.run, evaluation, self.docs_dir)
        model_card = _card(
            self.name,
            self.repo_id,
            self.config,
            evaluation,
            self.training,
            gif_note,
            self.dtype,
            self.bundle,
            video=self.push and self.replay,
            figures=figures,
            init_from=self.run.read_config().init_from if self.run is not None else None,
            also=also,
            clearing=_time_to_clear_section(self.run, evaluation),
            push=self.push,
            zoo=self.zoo,
        )
        write_model_card(model_card, self.name, self.cards_dir)
        return Card(model_card, {**({GIF_FILE: gif} if gif is not None else {}), **figures})


def _record_gif(model: DQN, gif: Path, evaluation: Evaluation) -> str:
    """Record the card's replay GIF on the env ``evaluation`` played; returns what the card says about it."""
    if not is_mario(evaluation.env_id):
        record(model, evaluation.env_id, evaluation.env_kwargs, gif, stride=GIF_STRIDE, max_frames=GIF_MAX_FRAMES)
        return "One greedy episode, env seed 0."
    return record_sweep_replay(model, gif, evaluation, stride=GIF_STRIDE, max_frames=GIF_MAX_FRAMES)[1]


def _figures(name: str, run: RunFolder | None, evaluation: Evaluation, docs_dir: Path) -> dict[str, Path]:
    """The card's figures, written into ``docs_dir`` as ``<name>_<figure>.png``."""
    figures: dict[str, Path] = {}
    if run is not None and run.monitor.is_file():
        figures[CURVE_FILE] = save_learning_curve(
            run.episodes(),
            docs_dir / f"{name}_{CURVE_FILE}",
            title=f"{name}: training episodes",
            evaluations=read_evaluations(run.evaluations) if run.evaluations.is_file() else (),
        )
    if evaluation.flags is not None:
        figures[X_POS_FILE] = save_x_pos_histogram(
            evaluation,
            docs_dir / f"{name}_{X_POS_FILE}",
            title=f"{name}: {evaluation.n_eval_episodes} episodes, {evaluation.protocol} protocol",
        )
    return figures


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
            command=command or reproduce_command(settings.command),
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
    words = shlex.split(command, comments=True)
    if words[:2] != ["mario-zoo", "train"]:
        raise ValueError(f"The training command must be a `mario-zoo train ...` command line, got {command!r}.")
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


def _cast(tensor: torch.Tensor, dtype: str) -> torch.Tensor:
    return tensor.to(getattr(torch, dtype)) if tensor.is_floating_point() else tensor


def _card(
    name: str,
    repo_id: str,
    config: dict[str, Any],
    evaluation: Evaluation,
    training: Training,
    gif_note: str | None,
    dtype: str,
    bundle: bool,
    *,
    video: bool,
    figures: dict[str, Path] | None = None,
    init_from: str | None = None,
    also: tuple[Evaluation, ...] = (),
    push: bool = False,
    zoo: Registry | None = None,
    clearing: str | None = None,
) -> ModelCard:
    """The Hub's card for the agent, followed by the zoo's sections: loading by name, replay, training."""
    # Not pushed: the repo does not exist on the Hub (yet), so the card loads the agent from the package.
    card = build_model_card(repo_id, config, evaluation, video=video, also=also, zoo_name=None if push else name)
    where = (
        f"ships inside the `mario-zoo` package ({dtype} weights, checked against their sha256 before every load), so "
        "it loads offline"
        if bundle
        else f"loads from `{repo_id}` at the commit the zoo pins, checked against the zoo's sha256 digests"
    )
    sections = [
        f"""## In the mario-zoo zoo

This agent {where}:

```python
import mario_zoo

model = mario_zoo.load_pretrained("{name}")
```

`mario-zoo zoo show {name}` prints its files, digests and pinned Hub revision; `mario-zoo evaluate zoo:{name}`
replays the evaluation."""
    ]
    figures = figures or {}
    if gif_note is not None:
        # The GIF goes into the Hub repo next to the card, so the link works on the Hub page.
        sections.append(f"## Replay\n\n![{name} playing {evaluation.env_id}]({GIF_FILE})\n\n{gif_note}")
    if X_POS_FILE in figures and evaluation.flags is not None:
        sections.append(_episode_ends(evaluation))
    if CURVE_FILE in figures:
        sections.append(
            f"## Learning curve\n\nTraining episodes (return, 100-episode mean) and the periodic greedy evaluations "
            f"of the run:\n\n![learning curve]({CURVE_FILE})"
        )
    sections += [clearing] if clearing else []
    chain = warm_start_chain(init_from, zoo) if zoo is not None else []
    wall = "not recorded" if training.wall_time_seconds is None else f"{training.wall_time_seconds:,.0f} s"
    warm = (
        f", after a warm start from `{init_from}` (`--init-from`: its network weights; see its own training)"
        if init_from
        else ""
    )
    sections.append(
        f"""## Training

| | |
| --- | --- |
| preset | `{training.preset}` |
| seed | {training.seed} |
| env steps | {training.total_timesteps:,}{warm} |
| wall time | {wall} on {training.hardware} |

Reproduce{" (the whole chain of warm starts, from scratch)" if chain else ""}:

```bash
{"".join(f"{command}{chr(10)}" for command in chain)}{training.command}
mario-zoo zoo publish runs/<the run folder> --name {name}
```"""
    )
    return ModelCard(str(card).rstrip("\n") + "\n\n" + "\n\n".join(sections) + "\n")


def _time_to_clear_section(run: RunFolder | None, evaluation: Evaluation) -> str | None:
    """The card's time-to-clear curve: the run's periodic flag rates with their env steps and wall hours, and when
    it first reached 50% and 90% (``None`` for a run without Mario evaluations)."""
    if run is None or evaluation.flags is None:
        return None
    try:
        milestones = time_to_clear(run)
    except ValueError:  # no evaluations, or evaluations without flag rates
        return None
    warm = run.read_config().init_from
    since = f"since its warm start from `{warm}`" if warm else "from scratch"
    return "\n".join(
        [
            "## Time to clear",
            "",
            f"The run's periodic evaluations, {since} (wall hours on the machine the Training section names):",
            "",
            *flag_curve(run),
            "",
            *(f"- {milestone.describe()}" for milestone in milestones),
        ]
    )


def _episode_ends(evaluation: Evaluation) -> str:
    """The card's section on where a Mario evaluation's episodes end: the flag count and rate, its interval, and
    the histogram."""
    low, high = evaluation.flag_interval or (0.0, 0.0)
    return f"""## Where the episodes end

The flag in **{evaluation.flag_count} of {evaluation.n_eval_episodes}** episodes ({evaluation.flag_rate:.0%}; 95% Wilson interval
[{low:.0%}, {high:.0%}]) of the {evaluation.protocol} protocol: {_policy(evaluation)}, {evaluation.starts}. Furthest `x_pos` of each
episode:

![furthest x_pos per episode]({X_POS_FILE})"""


def warm_start_chain(init_from: str | None, zoo: Registry) -> list[str]:
    """The training commands of the zoo agents an agent was warm-started from, oldest first, each with a comment
    naming the agent it makes: ``init_from``'s own command, and so on back along each ``--init-from`` that names a
    zoo agent (a run folder or checkpoint ends the chain: its command is not in the zoo).

    Example:
        >>> chain = warm_start_chain("dqn-MarioDQN-1-1-v0-finetune", read_registry())
        >>> [line.split("  # ", 1)[1].split(";")[0] for line in chain]
        ['makes dqn-MarioDQN-1-1-v0-base', 'makes dqn-MarioDQN-1-1-v0-finetune']
    """
    chain: list[str] = []
    while init_from in zoo.entries and len(chain) < len(zoo.entries):
        command = zoo.entries[init_from].training.command
        words = shlex.split(command, comments=True)
        comment = command.partition("#")[2].strip()
        chain.insert(0, f"{shlex.join(words)}  # makes {init_from}" + (f"; {comment}" if comment else ""))
        init_from = next((words[i + 1] for i, word in enumerate(words[:-1]) if word == "--init-from"), None)
    return chain


def _policy(evaluation: Evaluation) -> str:
    return "greedy" if evaluation.epsilon is None else f"epsilon {evaluation.epsilon:g}"


def _replace_folder(source: Path, target: Path) -> None:
    """Copy ``source``'s agent files into ``target``, each replaced atomically; other files there are removed."""
    target.mkdir(parents=True, exist_ok=True)
    for file in AGENT_FILES:
        with atomic_target(target / file) as temporary:
            shutil.copyfile(source / file, temporary)
    for stale in target.iterdir():
        if stale.name not in AGENT_FILES:
            shutil.rmtree(stale) if stale.is_dir() else stale.unlink()


def _display_path(path: Path) -> str:
    """``path`` relative to the working folder when inside it (the checkout, where cards are referred to), else
    absolute."""
    resolved, here = path.resolve(), Path.cwd().resolve()
    return resolved.relative_to(here).as_posix() if resolved.is_relative_to(here) else str(resolved)
