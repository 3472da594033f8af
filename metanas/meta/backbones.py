"""Conv-4 backbones of the few-shot literature, written for ``torch.func.functional_call``.

Every layer is a plain ``nn.Module`` with no buffers: batch norm keeps no running statistics
and always normalises with the statistics of the batch it sees, at meta-training and at
meta-test alike, as MAML (Finn et al., 2017) and Reptile (Nichol et al., 2018) do. A
parameter dict is therefore the whole state of a network, which is what lets the
meta-learners adapt, vmap and checkpoint it as a dict.
"""

from __future__ import annotations

import torch
from torch import nn


class BatchStatNorm2d(nn.Module):
    """Batch norm over (batch, height, width) with batch statistics only, from plain ops.

    Numerically ``F.batch_norm(x, None, None, weight, bias, training=True)``, but built from
    ``mean``/``var`` because ``torch.func.vmap`` gets the double backward of the fused
    kernel wrong (torch 2.14, float64, 5-way Conv-4, two inner steps of 0.4: second-order
    MAML gradients off by up to 7e-3 against a per-task autograd loop, and nonzero for the
    conv bias that batch norm cancels; functorch issue #534). Every op here has an exact
    batching rule, so ``grad(vmap(grad(...)))`` equals the per-task autograd result (1e-15
    in the same float64 comparison).
    """

    def __init__(self, channels: int, eps: float = 1e-5) -> None:
        super().__init__()
        self.eps = eps
        self.weight = nn.Parameter(torch.ones(channels))
        self.bias = nn.Parameter(torch.zeros(channels))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        mean = x.mean(dim=(0, 2, 3), keepdim=True)
        var = x.var(dim=(0, 2, 3), unbiased=False, keepdim=True)
        scale = self.weight[:, None, None] * torch.rsqrt(var + self.eps)
        return (x - mean) * scale + self.bias[:, None, None]


class ConvBlock(nn.Sequential):
    """3x3 convolution, batch norm with batch statistics, ReLU, optional 2x2 max-pooling.

    :param stride: 2 for Omniglot (downsampling by the convolution, Finn et al.'s code);
        1 together with ``max_pool=True`` for CIFAR-FS/FC100 and miniImageNet.
    """

    def __init__(self, in_channels: int, out_channels: int, *, stride: int, max_pool: bool):
        layers: list[nn.Module] = [
            nn.Conv2d(in_channels, out_channels, 3, stride=stride, padding=1),
            BatchStatNorm2d(out_channels),
            nn.ReLU(),
        ]
        if max_pool:
            layers.append(nn.MaxPool2d(2))
        super().__init__(*layers)
        nn.init.xavier_uniform_(self[0].weight)
        nn.init.zeros_(self[0].bias)


class Conv4(nn.Module):
    """Four conv blocks and a linear classifier over ``ways`` classes.

    :param ways: number of output classes (the episode's N).
    :param in_channels: image channels (1 for Omniglot, 3 for CIFAR).
    :param hidden: filters per block (64 Omniglot, 32 CIFAR-FS/FC100).
    :param stride: convolution stride (2 Omniglot, 1 with max-pooling otherwise).
    :param max_pool: 2x2 max-pooling after every block.
    :param spatial_mean: average the last feature map over space (Finn et al.'s Omniglot
        network) instead of flattening it (their miniImageNet network).
    :param image_size: input height and width, used to size the classifier when flattening.
    """

    def __init__(
        self,
        ways: int,
        *,
        in_channels: int,
        hidden: int,
        stride: int,
        max_pool: bool,
        spatial_mean: bool,
        image_size: int,
    ) -> None:
        super().__init__()
        if ways < 2:
            raise ValueError(f"Conv4 needs ways >= 2 output classes, got {ways}")
        blocks = [ConvBlock(in_channels, hidden, stride=stride, max_pool=max_pool)]
        blocks += [ConvBlock(hidden, hidden, stride=stride, max_pool=max_pool) for _ in range(3)]
        self.features = nn.Sequential(*blocks)
        self.spatial_mean = spatial_mean
        side = image_size
        for _ in range(4):
            side = (side + 2 - 3) // stride + 1
            side = side // 2 if max_pool else side
        if side < 1:
            raise ValueError(f"Conv4 cannot take {image_size}x{image_size} images: too small")
        features = hidden if spatial_mean else hidden * side * side
        self.classifier = nn.Linear(features, ways)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h = self.features(x)
        h = h.mean(dim=(-2, -1)) if self.spatial_mean else h.flatten(-3)
        return self.classifier(h)


def omniglot_conv4(ways: int, *, hidden: int = 64) -> Conv4:
    """Finn et al.'s Omniglot network: 64 filters, stride-2 convolutions, spatial mean.

    28x28 inputs shrink to 14, 7, 4 and 2 pixels; the 2x2 map is averaged into 64 features.
    """
    return Conv4(
        ways, in_channels=1, hidden=hidden, stride=2, max_pool=False,
        spatial_mean=True, image_size=28,
    )


def cifar_conv4(ways: int, *, hidden: int = 32, image_size: int = 32) -> Conv4:
    """The CIFAR-FS/FC100 network (Bertinetto et al., 2019): 32 filters and max-pooling."""
    return Conv4(
        ways, in_channels=3, hidden=hidden, stride=1, max_pool=True,
        spatial_mean=False, image_size=image_size,
    )
