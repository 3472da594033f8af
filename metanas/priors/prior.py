"""The meta-learned prior that meta-training hands to a held-out search, and its file."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch

from metanas.meta import checkpoint
from metanas.priors.predictor import Params


@dataclass(frozen=True)
class MetaPrior:
    """What meta-training hands to the held-out search.

    :param logits: per-edge operation logits ``(num_edges, num_ops)`` (REINFORCE, evolution).
    :param predictor: meta-learned predictor initialisation (the BO loop); may be absent
        for policy-only priors such as the inner learners of meta-training.
    :param features: encoding of every cell in key order, the predictor's input.
    :param kernel: meta-learned deep-kernel GP parameters (:mod:`metanas.priors.deep_kernel`),
        when meta-training fitted one.
    :param scores: every cell's mean standardised signal over the training tasks (the
        kernel's transfer input).
    """

    logits: np.ndarray
    predictor: Params | None = None
    features: np.ndarray | None = None
    training_tasks: tuple[str, ...] = field(default_factory=tuple)
    kernel: Params | None = None
    scores: np.ndarray | None = None


def save_prior(prior: MetaPrior, path: Path) -> None:
    """Store ``prior`` atomically as tensors, so that :func:`load_prior` runs no pickled code."""
    checkpoint.save_atomic({
        "logits": torch.tensor(prior.logits),
        "predictor": prior.predictor,
        "features": None if prior.features is None else torch.tensor(prior.features),
        "training_tasks": list(prior.training_tasks),
        "kernel": prior.kernel,
        "scores": None if prior.scores is None else torch.tensor(prior.scores),
    }, path)


def load_prior(path: Path) -> MetaPrior:
    """Read what :func:`save_prior` wrote; a corrupt or foreign file raises, naming the fix."""
    state = checkpoint.load(path)
    return MetaPrior(
        logits=state["logits"].numpy(),
        predictor=state["predictor"],
        features=None if state["features"] is None else state["features"].numpy(),
        training_tasks=tuple(state["training_tasks"]),
        # Both absent in priors saved before the deep kernel existed.
        kernel=state.get("kernel"),
        scores=None if state.get("scores") is None else state["scores"].numpy(),
    )
