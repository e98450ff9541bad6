"""Keeping a replaced zoo agent under another name (``mario-zoo zoo publish --keep-previous-as NAME``).

Publishing an agent under a name the zoo already has replaces that agent. Where the zoo's other agents were trained
from it (their chain of warm starts passes through it), or the new one was, the replaced agent has to stay so that
their chains of commands still name the agent that trained them: it is kept under a free name with its weights,
results, card and figures, and every mention of it in the registry's chains and in the descendants' cards names
the kept agent instead. :mod:`mario_zoo.publishing` calls these in order: :func:`previous_to_keep` before anything
is written, :func:`check_descendants` once the files to ship are staged, :func:`keep` before the new files replace
the old, and :func:`rename_in_cards` once the registry is written.

Example:
    >>> rename_init_from("mario-zoo train --init-from a --seed 1  # best at 200k", "a", "a-previous")
    'mario-zoo train --init-from a-previous --seed 1  # best at 200k'
"""

from __future__ import annotations

import dataclasses
import re
import shlex
import shutil
from pathlib import Path

from mario_zoo.atomic import atomic_target
from mario_zoo.zoo.registry import AGENT_FILES, Registry, Training, ZooEntry, check_name
from mario_zoo.zoo_cards import CURVE_FILE, X_POS_FILE


def previous_to_keep(zoo: Registry, name: str, init_from: str | None, keep_as: str | None) -> ZooEntry | None:
    """The entry that keeps the zoo's agent ``name`` under ``keep_as`` (``None``: nothing to keep); refuses a name
    that is taken, nothing to keep, and a warm start from the agent being replaced with nowhere to keep it (the
    zoo's other agents trained from it are checked by :func:`check_descendants`, once the files are known)."""
    previous = zoo.entries.get(name)
    if keep_as is None:
        if previous is not None and init_from == name:
            raise ValueError(
                f"This agent was warm-started from the zoo agent {name!r} (--init-from {name}), which publishing it "
                f"as {name!r} replaces, so its card could not say how to reproduce it. Keep the previous agent under "
                f"another name: --keep-previous-as {name}-previous (or any free name)."
            )
        return None
    check_name(keep_as)
    if previous is None:
        raise ValueError(f"--keep-previous-as {keep_as}: the zoo has no agent {name!r} to keep; leave the option out.")
    if keep_as in zoo.entries or keep_as == name:
        raise ValueError(f"--keep-previous-as {keep_as}: that name is already a zoo agent; choose a free name.")
    # A pinned Hub commit still holds the previous files; an unpushed agent gets a repo of its own name.
    owner = previous.repo_id.rpartition("/")[0]
    repo_id = previous.repo_id if previous.revision is not None else f"{owner}/{keep_as}"
    card = Path(previous.card).with_name(f"{keep_as}.md").as_posix()
    return dataclasses.replace(previous, name=keep_as, repo_id=repo_id, card=card)


def descendants(zoo: Registry, name: str) -> list[str]:
    """The zoo's agents whose chain of warm starts passes through ``name``, sorted (``name`` itself apart)."""
    return sorted(
        other for other in zoo.entries if other != name and any(entry.name == name for entry in zoo.lineage(other)[:-1])
    )


def check_descendants(zoo: Registry, name: str, files: dict[str, str], kept: ZooEntry | None) -> None:
    """Refuse to replace the zoo's agent ``name`` by other files (``files``: their sha256) while agents trained
    from it would name the new one, unless it is kept under another name."""
    previous = zoo.entries.get(name)
    heirs = descendants(zoo, name)
    if kept is None and previous is not None and previous.files != files and heirs:
        raise ValueError(
            f"The zoo agents {', '.join(heirs)} were trained from {name!r}, which publishing this agent as {name!r} "
            f"replaces, so their chains of commands would name the wrong agent. Keep the previous agent under "
            f"another name: --keep-previous-as {name}-previous (or any free name)."
        )


def keep(zoo: Registry, previous: ZooEntry, kept: ZooEntry, cards_dir: Path, docs_dir: Path) -> Registry:
    """Copy ``previous``'s bundled files, card (with its name changed) and figures to ``kept``'s names, before the
    new agent overwrites them; returns the registry with ``kept`` added, and the other agents trained from
    ``previous`` (``--init-from`` its name) naming ``kept`` instead (written with the new agent's entry; their
    cards, and those of the agents trained from them, by :func:`rename_in_cards` after it)."""
    if previous.bundled:
        replace_agent_folder(zoo.bundled_dir(previous.name), zoo.bundled_dir(kept.name))
    names = set(zoo.entries)
    _rename_in_card(cards_dir / f"{previous.name}.md", cards_dir / f"{kept.name}.md", previous, kept, names)
    for suffix in (".gif", f"_{CURVE_FILE}", f"_{X_POS_FILE}"):
        figure = docs_dir / f"{previous.name}{suffix}"
        if figure.is_file():
            with atomic_target(docs_dir / f"{kept.name}{suffix}") as temporary:
                shutil.copyfile(figure, temporary)
    for other in zoo.entries.values():
        if other.training.origin == previous.name:
            renamed = rename_origin(other.training, previous.name, kept.name)
            zoo = zoo.with_entry(dataclasses.replace(other, training=renamed))
    return zoo.with_entry(kept)


def rename_in_cards(zoo: Registry, previous: ZooEntry, kept: ZooEntry, cards_dir: Path) -> None:
    """Name ``kept`` instead of ``previous`` in the cards of the agents trained from it (``zoo``: the registry as
    it was before the replacement), whose chains of commands name every agent they pass through."""
    for heir in descendants(zoo, previous.name):
        card = cards_dir / f"{heir}.md"
        _rename_in_card(card, card, previous, kept, set(zoo.entries))


def _rename_in_card(card: Path, target: Path, previous: ZooEntry, kept: ZooEntry, names: set[str]) -> None:
    """Write ``card`` to ``target`` with every mention of ``previous`` naming ``kept`` instead: the name as a word
    of its own, not inside another of the zoo's ``names`` (``a`` in ``a.v2``), and not in the Hub repo's id where
    the kept agent keeps that repo."""
    if not card.is_file():
        return
    after = "/" if kept.repo_id == previous.repo_id else ""
    pattern = rf"(?<![\w{after}-]){re.escape(previous.name)}(?![\w-])"
    longer = [other for other in names if previous.name in other and other != previous.name]

    def rename(match: re.Match[str]) -> str:
        text, start = match.string, match.start()
        for other in longer:
            for offset in (index for index in range(len(other)) if other.startswith(previous.name, index)):
                if start >= offset and text.startswith(other, start - offset):
                    return match.group()
        return kept.name

    text = re.sub(pattern, rename, card.read_text(encoding="utf-8"))
    with atomic_target(target) as temporary:
        temporary.write_text(text, encoding="utf-8")


def rename_origin(training: Training, old: str, new: str) -> Training:
    """``training`` with its first command's ``--init-from old`` naming ``new`` (the replaced zoo agent, kept)."""
    if not training.warm_starts:
        return dataclasses.replace(training, command=rename_init_from(training.command, old, new))
    first, *rest = training.warm_starts
    renamed = dataclasses.replace(first, command=rename_init_from(first.command, old, new))
    return dataclasses.replace(training, warm_starts=(renamed, *rest))


def rename_init_from(command: str, old: str, new: str) -> str:
    """``command`` with its ``--init-from old`` naming ``new`` instead (a trailing ``# comment`` is kept).

    Example:
        >>> rename_init_from("mario-zoo train --init-from=a --seed 1", "a", "b")
        'mario-zoo train --init-from=b --seed 1'
    """
    words = shlex.split(command, comments=True)
    renamed = [
        new if index and words[index - 1] == "--init-from" and word == old
        else f"--init-from={new}" if word == f"--init-from={old}" else word
        for index, word in enumerate(words)
    ]  # fmt: skip
    if renamed == words:
        return command
    comment = command.partition("#")[2].strip()
    return shlex.join(renamed) + (f"  # {comment}" if comment else "")


def replace_agent_folder(source: Path, target: Path) -> None:
    """Copy ``source``'s agent files into ``target``, each replaced atomically; other files there are removed."""
    target.mkdir(parents=True, exist_ok=True)
    for file in AGENT_FILES:
        with atomic_target(target / file) as temporary:
            shutil.copyfile(source / file, temporary)
    for stale in target.iterdir():
        if stale.name not in AGENT_FILES:
            shutil.rmtree(stale) if stale.is_dir() else stale.unlink()
