"""Meta-learners over (alpha, w): both groups move, at their own rates; warm-up freezes alpha."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from metanas.supernet.evaluation import cell_diversity, evaluate_episodes
from metanas.supernet.meta_learners import MetaNASReptile, TNASMaml
from metanas.supernet.network import ALPHA, SuperNet


def _batch(tiny_tasks, seed: int = 0):
    pool = tiny_tasks.pool("train")
    return pool.sample(np.random.default_rng(seed), meta_batch=3, ways=3, shots=1, queries=2)


def _net() -> SuperNet:
    return SuperNet(channels=2, num_classes=3, generator=torch.Generator().manual_seed(0))


def _snapshot(net: SuperNet) -> dict[str, torch.Tensor]:
    return {k: p.detach().clone() for k, p in net.named_parameters()}


@pytest.mark.parametrize("make", [
    lambda n: TNASMaml(n, test_steps=2),
    lambda n: MetaNASReptile(n, train_steps=2, test_steps=2, alpha_warmup=0.0),
])
def test_meta_step_moves_alpha_and_weights(make, tiny_tasks) -> None:
    net = _net()
    learner = make(net)
    before = _snapshot(net)
    metrics = learner.meta_train_step(_batch(tiny_tasks), progress=0.5, rng=torch.Generator())
    assert np.isfinite(metrics.loss) and 0.0 <= metrics.accuracy <= 1.0
    after = _snapshot(net)
    assert not torch.equal(before[ALPHA], after[ALPHA])
    assert not torch.equal(before["head.4.weight"], after["head.4.weight"])


def test_reptile_warmup_freezes_alpha_only(tiny_tasks) -> None:
    net = _net()
    learner = MetaNASReptile(net, train_steps=2, test_steps=2, alpha_warmup=0.5)
    before = _snapshot(net)
    learner.meta_train_step(_batch(tiny_tasks), progress=0.1, rng=torch.Generator())
    assert torch.equal(before[ALPHA], net.alpha.detach())
    assert not torch.equal(before["stem.0.weight"], net.stem[0].weight.detach())


def test_tnas_inner_alpha_rate_zero_keeps_adapted_alpha(tiny_tasks) -> None:
    learner = TNASMaml(_net(), inner_lr_alpha=0.0, test_steps=2)
    adapted = learner.adapt_tasks(_batch(tiny_tasks))
    meta_alpha = learner.parameters()[ALPHA]
    assert torch.equal(adapted[ALPHA], meta_alpha.expand_as(adapted[ALPHA]))
    moved = TNASMaml(_net(), inner_lr_alpha=0.5, test_steps=2).adapt_tasks(_batch(tiny_tasks))
    assert not torch.equal(moved[ALPHA][0], meta_alpha)


def test_evaluate_episodes_shapes_and_ranges(tiny_tasks) -> None:
    learner = TNASMaml(_net(), test_steps=1)
    out = evaluate_episodes(learner, _batch(tiny_tasks))
    assert out.supernet_acc.shape == out.derived_acc.shape == (3,)
    assert out.codes.shape == (3, 6) and (out.codes != 0).all()
    assert ((out.derived_acc >= 0) & (out.derived_acc <= 1)).all()


def test_cell_diversity_counts_distinct_cells() -> None:
    same = np.tile([1, 2, 3, 4, 1, 2], (4, 1))
    stats = cell_diversity(same)
    assert stats["distinct_cells_share"] == 0.25 and stats["cell_entropy_bits"] == 0.0
    varied = same.copy()
    varied[:, 0] = [1, 2, 3, 4]
    stats = cell_diversity(varied)
    assert stats["distinct_cells_share"] == 1.0 and stats["cell_entropy_bits"] == 2.0


def test_bad_settings_are_rejected() -> None:
    with pytest.raises(ValueError, match="alpha_warmup"):
        MetaNASReptile(_net(), alpha_warmup=1.0)
    with pytest.raises(ValueError, match="test_steps"):
        TNASMaml(_net(), test_steps=0)
