"""Cross-space transfer, micro prior -> macro task: the one prior whose inputs both spaces
share is the zero-cost proxy combination (the same nine proxies, FLOPs and params are
recorded for every network of both spaces). Operation priors and predictors are over codes
(six edges x four ops vs six slots x five block kinds) and have nothing to map to.

For each macro task T: ridge weights fitted on the six *micro* tasks other than T
(``LearnedProxyCombination``'s fit: within-task proxy ranks -> within-task signal rank)
rank T's macro networks by their own proxies; the walk's value at ``--budget`` queries is
the best ``valid_norm`` among its first networks (the walk is deterministic). Beside it:
the same fit on the six other *macro* tasks (the in-space zc_combo), NASWOT alone, and
random search (mean of the best of ``budget`` uniform draws without replacement, exact).

    python results/transnas101/cross_space.py --budget 50 > results/transnas101/cross_space.csv
"""

from __future__ import annotations

import argparse
import sys

import numpy as np
import pandas as pd
from scipy.special import gammaln

from metanas.priors.source import ranked_keys
from metanas.priors.zero_cost_prior import ProxyScores, rank_scale, ridge
from tabular_bench.loaders import imported

FILES = {space: (f"naslib-zc-transnas-{space}", f"transnas101/zc_transbench101_{space}.json")
         for space in ("micro", "macro")}


def fit(proxies: ProxyScores, tasks: list[str], names: tuple[str, ...]) -> np.ndarray:
    """Ridge weights of the within-task signal rank on the proxies' within-task ranks."""
    bench = proxies._benchmark
    keys = np.arange(bench.space.size)
    x = np.vstack([np.stack([rank_scale(proxies.scores(t, p)) for p in names], 1)
                   for t in tasks])
    y = np.concatenate([rank_scale(bench.query(keys, task=t, fidelity=-1, metric="valid_norm"))
                        for t in tasks])
    return ridge(x, y, alpha=1.0)[0]


def expected_best_of_random(values: np.ndarray, budget: int) -> float:
    """E[max of ``budget`` draws without replacement]: P(max = v_(i)) = C(i-1, b-1)/C(n, b)."""
    v, n = np.sort(values), len(values)
    below = np.arange(n)  # i - 1 networks below the i-th smallest
    ok = below >= budget - 1
    log_p = np.full(n, -np.inf)
    log_p[ok] = _log_choose(below[ok], budget - 1) - _log_choose(np.array([n]), budget)[0]
    return float(np.sum(np.exp(log_p) * v))


def _log_choose(a: np.ndarray, b: int) -> np.ndarray:
    return gammaln(a + 1) - gammaln(b + 1) - gammaln(a - b + 1)


def main(argv: list[str]) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--budget", type=int, default=50)
    budget = parser.parse_args(argv).budget
    spaces = {s: ProxyScores(imported(*FILES[s], completion="measured")) for s in FILES}
    micro, macro = spaces["micro"], spaces["macro"]
    names = tuple(p for p in micro.proxies if p in macro.proxies)
    keys = np.arange(macro.space.size)
    rows = []
    for task in macro.tasks:
        truth = macro._benchmark.query(keys, task=task, fidelity=-1, metric="valid_norm")
        proxy_x = np.stack([rank_scale(macro.scores(task, p)) for p in names], 1)
        others = [t for t in macro.tasks if t != task]
        orders = {
            "zc_combo_micro_to_macro": ranked_keys(proxy_x @ fit(micro, others, names)),
            "zc_combo_macro": ranked_keys(proxy_x @ fit(macro, others, names)),
            "zc_nwot": ranked_keys(np.nan_to_num(macro.scores(task, "zc_nwot"), nan=-np.inf)),
        }
        for method, order in orders.items():
            rows.append({"held_out": task, "method": method, "budget": budget,
                         "final_valid_norm": truth[order[:budget]].max()})
        rows.append({"held_out": task, "method": "rs_expected", "budget": budget,
                     "final_valid_norm": expected_best_of_random(truth, budget)})
        rows.append({"held_out": task, "method": "optimum", "budget": budget,
                     "final_valid_norm": truth.max()})
    pd.DataFrame(rows).to_csv(sys.stdout, index=False, float_format="%.4f")


if __name__ == "__main__":
    main(sys.argv[1:])
