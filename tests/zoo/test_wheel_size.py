"""The wheel stays under 50 MB: what the package ships (bundled agents included) is counted here."""

from __future__ import annotations

from pathlib import Path

import mario_zoo

WHEEL_LIMIT_BYTES = 50 * 10**6
"""PyPI's default upload limit per file is 100 MB; the zoo keeps its wheel to half of that (issue: World 1)."""


def test_the_package_with_its_bundled_agents_fits_a_50_mb_wheel():
    package = Path(mario_zoo.__file__).parent
    shipped = [
        path
        for path in package.rglob("*")
        if path.is_file() and "__pycache__" not in path.parts and path.suffix not in {".pyc"}
    ]
    total = sum(path.stat().st_size for path in shipped)
    # Weights barely compress, so the wheel is about as large as the files it holds.
    assert total < WHEEL_LIMIT_BYTES, f"the package holds {total / 1e6:.1f} MB; ship new agents from the Hub pinned"
