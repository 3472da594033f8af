"""The meta-learned prior that meta-training hands to a held-out search."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from metanas.priors.predictor import Params


@dataclass(frozen=True)
class MetaPrior:
    """What meta-training hands to the held-out search.

    :param logits: per-edge operation logits ``(num_edges, num_ops)`` (REINFORCE, evolution).
    :param predictor: meta-learned predictor initialisation (the BO loop); may be absent
        for policy-only priors such as the inner learners of meta-training.
    :param features: encoding of every cell in key order, the predictor's input.
    """

    logits: np.ndarray
    predictor: Params | None = None
    features: np.ndarray | None = None
    training_tasks: tuple[str, ...] = field(default_factory=tuple)
