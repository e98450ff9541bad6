"""Model cards: Hub metadata the Hub can index, a body that tells users how to load and trust the agent."""

from __future__ import annotations

import pytest
from huggingface_hub import ModelCard

from mario_zoo.hub import build_model_card, write_model_card
from mario_zoo.hub.evaluation import EvaluationResult

RESULT = EvaluationResult(
    env_id="MarioDQN-1-1-v0",
    env_kwargs={"actions": "right_only"},
    mean_reward=1234.5,
    std_reward=67.891,
    n_eval_episodes=5,
    deterministic=True,
    episode_rewards=[1234.5] * 5,
    episode_lengths=[400] * 5,
    date="2025-01-02T03:04:05+00:00",
    package_versions={"mario-zoo": "0.1.0", "torch": "2.5.0"},
)
CONFIG = {"hyperparameters": {"learning_rate": 1e-4, "train_freq": [4, "step"], "max_grad_norm": None}}


def test_metadata_carries_library_tags_and_model_index():
    card = build_model_card("mario-zoo/dqn-MarioDQN-1-1-v0", CONFIG, RESULT)
    metadata = card.data.to_dict()

    assert metadata["library_name"] == "mario-zoo"
    assert metadata["tags"] == ["reinforcement-learning", "deep-reinforcement-learning", "MarioDQN-1-1-v0", "dqn"]
    (entry,) = metadata["model-index"]
    (result,) = entry["results"]
    assert entry["name"] == "DQN"
    assert result["task"]["type"] == "reinforcement-learning"
    assert result["dataset"] == {"name": "MarioDQN-1-1-v0", "type": "MarioDQN-1-1-v0"}
    assert result["metrics"][0]["type"] == "mean_reward"
    assert result["metrics"][0]["value"] == "1234.50 +/- 67.89"


def test_body_has_usage_hyperparameters_and_protocol():
    text = build_model_card("mario-zoo/dqn-MarioDQN-1-1-v0", CONFIG, RESULT).text

    assert 'model = load_from_hub("mario-zoo/dqn-MarioDQN-1-1-v0")' in text
    assert "env = gym.make('MarioDQN-1-1-v0', actions='right_only')" in text
    assert "| `learning_rate` | `0.0001` |" in text
    assert "| `train_freq` | `[4, 'step']` |" in text
    assert "5 episodes of MarioDQN-1-1-v0 with kwargs {'actions': 'right_only'}, deterministic (greedy)" in text
    assert "Evaluated on 2025-01-02T03:04:05+00:00 with mario-zoo 0.1.0, torch 2.5.0" in text


def test_written_card_loads_back_unchanged(tmp_path):
    card = build_model_card("mario-zoo/dqn-MarioDQN-1-1-v0", CONFIG, RESULT)
    path = write_model_card(card, "dqn-MarioDQN-1-1-v0", tmp_path / "model_cards")

    assert path == tmp_path / "model_cards" / "dqn-MarioDQN-1-1-v0.md"
    loaded = ModelCard.load(path)
    assert str(loaded) == str(card)
    assert loaded.data.eval_results[0].metric_value == "1234.50 +/- 67.89"
    assert [p.name for p in path.parent.iterdir()] == [path.name], "no temporary file left behind"


@pytest.mark.parametrize("name", ["", "../escape", "a/b", ".hidden"])
def test_card_names_must_be_plain_file_stems(tmp_path, name):
    card = build_model_card("a/b", CONFIG, RESULT)
    with pytest.raises(ValueError, match="Model card name must be a file stem"):
        write_model_card(card, name, tmp_path)
