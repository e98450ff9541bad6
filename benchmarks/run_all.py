"""``make bench``: run every benchmark and rewrite its own section of ``benchmarks/RESULTS.md``.

Each section this file writes sits between ``<!-- bench:NAME begin -->`` and ``<!-- bench:NAME end -->``; ``--only``
rewrites only those named, and everything outside the markers (the hand-run sections: long trainings, sweeps) is
kept as it is.

Each benchmark is a script that prints a markdown table; this file runs them one after another (never in
parallel: they share the machine's cores), records the machine, the package versions and the exact
command next to each table, and writes the file atomically.

Run: ``.venv/bin/python benchmarks/run_all.py [--only NAME ...]``
"""

from __future__ import annotations

import argparse
import os
import platform
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from importlib.metadata import version
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
PY = ".venv/bin/python"

#: name -> (title, command relative to the repo root, what the target is)
BENCHMARKS: dict[str, tuple[str, str, str]] = {
    "env_throughput": (
        "Environment throughput (issue: environments)",
        f"{PY} benchmarks/env_throughput.py --steps 2000 --repeats 5",
        "MarioDQN-v0 >= 0.95 of the raw emulator rate; 2 async envs >= 1.8x one",
    ),
    "train_speed": (
        "Training speed at SB3 rl-zoo CartPole-v1 settings (issue: DQN agents)",
        f"{PY} benchmarks/train_speed.py",
        "ours <= 1.05x the compute floor's time",
    ),
    "replay_memory": (
        "Replay memory per transition at (4, 84, 84) (issue: DQN agents)",
        f"{PY} benchmarks/replay_memory.py",
        "<= 7.2 KB per transition",
    ),
    "mario_train_cost": (
        "MarioDQN-v0: what one training step costs (issue: the zoo)",
        f"{PY} benchmarks/mario_train_cost.py",
        "none: explains the Mario agent's training speed (env step, action, gradient update in fp32 and bf16)",
    ),
    "mario_train_speed": (
        "MarioDQN-v0: mario-zoo train's speed vs SB3's DQN (issue 12)",
        f"{PY} benchmarks/mario_train_speed.py --steps 3000 --learning-starts 1000 --repeats 3",
        ">= 2.5x SB3's env steps/s (goal beyond: 3x), with the gain of each part (actor; bf16) measured",
    ),
    "mario_train_memory": (
        "MarioDQN-v0: memory of a 200k-transition run with the actor (issue 12)",
        f"{PY} benchmarks/mario_train_speed.py --memory --steps 3000 --learning-starts 1000 --buffer 200000",
        "peak RSS <= 2.5 GB",
    ),
    "cartpole_solve": (
        "CartPole-v1: seeds solved and time to solve (issue: DQN agents)",
        f"{PY} benchmarks/cartpole_solve.py",
        ">= 9/10 seeds reach a 100-episode eval mean >= 475 within 50k steps; median time <= 1/3 of SB3's run",
    ),
    "compare_cartpole": (
        "CartPole-v1: ours vs SB3 DQN, matched rl-zoo settings, 50k steps, 10 seeds (issue: compare)",
        f"{PY} benchmarks/compare_cartpole.py --steps 50000 --seeds 0-9 --workers 2",
        "ours solves as many seeds as SB3 (final 100-episode greedy mean >= 475) at >= 1.0x SB3's env steps/s",
    ),
    "compare_mario": (
        "MarioDQN-v0: ours vs SB3 DQN, matched mario-preset settings, 20k steps, 2 seeds (issue: compare)",
        f"{PY} benchmarks/compare_mario.py --steps 20000 --seeds 0-1 --workers 2",
        "finishes within 30 minutes; x_pos mean/max and flag rate reported for both, no claim of learning",
    ),
}

PACKAGES = [
    "mario-zoo",
    "torch",
    "gymnasium",
    "stable-baselines3",
    "nes-py",
    "gym-super-mario-bros",
    "numpy",
    "opencv-python-headless",
]


def machine() -> str:
    cpu = platform.processor() or "unknown CPU"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return (
        f"{os.cpu_count()} cores, {cpu}, {platform.system()} {platform.release()}, Python {platform.python_version()}"
    )


def run(name: str) -> str:
    title, command, target = BENCHMARKS[name]
    if not (HERE / f"{name}.py").exists():
        raise SystemExit(f"benchmarks/{name}.py is missing; known benchmarks: {', '.join(BENCHMARKS)}")
    print(f"running {name}: {command}", file=sys.stderr, flush=True)
    start = time.perf_counter()
    result = subprocess.run(command, shell=True, cwd=ROOT, capture_output=True, text=True)
    if result.returncode != 0:
        raise SystemExit(f"{name} failed (exit {result.returncode}):\n{result.stderr[-3000:]}")
    minutes = (time.perf_counter() - start) / 60
    # The scripts title their own output with "## "; nest those titles under this section's.
    output = "\n".join("#" + line if line.startswith("## ") else line for line in result.stdout.strip().splitlines())
    return (
        f"## {title}\n\nTarget: {target}.\n\nCommand (took {minutes:.1f} min):\n\n```bash\n{command}\n```\n\n{output}\n"
    )


def marker(name: str, end: bool = False) -> str:
    """The comment that opens (or closes) benchmark ``name``'s section of RESULTS.md."""
    return f"<!-- bench:{name} {'end' if end else 'begin'} -->"


def replace_section(text: str, name: str, section: str) -> str:
    """``text`` with benchmark ``name``'s marked section replaced by ``section`` (appended if it has none yet);
    everything outside the markers (the hand-run sections) stays as it is."""
    block = f"{marker(name)}\n{section.rstrip()}\n{marker(name, end=True)}"
    begin, end = text.find(marker(name)), text.find(marker(name, end=True))
    if begin < 0 or end < begin:
        return text.rstrip() + "\n\n" + block + "\n"
    return text[:begin] + block + text[end + len(marker(name, end=True)) :]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--only", nargs="+", choices=list(BENCHMARKS), help="run only these benchmarks")
    parser.add_argument("--out", type=Path, default=HERE / "RESULTS.md")
    args = parser.parse_args()
    versions = ", ".join(f"{package} {version(package)}" for package in PACKAGES)
    stamp = f"Measured {datetime.now(UTC):%Y-%m-%d %H:%M} UTC on {machine()}; packages: {versions}."
    text = args.out.read_text() if args.out.exists() else "# Benchmark results\n"
    for name in args.only or BENCHMARKS:
        text = replace_section(text, name, run(name).replace("\n\nTarget:", f"\n\n{stamp}\n\nTarget:", 1))
    with tempfile.NamedTemporaryFile("w", dir=args.out.parent, delete=False, suffix=".tmp") as tmp:
        tmp.write(text)
    os.replace(tmp.name, args.out)
    print(f"wrote {args.out}", file=sys.stderr)


if __name__ == "__main__":
    main()
