"""Analysts -> the team's forecast: the logarithmic pool (the mean of log-odds; on k states the
normalised geometric mean), per draw and for the means, so the pooled forecast has an interval
as every forecast does. Pure numpy."""

from __future__ import annotations

import numpy as np

from ..inference.problem import Posterior
from ..model.network import Network

POOL = "log_odds"
# probabilities are held away from 0 and 1 before logs: a resolved question (0 or 1 for every
# analyst) pools to 0 or 1 up to this, and one analyst's 0 does not veto the others' outright
FLOOR = 1e-9


def log_pool(probabilities: np.ndarray, offsets: np.ndarray | None = None) -> np.ndarray:
    """The logarithmic pool over axis 0 (analysts) of `probabilities` (analysts, ..., n).

    Without `offsets` the last axis holds P(yes) per node: the pool is the logistic of the mean
    log-odds. With `offsets` (a network's state offsets) the last axis holds every node-state:
    per node, the normalised geometric mean over its states (the same pool on two states)."""
    p = np.clip(np.asarray(probabilities, dtype=float), FLOOR, 1.0 - FLOOR)
    if offsets is None:
        logit = np.log(p) - np.log1p(-p)
        return 1.0 / (1.0 + np.exp(-logit.mean(axis=0)))
    log_mean = np.log(p).mean(axis=0)
    out = np.empty_like(log_mean)
    for lo, hi in zip(offsets[:-1], offsets[1:], strict=True):
        block = log_mean[..., lo:hi]
        block = np.exp(block - block.max(axis=-1, keepdims=True))
        out[..., lo:hi] = block / block.sum(axis=-1, keepdims=True)
    return out


def pool_posteriors(net: Network, posteriors: list[Posterior]) -> Posterior:
    """The team's posterior: every analyst's fit (same draws, seed and settings) pooled draw by
    draw and mean by mean. Diagnostics: every analyst's warnings, the worst R-hat and ESS."""
    if len(posteriors) == 1:
        return posteriors[0]
    first = posteriors[0]
    diagnostics = _pooled_diagnostics([p.diagnostics for p in posteriors])
    mcse = np.max([np.asarray(p.mcse, dtype=float) for p in posteriors], axis=0)
    if first.state_means is None:
        draws = log_pool(np.stack([p.p_yes for p in posteriors]))
        means = log_pool(np.stack([p.means for p in posteriors]))
        return Posterior(draws, mcse, diagnostics, first.engine, first.settings, means)
    offsets = np.asarray(net.state_offsets)
    state_draws = log_pool(np.stack([p.state_draws for p in posteriors]), offsets)
    state_means = log_pool(np.stack([p.state_means for p in posteriors]), offsets)
    yes = offsets[:-1] + 1          # p_yes holds each node's engine state 1
    return Posterior(state_draws[..., yes], mcse, diagnostics, first.engine, first.settings,
                     state_means[yes], state_means=state_means, state_draws=state_draws)


def _pooled_diagnostics(all_diagnostics: list[dict]) -> dict:
    def worst(key, pick):
        values = [d.get(key) for d in all_diagnostics if d.get(key) is not None]
        return pick(values) if values else None

    warnings: list[str] = []
    for d in all_diagnostics:
        warnings += [w for w in d.get("warnings", []) if w not in warnings]
    return {**all_diagnostics[0],
            "divergences": sum(int(d.get("divergences") or 0) for d in all_diagnostics),
            "max_rhat": worst("max_rhat", max), "min_ess": worst("min_ess", min),
            "warnings": warnings}


def spread(values: list[float]) -> float:
    """How far apart the analysts are on a yes/no question: max minus min of their means."""
    return round(max(values) - min(values), 6) if values else 0.0
