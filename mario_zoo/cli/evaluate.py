"""``mario-zoo evaluate``: an agent's returns under an evaluation protocol (the work is :mod:`mario_zoo.evaluation`)."""

from __future__ import annotations

import argparse
import json

from mario_zoo.cli.common import add_agent_options, bad_input, count, load_agent, parse_source, use_threads

EVALUATE_EPILOG = """examples:
  mario-zoo evaluate runs/CartPole-v1_dqn_s0_20250101-120000
  mario-zoo evaluate dqn-MarioDQN-1-1-v0                               the exact no-op sweep (31 greedy episodes)
  mario-zoo evaluate dqn-MarioDQN-1-1-v0 --protocol nature             epsilon 0.05, 30 episodes
  mario-zoo evaluate dqn-MarioDQN-1-1-v0 --protocol nature --episodes 100 --epsilon 0.01
  mario-zoo evaluate hub:your-name/dqn-CartPole-v1 --json > results.json

AGENT is a run folder, a checkpoint (directory or .zip), hub:owner/name[@revision] or a zoo agent (zoo:NAME or
NAME, see `mario-zoo zoo list`). Protocols (--protocol):
  noop-sweep  Mario's default: greedy, one episode from each no-op count 0..30 (--noop-max). The emulator is
              deterministic, so these 31 episodes are the 0-30 no-op protocol without sampling noise.
  nature      Mnih et al. 2015: epsilon 0.05 (--epsilon), 0-30 random no-ops, 30 seeded episodes (--episodes).
  episodes    other envs' default: N seeded episodes (default 10), greedy unless --epsilon; Mario: random no-ops.
Mario evaluations also report how far Mario got (x_pos) and the flag rate with its 95% Wilson interval. The
agent's training-only options (frontier starts, training no-ops, sticky actions) never apply.
"""


def add_parser(verbs: argparse._SubParsersAction) -> None:
    evaluate = verbs.add_parser(
        "evaluate",
        help="evaluate an agent: mean +/- std return (Mario: x_pos, flag rate)",
        description="Play N episodes with an agent and report the mean and std of their returns.",
        epilog=EVALUATE_EPILOG,
    )
    add_agent_options(evaluate, episodes=None)
    evaluate.add_argument(
        "--protocol",
        metavar="NAME",
        help="noop-sweep (Mario's default: greedy, each no-op start 0..--noop-max once), nature (epsilon 0.05, "
        "random 0-30 no-ops, 30 seeded episodes) or episodes (other envs' default: N seeded greedy episodes)",
    )
    evaluate.add_argument("--noop-max", type=count, help="Mario only: no-op starts 0..N (default 30)")
    evaluate.add_argument("--json", action="store_true", help="print machine-readable JSON")
    evaluate.add_argument(
        "--progress", action=argparse.BooleanOptionalAction, default=True, help="show a progress bar (default on)"
    )
    evaluate.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    from mario_zoo.envs.spec import check_env_kwargs
    from mario_zoo.evaluation import evaluate, protocol_for

    source = parse_source(args.agent)
    use_threads(args.threads)
    agent = load_agent(source, args.device)
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
    evaluation = evaluate(agent.model, agent.env_id, agent.env_kwargs, protocol=protocol, progress=args.progress)
    if args.json:
        print(json.dumps({"agent": str(source), **evaluation.to_dict()}, indent=2, sort_keys=True))
    else:
        print(f"{source}\n{evaluation.summary()}")
    return 0
