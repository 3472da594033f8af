"""Gradient-based meta-NAS over the NAS-Bench-201 cell space.

An NB201 supernet whose edges mix the five NB201 ops under logits ``alpha``, meta-trained
over few-shot tasks with T-NAS-style MAML or MetaNAS-style Reptile on (alpha, w), then
adapted, derived and looked up in the NB201 table per meta-test task.
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
