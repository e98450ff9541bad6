"""Where an agent comes from: a run folder, a checkpoint, or a Hub repo, named by one command-line argument.

=============================  ==================================================================================
argument                       agent
=============================  ==================================================================================
``runs/<name>``                the run's final ``model/``, or its latest ``checkpoint.zip`` while it still trains
``path/to/checkpoint``         a checkpoint directory (``config.json`` + ``model.safetensors``) or its ``.zip``;
                               ``x`` names ``x.zip`` when there is no ``x``, as in ``DQN.load``
``hub:owner/name[@revision]``  a Hub repo, through :func:`mario_zoo.hub.load_from_hub` (cached, offline when cached)
``zoo:NAME`` or ``NAME``       a zoo agent (``mario-zoo zoo list``), through :func:`mario_zoo.zoo.load_pretrained`
=============================  ==================================================================================

A Hub repo needs the ``hub:`` prefix: ``owner/name`` alone is read as a local path, so a mistyped run folder is
reported as missing instead of being looked up on the network. A bare zoo name is a zoo agent unless a run folder
or checkpoint of that name exists; ``zoo:`` removes the doubt.

Example:
    >>> parse_source("hub:mario-zoo/dqn-CartPole-v1@main")
    AgentSource(kind='hub', location='mario-zoo/dqn-CartPole-v1', revision='main')
    >>> parse_source("dqn-CartPole-v1")
    AgentSource(kind='zoo', location='dqn-CartPole-v1', revision=None)
    >>> parse_source("runs/typo")  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    ValueError: No run folder or checkpoint at 'runs/typo'. ... For a Hub repo write hub:runs/typo.
"""

from __future__ import annotations

import difflib
import re
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from mario_zoo.runs import describe_runs, open_run
from mario_zoo.zoo.registry import read_registry

if TYPE_CHECKING:
    from mario_zoo.agents import DQN

HUB_PREFIX = "hub:"
ZOO_PREFIX = "zoo:"
_REPO_ID = re.compile(r"^[A-Za-z0-9][\w.-]*/[\w.-]+$")


@dataclass(frozen=True)
class AgentSource:
    """A parsed agent argument."""

    kind: Literal["run", "checkpoint", "hub", "zoo"]
    """What the argument names."""
    location: str
    """The folder or file (run, checkpoint), the repo id (hub), or the zoo name (zoo)."""
    revision: str | None = None
    """Hub branch, tag or commit (``None``: ``main``)."""

    @property
    def name(self) -> str:
        """A short name for files and labels: the run folder's, checkpoint's or repo's last part."""
        if self.kind == "hub":
            return self.location.split("/")[-1]
        return self.location if self.kind == "zoo" else Path(self.location).stem

    def __str__(self) -> str:
        if self.kind == "zoo":
            return f"{ZOO_PREFIX}{self.location}"
        if self.kind == "hub":
            return f"{HUB_PREFIX}{self.location}" + (f"@{self.revision}" if self.revision else "")
        return self.location


@dataclass(frozen=True)
class LoadedAgent:
    """An agent ready to act, and the env it was trained on."""

    model: DQN
    """The agent."""
    env_id: str
    """Gymnasium ID of its training env."""
    env_kwargs: dict[str, Any]
    """``gym.make`` kwargs of its training env."""
    source: AgentSource
    """Where it came from."""
    path: Path | None
    """The checkpoint it was read from (``None`` for a Hub repo or a zoo agent)."""


def parse_source(text: str) -> AgentSource:
    """Parse an agent argument; a local one must exist. Raises a one-line ``ValueError`` otherwise."""
    if text.startswith(HUB_PREFIX):
        repo_id, _, revision = text[len(HUB_PREFIX) :].partition("@")
        if not _REPO_ID.match(repo_id):
            raise ValueError(f"{text!r} is not a Hub repo: write hub:owner/name or hub:owner/name@revision.")
        return AgentSource("hub", repo_id, revision or None)
    if text.startswith(ZOO_PREFIX):
        name = text[len(ZOO_PREFIX) :]
        read_registry().get(name)  # an unknown name lists the valid ones
        return AgentSource("zoo", name)
    path = Path(text)
    if (path / "run.json").is_file():
        return AgentSource("run", text)
    if (path / "config.json").is_file() or (path.is_file() and path.suffix == ".zip"):
        return AgentSource("checkpoint", text)
    if path.name and path.suffix.lower() != ".zip" and not path.exists():
        zipped = path.with_name(path.name + ".zip")
        if zipped.is_file():  # DQN.load finds "x.zip" for "x", as SB3's load does
            return AgentSource("checkpoint", str(zipped))
    if path.suffix.lower() == ".zip" and not path.exists() and (path.with_suffix("") / "config.json").is_file():
        return AgentSource("checkpoint", str(path.with_suffix("")))  # save("x") wrote a folder; DQN.load finds it
    names = read_registry().entries
    if text in names:
        return AgentSource("zoo", text)
    if path.is_dir():
        raise ValueError(f"{text} is neither a run folder (run.json) nor a checkpoint (config.json).")
    hint = f" For a Hub repo write hub:{text}." if _REPO_ID.match(text) else ""
    by_lower = {name.lower(): name for name in names}
    close = difflib.get_close_matches(text.lower(), list(by_lower), n=1, cutoff=0.8)
    if close:
        hint += f" Did you mean the zoo agent {by_lower[close[0]]!r}? (mario-zoo zoo list lists them)"
    raise ValueError(f"No run folder or checkpoint at {text!r}. {describe_runs(path.parent)}{hint}")


def load_agent(source: AgentSource, device: str = "auto") -> LoadedAgent:
    """Load the agent ``source`` names, with the env id and the kwargs of the env it plays (``model.env_kwargs``).

    Raises ``ValueError`` for a run without a checkpoint yet, and the Hub's errors
    (:class:`mario_zoo.hub.HubError`) for a Hub repo or zoo agent that cannot be loaded.
    """
    from mario_zoo.agents import DQN

    if source.kind == "zoo":
        from mario_zoo.zoo import load_pretrained

        model = load_pretrained(source.location, device=device)
        return LoadedAgent(
            model, model.env_id or read_registry().get(source.location).env_id, model.env_kwargs, source, None
        )
    if source.kind == "hub":
        from mario_zoo.hub import load_from_hub

        model = load_from_hub(source.location, revision=source.revision, device=device)
        path = None
    else:
        path = Path(source.location)
        if source.kind == "run":
            run = open_run(path)
            agent_path = run.latest_agent()
            if agent_path is None:
                raise ValueError(
                    f"Run {source.location} has no checkpoint yet: it saves one every "
                    f"{run.read_config().save_freq} steps; wait for it or resume the run."
                )
            path = agent_path
        model = DQN.load(path, device=device)
        # A run's checkpoint keeps the online weights beside their average (ema_decay): play what was judged.
        model.adopt_averaged_weights()
    if not model.env_id:
        raise ValueError(
            f"{source} was trained on an env without a registered Gymnasium ID, so it cannot be played here."
        )
    check_registered(model.env_id, str(source))
    return LoadedAgent(model, model.env_id, model.env_kwargs, source, path)


def check_registered(env_id: str, agent: str) -> None:
    """Raise a ``ValueError`` saying what to do if ``env_id`` (the env ``agent`` was trained on) is not a Gymnasium
    ID registered in this process.

    Example:
        >>> check_registered("CartPole-v1", "my agent")
        >>> check_registered("MyGame-v0", "my agent")  # doctest: +ELLIPSIS
        Traceback (most recent call last):
        ...
        ValueError: my agent was trained on 'MyGame-v0', which is not registered with Gymnasium here: ...
    """
    import gymnasium as gym

    if env_id not in gym.registry:
        raise ValueError(
            f"{agent} was trained on {env_id!r}, which is not registered with Gymnasium here: install and import "
            "the package that registers it, then play the agent from Python (mario_zoo.evaluation.evaluate(model, "
            "env_id)); the mario-zoo command plays Gymnasium's and mario_zoo's own envs."
        )
