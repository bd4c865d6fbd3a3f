"""From posterior draws to what a reader sees: means, intervals, terms, influence.

Pure functions over numpy arrays and spec objects; no I/O, no PyMC.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from ..inference.exact import (
    means_without_each,
    posterior_means_leave_outs,
    state_means_leave_outs,
)
from ..model.network import Network, cluster_log_weights, node_log_weights, state_log_weights
from ..model.spec import EvidenceItem
from .pooling import log_pool
from .report_document import InfluenceRow, MovedRow

INTERVAL_PROB = 0.9
INFLUENCE_SEED = 0          # the prior draws behind parametric influence: fixed, so reproducible


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
    items: tuple[str, ...] = ()     # the item ids left out (a cluster's members; an item itself)
    # networks with k-state nodes: the effect on every node-state, engine order (pp)
    state_effect_pp: np.ndarray | None = None


def _leave_out_weights(net: Network, items: tuple[EvidenceItem, ...],
                       leave_outs: list[set[str]]) -> np.ndarray:
    """Per-node log-weights with each set of item ids left out, shape (len(leave_outs), n).

    Only the (cluster, node) groups an item belongs to change when it goes, and the cluster
    rule is re-applied within each of those groups alone, so the cost is linear in the
    evidence, not quadratic (10,000 items cost what 10 do)."""
    groups: dict[tuple[str, str], list[EvidenceItem]] = defaultdict(list)
    for it in sorted(items, key=lambda it: it.item_id):
        groups[(it.cluster_key, it.node)].append(it)
    groups_of_item: dict[str, list[tuple[str, str]]] = defaultdict(list)
    for key, members in groups.items():
        for it in members:
            groups_of_item[it.item_id].append(key)
    counted = cluster_log_weights(items)
    full = node_log_weights(net.node_ids, items)
    out = np.repeat(full[None, :], len(leave_outs), axis=0)
    for row, gone in enumerate(leave_outs):
        touched = {key for item_id in gone for key in groups_of_item.get(item_id, ())}
        for key in touched:
            kept = [it for it in groups[key] if it.item_id not in gone]
            now = cluster_log_weights(kept).get(key, (0.0, ""))[0]
            out[row, net.index(key[1])] += now - counted[key][0]
    return out


def influence(net: Network, items: tuple[EvidenceItem, ...],
              conditions: dict[str, bool]) -> list[Influence]:
    """Influence of every item and every multi-item cluster, computed exactly (the closed
    form makes each leave-one-out mean one enumeration, no refit), all in one batch. With
    parametric CPTs, by importance sampling with common random numbers (see below)."""
    leave_outs, keys = _leave_outs(items)
    if not leave_outs:
        return []
    return _influences(net, leave_out_means(net, items, conditions, leave_outs), leave_outs, keys)


def pooled_influence(team: Sequence[tuple[Network, Mapping[str, bool]]],
                     items: tuple[EvidenceItem, ...]) -> list[Influence]:
    """`influence` on a team's forecast (`team`: each analyst's network and conditions):
    leaving an item (a cluster) out moves the pool from the logarithmic pool of the analysts'
    forecasts with all the evidence to the pool of their forecasts without it. Each analyst's
    leave-outs are one batch on their own network, as `influence` runs them."""
    if len(team) == 1:
        return influence(team[0][0], items, dict(team[0][1]))
    leave_outs, keys = _leave_outs(items)
    if not leave_outs:
        return []
    net = team[0][0]
    batches = np.stack([leave_out_means(mine, items, conditions, leave_outs)
                        for mine, conditions in team])
    pooled = log_pool(batches, np.asarray(net.state_offsets) if net.multistate else None)
    return _influences(net, pooled, leave_outs, keys)


def _leave_outs(items: tuple[EvidenceItem, ...]) -> tuple[list[set[str]], list[tuple]]:
    """What `influence` leaves out, in order: every item alone, then every cluster of two or
    more items whole; and for each its (key, kind, cluster)."""
    first_cluster: dict[str, str] = {}
    members: dict[str, set[str]] = defaultdict(set)
    for it in items:
        first_cluster.setdefault(it.item_id, it.cluster)
        if it.cluster:
            members[it.cluster].add(it.item_id)
    item_ids = sorted(first_cluster)
    clusters = sorted(c for c, ids in members.items() if len(ids) >= 2)
    leave_outs = [{i} for i in item_ids] + [members[c] for c in clusters]
    keys = [(i, "item", first_cluster[i]) for i in item_ids] + [(c, "cluster", c) for c in clusters]
    return leave_outs, keys


def leave_out_means(net: Network, items: tuple[EvidenceItem, ...], conditions: Mapping[str, bool],
                    leave_outs: list[set[str]]) -> np.ndarray:
    """The forecasts with all of `items` (row 0) and with each set of `leave_outs` left out
    (a row each): P(yes) per node, or on a network with k-state nodes every node-state's
    probability (engine order)."""
    if net.multistate:
        full = state_log_weights(net, items)
        rows = [full] + [state_log_weights(net, [it for it in items if it.item_id not in gone])
                         for gone in leave_outs]
        return state_means_leave_outs(net, full, np.vstack(rows), conditions)
    # The full evidence rides in the same batch as the leave-outs, so an item that changes
    # nothing (a weaker restatement in its cluster) moves nothing by exactly zero.
    full = node_log_weights(net.node_ids, items)
    rows = np.vstack([full[None, :], _leave_out_weights(net, items, leave_outs)])
    if net.conjugate:
        return posterior_means_leave_outs(net, full, rows, conditions)
    # Parametric CPTs: no closed form. The documented approximation: every row's posterior
    # mean by importance sampling over the SAME prior draws of the parameters (common random
    # numbers), so most Monte Carlo error cancels in each difference with the full evidence;
    # tests/test_parametric_nuts.py holds it to real leave-one-out NUTS refits.
    from ..inference.importance import INFLUENCE_DRAWS, importance_means

    return importance_means(net, rows, dict(conditions), INFLUENCE_DRAWS,
                            np.random.default_rng(INFLUENCE_SEED)).mean


def _influences(net: Network, batch: np.ndarray, leave_outs: list[set[str]],
                keys: list[tuple]) -> list[Influence]:
    """Each leave-out's effect from `leave_out_means`' rows. On a network with k-state nodes,
    per node the effect on its engine state 1 (yes on a yes/no node) or, on a node of more
    states, on the state most likely with all the evidence, and every node-state's besides."""
    if net.multistate:
        picked = _picked_states(net, batch[0])
        full_means, means = batch[0, picked], batch[1:, picked]
        every = (batch[0][None, :] - batch[1:]) * 100
    else:
        full_means, means, every = batch[0], batch[1:], None
    pp = (full_means[None, :] - means) * 100
    lo = logit(full_means)[None, :] - logit(means)
    return [Influence(key, kind, cluster, pp[row], lo[row], tuple(sorted(leave_outs[row])),
                      None if every is None else every[row])
            for row, (key, kind, cluster) in enumerate(keys)]


def _picked_states(net: Network, means: np.ndarray) -> np.ndarray:
    """Per node, the flat index of the state an effect is reported on: engine state 1 (yes)
    of a yes/no node, else the state most likely under `means`."""
    picked = np.empty(net.n_nodes, dtype=np.int64)
    for v in range(net.n_nodes):
        lo, hi = net.state_offsets[v], net.state_offsets[v + 1]
        picked[v] = lo + (1 if net.cards[v] == 2 else int(np.argmax(means[lo:hi])))
    return picked


def resolution_influence(net: Network, items: tuple[EvidenceItem, ...],
                         conditions: dict[str, bool]) -> dict[str, np.ndarray]:
    """How far each resolution in force moves every node, in percentage points: the mean with
    every condition minus the mean with that one resolution left out (the node itself goes
    from its forecast to 0 or 1; its neighbours move through the network). Exact where the
    closed form holds; with parametric CPTs, importance sampling over the same prior draws for
    both means, as `influence` does. On a network with k-state nodes, per node the effect on
    the state `influence` reports (yes on a yes/no node, else the state most likely with every
    resolution in force)."""
    if not conditions:
        return {}
    return _resolution_effects(net, *_resolution_means(net, items, conditions))


def pooled_resolution_influence(team: Sequence[tuple[Network, Mapping[str, bool]]],
                                items: tuple[EvidenceItem, ...]) -> dict[str, np.ndarray]:
    """`resolution_influence` on a team's forecast (`team`: each analyst's network and
    conditions, the same resolutions): the pool of the analysts' forecasts with every
    resolution less the pool of theirs with one left out."""
    net, conditions = team[0]
    if len(team) == 1 or not conditions:
        return resolution_influence(net, items, dict(conditions))
    offsets = np.asarray(net.state_offsets) if net.multistate else None
    each = [_resolution_means(mine, items, given) for mine, given in team]
    full = log_pool(np.stack([f for f, _w in each]), offsets)
    without = {node: log_pool(np.stack([w[node] for _f, w in each]), offsets)
               for node in each[0][1]}
    return _resolution_effects(net, full, without)


def _resolution_means(net: Network, items: tuple[EvidenceItem, ...], conditions: Mapping
                      ) -> tuple[np.ndarray, dict[str, np.ndarray]]:
    """The forecasts with every condition, and with each resolved node's left out (P(yes) per
    node, or every node-state's probability on a network with k-state nodes)."""
    if net.multistate:
        return means_without_each(net, state_log_weights(net, items), conditions)
    weights = node_log_weights(net.node_ids, items)
    if net.conjugate:
        return means_without_each(net, weights, conditions)

    def means(kept: Mapping) -> np.ndarray:
        from ..inference.importance import INFLUENCE_DRAWS, importance_means

        return importance_means(net, weights, dict(kept), INFLUENCE_DRAWS,
                                np.random.default_rng(INFLUENCE_SEED)).mean.reshape(-1)

    return means(conditions), {node: means({k: v for k, v in conditions.items() if k != node})
                               for node in sorted(conditions)}


def _resolution_effects(net: Network, full: np.ndarray, without: dict[str, np.ndarray]
                        ) -> dict[str, np.ndarray]:
    picked = _picked_states(net, full) if net.multistate else slice(None)
    return {node: (full[picked] - means[picked]) * 100 for node, means in without.items()}


def top_evidence(influences: list[Influence], node_index: int, limit: int = 5) -> list[InfluenceRow]:
    """The items that moved one node most, largest first (items only; zero effects left out)."""
    ranked = sorted((inf for inf in influences if inf.kind == "item"),
                    key=lambda inf: -abs(inf.effect_pp[node_index]))
    return [
        {"item_id": inf.key, "cluster": inf.cluster or None,
         "effect_pp": round(float(inf.effect_pp[node_index]), 2),
         "effect_logodds": round(float(inf.effect_logodds[node_index]), 4)}
        for inf in ranked[:limit] if abs(inf.effect_pp[node_index]) >= 0.005
    ]


def moved_most(influences: list[Influence], node_index: int, limit: int = 5) -> list[MovedRow]:
    """What moved one node most, items and whole clusters ranked together, largest first.

    A cluster counts once, so leaving out one of its restatements moves little (another takes
    its place); only leaving the whole cluster out shows what the event did. A cluster row that
    says no more than one of its own items (the others do not bear on this node) is left out,
    and so is anything that moved the node by less than 0.005 pp."""
    item_effect = {inf.key: round(float(inf.effect_pp[node_index]), 2)
                   for inf in influences if inf.kind == "item"}
    rows = []
    for inf in influences:
        effect = round(float(inf.effect_pp[node_index]), 2)
        if abs(inf.effect_pp[node_index]) < 0.005:
            continue
        members = list(inf.items) or [inf.key]
        if inf.kind == "cluster" and any(item_effect.get(m) == effect for m in members):
            continue
        rows.append((-abs(float(inf.effect_pp[node_index])), inf.kind != "cluster", inf.key, {
            "kind": "cluster" if inf.kind == "cluster" else "item", "id": inf.key,
            "items": members, "cluster": inf.cluster or None, "effect_pp": effect,
            "effect_logodds": round(float(inf.effect_logodds[node_index]), 4)}))
    return [row for *_, row in sorted(rows, key=lambda r: r[:3])[:limit]]


def state_view(net: Network, posterior) -> tuple[np.ndarray, np.ndarray]:
    """(means (n_states,), draws (D, n_states)) of every node-state in engine order, from a
    posterior of any network (yes/no networks: [1 - p, p] per node)."""
    if posterior.state_means is not None:
        draws = np.asarray(posterior.state_draws, dtype=float)
        return np.asarray(posterior.state_means, dtype=float), draws.reshape(-1, draws.shape[-1])
    means = np.asarray(posterior.means, dtype=float)
    draws = np.clip(posterior.p_yes, 0.0, 1.0).reshape(-1, net.n_nodes)
    return (np.column_stack([1.0 - means, means]).ravel(),
            np.stack([1.0 - draws, draws], axis=-1).reshape(len(draws), -1))


def node_forecasts(p_yes: np.ndarray, means: np.ndarray) -> list[tuple[float, list[float]]]:
    """Per node, the forecast as every report and snapshot states it: the posterior mean and
    the credible interval (widened to hold the mean), rounded to 6 decimals."""
    bounds = interval(np.clip(p_yes, 0.0, 1.0))
    out = []
    for v, mean in enumerate(np.asarray(means, dtype=float)):
        low, high = (float(b) for b in bounds[v])
        mean = float(mean)
        out.append((round(mean, 6), [round(min(low, mean), 6), round(max(high, mean), 6)]))
    return out
