"""A cell search space: every edge of a fixed DAG picks one of a few operations.

Architectures travel through the project in two forms:

* a *code*: ``np.ndarray`` of ``num_edges`` small ints, one operation index per edge;
* a *key*: the code read as a mixed-radix integer (``0 <= key < size``), so a whole
  space indexes a flat array and history look-ups are integer compares.

Strategies work on codes and keys only; they never see a benchmark table.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np


@dataclass(frozen=True)
class CellSearchSpace:
    """Product space ``ops ** edges``; subclasses add naming and graph semantics."""

    name: str
    op_names: tuple[str, ...]
    num_edges: int
    _radix: np.ndarray = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        powers = self.num_ops ** np.arange(self.num_edges - 1, -1, -1, dtype=np.int64)
        object.__setattr__(self, "_radix", powers)

    @property
    def num_ops(self) -> int:
        return len(self.op_names)

    @property
    def size(self) -> int:
        return self.num_ops**self.num_edges

    # -- code <-> key ---------------------------------------------------------------
    def key(self, code: np.ndarray | tuple[int, ...]) -> int:
        """Mixed-radix key of one code (validated: ``ValueError`` for a bad code)."""
        return int(np.dot(self.validate_code(code), self._radix))

    def keys(self, codes: np.ndarray) -> np.ndarray:
        """Vectorised :meth:`key` for codes shaped ``(n, num_edges)``."""
        return self._validate_codes(codes, lambda: f"{self.name} codes") @ self._radix

    def code(self, key: int) -> np.ndarray:
        """Code of one key."""
        return self.codes(np.asarray([key]))[0]

    def codes(self, keys: np.ndarray) -> np.ndarray:
        """Vectorised :meth:`code`; returns ``(n, num_edges)`` int64."""
        keys = self.validate_keys(keys)
        return (keys[:, None] // self._radix[None, :]) % self.num_ops

    def validate_keys(self, keys: np.ndarray | int) -> np.ndarray:
        """``keys`` as an int64 array of the same shape, or a ``ValueError`` naming the fix.

        Keys are whole numbers in ``[0, size)``; float keys are refused rather than
        truncated (a float key is a bug upstream, e.g. a NaN-filled or averaged array).
        """
        arr = np.asarray(keys)
        if arr.size == 0:
            return arr.astype(np.int64)
        if arr.dtype.kind not in "iu":
            raise ValueError(
                f"architecture keys are integers, got dtype {arr.dtype} ({arr.ravel()[:5]}): "
                f"pass integer keys, e.g. space.keys(codes)"
            )
        arr = arr.astype(np.int64)
        bad = (arr < 0) | (arr >= self.size)
        if bad.any():
            raise ValueError(
                f"architecture keys lie in [0, {self.size}) for space {self.name!r}, "
                f"got {arr[bad][:5].tolist()}"
            )
        return arr

    def all_codes(self) -> np.ndarray:
        """Every code of the space in key order."""
        return self.codes(np.arange(self.size))

    def validate_code(self, code: np.ndarray | tuple[int, ...]) -> np.ndarray:
        """Return ``code`` as an int64 array or raise a ``ValueError`` that names the fix."""
        arr = np.asarray(code)
        if arr.shape != (self.num_edges,):
            raise ValueError(
                f"a {self.name} code has {self.num_edges} integer op indices, got {code!r}"
            )
        return self._validate_codes(arr, lambda: f"code {code!r}")

    def official_index(self, keys: np.ndarray | int) -> np.ndarray:
        """Index of each key in the space's published order (int64, same shape).

        A space without a published order numbers its cells by key, so the key is the
        index; :class:`~tabular_bench.spaces.NB201Space` overrides this with NB201's order.
        """
        return self.validate_keys(keys)

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

    # -- encodings for predictors ---------------------------------------------------
    def one_hot(self, codes: np.ndarray) -> np.ndarray:
        """One-hot encoding, ``(n, num_edges * num_ops)`` float32."""
        codes = np.atleast_2d(np.asarray(codes, dtype=np.int64))
        out = np.zeros((codes.shape[0], self.num_edges, self.num_ops), dtype=np.float32)
        np.put_along_axis(out, codes[:, :, None], 1.0, axis=2)
        return out.reshape(codes.shape[0], -1)
