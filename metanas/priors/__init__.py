"""Architecture priors meta-learned from benchmark tables.

* :mod:`~metanas.priors.restricted`: the leak guard, a benchmark view of training tasks only;
* :mod:`~metanas.priors.meta_policy`: Reptile over REINFORCE logits;
* :mod:`~metanas.priors.predictor` / :mod:`~metanas.priors.meta_predictor`: a ``torch.func``
  MLP predictor and its MAML / Reptile meta-training;
* :mod:`~metanas.priors.policy_strategies`, :mod:`~metanas.priors.predictor_bo`: ask/tell
  strategies that start from a :class:`~metanas.priors.prior.MetaPrior`;
* :mod:`~metanas.priors.transfer` / :mod:`~metanas.priors.transfer_report`: the
  leave-one-dataset-out job and its report.

Submodules are imported on demand so that ``import metanas.priors`` stays free of torch.
"""
