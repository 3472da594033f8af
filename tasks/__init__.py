"""Task distributions: few-shot episodes (meta-learning) and whole tasks (benchmark tables).

Fast path for meta-learners::

    from tasks import make
    dist = make("omniglot_reptile")               # experiments/tasks/omniglot_reptile.yaml
    pools = dist.pools(device="cuda")             # {"train": FewShotPool, "test": ...}
    batch = pools["train"].sample(torch.Generator().manual_seed(0),
                                  meta_batch=32, ways=5, shots=1, queries=15)
"""

from tasks.base import ClassSplitTasks, LabelledImages, TaskDistribution, WholeTask
from tasks.episodes import EpisodeBatch, FewShotPool
from tasks.errors import CorruptDataError, DataNotFoundError, EpisodeSizeError
from tasks.registry import available, make

__all__ = [
    "ClassSplitTasks",
    "CorruptDataError",
    "DataNotFoundError",
    "EpisodeBatch",
    "EpisodeSizeError",
    "FewShotPool",
    "LabelledImages",
    "TaskDistribution",
    "WholeTask",
    "available",
    "make",
]
