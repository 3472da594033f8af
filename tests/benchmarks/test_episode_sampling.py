"""Episode sampling throughput: FewShotPool.sample against learn2learn's TaskDataset.

Both draw the same episodes shape (meta-batch of N-way K-shot Q-query tasks) from the same
real Omniglot meta-train pool (1,200 characters x 4 rotations) on the CPU. The ratio is
recorded in ``benchmark.extra_info`` and printed; run with
``pytest tests/benchmarks/test_episode_sampling.py --benchmark-enable -s``.
"""

from __future__ import annotations

import random
import time
from pathlib import Path

import pytest
import torch

from tasks.learn2learn_export import to_learn2learn
from tasks.omniglot import OmniglotRandomSplit

SHAPES = {"5w1s": (5, 1, 15, 32), "20w5s": (20, 5, 5, 16)}


@pytest.fixture(scope="module")
def train_pool(real_data: Path):
    return OmniglotRandomSplit(real_data / "omniglot", seed=0).pool("train")


def _episodes_per_second(draw, episodes_per_call: int, seconds: float) -> float:
    draw()
    calls, start = 0, time.perf_counter()
    while (elapsed := time.perf_counter() - start) < seconds:
        draw()
        calls += 1
    return calls * episodes_per_call / elapsed


@pytest.mark.slow
@pytest.mark.parametrize("setting", list(SHAPES))
def test_episode_sampling_vs_learn2learn(benchmark, train_pool, setting: str) -> None:
    ways, shots, queries, meta_batch = SHAPES[setting]
    gen = torch.Generator().manual_seed(0)
    taskset = to_learn2learn(train_pool, ways=ways, shots=shots, queries=queries)
    random.seed(0)

    def ours():
        return train_pool.sample(gen, meta_batch=meta_batch, ways=ways, shots=shots,
                                 queries=queries)

    def learn2learn():
        return [taskset.sample() for _ in range(meta_batch)]

    enabled = not benchmark.disabled
    seconds = 2.0 if enabled else 0.05
    ours_rate = _episodes_per_second(ours, meta_batch, seconds)
    l2l_rate = _episodes_per_second(learn2learn, meta_batch, seconds)
    batch = benchmark(ours)
    assert batch.x_query.shape == (meta_batch, ways * queries, 1, 28, 28)
    benchmark.extra_info.update({
        "setting": setting, "ours_episodes_per_s": ours_rate,
        "learn2learn_episodes_per_s": l2l_rate, "ratio": ours_rate / l2l_rate,
    })
    print(f"\nepisode sampling {setting} meta_batch={meta_batch}: ours {ours_rate:,.0f}/s, "
          f"learn2learn {l2l_rate:,.0f}/s, ratio {ours_rate / l2l_rate:.1f}x "
          f"(torch threads: {torch.get_num_threads()})")
