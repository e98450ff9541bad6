"""Model cards: the README.md a Hub repo shows, and the project's own copies in ``model_cards/``.

The YAML header is built with huggingface_hub's ``ModelCardData`` and ``EvalResult``, so the Hub indexes it:
``library_name: mario-zoo``, tags (``reinforcement-learning``, ``deep-reinforcement-learning``, the env id,
``dqn``) and a ``model-index`` whose ``mean_reward`` is ``"mean +/- std"``, the form RL leaderboards parse. The body
shows how to load the agent, its hyperparameters and how it was evaluated.

Example:
    >>> from mario_zoo.hub.evaluation import EvaluationResult
    >>> result = EvaluationResult(env_id="CartPole-v1", env_kwargs={}, mean_reward=500.0, std_reward=0.0,
    ...                           n_eval_episodes=10, deterministic=True, episode_rewards=[500.0] * 10,
    ...                           episode_lengths=[500] * 10)
    >>> card = build_model_card("mario-zoo/dqn-CartPole-v1", {"hyperparameters": {"gamma": 0.99}}, result)
    >>> card.data.library_name, card.data.eval_results[0].metric_value
    ('mario-zoo', '500.00 +/- 0.00')
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from huggingface_hub import EvalResult, ModelCard, ModelCardData

from mario_zoo.atomic import write_text
from mario_zoo.hub.evaluation import EvaluationResult

LIBRARY_NAME = "mario-zoo"
_LIBRARY_URL = "https://huggingface.co/mario-zoo"
ALGORITHM = "DQN"
BASE_TAGS = ("reinforcement-learning", "deep-reinforcement-learning")

MODEL_CARDS_DIR = Path(__file__).resolve().parents[2] / "model_cards"
"""Where the project keeps the cards of its published agents: ``model_cards/`` at the root of a source checkout."""

_CARD_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]*$")


def build_model_card(repo_id: str, config: Mapping[str, Any], result: EvaluationResult) -> ModelCard:
    """The model card of an agent: Hub metadata plus a body with usage, hyperparameters and protocol.

    Args:
        repo_id: the Hub repo the card describes (``namespace/name``), used in the usage snippet.
        config: the checkpoint's ``config.json`` content; its ``hyperparameters`` mapping fills the table.
        result: the evaluation the card reports.
    """
    data = ModelCardData(
        library_name=LIBRARY_NAME,
        tags=[*BASE_TAGS, result.env_id, ALGORITHM.lower()],
        model_name=ALGORITHM,
        eval_results=[
            EvalResult(
                task_type="reinforcement-learning",
                task_name="reinforcement-learning",
                dataset_type=result.env_id,
                dataset_name=result.env_id,
                metric_type="mean_reward",
                metric_name="mean_reward",
                metric_value=result.mean_reward_text,
                verified=False,
            )
        ],
    )
    return ModelCard(f"---\n{data.to_yaml()}\n---\n\n{_body(repo_id, config, result)}")


def write_model_card(card: ModelCard, name: str, directory: str | os.PathLike[str] = MODEL_CARDS_DIR) -> Path:
    """Save ``card`` as ``<directory>/<name>.md`` (atomically) and return the path.

    ``name`` is a file stem such as ``dqn-CartPole-v1``: letters, digits, ``.``, ``_`` and ``-``.

    Example:
        >>> import tempfile
        >>> with tempfile.TemporaryDirectory() as folder:
        ...     write_model_card(ModelCard("---\\nlibrary_name: mario-zoo\\n---\\nHi"), "demo", folder).name
        'demo.md'
    """
    if not _CARD_NAME.match(name):
        raise ValueError(
            f"Model card name must be a file stem of letters, digits, '.', '_' or '-', got {name!r}; "
            "use e.g. 'dqn-MarioDQN-1-1-v0'."
        )
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    return write_text(directory / f"{name}.md", str(card))


def _body(repo_id: str, config: Mapping[str, Any], result: EvaluationResult) -> str:
    make_args = ", ".join([repr(result.env_id), *(f"{k}={v!r}" for k, v in sorted(result.env_kwargs.items()))])
    versions = ", ".join(f"{name} {version}" for name, version in sorted(result.package_versions.items()))
    return f"""# {ALGORITHM} agent playing {result.env_id}

A [mario-zoo]({_LIBRARY_URL}) {ALGORITHM} agent for `{result.env_id}`, scoring **{result.mean_reward_text}**
over {result.n_eval_episodes} evaluation episodes. The weights are a safetensors file and the configuration is
JSON: loading this repo never unpickles anything, so it cannot run code from the repo.

## Usage

```python
import gymnasium as gym
from mario_zoo.hub import load_from_hub  # importing mario_zoo also registers the MarioDQN-* env ids

model = load_from_hub("{repo_id}")  # pin revision="<commit sha>" to always get these exact weights
env = gym.make({make_args})
observation, info = env.reset(seed=0)
done = False
while not done:
    action, _ = model.predict(observation, deterministic=True)
    observation, reward, terminated, truncated, info = env.step(action)
    done = terminated or truncated
```

## Evaluation

| metric | value |
| --- | --- |
| mean reward | {result.mean_reward_text} |
| episodes | {result.n_eval_episodes} |
| mean episode length | {sum(result.episode_lengths) / len(result.episode_lengths):.1f} |

Protocol: {result.protocol} Evaluated on {result.date} with {versions}. Per-episode returns are in
`results.json`; `replay.mp4` shows one episode.

## Hyperparameters

{_table(config.get("hyperparameters", {}))}

## Files

| file | content |
| --- | --- |
| `model.safetensors` | network weights (safetensors) |
| `config.json` | algorithm, hyperparameters, network, spaces, env id and kwargs, format version |
| `results.json` | the evaluation above, per episode |
| `replay.mp4` | one evaluation episode |
"""


def _table(values: Mapping[str, Any]) -> str:
    """A two-column markdown table; values shown as Python literals, pipes escaped so cells stay cells."""
    rows = [f"| `{name}` | `{_cell(value)}` |" for name, value in sorted(values.items())]
    return "\n".join(["| hyperparameter | value |", "| --- | --- |", *rows])


def _cell(value: Any) -> str:
    return (value if isinstance(value, str) else repr(value)).replace("|", "\\|")
