"""Few-shot episodes sampled by tensor indexing from a class-major image pool.

A :class:`FewShotPool` holds every image of one meta-split as one tensor shaped
``(num_classes, samples_per_class, C, H, W)`` on a chosen device. An episode batch is a
handful of ``torch.rand``/``topk`` calls and two ``index_select`` gathers: no Python loop over
episodes or images and no decoding, which is what keeps sampling far above 10,000
episodes/s on a CPU.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from numbers import Integral

import numpy as np
import torch

from tasks.errors import EpisodeSizeError

Rng = torch.Generator | np.random.Generator
_NUMPY_DTYPES = (torch.float32, torch.float64, torch.float16, torch.uint8)


@dataclass(frozen=True)
class EpisodeBatch:
    """``meta_batch`` episodes; labels are ``0..ways-1`` and samples are class-major.

    ``x_support[b, i * shots + s]`` is support sample ``s`` of class ``i`` of episode ``b``;
    the query set is laid out the same way with ``queries`` per class. ``classes[b, i]`` is
    the pool class behind label ``i`` (for bookkeeping and tests).
    """

    x_support: torch.Tensor
    y_support: torch.Tensor
    x_query: torch.Tensor
    y_query: torch.Tensor
    classes: torch.Tensor

    @property
    def meta_batch(self) -> int:
        return self.x_support.shape[0]

    def to(self, device: torch.device | str) -> EpisodeBatch:
        """Move every tensor to ``device``."""
        return EpisodeBatch(
            *(t.to(device, non_blocking=True) for t in (
                self.x_support, self.y_support, self.x_query, self.y_query, self.classes
            ))
        )


def torch_generator(rng: Rng) -> torch.Generator:
    """Return ``rng`` itself, or a CPU generator seeded from the numpy generator.

    Drawing the seed advances the numpy generator, so successive calls differ and the whole
    stream is reproducible from the numpy seed.
    """
    if isinstance(rng, torch.Generator):
        return rng
    if isinstance(rng, np.random.Generator):
        return torch.Generator().manual_seed(int(rng.integers(2**63 - 1)))
    raise TypeError(
        f"rng must be a torch.Generator or numpy.random.Generator, got {type(rng).__name__}: "
        "pass e.g. torch.Generator().manual_seed(0) or numpy.random.default_rng(0)"
    )


class FewShotPool:
    """Every image of one meta-split, ready for vectorised episode sampling.

    :param data: images shaped ``(num_classes, samples_per_class, C, H, W)``. Classes with
        fewer samples are padded at the end and their true sizes passed in ``counts``.
    :param split: name of the meta-split (``"train"``, ``"val"``, ``"test"``), quoted in errors.
    :param class_names: one name per class, e.g. ``"Greek/character05@90"``.
    :param counts: valid samples per class; ``None`` when every class is full.
    """

    def __init__(
        self,
        data: torch.Tensor,
        *,
        split: str,
        class_names: Sequence[str],
        counts: torch.Tensor | None = None,
    ) -> None:
        if data.ndim != 5:
            raise ValueError(
                f"pool data for split {split!r} must be (classes, samples, C, H, W), "
                f"got shape {tuple(data.shape)}"
            )
        if len(class_names) != data.shape[0]:
            raise ValueError(
                f"split {split!r}: {len(class_names)} class names for {data.shape[0]} classes"
            )
        self.data = data
        self.split = split
        self.class_names = tuple(class_names)
        full = counts is None or bool((counts == data.shape[1]).all())
        self.counts = None if full else counts.to(torch.int64).cpu()
        self._flat = data.reshape(-1, *data.shape[2:])
        # CPU gathers go through numpy: single-threaded and memory-bound, they do not stall
        # on torch's intra-op thread barriers, which dominate when the CPU is shared.
        self._flat_numpy = (
            self._flat.numpy() if data.device.type == "cpu" and data.dtype in _NUMPY_DTYPES
            else None
        )

    @property
    def num_classes(self) -> int:
        return self.data.shape[0]

    @property
    def samples_per_class(self) -> int:
        """Samples of the smallest class: the most ``shots + queries`` an episode can take."""
        return self.data.shape[1] if self.counts is None else int(self.counts.min())

    @property
    def image_shape(self) -> tuple[int, int, int]:
        return tuple(self.data.shape[2:])  # type: ignore[return-value]

    @property
    def device(self) -> torch.device:
        return self.data.device

    def __repr__(self) -> str:
        return (
            f"FewShotPool(split={self.split!r}, classes={self.num_classes}, "
            f"samples_per_class={self.samples_per_class}, image_shape={self.image_shape}, "
            f"dtype={self.data.dtype}, device={self.device})"
        )

    def check(self, *, ways: int, shots: int, queries: int) -> None:
        """Raise :class:`EpisodeSizeError` unless this split can serve the episode shape."""
        require_integers(self.split, ways=ways, shots=shots, queries=queries)
        if ways < 1 or shots < 1 or queries < 0:
            raise EpisodeSizeError(
                f"split {self.split!r}: need ways >= 1, shots >= 1, queries >= 0; got "
                f"ways={ways}, shots={shots}, queries={queries}"
            )
        if ways > self.num_classes:
            raise EpisodeSizeError(
                f"split {self.split!r} has {self.num_classes} classes, fewer than ways={ways}: "
                f"ask for at most {self.num_classes} ways, or use a split or protocol with "
                "more classes"
            )
        if shots + queries > self.samples_per_class:
            raise EpisodeSizeError(
                f"split {self.split!r} has {self.samples_per_class} samples in its smallest "
                f"class, fewer than shots + queries = {shots} + {queries}: lower shots or "
                f"queries so that shots + queries <= {self.samples_per_class}"
            )

    def sample(
        self, rng: Rng, *, meta_batch: int, ways: int, shots: int, queries: int
    ) -> EpisodeBatch:
        """Draw ``meta_batch`` independent ``ways``-way ``shots``-shot episodes.

        Each episode takes ``ways`` distinct classes, and from each class ``shots + queries``
        distinct samples: the first ``shots`` are support, the rest query. The result depends
        only on the generator's state (indices are drawn on the generator's device, so a
        CPU generator gives the same episodes whatever device the pool is on).
        """
        self.check(ways=ways, shots=shots, queries=queries)
        require_integers(self.split, meta_batch=meta_batch)
        if meta_batch < 1:
            raise EpisodeSizeError(f"split {self.split!r}: meta_batch must be >= 1")
        gen = torch_generator(rng)
        width = self.data.shape[1]
        classes = distinct_indices(gen, torch.full((meta_batch,), self.num_classes), ways)
        sizes = torch.full((meta_batch, ways), width) if self.counts is None else (
            self.counts.to(classes.device)[classes])
        samples = distinct_indices(gen, sizes.reshape(-1), shots + queries).view(
            meta_batch, ways, -1)
        flat = (classes[..., None] * width + samples).to(self.device)
        image = self.image_shape
        x_support = self._gather(flat[..., :shots].reshape(-1))
        x_query = self._gather(flat[..., shots:].reshape(-1))
        labels = torch.arange(ways, device=self.device)
        return EpisodeBatch(
            x_support=_as_float(x_support).view(meta_batch, ways * shots, *image),
            y_support=labels.repeat_interleave(shots).repeat(meta_batch, 1),
            x_query=_as_float(x_query).view(meta_batch, ways * queries, *image),
            y_query=labels.repeat_interleave(queries).repeat(meta_batch, 1),
            classes=classes.to(self.device),
        )

    def _gather(self, index: torch.Tensor) -> torch.Tensor:
        if self._flat_numpy is None:
            return self._flat.index_select(0, index)
        return torch.from_numpy(np.take(self._flat_numpy, index.numpy(), axis=0))


def require_integers(split: str, **sizes: object) -> None:
    """Raise :class:`EpisodeSizeError` naming the first size that is not an integer.

    ``ways=5.0`` would otherwise fail deep inside ``torch.rand`` (or, for a bool, silently
    mean 1); numpy integers are fine.
    """
    for name, value in sizes.items():
        if isinstance(value, bool) or not isinstance(value, Integral):
            raise EpisodeSizeError(
                f"split {split!r}: {name} must be an integer, got {value!r} "
                f"({type(value).__name__}); write e.g. {name}=5, not 5.0"
            )


def distinct_indices(gen: torch.Generator, sizes: torch.Tensor, k: int) -> torch.Tensor:
    """Row ``r``: ``k`` distinct indices drawn uniformly from ``range(sizes[r])``, in random order.

    When duplicates are rare (``k * k <= min(sizes)``) rows are drawn with replacement and
    the few rows holding a duplicate are drawn again: rejection keeps the result uniform
    and costs ``O(rows * k)`` instead of ``O(rows * size)``. Otherwise the top-``k`` of iid
    keys over each row's range (padding masked out) give a uniformly random ordered subset.
    """
    sizes = sizes.to(gen.device)
    rows = len(sizes)
    if k * k <= int(sizes.min()):
        out = _scaled_randint(gen, sizes, k)
        while True:
            ordered = out.sort(dim=1).values
            repeated = (ordered[:, 1:] == ordered[:, :-1]).any(dim=1).nonzero().squeeze(1)
            if len(repeated) == 0:
                return out
            out[repeated] = _scaled_randint(gen, sizes[repeated], k)
    width = int(sizes.max())
    keys = torch.rand(rows, width, generator=gen, device=gen.device)
    keys.masked_fill_(torch.arange(width, device=gen.device) >= sizes[:, None], -1.0)
    return keys.topk(k, dim=1).indices


def _scaled_randint(gen: torch.Generator, sizes: torch.Tensor, k: int) -> torch.Tensor:
    """``k`` iid uniform integers per row in ``range(sizes[row])``."""
    uniform = torch.rand(len(sizes), k, generator=gen, device=gen.device, dtype=torch.float64)
    return (uniform * sizes[:, None]).long().clamp_(max=sizes[:, None] - 1)


def _as_float(images: torch.Tensor) -> torch.Tensor:
    """uint8 pixels to floats in [0, 1]; float pools are returned as they are."""
    if images.dtype == torch.uint8:
        return images.to(torch.float32).mul_(1.0 / 255.0)
    return images
