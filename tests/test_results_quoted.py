"""The README quotes benchmarks/RESULTS.md: every number in its Benchmarks table's "measured" column appears
verbatim in RESULTS.md, so a rerun that changes a result cannot leave the README telling the old one."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).parents[1]
NUMBER = re.compile(r"\d[\d,]*(?:\.\d+)?(?:/\d+)?")


def measured_cells(readme: str) -> list[str]:
    """The "measured" cell of each row of the README's Benchmarks table."""
    section = readme[readme.index("## Benchmarks") :]
    section = section[: section.index("\n## ")]
    rows = [line for line in section.splitlines() if line.startswith("| ") and not line.startswith("| what |")]
    return [row.strip("|").split(" | ")[1] for row in rows]


def test_the_readme_quotes_results_verbatim():
    readme, results = (ROOT / "README.md").read_text(), (ROOT / "benchmarks" / "RESULTS.md").read_text()
    cells = measured_cells(readme)
    assert len(cells) >= 10
    missing = [(number, cell) for cell in cells for number in NUMBER.findall(cell) if number not in results]
    assert not missing, f"README numbers not in benchmarks/RESULTS.md (copy them from there): {missing}"


def test_a_drifted_number_is_caught():
    cell = measured_cells("## Benchmarks\n\n| what | measured |\n|---|---|\n| flags | 0/100 after 650k |\n\n## Next")[0]
    assert [number for number in NUMBER.findall(cell) if number not in "flag 53/100; 650k steps"] == ["0/100"]
