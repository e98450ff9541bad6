"""Atomic file writes: a reader, or a process killed with SIGKILL mid-write, never sees half a file.

Everything the command line writes (run state, results, CSV logs it rewrites, PNGs, videos) goes to a temporary
sibling first and is moved over the target with one ``os.replace``, which POSIX and Windows make atomic.

Example:
    >>> import tempfile
    >>> folder = Path(tempfile.mkdtemp())
    >>> write_text(folder / "results.json", '{"mean_reward": 500.0}').read_text()
    '{"mean_reward": 500.0}'
    >>> with atomic_target(folder / "curve.png") as temporary:
    ...     _ = temporary.write_bytes(b"png bytes")  # a writer that picks its format from the suffix
    ...     temporary.suffix, (folder / "curve.png").exists()
    ('.png', False)
    >>> sorted(path.name for path in folder.iterdir())
    ['curve.png', 'results.json']
"""

from __future__ import annotations

import os
import secrets
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path


@contextmanager
def atomic_target(path: str | os.PathLike[str]) -> Iterator[Path]:
    """Yield a temporary path next to ``path`` with the same suffix; on success it replaces ``path``.

    The suffix is kept because writers such as matplotlib and ffmpeg choose the file format from it. On an
    exception the temporary file is removed and ``path`` is left as it was.
    """
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    temporary = target.with_name(f".{target.stem}.{secrets.token_hex(4)}.tmp{target.suffix}")
    try:
        yield temporary
        os.replace(temporary, target)
    finally:
        temporary.unlink(missing_ok=True)


def write_text(path: str | os.PathLike[str], text: str) -> Path:
    """Write ``text`` (UTF-8) to ``path`` atomically; returns ``path``."""
    with atomic_target(path) as temporary:
        temporary.write_text(text, encoding="utf-8")
    return Path(path)


def remove_stale_temporaries(folder: str | os.PathLike[str]) -> list[Path]:
    """Delete the temporary files and folders a killed writer left in ``folder`` (ours and the checkpoint writer's).

    Example:
        >>> import tempfile
        >>> folder = Path(tempfile.mkdtemp())
        >>> _ = (folder / ".checkpoint.zip.x1y2.tmp").write_bytes(b"half a zip")
        >>> [path.name for path in remove_stale_temporaries(folder)]
        ['.checkpoint.zip.x1y2.tmp']
    """
    removed = []
    for entry in sorted(Path(folder).iterdir()):
        if entry.name.startswith(".") and ".tmp" in entry.name:
            if entry.is_dir():
                shutil.rmtree(entry)
            else:
                entry.unlink()
            removed.append(entry)
    return removed
