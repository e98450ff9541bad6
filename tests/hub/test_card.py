"""Model cards: Hub metadata the Hub can index, a body that tells users how to load and trust the agent."""

from __future__ import annotations

from pathlib import Path

import pytest
from huggingface_hub import ModelCard

from mario_zoo.hub import build_model_card, write_model_card
from mario_zoo.results import Evaluation

EVALUATION = Evaluation(
    env_id="MarioDQN-1-1-v0",
    env_kwargs={"actions": "right_only"},
    episode_rewards=[1134.5, 1334.5, 1234.5, 1234.5, 1234.5],  # mean 1234.5, std sqrt(4000) = 63.25
    episode_lengths=[400] * 5,
    date="2025-01-02T03:04:05+00:00",
    package_versions={"mario-zoo": "0.1.0", "torch": "2.5.0"},
)
CONFIG = {"hyperparameters": {"learning_rate": 1e-4, "train_freq": [4, "step"], "max_grad_norm": None}}


def test_metadata_carries_library_tags_and_model_index():
    card = build_model_card("mario-zoo/dqn-MarioDQN-1-1-v0", CONFIG, EVALUATION)
    metadata = card.data.to_dict()

    assert metadata["library_name"] == "mario-zoo"
    assert metadata["license"] == "mit"
    assert metadata["tags"] == ["reinforcement-learning", "deep-reinforcement-learning", "MarioDQN-1-1-v0", "dqn"]
    (entry,) = metadata["model-index"]
    (result,) = entry["results"]
    assert entry["name"] == "DQN"
    assert result["task"]["type"] == "reinforcement-learning"
    assert result["dataset"] == {"name": "MarioDQN-1-1-v0", "type": "MarioDQN-1-1-v0"}
    assert result["metrics"][0]["type"] == "mean_reward"
    assert result["metrics"][0]["value"] == "1234.50 +/- 63.25"


def test_body_has_usage_hyperparameters_and_protocol():
    text = build_model_card("mario-zoo/dqn-MarioDQN-1-1-v0", CONFIG, EVALUATION).text

    assert 'model = load_from_hub("mario-zoo/dqn-MarioDQN-1-1-v0")' in text
    assert "env = gym.make('MarioDQN-1-1-v0', actions='right_only')" in text
    assert "| `learning_rate` | `0.0001` |" in text
    assert "| `train_freq` | `[4, 'step']` |" in text
    assert "| protocol | episodes | mean return | mean length |" in text
    assert (
        "episodes protocol: 5 episodes of MarioDQN-1-1-v0 with kwargs {'actions': 'right_only'}, greedy actions" in text
    )
    assert "Evaluated on 2025-01-02T03:04:05+00:00 with mario-zoo 0.1.0, torch 2.5.0" in text


def test_the_usage_says_how_to_install_and_loads_from_the_hub():
    text = build_model_card("mario-zoo/dqn-MarioDQN-1-1-v0", CONFIG, EVALUATION).text
    assert "```bash\npip install mario-zoo\n```" in text
    assert 'load_from_hub("mario-zoo/dqn-MarioDQN-1-1-v0")' in text


def test_an_agent_not_on_the_hub_loads_from_the_package():
    text = build_model_card("mario-zoo/dqn-x", CONFIG, EVALUATION, zoo_name="dqn-x").text
    assert 'model = mario_zoo.load_pretrained("dqn-x")' in text and "pip install mario-zoo" in text
    assert "load_from_hub" not in text


def test_written_card_loads_back_unchanged(tmp_path):
    card = build_model_card("mario-zoo/dqn-MarioDQN-1-1-v0", CONFIG, EVALUATION)
    path = write_model_card(card, "dqn-MarioDQN-1-1-v0", tmp_path / "model_cards")

    assert path == tmp_path / "model_cards" / "dqn-MarioDQN-1-1-v0.md"
    loaded = ModelCard.load(path)
    assert str(loaded) == str(card)
    assert loaded.data.eval_results[0].metric_value == "1234.50 +/- 63.25"
    assert [p.name for p in path.parent.iterdir()] == [path.name], "no temporary file left behind"


@pytest.mark.parametrize("name", ["", "../escape", "a/b", ".hidden"])
def test_card_names_must_be_plain_file_stems(tmp_path, name):
    card = build_model_card("a/b", CONFIG, EVALUATION)
    with pytest.raises(ValueError, match="Model card name must be a file stem"):
        write_model_card(card, name, tmp_path)


def test_the_license_is_the_packages():
    import tomllib

    from mario_zoo.hub.card import LICENSE

    pyproject = tomllib.loads((Path(__file__).parents[2] / "pyproject.toml").read_text())
    assert pyproject["project"]["license"].lower() == LICENSE  # an SPDX expression (PEP 639)


def test_the_video_is_mentioned_only_when_the_repo_has_one():
    without = build_model_card("a/b", CONFIG, EVALUATION).text
    with_video = build_model_card("a/b", CONFIG, EVALUATION, video=True).text
    assert "replay.mp4" not in without
    assert "`replay.mp4` shows one episode" in with_video and "| `replay.mp4` | one evaluation episode |" in with_video


def test_a_mario_card_gives_both_protocols_with_their_intervals():
    sweep = Evaluation(
        env_id="MarioDQN-v0", env_kwargs={"noop_max": 2}, episode_rewards=[2990.0, 3000.0, 3010.0],
        episode_lengths=[380, 400, 420], protocol="noop-sweep", x_pos=[3161] * 3, flags=[True] * 3, noops=[0, 1, 2],
    )  # fmt: skip
    nature = Evaluation(
        env_id="MarioDQN-v0", env_kwargs={"noop_max": 30}, episode_rewards=[1500.0, 1500.0, 2500.0, 2500.0],
        episode_lengths=[100, 100, 400, 400], protocol="nature", epsilon=0.05, x_pos=[700, 700, 3161, 3161],
        flags=[False, False, True, True],
    )  # fmt: skip
    card = build_model_card("mario-zoo/mario", CONFIG, sweep, also=[nature])
    assert "| noop-sweep | 3 | 3000.00 +/- 8.16 | 400.0 | 3 of 3: 100% [44%, 100%] |" in card.text
    assert "| nature | 4 | 2000.00 +/- 500.00 | 250.0 | 2 of 4: 50% [15%, 85%] |" in card.text
    assert "greedy actions, one episode from each no-op count 0-2" in card.text
    assert "epsilon-greedy actions (epsilon 0.05), env seeded with 0, 0-30 random no-ops" in card.text
    (entry,) = card.data.to_dict()["model-index"]
    metrics = [metric for result in entry["results"] for metric in result["metrics"]]
    assert [(metric["type"], metric["value"]) for metric in metrics] == [
        ("mean_reward", "3000.00 +/- 8.16"),
        ("flag_rate", 1.0),
        ("flag_rate", 0.5),
    ]


def test_a_mario_card_reports_the_flag_rate_and_how_far_the_episodes_got():
    x_pos, flags = [434, 723, 1409, 3161], [False, False, False, True]
    evaluation = Evaluation(
        env_id="MarioDQN-v0", env_kwargs={"noop_max": 30}, episode_rewards=[0.5, 0.5, 1.5, 1.5],
        episode_lengths=[10, 20, 30, 40], x_pos=x_pos, flags=flags,
    )  # fmt: skip
    card = build_model_card("mario-zoo/mario", CONFIG, evaluation).text
    assert "The flag was reached in **1 of 4 episodes (25%)** of the episodes protocol." in card
    assert "min 434, quartiles 651 / 1066 / 1847, max 3161, mean 1431.8." in card
    assert "| 0-499 | 1 | 0 |\n| 500-999 | 1 | 0 |\n| 1000-1499 | 1 | 0 |" in card
    assert "| 3000-3499 | 1 | 1 |" in card
