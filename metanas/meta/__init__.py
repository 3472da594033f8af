"""Learned weight initializations: MAML, first-order MAML and Reptile on ``torch.func``.

* :mod:`metanas.meta.backbones` -- Conv-4 networks (batch norm with batch statistics).
* :mod:`metanas.meta.functional` -- pure loss, accuracy and inner-step functions.
* :mod:`metanas.meta.maml` / :mod:`metanas.meta.reptile` -- the meta-learners.
* :mod:`metanas.meta.job` -- :class:`~metanas.meta.job.MetaTrainJob` for the runner.
* :mod:`metanas.meta.reference` -- learn2learn, for parity tests and benchmarks.
"""
