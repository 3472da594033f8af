"""MAML against learn2learn and against a per-task autograd reference."""

from __future__ import annotations

import learn2learn as l2l
import pytest
import torch
from torch.func import functional_call
from torch.nn import functional as F

from metanas.meta import functional as fn
from metanas.meta.backbones import omniglot_conv4
from metanas.meta.maml import MAML
from metanas.meta.reference import (
    learn2learn_meta_loss,
    learn2learn_name,
    learn2learn_omniglot_cnn,
)

STEPS, LR = 2, 0.4


def _pair(first_order: bool, ways: int = 5) -> tuple[MAML, torch.nn.Module, torch.nn.Module]:
    torch.manual_seed(0)
    model = omniglot_conv4(ways, hidden=16)
    reference = learn2learn_omniglot_cnn(model)
    ours = MAML(model, inner_lr=LR, train_steps=STEPS, first_order=first_order)
    return ours, reference, l2l.algorithms.MAML(reference, lr=LR, first_order=first_order)


@pytest.mark.parametrize("first_order", [False, True], ids=["second_order", "first_order"])
def test_parity_with_learn2learn(first_order: bool, synthetic_batch) -> None:
    batch = synthetic_batch(meta_batch=3, ways=5, shots=2, queries=3)
    ours, reference, theirs = _pair(first_order)

    their_loss, their_adapted = learn2learn_meta_loss(theirs, batch, steps=STEPS)
    their_loss.backward()
    grads, metrics = ours.meta_gradient(batch)

    assert metrics.loss == pytest.approx(float(their_loss.detach()), abs=1e-5)
    for task in range(batch.meta_batch):
        adapted = ours.adapt(
            ours.parameters(), batch.x_support[task], batch.y_support[task], steps=STEPS
        )
        for name, value in adapted.items():
            torch.testing.assert_close(value, their_adapted[task][name], atol=1e-5, rtol=0)
    their_params = dict(reference.named_parameters())
    for name, g in grads.items():
        torch.testing.assert_close(g, their_params[learn2learn_name(name)].grad, atol=1e-5, rtol=0)


def _autograd_meta_gradient(model, batch, *, first_order: bool) -> dict[str, torch.Tensor]:
    """The textbook loop: per task, ``create_graph`` inner steps, then backward."""
    params = {k: p.detach().clone().requires_grad_() for k, p in model.named_parameters()}
    losses = []
    for b in range(batch.meta_batch):
        fast = dict(params)
        for _ in range(STEPS):
            loss = F.cross_entropy(
                functional_call(model, fast, (batch.x_support[b],)), batch.y_support[b]
            )
            grads = torch.autograd.grad(loss, list(fast.values()), create_graph=not first_order)
            fast = {k: v - LR * g for (k, v), g in zip(fast.items(), grads, strict=True)}
        losses.append(F.cross_entropy(
            functional_call(model, fast, (batch.x_query[b],)), batch.y_query[b]
        ))
    torch.stack(losses).mean().backward()
    return {k: p.grad for k, p in params.items()}


@pytest.mark.parametrize("first_order", [False, True], ids=["second_order", "first_order"])
def test_meta_gradient_reaches_every_parameter_and_matches_autograd(
    first_order: bool, synthetic_batch
) -> None:
    batch = synthetic_batch(meta_batch=4, ways=5, shots=1, queries=2, seed=1)
    ours, _, _ = _pair(first_order)
    expected = _autograd_meta_gradient(ours.model, batch, first_order=first_order)
    grads, _ = ours.meta_gradient(batch)

    assert set(grads) == {n for n, _ in ours.model.named_parameters()}
    for name, g in grads.items():
        torch.testing.assert_close(g, expected[name], atol=1e-5, rtol=1e-4)
        conv_bias = name.endswith(".0.bias") and name.startswith("features.")
        if conv_bias:  # batch norm subtracts the mean: the bias before it cannot matter
            assert g.abs().max() < 1e-5
        else:
            assert g.abs().max() > 1e-6, f"no meta-gradient reaches {name}"


def test_second_order_differs_from_first_order(synthetic_batch) -> None:
    batch = synthetic_batch(meta_batch=2, ways=5, shots=1, queries=1)
    second, _ = _pair(False)[0].meta_gradient(batch)
    first, _ = _pair(True)[0].meta_gradient(batch)
    assert not torch.allclose(second["features.0.0.weight"], first["features.0.0.weight"])


def test_meta_update_moves_every_parameter_and_learns(synthetic_batch) -> None:
    batch = synthetic_batch(meta_batch=4, ways=5, shots=1, queries=2)
    ours, _, _ = _pair(False)
    before = {k: p.detach().clone() for k, p in ours.model.named_parameters()}
    gen = torch.Generator().manual_seed(0)
    first = ours.meta_train_step(batch, progress=0.0, rng=gen)
    for _ in range(5):
        last = ours.meta_train_step(batch, progress=0.0, rng=gen)
    assert last.loss < first.loss
    for name, p in ours.model.named_parameters():
        if not (name.startswith("features.") and name.endswith(".0.bias")):
            assert not torch.equal(p, before[name]), name


def test_evaluate_adapts_test_steps_then_scores_each_episodes_queries(synthetic_batch) -> None:
    batch = synthetic_batch(meta_batch=3, ways=5, shots=1, queries=4)
    maml = _pair(False)[0]
    assert maml.test_steps != maml.train_steps

    def per_episode(steps: int) -> torch.Tensor:
        accuracies = []
        for task in range(batch.meta_batch):
            adapted = maml.adapt(
                maml.parameters(), batch.x_support[task], batch.y_support[task], steps=steps
            )
            accuracies.append(
                fn.accuracy(maml.model, adapted, batch.x_query[task], batch.y_query[task])
            )
        return torch.stack(accuracies)

    accuracies = maml.evaluate(batch, rng=torch.Generator())
    torch.testing.assert_close(accuracies, per_episode(maml.test_steps))
    # The episodes tell the step counts apart, so the check above pins test_steps.
    assert not torch.equal(per_episode(maml.train_steps), accuracies)


def test_invalid_settings_are_rejected() -> None:
    with pytest.raises(ValueError, match="inner_lr"):
        MAML(omniglot_conv4(5), inner_lr=0.0)
    with pytest.raises(ValueError, match="buffers"):
        MAML(torch.nn.Sequential(torch.nn.BatchNorm1d(3)), inner_lr=0.1)
