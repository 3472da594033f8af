"""Search spaces: cells as fixed-length codes of operation indices."""

from tabular_bench.spaces.cell import CellSearchSpace
from tabular_bench.spaces.nb201 import NB201, NB201Space

__all__ = ["NB201", "CellSearchSpace", "NB201Space"]
