"""Meta-test of a meta-learned supernet: adapt, derive, fine-tune the derived cell, look up.

Per meta-test episode:

1. adapt (alpha, w) on the support set (``learner.test_steps`` steps) and score the adapted
   supernet on the query set;
2. derive the discrete cell from the adapted alpha (argmax per edge, the zero op excluded);
3. fine-tune the derived cell from the meta-learned weights (its chosen ops inherit them;
   alpha plays no part) for as many steps on the support set, and score it on the query;
4. for a supernet over NB201 only, read the derived cell's stand-alone accuracy from the
   NB201 table (a report-side look-up: nothing here feeds back into search).

Codes, keys and strings go through the supernet's space; only step 4 knows NB201.
"""

from __future__ import annotations

import dataclasses
from collections import Counter
from dataclasses import dataclass

import numpy as np
import torch
from torch.func import vmap

from metanas.meta.functional import Params
from metanas.supernet.functional import accuracy_fn, adapt
from metanas.supernet.meta_learners import SupernetMetaLearner
from metanas.supernet.network import derive_codes, one_hot_weights
from tabular_bench.benchmark import Benchmark
from tabular_bench.spaces import NB201, CellSearchSpace
from tasks.episodes import EpisodeBatch


@dataclass(frozen=True)
class EpisodeResults:
    """Per-episode outcome of one meta-test batch."""

    supernet_acc: np.ndarray
    derived_acc: np.ndarray
    codes: np.ndarray  # (episodes, num_edges) op indices of the supernet's space


def evaluate_episodes(learner: SupernetMetaLearner, batch: EpisodeBatch) -> EpisodeResults:
    """Steps 1-3 above for every episode of ``batch`` (vectorised over episodes)."""
    model, steps = learner.model, learner.test_steps
    adapted = learner.adapt_tasks(batch)
    supernet_acc = vmap(accuracy_fn, in_dims=(0, None, 0, 0))(
        adapted, model, batch.x_query, batch.y_query
    )
    codes = derive_codes(adapted["alpha"], model.space)
    inner = learner.test_inner()
    fine_tune = dataclasses.replace(inner, lr=inner.lr.frozen_alpha())

    def derived(params: Params, xs, ys, xq, yq, weights) -> torch.Tensor:
        tuned = adapt(params, model, xs, ys, optimizer=fine_tune, steps=steps, op_weights=weights)
        return accuracy_fn(tuned, model, xq, yq, weights)

    derived_acc = vmap(derived, in_dims=(None, 0, 0, 0, 0, 0))(
        learner.parameters(), batch.x_support, batch.y_support, batch.x_query, batch.y_query,
        one_hot_weights(codes, model.space),
    )
    return EpisodeResults(
        supernet_acc.cpu().numpy(), derived_acc.detach().cpu().numpy(), codes.cpu().numpy()
    )


def cell_diversity(codes: np.ndarray, space: CellSearchSpace = NB201) -> dict[str, float]:
    """How much the derived cell (a code of ``space``) depends on the task.

    ``distinct_cells_share``: distinct cells / episodes (1/episodes: one cell for all);
    ``cell_entropy_bits``: entropy of the empirical distribution of derived cells;
    ``edge_entropy_bits``: entropy of the chosen op per edge, averaged over edges.
    """
    keys = space.keys(codes)
    counts = np.array(list(Counter(keys.tolist()).values()), dtype=np.float64)
    p = counts / counts.sum()
    edge_entropies = []
    for edge in range(codes.shape[1]):
        q = np.bincount(codes[:, edge], minlength=space.num_ops) / len(codes)
        q = q[q > 0]
        edge_entropies.append(float(-(q * np.log2(q)).sum()))
    return {
        "distinct_cells": float(len(counts)),
        "distinct_cells_share": float(len(counts) / len(codes)),
        "cell_entropy_bits": float(-(p * np.log2(p)).sum()),
        "edge_entropy_bits": float(np.mean(edge_entropies)),
    }


NB201_DATASETS = ("cifar10", "cifar100", "ImageNet16-120")


def require_nb201(space: CellSearchSpace) -> None:
    """Refuse the NB201 table look-up for a supernet over any other space."""
    if space != NB201:
        raise ValueError(
            f"the NB201 table look-up reads NB201 cells, but the supernet searches "
            f"{space.name!r}; run it over space nb201 or without a benchmark (benchmark=null)"
        )


def nb201_test_accuracy(
    benchmark: Benchmark, codes: np.ndarray, space: CellSearchSpace = NB201,
    datasets: tuple[str, ...] = NB201_DATASETS,
) -> dict[str, np.ndarray]:
    """200-epoch NB201 test accuracy (mean over seeds) of each derived cell per dataset.

    NB201 only: a report-side look-up of NB201 codes in the NB201 table; ``space`` is the
    supernet's, and any other space is refused (:func:`require_nb201`). A proxy: the
    table trains the full NB201 network (C=16, N=5) on CIFAR/ImageNet16, not Omniglot (a
    table built on Omniglot itself would measure the derived cells directly).
    """
    require_nb201(space)
    keys = NB201.keys(codes)
    return {
        d: benchmark.query(keys, task=d, fidelity=200, metric="test_acc") for d in datasets
    }
