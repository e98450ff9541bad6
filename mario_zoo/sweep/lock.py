"""The lock every worker of a study takes, on any machine, to decide on a trial and take it from the queue.

It lives where the study does, so that it holds across machines too: a file lock (``filelock``) on
``<database>.lock`` next to a SQLite file, a PostgreSQL advisory lock, a MySQL named lock. The kernel or the
server releases each when its holder dies, even by SIGKILL, so a killed worker never blocks the others.

Example:
    >>> import tempfile
    >>> url = f"sqlite:///{tempfile.mkdtemp()}/study.db"
    >>> lock = StudyLock(url, "mario-zoo sweep demo")
    >>> with lock:
    ...     lock.release()  # a worker lets go as soon as its trial has started; leaving the block is then a no-op
    >>> lock.held
    False
"""

from __future__ import annotations

import hashlib
from typing import Any

from filelock import FileLock

_TAKE = {"postgresql": "SELECT pg_advisory_lock(:key)", "mysql": "SELECT GET_LOCK(:name, -1)"}
_FREE = {"postgresql": "SELECT pg_advisory_unlock(:key)", "mysql": "SELECT RELEASE_LOCK(:name)"}


class StudyLock:
    """A lock named ``name`` in the storage at ``url`` (SQLite has one per database file, whatever the name).

    :meth:`release` may be called early (and again): a worker lets go as soon as its trial has started.
    """

    def __init__(self, url: str, name: str):
        from sqlalchemy.engine import make_url

        parsed = make_url(url)
        self.backend = parsed.get_backend_name()
        self.url = url
        self.name = name[:64]  # MySQL's GET_LOCK takes names of at most 64 characters
        self.key = int.from_bytes(hashlib.sha256(self.name.encode()).digest()[:8], "big", signed=True)
        # A hold belongs to the process (as the server-side locks do), not to the thread that took it.
        self._file = FileLock(f"{parsed.database}.lock", thread_local=False) if self.backend == "sqlite" else None
        self._connection: Any = None

    @property
    def held(self) -> bool:
        """Whether this process holds the lock through this object."""
        return self._file.is_locked if self._file is not None else self._connection is not None

    def acquire(self) -> None:
        """Wait for the lock."""
        if self._file is not None:
            self._file.acquire()
            return
        import sqlalchemy

        connection = sqlalchemy.create_engine(self.url, poolclass=sqlalchemy.pool.NullPool).connect()
        connection.execute(sqlalchemy.text(_TAKE[self.backend]), {"key": self.key, "name": self.name})
        self._connection = connection

    def release(self) -> None:
        """Let go of the lock if held."""
        if self._file is not None:
            self._file.release(force=True)
            return
        connection, self._connection = self._connection, None
        if connection is None:
            return
        import sqlalchemy

        connection.execute(sqlalchemy.text(_FREE[self.backend]), {"key": self.key, "name": self.name})
        connection.close()

    def __enter__(self) -> StudyLock:
        self.acquire()
        return self

    def __exit__(self, *_: object) -> None:
        self.release()
