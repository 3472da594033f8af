"""Regularized evolution keeps an aging population and selects by tournament."""

from __future__ import annotations

from itertools import combinations

import numpy as np
import pytest

from metanas.strategies.regularized_evolution import RegularizedEvolution
from strategies.synthetic import NB201_LIKE, additive_table, run


def test_population_holds_the_last_ten_results() -> None:
    strategy = RegularizedEvolution(NB201_LIKE, seed=0)
    keys = run(strategy, additive_table(NB201_LIKE), steps=57)
    assert len(strategy.population) == 10
    assert [NB201_LIKE.key(code) for code, _ in strategy.population] == keys[-10:]


def test_first_population_is_random_then_children_are_one_edge_mutants() -> None:
    strategy = RegularizedEvolution(NB201_LIKE, seed=1)
    values = additive_table(NB201_LIKE)
    run(strategy, values, steps=10)
    parents = {NB201_LIKE.key(code) for code, _ in strategy.population}
    codes = NB201_LIKE.codes(np.fromiter(parents, np.int64))
    for _ in range(50):  # asks without tells leave the population unchanged
        child = np.asarray(strategy.ask().code)
        assert (np.count_nonzero(codes != child, axis=1) == 1).any()


def _spread_out_population() -> RegularizedEvolution:
    """A strategy whose 10 random members are pairwise >= 3 edges apart, so a child's parent
    is the unique member one edge away."""
    for seed in range(200):
        strategy = RegularizedEvolution(NB201_LIKE, seed=seed)
        trials = [strategy.ask() for _ in range(10)]
        codes = np.array([t.code for t in trials])
        if all(np.count_nonzero(a != b) >= 3 for a, b in combinations(codes, 2)):
            for rank, trial in enumerate(trials):
                strategy.tell(trial, float(rank))  # member i has the i-th lowest value
            return strategy
    raise AssertionError("no seed gave a spread-out population")


def test_tournament_picks_the_best_of_three_drawn_with_replacement() -> None:
    strategy = _spread_out_population()
    members = np.array([code for code, _ in strategy.population])
    draws = 4000
    counts = np.zeros(10)
    for _ in range(draws):
        child = np.asarray(strategy.ask().code)
        (parent,) = np.flatnonzero(np.count_nonzero(members != child, axis=1) == 1)
        counts[parent] += 1
    # P(best of 3 draws with replacement has rank k) = ((k+1)^3 - k^3) / 10^3.
    ranks = np.arange(10)
    expected = ((ranks + 1) ** 3 - ranks**3) / 1000
    np.testing.assert_allclose(counts / draws, expected, atol=0.025)


def test_invalid_sizes_are_rejected() -> None:
    with pytest.raises(ValueError, match="population_size"):
        RegularizedEvolution(NB201_LIKE, seed=0, population_size=0)
    with pytest.raises(ValueError, match="sample_size"):
        RegularizedEvolution(NB201_LIKE, seed=0, population_size=10, sample_size=11)
