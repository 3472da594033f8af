"""The cluster bootstrap: a hand case, widening with clustering, reproducibility."""

from __future__ import annotations

import numpy as np
import pytest

from metanas import stats


def test_two_clusters_give_the_hand_computed_interval() -> None:
    # Resamples of clusters {A: [0, 0], B: [1, 1, 1, 1]}: AA -> 0, AB -> 4/6, BB -> 1.
    values = [0.0, 0.0, 1.0, 1.0, 1.0, 1.0]
    interval = stats.cluster_bootstrap(values, ["A", "A", "B", "B", "B", "B"], seed=3)
    assert interval.mean == pytest.approx(4 / 6)
    assert (interval.low, interval.high) == (0.0, 1.0)
    assert interval.clusters == 2 and interval.half_width == 0.5


def clustered(rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """10 clusters x 10 runs: a cluster effect (sd 1) dominates the run noise (sd 0.1)."""
    labels = np.repeat(np.arange(10), 10)
    return rng.normal(size=10)[labels] + 0.1 * rng.normal(size=100), labels


def test_interval_widens_with_clustering() -> None:
    values, labels = clustered(np.random.default_rng(0))
    by_cluster = stats.cluster_bootstrap(values, labels, seed=0)
    by_run = stats.cluster_bootstrap(values, None, seed=0)
    assert by_cluster.mean == pytest.approx(by_run.mean)
    # design effect 1 + (m - 1) * icc = 1 + 9 * 0.99: about 3x wider
    assert by_cluster.half_width > 2.5 * by_run.half_width


def test_labels_that_do_not_cluster_the_values_change_little() -> None:
    rng = np.random.default_rng(1)
    values = rng.normal(size=100)
    by_cluster = stats.cluster_bootstrap(values, np.repeat(np.arange(10), 10), seed=0)
    by_run = stats.cluster_bootstrap(values, None, seed=0)
    assert 0.6 < by_cluster.half_width / by_run.half_width < 1.5


def test_seeded_reproducible_and_vectorised_over_columns() -> None:
    values, labels = clustered(np.random.default_rng(2))
    first = stats.cluster_bootstrap(values, labels, seed=7)
    assert first == stats.cluster_bootstrap(values, labels, seed=7)
    assert first != stats.cluster_bootstrap(values, labels, seed=8)
    both = stats.cluster_bootstrap(np.c_[values, values + 1.0], labels, seed=7)
    np.testing.assert_allclose(both.low, [first.low, first.low + 1.0])
    np.testing.assert_allclose(both.high, [first.high, first.high + 1.0])


def test_bad_input_names_the_fix() -> None:
    with pytest.raises(ValueError, match="clusters"):
        stats.cluster_bootstrap([1.0, 2.0], [0, 0])
    with pytest.raises(ValueError, match="one label per run"):
        stats.cluster_bootstrap([1.0, 2.0], [0, 1, 2])
    with pytest.raises(ValueError, match="NaN"):
        stats.cluster_bootstrap([1.0, np.nan])
