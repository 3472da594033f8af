"""Reptile: mini-batch order, inner Adam, meta-update and its annealing, evaluation modes."""

from __future__ import annotations

import pytest
import torch
from torch.nn import functional as F

from metanas.meta import functional as fn
from metanas.meta.backbones import omniglot_conv4
from metanas.meta.reptile import Reptile, minibatch_order


def _reptile(**kwargs) -> Reptile:
    torch.manual_seed(0)
    settings = {"inner_steps": 3, "inner_batch": 4, "test_steps": 2, "test_batch": 5}
    return Reptile(omniglot_conv4(5, hidden=8), **(settings | kwargs))


def test_minibatches_cycle_through_shuffles_without_replacement() -> None:
    order = minibatch_order(torch.Generator().manual_seed(0), tasks=2, samples=5, steps=4,
                            batch=3)
    assert order.shape == (2, 4, 3)
    flat = order.reshape(2, -1)
    for task in flat:  # first 5 draws are one shuffle, the next 5 another
        assert sorted(task[:5].tolist()) == list(range(5))
        assert sorted(task[5:10].tolist()) == list(range(5))
    with pytest.raises(ValueError, match="inner batch"):
        minibatch_order(torch.Generator(), tasks=1, samples=2, steps=1, batch=3)


def test_inner_adam_is_adam_with_beta1_zero() -> None:
    """Up to where epsilon enters, TensorFlow's Adam and torch's Adam agree; with eps=0 exactly."""
    torch.manual_seed(0)
    w = torch.randn(4, 3)
    x, y = torch.randn(8, 3), torch.randint(0, 4, (8,))
    reference = w.clone().requires_grad_()
    opt = torch.optim.Adam([reference], lr=0.01, betas=(0.0, 0.999), eps=0.0)
    params, state = {"w": w}, fn.AdamState.zeros_like({"w": w})
    for _ in range(3):
        opt.zero_grad()
        F.cross_entropy(x @ reference.T, y).backward()
        opt.step()
        grads = {"w": torch.func.grad(lambda p: F.cross_entropy(x @ p["w"].T, y))(params)["w"]}
        params, state = fn.adam_step(params, grads, state, lr=0.01, beta2=0.999, eps=0.0)
    torch.testing.assert_close(params["w"], reference.detach())
    assert int(state.t) == 3


def test_meta_step_interpolates_towards_the_task_mean_and_anneals(synthetic_batch) -> None:
    learner = _reptile(meta_step=1.0, meta_step_final=0.0)
    assert learner.meta_step_size(0.0) == 1.0
    assert learner.meta_step_size(0.75) == pytest.approx(0.25)
    batch = synthetic_batch(meta_batch=1, ways=5, shots=2, queries=0)
    start = {k: v.clone() for k, v in learner.parameters().items()}
    order = minibatch_order(torch.Generator().manual_seed(3), tasks=1, samples=10, steps=3,
                            batch=4)
    adapted, *_ = learner.adapt(start, learner.inner_state, batch.x_support[0],
                                batch.y_support[0], order[0])
    learner.meta_train_step(batch, progress=0.5, rng=torch.Generator().manual_seed(3))
    for name, p in learner.model.named_parameters():
        if name.startswith("features.") and name.endswith(".0.bias"):
            # Batch norm cancels the conv bias: its gradient is rounding noise, which Adam's
            # g / sqrt(v) turns into steps of random sign, different under vmap.
            continue
        torch.testing.assert_close(p.detach(), start[name] + 0.5 * (adapted[name] - start[name]))


def test_inner_adam_state_carries_over_between_meta_iterations(synthetic_batch) -> None:
    learner = _reptile()
    batch = synthetic_batch(meta_batch=2, ways=5, shots=2, queries=0)
    gen = torch.Generator().manual_seed(0)
    learner.meta_train_step(batch, progress=0.0, rng=gen)
    assert int(learner.inner_state.t) == 3
    assert all(v.abs().sum() > 0 for v in learner.inner_state.v.values())
    learner.meta_train_step(batch, progress=0.1, rng=gen)
    assert int(learner.inner_state.t) == 6
    restored = _reptile()
    restored.load_state_dict(learner.state_dict())
    for name, v in learner.inner_state.v.items():
        torch.testing.assert_close(restored.inner_state.v[name], v)


def test_non_transductive_queries_are_classified_independently(synthetic_batch) -> None:
    learner = _reptile()
    batch = synthetic_batch(meta_batch=1, ways=5, shots=1, queries=2)
    changed = synthetic_batch(meta_batch=1, ways=5, shots=1, queries=2, seed=9)
    # Same support set and first query; every other query replaced.
    x_query = changed.x_query.clone()
    x_query[0, 0] = batch.x_query[0, 0]
    other = type(batch)(batch.x_support, batch.y_support, x_query, batch.y_query, batch.classes)

    def first_query_correct(learner: Reptile, episodes) -> float:
        single = type(episodes)(episodes.x_support, episodes.y_support,
                                episodes.x_query[:, :1], episodes.y_query[:, :1],
                                episodes.classes)
        return float(learner.evaluate(single, rng=torch.Generator().manual_seed(0)))

    assert first_query_correct(learner, batch) == first_query_correct(learner, other)


def test_transductive_scores_all_queries_in_one_batch(synthetic_batch) -> None:
    batch = synthetic_batch(meta_batch=2, ways=5, shots=1, queries=4, seed=3)
    learner, transductive = _reptile(), _reptile(transductive=True)
    order = minibatch_order(torch.Generator().manual_seed(0), tasks=2, samples=5, steps=2,
                            batch=5)
    expected = {True: [], False: []}
    for task in range(2):
        xs, ys = batch.x_support[task], batch.y_support[task]
        xq, yq = batch.x_query[task], batch.y_query[task]
        adapted, *_ = learner.adapt(learner.parameters(), learner.inner_state, xs, ys,
                                    order[task])
        expected[True].append(fn.accuracy(learner.model, adapted, xq, yq))
        alone = [fn.logits(learner.model, adapted, torch.cat([xs, q[None]]))[-1].argmax()
                 for q in xq]
        expected[False].append((torch.stack(alone) == yq).float().mean())
    for model, mode in ((transductive, True), (learner, False)):
        got = model.evaluate(batch, rng=torch.Generator().manual_seed(0))
        torch.testing.assert_close(got, torch.stack(expected[mode]))
    # Batch norm over the whole query set changes the predictions of these episodes.
    assert not torch.equal(torch.stack(expected[True]), torch.stack(expected[False]))
