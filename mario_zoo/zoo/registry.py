"""The zoo's registry: the trained agents mario-zoo publishes, where they live, and how well they play.

``mario_zoo/zoo/registry.json`` is plain JSON, so it can be read (and reviewed in a diff) without importing torch::

    {
      "format_version": 3,
      "agents": {
        "dqn-CartPole-v1": {
          "repo_id": "mario-zoo/dqn-CartPole-v1",      Hub repo
          "revision": null,                            pinned commit sha; null until published
          "env_id": "CartPole-v1", "env_kwargs": {},   gym.make arguments the agent plays with
          "files": {"config.json": "<sha256>", "model.safetensors": "<sha256>"},
          "bundled": true, "dtype": "float32",         a copy ships in the wheel, as mario_zoo/zoo/bundled/<name>/
          "results": {...},                            the evaluation's statistics (mario_zoo.results' names: mean
                                                       and std return, episodes, Mario's flag rate and x_pos),
                                                       protocol name and sentence, seed, date
          "training": {...},                           preset, seed, steps, wall time, reproduce command, and
                                                       the runs it was warm-started through
          "card": "model_cards/dqn-CartPole-v1.md"
        }
      }
    }

Adding an agent is one entry plus its bundled files; ``mario-zoo zoo publish`` (:mod:`mario_zoo.publishing`)
writes both.

Example:
    >>> registry = read_registry()
    >>> entry = registry.get("dqn-CartPole-v1")
    >>> entry.repo_id, entry.env_id, sorted(entry.files)
    ('mario-zoo/dqn-CartPole-v1', 'CartPole-v1', ['config.json', 'model.safetensors'])
    >>> registry.get("dqn-Pong-v5")  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    ValueError: Unknown zoo agent 'dqn-Pong-v5'; valid names: dqn-CartPole-v1... `mario-zoo zoo list` shows them.
"""

from __future__ import annotations

import dataclasses
import difflib
import json
import os
import re
import shlex
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Self

from mario_zoo.atomic import write_text
from mario_zoo.envs import ENV_IDS, parse_env_id
from mario_zoo.reading import read_json
from mario_zoo.results import Evaluation, Statistics, current_names

REGISTRY_FILE = Path(__file__).with_name("registry.json")
"""The registry that ships with the package."""

BUNDLED_DIR_NAME = "bundled"
"""Bundled copies live in ``<registry folder>/bundled/<name>/``."""

REGISTRY_FORMAT_VERSION = 3
"""Bumped whenever an older mario-zoo could misread a newer ``registry.json`` (2: results name their protocol and
describe it in ``protocol_description``; version 1 files, whose ``protocol`` is the sentence, still read; 3: an
agent's training may list the runs it was warm-started through, ``training.warm_starts``)."""

MAX_WARM_STARTS = 16
"""Most runs one agent's training may list before its own command: publishing follows no more, and a registry
listing more is refused."""

MAX_REGISTRY_BYTES = 4 * 2**20
"""Size limit of a registry file (the bundled one is a few KB)."""

AGENT_FILES = ("config.json", "model.safetensors")
"""The files of an agent that loading reads, each pinned by its sha256 (`mario_zoo.agents.checkpoint`'s names,
spelled out here because that module imports torch and reading the registry must not)."""

DTYPES = ("float32", "float16")
"""Weight precisions a bundled copy may be stored in; loading casts them to the network's float32."""

_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]*$")
_REPO_ID = re.compile(r"^[A-Za-z0-9][\w.-]*/[\w.-]+$")
_SHA256 = re.compile(r"^[0-9a-f]{64}$")
_COMMIT = re.compile(r"^[0-9a-f]{40}$")


@dataclass(frozen=True, kw_only=True)
class Results(Statistics):
    """How the agent was measured, as published: the statistics of its evaluation (under their names in
    :mod:`mario_zoo.results`) and how the episodes were played."""

    deterministic: bool
    """Greedy actions (no exploration)."""
    seed: int
    """Seed of the evaluation env's first reset."""
    env_kwargs: dict[str, Any]
    """``gym.make`` kwargs of the evaluation env (Mario: with ``noop_max=30`` random no-op starts)."""
    protocol: str
    """The protocol's name (``noop-sweep``, ``nature`` or ``episodes``)."""
    protocol_description: str
    """One sentence saying how the numbers were obtained."""
    date: str
    """When the evaluation ran (UTC, ISO 8601)."""

    @classmethod
    def of(cls, evaluation: Evaluation, **extra: Any) -> Self:
        """The published results of ``evaluation``: its statistics and how it was played."""
        return super().of(
            evaluation,
            deterministic=evaluation.deterministic,
            seed=evaluation.seed,
            env_kwargs=evaluation.env_kwargs,
            protocol=evaluation.protocol,
            protocol_description=evaluation.description,
            date=evaluation.date,
            **extra,
        )

    @property
    def score_text(self) -> str:
        """``"mean +/- std"``, plus the flag rate where there is one.

        Example:
            >>> Results(mean_reward=500.0, std_reward=0.0, n_eval_episodes=100, deterministic=True, seed=0,
            ...         env_kwargs={}, protocol="episodes", protocol_description="...", date="2025-01-01",
            ...         flag_rate=0.5).score_text
            '500.00 +/- 0.00 (flag 50%)'
        """
        text = self.mean_reward_text
        return text if self.flag_rate is None else f"{text} (flag {100 * self.flag_rate:.0f}%)"


def parse_results(data: Any, where: str) -> Results:
    """Published results as any mario-zoo version wrote them: statistics under earlier names
    (:func:`~mario_zoo.results.current_names`), and, before the registry named protocols, the protocol's sentence in
    ``protocol`` (``"nature protocol: ..."``; a sentence without a name is the ``episodes`` protocol's).

    Example:
        >>> old = {"mean_reward": 500.0, "std_reward": 0.0, "n_eval_episodes": 100, "deterministic": True, "seed": 0,
        ...        "env_kwargs": {}, "date": "2026-11-24T23:40:14+00:00", "flag_rate": None, "x_pos_mean": None,
        ...        "x_pos_max": None, "protocol": "100 episodes of CartPole-v1, deterministic (greedy) actions, ..."}
        >>> results = parse_results(old, "dqn-CartPole-v1.results")
        >>> results.protocol, results.protocol_description[:32], results.mean_ep_length
        ('episodes', '100 episodes of CartPole-v1, det', None)
    """
    if isinstance(data, dict) and "protocol_description" not in data and isinstance(data.get("protocol"), str):
        sentence = data["protocol"]
        name, named, _ = sentence.partition(" protocol: ")
        data = {**data, "protocol": name if named and " " not in name else "episodes", "protocol_description": sentence}
    return Results(**_fields(Results, current_names(data) if isinstance(data, dict) else data, where))


@dataclass(frozen=True)
class WarmStart:
    """A run an agent's training went through before its own command: the next command's ``--init-from`` names
    these weights (a run folder, a checkpoint or snapshot inside one), made by ``command``."""

    agent: str
    """The weights as the next command's ``--init-from`` names them, e.g. ``runs/w12b/snapshots/step-000200000``."""
    command: str
    """The ``mario-zoo train`` command that makes them, with its ``--out`` (the run folder ``agent`` lies in)."""
    total_timesteps: int
    """Env steps of the run up to these weights."""
    wall_time_seconds: float | None
    """Its wall-clock time up to these weights (``None``: not recorded)."""

    @property
    def reproduce_line(self) -> str:
        """``command`` with a comment naming the weights the next command starts from.

        Example:
            >>> WarmStart("runs/a/snapshots/step-000200000", "mario-zoo train --seed 1 --out runs/a", 200_000,
            ...           None).reproduce_line
            'mario-zoo train --seed 1 --out runs/a  # makes runs/a/snapshots/step-000200000 (200,000 env steps)'
        """
        return f"{self.command}  # makes {self.agent} ({self.total_timesteps:,} env steps)"


@dataclass(frozen=True)
class Training:
    """How the agent was trained, so anyone can do it again.

    Example (an agent trained through one run folder before its own command):
        >>> stage = WarmStart("runs/a/model", "mario-zoo train --init-from dqn-x --out runs/a", 300_000, 3600.0)
        >>> training = Training("mario-1-1", 2, 100_000, 1800.0, "x86_64 CPU, 2 cores",
        ...                     "mario-zoo train --init-from runs/a/model", warm_starts=(stage,))
        >>> training.origin, training.chain_timesteps, training.chain_seconds
        ('dqn-x', 400000, 5400.0)
    """

    preset: str | None
    """The ``dqn.yml`` preset the hyperparameters started from, as ``command`` names it (``None``: none)."""
    seed: int | None
    """Training seed."""
    total_timesteps: int
    """Env steps trained."""
    wall_time_seconds: float | None
    """Training wall-clock time, summed over sittings (``None``: not recorded)."""
    hardware: str
    """Where it trained, e.g. ``"x86_64 CPU, 2 cores"``."""
    command: str
    """The command that trains it again."""
    warm_starts: tuple[WarmStart, ...] = ()
    """The runs (not zoo agents) its training went through before ``command``, oldest first: ``command``'s
    ``--init-from`` names the last one's weights, each names the one before, and the first one's ``--init-from`` is
    :attr:`origin`."""

    def __post_init__(self) -> None:
        object.__setattr__(self, "warm_starts", tuple(self.warm_starts))  # a list given compares as read back

    @property
    def origin(self) -> str | None:
        """What the whole training started from: the first command's ``--init-from`` (a zoo agent, whose own
        training goes on the chain), or ``None`` (from scratch, or from weights outside any run)."""
        return init_from_of(self.warm_starts[0].command if self.warm_starts else self.command)

    @property
    def chain_timesteps(self) -> int:
        """Env steps of ``command`` and of the runs it was warm-started through."""
        return self.total_timesteps + sum(stage.total_timesteps for stage in self.warm_starts)

    @property
    def chain_seconds(self) -> float | None:
        """Wall time of ``command`` and of the runs it was warm-started through (``None`` if one is not recorded)."""
        seconds = [self.wall_time_seconds, *(stage.wall_time_seconds for stage in self.warm_starts)]
        return None if None in seconds else sum(second for second in seconds if second is not None)

    @property
    def commands(self) -> list[str]:
        """Every command of its own training, oldest first: the warm starts' (each saying what it makes), then
        ``command``."""
        return [stage.reproduce_line for stage in self.warm_starts] + [self.command]


@dataclass(frozen=True)
class ZooEntry:
    """One published agent."""

    name: str
    """Zoo name, e.g. ``dqn-CartPole-v1``; the Hub repo's name and the model card's file stem."""
    repo_id: str
    """Hub repo (``namespace/name``)."""
    revision: str | None
    """Pinned commit sha of the Hub repo; ``None`` until the agent is published there."""
    env_id: str
    """Gymnasium ID the agent plays."""
    env_kwargs: dict[str, Any]
    """``gym.make`` kwargs it was trained with."""
    files: dict[str, str]
    """sha256 of each file in `AGENT_FILES`, for the bundled copy and the Hub alike."""
    bundled: bool
    """Whether a copy ships inside the package."""
    dtype: str
    """Precision of the shipped weights (one of `DTYPES`)."""
    results: Results
    """The published evaluation."""
    training: Training
    """How it was trained."""
    card: str
    """Its model card, relative to the repository root."""
    other_results: dict[str, Results] = field(default_factory=dict)
    """Evaluations under other protocols, by protocol name (Mario: ``"nature"``, epsilon 0.05 with random no-ops,
    beside the exact no-op sweep of :attr:`results`)."""

    def to_dict(self) -> dict[str, Any]:
        """The entry as ``registry.json`` stores it (without its name, the key)."""
        data = dataclasses.asdict(self)
        del data["name"]
        data["training"]["warm_starts"] = list(data["training"]["warm_starts"])  # JSON's list, as read back
        return data


@dataclass(frozen=True)
class Registry:
    """A ``registry.json`` and the bundled copies next to it."""

    path: Path
    """The JSON file."""
    entries: dict[str, ZooEntry] = field(default_factory=dict)
    """Agents by name."""

    @property
    def names(self) -> tuple[str, ...]:
        """Agent names, sorted."""
        return tuple(sorted(self.entries))

    def get(self, name: str) -> ZooEntry:
        """The entry called ``name``; a ``ValueError`` naming the valid names otherwise."""
        if name not in self.entries:
            valid = ", ".join(self.names) or "none (the registry is empty)"
            by_lower = {known.lower(): known for known in self.names}
            close = difflib.get_close_matches(str(name).lower(), list(by_lower), n=1, cutoff=0.8)
            meant = f" (did you mean {by_lower[close[0]]!r}?)" if close else ""
            raise ValueError(
                f"Unknown zoo agent {name!r}{meant}; valid names: {valid}. `mario-zoo zoo list` shows them."
            )
        return self.entries[name]

    def bundled_dir(self, name: str) -> Path:
        """Where the bundled copy of ``name`` lives (whether or not it exists)."""
        return self.path.parent / BUNDLED_DIR_NAME / name

    def best_for(self, env_id: str) -> ZooEntry | None:
        """The best-scoring agent for ``env_id`` (Mario: any ID of the same level), or ``None``.

        Mario agents rank by flag rate, then mean return.

        Example:
            >>> read_registry().best_for("CartPole-v1").name
            'dqn-CartPole-v1'
            >>> read_registry().best_for("Acrobot-v1") is None
            True
        """
        candidates = [entry for entry in self.entries.values() if _same_env(entry.env_id, env_id)]
        if not candidates:
            return None
        return max(candidates, key=lambda entry: (entry.results.flag_rate or 0.0, entry.results.mean_reward))

    def lineage(self, name: str | None) -> list[ZooEntry]:
        """``name``'s entry preceded by the zoo agents it was warm-started from, oldest first: each training
        command's ``--init-from`` that names a zoo agent (a run folder or checkpoint, or no ``--init-from``, ends it;
        so does a name met twice, a damaged registry's loop). Empty when ``name`` is not in the zoo.

        Example:
            >>> [entry.name for entry in read_registry().lineage("dqn-MarioDQN-1-1-v0-finetune")]
            ['dqn-MarioDQN-1-1-v0-base', 'dqn-MarioDQN-1-1-v0-finetune']
        """
        chain: list[ZooEntry] = []
        while name in self.entries and all(entry.name != name for entry in chain):
            chain.insert(0, self.entries[name])
            name = self.entries[name].training.origin
        return chain

    def with_entry(self, entry: ZooEntry) -> Registry:
        """A copy with ``entry`` added, or replacing the entry of the same name."""
        return Registry(self.path, {**self.entries, entry.name: entry})

    def write(self) -> Path:
        """Save as JSON (sorted keys, atomically) at `path`."""
        agents = {name: self.entries[name].to_dict() for name in self.names}
        data = {"format_version": REGISTRY_FORMAT_VERSION, "agents": agents}
        text = json.dumps(data, indent=2, sort_keys=True) + "\n"
        for name, entry in json.loads(text)["agents"].items():  # never write what reading would refuse
            parse_entry(name, entry, f"{self.path}: {name}")
        return write_text(self.path, text)


def init_from_of(command: str) -> str | None:
    """The agent a ``mario-zoo train`` command warm-starts from (its ``--init-from``), or ``None``.

    Example:
        >>> init_from_of("mario-zoo train --init-from dqn-a --seed 1  # a comment"), init_from_of("mario-zoo train")
        ('dqn-a', None)
    """
    words = shlex.split(command, comments=True)
    for index, word in enumerate(words):
        if word == "--init-from" and index + 1 < len(words):
            return words[index + 1]
        if word.startswith("--init-from="):
            return word.partition("=")[2]
    return None


def read_registry(path: str | os.PathLike[str] = REGISTRY_FILE) -> Registry:
    """Read and check a registry; a missing file is an empty registry (the first ``publish`` creates it).

    Raises ``ValueError`` naming the entry and field for malformed content.
    """
    path = Path(path)
    if not path.is_file():
        return Registry(path)
    try:
        data = read_json(path, max_bytes=MAX_REGISTRY_BYTES)
    except ValueError as error:
        raise ValueError(f"{error} Restore it from the mario-zoo release.") from error
    found = data.get("format_version") if isinstance(data, dict) else None
    if found not in range(1, REGISTRY_FORMAT_VERSION + 1) or isinstance(found, bool):
        raise ValueError(
            f"{path} has registry format_version {found!r}; this mario-zoo reads versions 1-{REGISTRY_FORMAT_VERSION}. "
            "Upgrade mario-zoo (pip install -U mario-zoo) if the file is newer."
        )
    agents = data.get("agents")
    if not isinstance(agents, dict):
        raise ValueError(f"{path} needs an 'agents' mapping of name -> entry, got {agents!r}.")
    return Registry(path, {name: parse_entry(name, entry, f"{path}: {name}") for name, entry in agents.items()})


def parse_entry(name: str, data: Any, where: str) -> ZooEntry:
    """Build and check one entry from its JSON data; ``where`` prefixes error messages."""
    check_name(name, where)
    fields = _fields(ZooEntry, data, where, exclude={"name"})
    fields["results"] = parse_results(fields["results"], f"{where}.results")
    others = fields.get("other_results", {})
    if not isinstance(others, dict):
        raise ValueError(f"{where}: other_results must map protocol names to results, got {others!r}.")
    fields["other_results"] = {
        str(protocol): parse_results(data, f"{where}.other_results.{protocol}") for protocol, data in others.items()
    }
    fields["training"] = parse_training(fields["training"], f"{where}.training")
    entry = ZooEntry(name=name, **fields)
    check_repo_id(entry.repo_id, where)
    if entry.revision is not None and not _COMMIT.match(entry.revision):
        raise ValueError(
            f"{where}: revision must be a 40-hex-digit commit sha (a branch or tag can move), or null until the "
            f"agent is published; got {entry.revision!r}."
        )
    if sorted(entry.files) != sorted(AGENT_FILES) or not all(_SHA256.match(str(d)) for d in entry.files.values()):
        raise ValueError(
            f"{where}: files must map exactly {', '.join(AGENT_FILES)} to lowercase hex sha256 digests, "
            f"got {entry.files!r}."
        )
    if entry.dtype not in DTYPES:
        raise ValueError(f"{where}: dtype must be one of {', '.join(DTYPES)}, got {entry.dtype!r}.")
    if not isinstance(entry.env_kwargs, dict) or not isinstance(entry.results.env_kwargs, dict):
        raise ValueError(f"{where}: env_kwargs (and results.env_kwargs) must be JSON objects.")
    return entry


def parse_training(data: Any, where: str) -> Training:
    """Build and check an entry's ``training`` from its JSON data: every command a ``mario-zoo train`` line, and
    each warm start the weights the next command's ``--init-from`` names."""
    fields = _fields(Training, data, where)
    stages = fields.get("warm_starts", [])
    if not isinstance(stages, list) or len(stages) > MAX_WARM_STARTS:
        raise ValueError(
            f"{where}: warm_starts must be a list of at most {MAX_WARM_STARTS} runs, oldest first, got {stages!r:.200}."
        )
    fields["warm_starts"] = tuple(
        _parse_warm_start(stage, f"{where}.warm_starts[{i}]") for i, stage in enumerate(stages)
    )
    check_command(fields["command"], f"{where}.command")
    training = Training(**fields)
    for index, stage in enumerate(training.warm_starts):
        named = init_from_of(training.commands[index + 1])
        if named != stage.agent:
            raise ValueError(
                f"{where}.warm_starts[{index}]: it makes {stage.agent!r}, but the next command starts from "
                f"{named!r}; each warm start must be what the next command's --init-from names."
            )
    return training


def check_command(command: Any, where: str) -> list[str]:
    """``command``'s words, refusing what is not a ``mario-zoo train`` command line (a trailing ``# comment`` is
    allowed and dropped).

    Example:
        >>> check_command("mario-zoo train --seed 1  # best at 200k", "command")
        ['mario-zoo', 'train', '--seed', '1']
    """
    try:
        words = shlex.split(command, comments=True) if isinstance(command, str) else None
    except ValueError:
        words = None
    if words is None or words[:2] != ["mario-zoo", "train"]:
        raise ValueError(f"{where} must be a `mario-zoo train ...` command line, got {command!r:.200}.")
    return words


def _parse_warm_start(data: Any, where: str) -> WarmStart:
    stage = WarmStart(**_fields(WarmStart, data, where))
    check_command(stage.command, f"{where}.command")
    steps, seconds = stage.total_timesteps, stage.wall_time_seconds
    valid = (
        isinstance(stage.agent, str)
        and stage.agent
        and isinstance(steps, int)
        and not isinstance(steps, bool)
        and steps >= 0
        and (
            seconds is None
            or (isinstance(seconds, int | float) and not isinstance(seconds, bool) and 0 <= seconds < float("inf"))
        )
    )
    if not valid:
        raise ValueError(
            f"{where}: a warm start needs agent (the weights' path), total_timesteps (an int >= 0) and "
            f"wall_time_seconds (finite seconds >= 0, or null); got {data!r:.300}."
        )
    return stage


def check_name(name: str, where: str = "zoo name") -> None:
    """Refuse names that cannot be a Hub repo name and a file stem.

    Example:
        >>> check_name("../escape")
        Traceback (most recent call last):
        ...
        ValueError: zoo name: '../escape' is not a zoo name; use letters, digits, '.', '_' or '-', e.g. 'dqn-CartPole-v1'.
    """
    if not isinstance(name, str) or not _NAME.match(name):
        raise ValueError(
            f"{where}: {name!r} is not a zoo name; use letters, digits, '.', '_' or '-', e.g. 'dqn-CartPole-v1'."
        )


def check_repo_id(repo_id: str, where: str = "repo_id") -> None:
    """Refuse Hub repo ids that are not ``namespace/name``."""
    if not isinstance(repo_id, str) or not _REPO_ID.match(repo_id):
        raise ValueError(
            f"{where}: the Hub repo id must be namespace/name, e.g. 'mario-zoo/dqn-CartPole-v1'; got {repo_id!r}."
        )


def _fields(cls: type, data: Any, where: str, exclude: frozenset[str] | set[str] = frozenset()) -> dict[str, Any]:
    """``data``'s values for the fields of dataclass ``cls``; missing required or unknown keys are errors."""
    if not isinstance(data, dict):
        raise ValueError(f"{where}: expected a JSON object, got {data!r}.")
    known = {item.name: item for item in dataclasses.fields(cls) if item.name not in exclude}
    required = [
        name
        for name, item in known.items()
        if item.default is dataclasses.MISSING and item.default_factory is dataclasses.MISSING
    ]
    missing = [name for name in required if name not in data]
    unknown = sorted(set(data) - set(known))
    if missing or unknown:
        raise ValueError(
            f"{where}: missing keys {missing or 'none'}, unknown keys {unknown or 'none'}; valid keys: "
            f"{', '.join(known)}."
        )
    return dict(data)


def _same_env(registered: str, wanted: str) -> bool:
    """Equal IDs, or two Mario IDs of the same level (``MarioDQN-v0`` is ``MarioDQN-1-1-v0``)."""
    if registered == wanted:
        return True
    return registered in ENV_IDS and wanted in ENV_IDS and parse_env_id(registered) == parse_env_id(wanted)
