"""The ``mario-zoo`` command line: train, evaluate, watch, record, plot and share DQN agents.

Each verb is a module here (``train``, ``evaluate``, ...) with its parser setup, ``add_parser(verbs)``, and its
``run(args)`` over the library (:mod:`mario_zoo.training`, :mod:`mario_zoo.evaluation`, :mod:`mario_zoo.video`,
:mod:`mario_zoo.plotting`, :mod:`mario_zoo.hub`); what they share is in :mod:`mario_zoo.cli.common`. torch, SB3
and huggingface_hub are imported inside the verbs that need them, so ``--help`` and ``envs`` answer at once.

Exit codes: 0 done; 1 the work could not be done (the Hub refused, a checkpoint is unreadable, ``enjoy`` found
no display); 2 bad input (unknown verb, preset, env ID or ``--hp`` key, malformed value, missing run folder),
reported in one line that names the valid choices, before anything is written, and, for ``push``, ``pull`` and any
``hub:`` AGENT argument, a fault of the network, the Hub or the token (unreachable, 5xx, 429, a download cut short or damaged, a refused
token), after which nothing is half-written and the same command can simply be run again; 130 interrupted with
Ctrl-C, 143 stopped with SIGTERM (``train`` saves a checkpoint first in both cases).

Example:
    >>> main(["envs"])  # doctest: +ELLIPSIS
    MarioDQN-v0        World 1-1
    MarioDQN-1-1-v0    World 1-1
    ...
    MarioDQN-8-4-v0    World 8-4
    <BLANKLINE>
    Options (gym.make kwargs, defaults): actions='simple', frame_skip=4, size=84, stack=4, noop_max=0, repeat_action_probability=0.0, random_action_probability=0.0, stall_steps=None, stall_penalty=None, reward_clip=None, reward_scale=1.0, frontier_fraction=0.0, frontier_bucket=64, frontier_back=128, frontier_mode='furthest', frontier_follow=0, frontier_successes=5
    0
"""

from __future__ import annotations

import argparse
import os
import sys

from mario_zoo import __version__
from mario_zoo.cli import compare, enjoy, envs, evaluate, plot, pull, push, record, sweep, train, zoo
from mario_zoo.cli.common import CommandError, Parser, UsageError, parse_assignments
from mario_zoo.extras import MissingExtraError

__all__ = ["CommandError", "UsageError", "build_parser", "main", "parse_assignments"]

# In the order `mario-zoo --help` lists them.
VERBS = (envs, train, evaluate, enjoy, record, plot, push, pull, compare, sweep, zoo)

EPILOG = """examples:
  mario-zoo train                                    CartPole-v1 with the cartpole-fast preset (~30 s on a CPU)
  mario-zoo train --preset mario --steps 2e6         Super Mario Bros World 1-1
  mario-zoo evaluate runs/CartPole-v1_dqn_s0_20250101-120000 --episodes 20
  mario-zoo record runs/CartPole-v1_dqn_s0_20250101-120000 --out replay.gif
  mario-zoo plot runs/ --out curves.png              every run in runs/, seeds averaged
  mario-zoo push runs/CartPole-v1_dqn_s0_20250101-120000 your-name/dqn-CartPole-v1
  mario-zoo pull your-name/dqn-CartPole-v1
  mario-zoo compare --env CartPole-v1 --seeds 0-9 --workers 2   ours vs SB3's DQN, matched settings
  mario-zoo sweep --preset cartpole-fast --trials 30 --steps 2e4 --workers 2    tune with Optuna -> best.yml
  mario-zoo zoo list                                 the pretrained agents that ship with mario-zoo
  mario-zoo evaluate zoo:dqn-CartPole-v1             any verb that takes an agent takes a zoo name

Run `mario-zoo VERB --help` for a verb's options. Exit codes: 0 done, 1 failed, 2 bad input (push/pull: also a
network, Hub or token fault; nothing half-written, run again), 130 interrupted (Ctrl-C), 143 stopped (SIGTERM).
"""


def build_parser() -> argparse.ArgumentParser:
    """The ``mario-zoo`` argument parser (a sub-parser per verb)."""
    parser = Parser(
        prog="mario-zoo",
        description="Super Mario Bros environments, DQN agents and a zoo of trained agents.",
        epilog=EPILOG,
    )
    parser.add_argument("--version", action="version", version=f"mario-zoo {__version__}")
    verbs = parser.add_subparsers(dest="verb", metavar="VERB", required=True)
    for verb in VERBS:
        verb.add_parser(verbs)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Run the CLI; return the process exit code (argparse itself exits with 2 on bad usage)."""
    argv = sys.argv[1:] if argv is None else list(argv)
    args = build_parser().parse_args(argv)
    args.argv = argv
    try:
        return args.run(args)
    except UsageError as error:
        print(f"mario-zoo {args.verb}: error: {error}", file=sys.stderr)
        return 2
    except CommandError as error:
        print(f"mario-zoo {args.verb}: {error}", file=sys.stderr)
        return 1
    except MissingExtraError as error:  # raised outside bad_input, e.g. by a verb's own import of an extra
        print(f"mario-zoo {args.verb}: error: {error}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print(f"\nmario-zoo {args.verb}: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        # The reader of our output went away (`mario-zoo evaluate --json | head -1`): point stdout at /dev/null so
        # that Python's own flush at exit does not raise a second time, and say it once.
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        print(f"mario-zoo {args.verb}: the output pipe was closed before everything was written", file=sys.stderr)
        return 1
    except OSError as error:
        # Disk full, permission denied, a read-only folder...: the system's words and the file, on one line.
        where = f": {error.filename}" if error.filename else ""
        print(f"mario-zoo {args.verb}: error: {error.strerror or error}{where}", file=sys.stderr)
        return 1
