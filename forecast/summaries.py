"""From posterior draws to what a reader sees: means, intervals, terms, influence.

Pure functions over numpy arrays and spec objects; no I/O, no PyMC.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass

import numpy as np

from .engines.exact import exact_means
from .network import Network, cluster_log_weights, node_log_weights
from .spec import EvidenceItem

INTERVAL_PROB = 0.9


def interval(draws: np.ndarray, prob: float = INTERVAL_PROB) -> np.ndarray:
    """Equal-tailed credible interval per column of `draws` (..., n) -> (n, 2)."""
    flat = draws.reshape(-1, draws.shape[-1])
    tail = (1 - prob) / 2
    return np.quantile(flat, [tail, 1 - tail], axis=0).T


def logit(p: np.ndarray) -> np.ndarray:
    p = np.clip(p, 1e-12, 1 - 1e-12)
    return np.log(p) - np.log1p(-p)


@dataclass(frozen=True)
class Influence:
    """How far leaving out one item (or one cluster) moves each node's posterior mean."""

    key: str                 # item id, or cluster id
    kind: str                # "item" or "cluster"
    cluster: str
    effect_pp: np.ndarray    # (n,) mean with - mean without, in percentage points
    effect_logodds: np.ndarray


def _leave_out_means(net: Network, items: tuple[EvidenceItem, ...], leave_out, conditions):
    kept = [it for it in items if not leave_out(it)]
    weights = node_log_weights(net.node_ids, kept)
    return exact_means(net, net.state_log_evidence(weights, conditions))


def influence(net: Network, items: tuple[EvidenceItem, ...], conditions: dict[str, bool],
              full_means: np.ndarray) -> list[Influence]:
    """Influence of every item and every multi-item cluster, computed exactly (the closed
    form makes each leave-one-out mean one enumeration, no refit). Only the items the
    cluster rule counts can move anything; the others get exact zeros without work."""
    counted = {item_id for (_value, item_id) in cluster_log_weights(items).values()}
    zero = np.zeros(net.n_nodes)
    full_logit = logit(full_means)
    results = []
    members: dict[str, list[EvidenceItem]] = defaultdict(list)
    for it in items:
        members[it.cluster_key].append(it)
    for item_id in sorted({it.item_id for it in items}):
        cluster = next(it.cluster for it in items if it.item_id == item_id)
        if item_id in counted:
            means = _leave_out_means(net, items, lambda it, i=item_id: it.item_id == i, conditions)
            pp, lo = (full_means - means) * 100, full_logit - logit(means)
        else:
            pp, lo = zero, zero
        results.append(Influence(item_id, "item", cluster, pp, lo))
    for cluster, group in sorted(members.items()):
        if not group[0].cluster or len({it.item_id for it in group}) < 2:
            continue
        means = _leave_out_means(net, items, lambda it, c=cluster: it.cluster_key == c, conditions)
        results.append(Influence(cluster, "cluster", cluster, (full_means - means) * 100,
                                 full_logit - logit(means)))
    return results


def top_evidence(influences: list[Influence], node_index: int, limit: int = 5) -> list[dict]:
    """The items that moved one node most, largest first (items only; zero effects left out)."""
    ranked = sorted((inf for inf in influences if inf.kind == "item"),
                    key=lambda inf: -abs(inf.effect_pp[node_index]))
    return [
        {"item_id": inf.key, "cluster": inf.cluster or None,
         "effect_pp": round(float(inf.effect_pp[node_index]), 2),
         "effect_logodds": round(float(inf.effect_logodds[node_index]), 4)}
        for inf in ranked[:limit] if abs(inf.effect_pp[node_index]) >= 0.005
    ]
