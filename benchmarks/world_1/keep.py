"""Keep a training's state in the repository: an agent's weights (float16) and its run's frontier archive.

A session's ``runs/`` folder does not always survive to the next one (a new machine starts without it), and a World
1-3 training is several sessions long. What a warm start needs to go on is small: the network (6.7 MB in float16)
and the frontier archive (the joypad inputs of the kept states, a few hundred KB). This writes both into one folder
that the next run starts from::

    python benchmarks/world_1/keep.py runs/w13h/snapshots/step-000150000 --out benchmarks/world_1/1-3
    mario-zoo train --preset mario-world-1 --env MarioDQN-1-3-v0 --init-from benchmarks/world_1/1-3/agent \\
        --frontier-from benchmarks/world_1/1-3/frontier.json ...

The archive is read and checked (level, layout, sizes) before anything is written; both files are written
atomically.
"""

from __future__ import annotations

import argparse
import tempfile
from pathlib import Path

from mario_zoo.agents import checkpoint
from mario_zoo.atomic import write_bytes
from mario_zoo.envs.frontier_archive import read_archive, read_backward_point
from mario_zoo.planning import mario_level
from mario_zoo.snapshots import run_of_checkpoint


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("snapshot", help="a run's snapshot, model/ or best_model/ folder")
    parser.add_argument("--out", required=True, help="folder to write agent/ and frontier.json into")
    args = parser.parse_args()

    source = Path(args.snapshot)
    run = run_of_checkpoint(source)
    if run is None or not run.frontier_archive.is_file():
        raise SystemExit(f"{source} is not a checkpoint of a run folder with a frontier.json.")
    level = mario_level(run.read_config())
    # Read once (a training may be writing it), checked from a copy before anything is written.
    archive = run.frontier_archive.read_bytes()
    with tempfile.TemporaryDirectory() as folder:
        (Path(folder) / "frontier.json").write_bytes(archive)
        cells = read_archive(Path(folder) / "frontier.json", level)
        point = read_backward_point(Path(folder) / "frontier.json", level)
    stored = checkpoint.read_checkpoint(source)
    weights = {key: tensor.half() if tensor.is_floating_point() else tensor for key, tensor in stored.model.items()}
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    checkpoint.write_checkpoint(out / "agent", stored.config, weights)
    write_bytes(out / "frontier.json", archive)
    furthest = max((cell.reach for cell in cells), default=0)
    kept = f"frontier.json with {len(cells)} stretches up to x {furthest}"
    if point is not None:
        kept += f", backward point at x {point}"
    print(f"{out}: agent/ (float16) from {source}; {kept}.")


if __name__ == "__main__":
    main()
