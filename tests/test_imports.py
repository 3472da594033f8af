"""The import graph between packages has no cycle and no upward import.

Packages are layered: a package imports only from layers below its own (or its own
layer's other packages, without a cycle). The graph is read from the source (``ast``),
every ``import`` counted, including those inside functions: a lazy import is still a
dependency. Nodes are the top-level packages' own modules (``tabular_bench``) and their
direct subpackages (``tabular_bench.builder``).
"""

from __future__ import annotations

import ast
from collections import defaultdict
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
ROOTS = ("metanas", "tabular_bench", "tasks", "common_io")

LAYERS: tuple[tuple[str, ...], ...] = (
    ("metanas",),  # the entry point (run.py)
    ("metanas.report",),  # reads the outputs of every job kind
    ("metanas.priors", "metanas.supernet"),
    ("metanas.runner", "metanas.meta"),
    ("metanas.stats", "metanas.strategies"),
    ("metanas.jobs",),
    ("tabular_bench.builder",),  # trains tables; its CLI also loads them
    ("tabular_bench.loaders",),  # the table-loading facade over importers and surrogate
    ("tabular_bench.importers", "tabular_bench.surrogate"),
    ("tabular_bench",),
    ("tabular_bench.models",),
    ("tabular_bench.spaces",),
    ("tasks",),
    ("common_io",),  # atomic writes and the data directory: used by every package
)
"""Top to bottom."""



def node_of(module: str) -> str:
    """The graph node of a dotted module name (see the module docstring)."""
    parts = module.split(".")
    if len(parts) >= 2 and (REPO / parts[0] / parts[1]).is_dir():
        return ".".join(parts[:2])
    return parts[0]


def imported_modules(tree: ast.AST) -> list[str]:
    """Absolute module names imported anywhere in ``tree`` (``from a import b`` gives
    ``a.b`` when ``b`` is a module or package, else ``a``)."""
    out = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            out += [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            for alias in node.names:
                target = REPO.joinpath(*node.module.split("."), alias.name)
                sub = target.is_dir() or target.with_suffix(".py").is_file()
                out.append(f"{node.module}.{alias.name}" if sub else node.module)
    return out


def import_graph() -> dict[str, dict[str, list[str]]]:
    """``{node: {imported node: [files importing it]}}`` over the project's packages."""
    graph: dict[str, dict[str, list[str]]] = defaultdict(lambda: defaultdict(list))
    for root in ROOTS:
        for path in sorted((REPO / root).rglob("*.py")):
            relative = path.relative_to(REPO)
            source = node_of(".".join(relative.with_suffix("").parts))
            for module in imported_modules(ast.parse(path.read_text(), str(path))):
                if module.split(".")[0] in ROOTS and (target := node_of(module)) != source:
                    graph[source][target].append(str(relative))
    return graph


def layer_of(node: str) -> int:
    for i, layer in enumerate(LAYERS):
        if node in layer:
            return i
    raise AssertionError(f"package {node} is in no layer of tests/test_imports.py: add it")


def upward_imports(graph: dict[str, dict[str, list[str]]]) -> set[tuple[str, str]]:
    return {(s, t) for s, targets in graph.items() for t in targets if layer_of(t) < layer_of(s)}


def cycles(graph: dict[str, dict[str, list[str]]]) -> list[list[str]]:
    """One cycle through each node that lies on one (depth-first search)."""
    found, state = [], {}

    def visit(node: str, path: list[str]) -> None:
        state[node] = "open"
        for target in sorted(graph.get(node, {})):
            if state.get(target) == "open":
                found.append([*path[path.index(target) :], target])
            elif target not in state:
                visit(target, [*path, target])
        state[node] = "done"

    for node in sorted(graph):
        if node not in state:
            visit(node, [node])
    return found


def describe(graph: dict[str, dict[str, list[str]]], pairs: set[tuple[str, str]]) -> str:
    return "\n".join(
        f"{s} -> {t} ({', '.join(sorted(set(graph[s][t])))})" for s, t in sorted(pairs)
    )


def test_every_package_has_a_layer():
    graph = import_graph()
    for node in {*graph, *(t for targets in graph.values() for t in targets)}:
        layer_of(node)


def test_no_package_cycle_and_no_upward_import():
    graph = import_graph()
    assert not cycles(graph), cycles(graph)
    assert not upward_imports(graph), describe(graph, upward_imports(graph))


def test_the_checks_see_a_cycle_and_an_upward_import():
    """The checks themselves: a two-package cycle is found, and its upward edge."""
    graph = {"tasks": {"metanas.jobs": ["tasks/x.py"]}, "metanas.jobs": {"tasks": ["y.py"]}}
    assert cycles(graph) == [["metanas.jobs", "tasks", "metanas.jobs"]]
    assert upward_imports(graph) == {("tasks", "metanas.jobs")}
