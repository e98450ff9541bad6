"""What the ``mario-zoo`` verbs share: the two errors and their exit codes, the parser class, argument types,
``KEY=VALUE`` options, the AGENT argument (parsing, loading, options) and torch thread setup.

torch and huggingface_hub are imported inside the helpers that need them, so building the parser stays fast.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from typing import TYPE_CHECKING, Any

import yaml

if TYPE_CHECKING:
    from mario_zoo.sources import AgentSource, LoadedAgent


class UsageError(Exception):
    """Bad input: reported in one line, exit code 2, nothing written."""


class CommandError(Exception):
    """The work could not be done: reported in one line, exit code 1."""


class Parser(argparse.ArgumentParser):
    """argparse with one-line errors, raw-text epilogs, and epilogs computed only when help is shown."""

    def __init__(self, *args: Any, lazy_epilog: Callable[[], str] | None = None, **kwargs: Any):
        kwargs.setdefault("formatter_class", argparse.RawDescriptionHelpFormatter)
        super().__init__(*args, **kwargs)
        self._lazy_epilog = lazy_epilog

    def format_help(self) -> str:
        if self._lazy_epilog is not None:
            self.epilog = self._lazy_epilog()
        return super().format_help()

    def error(self, message: str) -> None:  # type: ignore[override]
        self.exit(2, f"{self.prog}: error: {message} (see {self.prog} --help)\n")


def parse_assignments(items: list[str], option: str) -> dict[str, Any]:
    """``KEY=VALUE`` strings to a dict; values are YAML (numbers, ``true``, ``null``, ``[64, 64]``, ``{a: 1}``).

    Example:
        >>> parse_assignments(["learning_rate=1e-3", "double_q=true", "policy_kwargs={net_arch: [32, 32]}"], "--hp")
        {'learning_rate': 0.001, 'double_q': True, 'policy_kwargs': {'net_arch': [32, 32]}}
    """
    parsed = {}
    for item in items:
        key, separator, text = item.partition("=")
        if not separator or not key.strip():
            raise ValueError(f"{option} expects KEY=VALUE, got {item!r}.")
        try:
            value = yaml.safe_load(text)
        except yaml.YAMLError as error:
            reason = str(error).splitlines()[0]
            raise ValueError(f"Malformed value in {option} {item!r}: {reason}.") from None
        if isinstance(value, str):
            # YAML 1.1 reads "1e-3" (no dot) as a string; a number is what anyone typing it means.
            with suppress(ValueError):
                value = float(value)
        parsed[key.strip()] = value
    return parsed


# -- argument types ------------------------------------------------------------------------------------------


def count(text: str) -> int:
    """An argparse type for step counts: ``50000``, ``50_000`` or ``5e4``."""
    return _whole_number(text, minimum=0)


def positive(text: str) -> int:
    """An argparse type for counts of at least one."""
    return _whole_number(text, minimum=1)


def _whole_number(text: str, minimum: int) -> int:
    try:
        value = float(text.replace("_", ""))
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number such as 50000 or 5e4, got {text!r}") from None
    if not value.is_integer() or value < minimum:
        raise argparse.ArgumentTypeError(f"expected a whole number >= {minimum}, got {text!r}")
    return int(value)


def seed(text: str) -> int:
    """An argparse type for seeds: a whole number in numpy's range, 0 to 2**32 - 1."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number from 0 to {2**32 - 1}, got {text!r}") from None
    if not 0 <= value < 2**32:
        raise argparse.ArgumentTypeError(f"expected a whole number from 0 to {2**32 - 1}, got {text!r}")
    return value


def _number_in(text: str, inside: Callable[[float], bool], expected: str) -> float:
    """``text`` as a float for which ``inside`` holds, else an ``ArgumentTypeError`` saying what was ``expected``."""
    try:
        value = float(text)
    except ValueError:
        value = float("nan")
    if not inside(value):
        raise argparse.ArgumentTypeError(f"expected {expected}, got {text!r}")
    return value


def probability(text: str) -> float:
    """An argparse type for ``--epsilon``: a number in [0, 1]."""
    return _number_in(text, lambda value: 0.0 <= value <= 1.0, "a probability in [0, 1]")


def frame_rate(text: str) -> float:
    """An argparse type for frame rates: a finite number > 0."""
    return _number_in(text, lambda value: 0.0 < value < float("inf"), "frames per second > 0, such as 30 or 12.5")


def torch_device(text: str) -> str:
    """An argparse type for torch devices, checked against this machine (``auto``, ``cpu``, ``cuda:1``...)."""
    from mario_zoo.agents.device import check_device

    try:
        check_device(text)
    except ValueError as error:
        raise argparse.ArgumentTypeError(str(error).rstrip(".")) from None
    return text


# -- errors --------------------------------------------------------------------------------------------------


@contextmanager
def bad_input() -> Iterator[None]:
    """Turn the library's validation errors into a `UsageError` (exit code 2)."""
    try:
        yield
    except (ValueError, TypeError, FileNotFoundError) as error:
        raise UsageError(" ".join(str(error).split())) from error


@contextmanager
def hub_errors() -> Iterator[None]:
    """``push``/``pull``: a fault of the network, the Hub or the token exits 2 (fix it, run again: nothing was
    half-written); any other refusal of the Hub exits 1."""
    from mario_zoo.hub import ChecksumMismatchError, HubAuthError, HubError, HubUnavailableError

    try:
        yield
    except (HubUnavailableError, HubAuthError, ChecksumMismatchError) as error:
        raise UsageError(" ".join(str(error).split())) from error
    except HubError as error:
        raise CommandError(" ".join(str(error).split())) from error


# -- the AGENT argument --------------------------------------------------------------------------------------


def add_agent_options(parser: argparse.ArgumentParser, *, episodes: int | None, several: bool = False) -> None:
    """AGENT (with ``several``, one or more into ``agents``) and the options of every verb that plays one:
    --episodes, --epsilon, --seed, --device, --threads."""
    where = "run folder, checkpoint (dir or .zip), hub:owner/name[@rev], or zoo:NAME"
    if several:
        parser.add_argument("agents", metavar="AGENT", nargs="+", help=f"{where}; several are ranked in a table")
    else:
        parser.add_argument("agent", metavar="AGENT", help=where)
    default = "the protocol's: nature 30, episodes 10" if episodes is None else episodes
    parser.add_argument("--episodes", type=positive, default=episodes, help=f"episodes to play (default {default})")
    parser.add_argument("--epsilon", type=probability, help="act randomly with this probability (default: greedy)")
    parser.add_argument("--seed", type=seed, default=0, help="seed of the env's first reset (default 0)")
    parser.add_argument("--device", type=torch_device, default="auto", help="torch device for the agent (default auto)")
    parser.add_argument("--threads", type=positive, help="torch CPU threads (default 1: fastest for one observation)")


def replay_options(args: argparse.Namespace) -> dict[str, Any]:
    """The keyword arguments ``enjoy`` and ``record`` pass alike to :mod:`mario_zoo.video`."""
    return {"episodes": args.episodes, "seed": args.seed, "epsilon": args.epsilon, "fps": args.fps}


def parse_source(text: str) -> AgentSource:
    """The AGENT argument, or a `UsageError` naming what it can be."""
    from mario_zoo import sources

    with bad_input():
        return sources.parse_source(text)


def load_agent(source: AgentSource, device: str) -> LoadedAgent:
    """Load the agent, or a `CommandError` naming it and why it could not be loaded."""
    from mario_zoo import sources
    from mario_zoo.evaluation import check_agent_fits
    from mario_zoo.hub import ChecksumMismatchError, HubAuthError, HubError, HubUnavailableError

    try:
        agent = sources.load_agent(source, device=device)
        check_agent_fits(agent.model, agent.env_id, agent.env_kwargs)
    except (HubUnavailableError, HubAuthError, ChecksumMismatchError) as error:
        # A fault of the network, the Hub or the token, as `pull` reports it: exit 2, run the command again.
        raise UsageError(f"cannot load {source}: {' '.join(str(error).split())}") from error
    except (HubError, ValueError, OSError) as error:
        raise CommandError(f"cannot load {source}: {' '.join(str(error).split())}") from error
    return agent


def init_weights(text: str | None) -> dict[str, Any] | None:
    """``--init-from AGENT``: the network weights of that agent (any AGENT argument), or ``None``."""
    if text is None:
        return None
    return load_agent(parse_source(text), "cpu").model.policy.state_dict()


def viewing_kwargs(agent: LoadedAgent) -> dict[str, Any]:
    """The env an agent is watched or recorded on: the env it plays (``model.env_kwargs``, without the training-only
    options); render_mode is the viewer's."""
    return dict(agent.env_kwargs)


def use_threads(threads: int | None) -> None:
    """Torch CPU threads for playing an agent: one by default, since a batch of one observation gains nothing
    from more threads, and extra threads spin against the env and other processes for the same cores."""
    import torch

    torch.set_num_threads(threads or 1)
