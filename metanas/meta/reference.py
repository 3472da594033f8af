"""learn2learn, the reference implementation our MAML is checked and benchmarked against.

:func:`learn2learn_omniglot_cnn` copies a :func:`metanas.meta.backbones.omniglot_conv4`
network into learn2learn's ``OmniglotCNN`` (the same architecture with other parameter
names), and :func:`learn2learn_meta_loss` is learn2learn's own MAML recipe
(``clone()``, ``adapt()`` per task, as in its ``examples/vision/maml_omniglot.py``). The
parity tests and the throughput benchmark both use these, so both compare against the same
thing. learn2learn is imported lazily: only they need it.
"""

from __future__ import annotations

import torch
from torch import nn
from torch.nn import functional as F

from metanas.meta.backbones import Conv4
from tasks.episodes import EpisodeBatch


def learn2learn_name(ours: str) -> str:
    """``features.<i>.0.*`` is block i's conv, ``features.<i>.1.*`` its batch norm."""
    if ours.startswith("classifier."):
        return ours
    _, block, layer, field = ours.split(".")
    return f"base.{block}.{ {'0': 'conv', '1': 'normalize'}[layer] }.{field}"


def learn2learn_omniglot_cnn(model: Conv4) -> nn.Module:
    """learn2learn's ``OmniglotCNN`` holding a copy of ``model``'s parameters."""
    import learn2learn as l2l

    ways, hidden = model.classifier.out_features, model.classifier.in_features
    reference = l2l.vision.models.OmniglotCNN(output_size=ways, hidden_size=hidden, layers=4)
    theirs = dict(reference.named_parameters())
    with torch.no_grad():
        for name, p in model.named_parameters():
            theirs[learn2learn_name(name)].copy_(p)
    return reference.train()


def learn2learn_meta_loss(
    maml: nn.Module, batch: EpisodeBatch, *, steps: int
) -> tuple[torch.Tensor, list[dict[str, torch.Tensor]]]:
    """Mean query loss of ``learn2learn.algorithms.MAML`` over the batch, task by task.

    :returns: the loss (backpropagate it for the meta-gradient) and, per task, the adapted
        parameters under *our* names, for parity checks.
    """
    losses, adapted = [], []
    ours = {learn2learn_name(n): n for n in _our_names(maml.module)}
    for b in range(batch.meta_batch):
        learner = maml.clone()
        for _ in range(steps):
            learner.adapt(F.cross_entropy(learner(batch.x_support[b]), batch.y_support[b]))
        losses.append(F.cross_entropy(learner(batch.x_query[b]), batch.y_query[b]))
        adapted.append({ours[n]: p for n, p in learner.module.named_parameters()})
    return torch.stack(losses).mean(), adapted


def _our_names(reference: nn.Module) -> list[str]:
    """Our parameter names, in the order of the blocks of learn2learn's network."""
    names = []
    for block in range(len(reference.base)):
        names += [f"features.{block}.{layer}.{f}" for layer in "01" for f in ("weight", "bias")]
    return [*names, "classifier.weight", "classifier.bias"]
