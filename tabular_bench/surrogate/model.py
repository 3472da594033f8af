"""A performance predictor over a space's architectures: gradient-boosted trees on encodings.

Features are the space's predictor encoding (:meth:`SearchSpace.features`; for NB201 the
one-hot code (30) and the BANANAS path encoding (84)). The model is scikit-learn's
``GradientBoostingRegressor``: on a few hundred cells, tree ensembles on these encodings
are among the strongest cheap NB201 predictors (White et al., "How powerful are
performance predictors in NAS?", NeurIPS 2021), and need no GPU or tuning loop.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.stats import kendalltau, spearmanr

from tabular_bench.spaces import NB201, SearchSpace


def features(codes: np.ndarray, space: SearchSpace = NB201) -> np.ndarray:
    """The space's predictor encoding of ``codes`` (NB201: one-hot and paths, ``(n, 114)``)."""
    return space.features(np.atleast_2d(np.asarray(codes, dtype=np.int64)))


@dataclass
class CellPredictor:
    """Predicts one objective of an architecture from its code; fitted by :meth:`fit`.

    Predictions are clipped to the range of the training values: trees cannot leave it
    anyway, and a clip states that a surrogate never invents a better network than any
    it was shown.
    """

    seed: int = 0
    space: SearchSpace = NB201
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
        ).fit(features(codes, self.space), values)
        self._range = (float(values.min()), float(values.max()))
        return self

    def predict(self, codes: np.ndarray) -> np.ndarray:
        if not hasattr(self, "_model"):
            raise RuntimeError("call fit() before predict()")
        return np.clip(self._model.predict(features(codes, self.space)), *self._range)


def rank_correlations(true: np.ndarray, predicted: np.ndarray) -> tuple[float, float]:
    """Kendall tau and Spearman rho between true and predicted values."""
    return float(kendalltau(true, predicted).statistic), float(spearmanr(true, predicted).statistic)
