"""MetaD2A's evaluation protocol applied to a meta-learned prior (Lee et al., ICLR 2021).

MetaD2A reports the best test accuracy among the 30 cells its predictor ranks highest
(10 runs, 95% confidence interval). A :class:`MetaPrior` ranks cells in two ways, both
without a single query of the held-out dataset: by the meta-learned predictor's zero-shot
score, and by the meta-learned policy's probability.
"""

from __future__ import annotations

import numpy as np
import torch

from metanas.priors.predictor import mlp
from metanas.priors.prior import MetaPrior
from tabular_bench.spaces import SearchSpace


def policy_log_probabilities(logits: np.ndarray, codes: np.ndarray) -> np.ndarray:
    """log pi(code) of each code under independent per-edge softmaxes of ``logits``."""
    shifted = logits - logits.max(axis=1, keepdims=True)
    log_probs = shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))
    return log_probs[np.arange(logits.shape[0]), codes].sum(axis=1)


def ranked_top_k(prior: MetaPrior, k: int, space: SearchSpace) -> dict[str, np.ndarray]:
    """Keys of the ``k`` architectures of ``space`` ranked highest by the policy and by the
    predictor (any space: its codes come from the space, not from the logits' shape)."""
    if prior.predictor is None or prior.features is None:
        raise ValueError("ranking needs a prior with a meta-trained predictor and features")
    codes = space.all_codes()
    with torch.no_grad():
        scores = mlp(prior.predictor, torch.as_tensor(prior.features)).numpy()
    log_probs = policy_log_probabilities(prior.logits, codes)
    # Stable sorts: ties keep key order, so a ranking is reproducible.
    return {
        "policy": np.argsort(-log_probs, kind="stable")[:k],
        "predictor": np.argsort(-scores, kind="stable")[:k],
    }
