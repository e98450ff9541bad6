"""Publish an evaluated agent to the Hugging Face Hub: weights, results, card and replay in one commit.

The Hub is transport: `push_to_hub` takes an evaluation already made with the project's protocol
(:func:`mario_zoo.evaluation.evaluate`), as CleanRL's and huggingface_hub's ``ModelHubMixin`` uploads do, and
writes it down next to the agent. A published repo holds exactly what a user needs to trust and reuse the agent::

    model.safetensors   weights (no pickle)
    config.json         algorithm, hyperparameters, network, spaces, env id and kwargs, format version
    results.json        the evaluation the card reports, per episode, with the protocol and package versions
    replay.mp4          one episode, at the game's real speed (optional: record it with mario_zoo.video.record)
    README.md           the model card (see mario_zoo.hub.card)

All files go up in a single commit (:func:`commit_files`), so a revision never shows weights without their card
and results, and a failed push leaves the repo exactly as it was. :func:`check_push_access` asks the Hub, before
any costly work, whether it answers and accepts the token (``mario-zoo push`` calls it before evaluating).

Example (needs a Hub account, so not run as a doctest; ``info.oid`` is the commit to pin when loading):
    >>> from mario_zoo.agents import DQN  # doctest: +SKIP
    >>> from mario_zoo.evaluation import evaluate  # doctest: +SKIP
    >>> from mario_zoo.hub import load_from_hub, push_to_hub  # doctest: +SKIP
    >>> model = DQN("MlpPolicy", "CartPole-v1", seed=0).learn(50_000)  # doctest: +SKIP
    >>> results = evaluate(model, "CartPole-v1", n_episodes=10)  # doctest: +SKIP
    >>> info = push_to_hub(model, "your-name/dqn-CartPole-v1", results=results)  # doctest: +SKIP
    >>> same = load_from_hub("your-name/dqn-CartPole-v1", revision=info.oid)  # doctest: +SKIP
"""

from __future__ import annotations

import json
import os
import posixpath
import shutil
import tempfile
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import gymnasium as gym
from huggingface_hub import CommitInfo, CommitOperationAdd, CommitOperationDelete, HfApi, ModelCard
from huggingface_hub.errors import HfHubHTTPError

from mario_zoo.agents import checkpoint
from mario_zoo.atomic import atomic_directory, write_text
from mario_zoo.evaluation import results_document
from mario_zoo.hub._compat import check_env_spaces
from mario_zoo.hub._transport import TOKEN_FIX, check_repo_id, hub_faults
from mario_zoo.hub.card import VIDEO_FILE, build_model_card
from mario_zoo.hub.errors import HubAuthError, PushError
from mario_zoo.results import Evaluation

if TYPE_CHECKING:
    from mario_zoo.agents import DQN

RESULTS_FILE = "results.json"
CARD_FILE = "README.md"


def push_to_hub(
    model: DQN | str | os.PathLike[str],
    repo_id: str,
    *,
    results: Evaluation,
    also: Sequence[Evaluation] = (),
    video: str | os.PathLike[str] | None = None,
    card: ModelCard | None = None,
    extra_files: Mapping[str, str | os.PathLike[str]] | None = None,
    training: Sequence[str] = (),
    token: str | None = None,
    private: bool = False,
    commit_message: str | None = None,
) -> CommitInfo:
    """Upload ``model`` with its evaluation, model card and replay to ``repo_id`` in one commit.

    Args:
        model: the agent, or a checkpoint folder whose files go up byte for byte (the zoo ships those).
        repo_id: ``namespace/name`` of the Hub repo; created if missing.
        results: its evaluation (:func:`mario_zoo.evaluation.evaluate`), written to ``results.json`` as
            ``mario-zoo evaluate --json`` prints it. On an env other than the training env, that env's spaces must
            be the model's.
        also: evaluations under other protocols (Mario: the Nature protocol beside the no-op sweep), kept in
            ``results.json`` under ``other_protocols`` and shown on the default card.
        video: an ``.mp4`` replay to upload as ``replay.mp4`` (:func:`mario_zoo.video.record` plays it at the
            game's speed); ``None`` uploads none, and the card does not mention one.
        card: the model card; default :func:`~mario_zoo.hub.card.build_model_card` of ``results``.
        extra_files: more files for the repo, path in repo -> local file (e.g. a GIF the card shows).
        token: Hub token with write access; defaults to the logged-in one (``HF_TOKEN`` or ``hf auth login``).
        private: create the repo private (an existing repo keeps its visibility).
        commit_message: defaults to one naming the env and the measured reward.

    Returns:
        The commit's info; ``.oid`` is the sha to pin in ``load_from_hub(repo_id, revision=...)``.

    Raises:
        HubUnavailableError: the Hub could not be reached or failed (5xx, 429); no new revision exists.
        HubAuthError: there is no token, or the Hub refused it (401) or its write (403); no new revision exists.
        PushError: the Hub refused to create the repo or the commit otherwise; no new revision exists.
        SpaceMismatchError: ``results`` were measured on an env whose spaces differ from the model's.
        ValueError: ``repo_id`` is not ``namespace/name``, ``video`` is not an ``.mp4`` file, or ``model`` is a path
            but not a checkpoint folder.
    """
    check_repo_id(repo_id)
    _check_video(video)
    with tempfile.TemporaryDirectory(prefix="mario-zoo-push-") as staging:
        folder = Path(staging) / "repo"
        folder.mkdir()
        files = _write_repo_files(
            model,
            repo_id,
            folder,
            results=results,
            also=also,
            video=video,
            card=card,
            extra_files=extra_files,
            training=training,
        )
        message = commit_message or (
            f"Upload DQN agent for {results.env_id}: mean reward {results.mean_reward_text} "
            f"over {results.n_eval_episodes} episodes"
        )
        # An earlier push's replay (or optimizer state) is not this agent's: the commit drops it.
        stale = (VIDEO_FILE, checkpoint.OPTIMIZER_FILE)
        return commit_files(repo_id, files, message, token=token, private=private, drop_others_of=stale)


def save_repo(
    model: DQN | str | os.PathLike[str],
    repo_id: str,
    out: str | os.PathLike[str],
    *,
    results: Evaluation,
    also: Sequence[Evaluation] = (),
    video: str | os.PathLike[str] | None = None,
    card: ModelCard | None = None,
    extra_files: Mapping[str, str | os.PathLike[str]] | None = None,
    training: Sequence[str] = (),
) -> dict[str, Path]:
    """Write the files :func:`push_to_hub` would commit to ``repo_id`` into the new folder ``out``, without the
    network or a token: to read the card before publishing, or to publish from another machine
    (``hf upload REPO_ID OUT .`` sends them in one commit).

    The arguments are :func:`push_to_hub`'s. ``out`` must not exist or be an empty folder; it appears complete or
    not at all (written beside it, then renamed). Returns path in repo -> written file.

    Raises:
        ValueError: ``out`` exists and is not an empty folder, or as :func:`push_to_hub` (nothing is written).
    """
    check_repo_id(repo_id)
    _check_video(video)
    target = check_repo_folder(out)
    with atomic_directory(target) as staging:
        names = _write_repo_files(
            model,
            repo_id,
            staging,
            results=results,
            also=also,
            video=video,
            card=card,
            extra_files=extra_files,
            training=training,
        )
    return {name: target / name for name in names}


def check_repo_folder(out: str | os.PathLike[str]) -> Path:
    """``out`` as a path, if :func:`save_repo` can write there: a new folder, or an empty one.

    Example:
        >>> import tempfile
        >>> folder = Path(tempfile.mkdtemp())
        >>> check_repo_folder(folder / "dqn-CartPole-v1") == folder / "dqn-CartPole-v1"
        True
        >>> _ = (folder / "README.md").write_text("a card")
        >>> check_repo_folder(folder)  # doctest: +ELLIPSIS
        Traceback (most recent call last):
        ...
        ValueError: '...' already exists and is not an empty folder; name a new folder to write the repo's files into.
    """
    target = Path(out)
    if target.exists() and not (target.is_dir() and not any(target.iterdir())):
        raise ValueError(
            f"{str(target)!r} already exists and is not an empty folder; name a new folder to write the repo's "
            "files into."
        )
    return target


def _check_video(video: str | os.PathLike[str] | None) -> None:
    if video is not None and (Path(video).suffix.lower() != ".mp4" or not Path(video).is_file()):
        raise ValueError(f"video must be an existing .mp4 file (mario_zoo.video.record writes one), got {video!r}.")


def _check_checkpoint_folder(model: str | os.PathLike[str]) -> None:
    """Refuse a folder that ``DQN.load`` would refuse (files, sha256, tensors, shapes) before a byte goes up."""
    from mario_zoo.agents import DQN

    fix = "Push a DQN or a checkpoint folder (config.json, model.safetensors; a run's is RUN/model)"
    if not Path(model).is_dir() or not (Path(model) / checkpoint.CONFIG_FILE).is_file():
        raise ValueError(f"{fix}, got {os.fspath(model)!r}.")
    try:
        DQN.load(model, device="cpu")
    except (FileNotFoundError, checkpoint.CheckpointError) as error:
        raise ValueError(f"{os.fspath(model)!r} is not a checkpoint that loads: {error} {fix}.") from error


def _write_repo_files(
    model: DQN | str | os.PathLike[str],
    repo_id: str,
    folder: Path,
    *,
    results: Evaluation,
    also: Sequence[Evaluation],
    video: str | os.PathLike[str] | None,
    card: ModelCard | None,
    extra_files: Mapping[str, str | os.PathLike[str]] | None,
    training: Sequence[str],
) -> dict[str, Path]:
    """Write a repo's files into the empty ``folder``: the agent, ``results.json``, the card, the replay and the
    card's files; return path in repo -> file."""
    if isinstance(model, str | os.PathLike):
        _check_checkpoint_folder(model)  # loaded whole (config, sha256, weights) before its text is read here
        shutil.copyfile(Path(model) / checkpoint.MODEL_FILE, folder / checkpoint.MODEL_FILE)
        # An agent to play: a training checkpoint's local TensorBoard folder and episodes stay on this machine.
        config = json.loads((Path(model) / checkpoint.CONFIG_FILE).read_bytes())
        counters = config.get("training", {})
        counters.update({key: empty for key, empty in checkpoint.MACHINE_LOCAL.items() if key in counters})
        write_text(folder / checkpoint.CONFIG_FILE, json.dumps(config, sort_keys=True, indent=2))
    else:
        model.save(folder, include_optimizer=False)
    config = checkpoint.read_config(folder).to_json()
    _check_evaluation_env(config, results.env_id, repo_id)
    document = results_document(results, also)
    write_text(folder / RESULTS_FILE, json.dumps(document, indent=2, sort_keys=True) + "\n")
    card = card or build_model_card(repo_id, config, results, video=video is not None, also=also, training=training)
    write_text(folder / CARD_FILE, str(card))
    names = [checkpoint.CONFIG_FILE, checkpoint.MODEL_FILE, RESULTS_FILE, CARD_FILE]
    copies = {VIDEO_FILE: video} if video is not None else {}
    copies |= dict(extra_files or {})
    for name, source in copies.items():
        normalized = posixpath.normpath(name)
        destination = folder / normalized
        if (
            posixpath.isabs(normalized)
            or not destination.resolve().is_relative_to(folder.resolve())
            or normalized in names
            or normalized == "."
        ):
            raise ValueError(
                f"{name!r} is not a path this repo can take: it would leave the repo or replace one of its own files "
                f"({', '.join(names)})."
            )
        destination.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(source, destination)
        names.append(normalized)
    return {name: folder / name for name in names}


def commit_files(
    repo_id: str,
    files: Mapping[str, str | os.PathLike[str]],
    message: str,
    *,
    token: str | None = None,
    private: bool = False,
    drop_others_of: Sequence[str] = (),
) -> CommitInfo:
    """Create ``repo_id`` if needed, then commit ``files`` (path in repo -> local file) at once; the same commit
    deletes the files named in ``drop_others_of`` that the repo holds and ``files`` does not (an earlier push's).

    Files identical to the latest revision's are not re-sent (the commit still holds them); if none changed, no
    commit is made and the latest revision's info is returned. A Hub that cannot be reached or fails becomes
    `HubUnavailableError`, a refused token `HubAuthError`, any other refusal `PushError`.
    """
    api = HfApi(token=token)
    unchanged = "No commit was made, so the repo's revisions are unchanged."
    try:
        with hub_faults(
            f"create or open the Hub repo {repo_id!r}", endpoint=api.endpoint, afterwards=unchanged, writing=True
        ):
            api.create_repo(repo_id, private=private, exist_ok=True)
    except HfHubHTTPError as error:  # the Hub's refusals; hub_faults typed its faults and HF_HUB_OFFLINE
        raise PushError(
            f"Could not create or open the Hub repo {repo_id!r} at {api.endpoint}: {_reason(error)}. Check the "
            "repo id (namespace/name) and that your token may write to that namespace (pass token=..., set "
            "HF_TOKEN, or run `hf auth login`)."
        ) from error
    operations: list[CommitOperationAdd | CommitOperationDelete] = [
        CommitOperationAdd(path_in_repo=name, path_or_fileobj=str(path)) for name, path in files.items()
    ]
    if droppable := set(drop_others_of) - set(files):
        try:
            with hub_faults(
                f"list the files of {repo_id!r}", endpoint=api.endpoint, afterwards=unchanged, writing=True
            ):
                held = set(api.list_repo_files(repo_id))
        except HfHubHTTPError as error:
            raise PushError(f"Could not list the files of {repo_id!r}: {_reason(error)}. {unchanged}") from error
        operations += [CommitOperationDelete(path_in_repo=name) for name in sorted(droppable & held)]
    try:
        with hub_faults(f"upload the agent to {repo_id!r}", endpoint=api.endpoint, afterwards=unchanged, writing=True):
            return api.create_commit(repo_id, operations=operations, commit_message=message)
    except HfHubHTTPError as error:
        raise PushError(
            f"Uploading the agent to {repo_id!r} failed: {_reason(error)}. The commit was not created, so the "
            "repo's revisions are unchanged; push again (everything goes up in one commit)."
        ) from error


def check_push_access(repo_id: str, *, token: str | None = None) -> str:
    """Check that ``repo_id`` is valid, the Hub answers and the token may write; return the token's user name.

    One ``whoami`` request, made before the work a push needs (evaluation, recording), so that a wrong
    ``HF_ENDPOINT``, no network or a bad token is reported at once instead of after minutes of evaluation. Whether
    the token may write to that particular namespace only the commit itself can tell.

    Raises:
        ValueError: ``repo_id`` is not ``namespace/name`` by the Hub client's rule.
        HubUnavailableError: the Hub could not be reached, or failed to answer (5xx, 429).
        HubAuthError: there is no token, the Hub refused it, or it is read-only.
    """
    check_repo_id(repo_id)
    api = HfApi(token=token)
    with hub_faults(f"check the Hub token before pushing to {repo_id!r}", endpoint=api.endpoint, writing=True):
        user = api.whoami()
    access_token = user.get("auth", {}).get("accessToken", {})
    if access_token.get("role") == "read":
        name = access_token.get("displayName") or "the token"
        raise HubAuthError(
            f"Cannot push to {repo_id!r}: {name} of {user.get('name')} at {api.endpoint} is read-only. {TOKEN_FIX}."
        )
    return str(user.get("name"))


def _check_evaluation_env(config: dict[str, Any], env_id: str, repo_id: str) -> None:
    """Refuse results measured on an env that does not fit the model (another id than the training env's)."""
    if env_id == config.get("env_id"):
        return
    env = gym.make(env_id)
    try:
        check_env_spaces(env, config, f"the model pushed to {repo_id}")
    finally:
        env.close()


def _reason(error: HfHubHTTPError) -> str:
    response = error.response
    detail = getattr(error, "server_message", None) or response.reason_phrase
    return f"the Hub answered {response.status_code} ({detail})"
