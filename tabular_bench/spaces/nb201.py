"""The NAS-Bench-201 / NATS-Bench topology search space (Dong & Yang, ICLR 2020).

A cell is a DAG on four nodes; each of the six edges ``j <- i`` (``i < j``) applies one of
five operations and node ``j`` sums its inputs. Codes follow the official conventions, so a
code is exactly the ``code`` column of the shared table:

* operations, in order: ``none, skip_connect, nor_conv_1x1, nor_conv_3x3, avg_pool_3x3``;
* edges, in order: ``1<-0, 2<-0, 2<-1, 3<-0, 3<-1, 3<-2``;
* string: ``|op~0|+|op~0|op~1|+|op~0|op~1|op~2|`` (node by node, ``op~i`` = edge from node i);
* official index: NAS-Bench-201's ``generate_meta_info`` lists every cell in key order
  (``Structure.gen_all``) and shuffles the list with Python's ``random.seed(88)``; a
  cell's index is its position after the shuffle (:meth:`NB201Space.official_index`).

Two isomorphism rules are offered (see :meth:`NB201Space.canonical_keys`): the official one,
which reproduces the paper's 6,466 unique topologies, and a stricter functional one.
"""

from __future__ import annotations

import random
import re
from collections.abc import Hashable, Iterable
from dataclasses import dataclass, field
from functools import cached_property
from typing import Literal

import numpy as np

from tabular_bench.spaces.cell import CellSearchSpace

OP_NAMES = ("none", "skip_connect", "nor_conv_1x1", "nor_conv_3x3", "avg_pool_3x3")
EDGES = ((1, 0), (2, 0), (2, 1), (3, 0), (3, 1), (3, 2))
"""``(to, from)`` of each edge, in code order."""

NASLIB_OP_NAMES = ("skip_connect", "none", "nor_conv_3x3", "nor_conv_1x1", "avg_pool_3x3")
NASLIB_EDGES = ((1, 0), (2, 0), (3, 0), (2, 1), (3, 1), (3, 2))
"""NASLib's op and edge orders (e.g. the ``arch`` tuples of ``naslib_zc_nasbench201.json``)."""

NONE, SKIP = 0, 1
_STRING_TEMPLATE = "|{}~0|+|{}~0|{}~1|+|{}~0|{}~1|{}~2|"
"""The official string with one ``{}`` per edge, in code order."""
_STRING_FORMAT = _STRING_TEMPLATE.replace("{}", "op")
_STRING_RE = re.compile(re.escape(_STRING_TEMPLATE).replace(r"\{\}", r"(\w+)"))
_SHUFFLE_SEED = 88
"""``random.seed`` of NAS-Bench-201's ``generate_meta_info``, which fixes the official order."""
# Input -> output paths as edge indices (BANANAS-style path encoding, White et al. 2021).
_PATHS = ((3,), (0, 4), (1, 5), (0, 2, 5))

IsomorphismRule = Literal["nb201", "function"]


@dataclass(frozen=True)
class NB201Space(CellSearchSpace):
    """All 15,625 NAS-Bench-201 cells, with the official string and isomorphism classes."""

    name: str = "nb201"
    op_names: tuple[str, ...] = OP_NAMES
    num_edges: int = len(EDGES)
    edges: tuple[tuple[int, int], ...] | None = field(default=EDGES, repr=False)
    zero_op: int | None = field(default=NONE, repr=False)

    @property
    def op_cost_order(self) -> tuple[int, ...]:
        """none, skip_connect, avg_pool_3x3 (no parameters), nor_conv_1x1, nor_conv_3x3."""
        return (0, 1, 4, 2, 3)

    # -- official strings -----------------------------------------------------------
    def to_string(self, code: np.ndarray | tuple[int, ...]) -> str:
        """Official architecture string of one code."""
        ops = [self.op_names[i] for i in self.validate_code(code)]
        return _STRING_TEMPLATE.format(*ops)

    def from_string(self, arch: str) -> np.ndarray:
        """Code of an official architecture string; ``ValueError`` names the format."""
        match = _STRING_RE.fullmatch(arch.strip()) if isinstance(arch, str) else None
        if match is None:
            raise ValueError(
                f"invalid NAS-Bench-201 architecture string {arch!r}: expected "
                f"{_STRING_FORMAT} with each op one of {', '.join(self.op_names)}"
            )
        unknown = [op for op in match.groups() if op not in self.op_names]
        if unknown:
            raise ValueError(
                f"unknown operation(s) {unknown} in {arch!r}: ops are "
                f"{', '.join(self.op_names)} (format {_STRING_FORMAT})"
            )
        return np.array([self.op_names.index(op) for op in match.groups()], dtype=np.int64)

    def strings(self, keys: np.ndarray) -> list[str]:
        """Official strings of many keys."""
        table = self._all_strings
        return [table[k] for k in np.atleast_1d(self.validate_keys(keys)).tolist()]

    def keys_from_strings(self, archs: list[str]) -> np.ndarray:
        """Keys of many official strings (each validated)."""
        lookup = self._key_of_string
        out = np.empty(len(archs), dtype=np.int64)
        for i, arch in enumerate(archs):
            key = lookup.get(arch)
            out[i] = key if key is not None else self.key(self.from_string(arch))
        return out

    @cached_property
    def _all_strings(self) -> tuple[str, ...]:
        names = np.asarray(self.op_names)[self.all_codes()]
        return tuple(_STRING_TEMPLATE.format(*row) for row in names)

    @cached_property
    def _key_of_string(self) -> dict[str, int]:
        return {s: k for k, s in enumerate(self._all_strings)}

    # -- official index and other conventions -------------------------------------------
    def official_index(self, keys: np.ndarray | int) -> np.ndarray:
        """NAS-Bench-201 / NATS-Bench index of each key (int64, same shape as ``keys``)."""
        return self._official_index_of_key[self.validate_keys(keys)]

    @cached_property
    def _official_index_of_key(self) -> np.ndarray:
        order = list(range(self.size))  # gen_all's order is key order
        random.Random(_SHUFFLE_SEED).shuffle(order)
        index = np.empty(self.size, dtype=np.int64)
        index[order] = np.arange(self.size)
        return index

    def from_naslib(self, archs: np.ndarray) -> np.ndarray:
        """Codes ``(n, 6)`` of cells written in NASLib's convention (:data:`NASLIB_OP_NAMES`,
        :data:`NASLIB_EDGES`), e.g. the ``arch`` tuples of NASLib's zero-cost data."""
        archs = np.atleast_2d(np.asarray(archs))
        op_of_naslib = np.array([self.op_names.index(op) for op in NASLIB_OP_NAMES])
        if archs.shape[1:] != (len(NASLIB_EDGES),) or archs.dtype.kind not in "iu" or (
            archs.size and (archs.min() < 0 or archs.max() >= len(NASLIB_OP_NAMES))
        ):
            raise ValueError(
                f"NASLib cells are (n, {len(NASLIB_EDGES)}) op indices into "
                f"{NASLIB_OP_NAMES}, got shape {archs.shape} dtype {archs.dtype}"
            )
        return op_of_naslib[archs[:, [NASLIB_EDGES.index(edge) for edge in EDGES]]]

    # -- isomorphism ------------------------------------------------------------------
    def canonical_keys(
        self, keys: np.ndarray | None = None, *, rule: IsomorphismRule = "nb201"
    ) -> np.ndarray:
        """Smallest key of each cell's isomorphism class (all cells when ``keys`` is None).

        :param rule: ``"nb201"`` is the paper's rule (``Structure.to_unique_str`` with
            ``consider_zero=True`` in NATS-Bench): ``none`` and edges from a zero node give
            zero, ``skip_connect`` is the identity, each node's inputs are an unordered
            sum, so symmetric intermediate nodes and dead edges collapse; it yields the
            paper's 6,466 classes. Its sums keep zero terms and concatenate sub-sums as
            text, so a few equal functions stay apart. ``"function"`` compares the
            computed function exactly (zero terms dropped, skip sums flattened into
            multisets, any op of a zero input is zero): 4,930 classes.
        """
        table = self._canonical_table(rule)
        if keys is None:
            return table.copy()
        return table[self.validate_keys(keys)]

    def num_isomorphism_classes(self, rule: IsomorphismRule = "nb201") -> int:
        """Number of distinct cells under ``rule``."""
        return int(np.unique(self._canonical_table(rule)).size)

    def _canonical_table(self, rule: IsomorphismRule) -> np.ndarray:
        if rule == "nb201":
            return self._nb201_classes
        if rule == "function":
            return self._function_classes
        raise ValueError(f"unknown isomorphism rule {rule!r}; use 'nb201' or 'function'")

    @cached_property
    def _nb201_classes(self) -> np.ndarray:
        return _smallest_key_per_class(map(_nb201_unique_str, self.all_codes().tolist()))

    @cached_property
    def _function_classes(self) -> np.ndarray:
        return _smallest_key_per_class(map(_function_form, self.all_codes().tolist()))

    # -- encodings for predictors -----------------------------------------------------
    def features(self, codes: np.ndarray) -> np.ndarray:
        """One-hot and path encodings side by side (``num_edges * num_ops`` + paths)."""
        codes = np.atleast_2d(np.asarray(codes, dtype=np.int64))
        return np.hstack([self.one_hot(codes), self.path_encoding(codes)])

    @property
    def path_encoding_size(self) -> int:
        """Number of possible op sequences on input-to-output paths (none excluded)."""
        k = self.num_ops - 1
        return k + k**2 + k**3

    def path_encoding(self, codes: np.ndarray) -> np.ndarray:
        """Binary path encoding (BANANAS, White et al. 2021), ``(n, 84)`` float32.

        One feature per sequence of non-``none`` ops along an input-to-output path
        (4 + 16 + 64 sequences for paths of length 1, 2, 3); a path through ``none``
        carries nothing and sets no feature.
        """
        codes = np.atleast_2d(np.asarray(codes, dtype=np.int64))
        out = np.zeros((codes.shape[0], self.path_encoding_size), dtype=np.float32)
        k = self.num_ops - 1
        rows = np.arange(codes.shape[0])
        offsets = {1: 0, 2: k, 3: k + k**2}
        for path in _PATHS:
            ops = codes[:, list(path)]
            alive = (ops != NONE).all(axis=1)
            digits = ops - 1  # none excluded: ops 1..4 -> 0..3
            index = offsets[len(path)] + digits @ (k ** np.arange(len(path) - 1, -1, -1))
            out[rows[alive], index[alive]] = 1.0
        return out


def _smallest_key_per_class(forms: Iterable[Hashable]) -> np.ndarray:
    first: dict[object, int] = {}
    return np.array([first.setdefault(form, key) for key, form in enumerate(forms)])


def _nb201_unique_str(code: list[int]) -> str:
    """The paper's isomorphism string of one cell (see :meth:`NB201Space.canonical_keys`)."""
    nodes = ["0"]
    for node in (1, 2, 3):
        terms = []
        for edge, (to, src) in enumerate(EDGES):
            if to != node:
                continue
            op = code[edge]
            if op == NONE or nodes[src] == "#":
                terms.append("#")
            elif op == SKIP:
                terms.append(nodes[src])
            else:
                terms.append(f"({nodes[src]})@{OP_NAMES[op]}")
        nodes.append("+".join(sorted(terms)))
    return nodes[3]


def _function_form(code: list[int]) -> tuple:
    """The output of one cell as a nested multiset of op applications (exact function)."""
    nodes: list[tuple] = [("x",)]
    for node in (1, 2, 3):
        terms: list = []
        for edge, (to, src) in enumerate(EDGES):
            if to != node or code[edge] == NONE or not nodes[src]:
                continue
            op, value = code[edge], nodes[src]
            if op == SKIP:
                terms.extend(value)
            else:
                terms.append((op, value))
        nodes.append(tuple(sorted(terms, key=repr)))
    return nodes[3]


NB201 = NB201Space()
"""The space as a ready-made singleton."""
