"""Errors raised while publishing agents to, or loading them from, the Hugging Face Hub.

Every error names the repo, the revision and the file involved, and says how to fix the problem. Each class also
derives from the built-in exception a caller would naturally catch (``LookupError`` for things that are not there,
``ValueError`` for content we refuse, ``ConnectionError`` for a Hub we cannot reach, ``PermissionError`` for a token
that may not do what was asked), so code that never heard of mario_zoo still handles them sensibly.

Faults of the transport (`HubUnavailableError`, `HubAuthError`, `ChecksumMismatchError`) leave nothing
half-written: a push is one commit that either happened or did not, and a download that fails or does not match its
digest is removed from the Hub cache, so fixing the cause and running the same call again is always safe.

Example:
    >>> from mario_zoo.hub import RepoNotFoundError
    >>> issubclass(RepoNotFoundError, LookupError)
    True
"""

from __future__ import annotations


class HubError(Exception):
    """Base class of every error raised by `mario_zoo.hub`."""


class RepoNotFoundError(HubError, LookupError):
    """The repo does not exist, or it is private and the caller's token cannot see it."""


class RevisionNotFoundError(HubError, LookupError):
    """The repo exists but has no branch, tag or commit with the requested name."""


class MissingFileError(HubError, FileNotFoundError):
    """The repo exists at that revision but lacks a file that loading needs."""


class UnsafeCheckpointError(HubError, ValueError):
    """The repo only holds pickle-based checkpoints (``.pt``, ``.pkl``, SB3 ``.zip``...), which we never load."""


class HubUnavailableError(HubError, ConnectionError):
    """The Hub could not be reached or did not serve the request, even after the client's retries.

    The connection was refused or timed out, the Hub answered 5xx or 429 (rate limited), or a download was cut
    short. Nothing was half-written; retry once the network or the Hub is back.
    """


class NotCachedError(HubUnavailableError):
    """The Hub cannot be reached (offline mode, no network, or a failing Hub) and the file is not in the local cache."""


class HubAuthError(HubError, PermissionError):
    """There is no Hub token, the Hub refused it (401), or it may not write where a push writes (read-only, 403)."""


class ChecksumMismatchError(HubError, ValueError):
    """A downloaded file's bytes differ from its digest: the one the caller pinned, or the Hub's own content address."""


class IncompatibleCheckpointError(HubError, ValueError):
    """The checkpoint's ``config.json`` is not one this version of mario_zoo can read (e.g. a newer format)."""


class SpaceMismatchError(HubError, ValueError):
    """The env passed to `load_from_hub` has observation or action spaces other than the checkpoint's."""


class PushError(HubError, RuntimeError):
    """Creating the repo or the commit failed; the repo was left without a new revision."""


__all__ = [
    "ChecksumMismatchError",
    "HubAuthError",
    "HubError",
    "HubUnavailableError",
    "IncompatibleCheckpointError",
    "MissingFileError",
    "NotCachedError",
    "PushError",
    "RepoNotFoundError",
    "RevisionNotFoundError",
    "SpaceMismatchError",
    "UnsafeCheckpointError",
]
