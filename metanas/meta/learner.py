"""What a training loop needs from a meta-learner: one meta-step, an outer update, a state.

:class:`MetaLearner` holds what every meta-learner shares: the model whose parameters are
the meta-parameters, the outer optimizer that applies meta-gradients to them, and the
checkpoint state. :class:`InitializationLearner` adds the per-episode meta-test of MAML and
Reptile; the supernet meta-learners are meta-tested by :mod:`metanas.supernet.evaluation`
instead. The loop that drives them (:mod:`metanas.meta.training`) never branches on which
one it holds.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass
from typing import Any

import torch
from torch import nn

from metanas.meta.functional import Params
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

    Subclasses set their hyper-parameters before calling ``super().__init__``, which builds
    the outer optimizer with :meth:`outer_optimizer`.

    :param model: a network whose parameters are its whole state (see
        :mod:`metanas.meta.backbones`); the meta-learner updates them in place.
    """

    #: Short name written to the run's summary (``maml``, ``reptile``, ``tnas_maml``, ...).
    name: str

    def __init__(self, model: nn.Module) -> None:
        if any(True for _ in model.buffers()):
            raise ValueError(
                "meta-learners need a model without buffers (batch norm with "
                "track_running_stats=False); use metanas.meta.backbones"
            )
        self.model = model
        self.optimizer = self.outer_optimizer()

    @abstractmethod
    def outer_optimizer(self) -> torch.optim.Optimizer:
        """The optimizer that :meth:`meta_update` steps over ``self.model``'s parameters."""

    @abstractmethod
    def meta_train_step(
        self, batch: EpisodeBatch, *, progress: float, rng: torch.Generator
    ) -> StepMetrics:
        """Update the initialization from one meta-batch of training episodes.

        :param progress: fraction of meta-training done before this step, in ``[0, 1)``
            (Reptile anneals its meta step size with it, MetaNAS warms alpha up).
        :param rng: generator for any randomness of the step (Reptile's mini-batch order).
        """

    def parameters(self) -> Params:
        """The current initialization, detached (functions of it are built by ``torch.func``)."""
        return {k: p.detach() for k, p in self.model.named_parameters()}

    def meta_update(self, grads: Params) -> None:
        """One step of the outer optimizer along ``grads`` (one entry per parameter)."""
        for name, p in self.model.named_parameters():
            p.grad = grads[name]
        self.optimizer.step()
        self.optimizer.zero_grad(set_to_none=True)

    def state_dict(self) -> dict[str, Any]:
        """State beyond the model parameters, for checkpoints."""
        return {"optimizer": self.optimizer.state_dict()}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        """Restore what :meth:`state_dict` returned."""
        self.optimizer.load_state_dict(state["optimizer"])


class InitializationLearner(MetaLearner):
    """A meta-learner meta-tested by adapting to each episode and scoring its queries.

    :class:`metanas.meta.job.MetaTrainJob` drives these (MAML, first-order MAML, Reptile).
    """

    #: Whether meta-test batch norm sees all queries of an episode at once (MAML does).
    transductive: bool

    @abstractmethod
    def evaluate(self, batch: EpisodeBatch, *, rng: torch.Generator) -> torch.Tensor:
        """Adapt to each episode's support set; return the query accuracy of each episode."""
