"""Digests of files: sha256 for pinned downloads and zoo entries, git blob ids for the Hub's content addresses.

Example:
    >>> import tempfile
    >>> from pathlib import Path
    >>> with tempfile.TemporaryDirectory() as folder:
    ...     empty = Path(folder) / "empty"
    ...     _ = empty.write_bytes(b"")
    ...     sha256_of(empty), git_blob_sha1_of(empty)
    ('e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855', 'e69de29bb2d1d6434b8b29ae775ad8c2e48c5391')
"""

from __future__ import annotations

import hashlib
import os


def sha256_of(path: str | os.PathLike[str]) -> str:
    """Hex sha256 of a file's bytes (``hashlib.file_digest`` reads in chunks, so large checkpoints stay on disk)."""
    with open(path, "rb") as handle:
        return hashlib.file_digest(handle, "sha256").hexdigest()


def git_blob_sha1_of(path: str | os.PathLike[str]) -> str:
    """Git's blob id of a file, ``sha1(b"blob <size>\\0" + bytes)``: the Hub's ETag of a file it does not keep in LFS."""
    digest = hashlib.sha1(b"blob %d\0" % os.stat(path).st_size, usedforsecurity=False)
    with open(path, "rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()
