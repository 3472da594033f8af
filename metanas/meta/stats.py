"""The one 95% confidence interval of a mean that every metanas report uses."""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike
from scipy import stats

#: From this many values on, the normal quantile 1.96 replaces Student's t. MAML and
#: Reptile report normal intervals over their 600+ meta-test episodes (where t differs by
#: 0.2%), and ``results/omniglot`` was computed so; smaller samples (10 meta-training
#: seeds, 100 episodes) need t.
NORMAL_FROM = 600


def mean_ci95(values: ArrayLike) -> tuple[float, float]:
    """Mean of ``values`` and the half-width of its 95% interval, in the values' units.

    Student's t with ``n - 1`` degrees of freedom below :data:`NORMAL_FROM` values, the
    normal 1.96 from there on; the half-width is NaN for fewer than two values.
    """
    values = np.asarray(values, dtype=np.float64).ravel()
    if values.size == 0:
        raise ValueError("mean_ci95 needs at least one value")
    mean = float(values.mean())
    if values.size < 2:
        return mean, float("nan")
    quantile = 1.96 if values.size >= NORMAL_FROM else stats.t.ppf(0.975, values.size - 1)
    return mean, float(quantile * values.std(ddof=1) / np.sqrt(values.size))
