"""Gradient-based meta-NAS over a cell search space (NAS-Bench-201 by default).

A supernet whose edges mix all of the space's ops under logits ``alpha``, meta-trained
over few-shot tasks with T-NAS-style MAML or MetaNAS-style Reptile on (alpha, w), then
adapted and derived per meta-test task; NB201 cells are also looked up in the NB201 table.
"""

from metanas.supernet.meta_learners import MetaNASReptile, SupernetMetaLearner, TNASMaml
from metanas.supernet.network import SuperNet, derive_codes, one_hot_weights

__all__ = [
    "MetaNASReptile",
    "SuperNet",
    "SupernetMetaLearner",
    "TNASMaml",
    "derive_codes",
    "one_hot_weights",
]
