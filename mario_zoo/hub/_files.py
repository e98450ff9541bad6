"""sha256 digests of files, for pinned downloads and zoo entries."""

from __future__ import annotations

import hashlib
import os


def sha256_of(path: str | os.PathLike[str]) -> str:
    """Hex sha256 of a file's bytes (``hashlib.file_digest`` reads in chunks, so large checkpoints stay on disk).

    Example:
        >>> import tempfile
        >>> from pathlib import Path
        >>> with tempfile.TemporaryDirectory() as folder:
        ...     empty = Path(folder) / "empty"
        ...     _ = empty.write_bytes(b"")
        ...     sha256_of(empty)
        'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855'
    """
    with open(path, "rb") as handle:
        return hashlib.file_digest(handle, "sha256").hexdigest()
