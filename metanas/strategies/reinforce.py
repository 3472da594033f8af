"""REINFORCE with a per-edge categorical policy, as in NAS-Bench-201.

Follows ``exps/NAS-Bench-201-algos/reinforce.py`` of AutoDL-Projects (itself after Williams,
1992), in numpy because the policy is a ``(num_edges, num_ops)`` logit table and torch's
per-call overhead would dominate:

* logits start at ``init_std * N(0, 1)`` (NB201: 1e-3), the policy is their row softmax and
  every edge is sampled independently;
* the reward is the told validation signal as is (NB201: accuracy in percent), so its
  scale sets the step size's meaning: normalise signals of other units before telling;
* the baseline is a bias-corrected exponential moving average of rewards (momentum 0.9),
  updated with the new reward *before* the advantage ``reward - baseline`` is taken, so the
  first update has zero advantage, as in NB201;
* the loss ``-advantage * sum_e log pi(a_e)`` is minimised by Adam (betas (0.9, 0.999),
  eps 1e-8: torch's defaults, which NB201 uses), with torch's update rule.

The learning rate is a required argument of NB201's script, not a constant of it. The default
0.01 is the one NATS-Bench's ``exps/NATS-algos/reinforce.py`` documents for every dataset;
NB201's docs give 0.5, its script's header 0.001 and its grid ``hps/GRID-RL.sh`` 0.01-0.5;
nothing in its code or docs records which rate made the paper's table. It matters: in ~100
queries the policy barely leaves uniform at 0.01, so the NB201-protocol row is close to
random search, while 0.05-0.1 reproduce the published REINFORCE row (measured in
``results/nb201_paper/notes.md``).

If results arrive after further asks, the score function is taken at the policy current when
the result arrives; with NB201's sequential ask/tell that is the sampling policy. In a
space where a sampled code may not be a member, the score function is taken at the member
evaluated in its place (the trial's code).
"""

from __future__ import annotations

import numpy as np

from metanas.strategies.base import Strategy, Trial
from tabular_bench.spaces import SearchSpace


class Reinforce(Strategy):
    """Policy-gradient search over independent per-edge categoricals.

    :param learning_rate: Adam step size (NATS-Bench: 0.01; see the module docstring).
    :param ema_momentum: momentum of the moving-average baseline (NB201: 0.9).
    :param init_std: scale of the random initial logits (NB201: 1e-3).
    :param betas: Adam moment decays.
    :param eps: Adam denominator guard.
    """

    def __init__(
        self,
        space: SearchSpace,
        *,
        seed: int,
        learning_rate: float = 0.01,
        ema_momentum: float = 0.9,
        init_std: float = 1e-3,
        betas: tuple[float, float] = (0.9, 0.999),
        eps: float = 1e-8,
    ) -> None:
        if not learning_rate > 0:
            raise ValueError(f"learning_rate must be > 0, got {learning_rate}")
        if not 0 <= ema_momentum < 1:
            raise ValueError(f"ema_momentum must lie in [0, 1), got {ema_momentum}")
        if not all(0 <= b < 1 for b in betas):
            raise ValueError(f"Adam betas must lie in [0, 1), got {betas}")
        super().__init__(space, seed=seed)
        self.learning_rate = float(learning_rate)
        self.ema_momentum = float(ema_momentum)
        self.beta1, self.beta2 = (float(b) for b in betas)
        self.eps = float(eps)
        shape = (space.num_edges, space.num_ops)
        self.logits = init_std * self.rng.standard_normal(shape)
        self._adam_m = np.zeros(shape)
        self._adam_v = np.zeros(shape)
        self._adam_step = 0
        self._ema_numerator = 0.0
        self._ema_denominator = 0.0
        # Scratch buffers reused by every update (no per-call allocation on the hot path).
        self._probs = np.empty(shape)
        self._cdf = np.empty(shape)
        self._grad = np.empty(shape)
        self._scratch = np.empty(shape)
        self._rows = np.arange(space.num_edges)
        self._last_op = space.num_ops - 1
        self._refresh_policy()

    # -- policy ---------------------------------------------------------------------
    def _refresh_policy(self) -> None:
        """Recompute the softmax and its cumulative sums after the logits changed."""
        probs = self._probs
        np.subtract(self.logits, self.logits.max(axis=1, keepdims=True), out=probs)
        np.exp(probs, out=probs)
        probs /= probs.sum(axis=1, keepdims=True)
        np.cumsum(probs, axis=1, out=self._cdf)

    @property
    def probabilities(self) -> np.ndarray:
        """Current policy, ``(num_edges, num_ops)``; a copy."""
        return self._probs.copy()

    @property
    def baseline(self) -> float:
        """Bias-corrected moving average of the rewards told so far (0 before any)."""
        if self._ema_denominator == 0.0:
            return 0.0
        return self._ema_numerator / self._ema_denominator

    def _propose(self) -> np.ndarray:
        # Inverse-CDF sampling of every edge at once; the clip guards round-off in the cdf.
        u = self.rng.random(self.space.num_edges)
        ops = (self._cdf < u[:, None]).sum(axis=1)
        np.minimum(ops, self._last_op, out=ops)
        return ops

    # -- learning -------------------------------------------------------------------
    def _observe(self, trial: Trial, value: float) -> None:
        m = self.ema_momentum
        self._ema_numerator = m * self._ema_numerator + (1.0 - m) * value
        self._ema_denominator = m * self._ema_denominator + (1.0 - m)
        advantage = value - self._ema_numerator / self._ema_denominator

        # d/d logits of -advantage * log pi(a) = advantage * (softmax - onehot(a)).
        grad = self._grad
        np.multiply(self._probs, advantage, out=grad)
        grad[self._rows, trial.code] -= advantage
        self._adam_update(grad)
        self._refresh_policy()

    def _adam_update(self, grad: np.ndarray) -> None:
        """One ``torch.optim.Adam`` step (no weight decay, no amsgrad) on the logits."""
        b1, b2 = self.beta1, self.beta2
        self._adam_step += 1
        t = self._adam_step
        m, v, tmp = self._adam_m, self._adam_v, self._scratch
        m *= b1
        np.multiply(grad, 1.0 - b1, out=tmp)
        m += tmp
        v *= b2
        np.multiply(grad, grad, out=tmp)
        tmp *= 1.0 - b2
        v += tmp
        bias1 = 1.0 - b1**t
        bias2_sqrt = (1.0 - b2**t) ** 0.5
        np.sqrt(v, out=tmp)
        tmp /= bias2_sqrt
        tmp += self.eps
        np.divide(m, tmp, out=tmp)
        tmp *= self.learning_rate / bias1
        self.logits -= tmp
