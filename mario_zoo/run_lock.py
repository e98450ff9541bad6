"""One writer per run folder: the OS lock that ``mario-zoo train`` (and ``compare``) holds on ``run.lock`` while it
writes a run, and the refusal another process gets.

Example:
    >>> import tempfile
    >>> from pathlib import Path
    >>> from mario_zoo.runs import RunFolder
    >>> run = RunFolder(Path(tempfile.mkdtemp()) / "run")
    >>> with lock_run(run):
    ...     check_not_in_use(run)  # held, here by this very process: refused
    Traceback (most recent call last):
    ...
    mario_zoo.run_lock.RunInUseError: Run ... is in use: ...
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Protocol

from filelock import FileLock, Timeout

from mario_zoo.atomic import write_text
from mario_zoo.reading import read_bytes


class RunFolder(Protocol):
    """What the lock needs of a run folder (:class:`mario_zoo.runs.RunFolder` has it)."""

    @property
    def path(self) -> Path: ...

    @property
    def lock_file(self) -> Path: ...

    @property
    def pid_file(self) -> Path: ...


class RunInUseError(ValueError):
    """A live process holds the run folder's lock: it is training the run, so nothing else may write there."""

    def __init__(self, run: RunFolder, pid: int | None):
        holder = f"process {pid}" if pid is not None else "another process"
        stop = f"`kill {pid}`" if pid is not None else "Ctrl-C in its terminal"
        super().__init__(
            f"Run {run.path} is in use: {holder} is training it (it holds {run.lock_file.name}). Wait for it to "
            f"finish, or stop it with {stop} (it saves a checkpoint), then run this command again."
        )
        self.pid = pid


@contextlib.contextmanager
def lock_run(run: RunFolder) -> Iterator[None]:
    """Hold ``run``'s lock for the block, with this process's pid in ``run.pid``; creates the folder.

    The lock is an OS lock on ``run.lock`` (``filelock``): it dies with its process, so a killed run never blocks
    the next one. While another live process holds it, :class:`RunInUseError` (a ``ValueError``) names that
    process, and nothing is written.

    Example:
        >>> import tempfile
        >>> from pathlib import Path
        >>> from mario_zoo.runs import RunFolder
        >>> run = RunFolder(Path(tempfile.mkdtemp()) / "run")
        >>> with lock_run(run):
        ...     run.pid_file.read_text().strip() == str(os.getpid())
        True
        >>> run.pid_file.exists(), run.lock_file.exists()  # the lock file stays, free
        (False, True)
    """
    run.path.mkdir(parents=True, exist_ok=True)
    lock = FileLock(run.lock_file)
    try:
        lock.acquire(timeout=0)
    except Timeout:
        raise RunInUseError(run, _holder_pid(run)) from None
    try:
        write_text(run.pid_file, f"{os.getpid()}\n")
        yield
    finally:
        run.pid_file.unlink(missing_ok=True)
        lock.release()


def check_not_in_use(run: RunFolder) -> None:
    """Raise :class:`RunInUseError` if a live process holds ``run``'s lock; writes nothing.

    A folder without ``run.lock`` was never locked (or was trained by a mario-zoo without locks), so it is free.
    """
    if not run.lock_file.is_file():
        return
    probe = FileLock(run.lock_file)
    try:
        probe.acquire(timeout=0)
    except Timeout:
        raise RunInUseError(run, _holder_pid(run)) from None
    probe.release()


def _holder_pid(run: RunFolder) -> int | None:
    """The pid in ``run.pid`` (``None`` if the holder has not written it yet, or it is unreadable)."""
    try:
        text = read_bytes(run.pid_file, max_bytes=64).decode("ascii").strip()
    except (OSError, ValueError):
        return None
    return int(text) if text.isdigit() else None
