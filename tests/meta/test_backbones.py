"""Conv-4 backbones: shapes, no buffers, and batch norm with batch statistics."""

from __future__ import annotations

import pytest
import torch
from torch.nn import functional as F

from metanas.meta.backbones import BatchStatNorm2d, cifar_conv4, omniglot_conv4


def test_omniglot_conv4_matches_finn_et_al() -> None:
    model = omniglot_conv4(5)
    convs = [m for m in model.modules() if isinstance(m, torch.nn.Conv2d)]
    assert [c.out_channels for c in convs] == [64] * 4
    assert all(c.stride == (2, 2) for c in convs)
    assert model.classifier.in_features == 64
    assert model(torch.rand(7, 1, 28, 28)).shape == (7, 5)
    assert list(model.buffers()) == []


def test_cifar_conv4_uses_32_filters_and_max_pooling() -> None:
    model = cifar_conv4(5)
    convs = [m for m in model.modules() if isinstance(m, torch.nn.Conv2d)]
    assert [c.out_channels for c in convs] == [32] * 4
    assert sum(isinstance(m, torch.nn.MaxPool2d) for m in model.modules()) == 4
    assert model.classifier.in_features == 32 * 2 * 2
    assert model(torch.rand(3, 3, 32, 32)).shape == (3, 5)


def test_batch_norm_uses_batch_statistics_like_the_fused_kernel() -> None:
    norm = BatchStatNorm2d(4)
    with torch.no_grad():
        norm.weight.uniform_()
        norm.bias.normal_()
    x = torch.randn(6, 4, 5, 5) * 3 + 1
    expected = F.batch_norm(x, None, None, norm.weight, norm.bias, training=True)
    torch.testing.assert_close(norm(x), expected, atol=1e-5, rtol=1e-5)
    # At meta-test as in training: the output depends on the other samples of the batch.
    assert not torch.allclose(norm(x[:3]), norm(x)[:3])


def test_too_small_images_are_rejected() -> None:
    with pytest.raises(ValueError, match="too small"):
        omniglot_conv4(5).__class__(
            5, in_channels=1, hidden=8, stride=1, max_pool=True, spatial_mean=False,
            image_size=8,
        )
