"""What the training job needs from a meta-learner: one meta-step, one evaluation, a state.

MAML and Reptile both implement :class:`MetaLearner`; the job that drives them (sampling,
checkpoints, meta-test) never branches on which one it holds.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass
from typing import Any

import torch
from torch import nn

from tasks.episodes import EpisodeBatch


@dataclass(frozen=True)
class StepMetrics:
    """Training signal of one meta-iteration, averaged over its tasks.

    For MAML these are post-adaptation query metrics; for Reptile, the metrics of the last
    inner mini-batch before its final step.
    """

    loss: float
    accuracy: float


class MetaLearner(ABC):
    """A learned initialization of ``model`` and the rule that updates it from tasks.

    :param model: a network whose parameters are its whole state (see
        :mod:`metanas.meta.backbones`); the meta-learner updates them in place.
    """

    #: Short name written to ``summary.csv`` (``maml``, ``fomaml``, ``reptile``).
    name: str
    #: Whether meta-test batch norm sees all queries of an episode at once (MAML does).
    transductive: bool

    def __init__(self, model: nn.Module) -> None:
        if any(True for _ in model.buffers()):
            raise ValueError(
                "meta-learners need a model without buffers (batch norm with "
                "track_running_stats=False); use metanas.meta.backbones"
            )
        self.model = model

    @abstractmethod
    def meta_train_step(
        self, batch: EpisodeBatch, *, progress: float, rng: torch.Generator
    ) -> StepMetrics:
        """Update the initialization from one meta-batch of training episodes.

        :param progress: fraction of meta-training done before this step, in ``[0, 1)``
            (Reptile anneals its meta step size with it).
        :param rng: generator for any randomness of the step (Reptile's mini-batch order).
        """

    @abstractmethod
    def evaluate(self, batch: EpisodeBatch, *, rng: torch.Generator) -> torch.Tensor:
        """Adapt to each episode's support set; return the query accuracy of each episode."""

    def state_dict(self) -> dict[str, Any]:
        """Optimizer state beyond the model parameters, for checkpoints."""
        return {}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        """Restore what :meth:`state_dict` returned."""
