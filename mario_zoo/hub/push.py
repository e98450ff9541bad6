"""Publish a trained agent to the Hugging Face Hub: evaluated, carded, and uploaded in one commit.

A published repo holds exactly what a user needs to trust and reuse the agent::

    model.safetensors   weights (no pickle)
    config.json         algorithm, hyperparameters, network, spaces, env id and kwargs, format version
    results.json        the evaluation the card reports, per episode, with the protocol and package versions
    replay.mp4          one evaluation episode (optional)
    README.md           the model card (see mario_zoo.hub.card)

All files go up in a single commit, so a revision never shows weights without their card and results, and a
failed push leaves the repo exactly as it was.

Example (needs a Hub account, so not run as a doctest; ``info.oid`` is the commit to pin when loading):
    >>> from mario_zoo.agents import DQN  # doctest: +SKIP
    >>> from mario_zoo.hub import load_from_hub, push_to_hub  # doctest: +SKIP
    >>> model = DQN("MlpPolicy", "CartPole-v1", seed=0).learn(50_000)  # doctest: +SKIP
    >>> info = push_to_hub(model, "your-name/dqn-CartPole-v1")  # doctest: +SKIP
    >>> same = load_from_hub("your-name/dqn-CartPole-v1", revision=info.oid)  # doctest: +SKIP
"""

from __future__ import annotations

import json
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING, Any

import gymnasium as gym
from huggingface_hub import CommitInfo, CommitOperationAdd, HfApi
from huggingface_hub.errors import HfHubHTTPError, OfflineModeIsEnabled

from mario_zoo.agents import checkpoint
from mario_zoo.atomic import write_text
from mario_zoo.hub._compat import check_env_spaces
from mario_zoo.hub.card import build_model_card
from mario_zoo.hub.errors import PushError
from mario_zoo.hub.evaluation import evaluate_agent, record_video

if TYPE_CHECKING:
    from mario_zoo.agents import DQN

RESULTS_FILE = "results.json"
VIDEO_FILE = "replay.mp4"
CARD_FILE = "README.md"


def push_to_hub(
    model: DQN,
    repo_id: str,
    *,
    env_id: str | None = None,
    n_eval_episodes: int = 10,
    deterministic: bool = True,
    video: bool = True,
    token: str | None = None,
    private: bool = False,
    commit_message: str | None = None,
) -> CommitInfo:
    """Evaluate ``model``, write its model card, and upload everything to ``repo_id`` in one commit.

    Args:
        model: the agent to publish.
        repo_id: ``namespace/name`` of the Hub repo; created if missing.
        env_id: env to evaluate and record on; defaults to the env the model was trained on (its checkpoint's
            ``env_id``, made with the same kwargs). Another id is made without kwargs and must have the
            model's spaces.
        n_eval_episodes: episodes the reported mean and std reward average over.
        deterministic: evaluate (and record) greedy actions rather than epsilon-greedy ones.
        video: record ``replay.mp4`` (one episode; needs the env's ``rgb_array`` rendering and imageio-ffmpeg).
        token: Hub token with write access; defaults to the logged-in one (``HF_TOKEN`` or ``hf auth login``).
        private: create the repo private (an existing repo keeps its visibility).
        commit_message: defaults to one naming the env and the measured reward.

    Returns:
        The commit's info; ``.oid`` is the sha to pin in ``load_from_hub(repo_id, revision=...)``. Files identical
        to the latest revision's are not re-sent (the commit still holds them); if none changed, no commit is
        made and the latest revision's info is returned.

    Raises:
        PushError: the Hub refused or failed to create the repo or the commit; no new revision exists.
        SpaceMismatchError: ``env_id`` names an env whose spaces differ from the model's.
    """
    with tempfile.TemporaryDirectory(prefix="mario-zoo-push-") as staging:
        folder = Path(staging) / "repo"
        model.save(folder, include_optimizer=False)
        config = checkpoint.read_config(folder).to_json()
        eval_env_id, env_kwargs = _evaluation_env(config, env_id, repo_id)

        result = evaluate_agent(
            model, eval_env_id, env_kwargs, n_eval_episodes=n_eval_episodes, deterministic=deterministic
        )
        write_text(folder / RESULTS_FILE, json.dumps(result.to_dict(), indent=2, sort_keys=True))
        write_text(folder / CARD_FILE, str(build_model_card(repo_id, config, result)))
        files = [checkpoint.CONFIG_FILE, checkpoint.MODEL_FILE, RESULTS_FILE, CARD_FILE]
        if video:
            record_video(model, eval_env_id, folder / VIDEO_FILE, env_kwargs, deterministic=deterministic)
            files.append(VIDEO_FILE)

        message = commit_message or (
            f"Upload DQN agent for {eval_env_id}: mean reward {result.mean_reward_text} "
            f"over {result.n_eval_episodes} episodes"
        )
        operations = [CommitOperationAdd(path_in_repo=name, path_or_fileobj=str(folder / name)) for name in files]
        return _upload(HfApi(token=token), repo_id, operations, message, private=private)


def _evaluation_env(config: dict[str, Any], env_id: str | None, repo_id: str) -> tuple[str, dict[str, Any]]:
    """The env id and kwargs to evaluate on: the training env unless the caller names another one."""
    trained_on = config.get("env_id")
    # render_mode is a viewing choice of the training run, not part of the env; evaluation and video pick their own.
    kwargs = {key: value for key, value in config.get("env_kwargs", {}).items() if key != "render_mode"}
    if env_id is None or env_id == trained_on:
        if trained_on is None:
            raise ValueError(
                f"Cannot evaluate the model for {repo_id}: it was never given an env with a registered id, so "
                "its checkpoint has no env_id. Pass env_id='...' (the Gymnasium id it plays)."
            )
        return trained_on, kwargs
    env = gym.make(env_id)
    try:
        check_env_spaces(env, config, f"the model pushed to {repo_id}")
    finally:
        env.close()
    return env_id, {}


def _upload(
    api: HfApi, repo_id: str, operations: list[CommitOperationAdd], message: str, *, private: bool
) -> CommitInfo:
    """Create the repo if needed, then commit every file at once; Hub failures become `PushError`."""
    try:
        api.create_repo(repo_id, private=private, exist_ok=True)
    except (HfHubHTTPError, OfflineModeIsEnabled) as error:
        raise PushError(
            f"Could not create or open the Hub repo {repo_id!r} at {api.endpoint}: {_reason(error)}. Check the "
            "repo id (namespace/name) and that your token may write to that namespace (pass token=..., set "
            "HF_TOKEN, or run `hf auth login`)."
        ) from error
    try:
        return api.create_commit(repo_id, operations=operations, commit_message=message)
    except (HfHubHTTPError, OfflineModeIsEnabled) as error:
        raise PushError(
            f"Uploading the agent to {repo_id!r} failed: {_reason(error)}. The commit was not created, so the "
            "repo's revisions are unchanged; run push_to_hub again (it re-uploads everything in one commit)."
        ) from error


def _reason(error: Exception) -> str:
    if isinstance(error, OfflineModeIsEnabled):
        return "HF_HUB_OFFLINE=1 is set; unset it to publish"
    response = error.response
    detail = getattr(error, "server_message", None) or response.reason_phrase
    return f"the Hub answered {response.status_code} ({detail})"
