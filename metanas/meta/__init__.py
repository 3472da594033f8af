"""Learned weight initializations: MAML, first-order MAML and Reptile on ``torch.func``.

* :mod:`metanas.meta.backbones` -- Conv-4 networks (batch norm with batch statistics).
* :mod:`metanas.meta.functional` -- pure loss and accuracy, and the one inner loop
  (``adapt``) of every MAML/Reptile variant in the project.
* :mod:`metanas.meta.learner` -- the meta-learner base classes (outer update, state).
* :mod:`metanas.meta.maml` / :mod:`metanas.meta.reptile` -- the meta-learners.
* :mod:`metanas.meta.training` -- the checkpointed meta-training loop every job runs.
* :mod:`metanas.meta.run_settings` -- a meta-split's data by content, for the settings
  record (:mod:`common_io.run_folder`).
* :mod:`metanas.meta.checkpoint`, :mod:`metanas.meta.device`, :mod:`metanas.meta.stats` --
  atomic checkpoints, device choice, the one 95% interval.
* :mod:`metanas.meta.job` -- :class:`~metanas.meta.job.MetaTrainJob` for the runner.
* :mod:`metanas.meta.reference` -- learn2learn, for parity tests and benchmarks.
"""
