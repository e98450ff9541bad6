"""Rewrite a bundled zoo agent in the layout :func:`mario_zoo.publishing.publish` ships now: the online network
alone, in the entry's dtype (checkpoint format 9), with its registry digests, and a note on the cards of the zoo
agents warm-started from it.

A maintainer's one-off tool for agents bundled before format 9 and not yet pinned on the Hub::

    python -c "from mario_zoo.restaging import restage; restage('NAME', cards_dir='model_cards')"
"""

from __future__ import annotations

import dataclasses
import os
import tempfile
from pathlib import Path

import torch

from mario_zoo.agents import checkpoint
from mario_zoo.atomic import write_text
from mario_zoo.publishing import agent_digests, stage_agent
from mario_zoo.zoo.pretrained import verify_bundled
from mario_zoo.zoo.registry import REGISTRY_FILE, ZooEntry, read_registry
from mario_zoo.zoo_keeping import descendants, replace_agent_folder


def restage(
    name: str,
    registry: str | os.PathLike[str] = REGISTRY_FILE,
    *,
    cards_dir: str | os.PathLike[str] | None = None,
) -> ZooEntry:
    """Rewrite the bundled copy of the zoo agent ``name`` as :func:`publish` ships agents now (the online network
    alone, in the entry's dtype), and its registry digests; returns the entry as written.

    The online weights, the only ones an agent plays with, are checked to be the very same, so the measured results
    and the card stand. Only an agent not on the Hub yet (revision ``null``) can be restaged: a pinned revision
    holds the registered files. An agent already in the current layout is left as it is. The zoo's agents
    warm-started from it began their runs from its stored target network, which a warm start from the restaged
    agent no longer has: restaging such an agent needs ``cards_dir``, whose cards of those agents get a note
    saying so.

    Example:
        >>> restage("no-such-agent")  # doctest: +ELLIPSIS
        Traceback (most recent call last):
        ...
        ValueError: Unknown zoo agent 'no-such-agent'; valid names: ...
    """
    zoo = read_registry(registry)
    entry = zoo.get(name)
    if not entry.bundled or entry.revision is not None:
        raise ValueError(
            f"Cannot restage {name!r}: only a bundled agent not on the Hub yet can be (bundled: {entry.bundled}, "
            f"revision: {entry.revision}); publish it again instead (mario-zoo zoo publish)."
        )
    heirs = descendants(zoo, name)
    if heirs and cards_dir is None:
        raise ValueError(
            f"The zoo agents {', '.join(heirs)} were warm-started from {name!r}: their runs began from its stored "
            "target network, which restaging drops. Pass cards_dir (the model_cards folder) to restage it and note "
            "this on their cards."
        )
    folder = verify_bundled(zoo, entry)
    stored = checkpoint.read_checkpoint(folder)
    if not stored.target_stored:
        return entry
    with tempfile.TemporaryDirectory(prefix="mario-zoo-restage-") as staging:
        shipped = stage_agent(folder, stored, entry.dtype, Path(staging) / "agent")
        online = checkpoint.online_only(stored.model)
        restaged = checkpoint.online_only(checkpoint.read_checkpoint(shipped).model)
        if restaged.keys() != online.keys() or not all(torch.equal(restaged[key], online[key]) for key in online):
            raise ValueError(f"Restaging {name!r} would change its online weights; publish it again instead.")
        entry = dataclasses.replace(entry, files=agent_digests(shipped))
        previous = Path(staging) / "previous"
        replace_agent_folder(folder, previous)
        replace_agent_folder(shipped, folder)
        try:
            zoo.with_entry(entry).write()
        except BaseException:
            replace_agent_folder(previous, folder)  # the registry still names the old files
            raise
    if cards_dir is not None:  # always, where there are heirs (checked above)
        for heir in heirs:
            note_restaged(Path(cards_dir) / f"{heir}.md", name)
    return entry


RESTAGED_NOTE = (
    "Note: zoo agents ship their online network alone since checkpoint format 9, so a warm start from one begins "
    "the target network as a copy of the online one. This chain's runs from these zoo agents began from their "
    "stored target networks:"
)


def note_restaged(card: Path, name: str) -> None:
    """Say on ``card`` (once) that its chain's warm start from ``name`` began from a target network that ``name``
    no longer ships: one note at the card's end, listing each such agent."""
    if not card.is_file():
        return
    text = card.read_text(encoding="utf-8").rstrip("\n")
    item = f"- `{name}`"
    if RESTAGED_NOTE not in text:
        text += f"\n\n{RESTAGED_NOTE}"
    elif item in text.partition(RESTAGED_NOTE)[2].splitlines():
        return
    write_text(card, f"{text}\n{item}\n")
