"""Networks built from a cell space: TransNAS micro cells, NB201 sizes unchanged, refusals."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from tabular_bench import flops
from tabular_bench.models import FusedTinyNetwork, TinyNetwork
from tabular_bench.spaces import NB201, TRANSNAS_MICRO, CellSearchSpace


def _params(net: torch.nn.Module) -> int:
    return sum(p.numel() for p in net.parameters())


# Recorded from the network before it read its cell from the space (C=16, N=5, 10 classes).
NB201_PARAMS = {"nor_conv_3x3": 1531546, "nor_conv_1x1": 241306, "skip_connect": 73306,
                "avg_pool_3x3": 73306, "none": 73306}


@pytest.mark.parametrize("op", sorted(NB201_PARAMS))
def test_nb201_parameter_counts_are_unchanged(op: str) -> None:
    assert _params(TinyNetwork([op] * 6)) == NB201_PARAMS[op]
    assert _params(TinyNetwork([op] * 6, space=NB201)) == NB201_PARAMS[op]


def test_micro_cell_parameters_order_conv3x3_conv1x1_skip() -> None:
    sizes = {
        arch: _params(TinyNetwork(
            [TRANSNAS_MICRO.op_names[o] for o in TRANSNAS_MICRO.from_string(arch)],
            channels=4, cells_per_stage=1, num_classes=5, space=TRANSNAS_MICRO))
        for arch in ("64-41414-3_33_333", "64-41414-2_22_222", "64-41414-1_11_111")
    }
    conv3, conv1, skip = sizes.values()
    assert conv3 > conv1 > skip, sizes
    codes = np.stack([TRANSNAS_MICRO.from_string(a) for a in sizes])
    params = flops.params(codes, "cifar10", TRANSNAS_MICRO)
    assert params[0] > params[1] > params[2]


def test_micro_network_runs_and_fuses() -> None:
    ops = ["nor_conv_3x3", "none", "skip_connect", "nor_conv_1x1", "nor_conv_3x3", "none"]
    nets = []
    for seed in range(2):
        torch.manual_seed(seed)
        nets.append(TinyNetwork(ops, channels=2, cells_per_stage=1, num_classes=3,
                                in_channels=1, space=TRANSNAS_MICRO))
    fused = FusedTinyNetwork.from_networks(ops, nets, 2, 1, in_channels=1)
    assert fused.space is TRANSNAS_MICRO
    x = torch.randn(4, 2, 1, 8, 8)
    separate = torch.stack([net(x[:, m]) for m, net in enumerate(nets)], dim=1)
    torch.testing.assert_close(fused(x), separate, rtol=1e-5, atol=1e-5)
    with pytest.raises(ValueError, match="networks of one space fuse"):
        FusedTinyNetwork.from_networks(ops, [nets[0], TinyNetwork(ops, 2, 1, 3, 1)], 2, 1, 1)


def test_cells_outside_the_space_are_refused() -> None:
    with pytest.raises(ValueError, match="unknown operation 'avg_pool_3x3' in a transnas_micro"):
        TinyNetwork(["avg_pool_3x3"] * 6, space=TRANSNAS_MICRO)
    with pytest.raises(ValueError, match="'flat' has no cell DAG"):
        TinyNetwork(["none"] * 2, space=CellSearchSpace("flat", ("none",), 2))
    with pytest.raises(ValueError, match="no cost model for op"):
        flops.params(np.zeros((1, 1), dtype=int), "cifar10",
                     CellSearchSpace("odd", ("none", "conv5x5"), 1, edges=((1, 0),)))
