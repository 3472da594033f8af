"""Builder throughput: fused networks against the naive one-model-at-a-time loop.

The ratio is measured in one run on one device and stored in ``benchmark.extra_info``.
With ``--benchmark-disable`` (the default) each test runs once on a tiny network.
Both steps start from the same seeded weights, so the ratio compares equal work; the
equivalence test checks that they really compute the same losses.
"""

from __future__ import annotations

import pytest
import torch

from tabular_bench.builder.throughput import Setting, images_per_s, make_step

TINY = Setting(channels=4, cells_per_stage=1, side=16, batch=32, models=4)


def _compare(benchmark, setting: Setting, device: torch.device, steps: int) -> None:
    naive = images_per_s(make_step("naive", setting, device), setting, device, steps)
    fused_step = make_step("fused", setting, device)
    fused_step()  # warm-up outside the timed rounds
    benchmark.pedantic(fused_step, rounds=steps, iterations=1)
    fused = images_per_s(fused_step, setting, device, steps)
    ratio = fused / naive
    benchmark.extra_info.update(
        naive_images_per_s=naive, fused_images_per_s=fused, fused_over_naive=ratio,
        models_in_flight=setting.models, device=str(device),
    )
    print(f"\n{device}: naive {naive:.1f} img/s, fused x{setting.models} {fused:.1f} img/s, "
          f"ratio {ratio:.2f}")


@pytest.fixture
def float64():
    """In float32 a near-constant batch-norm channel of a tiny random network can amplify
    rounding differences to 1e-3 within a few SGD steps; float64 shows the steps agree."""
    before = torch.get_default_dtype()
    torch.set_default_dtype(torch.float64)
    yield
    torch.set_default_dtype(before)


def test_fused_step_computes_what_naive_steps_compute(one_torch_thread, float64) -> None:
    naive, fused = (make_step(impl, TINY, torch.device("cpu")) for impl in ("naive", "fused"))
    for _ in range(3):  # later steps see updated weights and momentum buffers
        losses = naive()
        assert losses.dtype == torch.float64 and losses.shape == (TINY.models,)
        torch.testing.assert_close(fused(), losses, atol=1e-10, rtol=0)


def test_fused_against_naive_cpu(benchmark, one_torch_thread) -> None:
    _compare(benchmark, TINY, torch.device("cpu"), steps=2)


@pytest.mark.gpu
def test_fused_against_naive_gpu_nb201(benchmark) -> None:
    """The issue's setting: NB201 C=16, N=5, 32x32, batch 256, 32 models in flight."""
    _compare(benchmark, Setting(models=32), torch.device("cuda"), steps=10)
