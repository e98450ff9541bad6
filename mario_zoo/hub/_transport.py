"""Calling the Hub client: repo ids checked by the client's own rule, its network faults reported as typed errors.

``huggingface_hub`` already retries what is worth retrying: connection errors, 5xx and 429 answers (waiting as long
as ``Retry-After`` says), and downloads cut short, which it resumes. What still fails after its retries reaches us
as an ``httpx2`` transport error or an ``HfHubHTTPError``; `hub_faults` turns the faults among those into one
typed, one-line error: `HubUnavailableError` for a Hub that cannot be reached or does not serve (connection refused,
timeout, 5xx, 429, a body cut short) and `HubAuthError` for credentials it refuses (401, 403). Every other answer
(404, 409...) is left to the caller, which knows what it means there.

Example:
    >>> check_repo_id("bad repo id")  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    ValueError: repo_id 'bad repo id' is not a Hub repo id: Repo id must use alphanumeric chars, '-', '_' or '.'. ...
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager

import httpx2
from huggingface_hub import constants
from huggingface_hub.errors import HfHubHTTPError, HFValidationError, LocalTokenNotFoundError, OfflineModeIsEnabled
from huggingface_hub.utils import validate_repo_id

from mario_zoo.hub.errors import HubAuthError, HubError, HubUnavailableError

REPO_ID_FORM = "namespace/name, e.g. your-name/dqn-CartPole-v1"
"""How a valid repo id looks, for messages."""

TOKEN_FIX = "Set HF_TOKEN to a token with write access (https://huggingface.co/settings/tokens) or run `hf auth login`"
"""How to fix a missing, refused or read-only token."""


def check_repo_id(repo_id: object, what: str = "repo_id") -> str:
    """Return ``repo_id`` if the Hub client accepts it (``validate_repo_id``) and it names its namespace.

    Raises a ``ValueError`` naming ``what``, the bad value, the client's rule it breaks, and the valid form.

    Example:
        >>> check_repo_id("your-name/dqn-CartPole-v1")
        'your-name/dqn-CartPole-v1'
        >>> check_repo_id("dqn-CartPole-v1", "REPO_ID")
        Traceback (most recent call last):
        ...
        ValueError: REPO_ID 'dqn-CartPole-v1' is not a Hub repo id: it names no namespace. Write namespace/name, e.g. your-name/dqn-CartPole-v1.
    """
    try:
        validate_repo_id(repo_id)  # type: ignore[arg-type]  # a non-string is refused with the client's words
    except HFValidationError as error:
        reason = str(error)
    else:
        if isinstance(repo_id, str) and repo_id.count("/") == 1:
            return repo_id
        reason = "it names no namespace."
    raise ValueError(f"{what} {repo_id!r} is not a Hub repo id: {reason} Write {REPO_ID_FORM}.")


@contextmanager
def hub_faults(
    action: str, *, endpoint: str | None = None, afterwards: str = "Nothing was written.", writing: bool = False
) -> Iterator[None]:
    """Run Hub client calls; raise `HubUnavailableError` or `HubAuthError` for the faults they end in.

    Args:
        action: what the calls do, completing "Could not ...", e.g. ``"download config.json of a/b@main"``.
        endpoint: the Hub the calls talk to (default ``HF_ENDPOINT``).
        afterwards: what state the fault leaves things in, and what to do; ends the message.
        writing: the calls publish (a push): the Hub cannot be replaced by its cache, and ``HF_HUB_OFFLINE=1`` is a
            fault to report, not a way round one.

    The client's retries of a failed request stay, but not their log lines ("... thrown while requesting ...",
    "Retrying in 8s"; a filter on the retry loop's logger for the block, so other messages and the user's verbosity
    stay): a fault the retries do not cure ends in one message, this function's.
    """
    retries = logging.getLogger(_RETRY_LOGGER)
    quiet = _QuietRetries()
    retries.addFilter(quiet)
    try:
        yield
    except OfflineModeIsEnabled as error:
        if not writing:
            raise
        raise HubUnavailableError(
            f"Could not {action}: HF_HUB_OFFLINE=1 is set, so the Hub is not contacted. {afterwards} Unset "
            "HF_HUB_OFFLINE to publish, or write the repo's files with --out DIR (push_to_hub: save_repo) and upload "
            "them later."
        ) from error
    except (httpx2.TransportError, HfHubHTTPError, LocalTokenNotFoundError, RuntimeError) as error:
        # The client wraps an LFS upload's failure in a RuntimeError whose cause is the fault itself.
        cause = error.__cause__ if type(error) is RuntimeError else error
        fault = _typed_fault(cause, f"Could not {action}", endpoint or constants.ENDPOINT, afterwards, writing)
        if fault is None:
            raise
        raise fault from error
    finally:
        retries.removeFilter(quiet)


_RETRY_LOGGER = "huggingface_hub.utils._http"
"""The logger of huggingface_hub's retry loop (``http_backoff``), which warns at each retry."""


class _QuietRetries(logging.Filter):
    """Drops the retry loop's own lines and nothing else (the user's verbosity and the Hub's warnings stay)."""

    RETRY_LINES = ("thrown while requesting", "Retrying in ", "Rate limited. Waiting")

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        return not any(line in message for line in self.RETRY_LINES)


def _typed_fault(
    error: BaseException | None, failed: str, where: str, afterwards: str, writing: bool = False
) -> HubError | None:
    """The typed error for a fault of the network, the Hub or the token; ``None`` for any other error."""
    if isinstance(error, LocalTokenNotFoundError):
        return HubAuthError(f"{failed}: no Hub token is set. {TOKEN_FIX}.")
    if isinstance(error, HfHubHTTPError):
        status = error.response.status_code
        if status in (401, 403):
            return HubAuthError(
                f"{failed}: the Hub at {where} refused the token ({status}: {_server_message(error)}). "
                f"{afterwards} {TOKEN_FIX}."
            )
        if status == 429 or status >= 500:
            return HubUnavailableError(f"{failed}: {http_reason(error, where)}. {afterwards}")
        return None
    if isinstance(error, httpx2.TransportError):
        return HubUnavailableError(
            f"{failed}: the Hub at {where} could not be reached ({transport_reason(error)}). {afterwards} "
            "Check your network connection and HF_ENDPOINT, then retry"
            + (
                " (or write the repo's files with --out DIR and upload them later)."
                if writing
                else " (or set HF_HUB_OFFLINE=1 to use the cache only)."
            )
        )
    return None


def http_reason(error: HfHubHTTPError, where: str) -> str:
    """Why an answer of 5xx or 429 failed the call, and when to retry."""
    status = error.response.status_code
    if status == 429:
        retry_after = error.response.headers.get("Retry-After")
        when = f"retry in {retry_after} s" if retry_after else "retry in a minute"
        return f"the Hub at {where} is rate-limiting requests (429: {_server_message(error)}); {when}"
    return f"the Hub at {where} failed to serve it ({status}: {_server_message(error)}); retry later"


def transport_reason(error: httpx2.TransportError) -> str:
    """The transport error in a few words: the system's message, or its kind when it has none."""
    return " ".join(str(error).split()) or type(error).__name__


def _server_message(error: HfHubHTTPError) -> str:
    """The Hub's own words (``X-Error-Message``), else the client's (``whoami`` words its own), else the reason."""
    client_words = str(error).strip().splitlines()[0] if str(error).strip() else ""
    message = getattr(error, "server_message", None) or client_words or error.response.reason_phrase
    return " ".join(str(message or "no message").split())
