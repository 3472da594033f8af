"""A fixed hand prior over operations: no data, the same logits on every edge.

The control for a meta-learned operation prior: how far does plain NAS folklore ("bigger
convolutions first, never the zero op") get? Operations are ranked by their kind, read from
the space: a space may define ``op_costs`` (one number per operation, larger = preferred);
otherwise the names are parsed: convolutions by kernel area (3x3 > 1x1), then identity,
then pooling, then the zero op. On NAS-Bench-201 this gives conv3x3 > conv1x1 > skip >
pool > none. A name that matches no kind raises, naming the fix.
"""

from __future__ import annotations

import re
from typing import Any

import numpy as np

from metanas.priors.policy_strategies import PriorReinforce
from metanas.priors.prior import MetaPrior
from tabular_bench.spaces import CellSearchSpace

# Kind patterns in preference order below any convolution (whose score is its kernel area).
_KIND_SCORES = (
    (re.compile(r"skip|identity"), 0.5),
    (re.compile(r"pool"), 0.25),
    (re.compile(r"^(none|zero|zeros)$"), 0.0),
)
_CONV = re.compile(r"conv(?:.*?(\d+)x(\d+))?")  # no kernel size given: counted as 1x1


def op_costs(space: CellSearchSpace) -> np.ndarray:
    """One preference score per operation of ``space`` (larger = more capacity)."""
    declared = getattr(space, "op_costs", None)
    if declared is not None:
        costs = np.asarray(declared, dtype=np.float64)
        if costs.shape != (space.num_ops,):
            raise ValueError(f"{space.name}.op_costs needs {space.num_ops} values, got {costs}")
        return costs
    costs = []
    for name in space.op_names:
        conv = _CONV.search(name)
        if conv:
            rows, cols = conv.group(1) or 1, conv.group(2) or 1
            costs.append(1.0 + int(rows) * int(cols))
            continue
        score = next((s for pattern, s in _KIND_SCORES if pattern.search(name)), None)
        if score is None:
            raise ValueError(
                f"operation {name!r} of space {space.name!r} has no known kind (conv kxk, "
                "skip/identity, pool, none/zero): give the space an `op_costs` attribute"
            )
        costs.append(score)
    return np.asarray(costs)


def hand_logits(space: CellSearchSpace, strength: float = 1.0) -> np.ndarray:
    """``(num_edges, num_ops)``: ``strength`` x the rank of each op's cost (0 = cheapest)."""
    ranks = np.argsort(np.argsort(op_costs(space), kind="stable"), kind="stable")
    return np.tile(strength * ranks.astype(np.float64), (space.num_edges, 1))


class HandPriorReinforce(PriorReinforce):
    """NB201's REINFORCE started from the hand prior instead of near-uniform logits.

    The same learner as ``meta_reinforce``, only the initial logits differ, so the pair
    measures what meta-learning the logits adds over folklore.

    :param strength: logit gap between neighbouring ranks (1: conv3x3 drawn with p ~ 0.64
        per edge among five ops).
    """

    def __init__(
        self, space: CellSearchSpace, *, seed: int, strength: float = 1.0, **kwargs: Any
    ) -> None:
        prior = MetaPrior(logits=hand_logits(space, strength))
        super().__init__(space, seed=seed, prior=prior, **kwargs)
