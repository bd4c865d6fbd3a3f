"""The scenario as arrays: joint states, CPT entries, and evidence collapsed into
per-node log-weights. numpy only; both engines build on it.

A joint state x is a row of `states` (0/1 per node, in scenario order). CPT entry k is
(node, parent configuration); `uses_yes[s, k]` is 1 when state s has that node = yes under
that configuration, `uses_no[s, k]` likewise for no. So for entry probabilities theta,

    log P(x_s | theta) = uses_yes[s] @ log(theta) + uses_no[s] @ log(1 - theta).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

import numpy as np

from .spec import EvidenceItem, Scenario

# Log-weight of a joint state that a hard condition rules out. Finite (not -inf) so that it can
# be multiplied by 0 inside matrix products without producing NaN; exp() of it is exactly 0.
HARD_EXCLUDED = -1e12


@dataclass(frozen=True)
class Network:
    node_ids: tuple[str, ...]
    states: np.ndarray          # (S, n) float 0/1
    uses_yes: np.ndarray        # (S, K)
    uses_no: np.ndarray         # (S, K)
    entry_node: np.ndarray      # (K,) node index of each entry
    entry_config: np.ndarray    # (K,) parent configuration of each entry
    alpha: np.ndarray           # (K,) Beta alpha (nan where fixed)
    beta: np.ndarray            # (K,) Beta beta (nan where fixed)
    fixed: np.ndarray           # (K,) constant probability (nan where a Beta)
    parents: tuple[tuple[int, ...], ...] = ()   # parent indices per node, in CPT bit order

    @property
    def n_nodes(self) -> int:
        return len(self.node_ids)

    @property
    def free(self) -> np.ndarray:
        """Indices of the entries that have a Beta prior (sampled)."""
        return np.flatnonzero(np.isnan(self.fixed))

    @property
    def prior_means(self) -> np.ndarray:
        means = self.alpha / (self.alpha + self.beta)
        return np.where(np.isnan(self.fixed), means, self.fixed)

    def index(self, node_id: str) -> int:
        return self.node_ids.index(node_id)

    def log_state_prior(self, theta: np.ndarray) -> np.ndarray:
        """log P(x | theta) for every joint state; theta is (..., K), result (..., S)."""
        with np.errstate(divide="ignore"):
            return np.log(theta) @ self.uses_yes.T + np.log1p(-theta) @ self.uses_no.T

    def node_mask(self, conditions: Mapping[str, bool] | None = None) -> np.ndarray:
        """Hard evidence per node as log-indicators, shape (n, 2): column b is 0 where
        state b is allowed and HARD_EXCLUDED where a condition rules it out."""
        mask = np.zeros((self.n_nodes, 2))
        for node_id, outcome in (conditions or {}).items():
            mask[self.index(node_id), 1 - int(outcome)] = HARD_EXCLUDED
        return mask

    def state_log_evidence(self, node_log_weights: np.ndarray,
                           conditions: Mapping[str, bool] | None = None) -> np.ndarray:
        """Per joint state: soft evidence sum_v x_v L_v, and -inf where a hard condition fails."""
        log_w = self.states @ node_log_weights
        for node_id, outcome in (conditions or {}).items():
            column = self.states[:, self.index(node_id)]
            log_w = np.where(column == float(outcome), log_w, -np.inf)
        return log_w


def build_network(scenario: Scenario) -> Network:
    ids = scenario.node_ids
    n = len(ids)
    states = ((np.arange(2**n)[:, None] >> np.arange(n)[None, :]) & 1).astype(float)
    entry_node, entry_config, alpha, beta, fixed = [], [], [], [], []
    first_entry = []
    for v, node in enumerate(scenario.nodes):
        first_entry.append(len(entry_node))
        for config, prior in enumerate(node.priors):
            entry_node.append(v)
            entry_config.append(config)
            alpha.append(np.nan if prior.is_fixed else prior.alpha)
            beta.append(np.nan if prior.is_fixed else prior.beta)
            fixed.append(prior.fixed if prior.is_fixed else np.nan)
    n_entries = len(entry_node)
    uses_yes = np.zeros((2**n, n_entries))
    uses_no = np.zeros((2**n, n_entries))
    rows = np.arange(2**n)
    for v, node in enumerate(scenario.nodes):
        config = np.zeros(2**n, dtype=int)
        for bit, parent in enumerate(node.parents):
            config |= states[:, ids.index(parent)].astype(int) << bit
        entry = first_entry[v] + config
        yes = states[:, v] == 1
        uses_yes[rows[yes], entry[yes]] = 1.0
        uses_no[rows[~yes], entry[~yes]] = 1.0
    return Network(
        node_ids=ids,
        states=states,
        uses_yes=uses_yes,
        uses_no=uses_no,
        entry_node=np.array(entry_node),
        entry_config=np.array(entry_config),
        alpha=np.array(alpha, dtype=float),
        beta=np.array(beta, dtype=float),
        fixed=np.array(fixed, dtype=float),
        parents=tuple(tuple(ids.index(p) for p in node.parents) for node in scenario.nodes),
    )


def cluster_log_weights(items: Iterable[EvidenceItem]) -> dict[tuple[str, str], tuple[float, str]]:
    """The cluster rule: per (cluster, node), the one item with the largest |w * log LR|
    counts (ties go to the smallest item id); the others restate it and add nothing.

    Returns {(cluster_key, node): (log-weight, item_id of the counted item)}.
    """
    best: dict[tuple[str, str], tuple[float, str]] = {}
    for item in sorted(items, key=lambda it: it.item_id):
        key = (item.cluster_key, item.node)
        value = item.weight * float(np.log(item.lr))
        if key not in best or abs(value) > abs(best[key][0]):
            best[key] = (value, item.item_id)
    return best


def node_log_weights(node_ids: tuple[str, ...], items: Iterable[EvidenceItem]) -> np.ndarray:
    """Evidence collapsed into one log-weight per node, so sampling cost does not grow with
    the number of items."""
    totals: dict[str, float] = defaultdict(float)
    for (_cluster, node), (value, _item) in cluster_log_weights(items).items():
        totals[node] += value
    return np.array([totals.get(node, 0.0) for node in node_ids])


def conditions_of(resolutions, given: Mapping[str, bool] | None = None) -> dict[str, bool]:
    """Hard evidence: resolved outcomes, plus what-if conditions (which win if both are set)."""
    conditions = {r.node: r.outcome for r in resolutions}
    conditions.update(given or {})
    return conditions


def elimination_order(parents: tuple[tuple[int, ...], ...]) -> list[int]:
    """A greedy min-fill order for variable elimination on the moral graph (ties: smaller
    neighbourhood, then index), so intermediate factors stay as small as the graph allows."""
    n = len(parents)
    neighbours: list[set[int]] = [set() for _ in range(n)]
    for v, pa in enumerate(parents):
        family = {v, *pa}
        for a in family:
            neighbours[a] |= family - {a}
    remaining = set(range(n))
    order = []
    while remaining:
        def cost(u: int) -> tuple[int, int, int]:
            near = list(neighbours[u] & remaining)
            fill = sum(1 for i, a in enumerate(near) for b in near[i + 1:] if b not in neighbours[a])
            return (fill, len(near), u)

        u = min(remaining, key=cost)
        near = neighbours[u] & remaining
        for a in near:
            neighbours[a] |= near - {a}
        remaining.remove(u)
        order.append(u)
    return order


def largest_factor(parents: tuple[tuple[int, ...], ...], order: list[int]) -> int:
    """Number of variables in the largest intermediate factor of this elimination order."""
    scopes = [{v, *pa} for v, pa in enumerate(parents)]
    widest = max(len(s) for s in scopes)
    for u in order:
        touching = [s for s in scopes if u in s]
        merged = set().union(*touching) if touching else set()
        widest = max(widest, len(merged))
        scopes = [s for s in scopes if u not in s] + [merged - {u}]
    return widest
