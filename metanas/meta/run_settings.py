"""The data part of a training run's settings: a meta-split identified by content.

A job's output folder is deterministic (``runs/<experiment>``), so running a command again
resumes, and :class:`common_io.run_folder.RunFolder` refuses a folder recorded with
other settings. A training job's settings hold everything that changes the result: the
data (by content, not by path: :func:`pool_identity`), the network and meta-learner with
every keyword including defaults (:func:`common_io.fingerprint.describe_call`), the
episode shapes, the seed and the iteration counts. What may change between resumes is left
out, because it changes the result at most by floating-point rounding or not at all:
device, CPU threads, checkpoint and log intervals.
"""

from __future__ import annotations

import hashlib
from typing import Any

from tasks.episodes import FewShotPool


def pool_identity(pool: FewShotPool) -> dict[str, Any]:
    """A meta-split's data by content: class names, sizes and a hash of every pixel.

    The hash makes the data protocol (split seed, rotations, inversion, resizing) part of
    the settings without knowing which task distribution built the pool.
    """
    pixels = pool.data.detach().cpu().contiguous().numpy()
    identity = {
        "classes": pool.num_classes,
        "samples_per_class": pool.samples_per_class,
        "image_shape": list(pool.image_shape),
        "dtype": str(pool.data.dtype),
        "class_names_sha256": hashlib.sha256("\n".join(pool.class_names).encode()).hexdigest(),
        "pixels_sha256": hashlib.sha256(pixels.data).hexdigest(),
    }
    if pool.counts is not None:
        identity["counts_sha256"] = hashlib.sha256(pool.counts.numpy().tobytes()).hexdigest()
    return identity
