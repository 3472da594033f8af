"""Supernet mechanics: one-hot alpha is the discrete network of the space's cell (NB201,
TransNAS-Bench-101 micro), derivation rules, spaces no supernet can be built over."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from torch.func import grad, replace_all_batch_norm_modules_

from metanas.supernet.functional import loss_fn
from metanas.supernet.network import ALPHA, SuperNet, derive_codes, one_hot_weights
from tabular_bench.models import TinyNetwork
from tabular_bench.spaces import NB201, TRANSNAS_MICRO, CellSearchSpace

NONE = NB201.zero_op
CODE = NB201.from_string(
    "|nor_conv_3x3~0|+|none~0|avg_pool_3x3~1|+|skip_connect~0|nor_conv_1x1~1|nor_conv_3x3~2|"
)
MICRO_CODE = TRANSNAS_MICRO.from_string("64-41414-3_01_213")


def _tiny_from_supernet(net: SuperNet, code: np.ndarray) -> TinyNetwork:
    """The space's TinyNetwork of ``code`` carrying the supernet's weights for those ops."""
    tiny = TinyNetwork([net.space.op_names[o] for o in code], channels=4, cells_per_stage=1,
                       num_classes=5, in_channels=1, space=net.space)
    replace_all_batch_norm_modules_(tiny)
    features = list(tiny.features)
    with torch.no_grad():
        features[0].load_state_dict(net.stem[0].state_dict())
        features[1].load_state_dict(net.stem[1].state_dict())
        for block, target in zip(net.blocks, features[2:7], strict=True):
            if hasattr(block, "ops"):
                for e, op in enumerate(target.edges):
                    op.load_state_dict(block.ops[e][int(code[e])].state_dict())
            else:
                target.load_state_dict(block.state_dict())
        features[7].load_state_dict(net.head[0].state_dict())
        tiny.classifier.load_state_dict(net.head[4].state_dict())
    return tiny


@pytest.mark.parametrize("space,code", [(NB201, CODE), (TRANSNAS_MICRO, MICRO_CODE)],
                         ids=["nb201", "transnas_micro"])
def test_one_hot_supernet_is_the_discrete_network(space: CellSearchSpace, code) -> None:
    net = SuperNet(channels=4, stem_stride=1, space=space,
                   generator=torch.Generator().manual_seed(1))
    assert net.alpha.shape == (space.num_edges, space.num_ops)
    tiny = _tiny_from_supernet(net, code)
    x = torch.randn(6, 1, 32, 32, generator=torch.Generator().manual_seed(2))
    expected = tiny(x)
    weights = one_hot_weights(torch.from_numpy(code), space)
    torch.testing.assert_close(net(x, op_weights=weights), expected, rtol=1e-5, atol=1e-5)
    with torch.no_grad():  # one-hot alpha (saturated softmax) gives the same network
        net.alpha.copy_(60.0 * weights)
    torch.testing.assert_close(net(x), expected, rtol=1e-5, atol=1e-5)


def test_mixed_output_differs_from_any_single_cell() -> None:
    net = SuperNet(channels=4, generator=torch.Generator().manual_seed(0))
    x = torch.randn(4, 1, 28, 28)
    one_cell = net(x, op_weights=one_hot_weights(torch.from_numpy(CODE)))
    assert not torch.allclose(net(x), one_cell, atol=1e-4)


def test_gradients_reach_alpha_and_every_weight() -> None:
    net = SuperNet(channels=4, generator=torch.Generator().manual_seed(0))
    params = {k: p.detach() for k, p in net.named_parameters()}
    x, y = torch.randn(10, 1, 28, 28), torch.arange(5).repeat(2)
    grads = grad(loss_fn)(params, net, x, y)
    assert grads[ALPHA].abs().sum() > 0
    assert grads[ALPHA][:, NONE].abs().sum() > 0  # none competes for softmax mass
    dead = [k for k, g in grads.items() if k != ALPHA and g.abs().sum() == 0]
    assert not dead, f"no gradient reaches {dead}"


def test_derived_cell_gets_no_gradient_on_unchosen_ops() -> None:
    net = SuperNet(channels=4, generator=torch.Generator().manual_seed(0))
    params = {k: p.detach() for k, p in net.named_parameters()}
    x, y = torch.randn(10, 1, 28, 28), torch.arange(5).repeat(2)
    grads = grad(loss_fn)(params, net, x, y, one_hot_weights(torch.from_numpy(CODE)))
    for e, op in enumerate(CODE):
        for o in range(NB201.num_ops):
            names = [k for k in grads if k.startswith(f"blocks.0.ops.{e}.{o}.")]
            moved = any(grads[k].abs().sum() > 0 for k in names)
            assert moved == (o == op and names != []), (e, o)


def test_derive_codes_takes_argmax_but_never_none() -> None:
    alpha = torch.zeros(2, 6, 5)
    alpha[0, :, NONE] = 5.0
    alpha[0, :, 3] = 1.0
    alpha[1] = torch.arange(5.0)
    codes = derive_codes(alpha)
    assert codes.shape == (2, 6)
    assert (codes[0] == 3).all() and (codes[1] == 4).all()
    assert alpha[0, 0, NONE] == 5.0  # the input is not modified


@pytest.mark.parametrize("side", [28, 32, 21])
def test_any_input_side_is_padded_to_fit_the_reductions(side: int) -> None:
    net = SuperNet(channels=4)
    assert net(torch.randn(2, 1, side, side)).shape == (2, 5)


def test_bad_sizes_are_rejected() -> None:
    with pytest.raises(ValueError, match="channels"):
        SuperNet(channels=0)


def test_transnas_micro_supernet_runs_and_derives_official_cells() -> None:
    net = SuperNet(channels=2, space=TRANSNAS_MICRO, generator=torch.Generator().manual_seed(0))
    assert net(torch.randn(3, 1, 12, 12)).shape == (3, 5)
    alpha = torch.randn(8, 6, 4, generator=torch.Generator().manual_seed(1))
    alpha[0, :, TRANSNAS_MICRO.zero_op] = 9.0  # the zero op never wins the derivation
    codes = derive_codes(alpha, TRANSNAS_MICRO).numpy()
    assert codes.shape == (8, 6) and (codes != TRANSNAS_MICRO.zero_op).all()
    for code in codes:
        arch = TRANSNAS_MICRO.to_string(code)
        assert arch.startswith("64-41414-")
        np.testing.assert_array_equal(TRANSNAS_MICRO.from_string(arch), code)
    with pytest.raises(ValueError, match=r"transnas_micro supernet ends in .* \(6, 4\)"):
        derive_codes(torch.zeros(6, 5), TRANSNAS_MICRO)


def test_spaces_no_supernet_can_be_built_over_are_refused() -> None:
    with pytest.raises(ValueError, match="'flat' has no cell DAG"):
        SuperNet(space=CellSearchSpace("flat", ("none", "nor_conv_3x3"), 3))
    with pytest.raises(ValueError, match=r"no module for op\(s\) \['conv5x5'\]"):
        SuperNet(space=CellSearchSpace("odd", ("none", "conv5x5"), 1, edges=((1, 0),)))
