"""push_to_hub: one commit of a model and the evaluation it is given, clear failures that leave the repo untouched."""

from __future__ import annotations

import dataclasses
import json
import re
from pathlib import Path

import gymnasium as gym
import pytest
from huggingface_hub import HfApi, ModelCard, hf_hub_download

from mario_zoo.agents import DQN
from mario_zoo.evaluation import evaluate
from mario_zoo.hub import HubAuthError, HubUnavailableError, SpaceMismatchError, push_to_hub
from mario_zoo.video import record


def test_a_second_push_adds_exactly_one_commit_without_video(hub, repo_id, published):
    retrained = DQN("MlpPolicy", "CartPole-v1", seed=1, buffer_size=1_000)
    results = evaluate(retrained, "CartPole-v1", n_episodes=2)
    info = push_to_hub(retrained, repo_id, results=results, commit_message="Second push")

    commits = hub.commits(repo_id)
    assert [commit.sha for commit in commits[:2]] == [info.oid, published.oid]
    assert commits[0].title == "Second push"
    assert "replay.mp4" not in commits[0].files
    assert "optimizer.safetensors" not in commits[0].files  # inference needs no optimizer state


def test_default_commit_message_names_env_and_reward(hub, published, repo_id):
    assert re.fullmatch(
        r"Upload DQN agent for CartPole-v1: mean reward \d+\.\d\d \+/- \d+\.\d\d over 2 episodes",
        hub.commits(repo_id)[0].title,
    )


def test_private_push_creates_a_private_repo(hub, trained_model, trained_results):
    push_to_hub(trained_model, "tester/secret-agent", results=trained_results, private=True)
    assert HfApi().model_info("tester/secret-agent").private is True


def test_a_failed_commit_raises_a_typed_error_and_adds_no_revision(
    hub, trained_model, trained_results, repo_id, published
):
    before = hub.commits(repo_id)
    hub.fail_next("commit", status=500)
    with pytest.raises(HubUnavailableError, match=r"failed to serve it \(500: .*revisions are unchanged"):
        push_to_hub(trained_model, repo_id, results=evaluate(trained_model, "CartPole-v1", n_episodes=1))

    assert hub.commits(repo_id) == before
    assert HfApi().model_info(repo_id).sha == published.oid


def test_a_token_without_write_access_raises_an_auth_error(hub, trained_model, trained_results):
    with pytest.raises(
        HubAuthError, match=r"Could not create or open the Hub repo 'tester/x'.*refused the token \(401"
    ):
        push_to_hub(trained_model, "tester/x", results=trained_results, token="hf_not_the_right_one")


def test_results_measured_on_an_env_with_other_spaces_are_refused(hub, trained_model, trained_results, repo_id):
    on_acrobot = dataclasses.replace(trained_results, env_id="Acrobot-v1")
    with pytest.raises(SpaceMismatchError, match=r"Discrete\(2\).*Discrete\(3\).*gym.make\('CartPole-v1'"):
        push_to_hub(trained_model, repo_id, results=on_acrobot)
    assert not HfApi().repo_exists(repo_id)


def test_a_model_trained_on_a_rendering_env_is_evaluated_and_recorded_with_its_own_render_mode(hub, tmp_path):
    model = DQN("MlpPolicy", gym.make("CartPole-v1", render_mode="rgb_array"), seed=0, buffer_size=1_000)
    video = tmp_path / "replay.mp4"
    record(model, "CartPole-v1", {}, video)
    info = push_to_hub(model, "tester/rendered", results=evaluate(model, "CartPole-v1", n_episodes=1), video=video)

    (latest, _initial) = hub.commits("tester/rendered")
    assert latest.sha == info.oid
    assert latest.files["replay.mp4"].size > 1_000


def test_results_json_is_the_evaluation_given_and_the_card_has_no_video_without_one(
    hub, repo_id, published, trained_results
):
    results = json.loads(Path(hf_hub_download(repo_id, "results.json", revision=published.oid)).read_text())
    assert results == json.loads(json.dumps(trained_results.to_dict()))
    card = ModelCard.load(hf_hub_download(repo_id, "README.md", revision=published.oid))
    assert "replay.mp4" not in card.text and "../" not in card.text
    assert card.data.license == "mit"


def test_a_video_that_is_not_an_mp4_file_is_refused_before_anything_is_sent(
    hub, trained_model, trained_results, tmp_path
):
    with pytest.raises(ValueError, match=r"video must be an existing \.mp4 file .*'replay\.gif'"):
        push_to_hub(trained_model, "tester/gif", results=trained_results, video="replay.gif")
    assert not HfApi().repo_exists("tester/gif")


def test_a_push_without_a_video_drops_the_previous_agents_replay(hub, tmp_path):
    first = DQN("MlpPolicy", "CartPole-v1", seed=0, buffer_size=1_000)
    video = tmp_path / "replay.mp4"
    record(first, "CartPole-v1", {}, video)
    push_to_hub(first, "tester/replaced", results=evaluate(first, "CartPole-v1", n_episodes=1), video=video)
    second = DQN("MlpPolicy", "CartPole-v1", seed=1, buffer_size=1_000)
    info = push_to_hub(second, "tester/replaced", results=evaluate(second, "CartPole-v1", n_episodes=1))

    latest, with_video = hub.commits("tester/replaced")[:2]
    assert latest.sha == info.oid and "replay.mp4" in with_video.files
    assert "replay.mp4" not in latest.files  # not the new agent's episode
    assert "replay.mp4" not in HfApi().list_repo_files("tester/replaced")


def test_a_folder_that_does_not_load_is_refused_before_anything_is_sent(hub, trained_model, trained_results, tmp_path):
    """push_to_hub copies a checkpoint folder byte for byte, so it first loads it as DQN.load would: weights
    swapped for another agent's, or a folder that is not a checkpoint, are a ValueError and no repo is made."""
    import shutil

    trained_model.save(tmp_path / "mixed", include_optimizer=False)
    DQN("MlpPolicy", "CartPole-v1", seed=5, device="cpu").save(tmp_path / "other", include_optimizer=False)
    shutil.copyfile(tmp_path / "other" / "model.safetensors", tmp_path / "mixed" / "model.safetensors")
    (tmp_path / "empty").mkdir()
    with pytest.raises(ValueError, match=r"is not a checkpoint that loads: .*does not match the sha256"):
        push_to_hub(tmp_path / "mixed", "tester/mixed", results=trained_results)
    with pytest.raises(ValueError, match=r"Push a DQN or a checkpoint folder .*a run's is RUN/model\), got"):
        push_to_hub(tmp_path / "empty", "tester/empty", results=trained_results)
    assert not HfApi().repo_exists("tester/mixed") and not HfApi().repo_exists("tester/empty")
