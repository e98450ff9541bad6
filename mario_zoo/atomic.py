"""Atomic file writes: a reader, or a process killed with SIGKILL mid-write, never sees half a file.

Everything mario-zoo writes (checkpoints, run state, results, CSV logs it rewrites, PNGs, videos) goes to a
temporary sibling first, is flushed to disk (``fsync``), and is moved over the target with one ``os.replace``,
which POSIX and Windows make atomic. Files and folders get the usual permissions (``0o666``/``0o777`` less the
umask), as any other writer's would, whatever the library that filled them chose: safetensors and ``tempfile``
create their files ``0o600``. This is the one atomic writer of the package: it sits below every other module and
imports none of them.

Example:
    >>> import tempfile
    >>> folder = Path(tempfile.mkdtemp())
    >>> write_text(folder / "results.json", '{"mean_reward": 500.0}').read_text()
    '{"mean_reward": 500.0}'
    >>> with atomic_target(folder / "curve.png") as temporary:
    ...     _ = temporary.write_bytes(b"png bytes")  # a writer that picks its format from the suffix
    ...     temporary.suffix, (folder / "curve.png").exists()
    ('.png', False)
    >>> with atomic_directory(folder / "checkpoint") as temporary:
    ...     _ = (temporary / "config.json").write_text("{}")
    >>> sorted(path.name for path in folder.iterdir())
    ['checkpoint', 'curve.png', 'results.json']
"""

from __future__ import annotations

import os
import re
import secrets
import shutil
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from pathlib import Path


@contextmanager
def atomic_target(path: str | os.PathLike[str]) -> Iterator[Path]:
    """Yield a temporary path next to ``path`` with the same suffix; on success it replaces ``path``.

    The suffix is kept because writers such as matplotlib and ffmpeg choose the file format from it. On an
    exception the temporary file is removed (a failing cleanup never hides the original error) and ``path`` is
    left as it was.
    """
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    temporary = target.with_name(f".{target.stem}.{secrets.token_hex(4)}.tmp{target.suffix}")
    try:
        yield temporary
        _give_usual_permissions(temporary)
        _fsync(temporary)
        os.replace(temporary, target)
        _fsync_directory(target.parent)
    finally:
        with suppress(OSError):
            temporary.unlink(missing_ok=True)


@contextmanager
def atomic_directory(path: str | os.PathLike[str]) -> Iterator[Path]:
    """Yield a new empty folder next to ``path``; on success it takes the place of ``path``.

    An existing folder at ``path`` is replaced: a folder cannot be renamed over another in one step, so the old
    one is moved aside first and deleted after the swap (a crash between the two renames leaves the old folder
    under a temporary name, which :func:`remove_stale_temporaries` deletes). On an exception the new folder is
    removed and ``path`` is left as it was.
    """
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    temporary = target.with_name(f".{target.name}.{secrets.token_hex(4)}.tmp")
    temporary.mkdir()
    old = temporary.with_name(temporary.name + ".old")
    try:
        yield temporary
        for entry in temporary.iterdir():
            _give_usual_permissions(entry)
            _fsync(entry)
        _fsync_directory(temporary)
        moved_aside = target.is_dir()
        if moved_aside:
            os.replace(target, old)
        try:
            os.replace(temporary, target)
        except BaseException:
            if moved_aside:
                os.replace(old, target)
            raise
        _fsync_directory(target.parent)
    finally:
        for leftover in (temporary, old):
            shutil.rmtree(leftover, ignore_errors=True)


def write_text(path: str | os.PathLike[str], text: str) -> Path:
    """Write ``text`` (UTF-8) to ``path`` atomically; returns ``path``."""
    with atomic_target(path) as temporary:
        temporary.write_text(text, encoding="utf-8")
    return Path(path)


def write_bytes(path: str | os.PathLike[str], data: bytes) -> Path:
    """Write ``data`` to ``path`` atomically; returns ``path``."""
    with atomic_target(path) as temporary:
        temporary.write_bytes(data)
    return Path(path)


_TEMPORARY_NAME = re.compile(r"^\..+\.[0-9a-z_]{8}\.tmp(\.[^.]+)?$")
"""The names this package gives its temporaries (:func:`atomic_target`, :func:`atomic_directory`, the replay
buffer's staging folder: a dot, the target's name, 8 random characters, ``.tmp``), and only those."""


def remove_stale_temporaries(folder: str | os.PathLike[str]) -> list[Path]:
    """Delete the temporary files and folders a killed writer left in ``folder``.

    Example:
        >>> import tempfile
        >>> folder = Path(tempfile.mkdtemp())
        >>> _ = (folder / ".checkpoint.0f3a9c1e.tmp.zip").write_bytes(b"half a zip")
        >>> (folder / ".tmp_my_notes").mkdir()  # not one of ours: kept
        >>> [path.name for path in remove_stale_temporaries(folder)]
        ['.checkpoint.0f3a9c1e.tmp.zip']
    """
    removed = []
    for entry in sorted(Path(folder).iterdir()):
        if _TEMPORARY_NAME.match(entry.name):
            if entry.is_dir() and not entry.is_symlink():
                shutil.rmtree(entry)
            else:
                entry.unlink()
            removed.append(entry)
    return removed


def usual_file_mode() -> int:
    """The mode a new file gets here: ``0o666`` less the umask (also what a zip member should unpack with).

    Example:
        >>> usual_file_mode() & 0o600
        384
    """
    return 0o666 & ~_umask()


def _give_usual_permissions(path: Path) -> None:
    """Set the mode a new file (``0o666``) or folder (``0o777``) gets, less the umask, whatever its writer chose."""
    if path.is_symlink() or not path.exists():
        return
    os.chmod(path, 0o777 & ~_umask() if path.is_dir() else usual_file_mode())


def _umask() -> int:
    """The process's umask, read without changing it where the system reports it (Linux: /proc/self/status);
    elsewhere ``os.umask``, which only reads by setting, is set back at once."""
    with suppress(OSError, ValueError), open("/proc/self/status", encoding="ascii") as status:
        for line in status:
            if line.startswith("Umask:"):
                return int(line.split()[1], 8)
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def _fsync(path: Path) -> None:
    """Flush a file's data to disk, so that the rename that follows never publishes an empty file after a crash."""
    if path.is_file():
        with open(path, "rb") as stream:
            os.fsync(stream.fileno())


def _fsync_directory(path: Path) -> None:
    """Flush a folder's entries (the rename itself); not every platform or filesystem allows it."""
    with suppress(OSError):
        descriptor = os.open(path, os.O_RDONLY)
        try:
            os.fsync(descriptor)
        finally:
            os.close(descriptor)
