"""Load a published agent from the Hugging Face Hub: only safe files, pinned when asked, offline when cached.

`load_from_hub` downloads exactly what loading needs, ``config.json`` and ``model.safetensors`` (never the video
or anything else), through the Hub cache, so a second load works without network and ``HF_HUB_OFFLINE=1`` is
honoured. It never unpickles: a repo holding only ``.pt``/``.pkl``/``.bin``/SB3 ``.zip`` checkpoints is refused
with the reason and the fix, and those files are never downloaded. Both files come from the same commit even if
the branch moves in between, and each can be pinned to a sha256 digest.

Every file it uses is checked against the Hub's own content address, the name the cache gives its blob (the git
blob sha1 of a regular file, the sha256 of an LFS file), so bytes damaged in transit or in the cache are refused
and removed, never trusted by a later load. A Hub that cannot be reached or fails is one `HubUnavailableError`.

Example:
    >>> from mario_zoo.hub import load_from_hub
    >>> model = load_from_hub("mario-zoo/dqn-CartPole-v1", revision="<commit sha>")  # doctest: +SKIP
    >>> action, _ = model.predict(observation, deterministic=True)  # doctest: +SKIP
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from pathlib import Path

import gymnasium as gym
import httpx2
import torch
from huggingface_hub import HfApi, constants, hf_hub_download
from huggingface_hub import errors as hf_errors
from stable_baselines3.common.vec_env import VecEnv

import mario_zoo
from mario_zoo.agents import DQN, checkpoint
from mario_zoo.hub._compat import check_config, check_env_spaces
from mario_zoo.hub._files import git_blob_sha1_of, sha256_of
from mario_zoo.hub._transport import http_reason, hub_faults, transport_reason
from mario_zoo.hub.errors import (
    ChecksumMismatchError,
    IncompatibleCheckpointError,
    MissingFileError,
    NotCachedError,
    RepoNotFoundError,
    RevisionNotFoundError,
    UnsafeCheckpointError,
)
from mario_zoo.reading import read_json

NEEDED_FILES = (checkpoint.CONFIG_FILE, checkpoint.MODEL_FILE)
"""The only files `load_from_hub` downloads."""

PICKLE_SUFFIXES = (".pt", ".pth", ".pkl", ".pickle", ".bin", ".ckpt", ".joblib", ".zip")
"""Checkpoint formats that unpickle on load (SB3's ``.zip`` holds pickled data and ``.pth`` files)."""

_SHA256 = re.compile(r"^[0-9a-fA-F]{64}$")
_COMMIT = re.compile(r"^[0-9a-f]{40}$")


def load_from_hub(
    repo_id: str,
    *,
    revision: str | None = None,
    env: gym.Env | VecEnv | str | None = None,
    device: torch.device | str = "auto",
    sha256: Mapping[str, str] | None = None,
) -> DQN:
    """Download and load the DQN agent published at ``repo_id``.

    Args:
        repo_id: ``namespace/name`` of the Hub repo.
        revision: branch, tag or commit sha; defaults to ``main``. Pin a commit sha for reproducible loads.
        env: env to attach (a gymnasium Env, an SB3 VecEnv or an env id); its spaces must match the agent's.
            ``None`` gives a model for ``predict`` only.
        device: torch device for the networks (``"auto"`` picks CUDA when available).
        sha256: expected hex digests by file name (``config.json``, ``model.safetensors``); a downloaded or
            cached file with another digest is refused and dropped from the cache.

    Raises:
        RepoNotFoundError, RevisionNotFoundError, MissingFileError: nothing loadable at that address.
        UnsafeCheckpointError: the repo only offers pickle-based checkpoints.
        NotCachedError: the Hub is unreachable or failing (or ``HF_HUB_OFFLINE=1``) and the files are not cached.
        HubUnavailableError: the Hub failed, or the connection broke, while a file was downloaded.
        HubAuthError: the Hub refused the token.
        ChecksumMismatchError: a file does not match its pinned digest or the Hub's content address.
        IncompatibleCheckpointError: the config is not a mario-zoo DQN config of a format version we read, or the
            weights do not match it (their sha256, their shapes).
        SpaceMismatchError: ``env`` does not fit the agent.
    """
    pins = _check_pins(sha256)
    config_path = _download(repo_id, checkpoint.CONFIG_FILE, revision, pins)
    # Fetch the weights from the commit the config came from, even if the branch moved since.
    snapshot = Path(config_path).parent
    commit = snapshot.name if _COMMIT.match(snapshot.name) else revision
    where = f"{repo_id}@{commit or 'main'}"
    try:
        # Bounded as a local checkpoint's config.json is: a hostile or damaged file is refused before it is parsed.
        config = read_json(
            config_path,
            max_bytes=checkpoint.MAX_CONFIG_BYTES,
            max_depth=checkpoint.MAX_CONFIG_DEPTH,
            source=f"config.json of {where}",
        )
    except ValueError as error:
        _refuse_if_only_pickles(repo_id, commit)
        raise IncompatibleCheckpointError(f"{error} The repo is not a mario-zoo agent.") from error
    if not isinstance(config, dict) or "format_version" not in config:
        _refuse_if_only_pickles(repo_id, commit)
    check_config(config, f"config.json of {where}")
    _download(repo_id, checkpoint.MODEL_FILE, commit, pins)
    if isinstance(env, str):
        env = gym.make(env)
    if env is not None:
        check_env_spaces(env, config, where)
    try:
        return DQN.load(snapshot, env=env, device=device)
    except checkpoint.CheckpointError as error:  # the files are the Hub's, but they do not make one checkpoint
        raise IncompatibleCheckpointError(
            f"{where} does not hold a loadable checkpoint: {error} Its owner can push it again; nothing was written."
        ) from error


def _check_pins(sha256: Mapping[str, str] | None) -> dict[str, str]:
    pins = dict(sha256 or {})
    for name, digest in pins.items():
        if name not in NEEDED_FILES:
            raise ValueError(
                f"sha256 pins files that load_from_hub downloads ({', '.join(NEEDED_FILES)}); got {name!r}."
            )
        if not isinstance(digest, str) or not _SHA256.match(digest):
            raise ValueError(f"sha256[{name!r}] must be 64 hex digits, got {digest!r}.")
    return {name: digest.lower() for name, digest in pins.items()}


def _download(repo_id: str, filename: str, revision: str | None, pins: Mapping[str, str]) -> str:
    """``hf_hub_download`` with its errors translated, then the pinned digest (if any) checked."""
    where = f"{repo_id}@{revision or 'main'}"
    try:
        with hub_faults(f"download {filename} of {where}", afterwards="Nothing was cached or written."):
            path = hf_hub_download(
                repo_id, filename, revision=revision, library_name="mario-zoo", library_version=mario_zoo.__version__
            )
    except hf_errors.RepositoryNotFoundError as error:
        raise RepoNotFoundError(
            f"No model repo {repo_id!r} on the Hub at {constants.ENDPOINT}. Check the id (namespace/name, as in "
            "the repo's URL); for a private repo, log in (`hf auth login`) or set HF_TOKEN."
        ) from error
    except hf_errors.RevisionNotFoundError as error:
        raise RevisionNotFoundError(
            f"{repo_id} has no revision {revision!r}. Pass a branch, a tag or a commit sha of the repo "
            f"(HfApi().list_repo_commits({repo_id!r}) lists the commits), or omit revision for 'main'."
        ) from error
    except hf_errors.RemoteEntryNotFoundError as error:
        _refuse_if_only_pickles(repo_id, revision)
        raise MissingFileError(
            f"{where} has no {filename}. A mario-zoo agent repo holds {' and '.join(NEEDED_FILES)}, as "
            "written by mario_zoo.hub.push_to_hub; check the repo id and revision."
        ) from error
    except hf_errors.LocalEntryNotFoundError as error:
        raise NotCachedError(_not_cached_message(where, filename, error.__cause__)) from error
    expected = pins.get(filename)
    if expected is not None:
        _verify(Path(path), expected, f"{filename} of {where}")
    else:
        _verify_content_address(Path(path), f"{filename} of {where}")
    return path


def _not_cached_message(where: str, filename: str, cause: BaseException | None) -> str:
    if constants.is_offline_mode():
        return (
            f"HF_HUB_OFFLINE=1 is set and {filename} of {where} is not in the Hub cache ({constants.HF_HUB_CACHE}). "
            "Load it once with network access (unset HF_HUB_OFFLINE) to cache it, or point HF_HUB_CACHE at a "
            "cache that holds it."
        )
    if isinstance(cause, hf_errors.HfHubHTTPError):
        reason = http_reason(cause, constants.ENDPOINT)
    elif isinstance(cause, httpx2.TransportError):
        reason = f"the Hub at {constants.ENDPOINT} could not be reached ({transport_reason(cause)})"
    else:
        reason = f"the Hub at {constants.ENDPOINT} could not be reached"
    return (
        f"Could not download {filename} of {where}: {reason}; and it is not in the Hub cache "
        f"({constants.HF_HUB_CACHE}). Nothing was cached or written. Check your network connection (and "
        "HF_ENDPOINT), then retry."
    )


def _verify_content_address(path: Path, what: str) -> None:
    """Refuse (and evict) a cached file whose bytes are not those its blob is named after.

    The cache names each blob after the Hub's ETag of the file: the sha256 of an LFS file's bytes, the git blob
    sha1 of a regular file's. A blob named otherwise (a cache without symlinks keeps plain copies) is not checked.
    """
    name, actual = _content_address(path)
    if actual != name:
        _evict(path)
        raise ChecksumMismatchError(
            f"{what} does not match the Hub's checksum of it ({name}; the bytes hash to {actual}): it was damaged "
            "in transit or in the cache. The bad copy was removed from the cache. Load again to re-download it."
        )


def _content_address(path: Path) -> tuple[str | None, str | None]:
    """The Hub's checksum that the cached blob of ``path`` is named after, and that of its bytes (both ``None`` for a
    blob named otherwise: a cache without symlinks keeps plain copies, which cannot be checked)."""
    blob = path.resolve()
    name = blob.name.lower()
    if _SHA256.match(name):
        return name, sha256_of(blob)
    if _COMMIT.match(name):
        return name, git_blob_sha1_of(blob)
    return None, None


def _verify(path: Path, expected: str, what: str) -> None:
    actual = sha256_of(path)
    if actual == expected:
        return
    name, hashed = _content_address(path)
    if name is not None and hashed == name:
        # The file is the Hub's, intact: the pin names other bytes. Keep the good copy in the cache.
        raise ChecksumMismatchError(
            f"{what} has sha256 {actual}, but {expected} was pinned. The file matches the Hub's own checksum, so it "
            "is intact and stays in the cache: the pin does not match this revision (pin the digest of the revision "
            "you load, or load the revision the pin was taken from)."
        )
    _evict(path)
    raise ChecksumMismatchError(
        f"{what} has sha256 {actual}, but {expected} was pinned: the file was corrupted in storage or in "
        "transit, or the repo changed. The bad copy was removed from the cache. Load again to re-download it; "
        "if the digest still differs, check that the pin matches the revision you load."
    )


def _evict(path: Path) -> None:
    """Drop a bad cached file (the snapshot link and the blob it points to): the next load downloads afresh."""
    blob = path.resolve()
    path.unlink(missing_ok=True)
    blob.unlink(missing_ok=True)


def _refuse_if_only_pickles(repo_id: str, revision: str | None) -> None:
    """Raise `UnsafeCheckpointError` if the repo offers pickle-based checkpoints but no safetensors weights."""
    try:
        files = HfApi().list_repo_files(repo_id, revision=revision)
    except (hf_errors.HfHubHTTPError, hf_errors.OfflineModeIsEnabled, httpx2.TransportError):
        return  # cannot tell; the caller reports the missing file
    pickles = sorted(name for name in files if name.lower().endswith(PICKLE_SUFFIXES))
    if pickles and checkpoint.MODEL_FILE not in files:
        raise UnsafeCheckpointError(
            f"{repo_id}@{revision or 'main'} only has pickle-based checkpoints ({', '.join(pickles)}), no "
            f"{checkpoint.MODEL_FILE}. mario-zoo never loads pickle files: unpickling runs whatever code the "
            "file's author put in it. Ask the author to publish safetensors weights (mario_zoo.hub.push_to_hub "
            "does), or convert the checkpoint yourself inside a sandbox you trust and re-save it with "
            "model.save(...)."
        )
