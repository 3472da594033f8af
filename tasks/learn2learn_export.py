"""Export a :class:`~tasks.episodes.FewShotPool` as a learn2learn ``TaskDataset``.

For comparisons with learn2learn (its MAML examples, parity tests, the sampling
benchmark). learn2learn draws tasks with Python's global ``random`` module, so its episodes
are reproducible only through ``random.seed``; our own sampler owns its generator.
"""

from __future__ import annotations

import torch

from tasks.episodes import FewShotPool


def to_learn2learn(
    pool: FewShotPool, *, ways: int, shots: int, queries: int, num_tasks: int = -1
):  # -> learn2learn.data.TaskDataset (lazy import: learn2learn is heavy)
    """A ``TaskDataset`` whose tasks are ``(x, y)`` with ``ways * (shots + queries)`` samples.

    Labels are remapped to ``0..ways-1`` and grouped by class; split each task into support
    and query with ``learn2learn.data.utils.partition_task(x, y, shots)``.
    """
    import learn2learn as l2l

    pool.check(ways=ways, shots=shots, queries=queries)
    width = pool.data.shape[1]
    counts = torch.full((pool.num_classes,), width) if pool.counts is None else pool.counts
    valid = torch.arange(width) < counts[:, None]
    images = pool.data.reshape(-1, *pool.image_shape)[valid.reshape(-1).to(pool.device)]
    if images.dtype == torch.uint8:
        images = images.float().div_(255.0)
    labels = torch.arange(pool.num_classes).repeat_interleave(counts)
    starts = torch.cumsum(counts, 0) - counts
    labels_to_indices = {
        c: list(range(int(starts[c]), int(starts[c] + counts[c]))) for c in range(len(counts))
    }
    dataset = l2l.data.MetaDataset(
        torch.utils.data.TensorDataset(images, labels), labels_to_indices=labels_to_indices
    )
    transforms = [
        l2l.data.transforms.NWays(dataset, ways),
        l2l.data.transforms.KShots(dataset, shots + queries),
        l2l.data.transforms.LoadData(dataset),
        l2l.data.transforms.RemapLabels(dataset),
        l2l.data.transforms.ConsecutiveLabels(dataset),
    ]
    return l2l.data.TaskDataset(dataset, task_transforms=transforms, num_tasks=num_tasks)
