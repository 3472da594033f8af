"""Meta-training throughput (tasks/s) of our MAML against learn2learn's, in the same run.

Omniglot 5-way 1-shot, meta-batch 32, second order, the same Conv-4, the same real
episodes and device. The ratio (ours / learn2learn) is recorded in ``extra_info`` and
printed; nothing is asserted about time. Run with ``--benchmark-enable`` to measure:

    python -m pytest tests/benchmarks/test_meta_throughput.py --benchmark-enable -s
"""

from __future__ import annotations

import time
from collections.abc import Callable

import learn2learn as l2l
import pytest
import torch

from metanas.meta.backbones import omniglot_conv4
from metanas.meta.maml import MAML
from metanas.meta.reference import learn2learn_meta_loss, learn2learn_omniglot_cnn
from tasks.episodes import EpisodeBatch
from tasks.registry import make

META_BATCH, WAYS, SHOTS = 32, 5, 1


@pytest.fixture(scope="module")
def omniglot_batch(real_data) -> EpisodeBatch:
    pool = make("omniglot_maml").pool("train")
    return pool.sample(torch.Generator().manual_seed(0), meta_batch=META_BATCH, ways=WAYS,
                       shots=SHOTS, queries=SHOTS)


def _steps(batch: EpisodeBatch, device: torch.device) -> dict[str, Callable[[], None]]:
    """One meta-training step of each implementation, from the same initialization."""
    torch.manual_seed(0)
    model = omniglot_conv4(WAYS).to(device)
    reference = learn2learn_omniglot_cnn(model).to(device)
    ours = MAML(model, inner_lr=0.4, train_steps=1)
    theirs = l2l.algorithms.MAML(reference, lr=0.4)
    optimizer = torch.optim.Adam(reference.parameters(), lr=1e-3)
    batch = batch.to(device)
    gen = torch.Generator().manual_seed(0)

    def ours_step() -> None:
        ours.meta_train_step(batch, progress=0.0, rng=gen)

    def theirs_step() -> None:
        loss, _ = learn2learn_meta_loss(theirs, batch, steps=1)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()

    return {"ours": ours_step, "learn2learn": theirs_step}


def _tasks_per_s(step: Callable[[], None], device: torch.device, rounds: int) -> float:
    step()  # warm-up
    if device.type == "cuda":
        torch.cuda.synchronize()
    started = time.perf_counter()
    for _ in range(rounds):
        step()
    if device.type == "cuda":
        torch.cuda.synchronize()
    return META_BATCH * rounds / (time.perf_counter() - started)


def _compare(benchmark, batch: EpisodeBatch, device: torch.device) -> None:
    steps = _steps(batch, device)
    enabled = not benchmark.disabled
    rounds = (20 if device.type == "cuda" else 3) if enabled else 1
    theirs = _tasks_per_s(steps["learn2learn"], device, rounds)
    benchmark.pedantic(steps["ours"], rounds=rounds, iterations=1, warmup_rounds=1)
    ours = _tasks_per_s(steps["ours"], device, rounds)
    ratio = ours / theirs
    benchmark.extra_info.update(
        ours_tasks_per_s=ours, learn2learn_tasks_per_s=theirs, ratio=ratio,
        device=str(device), threads=torch.get_num_threads(),
    )
    print(f"\nMAML 5w1s meta-batch {META_BATCH} second order on {device}: ours {ours:.1f} "
          f"tasks/s, learn2learn {theirs:.1f} tasks/s, ratio {ratio:.2f}x")


def test_maml_throughput_cpu(benchmark, omniglot_batch: EpisodeBatch) -> None:
    _compare(benchmark, omniglot_batch, torch.device("cpu"))


@pytest.mark.gpu
def test_maml_throughput_gpu(benchmark, omniglot_batch: EpisodeBatch) -> None:
    _compare(benchmark, omniglot_batch, torch.device("cuda"))
