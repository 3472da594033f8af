"""Surrogates: predict untrained cells from a partial table, flagged as predictions."""

from tabular_bench.surrogate.benchmark import SurrogateBenchmark
from tabular_bench.surrogate.model import CellPredictor, features, rank_correlations

__all__ = ["CellPredictor", "SurrogateBenchmark", "features", "rank_correlations"]
