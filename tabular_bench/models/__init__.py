"""NB201-style networks of a cell search space in torch: one model, or many fused."""

from tabular_bench.models.nb201_network import FusedTinyNetwork, TinyNetwork

__all__ = ["FusedTinyNetwork", "TinyNetwork"]
