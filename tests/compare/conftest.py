"""One small comparison shared by the output tests: CartPole-v1, 2 seeds, 2,000 steps, 2 workers.

The budget checks what ``compare`` produces, not how well either agent plays; evaluations are shortened
(2 episodes every 1,000 steps, 5 at the end) so the whole comparison takes seconds.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from mario_zoo.compare import CompareResult, compare

STEPS = 2_000
SEEDS = (0, 1)


@pytest.fixture(scope="session")
def small_comparison(tmp_path_factory: pytest.TempPathFactory) -> CompareResult:
    """A finished 2-seed, 2,000-step CartPole comparison."""
    out: Path = tmp_path_factory.mktemp("compare") / "cartpole"
    return compare(
        "CartPole-v1",
        steps=STEPS,
        seeds="0-1",
        workers=2,
        out=out,
        eval_freq=1_000,
        eval_episodes=2,
        final_episodes=5,
        progress=False,
    )
