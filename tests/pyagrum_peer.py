"""pyAgrum, the peer we did not write, on the same network: one adapter for the tests and
`bench/run.py` (which puts tests/ on its path).

Every CPT entry is given as a number (the exact posterior mean integrates each Beta out to its
mean, so callers pass `net.prior_means`); soft evidence is a likelihood finding per node
(exp of its log-weight, after our cluster rule: the one piece of ours it reuses); a hard
condition is a finding that rules the other state out. LazyPropagation gives the posteriors."""

from __future__ import annotations

import time
from collections.abc import Sequence

import numpy as np

from forecast.inference.elimination import HARD_EXCLUDED


def agrum_marginals(parents: Sequence[Sequence[int]], theta: np.ndarray, weights: np.ndarray,
                    mask: np.ndarray | None = None, names: Sequence[str] | None = None
                    ) -> tuple[np.ndarray, float]:
    """P(node = yes) for every node, and the seconds pyAgrum took to build its junction tree and
    infer (the CPT fill is not timed). `theta` lists each node's entries in parent-configuration
    order (bit j of the configuration is parent j); `mask` is the (n, 2) per-node log-mask of
    hard evidence (HARD_EXCLUDED or -inf rules a state out)."""
    import pyagrum as gum

    n = len(parents)
    names = list(names) if names is not None else [f"n{v}" for v in range(n)]
    bn = gum.BayesNet("peer")
    for name in names:
        bn.add(gum.LabelizedVariable(name, name, 2))
    for v, pa in enumerate(parents):
        for p in pa:
            bn.addArc(names[p], names[v])
    offset = 0
    for v, pa in enumerate(parents):
        cpt = bn.cpt(names[v])
        for config in range(2 ** len(pa)):
            t = float(theta[offset + config])
            if pa:
                cpt[{names[p]: (config >> j) & 1 for j, p in enumerate(pa)}] = [1.0 - t, t]
            else:
                cpt.fillWith([1.0 - t, t])
        offset += 2 ** len(pa)
    mask = np.zeros((n, 2)) if mask is None else np.asarray(mask, dtype=float)
    start = time.perf_counter()
    engine = gum.LazyPropagation(bn)
    for v in range(n):
        log_w = np.array([mask[v, 0], weights[v] + mask[v, 1]])
        log_w = np.where(log_w <= HARD_EXCLUDED, -np.inf, log_w)
        if np.any(log_w != 0):
            engine.addEvidence(names[v], list(np.exp(log_w - log_w.max())))
    engine.makeInference()
    means = np.array([engine.posterior(name).toarray()[1] for name in names])
    return means, time.perf_counter() - start


def agrum_scenario_means(problem) -> tuple[dict[str, float], float]:
    """A prepared scenario (`forecast.inference.problem.prepare`) in pyAgrum: every node's
    posterior mean by id, and pyAgrum's seconds."""
    net = problem.net
    means, seconds = agrum_marginals(net.parents, net.prior_means, problem.node_log_weights,
                                     problem.hard_mask, net.node_ids)
    return dict(zip(net.node_ids, (float(m) for m in means), strict=True)), seconds
