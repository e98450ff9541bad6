"""Put a trained agent into the zoo: bundle it, hash it, evaluate it as shipped, card it, register it.

For maintainers. One command makes the registry, the bundled copy, the model card and (with ``--push``) the Hub
repo agree byte for byte::

    python -m mario_zoo.zoo.publish runs/CartPole-v1_dqn_s0_20250101-120000 --name dqn-CartPole-v1
    python -m mario_zoo.zoo.publish runs/MarioDQN-v0_dqn_s0_20250101-120000 --name dqn-MarioDQN-1-1-v0 \\
        --dtype float16 --episodes 100 --push

It reads the agent from a run folder (preset, seed and command from ``run.json``, wall time from ``monitor.csv``)
or a checkpoint (then ``--command`` says how it was trained), stores its weights in ``--dtype``, evaluates exactly
those files with the project's protocol (:func:`mario_zoo.evaluation.evaluate`: greedy actions, env seed 0, Mario
with 0..30 random no-op starts, x_pos and flag rate), records a GIF replay into ``docs/<name>.gif`` and writes
``model_cards/<name>.md`` with :func:`mario_zoo.hub.build_model_card`, plus the zoo's own sections (how to load it
by name, the replay, how it was trained). ``--push`` uploads the same bytes, the card, ``results.json`` and
``replay.mp4`` to the Hub in one commit and pins that commit in the registry; without it, the pin is kept only
if the files did not change.

Example:
    >>> import tempfile
    >>> from mario_zoo.zoo.registry import read_registry
    >>> folder = Path(tempfile.mkdtemp())
    >>> shipped = read_registry().bundled_dir("dqn-CartPole-v1")
    >>> published = publish(shipped, "my-cartpole", episodes=2, replay=False, command="mario-zoo train --seed 0",
    ...                     registry=folder / "registry.json", cards_dir=folder / "cards", docs_dir=folder / "docs")
    >>> published.entry.results.mean_reward, published.entry.revision is None
    (500.0, True)
    >>> sorted(path.name for path in published.bundled.iterdir())
    ['config.json', 'model.safetensors']
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import platform
import shlex
import shutil
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch
from huggingface_hub import ModelCard

from mario_zoo.agents import DQN, checkpoint
from mario_zoo.atomic import atomic_target, write_text
from mario_zoo.evaluation import Evaluation, evaluate, evaluation_env_kwargs
from mario_zoo.hub import HubError, build_model_card, write_model_card
from mario_zoo.hub._files import sha256_of
from mario_zoo.hub.card import MODEL_CARDS_DIR
from mario_zoo.hub.evaluation import record_video
from mario_zoo.runs import open_run
from mario_zoo.sources import parse_source
from mario_zoo.video import record
from mario_zoo.zoo.registry import (
    AGENT_FILES,
    DTYPES,
    REGISTRY_FILE,
    Results,
    Training,
    ZooEntry,
    check_name,
    check_repo_id,
    read_registry,
)

REPOSITORY_ROOT = Path(__file__).resolve().parents[2]
"""The source checkout the default output folders belong to."""

DOCS_DIR = REPOSITORY_ROOT / "docs"
"""Where replay GIFs go (``docs/<name>.gif``), referenced from the model cards."""

DEFAULT_NAMESPACE = "mario-zoo"
"""The Hub namespace of the project's agents: ``mario-zoo/<name>``."""

GIF_STRIDE = 2
"""Keep every other frame in replay GIFs: half the file, still real-time playback."""

GIF_MAX_FRAMES = 1_500
"""Cap on a replay GIF's frames (after the stride), so a long Mario episode stays a few megabytes."""

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
    commit: str | None
    """The Hub commit made with ``push=True``."""
    evaluation: Evaluation
    """The evaluation of the shipped files."""


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
    cards_dir: str | os.PathLike[str] = MODEL_CARDS_DIR,
    docs_dir: str | os.PathLike[str] = DOCS_DIR,
) -> Published:
    """Publish the agent at ``source`` (run folder or checkpoint) into the zoo as ``name``.

    Args:
        source: a run folder (its final agent, or its latest checkpoint while it trains) or a checkpoint.
        name: zoo name, also the Hub repo's name and the card's file stem, e.g. ``dqn-MarioDQN-1-1-v0``.
        repo_id: Hub repo (default ``mario-zoo/<name>``).
        episodes: evaluation episodes (the issue's protocol: 100).
        dtype: precision of the shipped weights, ``float32`` or ``float16`` (halves the file; evaluated as stored).
        bundle: ship a copy inside the package (``mario_zoo/zoo/bundled/<name>/``).
        push: upload to the Hub in one commit and pin that commit in the registry (needs a write token).
        replay: record ``docs/<name>.gif`` (and ``replay.mp4`` for the Hub when pushing).
        command: how the agent was trained; default: the run's ``mario-zoo train`` command. Required for a
            checkpoint.
        train_seconds: training wall time; default: summed over the sittings in the run's ``monitor.csv``.
        hardware: where it trained; default: this machine.
        registry: the registry file to update; bundled copies go next to it, in ``bundled/``.
        cards_dir: where the model card goes.
        docs_dir: where the GIF goes.
    """
    check_name(name)
    repo_id = repo_id or f"{DEFAULT_NAMESPACE}/{name}"
    check_repo_id(repo_id)
    if dtype not in DTYPES:
        raise ValueError(f"dtype must be one of {', '.join(DTYPES)}, got {dtype!r}.")
    if isinstance(episodes, bool) or not isinstance(episodes, int) or episodes < 1:
        raise ValueError(f"episodes must be an int >= 1, got {episodes!r}.")
    agent = parse_source(os.fspath(source))
    if agent.kind not in ("run", "checkpoint"):
        raise ValueError(f"Publish a run folder or a checkpoint, not {agent}: the zoo ships files it has evaluated.")
    zoo = read_registry(registry)

    path, training = _provenance(agent.kind, Path(agent.location), command, train_seconds, hardware)
    stored = checkpoint.read_checkpoint(path)
    config = stored.config
    env_id, env_kwargs = config.env_id, _playing_kwargs(config.env_kwargs)
    if not env_id:
        raise ValueError(f"{path} was trained on an env without a registered Gymnasium ID; the zoo cannot replay it.")

    with tempfile.TemporaryDirectory(prefix="mario-zoo-publish-") as staging:
        shipped = Path(staging) / "agent"
        weights = {key: _cast(tensor, dtype) for key, tensor in stored.model.items()}
        unchanged = (
            path.is_dir()
            and stored.optimizer is None
            and all(weights[key].dtype == tensor.dtype for key, tensor in stored.model.items())
        )
        if unchanged:  # ship the very bytes that were evaluated and published before (their sha256 stay the same)
            shipped.mkdir()
            for file in AGENT_FILES:
                shutil.copyfile(path / file, shipped / file)
        else:
            checkpoint.write_checkpoint(shipped, config, weights)
        model = DQN.load(shipped, device="cpu")
        evaluation = evaluate(model, env_id, evaluation_env_kwargs(env_id, env_kwargs), n_episodes=episodes)
        files = {file: sha256_of(shipped / file) for file in AGENT_FILES}

        docs_dir, cards_dir = Path(docs_dir), Path(cards_dir)
        gif = None
        if replay:
            gif = docs_dir / f"{name}.gif"
            record(model, env_id, env_kwargs, gif, stride=GIF_STRIDE, max_frames=GIF_MAX_FRAMES)
        card = write_model_card(
            _card(name, repo_id, config.to_json(), evaluation, training, gif, cards_dir, dtype, bundle), name, cards_dir
        )

        previous = zoo.entries.get(name)
        unchanged = previous is not None and (previous.repo_id, previous.files) == (repo_id, files)
        revision = previous.revision if unchanged else None
        commit = None
        if push:
            commit = _push(shipped, repo_id, card, evaluation, model, env_id, replay)
            revision = commit
        entry = ZooEntry(
            name=name,
            repo_id=repo_id,
            revision=revision,
            env_id=env_id,
            env_kwargs=env_kwargs,
            files=files,
            bundled=bundle,
            dtype=dtype,
            results=_results(evaluation),
            training=training,
            card=_display_path(card),
        )
        bundled = zoo.bundled_dir(name)
        if bundle:
            _replace_folder(shipped, bundled)
        else:
            shutil.rmtree(bundled, ignore_errors=True)  # a stale copy would fail its hashes
        zoo.with_entry(entry).write()
    return Published(entry, zoo.path, bundled if bundle else None, card, gif, commit, evaluation)


def _provenance(
    kind: str, location: Path, command: str | None, train_seconds: float | None, hardware: str | None
) -> tuple[Path, Training]:
    """The checkpoint to ship and how it was trained."""
    hardware = hardware or f"{platform.machine()} CPU, {os.cpu_count()} cores"
    if kind == "run":
        run = open_run(location)
        path = run.latest_agent()
        if path is None:
            raise ValueError(f"Run {location} has no checkpoint yet; publish it once it has saved one.")
        settings = run.read_config()
        seconds = train_seconds if train_seconds is not None else _monitor_seconds(run.monitor)
        return path, Training(
            preset=settings.preset,
            seed=settings.seed,
            total_timesteps=checkpoint.read_config(path).num_timesteps,
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
    return location, Training(
        preset=None,
        seed=config.seed,
        total_timesteps=config.num_timesteps,
        wall_time_seconds=train_seconds,
        hardware=hardware,
        command=command,
    )


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


def _x_pos_table(x_pos: list[int], flags: list[bool], width: int = 500) -> str:
    """A markdown histogram of how far the episodes got, in ``width``-wide bins of furthest ``x_pos``.

    Example:
        >>> print(_x_pos_table([120, 700, 3161], [False, False, True]))
        | furthest x_pos | episodes | reached the flag |
        | --- | --- | --- |
        | 0-499 | 1 | 0 |
        | 500-999 | 1 | 0 |
        | 1000-1499 | 0 | 0 |
        | 1500-1999 | 0 | 0 |
        | 2000-2499 | 0 | 0 |
        | 2500-2999 | 0 | 0 |
        | 3000-3499 | 1 | 1 |
    """
    bins = np.asarray(x_pos) // width
    reached = np.asarray(flags, dtype=bool)
    rows = ["| furthest x_pos | episodes | reached the flag |", "| --- | --- | --- |"]
    for index in range(int(bins.max()) + 1):
        in_bin = bins == index
        rows.append(
            f"| {index * width}-{(index + 1) * width - 1} | {int(in_bin.sum())} | {int((in_bin & reached).sum())} |"
        )
    return "\n".join(rows)


def _monitor_seconds(path: Path) -> float | None:
    """Training wall time from a Monitor log: its clock restarts at each ``--resume``, so sum each sitting's end."""
    if not path.is_file():
        return None
    with path.open(encoding="utf-8") as handle:
        rows = [line for line in handle if not line.startswith("#")]
    total, sitting = 0.0, 0.0
    for row in csv.DictReader(rows):
        try:
            seconds = float(row["t"])
        except (KeyError, TypeError, ValueError):
            continue  # a line cut short by a killed run
        if seconds < sitting:
            total += sitting
        sitting = seconds
    return total + sitting


def _cast(tensor: torch.Tensor, dtype: str) -> torch.Tensor:
    return tensor.to(getattr(torch, dtype)) if tensor.is_floating_point() else tensor


def _playing_kwargs(kwargs: dict[str, Any]) -> dict[str, Any]:
    # render_mode is how the training run was watched, not part of the env the agent plays.
    return {key: value for key, value in kwargs.items() if key != "render_mode"}


def _results(evaluation: Evaluation) -> Results:
    result = evaluation.result
    mario = evaluation.x_pos is not None
    return Results(
        mean_reward=result.mean_reward,
        std_reward=result.std_reward,
        n_eval_episodes=result.n_eval_episodes,
        deterministic=result.deterministic,
        seed=result.seed,
        env_kwargs=result.env_kwargs,
        protocol=result.protocol,
        date=result.date,
        flag_rate=evaluation.flag_rate,
        x_pos_mean=float(np.mean(evaluation.x_pos)) if mario else None,
        x_pos_max=max(evaluation.x_pos) if mario else None,
    )


def _card(
    name: str,
    repo_id: str,
    config: dict[str, Any],
    evaluation: Evaluation,
    training: Training,
    gif: Path | None,
    cards_dir: Path,
    dtype: str,
    bundle: bool,
) -> ModelCard:
    """The Hub's card for the agent, followed by the zoo's sections: loading by name, replay, training, Mario."""
    card = build_model_card(repo_id, config, evaluation.result)
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
    if evaluation.x_pos is not None and evaluation.flags is not None:
        quartiles = np.percentile(evaluation.x_pos, [0, 25, 50, 75, 100])
        sections.append(
            f"""## Progress through the level

The flag was reached in **{sum(evaluation.flags)} of {len(evaluation.flags)} episodes \
({100 * evaluation.flag_rate:.0f}%)**.
Furthest `x_pos` per episode: min {quartiles[0]:.0f}, quartiles {quartiles[1]:.0f} / {quartiles[2]:.0f} / \
{quartiles[3]:.0f}, max {quartiles[4]:.0f}, mean {np.mean(evaluation.x_pos):.1f}.

{_x_pos_table(evaluation.x_pos, evaluation.flags)}"""
        )
    if gif is not None:
        image = Path(os.path.relpath(gif.resolve(), cards_dir.resolve())).as_posix()
        sections.append(f"## Replay\n\n![{name} playing {evaluation.result.env_id}]({image})")
    wall = "not recorded" if training.wall_time_seconds is None else f"{training.wall_time_seconds:,.0f} s"
    sections.append(
        f"""## Training

| | |
| --- | --- |
| preset | `{training.preset or "none (hand-set hyperparameters, see above)"}` |
| seed | {training.seed} |
| env steps | {training.total_timesteps:,} |
| wall time | {wall} on {training.hardware} |

Reproduce:

```bash
{training.command}
python -m mario_zoo.zoo.publish runs/<the run folder> --name {name}
```"""
    )
    return ModelCard(str(card).rstrip("\n") + "\n\n" + "\n\n".join(sections) + "\n")


def _push(
    shipped: Path,
    repo_id: str,
    card: Path,
    evaluation: Evaluation,
    model: DQN,
    env_id: str,
    replay: bool,
) -> str:
    """Upload the shipped files with their card, results and replay in one commit; returns the commit sha."""
    from huggingface_hub import CommitOperationAdd, HfApi

    # push.py's commit helper: the same one-commit upload and the same errors as push_to_hub.
    from mario_zoo.hub.push import CARD_FILE, RESULTS_FILE, VIDEO_FILE, _upload

    write_text(shipped / RESULTS_FILE, json.dumps(evaluation.to_dict(), indent=2, sort_keys=True) + "\n")
    shutil.copyfile(card, shipped / CARD_FILE)
    uploads = [*AGENT_FILES, RESULTS_FILE, CARD_FILE]
    if replay:
        record_video(model, env_id, shipped / VIDEO_FILE, evaluation.result.env_kwargs)
        uploads.append(VIDEO_FILE)
    operations = [CommitOperationAdd(path_in_repo=file, path_or_fileobj=str(shipped / file)) for file in uploads]
    message = f"mario-zoo: {env_id} agent, mean reward {evaluation.result.mean_reward_text}"
    info = _upload(HfApi(), repo_id, operations, message, private=False)
    for file in uploads[len(AGENT_FILES) :]:
        (shipped / file).unlink()
    return info.oid


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
    """``path`` relative to the repository root when inside it (as cards are referred to), else absolute."""
    resolved = path.resolve()
    return resolved.relative_to(REPOSITORY_ROOT).as_posix() if resolved.is_relative_to(REPOSITORY_ROOT) else str(path)


EPILOG = """examples:
  python -m mario_zoo.zoo.publish runs/CartPole-v1_dqn_s0_20250101-120000 --name dqn-CartPole-v1
  python -m mario_zoo.zoo.publish runs/MarioDQN-v0_dqn_s0_20250101-120000 --name dqn-MarioDQN-1-1-v0 --dtype float16
  python -m mario_zoo.zoo.publish models/agent --name dqn-CartPole-v1 --command "mario-zoo train --seed 0" --push

Writes mario_zoo/zoo/registry.json (the entry), mario_zoo/zoo/bundled/NAME/ (config.json, model.safetensors),
model_cards/NAME.md and docs/NAME.gif. --push also uploads to the Hub (one commit) and pins that commit.
Exit codes: 0 done, 1 the Hub refused the upload, 2 bad input.
"""


def main(argv: list[str] | None = None) -> int:
    """``python -m mario_zoo.zoo.publish``: see the module docstring."""
    parser = argparse.ArgumentParser(
        prog="python -m mario_zoo.zoo.publish",
        description="Add an agent to the mario-zoo zoo: bundle, hash, evaluate as shipped, card, register.",
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("agent", metavar="AGENT", help="run folder or checkpoint (dir or .zip)")
    parser.add_argument("--name", required=True, help="zoo name, e.g. dqn-MarioDQN-1-1-v0")
    parser.add_argument("--repo-id", help=f"Hub repo (default {DEFAULT_NAMESPACE}/NAME)")
    parser.add_argument("--episodes", type=int, default=100, help="evaluation episodes (default 100)")
    parser.add_argument("--dtype", choices=DTYPES, default="float32", help="precision of the shipped weights")
    parser.add_argument("--no-bundle", dest="bundle", action="store_false", help="do not ship a copy in the package")
    parser.add_argument("--push", action="store_true", help="upload to the Hub and pin the commit")
    parser.add_argument("--no-replay", dest="replay", action="store_false", help="record no GIF or mp4")
    parser.add_argument("--command", help="how it was trained (default: the run's mario-zoo train command)")
    parser.add_argument("--train-seconds", type=float, help="training wall time (default: from monitor.csv)")
    parser.add_argument("--hardware", help="where it trained (default: this machine)")
    parser.add_argument("--registry", type=Path, default=REGISTRY_FILE, help="registry file (default: the package's)")
    args = parser.parse_args(argv)
    torch.set_num_threads(1)  # tiny evaluation batches run fastest on one thread; more only contend for cores
    try:
        published = publish(
            args.agent,
            args.name,
            repo_id=args.repo_id,
            episodes=args.episodes,
            dtype=args.dtype,
            bundle=args.bundle,
            push=args.push,
            replay=args.replay,
            command=args.command,
            train_seconds=args.train_seconds,
            hardware=args.hardware,
            registry=args.registry,
        )
    except (ValueError, FileNotFoundError) as error:
        print(f"{parser.prog}: error: {' '.join(str(error).split())}", file=sys.stderr)
        return 2
    except HubError as error:
        print(f"{parser.prog}: {' '.join(str(error).split())}", file=sys.stderr)
        return 1
    entry = published.entry
    print(f"{entry.name}: {published.evaluation.summary()}")
    print(f"  registry   {published.registry}")
    if published.bundled is not None:
        size = sum((published.bundled / file).stat().st_size for file in AGENT_FILES)
        print(f"  bundled    {published.bundled}/ ({size / 1e6:.2f} MB, {entry.dtype})")
    print(f"  card       {published.card}")
    if published.replay_gif is not None:
        print(f"  replay     {published.replay_gif}")
    pin = f"commit {entry.revision}" if entry.revision else "none: not on the Hub yet (run again with --push)"
    print(f"  Hub        {entry.repo_id}, pinned revision {pin}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
