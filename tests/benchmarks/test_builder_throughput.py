"""Builder throughput: fused networks against the naive one-model-at-a-time loop.

The ratio is measured in one run on one device and stored in ``benchmark.extra_info``.
With ``--benchmark-disable`` (the default) each test runs once on a tiny network.
"""

from __future__ import annotations

import pytest
import torch

from tabular_bench.build.throughput import Setting, images_per_s, make_step


def _compare(benchmark, setting: Setting, device: torch.device, steps: int) -> float:
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
    return ratio


def test_fused_against_naive_cpu(benchmark) -> None:
    ratio = _compare(benchmark, Setting(channels=4, cells_per_stage=1, side=16, batch=32,
                                        models=4), torch.device("cpu"), steps=2)
    assert ratio > 0


@pytest.mark.gpu
def test_fused_against_naive_gpu_nb201(benchmark) -> None:
    """The issue's setting: NB201 C=16, N=5, 32x32, batch 256, 32 models in flight."""
    ratio = _compare(benchmark, Setting(models=32), torch.device("cuda"), steps=10)
    assert ratio > 0
