"""A cell search space: every edge of a fixed DAG picks one of a few operations.

Every code is a member, and its key is the code read as a mixed-radix integer
(``0 <= key < size``), so a whole space indexes a flat array and history look-ups are
integer compares. Strategies work on codes and keys only; they never see a benchmark table.

A space that is a real cell also carries its DAG (:attr:`CellSearchSpace.cell_edges`,
:attr:`CellSearchSpace.num_nodes`) and its zero op, which is all a network needs to build
the cell; networks and supernets read them here, so none assumes NAS-Bench-201's shape.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from tabular_bench.spaces.base import SearchSpace


@dataclass(frozen=True)
class CellSearchSpace(SearchSpace):
    """Product space ``ops ** edges``; subclasses add naming and graph semantics.

    The generic string joins the op names with ``|``; named spaces override it.

    :param edges: ``(to, from)`` of each code position when the positions are the edges of
        a cell DAG (node 0 the input, the highest node the output, which sums its inputs);
        ``None`` for a plain product of choices, which no network can be built from.
    :param zero_op: index of the op that outputs zeros (an absent edge), if any.
    """

    name: str
    op_names: tuple[str, ...]
    num_edges: int
    edges: tuple[tuple[int, int], ...] | None = field(default=None, repr=False)
    zero_op: int | None = field(default=None, repr=False)
    _radix: np.ndarray = field(init=False, repr=False, compare=False)
    _radix_list: list[int] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        self._check_dag()
        powers = self.num_ops ** np.arange(self.num_edges - 1, -1, -1, dtype=np.int64)
        object.__setattr__(self, "_radix", powers)
        # Python ints: key_of runs once per ask, millions of times per reproduction.
        object.__setattr__(self, "_radix_list", powers.tolist())

    @property
    def num_ops(self) -> int:
        return len(self.op_names)

    @property
    def size(self) -> int:
        return self.num_ops**self.num_edges

    # -- the cell DAG -------------------------------------------------------------------
    @property
    def cell_edges(self) -> tuple[tuple[int, int], ...]:
        """``(to, from)`` of each code position; ``ValueError`` for a space with no DAG."""
        if self.edges is None:
            raise ValueError(
                f"space {self.name!r} has no cell DAG (its positions are plain choices), so "
                "no cell network can be built from it; give the space edges=((to, from), ...)"
            )
        return self.edges

    @property
    def num_nodes(self) -> int:
        """Nodes of the cell DAG, input (0) and output (``num_nodes - 1``) included."""
        return 1 + max(to for to, _ in self.cell_edges)

    def _check_dag(self) -> None:
        if self.zero_op is not None and not 0 <= self.zero_op < self.num_ops:
            raise ValueError(
                f"zero_op of {self.name} must index its ops {self.op_names}, got {self.zero_op}"
            )
        if self.edges is None:
            return
        targets = {to for to, _ in self.edges}
        if (
            len(self.edges) != self.num_edges
            or any(not 0 <= src < to for to, src in self.edges)
            or targets != set(range(1, len(targets) + 1))
        ):
            raise ValueError(
                f"edges of {self.name} are {self.num_edges} pairs (to, from) with "
                f"0 <= from < to and every node 1..n fed by some edge, got {self.edges}"
            )

    @property
    def op_cost_order(self) -> tuple[int, ...]:
        """Declared op order (a generic space knows no costs; named spaces override)."""
        return tuple(range(self.num_ops))

    def key_of(self, code: tuple[int, ...]) -> int | None:
        """Mixed-radix key; every in-range code is a member (callers pass valid choices)."""
        return sum(c * r for c, r in zip(code, self._radix_list, strict=True))

    def nearest(self, code: tuple[int, ...]) -> np.ndarray:
        """The code itself: every code is a member."""
        return self.validate_code(code)

    def to_string(self, code: np.ndarray | tuple[int, ...]) -> str:
        return "|".join(self.op_names[i] for i in self.validate_code(code))

    def from_string(self, arch: str) -> np.ndarray:
        parts = arch.split("|") if isinstance(arch, str) else []
        if len(parts) != self.num_edges or any(p not in self.op_names for p in parts):
            raise ValueError(
                f"a {self.name} string is {self.num_edges} op names joined by '|' "
                f"(ops {', '.join(self.op_names)}), got {arch!r}"
            )
        return np.array([self.op_names.index(p) for p in parts], dtype=np.int64)

    # -- code <-> key ---------------------------------------------------------------
    def key(self, code: np.ndarray | tuple[int, ...]) -> int:
        """Mixed-radix key of one code (validated: ``ValueError`` for a bad code)."""
        return int(np.dot(self.validate_code(code), self._radix))

    def keys(self, codes: np.ndarray) -> np.ndarray:
        """Vectorised :meth:`key` for codes shaped ``(n, num_edges)``."""
        return self._validate_codes(codes, lambda: f"{self.name} codes") @ self._radix

    def codes(self, keys: np.ndarray) -> np.ndarray:
        """Vectorised :meth:`code`; returns ``(n, num_edges)`` int64."""
        keys = self.validate_keys(keys)
        return (keys[:, None] // self._radix[None, :]) % self.num_ops

    def validate_code(self, code: np.ndarray | tuple[int, ...]) -> np.ndarray:
        """Return ``code`` as an int64 array or raise a ``ValueError`` that names the fix."""
        arr = np.asarray(code)
        if arr.shape != (self.num_edges,):
            raise ValueError(
                f"a {self.name} code has {self.num_edges} integer op indices, got {code!r}"
            )
        return self._validate_codes(arr, lambda: f"code {code!r}")

    def _validate_codes(self, codes: np.ndarray, what: Callable[[], str]) -> np.ndarray:
        """Codes as int64, or a ``ValueError``; ``what()`` names them, built only on error
        (a numpy repr costs ~60 µs, more than a whole ask of most strategies)."""
        arr = np.asarray(codes)
        if arr.ndim == 0 or arr.shape[-1] != self.num_edges or (
            arr.size and arr.dtype.kind not in "iu"
        ):
            raise ValueError(
                f"{what()}: a {self.name} code has {self.num_edges} integer op indices "
                f"(shape (..., {self.num_edges})), got shape {arr.shape} dtype {arr.dtype}"
            )
        arr = arr.astype(np.int64)
        if arr.size and (arr.min() < 0 or arr.max() >= self.num_ops):
            raise ValueError(
                f"{what()}: op indices of {self.name} lie in [0, {self.num_ops}) "
                f"({', '.join(self.op_names)})"
            )
        return arr

    # -- sampling and neighbourhoods -------------------------------------------------
    def random_codes(self, rng: np.random.Generator, n: int = 1) -> np.ndarray:
        """``n`` codes drawn uniformly; shape ``(n, num_edges)``."""
        return rng.integers(0, self.num_ops, size=(n, self.num_edges))

    def neighbours(self, code: np.ndarray) -> np.ndarray:
        """All codes at Hamming distance one, shape ``(num_edges * (num_ops - 1), E)``."""
        code = np.asarray(code, dtype=np.int64)
        out = np.repeat(code[None, :], self.num_edges * (self.num_ops - 1), axis=0)
        row = 0
        for edge in range(self.num_edges):
            for op in range(self.num_ops):
                if op != code[edge]:
                    out[row, edge] = op
                    row += 1
        return out

    def mutate(self, code: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        """One edge set to a different op; edge and new op drawn uniformly.

        NB201's REA picks a node first, then one of its edges; uniform edges treat all
        edges alike, which strategies document where it matters.
        """
        child = np.array(code, dtype=np.int64, copy=True)
        edge = int(rng.integers(self.num_edges))
        shift = int(rng.integers(1, self.num_ops))
        child[edge] = (child[edge] + shift) % self.num_ops
        return child

