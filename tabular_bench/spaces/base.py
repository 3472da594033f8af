"""What every search space offers: keys, codes, official strings, moves and encodings.

An architecture travels through the project in two forms:

* a *code*: ``np.ndarray`` of ``num_edges`` small ints, each in ``[0, num_ops)``: one
  choice per position (an operation per cell edge, a block kind per macro slot);
* a *key*: an integer in ``[0, size)`` that indexes a flat array over the whole space.

Strategies, predictors and priors reach a space only through this interface, so none of
them assumes a number of operations, edges or any operation's name. Not every code need
be in the space (a macro network has its blocks first, a partial table only its measured
networks): :meth:`SearchSpace.key_of` answers ``None`` for those and
:meth:`SearchSpace.nearest` maps them to a member, which is how strategies that sample
positions independently (REINFORCE, Optuna's samplers) stay inside any space.
"""

from __future__ import annotations

from abc import ABC, abstractmethod

import numpy as np


class SearchSpace(ABC):
    """A finite set of architectures written as fixed-length codes."""

    name: str
    """Registry name (:data:`tabular_bench.spaces.SPACES`); tables store it."""
    op_names: tuple[str, ...]
    """Name of each choice a position can take."""
    num_edges: int
    """Positions per code (cell edges, macro block slots)."""

    @property
    def num_ops(self) -> int:
        """Choices per position."""
        return len(self.op_names)

    @property
    def family(self) -> str:
        """Name of the space whose codes a table of this space stores (itself, or the
        space a subset was cut from)."""
        return self.name

    @property
    @abstractmethod
    def size(self) -> int:
        """Number of architectures."""

    @property
    @abstractmethod
    def op_cost_order(self) -> tuple[int, ...]:
        """Choices from cheapest to most expensive (parameters), e.g. for a hand prior."""

    # -- code <-> key -------------------------------------------------------------------
    @abstractmethod
    def key_of(self, code: tuple[int, ...]) -> int | None:
        """Key of a code given as a tuple of ints, ``None`` when it is not in the space.

        The hot path of every ask: no validation beyond membership.
        """

    @abstractmethod
    def keys(self, codes: np.ndarray) -> np.ndarray:
        """Keys of codes ``(n, num_edges)``; ``ValueError`` for a code outside the space."""

    @abstractmethod
    def codes(self, keys: np.ndarray) -> np.ndarray:
        """Codes ``(n, num_edges)`` int64 of keys."""

    def key(self, code: np.ndarray | tuple[int, ...]) -> int:
        """Key of one code (validated: ``ValueError`` for a bad code)."""
        return int(self.keys(self.validate_code(code)[None, :])[0])

    def code(self, key: int) -> np.ndarray:
        """Code of one key."""
        return self.codes(np.asarray([key]))[0]

    def all_codes(self) -> np.ndarray:
        """Every code of the space in key order."""
        return self.codes(np.arange(self.size))

    def validate_code(self, code: np.ndarray | tuple[int, ...]) -> np.ndarray:
        """``code`` as int64, or a ``ValueError`` that names the expected shape and range."""
        arr = np.asarray(code)
        if arr.shape != (self.num_edges,) or arr.dtype.kind not in "iu":
            raise ValueError(
                f"a {self.name} code has {self.num_edges} integer choices, got {code!r}"
            )
        arr = arr.astype(np.int64)
        if arr.min() < 0 or arr.max() >= self.num_ops:
            raise ValueError(
                f"choices of {self.name} lie in [0, {self.num_ops}) "
                f"({', '.join(self.op_names)}), got {code!r}"
            )
        return arr

    def validate_keys(self, keys: np.ndarray | int) -> np.ndarray:
        """``keys`` as an int64 array of the same shape, or a ``ValueError`` naming the fix.

        Float keys are refused rather than truncated (a float key is a bug upstream, e.g.
        a NaN-filled or averaged array).
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

    def official_index(self, keys: np.ndarray | int) -> np.ndarray:
        """Index of each key in the space's published order (the key where none exists)."""
        return self.validate_keys(keys)

    # -- official strings ---------------------------------------------------------------
    @abstractmethod
    def to_string(self, code: np.ndarray | tuple[int, ...]) -> str:
        """Official architecture string of one code."""

    @abstractmethod
    def from_string(self, arch: str) -> np.ndarray:
        """Code of an official string; ``ValueError`` names the format."""

    def strings(self, keys: np.ndarray) -> list[str]:
        """Official strings of many keys."""
        return [self.to_string(c) for c in self.codes(np.atleast_1d(keys))]

    def keys_from_strings(self, archs: list[str]) -> np.ndarray:
        """Keys of many official strings (each validated)."""
        if not archs:
            return np.zeros(0, dtype=np.int64)
        return self.keys(np.stack([self.from_string(a) for a in archs]))

    # -- sampling and neighbourhoods ----------------------------------------------------
    @abstractmethod
    def random_codes(self, rng: np.random.Generator, n: int = 1) -> np.ndarray:
        """``n`` members drawn uniformly; shape ``(n, num_edges)``."""

    @abstractmethod
    def neighbours(self, code: np.ndarray) -> np.ndarray:
        """Members one move away from ``code``, ``(m, num_edges)``."""

    @abstractmethod
    def mutate(self, code: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        """A random member one move away from ``code``."""

    @abstractmethod
    def nearest(self, code: tuple[int, ...]) -> np.ndarray:
        """The member closest to a code that may lie outside the space (deterministic, so
        a sampler's parameters map to one architecture)."""

    # -- encodings for predictors -------------------------------------------------------
    def one_hot(self, codes: np.ndarray) -> np.ndarray:
        """One-hot encoding, ``(n, num_edges * num_ops)`` float32."""
        codes = np.atleast_2d(np.asarray(codes, dtype=np.int64))
        out = np.zeros((codes.shape[0], self.num_edges, self.num_ops), dtype=np.float32)
        np.put_along_axis(out, codes[:, :, None], 1.0, axis=2)
        return out.reshape(codes.shape[0], -1)

    def features(self, codes: np.ndarray) -> np.ndarray:
        """Predictor features (default: one-hot); spaces add structure-aware encodings."""
        return self.one_hot(codes)

    def canonical_keys(self, keys: np.ndarray | None = None) -> np.ndarray:
        """Smallest key of each architecture's equivalence class (itself by default)."""
        return np.arange(self.size) if keys is None else self.validate_keys(keys)
