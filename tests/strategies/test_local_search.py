"""Local search climbs by best-improvement moves and restarts at local optima."""

from __future__ import annotations

import numpy as np

from metanas.strategies.local_search import LocalSearch
from strategies.synthetic import NB201_LIKE, additive_table, run

VALUES = additive_table(NB201_LIKE)
OPTIMUM = int(VALUES.argmax())


def test_climbs_to_the_optimum_of_an_additive_objective_without_repeats() -> None:
    for seed in range(5):
        strategy = LocalSearch(NB201_LIKE, seed=seed)
        keys = run(strategy, VALUES, steps=200)
        assert OPTIMUM in keys
        walk = keys[: keys.index(OPTIMUM) + 1]
        assert len(set(walk)) == len(walk)  # additive: the first walk ends there, no repeats


def test_moves_to_the_best_neighbour() -> None:
    strategy = LocalSearch(NB201_LIKE, seed=0)
    keys = run(strategy, VALUES, steps=1 + 24)  # the start and its whole neighbourhood
    start, neighbours = keys[0], keys[1:]
    around = NB201_LIKE.neighbours(NB201_LIKE.code(start))
    assert sorted(neighbours) == sorted(NB201_LIKE.keys(around))
    best = max(neighbours, key=VALUES.__getitem__)
    assert VALUES[best] > VALUES[start]  # an additive objective always has an improving move
    nxt = strategy.ask()
    assert strategy.centre == best
    assert np.count_nonzero(NB201_LIKE.code(best) != np.asarray(nxt.code)) == 1
    assert nxt.key not in keys


def test_restarts_from_a_random_cell_at_a_local_optimum() -> None:
    strategy = LocalSearch(NB201_LIKE, seed=0)
    space = NB201_LIKE
    centre = None
    for _ in range(300):
        restarts = strategy.restarts
        trial = strategy.ask()
        if strategy.restarts > restarts:  # this ask began a new walk from trial's cell
            neighbours = space.keys(space.neighbours(space.code(centre)))
            assert VALUES[neighbours].max() <= VALUES[centre]  # the old centre was an optimum
            assert strategy.centre == trial.key
        centre = strategy.centre
        strategy.tell(trial, float(VALUES[trial.key]))
    assert strategy.restarts >= 2
