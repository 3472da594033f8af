"""Seeds derived from what a run *is*, never from when or where it runs.

A run is identified by (base seed, protocol, dataset, strategy, run index); its seeds come
from a ``numpy.random.SeedSequence`` over those, so results do not depend on ``n_jobs``,
shard size, ordering or which machine ran which shard.
"""

from __future__ import annotations

import hashlib

import numpy as np


def _stable_int(text: str) -> int:
    """A process-independent 64-bit integer for a name (``hash()`` is salted per process)."""
    return int.from_bytes(hashlib.sha256(text.encode()).digest()[:8], "little")


def run_seeds(
    base_seed: int, protocol: str, dataset: str, strategy: str, run: int
) -> tuple[int, np.random.Generator]:
    """Return (strategy seed, generator for the runner's own draws) of one run."""
    entropy = [base_seed, _stable_int(protocol), _stable_int(dataset), _stable_int(strategy), run]
    strategy_ss, runner_ss = np.random.SeedSequence(entropy).spawn(2)
    return int(strategy_ss.generate_state(1)[0]), np.random.default_rng(runner_ss)
