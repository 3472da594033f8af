"""NAS-Bench-201 networks in torch: one model, or many fused for throughput."""

from tabular_bench.models.nb201_network import CELL_EDGES, FusedTinyNetwork, TinyNetwork

__all__ = ["CELL_EDGES", "FusedTinyNetwork", "TinyNetwork"]
