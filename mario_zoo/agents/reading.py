"""Which reader opens a checkpoint: ours (:mod:`mario_zoo.agents.checkpoint`) or the Stable-Baselines3 zip
converter (:mod:`mario_zoo.agents.sb3`).

The choice sits here, above both, so that neither reader knows the other: the converter builds our
:class:`~mario_zoo.agents.checkpoint.Checkpoint` records, and our reader knows only our format. A path is looked
up as our reader looks it up (``"x"`` finds ``"x.zip"``); a zip with SB3's files and no ``config.json`` is SB3's.

Example:
    >>> import tempfile
    >>> read_config(f"{tempfile.mkdtemp()}/missing")  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    mario_zoo.agents.checkpoint.CheckpointNotFoundError: No checkpoint at .../missing (nor .../missing.zip).
"""

from __future__ import annotations

import os
from pathlib import Path

from mario_zoo.agents import checkpoint
from mario_zoo.agents.sb3 import is_sb3_zip, read_sb3_zip


def read_config(path: str | os.PathLike[str]) -> checkpoint.CheckpointConfig:
    """The checked config of our checkpoint (directory or zip) or of a Stable-Baselines3 DQN zip at ``path``."""
    sb3_zip = _sb3_zip(path)
    return checkpoint.read_config(path) if sb3_zip is None else read_sb3_zip(sb3_zip).config


def read_checkpoint(path: str | os.PathLike[str]) -> checkpoint.Checkpoint:
    """Our checkpoint at ``path``, verified, or a Stable-Baselines3 DQN zip converted (never unpickled)."""
    sb3_zip = _sb3_zip(path)
    return checkpoint.read_checkpoint(path) if sb3_zip is None else read_sb3_zip(sb3_zip)


def _sb3_zip(path: str | os.PathLike[str]) -> Path | None:
    """The SB3 zip ``path`` names, or ``None`` when it names one of ours (or nothing: our reader says so)."""
    found, names = checkpoint.find_checkpoint(path)
    return found if names is not None and is_sb3_zip(set(names)) else None
