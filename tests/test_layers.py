"""The house stands one way: no import goes upstream of the README's code map, and measuring needs no Hub.

The code map (README.md, "## Code map") lists the package's modules in data-flow order. Every ``import`` in the
package, at module level or inside a function, may only name a module on its own line or a line above; imports
under ``if TYPE_CHECKING:`` are for annotations only and do not count. Inside a folder no two modules import each
other, even through a third, in a function or under ``if TYPE_CHECKING:``: such a circle means a shared concept
wants its own module below both.
"""

from __future__ import annotations

import ast
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).parents[1]
PACKAGE = ROOT / "mario_zoo"
MAP_LINE = re.compile(r"^- `mario_zoo/([a-z_]+)(?:\.py|/)`:")
# `import mario_zoo` runs the package's __init__, which imports only envs/ (to register the env IDs).
PACKAGE_INIT_IS = "envs"


def code_map() -> list[str]:
    """The modules of the README's code map, in order."""
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    section = text.split("## Code map", 1)[1].split("\n## ", 1)[0]
    return [match[1] for line in section.splitlines() if (match := MAP_LINE.match(line))]


def _floor_of(path: Path) -> str:
    """The code-map entry a source file belongs to: ``mario_zoo/hub/push.py`` -> ``hub``."""
    parts = path.relative_to(PACKAGE).with_suffix("").parts
    return PACKAGE_INIT_IS if parts == ("__init__",) else parts[0]


def _module_imports(tree: ast.Module, path: Path) -> list[tuple[int, str]]:
    """``(line, module)`` of every import of a ``mario_zoo`` module, except those under ``if TYPE_CHECKING:``."""
    skipped = {
        id(child)
        for node in ast.walk(tree)
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test)
        for statement in node.body
        for child in ast.walk(statement)
    }
    package = ".".join(("mario_zoo", *path.relative_to(PACKAGE).parent.parts))
    found = []
    for node in ast.walk(tree):
        if id(node) in skipped:
            continue
        if isinstance(node, ast.Import):
            found += [(node.lineno, alias.name) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:  # relative: resolve against this file's package
                anchor = package.rsplit(".", node.level - 1)[0] if node.level > 1 else package
                base = f"{anchor}.{base}" if base else anchor
            names = [f"{base}.{alias.name}" for alias in node.names] if base == "mario_zoo" else [base]
            found += [(node.lineno, name) for name in names]
    return sorted((line, name) for line, name in found if name == "mario_zoo" or name.startswith("mario_zoo."))


def _target_floor(module: str) -> str | None:
    parts = module.split(".")
    return PACKAGE_INIT_IS if len(parts) == 1 else parts[1]


def test_the_code_map_lists_every_module_of_the_package_once():
    floors = code_map()
    assert len(floors) == len(set(floors)), floors
    present = {_floor_of(path) for path in PACKAGE.rglob("*.py")}
    assert present <= set(floors), f"add these to the README's code map: {sorted(present - set(floors))}"
    assert floors.index("evaluation") < floors.index("hub") < floors.index("zoo") < floors.index("cli")


def test_no_import_goes_upstream():
    floors = code_map()
    rank = {floor: index for index, floor in enumerate(floors)}
    upstream = []
    for path in sorted(PACKAGE.rglob("*.py")):
        floor = _floor_of(path)
        for line, module in _module_imports(ast.parse(path.read_text(encoding="utf-8")), path):
            target = _target_floor(module)
            if target in rank and rank[target] > rank[floor]:
                upstream.append(f"{path.relative_to(ROOT)}:{line} ({floor}) imports {module} ({target})")
    assert not upstream, "imports that go upstream of the code map:\n" + "\n".join(upstream)


def test_the_import_walk_sees_imports_inside_functions_and_skips_type_checking_blocks(tmp_path):
    source = (
        "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from mario_zoo.cli import main\n"
        "def f():\n    from mario_zoo.hub import push_to_hub\n    import mario_zoo.zoo.registry\n"
        "from . import card\n"
    )
    imports = _module_imports(ast.parse(source), PACKAGE / "hub" / "example.py")
    assert imports == [(5, "mario_zoo.hub"), (6, "mario_zoo.zoo.registry"), (7, "mario_zoo.hub")]


def test_the_zoo_holds_no_command_line():
    for path in (PACKAGE / "zoo").rglob("*.py"):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        imported = {alias.name for node in ast.walk(tree) if isinstance(node, ast.Import) for alias in node.names}
        imported |= {node.module for node in ast.walk(tree) if isinstance(node, ast.ImportFrom)}
        assert "argparse" not in imported and "ArgumentParser" not in path.read_text(), path


def test_no_source_checkout_path_is_baked_into_the_package():
    for path in PACKAGE.rglob("*.py"):
        assert not re.search(r"parents\[2\]|REPOSITORY_ROOT", path.read_text(encoding="utf-8")), path


@pytest.mark.parametrize("module", ["mario_zoo.evaluation", "mario_zoo.training"])
def test_measuring_and_training_load_neither_the_hub_nor_huggingface_hub(module):
    code = (
        f"import sys, {module}\n"
        "print(sorted(name for name in sys.modules if name.split('.')[0] == 'huggingface_hub' "
        "or name == 'mario_zoo.hub' or name.startswith(('mario_zoo.hub.', 'mario_zoo.zoo'))))"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120, check=True)
    assert result.stdout.strip() == "[]", result.stdout


def _all_imports(tree: ast.Module, path: Path, root: Path) -> list[tuple[int, str]]:
    """``(line, module)`` of every import of a ``mario_zoo`` module or name, ``TYPE_CHECKING`` blocks included.

    ``from mario_zoo.agents import checkpoint`` gives ``mario_zoo.agents.checkpoint``: the most specific name,
    which the circle check resolves to the file it names.
    """
    package = ".".join(("mario_zoo", *path.relative_to(root).parent.parts))
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found += [(node.lineno, alias.name) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.rsplit(".", node.level - 1)[0] if node.level > 1 else package
                base = f"{anchor}.{base}" if base else anchor
            found += [(node.lineno, f"{base}.{alias.name}") for alias in node.names]
    return [(line, name) for line, name in found if name.startswith("mario_zoo.")]


def _module_file(name: str, root: Path) -> Path | None:
    """The package file that an import names: the longest prefix of ``name`` that is a module or a package."""
    parts = name.split(".")[1:]
    while parts:
        base = root.joinpath(*parts)
        for candidate in (base.with_suffix(".py"), base / "__init__.py"):
            if candidate.is_file():
                return candidate
        parts.pop()
    return None


def _import_graph(paths: list[Path], root: Path = PACKAGE) -> dict[Path, set[Path]]:
    """Each file's imports of files in its own folder (a package's ``__init__`` counts as in the package)."""
    graph: dict[Path, set[Path]] = {}
    for path in paths:
        imports = _all_imports(ast.parse(path.read_text(encoding="utf-8")), path, root)
        targets = {_module_file(name, root) for _, name in imports}
        graph[path] = {t for t in targets if t is not None and t != path and t.parent == path.parent}
    return graph


def _circles(graph: dict[Path, set[Path]]) -> list[list[Path]]:
    """The strongly connected components of more than one file (Tarjan's algorithm), each sorted."""
    index: dict[Path, int] = {}
    low: dict[Path, int] = {}
    stack: list[Path] = []
    on_stack: set[Path] = set()
    found: list[list[Path]] = []

    def visit(node: Path) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for target in sorted(graph.get(node, ())):
            if target not in index:
                visit(target)
                low[node] = min(low[node], low[target])
            elif target in on_stack:
                low[node] = min(low[node], index[target])
        if low[node] == index[node]:
            component = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.append(member)
                if member == node:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return found


def test_no_import_circle_inside_a_folder():
    """A imports B imports A (in any function, or only for annotations) is a circle: split out what both need."""
    circles = _circles(_import_graph(sorted(PACKAGE.rglob("*.py"))))
    described = [" <-> ".join(str(path.relative_to(ROOT)) for path in circle) for circle in circles]
    assert not circles, "import circles inside a folder:\n" + "\n".join(described)


def test_the_circle_check_counts_imports_in_functions_and_type_checking_blocks(tmp_path):
    package = tmp_path / "mario_zoo" / "folder"
    package.mkdir(parents=True)
    first, second, third = package / "first.py", package / "second.py", package / "third.py"
    first.write_text("def f():\n    from mario_zoo.folder import second\n", encoding="utf-8")
    second.write_text(
        "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from .first import f\nfrom . import third\n",
        encoding="utf-8",
    )
    third.write_text("import os\n", encoding="utf-8")
    assert _circles(_import_graph([first, second, third], tmp_path / "mario_zoo")) == [[first, second]]


MAX_MODULE_LINES = 600


def test_every_module_is_at_most_600_lines():
    # One module per concept: a module that outgrows this holds two, and the second wants a module of its own.
    long = {
        str(path.relative_to(ROOT)): lines
        for path in sorted(PACKAGE.rglob("*.py"))
        if (lines := len(path.read_text(encoding="utf-8").splitlines())) > MAX_MODULE_LINES
    }
    assert not long, f"modules over {MAX_MODULE_LINES} lines: {long}"
