"""The cell DAG lives in the space: NB201's and TransNAS micro's edges, refusals, and no
module outside ``tabular_bench/spaces`` reading NB201's op or edge constants."""

from __future__ import annotations

import ast
from pathlib import Path

import numpy as np
import pytest

from tabular_bench.spaces import NB201, TRANSNAS_MICRO, CellSearchSpace

ROOT = Path(__file__).resolve().parents[2]
NB201_INTERNALS = {"OP_NAMES", "EDGES", "NONE", "SKIP", "NASLIB_OP_NAMES", "NASLIB_EDGES"}


def test_nb201_and_micro_share_the_four_node_dag_with_their_own_ops() -> None:
    edges = ((1, 0), (2, 0), (2, 1), (3, 0), (3, 1), (3, 2))
    for space in (NB201, TRANSNAS_MICRO):
        assert space.cell_edges == edges and space.num_nodes == 4
        assert space.op_names[space.zero_op] == "none"
    assert TRANSNAS_MICRO.num_ops == 4 and NB201.num_ops == 5


def test_micro_edge_order_is_the_official_string_order() -> None:
    """``64-41414-a_bc_def``: group ``g`` feeds node ``g + 1``, digit ``i`` comes from node
    ``i`` (TransNAS-Bench-101's ``MicroCell``), so each position's digit sits at its edge."""
    for position, (to, src) in enumerate(TRANSNAS_MICRO.cell_edges):
        code = np.zeros(6, dtype=np.int64)
        code[position] = 3
        groups = TRANSNAS_MICRO.to_string(code).removeprefix("64-41414-").split("_")
        assert [len(g) for g in groups] == [1, 2, 3]
        assert groups[to - 1][src] == "3" and "".join(groups).count("3") == 1


def test_a_space_without_dag_says_so_and_bad_dags_are_refused() -> None:
    flat = CellSearchSpace("flat", ("a", "b"), 3)
    with pytest.raises(ValueError, match="'flat' has no cell DAG"):
        flat.cell_edges  # noqa: B018
    with pytest.raises(ValueError, match="0 <= from < to"):
        CellSearchSpace("loop", ("a", "b"), 2, edges=((1, 0), (1, 1)))
    with pytest.raises(ValueError, match="2 pairs"):
        CellSearchSpace("short", ("a", "b"), 2, edges=((1, 0),))
    with pytest.raises(ValueError, match="zero_op"):
        CellSearchSpace("z", ("a", "b"), 1, edges=((1, 0),), zero_op=2)
    assert repr(NB201).endswith("num_edges=6)")  # settings fingerprints keep their repr


def _nb201_constant_imports(path: Path) -> set[str]:
    names = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.ImportFrom) and node.module == "tabular_bench.spaces.nb201":
            names |= {alias.name for alias in node.names} & NB201_INTERNALS
        elif isinstance(node, ast.Attribute) and node.attr in NB201_INTERNALS and isinstance(
            node.value, ast.Name) and node.value.id == "nb201":
            names.add(node.attr)
    return names


def test_no_module_outside_the_spaces_reads_nb201_op_or_edge_constants() -> None:
    spaces = ROOT / "tabular_bench" / "spaces"
    sources = [
        p for package in ("metanas", "tabular_bench", "tasks", "common_io", "scripts")
        for p in (ROOT / package).rglob("*.py") if spaces not in p.parents
    ]
    assert len(sources) > 50
    offenders = {str(p.relative_to(ROOT)): n for p in sources if (n := _nb201_constant_imports(p))}
    assert not offenders, f"read the cell through the space (op_names, cell_edges): {offenders}"
