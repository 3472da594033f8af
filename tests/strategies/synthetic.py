"""Synthetic objectives for strategy tests: cheap, seeded functions of a cell's code.

They test search mechanics only; no benchmark table is involved.
"""

from __future__ import annotations

import numpy as np

from metanas.strategies.base import Strategy
from tabular_bench.spaces import CellSearchSpace

NB201_LIKE = CellSearchSpace("toy", ("a", "b", "c", "d", "e"), 6)
"""Same shape as NAS-Bench-201 (6 edges, 5 ops, 15,625 cells) without its semantics."""


def additive_table(space: CellSearchSpace, seed: int = 0) -> np.ndarray:
    """Objective of every key: a sum of per-edge op scores (unimodal under one-edge moves)."""
    scores = np.random.default_rng(seed).normal(size=(space.num_edges, space.num_ops))
    codes = space.all_codes()
    return scores[np.arange(space.num_edges), codes].sum(axis=1)


def run(strategy: Strategy, values: np.ndarray, steps: int) -> list[int]:
    """Sequential ask/tell for ``steps`` queries; returns the proposed keys."""
    keys = []
    for _ in range(steps):
        trial = strategy.ask()
        strategy.tell(trial, float(values[trial.key]))
        keys.append(trial.key)
    return keys
