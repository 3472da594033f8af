"""A space made of some members of another: valid macro networks, or a table's measured ones.

Keys number the members ``0 .. size-1`` in the parent's key order. Moves stay inside the
subset: a neighbour is a member that differs from the code in one position, and
:meth:`SubsetSpace.nearest` maps any code to the member that differs in the fewest
positions (the smallest key on ties, so a sampler's parameters map to one member).
"""

from __future__ import annotations

import numpy as np

from tabular_bench.spaces.base import SearchSpace


class SubsetSpace(SearchSpace):
    """The members ``parent_keys`` of ``parent``.

    :param name: this space's name.
    :param family: name of the space whose codes tables of this space store (default:
        the parent's), which :class:`~tabular_bench.tabular.TabularBenchmark` checks.
    """

    def __init__(
        self, parent: SearchSpace, parent_keys: np.ndarray, *, name: str, family: str | None = None
    ) -> None:
        keys = np.unique(parent.validate_keys(np.asarray(parent_keys)))
        if keys.size == 0:
            raise ValueError(f"space {name!r} needs at least one member of {parent.name!r}")
        self.parent = parent
        self.parent_keys = keys
        self.name = name
        self._family = family or parent.family
        self.op_names = parent.op_names
        self.num_edges = parent.num_edges
        self.members = parent.codes(keys)
        self.members.flags.writeable = False
        self._key_of = {tuple(c): k for k, c in enumerate(self.members.tolist())}

    def __repr__(self) -> str:
        return f"SubsetSpace({self.name!r}, {self.size} of {self.parent.name!r})"

    @property
    def family(self) -> str:
        return self._family

    @property
    def size(self) -> int:
        return int(self.parent_keys.size)

    @property
    def op_cost_order(self) -> tuple[int, ...]:
        return self.parent.op_cost_order

    @property
    def op_costs(self) -> tuple[float, ...] | None:
        """The parent's declared per-choice costs (``None`` where it declares none, so a
        hand prior reads the op names), e.g. for TransNAS macro's block kinds."""
        return getattr(self.parent, "op_costs", None)

    # -- code <-> key -------------------------------------------------------------------
    def key_of(self, code: tuple[int, ...]) -> int | None:
        return self._key_of.get(code)

    def keys(self, codes: np.ndarray) -> np.ndarray:
        codes = np.atleast_2d(np.asarray(codes))
        if codes.ndim != 2 or codes.shape[1] != self.num_edges or (
            codes.size and codes.dtype.kind not in "iu"
        ):
            raise ValueError(
                f"{self.name} codes are (n, {self.num_edges}) integers, got shape "
                f"{codes.shape} dtype {codes.dtype}"
            )
        out = np.fromiter(
            (self._key_of.get(c, -1) for c in map(tuple, codes.tolist())), np.int64, len(codes)
        )
        if (out < 0).any():
            bad = codes[out < 0][:3].tolist()
            raise ValueError(
                f"codes {bad} are not members of space {self.name!r} ({self.size} of "
                f"{self.parent.name!r}); map a code into it with space.nearest(code)"
            )
        return out

    def codes(self, keys: np.ndarray) -> np.ndarray:
        return self.members[self.validate_keys(np.atleast_1d(keys))].astype(np.int64)

    def official_index(self, keys: np.ndarray | int) -> np.ndarray:
        """The parent's official index of each member."""
        return self.parent.official_index(self.parent_keys[self.validate_keys(keys)])

    def to_string(self, code: np.ndarray | tuple[int, ...]) -> str:
        return self.parent.to_string(code)

    def from_string(self, arch: str) -> np.ndarray:
        return self.parent.from_string(arch)

    # -- sampling and neighbourhoods ----------------------------------------------------
    def random_codes(self, rng: np.random.Generator, n: int = 1) -> np.ndarray:
        return self.members[rng.integers(0, self.size, size=n)].astype(np.int64)

    def neighbours(self, code: np.ndarray) -> np.ndarray:
        """Members that differ from ``code`` in exactly one position."""
        diff = (self.members != np.asarray(code)[None, :]).sum(axis=1)
        return self.members[diff == 1].astype(np.int64)

    def mutate(self, code: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        """A uniform neighbour; a uniform other member where ``code`` has no neighbour."""
        neighbours = self.neighbours(code)
        if len(neighbours):
            return neighbours[int(rng.integers(len(neighbours)))]
        others = np.flatnonzero((self.members != np.asarray(code)[None, :]).any(axis=1))
        if others.size == 0:
            return np.array(code, dtype=np.int64, copy=True)
        return self.members[others[int(rng.integers(others.size))]].astype(np.int64)

    def nearest(self, code: tuple[int, ...]) -> np.ndarray:
        diff = (self.members != np.asarray(code)[None, :]).sum(axis=1)
        return self.members[int(diff.argmin())].astype(np.int64)

    # -- encodings ----------------------------------------------------------------------
    def features(self, codes: np.ndarray) -> np.ndarray:
        return self.parent.features(codes)
