"""TransNAS-Bench-101's two spaces (Duan et al., CVPR 2021), in its official strings.

* **micro** (:data:`TRANSNAS_MICRO`): the NAS-Bench-201 cell DAG with four operations
  ``none, skip_connect, nor_conv_1x1, nor_conv_3x3`` (4^6 = 4,096 cells). Edge order as
  NB201's code, so the string ``64-41414-a_bc_def`` lists edges ``1<-0 | 2<-0, 2<-1 |
  3<-0, 3<-1, 3<-2``; NASLib's ``(a, b, c, d, e, f)`` tuple is the code itself.
* **macro** (:data:`TRANSNAS_MACRO`): a ResNet-like encoder of 4 to 6 residual blocks, each
  one of ``1`` plain, ``2`` channels x2, ``3`` stride 2, ``4`` both; at least one and at
  most four blocks downsample, at least one and at most three double the channels: 3,256
  networks. Its code is NASLib's six-slot tuple, blocks first and ``0`` for an empty
  slot; the string joins the blocks: ``64-<blocks>-basic``.

Neither release publishes an index order that our files carry, so the official index of a
network is its key (NASLib's ``idx`` is a running number of its zero-cost run).
"""

from __future__ import annotations

import itertools
import re
from dataclasses import dataclass

import numpy as np

from tabular_bench.spaces.base import SearchSpace
from tabular_bench.spaces.cell import CellSearchSpace
from tabular_bench.spaces.nb201 import NB201Space
from tabular_bench.spaces.subset import SubsetSpace

MICRO_OPS = ("none", "skip_connect", "nor_conv_1x1", "nor_conv_3x3")
_MICRO_RE = re.compile(r"64-41414-([0-3])_([0-3]{2})_([0-3]{3})")

MACRO_BLOCKS = ("empty", "plain", "double_channels", "downsample", "downsample_double")
"""Choice ``i`` of a macro slot; ``0`` marks an empty slot after the last block."""
MACRO_SLOTS = 6
_DOWNSAMPLE, _DOUBLE = {3, 4}, {2, 4}
_MACRO_RE = re.compile(r"64-([1-4]{4,6})-basic")


@dataclass(frozen=True)
class TransNASMicroSpace(NB201Space):
    """TransNAS-Bench-101 micro cells: NB201's DAG (edges, zero op ``none``), encodings and
    isomorphism rules with four ops (the op indices 0-3 name the same operations as
    NB201's). The edge order is the official one: TransNAS-Bench's ``MicroCell`` reads
    ``a_bc_def`` node by node, each node's inputs from node 0 upwards."""

    name: str = "transnas_micro"
    op_names: tuple[str, ...] = MICRO_OPS
    num_edges: int = 6

    @property
    def op_cost_order(self) -> tuple[int, ...]:
        """none, skip_connect (no parameters), nor_conv_1x1, nor_conv_3x3."""
        return (0, 1, 2, 3)

    def to_string(self, code: np.ndarray | tuple[int, ...]) -> str:
        a, b, c, d, e, f = self.validate_code(code).tolist()
        return f"64-41414-{a}_{b}{c}_{d}{e}{f}"

    def from_string(self, arch: str) -> np.ndarray:
        match = _MICRO_RE.fullmatch(arch.strip()) if isinstance(arch, str) else None
        if match is None:
            raise ValueError(
                f"invalid TransNAS-Bench-101 micro string {arch!r}: expected 64-41414-a_bc_def "
                f"with digits 0-3 ({', '.join(MICRO_OPS)})"
            )
        return np.array([int(ch) for ch in "".join(match.groups())], dtype=np.int64)

    strings = SearchSpace.strings
    keys_from_strings = SearchSpace.keys_from_strings
    official_index = SearchSpace.official_index

    def from_naslib(self, archs: np.ndarray) -> np.ndarray:
        """NASLib's micro tuples are codes already; validated, shape ``(n, 6)``."""
        archs = np.atleast_2d(np.asarray(archs))
        self.keys(archs)  # validates
        return archs.astype(np.int64)


class TransNASMacroSpace(SubsetSpace):
    """The 3,256 TransNAS-Bench-101 macro networks as six-slot codes."""

    def __init__(self) -> None:
        slots = CellSearchSpace("transnas_macro_slots", MACRO_BLOCKS, MACRO_SLOTS)
        super().__init__(slots, slots.keys(_valid_macro_codes()), name="transnas_macro",
                         family="transnas_macro")

    def __repr__(self) -> str:
        return "TransNASMacroSpace()"

    official_index = SearchSpace.official_index

    @property
    def op_cost_order(self) -> tuple[int, ...]:
        """By parameters: empty, downsample, plain, downsample_double, double_channels
        (least squares of log params on block counts, NASLib's zero-cost macro file:
        +0.14, +0.16, +1.20, +1.23 per block)."""
        return (0, 3, 1, 4, 2)

    @property
    def op_costs(self) -> tuple[float, ...]:
        """Each block kind's rank in :attr:`op_cost_order` (0 = cheapest), for priors that
        cannot read a cost from an op name."""
        ranks = np.empty(self.num_ops)
        ranks[list(self.op_cost_order)] = np.arange(self.num_ops)
        return tuple(ranks.tolist())

    def to_string(self, code: np.ndarray | tuple[int, ...]) -> str:
        code = self.validate_code(code)
        if self.key_of(tuple(code.tolist())) is None:
            raise ValueError(f"{code.tolist()} is not a TransNAS-Bench-101 macro network "
                             f"({_MACRO_RULE})")
        return "64-" + "".join(str(b) for b in code if b) + "-basic"

    def from_string(self, arch: str) -> np.ndarray:
        match = _MACRO_RE.fullmatch(arch.strip()) if isinstance(arch, str) else None
        if match is None:
            raise ValueError(
                f"invalid TransNAS-Bench-101 macro string {arch!r}: expected 64-<4 to 6 "
                f"digits 1-4>-basic ({_MACRO_RULE})"
            )
        blocks = [int(ch) for ch in match.group(1)]
        code = np.array(blocks + [0] * (MACRO_SLOTS - len(blocks)), dtype=np.int64)
        if self.key_of(tuple(code.tolist())) is None:
            raise ValueError(f"{arch!r} is not a TransNAS-Bench-101 macro network ({_MACRO_RULE})")
        return code

    def features(self, codes: np.ndarray) -> np.ndarray:
        """One-hot slots plus the count of each block kind (position-free structure)."""
        codes = np.atleast_2d(np.asarray(codes, dtype=np.int64))
        counts = np.stack([(codes == k).sum(axis=1) for k in range(1, self.num_ops)], axis=1)
        return np.hstack([self.one_hot(codes), counts.astype(np.float32)])


_MACRO_RULE = ("4-6 blocks 1 plain, 2 channels x2, 3 stride 2, 4 both; 1-4 downsampling "
               "and 1-3 channel-doubling blocks")


def _valid_macro_codes() -> np.ndarray:
    """Every macro network's code: 4-6 blocks, 1-4 downsampling, 1-3 doubling."""
    out = []
    for length in range(4, MACRO_SLOTS + 1):
        for blocks in itertools.product(range(1, 5), repeat=length):
            down = sum(b in _DOWNSAMPLE for b in blocks)
            double = sum(b in _DOUBLE for b in blocks)
            if 1 <= down <= 4 and 1 <= double <= 3:
                out.append(blocks + (0,) * (MACRO_SLOTS - length))
    return np.array(out, dtype=np.int64)


TRANSNAS_MICRO = TransNASMicroSpace()
TRANSNAS_MACRO = TransNASMacroSpace()
