"""learn2learn's Reptile recipe as the parity run drives it: the same update as ours."""

from __future__ import annotations

import copy
import dataclasses
from types import SimpleNamespace

import pytest
import torch

from metanas.meta import l2l_parity
from metanas.meta.backbones import omniglot_conv4
from metanas.meta.l2l_parity import L2LReptile, learn2learn_counterpart
from metanas.meta.reptile import Reptile
from metanas.supernet.meta_learners import MetaNASReptile
from metanas.supernet.network import SuperNet

# eps far below the gradients: torch's Adam adds it after the bias correction, ours before,
# and at 1e-8 that alone moves these tiny-gradient weights by ~1e-5.
SETTINGS = {"inner_lr": 1e-3, "inner_steps": 3, "inner_batch": 4, "test_steps": 4,
            "test_batch": 3, "meta_step": 1.0, "meta_step_final": 0.2, "eps": 1e-12}


def _pair(transductive: bool = False) -> tuple[Reptile, L2LReptile]:
    """Ours and the recipe from one float64 initialization (in float64 the rounding noise of
    the conv biases that batch norm cancels stays small beside the tolerance)."""
    torch.manual_seed(0)
    ours = Reptile(omniglot_conv4(3, hidden=8).double(), transductive=transductive, **SETTINGS)
    theirs = learn2learn_counterpart(ours)
    assert isinstance(theirs, L2LReptile)
    return ours, theirs


def _double(batch):
    return dataclasses.replace(batch, x_support=batch.x_support.double(),
                               x_query=batch.x_query.double())


def test_meta_steps_of_one_task_move_both_to_the_same_parameters(synthetic_batch) -> None:
    """One task per meta-batch, where the recipe's task-to-task Adam carry and our mean over
    side-by-side tasks coincide; the second step checks the carried inner state and the
    annealed meta step too. Moves are ~4e-3; at eps=1e-8 the placement of eps alone exceeds
    the tolerance."""
    ours, theirs = _pair()
    start = {k: v.clone() for k, v in ours.parameters().items()}
    gens = [torch.Generator().manual_seed(5) for _ in range(2)]
    for it, seed in enumerate((1, 2)):
        batch = _double(synthetic_batch(meta_batch=1, ways=3, shots=2, queries=0, seed=seed))
        ours.meta_train_step(batch, progress=it / 2, rng=gens[0])
        theirs.meta_train_step(batch, progress=it / 2, rng=gens[1])
    assert (theirs.model.classifier.weight.detach() - start["classifier.weight"]).abs().max() > 1e-3
    for name, p in theirs.model.named_parameters():
        torch.testing.assert_close(p.detach(), ours.model.get_parameter(name).detach(),
                                   rtol=1e-5, atol=1e-6, msg=name)


def test_inner_adam_state_carries_task_to_task_and_not_out_of_evaluation(
        synthetic_batch) -> None:
    _, theirs = _pair()
    batch = _double(synthetic_batch(meta_batch=3, ways=3, shots=2, queries=2))
    theirs.meta_train_step(batch, progress=0.0, rng=torch.Generator().manual_seed(5))
    assert int(theirs.inner_state["state"][0]["step"]) == 3 * SETTINGS["inner_steps"]
    carried = copy.deepcopy(theirs.inner_state)
    theirs.evaluate(batch, rng=torch.Generator().manual_seed(7))
    assert all(torch.equal(v, carried["state"][0][k])
               for k, v in theirs.inner_state["state"][0].items())


@pytest.mark.parametrize("transductive", [False, True])
def test_evaluation_agrees_with_ours(synthetic_batch, transductive) -> None:
    ours, theirs = _pair(transductive)
    batch = _double(synthetic_batch(meta_batch=4, ways=3, shots=1, queries=2))
    mine = ours.evaluate(batch, rng=torch.Generator().manual_seed(7))
    other = theirs.evaluate(batch, rng=torch.Generator().manual_seed(7))
    torch.testing.assert_close(other, mine)


def test_run_refuses_learners_without_a_learn2learn_recipe(monkeypatch) -> None:
    supernet = SuperNet(channels=2, num_classes=3, generator=torch.Generator().manual_seed(0))
    learner = MetaNASReptile(supernet, train_steps=1, test_steps=1)
    monkeypatch.setattr(l2l_parity, "_job", lambda *_: SimpleNamespace(learner=learner))
    with pytest.raises(ValueError, match="no learn2learn recipe for MetaNASReptile"):
        l2l_parity.run("omniglot_metanas_reptile_5w1s", iterations=1, test_episodes=1)
