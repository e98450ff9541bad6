"""Releasing an agent: evaluate it under the published protocols, card it, and upload it in one Hub commit.

The one flow behind ``mario-zoo push`` (any agent, to any repo, with the Hub's default card) and a maintainer's
``mario-zoo zoo publish`` (the shipped files, with the zoo's card, its GIF and figures; uploading only with
``--push``). They differ in options, not in steps:

1. :func:`mario_zoo.evaluation.published_evaluations`: Mario's exact no-op sweep and the Nature protocol, other
   envs' seeded greedy episodes;
2. the card: ``card(evaluation, also)`` when given (it may write files the card shows, e.g. a GIF), else the Hub's
   default (:func:`mario_zoo.hub.build_model_card`);
3. with an :class:`Upload`: ``replay.mp4`` recorded at the game's speed (:func:`mario_zoo.video.record`), then
   :func:`mario_zoo.hub.push_to_hub`: weights, ``results.json``, card, replay and the card's files in one commit
   (with ``Upload(out=...)``, :func:`mario_zoo.hub.save_repo` writes the same files into a local folder instead).

Example (needs a Hub account, so not run as a doctest):
    >>> from mario_zoo import load_pretrained  # doctest: +SKIP
    >>> model = load_pretrained("dqn-CartPole-v1")  # doctest: +SKIP
    >>> released = release(model, model.env_id, model.env_kwargs, episodes=10,
    ...                    upload=Upload("your-name/dqn-CartPole-v1"), say=print)  # doctest: +SKIP
    >>> released.commit.oid  # the commit to pin  # doctest: +SKIP
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from mario_zoo.evaluation import EVAL_SEED, published_evaluations
from mario_zoo.hub import push_to_hub, save_repo
from mario_zoo.hub.card import VIDEO_FILE
from mario_zoo.results import Evaluation
from mario_zoo.video import Replay, record

if TYPE_CHECKING:
    from huggingface_hub import CommitInfo, ModelCard


@dataclass(frozen=True)
class Card:
    """A release's model card, and the files it shows (path in the Hub repo -> local file)."""

    card: ModelCard
    """The card (the repo's ``README.md``)."""
    files: dict[str, Path] = field(default_factory=dict)
    """Files the card links, uploaded beside it (a GIF, figures)."""


@dataclass(frozen=True)
class Upload:
    """Where and how a release goes up to the Hub."""

    repo_id: str
    """``namespace/name`` of the Hub repo (created if missing)."""
    video: bool = True
    """Record ``replay.mp4`` and upload it."""
    private: bool = False
    """Create the repo private (an existing repo keeps its visibility)."""
    message: str | None = None
    """The commit message (default: :func:`~mario_zoo.hub.push_to_hub`'s, naming the env and the mean return)."""
    files: str | os.PathLike[str] | None = None
    """A checkpoint folder to upload byte for byte (the zoo's shipped files); default: the model, saved."""
    out: str | os.PathLike[str] | None = None
    """Write the repo's files into this new folder instead of committing them (no network, no token;
    :func:`~mario_zoo.hub.save_repo`)."""
    training: tuple[str, ...] = ()
    """The commands that trained the agent, for the card's "Reproduce" section (default card only)."""


@dataclass(frozen=True)
class Release:
    """What :func:`release` did."""

    evaluation: Evaluation
    """The headline evaluation (Mario: the exact no-op sweep)."""
    also: tuple[Evaluation, ...]
    """The evaluations under other protocols (Mario: the Nature protocol)."""
    card: Card | None
    """The card made by ``card`` (``None``: the Hub's default, made while uploading)."""
    replay: Replay | None = None
    """The uploaded ``replay.mp4``'s summary (``None``: none recorded)."""
    commit: CommitInfo | None = None
    """The Hub commit (``None``: not uploaded)."""
    files: dict[str, Path] | None = None
    """The repo's files written by :attr:`Upload.out` (path in repo -> file); ``None``: not written locally."""


def release(
    model: Any,
    env_id: str,
    env_kwargs: dict[str, Any],
    *,
    episodes: int,
    seed: int = EVAL_SEED,
    progress: bool = False,
    card: Callable[[Evaluation, tuple[Evaluation, ...]], Card] | None = None,
    upload: Upload | None = None,
    say: Callable[[str], None] = lambda line: None,
) -> Release:
    """Evaluate ``model`` on ``gym.make(env_id, **env_kwargs)`` as published agents are, card it and, with
    ``upload``, push it with a replay in one commit.

    Args:
        model: the agent (a DQN).
        env_id, env_kwargs: the env it plays (its own, or another with the same spaces).
        episodes: episodes of the protocol that counts them (Mario's Nature protocol; other envs' episodes).
        seed: seed of the evaluation env's first reset, and of the replay's.
        progress: show the evaluations' progress bars on stderr.
        card: makes the card from the evaluations (default: :func:`~mario_zoo.hub.build_model_card`'s, made by
            :func:`~mario_zoo.hub.push_to_hub`).
        upload: where to push (``None``: evaluate and card only).
        say: called with each line worth showing as the release goes: the evaluations' summaries, the replay's.

    Raises:
        ValueError: a bad protocol number or env; :class:`~mario_zoo.hub.HubError` for the Hub's refusals and
            faults (nothing was committed).
    """
    evaluation, also = published_evaluations(model, env_id, env_kwargs, episodes, seed=seed, progress=progress)
    for each in (evaluation, *also):
        say(each.summary())
    carded = card(evaluation, also) if card is not None else None
    if upload is None:
        return Release(evaluation, also, carded)
    with tempfile.TemporaryDirectory(prefix="mario-zoo-release-") as folder:
        video, replay = None, None
        if upload.video:
            video = Path(folder) / VIDEO_FILE
            replay = record(model, env_id, env_kwargs, video, seed=seed)
            say(f"Recorded {VIDEO_FILE}: {replay.summary()}")
        repo = {
            "model": model if upload.files is None else upload.files,
            "repo_id": upload.repo_id,
            "results": evaluation,
            "also": also,
            "video": video,
            "card": None if carded is None else carded.card,
            "extra_files": None if carded is None else carded.files or None,
            "training": upload.training,
        }
        if upload.out is not None:
            return Release(evaluation, also, carded, replay, files=save_repo(out=upload.out, **repo))
        commit = push_to_hub(**repo, private=upload.private, commit_message=upload.message)
    return Release(evaluation, also, carded, replay, commit)
