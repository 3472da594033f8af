"""The torch NB201 network: sizes against the analytic count and NASLib, fusion equivalence."""

from __future__ import annotations

import ast
import json
from pathlib import Path

import numpy as np
import pytest
import torch

from tabular_bench import flops
from tabular_bench.models import FusedTinyNetwork, TinyNetwork
from tabular_bench.models.profile import count_flops, count_params
from tabular_bench.spaces.nb201 import NB201


def _ops(code: np.ndarray) -> list[str]:
    return [NB201.op_names[i] for i in code]


@pytest.mark.parametrize("dataset,classes,side", [("cifar10", 10, 32), ("ImageNet16-120", 120, 16)])
def test_network_matches_analytic_params_and_flops(dataset: str, classes: int, side: int) -> None:
    for code in NB201.random_codes(np.random.default_rng(3), 6):
        net = TinyNetwork(_ops(code), num_classes=classes)
        assert count_params(net) == pytest.approx(flops.params(code, dataset)[0], abs=1e-9)
        assert count_flops(net, (3, side, side)) == pytest.approx(
            flops.flops(code, dataset)[0], rel=1e-9
        )


def test_network_params_match_naslib_records(real_data: Path) -> None:
    records = json.loads((real_data / "nb201" / "naslib_zc_nasbench201.json").read_text())
    for dataset, classes in (("cifar10", 10), ("cifar100", 100)):
        for arch, row in list(records[dataset].items())[:20]:
            code = NB201.from_naslib(ast.literal_eval(arch))[0]  # arch: "(0, 2, 3, 2, 3, 1)"
            net = TinyNetwork(_ops(code), num_classes=classes)
            assert count_params(net) == pytest.approx(row["params"]["score"], abs=1e-6)


def test_network_output_shape_and_unknown_op() -> None:
    net = TinyNetwork(["nor_conv_3x3"] * 6, channels=4, cells_per_stage=1, num_classes=7,
                      in_channels=1)
    assert net(torch.zeros(2, 1, 28, 28)).shape == (2, 7)
    with pytest.raises(ValueError, match="unknown operation 'conv5x5'"):
        TinyNetwork(["conv5x5"] * 6)
    with pytest.raises(ValueError, match="6 edges"):
        TinyNetwork(["none"] * 5)


def _separate_and_fused(classes: list[int]) -> tuple[list[TinyNetwork], FusedTinyNetwork]:
    ops = ["nor_conv_3x3", "avg_pool_3x3", "skip_connect", "nor_conv_1x1", "none", "nor_conv_3x3"]
    nets = []
    for seed, k in enumerate(classes):
        torch.manual_seed(seed)
        nets.append(TinyNetwork(ops, channels=4, cells_per_stage=2, num_classes=k, in_channels=2))
    return nets, FusedTinyNetwork.from_networks(ops, nets, 4, 2, in_channels=2)


def test_fused_network_equals_separate_networks_forward_and_sgd_step() -> None:
    classes = [5, 3, 5]
    nets, fused = _separate_and_fused(classes)
    gen = torch.Generator().manual_seed(0)
    x = torch.randn(8, 3, 2, 12, 12, generator=gen)
    y = torch.stack([torch.randint(0, k, (8,), generator=gen) for k in classes], dim=1)
    opt_args = {"lr": 0.1, "momentum": 0.9, "nesterov": True, "weight_decay": 5e-4}
    opts = [torch.optim.SGD(n.parameters(), **opt_args) for n in nets]
    fused_opt = torch.optim.SGD(fused.parameters(), **opt_args)
    for _ in range(2):  # two steps, so momentum buffers take part
        losses = []
        for m, (net, opt) in enumerate(zip(nets, opts)):
            loss = torch.nn.functional.cross_entropy(net(x[:, m]), y[:, m])
            opt.zero_grad()
            loss.backward()
            opt.step()
            losses.append(loss.detach())
        logits = fused(x)
        fused_loss = sum(
            torch.nn.functional.cross_entropy(logits[:, m], y[:, m]) for m in range(len(nets))
        )
        fused_opt.zero_grad()
        fused_loss.backward()
        fused_opt.step()
        torch.testing.assert_close(fused_loss.detach(), torch.stack(losses).sum())
    for m, net in enumerate(nets):
        exported = fused.network_state(m)
        for name, tensor in net.state_dict().items():
            if name.endswith("num_batches_tracked"):
                continue
            torch.testing.assert_close(exported[name], tensor, atol=1e-5, rtol=1e-4)
    fused.eval()
    out = fused(x)
    for m, net in enumerate(nets):
        net.eval()
        torch.testing.assert_close(out[:, m, : classes[m]], net(x[:, m]), atol=1e-5, rtol=1e-4)
        assert torch.isinf(out[:, m, classes[m]:]).all()


def test_fused_network_rejects_wrong_input() -> None:
    _, fused = _separate_and_fused([3, 3])
    with pytest.raises(ValueError, match=r"expected input \(batch, 2, 2, H, W\)"):
        fused(torch.zeros(4, 3, 2, 8, 8))
