"""FewShotPool mechanics on synthetic pools: determinism, composition, labels, errors."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from tasks import EpisodeSizeError, FewShotPool
from tasks.base import LabelledImages
from tasks.episodes import distinct_indices


def identity_pool(classes: int = 30, per_class: int = 20, dtype=torch.float32) -> FewShotPool:
    """Pixel value encodes (class, sample), so every drawn image can be traced back."""
    ids = torch.arange(classes * per_class, dtype=torch.float64).view(classes, per_class)
    data = ids.view(classes, per_class, 1, 1, 1).expand(-1, -1, 1, 2, 2).to(dtype).clone()
    return FewShotPool(data, split="train", class_names=[f"c{i}" for i in range(classes)])


def sample(pool: FewShotPool, seed: int, **shape):
    shape = {"meta_batch": 8, "ways": 5, "shots": 2, "queries": 3} | shape
    return pool.sample(torch.Generator().manual_seed(seed), **shape)


def test_same_seed_same_episodes_new_seed_new_episodes() -> None:
    pool = identity_pool()
    a, b, c = sample(pool, 0), sample(pool, 0), sample(pool, 1)
    assert torch.equal(a.x_support, b.x_support) and torch.equal(a.x_query, b.x_query)
    assert not torch.equal(a.x_support, c.x_support)


def test_numpy_generator_is_deterministic_and_advances() -> None:
    pool = identity_pool()
    shape = {"meta_batch": 4, "ways": 5, "shots": 1, "queries": 1}
    first = pool.sample(np.random.default_rng(3), **shape)
    again = pool.sample(np.random.default_rng(3), **shape)
    rng = np.random.default_rng(3)
    pool.sample(rng, **shape)
    second = pool.sample(rng, **shape)
    assert torch.equal(first.x_query, again.x_query)
    assert not torch.equal(first.x_query, second.x_query)


def test_shapes_labels_and_composition() -> None:
    pool, ways, shots, queries = identity_pool(), 5, 2, 3
    batch = sample(pool, 7, ways=ways, shots=shots, queries=queries)
    assert batch.x_support.shape == (8, ways * shots, 1, 2, 2)
    assert batch.x_query.shape == (8, ways * queries, 1, 2, 2)
    assert batch.x_support.dtype == torch.float32 and batch.y_support.dtype == torch.int64
    assert torch.equal(batch.y_support[0], torch.arange(ways).repeat_interleave(shots))
    assert torch.equal(batch.y_query[3], torch.arange(ways).repeat_interleave(queries))
    for b in range(8):
        assert len(set(batch.classes[b].tolist())) == ways
        support = batch.x_support[b, :, 0, 0, 0].long().view(ways, shots)
        query = batch.x_query[b, :, 0, 0, 0].long().view(ways, queries)
        for label in range(ways):
            drawn = torch.cat([support[label], query[label]])
            assert len(set(drawn.tolist())) == shots + queries  # distinct samples
            assert (drawn // 20 == batch.classes[b, label]).all()  # all from that class


def test_uint8_pool_gives_the_same_episodes_scaled() -> None:
    images = LabelledImages(
        np.arange(10 * 6 * 4, dtype=np.uint8).reshape(60, 1, 2, 2),
        np.repeat(np.arange(10), 6), tuple(map(str, range(10))),
    )
    as_float = images.to_pool("train")
    as_uint8 = images.to_pool("train", dtype=torch.uint8)
    a, b = sample(as_float, 5, ways=3), sample(as_uint8, 5, ways=3)
    assert torch.allclose(a.x_query, b.x_query) and a.x_query.max() <= 1.0


def test_ragged_classes_never_draw_padding() -> None:
    counts = np.array([3, 9, 5, 4])
    labels = np.repeat(np.arange(4), counts)
    images = LabelledImages(np.arange(len(labels), dtype=np.uint8).reshape(-1, 1, 1, 1) + 1,
                            labels, ("a", "b", "c", "d"))
    pool = images.to_pool("train", dtype=torch.uint8)
    assert pool.samples_per_class == 3
    batch = pool.sample(torch.Generator().manual_seed(0), meta_batch=200, ways=4, shots=2,
                        queries=1)
    values = (torch.cat([batch.x_support, batch.x_query], 1) * 255).round().long()
    assert (values > 0).all()  # zero is padding
    for b in range(200):
        support = values[b, :8].view(4, 2)
        for label in range(4):
            klass = int(batch.classes[b, label])
            assert ((labels[support[label].numpy() - 1]) == klass).all()


def test_every_class_and_sample_gets_drawn() -> None:
    pool = identity_pool(classes=6, per_class=4)
    batch = sample(pool, 0, meta_batch=300, ways=2, shots=1, queries=1)
    seen = torch.cat([batch.x_support, batch.x_query], 1)[..., 0, 0, 0].long().unique()
    assert len(seen) == 24


@pytest.mark.parametrize("size", [4, 400])  # top-k path and rejection path
def test_distinct_indices_are_distinct_and_in_range(size: int) -> None:
    gen = torch.Generator().manual_seed(0)
    drawn = distinct_indices(gen, torch.full((500,), size), 4)
    assert drawn.min() >= 0 and drawn.max() < size
    assert (drawn.sort(1).values.diff(dim=1) > 0).all()
    # Uniform in every position: each quarter of the range gets ~125 of 500 draws per
    # column (sd ~10); an offset, clamp or ordering bias pushes some far outside.
    quarters = drawn * 4 // size
    counts = torch.stack([torch.bincount(quarters[:, j], minlength=4) for j in range(4)])
    assert counts.min() >= 80 and counts.max() <= 170, counts


def test_too_many_ways_names_split_and_numbers() -> None:
    with pytest.raises(EpisodeSizeError, match=r"split 'train' has 30 classes.*ways=31"):
        sample(identity_pool(), 0, ways=31)


def test_too_many_shots_names_split_and_fix() -> None:
    with pytest.raises(EpisodeSizeError, match=r"20 samples.*15 \+ 6.*shots \+ queries <= 20"):
        sample(identity_pool(), 0, shots=15, queries=6)


@pytest.mark.parametrize("shape", [{"ways": 5.0}, {"shots": 2.0}, {"queries": True},
                                   {"meta_batch": 8.0}, {"ways": "5"}])
def test_non_integer_episode_shape_names_the_setting(shape: dict) -> None:
    name, value = next(iter(shape.items()))
    with pytest.raises(EpisodeSizeError, match=rf"{name} must be an integer, got {value!r}"):
        sample(identity_pool(), 0, **shape)


def test_numpy_integers_are_accepted() -> None:
    batch = sample(identity_pool(), 0, ways=np.int64(5), shots=np.int32(2))
    assert batch.x_support.shape == (8, 10, 1, 2, 2)


def test_bad_generator_type_is_rejected() -> None:
    with pytest.raises(TypeError, match=r"torch\.Generator"):
        identity_pool().sample(0, meta_batch=1, ways=2, shots=1, queries=1)  # type: ignore
