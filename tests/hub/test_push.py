"""push_to_hub: one commit, clear failures that leave the repo untouched."""

from __future__ import annotations

import re

import gymnasium as gym
import pytest
from huggingface_hub import HfApi

from mario_zoo.agents import DQN
from mario_zoo.hub import PushError, SpaceMismatchError, push_to_hub


def test_a_second_push_adds_exactly_one_commit_without_video(hub, repo_id, published):
    retrained = DQN("MlpPolicy", "CartPole-v1", seed=1, buffer_size=1_000)
    info = push_to_hub(retrained, repo_id, n_eval_episodes=2, video=False, commit_message="Second push")

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


def test_private_push_creates_a_private_repo(hub, trained_model):
    push_to_hub(trained_model, "tester/secret-agent", n_eval_episodes=1, video=False, private=True)
    assert HfApi().model_info("tester/secret-agent").private is True


def test_a_failed_commit_raises_push_error_and_adds_no_revision(hub, trained_model, repo_id, published):
    before = hub.commits(repo_id)
    hub.fail_next("commit", status=500)
    with pytest.raises(PushError, match=r"failed: the Hub answered 500 .*revisions are unchanged"):
        push_to_hub(trained_model, repo_id, n_eval_episodes=1, video=False)

    assert hub.commits(repo_id) == before
    assert HfApi().model_info(repo_id).sha == published.oid


def test_a_token_without_write_access_raises_push_error(hub, trained_model):
    with pytest.raises(PushError, match=r"Could not create or open the Hub repo 'tester/x'.*answered 401"):
        push_to_hub(trained_model, "tester/x", n_eval_episodes=1, video=False, token="hf_not_the_right_one")


def test_evaluating_on_an_env_with_other_spaces_is_refused(hub, trained_model, repo_id):
    with pytest.raises(SpaceMismatchError, match=r"Discrete\(2\).*Discrete\(3\).*gym.make\('CartPole-v1'"):
        push_to_hub(trained_model, repo_id, env_id="Acrobot-v1", video=False)
    assert not HfApi().repo_exists(repo_id)


def test_a_model_trained_on_a_rendering_env_is_evaluated_and_recorded_with_its_own_render_mode(hub):
    model = DQN("MlpPolicy", gym.make("CartPole-v1", render_mode="rgb_array"), seed=0, buffer_size=1_000)
    info = push_to_hub(model, "tester/rendered", n_eval_episodes=1)

    (latest, _initial) = hub.commits("tester/rendered")
    assert latest.sha == info.oid
    assert latest.files["replay.mp4"].size > 1_000
