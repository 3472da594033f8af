"""MetaD2A's top-k ranking covers exactly the searched space, whatever its shape."""

from __future__ import annotations

import numpy as np
import torch

from metanas.priors.metad2a import ranked_top_k
from metanas.priors.prior import MetaPrior
from tabular_bench.spaces.transnas import TransNASMacroSpace


def test_ranking_on_a_subset_space_returns_its_best_keys() -> None:
    """The macro space holds 3,256 of the 4**6 six-slot codes: enumerating num_ops**num_edges
    codes (the old ranking) returns keys past the space's end."""
    space = TransNASMacroSpace()
    codes = space.all_codes()
    rng = np.random.default_rng(0)
    logits = rng.normal(size=(codes.shape[1], int(codes.max()) + 1))
    features = rng.normal(size=(space.size, 3)).astype(np.float32)
    weights = np.array([[1.0], [0.0], [0.0]], dtype=np.float32)
    predictor = {"w0": torch.tensor(weights), "b0": torch.zeros(1)}
    prior = MetaPrior(logits=logits, predictor=predictor, features=features)

    ranked = ranked_top_k(prior, 30, space)

    log_probs = np.array([logits[np.arange(codes.shape[1]), c].sum() for c in codes])
    assert set(ranked["policy"]) == set(np.argsort(-log_probs)[:30])
    assert set(ranked["predictor"]) == set(np.argsort(-features[:, 0])[:30])
    assert all(0 <= k < space.size for keys in ranked.values() for k in keys)
