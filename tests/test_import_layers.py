"""Layers go one way, and no module imports itself round a circle (ARCHITECTURE.md).

Imports inside functions count: they run too, and a cycle hidden in a function is still one.
Imports under ``if TYPE_CHECKING:`` do not: they never run, and only name types for the checker.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

from tests.helpers import REPO

# pipelines' stages, lowest first: a module may import its own stage and those before it. The
# package __init__ (the public names) and __main__ sit above them all.
PIPELINES_LAYERS = [
    "shadowing",
    "lazy_imports",
    "errors",
    "common",
    "config",
    "task",
    "loading",
    "yaml",
    "assessment",
    "execute",
    "report",
    "session",
    "dashboard",
    "triggers",
    "cli",
]


def _module_name(path: Path) -> str:
    name = ".".join(path.relative_to(REPO).with_suffix("").parts)
    return name.removesuffix(".__init__")


def import_graph(package: str) -> dict[str, set[str]]:
    """Each module of ``package`` and the modules of this repository it imports."""
    modules = {_module_name(path): path for path in sorted((REPO / package).rglob("*.py"))}
    graph: dict[str, set[str]] = {}
    for name, path in modules.items():
        imported: set[str] = set()
        for node in _nodes_that_run(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                imported.update(alias.name for alias in node.names)
            elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                imported.add(node.module)
                # from package import submodule: an import of the submodule.
                imported.update(f"{node.module}.{alias.name}" for alias in node.names)
        graph[name] = {
            module
            for module in imported
            if module.split(".")[0] in ("pipelines", "targets") and module != name and _exists(module)
        }
    return graph


def _nodes_that_run(tree: ast.AST) -> list[ast.AST]:
    found, pending = [], [tree]
    while pending:
        node = pending.pop()
        found.append(node)
        if isinstance(node, ast.If) and _is_type_checking(node.test):
            pending.extend(node.orelse)
            continue
        pending.extend(ast.iter_child_nodes(node))
    return found


def _is_type_checking(test: ast.expr) -> bool:
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def _exists(module: str) -> bool:
    path = REPO.joinpath(*module.split("."))
    return path.with_suffix(".py").is_file() or (path / "__init__.py").is_file()


def find_cycle(graph: dict[str, set[str]]) -> list[str] | None:
    """A cycle of imports as a list of modules (the first repeated at the end), or None."""
    state: dict[str, str] = {}
    for start in graph:
        if start in state:
            continue
        trail, stack = [start], [iter(sorted(graph[start]))]
        state[start] = "active"
        while stack:
            child = next(stack[-1], None)
            if child is None:
                state[trail.pop()] = "done"
                stack.pop()
            elif state.get(child) == "active":
                return [*trail[trail.index(child) :], child]
            elif child not in state and child in graph:
                state[child] = "active"
                trail.append(child)
                stack.append(iter(sorted(graph[child])))
    return None


def _without_packages(graph: dict[str, set[str]]) -> dict[str, set[str]]:
    """The graph without package __init__ modules: importing ``pipelines.x.y`` runs the package's
    __init__ first, so an edge to a package is an edge to its public face, not a cycle to fix."""
    packages = {name for name in graph if (REPO.joinpath(*name.split(".")) / "__init__.py").is_file()}
    return {name: deps - packages for name, deps in graph.items() if name not in packages}


def test_targets_never_imports_pipelines() -> None:
    offending = {
        name: deps
        for name, deps in import_graph("targets").items()
        if any(dep.startswith("pipelines") for dep in deps)
    }
    assert offending == {}


def test_no_import_cycles() -> None:
    for package in ("targets", "pipelines"):
        cycle = find_cycle(_without_packages(import_graph(package)))
        assert cycle is None, f"import cycle in {package}: {' → '.join(cycle or [])}"


def _stage(module: str) -> str | None:
    parts = module.split(".")
    return parts[1] if len(parts) > 1 and parts[1] in PIPELINES_LAYERS else None


def test_pipelines_imports_go_down_the_stages_only() -> None:
    upward = []
    for name, deps in import_graph("pipelines").items():
        stage = _stage(name)
        if stage is None:
            continue  # the package __init__ and __main__: the public face, above every stage
        for dep in deps:
            if dep == "pipelines":
                upward.append(f"{name} imports the package itself, whose __init__ imports every stage")
                continue
            dep_stage = _stage(dep)
            if dep_stage is not None and PIPELINES_LAYERS.index(dep_stage) > PIPELINES_LAYERS.index(stage):
                upward.append(f"{name} ({stage}) imports {dep} ({dep_stage})")
    assert upward == []


def test_every_stage_is_known() -> None:
    """A new module or subpackage of pipelines/ takes its place in the order above, or fails here."""
    found = {
        path.stem if path.suffix == ".py" else path.name
        for path in (REPO / "pipelines").iterdir()
        if path.suffix == ".py" or (path / "__init__.py").is_file()
    }
    assert found - {"__init__", "__main__"} == set(PIPELINES_LAYERS)


def test_the_checks_would_see_a_cycle_and_an_upward_import() -> None:
    assert find_cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]
    assert find_cycle({"a": {"b"}, "b": set()}) is None
    assert _stage("pipelines.common.describe") == "common" and _stage("pipelines") is None
    checked_only = ast.parse(
        "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    import a\nelse:\n    import b\n"
    )
    imported = {
        alias.name
        for node in _nodes_that_run(checked_only)
        if isinstance(node, ast.Import)
        for alias in node.names
    }
    assert imported == {"b"}


def _architecture_stages() -> list[str]:
    text = (REPO / "ARCHITECTURE.md").read_text(encoding="utf-8")
    rows = re.findall(r"^\| `([\w.]+?)(?:\.py|/)` \|", text, flags=re.MULTILINE)
    return rows


def test_architecture_md_lists_the_stages_in_the_order_tested_here() -> None:
    assert _architecture_stages() == PIPELINES_LAYERS


def test_every_module_architecture_md_names_exists() -> None:
    text = (REPO / "ARCHITECTURE.md").read_text(encoding="utf-8")
    named = set(re.findall(r"`((?:[\w]+/)*[\w]+\.py)`", text))
    missing = sorted(
        name
        for name in named
        if not any((base / name).is_file() for base in (REPO, REPO / "pipelines", *_stage_dirs()))
    )
    assert len(named) > 20 and missing == []


def _stage_dirs() -> list[Path]:
    # ARCHITECTURE.md names a module by its path below pipelines/, or, within a list of one
    # stage's modules, by its bare name.
    return [path for path in (REPO / "pipelines").iterdir() if (path / "__init__.py").is_file()]
