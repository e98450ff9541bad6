"""Train -> push_to_hub -> load_from_hub in a fresh process: the same agent comes back, described by its card."""

from __future__ import annotations

import json
from pathlib import Path

import gymnasium as gym
import imageio.v2 as imageio
import numpy as np
import torch
from huggingface_hub import ModelCard, hf_hub_download

from mario_zoo.evaluation import evaluate
from mario_zoo.hub import push_to_hub
from mario_zoo.video import record


def _observations(count: int) -> np.ndarray:
    """Real CartPole states (random play, restarting on episode end), not samples of its unbounded Box."""
    env = gym.make("CartPole-v1")
    observation, _ = env.reset(seed=123)
    rng = np.random.default_rng(123)
    observations = []
    while len(observations) < count:
        observations.append(observation)
        observation, _, terminated, truncated, _ = env.step(int(rng.integers(2)))
        if terminated or truncated:
            observation, _ = env.reset()
    return np.stack(observations)


def test_round_trip_through_the_hub_gives_the_same_actions_and_an_honest_card(
    hub, run_fresh, trained_model, repo_id, tmp_path
):
    record(trained_model, "CartPole-v1", {}, tmp_path / "replay.mp4")
    info = push_to_hub(
        trained_model,
        repo_id,
        results=evaluate(trained_model, "CartPole-v1", n_episodes=3),
        video=tmp_path / "replay.mp4",
    )

    # One commit on top of the repo's initial one, holding every file.
    latest, initial = hub.commits(repo_id)
    assert latest.sha == info.oid and latest.parent == initial.sha
    assert set(latest.files) == {
        ".gitattributes",
        "README.md",
        "config.json",
        "model.safetensors",
        "replay.mp4",
        "results.json",
    }
    assert [record.route for record in hub.requests].count("commit") == 1
    frames = imageio.mimread(hf_hub_download(repo_id, "replay.mp4", revision=info.oid), memtest=False)
    assert len(frames) > 5 and frames[0].shape == (400, 600, 3)  # a playable video of CartPole's frames

    # The card parses back and reports the reward the agent actually gets.
    card = ModelCard.load(hf_hub_download(repo_id, "README.md", revision=info.oid))
    results = json.loads(Path(hf_hub_download(repo_id, "results.json", revision=info.oid)).read_text())
    measured = evaluate(trained_model, "CartPole-v1", n_episodes=3)
    assert card.data.library_name == "mario-zoo"
    assert set(card.data.tags) == {"reinforcement-learning", "deep-reinforcement-learning", "CartPole-v1", "dqn"}
    assert card.data.eval_results[0].metric_type == "mean_reward"
    assert card.data.eval_results[0].metric_value == measured.mean_reward_text
    assert (results["mean_reward"], results["std_reward"]) == (measured.mean_reward, measured.std_reward)
    assert f'load_from_hub("{repo_id}")' in card.text

    # A new interpreter, configured only through the environment, loads the same agent.
    observations = _observations(100)
    np.save(tmp_path / "observations.npy", observations)
    requests_before = len(hub.requests)
    run_fresh(
        f"""
        import numpy as np
        import torch
        from mario_zoo.hub import load_from_hub

        model = load_from_hub({repo_id!r})
        observations = np.load({str(tmp_path / "observations.npy")!r})
        actions, _ = model.predict(observations, deterministic=True)
        np.save({str(tmp_path / "actions.npy")!r}, actions)
        with torch.no_grad():
            np.save({str(tmp_path / "q_values.npy")!r}, model.policy.q_net(torch.as_tensor(observations)).numpy())
        """
    )
    fetched = {r.path.rsplit("/", 1)[-1] for r in hub.requests[requests_before:] if r.route == "resolve"}
    assert fetched == {"config.json", "model.safetensors"}  # not the video, not the card
    expected, _ = trained_model.predict(observations, deterministic=True)
    np.testing.assert_array_equal(np.load(tmp_path / "actions.npy"), expected)
    # A barely trained agent may pick one action everywhere, so also compare what it computes: bit-identical Q-values.
    with torch.no_grad():
        q_values = trained_model.policy.q_net(torch.as_tensor(observations)).numpy()
    np.testing.assert_array_equal(np.load(tmp_path / "q_values.npy"), q_values)
