"""The floors of ../shared/ARCHITECTURE.md, checked on the source: every `import` of a project module (at the top of
a file or inside a function) points to the same floor or below, no module imports in a cycle, and the project has
one import root (`harness`): nothing imports `tasks`, `synth` or `leaderboards` as top-level packages."""

from __future__ import annotations

import ast
import os
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = ROOT / "harness"

# Longest matching prefix decides a module's floor. A module that matches none fails the test: a new module
# is placed on a floor on purpose, here.
FLOORS: dict[str, int] = {
    "harness.core": 0,
    "harness.tasks": 1,
    "harness.synth": 2,
    "harness.runner": 2,
    "harness.train": 2,
    "harness.judge": 2,
    "harness.results": 2,
    "harness.scored_lines": 2,
    "harness.store": 2,
    "harness.run_info": 2,
    "harness.report": 2,
    "harness.correlation": 2,
    "harness.tracking": 2,
    "harness.lmeval_export": 2,
    "harness.sample_prompt": 2,
    "harness.task_listing": 2,
    "harness.sweep": 3,
    "harness.leaderboards": 3,
    "harness.check": 3,
    "harness.noise": 3,
    "harness.api": 3,
    "harness.lmeval_compat": 3,
    "harness.cli": 3,
    "harness.__main__": 3,
    "harness": 3,  # the package's own __init__: `from harness import evaluate`, loaded lazily
}
FLOOR_NAMES = {0: "core", 1: "tasks", 2: "runner/trainer/synth", 3: "sweep/boards/check/CLI"}


def module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def source_files() -> dict[str, Path]:
    """Every module of the package by its import name, the linked folders (harness/tasks -> ../tasks) included."""
    files: dict[str, Path] = {}
    for folder, dirs, names in os.walk(PACKAGE, followlinks=True):
        dirs[:] = [d for d in dirs if d != "__pycache__"]
        for name in names:
            if name.endswith(".py"):
                path = Path(folder) / name
                files[module_name(path)] = path
    return dict(sorted(files.items()))


def floor_of(module: str) -> int:
    matches = [prefix for prefix in FLOORS if module == prefix or module.startswith(prefix + ".")]
    if not matches:
        raise AssertionError(f"{module} is on no floor: add it to FLOORS in {Path(__file__).name}")
    return FLOORS[max(matches, key=len)]


def imports_of(path: Path, module: str) -> list[tuple[int, str]]:
    """(line, imported module) for every import in the file, relative ones resolved."""
    tree = ast.parse(path.read_text(), str(path))
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    found: list[tuple[int, str]] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found += [(node.lineno, alias.name) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join(anchor + ([base] if base else []))
            found.append((node.lineno, base))
            found += [(node.lineno, f"{base}.{alias.name}") for alias in node.names]
    return found


def project_imports() -> dict[str, list[tuple[int, str]]]:
    files = source_files()
    graph: dict[str, list[tuple[int, str]]] = {}
    for module, path in files.items():
        targets = []
        for line, name in imports_of(path, module):
            # `from harness.core import errors` names a module; `from harness.core.errors import X` names an attribute
            while name and name not in files:
                name = name.rpartition(".")[0]
            if name and name != module and (line, name) not in targets:
                targets.append((line, name))
        graph[module] = targets
    return graph


def test_the_linked_folders_are_the_top_level_folders() -> None:
    for name in ("tasks", "synth", "leaderboards"):
        assert (PACKAGE / name).resolve() == (ROOT / name).resolve(), f"harness/{name} should link to ../{name}"


def test_one_import_root() -> None:
    offenders = []
    for base in ("harness", "tasks", "synth", "leaderboards", "tests", "bench"):
        for path in sorted((ROOT / base).rglob("*.py")):
            for line, name in imports_of(path, module_name(path)):
                if name.split(".")[0] in ("tasks", "synth", "leaderboards"):
                    offenders.append(f"{path.relative_to(ROOT)}:{line} imports {name}")
    assert not offenders, "import them as harness.tasks, harness.synth, harness.leaderboards:\n" + "\n".join(sorted(set(offenders)))


def test_imports_point_down_only() -> None:
    files = source_files()
    upward = []
    for module, targets in project_imports().items():
        for line, target in targets:
            if floor_of(target) > floor_of(module):
                upward.append(f"{files[module].relative_to(ROOT)}:{line}: {module} ({FLOOR_NAMES[floor_of(module)]}) "
                              f"imports {target} ({FLOOR_NAMES[floor_of(target)]})")
    assert not upward, "imports that point up a floor:\n" + "\n".join(upward)


def test_no_import_cycles() -> None:
    import networkx as nx

    graph = nx.DiGraph()
    for module, targets in project_imports().items():
        graph.add_node(module)
        # a package's __init__ importing its own submodules is how a package presents itself, not a cycle
        graph.add_edges_from((module, t) for _, t in targets if not t.startswith(module + "."))
    cycles = list(nx.simple_cycles(graph))
    assert not cycles, "import cycles:\n" + "\n".join(" -> ".join(c + [c[0]]) for c in cycles[:20])


@pytest.mark.parametrize("floor", [0, 1])
def test_lower_floors_never_name_a_higher_module(floor: int) -> None:
    """Also caught by the upward check; kept apart so a failure names the floor that broke."""
    files = source_files()
    bad = [f"{files[m].relative_to(ROOT)}: {t}" for m, ts in project_imports().items() if floor_of(m) == floor
           for _, t in ts if floor_of(t) > floor]
    assert not bad, "\n".join(bad)
