"""A performance predictor over NB201 cells: gradient-boosted trees on cell encodings.

Features are the one-hot code (30) and the BANANAS path encoding (84) of
:class:`~tabular_bench.spaces.NB201Space`. The model is scikit-learn's
``GradientBoostingRegressor``: on a few hundred cells, tree ensembles on these encodings
are among the strongest cheap NB201 predictors (White et al., "How powerful are
performance predictors in NAS?", NeurIPS 2021), and need no GPU or tuning loop.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.stats import kendalltau, spearmanr

from tabular_bench.spaces.nb201 import NB201


def features(codes: np.ndarray) -> np.ndarray:
    """One-hot and path encodings side by side, ``(n, 114)``."""
    codes = np.atleast_2d(np.asarray(codes, dtype=np.int64))
    return np.hstack([NB201.one_hot(codes), NB201.path_encoding(codes)])


@dataclass
class CellPredictor:
    """Predicts one objective of a cell from its code; fitted by :meth:`fit`."""

    seed: int = 0
    n_estimators: int = 400
    learning_rate: float = 0.05
    max_depth: int = 4
    subsample: float = 0.8

    def fit(self, codes: np.ndarray, values: np.ndarray) -> CellPredictor:
        from sklearn.ensemble import GradientBoostingRegressor

        values = np.asarray(values, dtype=np.float64)
        if len(values) < 2 or not np.isfinite(values).all():
            raise ValueError(f"need at least 2 finite training values, got {len(values)}")
        self._model = GradientBoostingRegressor(
            n_estimators=self.n_estimators,
            learning_rate=self.learning_rate,
            max_depth=self.max_depth,
            subsample=self.subsample,
            random_state=self.seed,
        ).fit(features(codes), values)
        return self

    def predict(self, codes: np.ndarray) -> np.ndarray:
        if not hasattr(self, "_model"):
            raise RuntimeError("call fit() before predict()")
        return self._model.predict(features(codes))


def rank_correlations(true: np.ndarray, predicted: np.ndarray) -> tuple[float, float]:
    """Kendall tau and Spearman rho between true and predicted values."""
    return float(kendalltau(true, predicted).statistic), float(spearmanr(true, predicted).statistic)
