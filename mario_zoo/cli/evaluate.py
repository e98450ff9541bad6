"""``mario-zoo evaluate``: an agent's returns under an evaluation protocol (the work is :mod:`mario_zoo.evaluation`)."""

from __future__ import annotations

import argparse
import json
from collections.abc import Sequence
from typing import TYPE_CHECKING

from mario_zoo.cli.common import add_agent_options, bad_input, count, load_agent, parse_source, use_threads

if TYPE_CHECKING:
    from mario_zoo.evaluation import Protocol
    from mario_zoo.results import Evaluation
    from mario_zoo.sources import AgentSource, LoadedAgent

EVALUATE_EPILOG = """examples:
  mario-zoo evaluate runs/CartPole-v1_dqn_s0_20250101-120000
  mario-zoo evaluate dqn-MarioDQN-1-1-v0                               the exact no-op sweep (31 greedy episodes)
  mario-zoo evaluate dqn-MarioDQN-1-1-v0 --protocol nature             epsilon 0.05, 30 episodes
  mario-zoo evaluate dqn-MarioDQN-1-1-v0 --protocol nature --episodes 100 --epsilon 0.01
  mario-zoo evaluate hub:your-name/dqn-CartPole-v1 --json > results.json
  mario-zoo evaluate runs/MarioDQN-1-1-v0_dqn_s0_20250101-120000/snapshots/*   each snapshot, then a ranked table

AGENT is a run folder, a checkpoint (directory or .zip), hub:owner/name[@revision] or a zoo agent (zoo:NAME or
NAME, see `mario-zoo zoo list`). Several AGENTs (a run's snapshots/*, from train --snapshot-freq) are evaluated one
after the other under the same protocol, then ranked: Mario by flag rate, then mean furthest x_pos; other envs by
mean return. Protocols (--protocol):
  noop-sweep  Mario's default: greedy, one episode from each no-op count 0..30 (--noop-max). The emulator is
              deterministic, so these 31 episodes are the 0-30 no-op protocol without sampling noise.
  nature      Mnih et al. 2015: epsilon 0.05 (--epsilon), 0-30 random no-ops, 30 seeded episodes (--episodes).
  episodes    other envs' default: N seeded episodes (default 10), greedy unless --epsilon; Mario: random no-ops.
Mario evaluations also report how far Mario got (x_pos) and the flag rate with its 95% Wilson interval. The
agent's training-only options (frontier starts, training no-ops, sticky actions) never apply. A run's snapshot
played under the run's own protocol (its periodic evaluations': Mario's noop-sweep by default) is also recorded in
RUN/snapshot_evaluations.csv (--no-record: not), so that the run's time to clear, the card of an agent published
from a snapshot and `mario-zoo plot RUN --evaluations` count it.
"""


def add_parser(verbs: argparse._SubParsersAction) -> None:
    evaluate = verbs.add_parser(
        "evaluate",
        help="evaluate an agent: mean +/- std return (Mario: x_pos, flag rate)",
        description="Play N episodes with an agent (or each of several, then rank them) and report the mean and std "
        "of their returns.",
        epilog=EVALUATE_EPILOG,
    )
    add_agent_options(evaluate, episodes=None, several=True)
    evaluate.add_argument(
        "--protocol",
        metavar="NAME",
        help="noop-sweep (Mario's default: greedy, each no-op start 0..--noop-max once), nature (epsilon 0.05, "
        "random 0-30 no-ops, 30 seeded episodes) or episodes (other envs' default: N seeded greedy episodes)",
    )
    evaluate.add_argument("--noop-max", type=count, help="Mario only: no-op starts 0..N (default 30)")
    evaluate.add_argument("--json", action="store_true", help="print machine-readable JSON")
    evaluate.add_argument(
        "--record",
        action=argparse.BooleanOptionalAction,
        default=True,
        help="keep the evaluations of a run's snapshots played under the run's own protocol in "
        "RUN/snapshot_evaluations.csv, for its time to clear and plot --evaluations (default on)",
    )
    evaluate.add_argument(
        "--progress", action=argparse.BooleanOptionalAction, default=True, help="show a progress bar (default on)"
    )
    evaluate.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    from mario_zoo.evaluation import evaluate

    sources = [parse_source(text) for text in args.agents]
    use_threads(args.threads)
    if len(sources) > 1:
        # Every agent loads and takes the protocol before the first is played: a damaged snapshot or a protocol
        # its env lacks must not end a long series after hours of play, without its table.
        for source in sources:
            _protocol(load_agent(source, args.device), args)
    evaluations = []
    for source in sources:
        agent = load_agent(source, args.device)  # one network in memory at a time, however many snapshots
        if args.record:
            _check_record(agent)
        evaluation = evaluate(
            agent.model, agent.env_id, agent.env_kwargs, protocol=_protocol(agent, args), progress=args.progress
        )
        evaluations.append((source, agent.model.num_timesteps, evaluation))
        recorded = args.record and _record(agent, evaluation)
        if not args.json:
            print(f"{source}\n{evaluation.summary()}" + (f"\n  recorded in {recorded}" if recorded else ""))
    if args.json:
        records = [
            {"agent": str(source), "num_timesteps": steps, **evaluation.to_dict()}
            for source, steps, evaluation in evaluations
        ]
        print(json.dumps(records[0] if len(records) == 1 else records, indent=2, sort_keys=True))
    elif len(evaluations) > 1:
        print(f"\n{ranking_table(evaluations)}")
    return 0


def _check_record(agent: LoadedAgent) -> None:
    """A snapshot's run must have a readable ``snapshot_evaluations.csv`` (or none) before minutes of play are spent
    on an evaluation that could not be kept there."""
    from mario_zoo.runs import read_evaluations
    from mario_zoo.snapshots import snapshot_evaluations, snapshot_run

    run = None if agent.path is None else snapshot_run(agent.path)
    if run is not None:
        with bad_input():
            read_evaluations(snapshot_evaluations(run))


def _record(agent: LoadedAgent, evaluation: Evaluation) -> str | None:
    """Keep the evaluation of a run's snapshot in the run, if it was played under the run's own protocol; returns
    where it was kept."""
    from mario_zoo.snapshots import record, snapshot_evaluations, snapshot_run

    run = None if agent.path is None else snapshot_run(agent.path)
    if run is None or not record(run, agent.model.num_timesteps, evaluation):
        return None
    return str(snapshot_evaluations(run))


def _protocol(agent: LoadedAgent, args: argparse.Namespace) -> Protocol:
    """The protocol the options ask for, for this agent's env (a usage error if its env cannot take it)."""
    from mario_zoo.envs.spec import check_env_kwargs
    from mario_zoo.evaluation import protocol_for

    with bad_input():
        protocol = protocol_for(
            agent.env_id,
            args.protocol,
            n_episodes=args.episodes,
            epsilon=args.epsilon,
            noop_max=args.noop_max,
            seed=args.seed,
        )
        # The protocol only drops training options and sets no-ops: a key unknown to the env is so in the agent's.
        check_env_kwargs(agent.env_id, agent.env_kwargs)
    return protocol


def ranking_table(evaluations: Sequence[tuple[AgentSource, int, Evaluation]]) -> str:
    """Several agents' evaluations (each with its env steps) as a Markdown table, best first within each env
    (:attr:`~mario_zoo.results.Statistics.rank`: Mario by flag rate, then mean furthest x_pos; other envs by mean
    return); ties keep the order given.

    Example:
        >>> from mario_zoo.results import Evaluation
        >>> from mario_zoo.sources import AgentSource
        >>> def played(returns):
        ...     return Evaluation(env_id="CartPole-v1", env_kwargs={}, episode_rewards=list(returns),
        ...                       episode_lengths=[int(r) for r in returns])
        >>> print(ranking_table([(AgentSource("checkpoint", "a"), 100, played([20.0, 30.0])),
        ...                      (AgentSource("checkpoint", "b"), 200, played([500.0]))]))
        | rank | agent | env steps | episodes | mean return | flags | mean furthest x |
        |---|---|---|---|---|---|---|
        | 1 | b | 200 | 1 | 500.00 +/- 0.00 | - | - |
        | 2 | a | 100 | 2 | 25.00 +/- 5.00 | - | - |
    """
    from mario_zoo.results import Statistics

    def best_first(item: tuple[AgentSource, int, Evaluation]) -> tuple[str, tuple[float, ...]]:
        return item[2].env_id, tuple(-value for value in Statistics.of(item[2]).rank)

    mixed = len({evaluation.env_id for _, _, evaluation in evaluations}) > 1
    lines = [
        f"| rank |{' env |' if mixed else ''} agent | env steps | episodes | mean return | flags | mean furthest x |",
        "|---|---|---|---|---|---|---|" + ("---|" if mixed else ""),
    ]
    place, env_id = 0, None
    for source, steps, evaluation in sorted(evaluations, key=best_first):
        place = 1 if evaluation.env_id != env_id else place + 1
        env_id = evaluation.env_id
        flags = "-" if evaluation.flag_count is None else f"{evaluation.flag_count}/{evaluation.n_eval_episodes}"
        x_pos = "-" if evaluation.x_pos_mean is None else f"{evaluation.x_pos_mean:,.0f}"
        env = f" {env_id} |" if mixed else ""
        lines.append(
            f"| {place} |{env} {source} | {steps:,} | {evaluation.n_eval_episodes} | {evaluation.mean_reward_text} "
            f"| {flags} | {x_pos} |"
        )
    return "\n".join(lines)
