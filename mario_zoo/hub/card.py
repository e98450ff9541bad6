"""Model cards: the README.md a Hub repo shows, and the project's own copies in ``model_cards/``.

The YAML header is built with huggingface_hub's ``ModelCardData`` and ``EvalResult``, so the Hub indexes it:
``library_name: mario-zoo``, the package's ``license``, tags (``reinforcement-learning``,
``deep-reinforcement-learning``, the env id, ``dqn``) and a ``model-index`` whose ``mean_reward`` is
``"mean +/- std"``, the form RL leaderboards parse. The body shows how to load the agent, how it was evaluated
(for Mario: the flag rate and how far the episodes got), its hyperparameters and the repo's files. It links only
files of the repo itself, so it reads the same on the Hub and in ``model_cards/``.

Example:
    >>> evaluation = Evaluation(env_id="CartPole-v1", env_kwargs={}, episode_rewards=[500.0] * 10,
    ...                         episode_lengths=[500] * 10)
    >>> card = build_model_card("mario-zoo/dqn-CartPole-v1", {"hyperparameters": {"gamma": 0.99}}, evaluation)
    >>> card.data.library_name, card.data.license, card.data.eval_results[0].metric_value
    ('mario-zoo', 'mit', '500.00 +/- 0.00')
    >>> "replay.mp4" in card.text
    False
"""

from __future__ import annotations

import os
import re
import shlex
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
from huggingface_hub import EvalResult, ModelCard, ModelCardData

from mario_zoo.atomic import write_text
from mario_zoo.results import Evaluation

LIBRARY_NAME = "mario-zoo"
_LIBRARY_URL = "https://huggingface.co/mario-zoo"
ALGORITHM = "DQN"
BASE_TAGS = ("reinforcement-learning", "deep-reinforcement-learning")

LICENSE = "mit"
"""The card's ``license``: the package's own (``pyproject.toml``), in the Hub's lowercase identifier."""

VIDEO_FILE = "replay.mp4"
"""The replay video's name in a Hub repo."""

_CARD_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]*$")


def build_model_card(
    repo_id: str,
    config: Mapping[str, Any],
    evaluation: Evaluation,
    *,
    video: bool = False,
    also: Sequence[Evaluation] = (),
    zoo_name: str | None = None,
    training: Sequence[str] = (),
) -> ModelCard:
    """The model card of an agent: Hub metadata plus a body with usage, evaluation, hyperparameters and files.

    Args:
        repo_id: the Hub repo the card describes (``namespace/name``), used in the usage snippet.
        config: the checkpoint's ``config.json`` content; its ``hyperparameters`` mapping fills the table.
        evaluation: the evaluation the card reports (:func:`mario_zoo.evaluation.evaluate`).
        video: whether the repo holds ``replay.mp4``; the card mentions it only then.
        also: evaluations under other protocols (Mario: the Nature protocol), reported beside ``evaluation``.
        zoo_name: the agent's name in the mario-zoo zoo, for an agent that ships with the package but is not (yet)
            on the Hub: the usage snippet loads it with ``mario_zoo.load_pretrained(zoo_name)``, not from the Hub.
        training: the commands that trained the agent (a run's ``run.json`` command), for the card's "Reproduce".
    """
    env_id = evaluation.env_id
    data = ModelCardData(
        library_name=LIBRARY_NAME,
        license=LICENSE,
        tags=[*BASE_TAGS, env_id, ALGORITHM.lower()],
        model_name=ALGORITHM,
        eval_results=[
            _eval_result(env_id, "mean_reward", "mean_reward", evaluation.mean_reward_text),
            *(
                _eval_result(env_id, "flag_rate", f"flag rate ({each.protocol} protocol)", round(each.flag_rate, 4))
                for each in (evaluation, *also)
                if each.flag_rate is not None
            ),
        ],
    )
    return ModelCard(
        f"---\n{data.to_yaml()}\n---\n\n{_body(repo_id, config, evaluation, video, also, zoo_name, training)}"
    )


def _eval_result(env_id: str, metric_type: str, metric_name: str, value: Any) -> EvalResult:
    """A ``model-index`` entry: one metric measured on ``env_id``, as RL leaderboards read it."""
    return EvalResult(
        task_type="reinforcement-learning",
        task_name="reinforcement-learning",
        dataset_type=env_id,
        dataset_name=env_id,
        metric_type=metric_type,
        metric_name=metric_name,
        metric_value=value,
        verified=False,
    )


def write_model_card(card: ModelCard, name: str, directory: str | os.PathLike[str]) -> Path:
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


def _body(
    repo_id: str,
    config: Mapping[str, Any],
    evaluation: Evaluation,
    video: bool,
    also: Sequence[Evaluation],
    zoo_name: str | None,
    training: Sequence[str],
) -> str:
    env_id = evaluation.env_id
    if zoo_name is None:
        loading = (
            "from mario_zoo.hub import load_from_hub  # importing mario_zoo also registers the MarioDQN-* env ids\n\n"
            f'model = load_from_hub("{repo_id}")  # pin revision="<commit sha>" to always get these exact weights'
        )
    else:
        loading = (
            "import mario_zoo  # also registers the MarioDQN-* env ids\n\n"
            f'model = mario_zoo.load_pretrained("{zoo_name}")  # ships with the package: loads offline, verified'
        )
    make_args = ", ".join([repr(env_id), *(f"{k}={v!r}" for k, v in sorted(evaluation.env_kwargs.items()))])
    versions = ", ".join(f"{name} {version}" for name, version in sorted(evaluation.package_versions.items()))
    return f"""# {ALGORITHM} agent playing {env_id}

A [mario-zoo]({_LIBRARY_URL}) {ALGORITHM} agent for `{env_id}`, scoring **{evaluation.mean_reward_text}**
over {evaluation.n_eval_episodes} evaluation episodes ({evaluation.protocol} protocol). The weights are a safetensors file and the configuration is
JSON: loading this repo never unpickles anything, so it cannot run code from the repo.

## Usage

```bash
pip install mario-zoo
```

```python
import gymnasium as gym
{loading}
env = gym.make({make_args})
observation, info = env.reset(seed=0)
done = False
while not done:
    action, _ = model.predict(observation, deterministic=True)
    observation, reward, terminated, truncated, info = env.step(action)
    done = terminated or truncated
```

## Evaluation

{protocols_table([evaluation, *also])}

{_protocol_lines([evaluation, *also])}
Evaluated on {evaluation.date}{f" with {versions}" if versions else ""}. Per-episode numbers are in `results.json` (other protocols under
`other_protocols`){f"; `{VIDEO_FILE}` shows one episode" if video else ""}.
{_progress(evaluation)}
## Reproduce

{reproduce_commands(zoo_name or f"hub:{repo_id}", [evaluation, *also], training)}

## Hyperparameters

{_table(config.get("hyperparameters", {}))}

## Files

| file | content |
| --- | --- |
| `model.safetensors` | network weights (safetensors) |
| `config.json` | algorithm, hyperparameters, network, spaces, env id and kwargs, format version |
| `results.json` | the evaluation above, per episode |
{f"| `{VIDEO_FILE}` | one evaluation episode |\n" if video else ""}"""


def reproduce_commands(agent: str, evaluations: Sequence[Evaluation], training: Sequence[str] = ()) -> str:
    """A bash block with the commands that repeat the card's evaluations of ``agent`` (an AGENT argument of
    ``mario-zoo evaluate``) and, when known, the ``training`` commands.

    Example:
        >>> nature = Evaluation(env_id="MarioDQN-v0", env_kwargs={}, episode_rewards=[1.0], episode_lengths=[9],
        ...                     protocol="nature", epsilon=0.05, seed=7)
        >>> print(reproduce_commands("hub:me/agent", [nature], ["mario-zoo train --preset mario-1-1 --seed 0"]))
        ```bash
        mario-zoo evaluate hub:me/agent --protocol nature --episodes 1 --seed 7
        mario-zoo train --preset mario-1-1 --seed 0    # how it was trained
        ```
    """
    lines = []
    for each in evaluations:
        command = ["mario-zoo", "evaluate", agent, "--protocol", each.protocol]
        if each.protocol == "noop-sweep":
            command += ["--noop-max", str(each.n_eval_episodes - 1)]
        else:
            command += ["--episodes", str(each.n_eval_episodes), "--seed", str(each.seed)]
            if each.protocol == "episodes" and each.epsilon is not None:
                command += ["--epsilon", f"{each.epsilon:g}"]
        lines.append(shlex.join(command))
    # A command may carry its own comment (publishing.run_training_command: a resume, a snapshot's step).
    lines += [command if "    # " in command else f"{command}    # how it was trained" for command in training]
    return "```bash\n" + "\n".join(lines) + "\n```"


def protocols_table(evaluations: Sequence[Evaluation]) -> str:
    """A markdown table with a row per evaluation: protocol, episodes, mean return, mean length and, for Mario,
    the flag rate with its 95% Wilson interval.

    Example:
        >>> sweep = Evaluation(env_id="MarioDQN-v0", env_kwargs={}, episode_rewards=[2490.0, 2510.0],
        ...                    episode_lengths=[380, 420], protocol="noop-sweep", x_pos=[3161, 1400],
        ...                    flags=[True, False], noops=[0, 1])
        >>> print(protocols_table([sweep]))
        | protocol | episodes | mean return | mean length | flag reached (95% Wilson interval) |
        | --- | --- | --- | --- | --- |
        | noop-sweep | 2 | 2500.00 +/- 10.00 | 400.0 | 1 of 2: 50% [9%, 91%] |
    """
    mario = any(each.flags is not None for each in evaluations)
    header = "| protocol | episodes | mean return | mean length |" + (
        " flag reached (95% Wilson interval) |" if mario else ""
    )
    rows = [header, "| --- | --- | --- | --- |" + (" --- |" if mario else "")]
    for each in evaluations:
        row = f"| {each.protocol} | {each.n_eval_episodes} | {each.mean_reward_text} | {each.mean_ep_length:.1f} |"
        if mario:
            if each.flags is not None and each.flag_interval is not None:
                low, high = each.flag_interval
                row += f" {each.flag_count} of {each.n_eval_episodes}: {each.flag_rate:.0%} [{low:.0%}, {high:.0%}] |"
            else:
                row += " - |"
        rows.append(row)
    return "\n".join(rows)


def _protocol_lines(evaluations: Sequence[Evaluation]) -> str:
    """One line per protocol saying how its episodes were played."""
    return "".join(f"- {each.description}\n" for each in evaluations)


def _progress(evaluation: Evaluation) -> str:
    """Mario's section: the flag rate and a histogram of how far the episodes got (empty for other envs)."""
    if evaluation.x_pos is None or evaluation.flags is None:
        return ""
    quartiles = np.percentile(evaluation.x_pos, [0, 25, 50, 75, 100])
    return f"""
## Progress through the level

The flag was reached in **{evaluation.flag_count} of {evaluation.n_eval_episodes} episodes \
({100 * evaluation.flag_rate:.0f}%)** of the {evaluation.protocol} protocol.
Furthest `x_pos` per episode: min {quartiles[0]:.0f}, quartiles {quartiles[1]:.0f} / {quartiles[2]:.0f} / \
{quartiles[3]:.0f}, max {quartiles[4]:.0f}, mean {evaluation.x_pos_mean:.1f}.

{x_pos_table(evaluation.x_pos, evaluation.flags)}
"""


def x_pos_table(x_pos: list[int], flags: list[bool], width: int = 500) -> str:
    """A markdown histogram of how far the episodes got, in ``width``-wide bins of furthest ``x_pos``.

    Example:
        >>> print(x_pos_table([120, 700, 3161], [False, False, True]))
        | furthest x_pos | episodes | reached the flag |
        | --- | --- | --- |
        | 0-499 | 1 | 0 |
        | 500-999 | 1 | 0 |
        | 1000-1499 | 0 | 0 |
        | 1500-1999 | 0 | 0 |
        | 2000-2499 | 0 | 0 |
        | 2500-2999 | 0 | 0 |
        | 3000-3499 | 1 | 1 |
    """
    bins = np.asarray(x_pos) // width
    reached = np.asarray(flags, dtype=bool)
    rows = ["| furthest x_pos | episodes | reached the flag |", "| --- | --- | --- |"]
    for index in range(int(bins.max()) + 1):
        in_bin = bins == index
        rows.append(
            f"| {index * width}-{(index + 1) * width - 1} | {int(in_bin.sum())} | {int((in_bin & reached).sum())} |"
        )
    return "\n".join(rows)


def _table(values: Mapping[str, Any]) -> str:
    """A two-column markdown table; values shown as Python literals, pipes escaped so cells stay cells."""
    rows = [f"| `{name}` | `{_cell(value)}` |" for name, value in sorted(values.items())]
    return "\n".join(["| hyperparameter | value |", "| --- | --- |", *rows])


def _cell(value: Any) -> str:
    return (value if isinstance(value, str) else repr(value)).replace("|", "\\|")
