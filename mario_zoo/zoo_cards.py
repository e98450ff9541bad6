"""The zoo's model card of a published agent: the Hub's card (:func:`mario_zoo.hub.build_model_card`) followed by the
zoo's own sections: how to load it by name, its replay, where its episodes end, its time to clear, and how it was
trained, with the whole chain of warm starts back to a command from scratch. :mod:`mario_zoo.publishing` makes one
for every agent it publishes (:func:`warm_start_chain` has an example).
"""

from __future__ import annotations

import shlex
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from huggingface_hub import ModelCard

from mario_zoo.agents import DQN
from mario_zoo.envs.levels import has_warp_zone
from mario_zoo.evaluation import is_mario
from mario_zoo.hub import build_model_card, write_model_card
from mario_zoo.milestones import flag_curve, time_to_clear
from mario_zoo.plotting import save_learning_curve, save_x_pos_histogram
from mario_zoo.release import Card
from mario_zoo.results import Evaluation
from mario_zoo.runs import RunFolder
from mario_zoo.snapshots import evaluation_points, run_of_agent
from mario_zoo.video import record, record_sweep_replay
from mario_zoo.zoo.registry import Registry, Training, init_from_of

GIF_STRIDE = 2
"""Keep every other frame in replay GIFs: half the file, still real-time playback."""

GIF_MAX_FRAMES = 1_500
"""Cap on a replay GIF's frames (after the stride), so a long Mario episode stays a few megabytes."""

GIF_FILE = "replay.gif"
"""The GIF's name in the Hub repo, where the card's replay section links it."""

X_POS_FILE = "x_pos_histogram.png"
"""Mario: the histogram of where evaluation episodes ended, in the Hub repo."""

CURVE_FILE = "learning_curve.png"
"""The training run's learning curve (and its periodic evaluations), in the Hub repo."""


@dataclass(frozen=True)
class ZooCard:
    """Makes a zoo agent's card from its evaluations (:func:`mario_zoo.release.release`'s ``card``): records the
    GIF, draws the figures, writes ``<cards_dir>/<name>.md``; the GIF and figures go up with the card."""

    name: str
    repo_id: str
    model: DQN
    config: dict[str, Any]
    training: Training
    dtype: str
    bundle: bool
    push: bool
    replay: bool
    run: RunFolder | None
    init_from: str | None
    """The zoo agent or checkpoint the run was warm-started from, as the card names it (``None``: from scratch)."""
    zoo: Registry
    cards_dir: Path
    docs_dir: Path
    within_run: str = ""
    """Where in its run folder the published weights are, e.g. ``snapshots/step-000100000`` (empty: the run's own
    final or latest agent, or weights outside any run)."""

    @property
    def path(self) -> Path:
        """Where the card is written."""
        return self.cards_dir / f"{self.name}.md"

    def __call__(self, evaluation: Evaluation, also: tuple[Evaluation, ...]) -> Card:
        gif, gif_note = None, None
        if self.replay:
            gif = self.docs_dir / f"{self.name}.gif"
            gif_note = _record_gif(self.model, gif, evaluation)
        figures = _figures(self.name, self.run, evaluation, self.docs_dir)
        model_card = zoo_card(
            self.name,
            self.repo_id,
            self.config,
            evaluation,
            self.training,
            gif_note,
            self.dtype,
            self.bundle,
            video=self.push and self.replay,
            figures=figures,
            init_from=self.init_from,
            also=also,
            clearing=_time_to_clear_section(self.run, evaluation, self.init_from, self.training),
            push=self.push,
            zoo=self.zoo,
            within_run=self.within_run,
        )
        write_model_card(model_card, self.name, self.cards_dir)
        return Card(model_card, {**({GIF_FILE: gif} if gif is not None else {}), **figures})


def _record_gif(model: DQN, gif: Path, evaluation: Evaluation) -> str:
    """Record the card's replay GIF on the env ``evaluation`` played; returns what the card says about it."""
    if not is_mario(evaluation.env_id):
        record(model, evaluation.env_id, evaluation.env_kwargs, gif, stride=GIF_STRIDE, max_frames=GIF_MAX_FRAMES)
        return "One greedy episode, env seed 0."
    return record_sweep_replay(model, gif, evaluation, stride=GIF_STRIDE, max_frames=GIF_MAX_FRAMES)[1]


def _figures(name: str, run: RunFolder | None, evaluation: Evaluation, docs_dir: Path) -> dict[str, Path]:
    """The card's figures, written into ``docs_dir`` as ``<name>_<figure>.png``."""
    figures: dict[str, Path] = {}
    if run is not None and run.monitor.is_file():
        figures[CURVE_FILE] = save_learning_curve(
            run.episodes(),
            docs_dir / f"{name}_{CURVE_FILE}",
            title=f"{name}: training episodes",
            evaluations=evaluation_points(run),
        )
    if evaluation.flags is not None:
        figures[X_POS_FILE] = save_x_pos_histogram(
            evaluation,
            docs_dir / f"{name}_{X_POS_FILE}",
            title=f"{name}: {evaluation.n_eval_episodes} episodes, {evaluation.protocol} protocol",
        )
    return figures


def zoo_card(
    name: str,
    repo_id: str,
    config: dict[str, Any],
    evaluation: Evaluation,
    training: Training,
    gif_note: str | None,
    dtype: str,
    bundle: bool,
    *,
    video: bool,
    figures: dict[str, Path] | None = None,
    init_from: str | None = None,
    also: tuple[Evaluation, ...] = (),
    push: bool = False,
    zoo: Registry | None = None,
    clearing: str | None = None,
    within_run: str = "",
) -> ModelCard:
    """The Hub's card for the agent, followed by the zoo's sections: loading by name, replay, training."""
    # Not pushed: the repo does not exist on the Hub (yet), so the card loads the agent from the package.
    card = build_model_card(repo_id, config, evaluation, video=video, also=also, zoo_name=None if push else name)
    where = (
        f"ships inside the `mario-zoo` package ({dtype} weights, checked against their sha256 before every load), so "
        "it loads offline"
        if bundle
        else f"loads from `{repo_id}` at the commit the zoo pins, checked against the zoo's sha256 digests"
    )
    sections = [
        f"""## In the mario-zoo zoo

This agent {where}:

```python
import mario_zoo

model = mario_zoo.load_pretrained("{name}")
```

`mario-zoo zoo show {name}` prints its files, digests and pinned Hub revision; `mario-zoo evaluate zoo:{name}`
replays the evaluation."""
    ]
    figures = figures or {}
    if gif_note is not None:
        # The GIF goes into the Hub repo next to the card, so the link works on the Hub page.
        sections.append(f"## Replay\n\n![{name} playing {evaluation.env_id}]({GIF_FILE})\n\n{gif_note}")
    if X_POS_FILE in figures and evaluation.flags is not None:
        sections.append(_episode_ends(evaluation))
    if CURVE_FILE in figures:
        sections.append(
            f"## Learning curve\n\nTraining episodes (return, 100-episode mean) and the periodic greedy evaluations "
            f"of the run:\n\n![learning curve]({CURVE_FILE})"
        )
    sections += [clearing] if clearing else []
    chain = warm_start_chain(training.origin, zoo) if zoo is not None else []
    wall = "not recorded" if training.wall_time_seconds is None else f"{training.wall_time_seconds:,.0f} s"
    warm = (
        f", after a warm start from `{init_from}` (`--init-from`: its network weights; see its own training)"
        if init_from
        else ""
    )
    sections.append(
        f"""## Training

| | |
| --- | --- |
| preset | `{training.preset}` |
| seed | {training.seed} |
| env steps | {training.total_timesteps:,}{warm} |
| wall time | {wall} on {training.hardware} |{_through_runs(training)}

Reproduce{_chain_heading([*chain, *training.commands])}:

```bash
{"".join(f"{command}{chr(10)}" for command in [*chain, *training.commands[:-1]])}{training.command}
mario-zoo zoo publish runs/<the run folder>{f"/{within_run}" if within_run else ""} --name {name}
```"""
    )
    return ModelCard(str(card).rstrip("\n") + "\n\n" + "\n\n".join(sections) + "\n")


def _time_to_clear_section(
    run: RunFolder | None, evaluation: Evaluation, warm: str | None, training: Training | None = None
) -> str | None:
    """The card's time-to-clear curve: the run's periodic flag rates with their env steps and wall hours, and when
    it first reached 50% and 90% (``None`` for a run without Mario evaluations); ``warm``: what the run was
    warm-started from. Where ``training`` went through earlier runs that are still there, their evaluations up to
    the weights each next run started from come first, counted from the start of the chain."""
    if run is None or evaluation.flags is None:
        return None
    through = _earlier_runs(training)
    if through:
        assert training is not None  # for the type checker: _earlier_runs is empty without it
        warm = training.origin
    try:
        milestones = time_to_clear(run, through=through)
    except ValueError:  # no evaluations, or evaluations without flag rates
        return None
    since = f"since its warm start from `{warm}`" if warm else "from scratch"
    whose = (
        f"The periodic evaluations of the {len(through) + 1} runs of its chain, {since}, each earlier run's up to "
        "the weights the next one started from, its env steps and hours added before the next one's"
        if through
        else f"The run's periodic evaluations, {since}"
    )
    return "\n".join(
        [
            "## Time to clear",
            "",
            f"{whose} (wall hours on the machine the Training section names):",
            "",
            *flag_curve(run, through=through),
            "",
            *(f"- {milestone.describe()}" for milestone in milestones),
        ]
    )


def _earlier_runs(training: Training | None) -> list[tuple[RunFolder, int]]:
    """The run folders ``training`` went through (its warm starts), each with the step of the weights the next run
    started from; empty unless every one of them is still there with its evaluations."""
    stages = []
    for stage in training.warm_starts if training is not None else ():
        agent = Path(stage.agent)
        try:  # the weights: a whole run folder (its latest agent), or a checkpoint or snapshot inside one
            run = run_of_agent(agent)
            if run is None or not evaluation_points(run):
                return []
        except (OSError, ValueError):  # gone, or damaged since it was published
            return []
        stages.append((run, stage.total_timesteps))
    return stages


def _episode_ends(evaluation: Evaluation) -> str:
    """The card's section on where a Mario evaluation's episodes end: the flag count and rate, its interval, and
    the histogram."""
    low, high = evaluation.flag_interval or (0.0, 0.0)
    warps = ""
    # Counted, and news: some warped, or none did on a level that has a warp zone.
    if evaluation.warp_count is not None and (evaluation.warp_count or has_warp_zone(evaluation.env_id)):
        warps = (
            f" Mario left the level by a warp pipe in {evaluation.warp_count} of the {evaluation.n_eval_episodes} "
            "episodes (a warp ends an episode without the flag)."
        )
    return f"""## Where the episodes end

The flag in **{evaluation.flag_count} of {evaluation.n_eval_episodes}** episodes ({evaluation.flag_rate:.0%}; 95% Wilson interval
[{low:.0%}, {high:.0%}]) of the {evaluation.protocol} protocol: {_policy(evaluation)}, {evaluation.starts}.{warps} Furthest `x_pos`
of each episode:

![furthest x_pos per episode]({X_POS_FILE})"""


def _chain_heading(commands: list[str]) -> str:
    """What the Reproduce block holds: one command, the whole chain from scratch, or a chain whose first command
    starts from weights it does not say how to train."""
    if len(commands) == 1:
        return ""
    root = init_from_of(commands[0])
    if root is None:
        return " (the whole chain of warm starts, from scratch)"
    return f" (the chain of warm starts; its first command starts from `{root}`, whose training is not recorded here)"


def _through_runs(training: Training) -> str:
    """The Training table's row for the runs before the agent's own command (none: empty)."""
    if not training.warm_starts:
        return ""
    seconds = training.chain_seconds
    wall = "" if seconds is None else f", {seconds:,.0f} s"
    runs = len(training.warm_starts)
    return (
        f"\n| with the {runs} run{'s' if runs > 1 else ''} before it | {training.chain_timesteps:,} env steps{wall} "
        "(the first commands below) |"
    )


def warm_start_chain(init_from: str | None, zoo: Registry) -> list[str]:
    """The training commands of the zoo agents an agent was warm-started from, oldest first, each with a comment
    naming the agent it makes: ``init_from``'s own command, and so on back along each ``--init-from`` that names a
    zoo agent (:meth:`Registry.lineage <mario_zoo.zoo.registry.Registry.lineage>`).

    Example:
        >>> from mario_zoo.zoo.registry import read_registry
        >>> chain = warm_start_chain("dqn-MarioDQN-1-1-v0-finetune", read_registry())
        >>> [line.split("  # ", 1)[1].split(";")[0] for line in chain]
        ['makes dqn-MarioDQN-1-1-v0-base', 'makes dqn-MarioDQN-1-1-v0-finetune']
    """
    chain: list[str] = []
    for entry in zoo.lineage(init_from):
        command = entry.training.command
        comment = command.partition("#")[2].strip()
        words = shlex.join(shlex.split(command, comments=True))
        chain += entry.training.commands[:-1]
        chain.append(f"{words}  # makes {entry.name}" + (f"; {comment}" if comment else ""))
    return chain


def _policy(evaluation: Evaluation) -> str:
    return "greedy" if evaluation.epsilon is None else f"epsilon {evaluation.epsilon:g}"
