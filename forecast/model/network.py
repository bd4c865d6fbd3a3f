"""The scenario as arrays: joint states, CPT entries, and evidence collapsed into
per-node log-weights. numpy only; both engines build on it.

A joint state x is a row of `states` (0/1 per node, in scenario order). CPT entry k is
(node, parent configuration); `uses_yes[s, k]` is 1 when state s has that node = yes under
that configuration, `uses_no[s, k]` likewise for no. So for entry probabilities theta,

    log P(x_s | theta) = uses_yes[s] @ log(theta) + uses_no[s] @ log(1 - theta).

One module past 400 lines because the network's arrays and the evidence weights laid over them
share one indexing (entries, states, cells): split, each half would have to restate it.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from functools import cached_property

import numpy as np

from .parametric import TABLE, Parameters, build_parameters
from .spec import EvidenceItem, Scenario

# Log-weight of a joint state that a hard condition rules out. Finite (not -inf) so that it can
# be multiplied by 0 inside matrix products without producing NaN; exp() of it is exactly 0.
HARD_EXCLUDED = -1e12


# Joint-state tables (2^n rows) are built only on request and only up to this many nodes: the
# enumeration they serve is the fastest method for tiny networks (and the NUTS model's
# enumeration path), and past it they would cost gigabytes. Larger networks go by elimination.
ENUMERATION_LIMIT = 16


@dataclass(frozen=True)
class Network:
    """A scenario's structure and CPT priors. Entry k is (node, parent configuration); node v's
    entries are contiguous, configuration c (bit j = state of parents[v][j]) at
    `first_entry[v] + c`. The joint-state tables `states`, `uses_yes`, `uses_no` are derived
    lazily for small networks only (see ENUMERATION_LIMIT).

    Parametric nodes (`cpt[v]` "noisy_or" or "log_odds") share k + 1 uncertain numbers across
    their 2^k entries: those entries have no prior of their own (alpha, beta and fixed are
    nan there) and come from `parameters.theta(...)`; `parameters` is what has priors. For a
    table-only network the parameters are the entries."""

    node_ids: tuple[str, ...]
    entry_node: np.ndarray      # (K,) node index of each entry
    entry_config: np.ndarray    # (K,) parent configuration of each entry
    alpha: np.ndarray           # (K,) Beta alpha (nan where fixed)
    beta: np.ndarray            # (K,) Beta beta (nan where fixed)
    fixed: np.ndarray           # (K,) constant probability (nan where a Beta)
    parents: tuple[tuple[int, ...], ...]   # parent indices per node, in CPT bit order
    cpt: tuple[str, ...] = ()              # form per node; () means every node is a table
    node_priors: tuple = ()                # per node, its priors' (alpha, beta, fixed)
    # States per node in the engines' index order (yes/no nodes: ("no", "yes")); () means every
    # node is yes/no. With a node of more than two states the CPT is also kept cell by cell
    # (see `forecast.inference.elimination`'s layout): node v's row c, state x is cell
    # cell_offsets[v] + c * cards[v] + x; `concentration` is each free cell's Dirichlet
    # parameter (NaN where fixed) and `fixed_cells` each fixed cell's value (NaN where free).
    node_states: tuple[tuple[str, ...], ...] = ()
    concentration: np.ndarray | None = None
    fixed_cells: np.ndarray | None = None

    @cached_property
    def forms(self) -> tuple[str, ...]:
        return self.cpt or (TABLE,) * self.n_nodes

    @cached_property
    def parameters(self) -> Parameters:
        """The uncertain numbers with priors, and how they make the CPT entries."""
        if self.node_priors:
            priors = [list(p) for p in self.node_priors]
        else:
            priors = [[(self.alpha[k], self.beta[k], self.fixed[k])
                       for k in np.flatnonzero(self.entry_node == v)] for v in range(self.n_nodes)]
        return build_parameters(self.forms, self.parents, priors)

    @property
    def parametric(self) -> bool:
        """Some node has a parametric CPT (numbers shared across its parent configurations)."""
        return any(form != TABLE for form in self.forms)

    @property
    def n_nodes(self) -> int:
        return len(self.node_ids)

    @cached_property
    def cards(self) -> tuple[int, ...]:
        return tuple(len(s) for s in self.node_states) if self.node_states else (2,) * self.n_nodes

    @property
    def multistate(self) -> bool:
        """Some node is not a yes/no question (it has more than two states, or two named
        states): inference goes cell by cell and state by state (the general kernel), not by
        P(yes) per CPT row; yes/no networks keep the binary path."""
        return self.concentration is not None

    @cached_property
    def state_offsets(self) -> np.ndarray:
        """(n + 1,) where each node's states start in a flat per-state vector."""
        return np.concatenate([[0], np.cumsum(self.cards)]).astype(np.int64)

    @property
    def n_states(self) -> int:
        return int(self.state_offsets[-1])

    @cached_property
    def cell_offsets(self) -> np.ndarray:
        """(n + 1,) where each node's CPT cells start in the flat cell vector."""
        sizes = [self.cards[v] * int(np.prod([self.cards[p] for p in pa], dtype=np.int64))
                 for v, pa in enumerate(self.parents)]
        return np.concatenate([[0], np.cumsum(sizes)]).astype(np.int64)

    def states_of(self, v: int) -> tuple[str, ...]:
        return self.node_states[v] if self.node_states else ("no", "yes")

    def state_index(self, v: int, state) -> int:
        """A condition's state (True/False on a yes/no node, or a state name) as an index."""
        if isinstance(state, bool | np.bool_):
            return int(state)
        return self.states_of(v).index(state)

    @property
    def prior_cells(self) -> np.ndarray:
        """Every CPT cell at its prior mean (multistate networks)."""
        conc = self.concentration
        cells = np.where(np.isnan(self.fixed_cells), 0.0, self.fixed_cells)
        free = ~np.isnan(conc)
        totals = np.zeros_like(conc)
        for v in range(self.n_nodes):
            lo, hi, k = self.cell_offsets[v], self.cell_offsets[v + 1], self.cards[v]
            block = np.nan_to_num(conc[lo:hi]).reshape(-1, k)
            totals[lo:hi] = np.repeat(block.sum(axis=1), k)
        cells[free] = conc[free] / totals[free]
        return cells

    def state_mask(self, conditions: Mapping | None = None) -> np.ndarray:
        """Hard conditions as a flat per-state log-mask (n_states,): 0 allowed, HARD_EXCLUDED
        for every other state of a conditioned node."""
        mask = np.zeros(self.n_states)
        for node_id, state in (conditions or {}).items():
            v = self.index(node_id)
            lo = self.state_offsets[v]
            mask[lo:lo + self.cards[v]] = HARD_EXCLUDED
            mask[lo + self.state_index(v, state)] = 0.0
        return mask

    @property
    def n_entries(self) -> int:
        return len(self.entry_node)

    @cached_property
    def first_entry(self) -> np.ndarray:
        """(n,) index of each node's first CPT entry."""
        return np.array([int(np.flatnonzero(self.entry_node == v)[0]) for v in range(self.n_nodes)],
                        dtype=int)

    @property
    def free(self) -> np.ndarray:
        """Indices of the entries that have a Beta prior (sampled). On a multistate network,
        the two-state rows only (k-state rows: `free_cells`)."""
        if self.multistate:
            return np.flatnonzero(~np.isnan(self.alpha))
        return np.flatnonzero(np.isnan(self.fixed))

    @property
    def all_fixed(self) -> bool:
        """Every CPT entry is a constant (a textbook network, or one imported with fixed
        tables): nothing to sample, every interval is a point, no sensitivity."""
        if self.parametric:
            return False
        if self.multistate:
            return bool(np.all(np.isnan(self.concentration)))
        return bool(np.all(~np.isnan(self.fixed)))

    @property
    def prior_means(self) -> np.ndarray:
        means = self.alpha / (self.alpha + self.beta)
        return np.where(np.isnan(self.fixed), means, self.fixed)

    def index(self, node_id: str) -> int:
        return self.node_ids.index(node_id)

    @property
    def conjugate(self) -> bool:
        """Every CPT entry has its own Beta prior (or is a constant) and sits in one node's
        table: the parameters integrate out in closed form, so the exact engine is exact.
        A parametric CPT shares its numbers across configurations: not conjugate."""
        return not self.parametric

    @property
    def enumerable(self) -> bool:
        return self.n_nodes <= ENUMERATION_LIMIT

    @cached_property
    def states(self) -> np.ndarray:
        """(S, n) float 0/1: every joint state, S = 2^n (small networks only)."""
        n = self.n_nodes
        if not self.enumerable:
            raise ValueError(f"{n} nodes: too many to enumerate 2^{n} joint states; "
                             "use variable elimination")
        return ((np.arange(2**n)[:, None] >> np.arange(n)[None, :]) & 1).astype(float)

    @cached_property
    def _incidence(self) -> tuple[np.ndarray, np.ndarray]:
        states = self.states
        size = len(states)
        uses_yes = np.zeros((size, self.n_entries))
        uses_no = np.zeros((size, self.n_entries))
        rows = np.arange(size)
        for v, pa in enumerate(self.parents):
            config = np.zeros(size, dtype=int)
            for bit, parent in enumerate(pa):
                config |= states[:, parent].astype(int) << bit
            entry = self.first_entry[v] + config
            yes = states[:, v] == 1
            uses_yes[rows[yes], entry[yes]] = 1.0
            uses_no[rows[~yes], entry[~yes]] = 1.0
        return uses_yes, uses_no

    @property
    def uses_yes(self) -> np.ndarray:
        """(S, K): 1 where joint state s has entry k's node = yes under k's configuration."""
        return self._incidence[0]

    @property
    def uses_no(self) -> np.ndarray:
        """(S, K): likewise for node = no."""
        return self._incidence[1]

    def log_state_prior(self, theta: np.ndarray) -> np.ndarray:
        """log P(x | theta) for every joint state; theta is (..., K), result (..., S). A 0 or 1
        entry (a fixed logical row) gives HARD_EXCLUDED, not -inf, where its log enters: a
        state not using the entry multiplies it by 0, and 0 * -inf would be NaN."""
        with np.errstate(divide="ignore"):
            log_yes = np.maximum(np.log(theta), HARD_EXCLUDED)
            log_no = np.maximum(np.log1p(-theta), HARD_EXCLUDED)
        return log_yes @ self.uses_yes.T + log_no @ self.uses_no.T

    def node_mask(self, conditions: Mapping[str, bool] | None = None) -> np.ndarray:
        """Hard evidence per node as log-indicators, shape (n, 2): column b is 0 where
        state b is allowed and HARD_EXCLUDED where a condition rules it out."""
        mask = np.zeros((self.n_nodes, 2))
        for node_id, outcome in (conditions or {}).items():
            v = self.index(node_id)
            mask[v, 1 - self.state_index(v, outcome)] = HARD_EXCLUDED
        return mask

    def as_node_mask(self, hard_mask: np.ndarray) -> np.ndarray:
        """Hard evidence as an (n, 2) per-node log-mask (as the kernel and the NUTS model take
        it); a per-state mask (S,) of 0 / -inf (or HARD_EXCLUDED) made from per-node
        conditions, as SBC's simulated worlds state their resolutions, is converted to it."""
        hard_mask = np.asarray(hard_mask, dtype=float)
        if hard_mask.shape == (self.n_nodes, 2):
            return hard_mask
        if hard_mask.shape != (len(self.states),):
            raise ValueError(f"hard mask of shape {hard_mask.shape} fits neither (n, 2) nor (S,)")
        allowed = hard_mask > HARD_EXCLUDED / 2
        mask = np.zeros((self.n_nodes, 2))
        for v in range(self.n_nodes):
            for b in (0, 1):
                if not np.any(allowed & (self.states[:, v] == b)):
                    mask[v, b] = HARD_EXCLUDED
        return mask

    def state_log_evidence(self, node_log_weights: np.ndarray,
                           conditions: Mapping[str, bool] | None = None) -> np.ndarray:
        """Per joint state: soft evidence sum_v x_v L_v, and -inf where a hard condition fails."""
        log_w = self.states @ node_log_weights
        for node_id, outcome in (conditions or {}).items():
            column = self.states[:, self.index(node_id)]
            state = self.state_index(self.index(node_id), outcome)
            log_w = np.where(column == float(state), log_w, -np.inf)
        return log_w

    def entry_states(self, states: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """For joint states (D, n) of 0/1, which entry each node used: (D, K) yes-counts and
        no-counts (each row has one 1 per node), the pseudo-observations a joint state makes
        of the CPT entries."""
        states = np.asarray(states, dtype=np.int64)
        used = np.empty_like(states)
        for v, pa in enumerate(self.parents):
            config = np.zeros(len(states), dtype=np.int64)
            for bit, parent in enumerate(pa):
                config |= states[:, parent] << bit
            used[:, v] = self.first_entry[v] + config
        yes = np.zeros((len(states), self.n_entries))
        no = np.zeros((len(states), self.n_entries))
        rows = np.arange(len(states))[:, None]
        np.add.at(yes, (rows, used), states)
        np.add.at(no, (rows, used), 1 - states)
        return yes, no


def _binary_triple(prior, node) -> tuple[float, float, float]:
    """(alpha, beta, fixed) of P(engine state 1) for a two-state row (a yes/no row, or a
    Dirichlet / fixed row over two named states, whose second state is engine index 1)."""
    if prior.dirichlet is not None:
        first, second = (prior.dirichlet[node.states.index(s)] for s in node.engine_states)
        return second, first, np.nan
    if prior.fixed_row is not None:
        return np.nan, np.nan, prior.fixed_row[node.states.index(node.engine_states[1])]
    if prior.is_fixed:
        return np.nan, np.nan, prior.fixed
    return prior.alpha, prior.beta, np.nan


def _cells(prior, node) -> tuple[list[float], list[float]]:
    """(concentration, fixed) of one CPT row, cell by cell in engine state order (a node that
    is not yes/no keeps its declared order: no reordering, which for mildew's 100 states on
    7,000 rows was 5 s of `tuple.index`)."""
    if node.binary:
        order = [node.states.index(s) for s in node.engine_states]
        in_order = lambda row: [row[i] for i in order]      # noqa: E731
    else:
        in_order = list
    if prior.dirichlet is not None:
        return in_order(prior.dirichlet), [np.nan] * node.card
    if prior.fixed_row is not None:
        return [np.nan] * node.card, in_order(prior.fixed_row)
    if prior.is_fixed:
        return [np.nan, np.nan], [1.0 - prior.fixed, prior.fixed]
    return [prior.beta, prior.alpha], [np.nan, np.nan]


def build_network(scenario: Scenario) -> Network:
    ids = scenario.node_ids
    entry_node, entry_config, alpha, beta, fixed = [], [], [], [], []
    node_priors = []
    named = any(not node.binary for node in scenario.nodes)
    # a table network with a question that is not yes/no is kept cell by cell (`multistate`)
    multistate = named and not any(node.parametric for node in scenario.nodes)
    concentration, fixed_cells = [], []
    for v, node in enumerate(scenario.nodes):
        two = node.card == 2
        triples = tuple(_binary_triple(p, node) if two else (np.nan, np.nan, np.nan)
                        for p in node.priors)
        node_priors.append(triples)
        if multistate and not node.parametric:
            for prior in node.priors:
                conc, fix = _cells(prior, node)
                concentration.extend(conc)
                fixed_cells.extend(fix)
        rows = int(np.prod([scenario.node(p).card for p in node.parents], dtype=np.int64))
        for config in range(rows):
            entry_node.append(v)
            entry_config.append(config)
            a, b, f = triples[config] if not node.parametric else (np.nan, np.nan, np.nan)
            alpha.append(a)
            beta.append(b)
            fixed.append(f)
    parametric = any(node.parametric for node in scenario.nodes)
    return Network(
        node_ids=ids,
        entry_node=np.array(entry_node, dtype=int),
        entry_config=np.array(entry_config, dtype=int),
        alpha=np.array(alpha, dtype=float),
        beta=np.array(beta, dtype=float),
        fixed=np.array(fixed, dtype=float),
        parents=tuple(tuple(ids.index(p) for p in node.parents) for node in scenario.nodes),
        cpt=tuple(node.cpt for node in scenario.nodes) if parametric else (),
        node_priors=tuple(node_priors) if parametric else (),
        node_states=tuple(node.engine_states for node in scenario.nodes) if named else (),
        concentration=np.array(concentration, dtype=float) if multistate else None,
        fixed_cells=np.array(fixed_cells, dtype=float) if multistate else None,
    )


def yes_log_weight(item: EvidenceItem) -> float | None:
    """A yes/no item's log-weight on yes, w * log LR (an LR for `no` weighs against yes);
    None for an item on a state of a node with more states, or a vector LR."""
    if item.lrs or item.state not in ("", "yes", "no"):
        return None
    value = item.weight * float(np.log(item.lr))
    return -value if item.state == "no" else value


def cluster_log_weights(items: Iterable[EvidenceItem]) -> dict[tuple[str, str], tuple[float, str]]:
    """The cluster rule on yes/no nodes: per (cluster, node), the one item with the largest
    |w * log LR| counts (ties go to the smallest item id); the others restate it and add
    nothing. Items on nodes with more states are left to `cluster_state_weights`.

    Returns {(cluster_key, node): (log-weight, item_id of the counted item)}.
    """
    best: dict[tuple[str, str], tuple[float, str]] = {}
    for item in sorted(items, key=lambda it: it.item_id):
        key = (item.cluster_key, item.node)
        value = yes_log_weight(item)
        if value is None:
            continue
        if key not in best or abs(value) > abs(best[key][0]):
            best[key] = (value, item.item_id)
    return best


def node_log_weights(node_ids: tuple[str, ...], items: Iterable[EvidenceItem]) -> np.ndarray:
    """Evidence on yes/no nodes collapsed into one log-weight per node (on yes), so sampling
    cost does not grow with the number of items."""
    totals: dict[str, float] = defaultdict(float)
    for (_cluster, node), (value, _item) in cluster_log_weights(items).items():
        totals[node] += value
    return np.array([totals.get(node, 0.0) for node in node_ids])


def item_log_likelihood(net: Network, item: EvidenceItem) -> np.ndarray:
    """An item's weighted log-likelihood over its node's states (engine order): w * log LR on
    the state it names (yes when none, on a yes/no node), 0 on the others; or w times the log
    of its vector LR (declared order, re-ordered here). Likelihood^w (README, "Questions with
    more than two outcomes")."""
    v = net.index(item.node)
    states = net.states_of(v)
    out = np.zeros(net.cards[v])
    if item.lrs:
        declared = _declared(states)
        for lr, state in zip(item.lrs, declared, strict=True):
            out[states.index(state)] = item.weight * float(np.log(lr))
    else:
        out[net.state_index(v, item.state or "yes")] = item.weight * float(np.log(item.lr))
    return out


def _declared(engine_states: tuple[str, ...]) -> tuple[str, ...]:
    """Declared order from engine order: only yes/no nodes differ, (no, yes) -> (yes, no)."""
    return ("yes", "no") if engine_states == ("no", "yes") else engine_states


def cluster_state_weights(net: Network, items: Iterable[EvidenceItem]
                          ) -> dict[tuple[str, str], tuple[np.ndarray, str]]:
    """The cluster rule over states: per (cluster, node) the item whose weighted
    log-likelihood has the largest range (max minus min over the states; on a yes/no node the
    largest |w log LR|, as before) counts; ties go to the smallest item id."""
    best: dict[tuple[str, str], tuple[np.ndarray, str]] = {}
    for item in sorted(items, key=lambda it: it.item_id):
        key = (item.cluster_key, item.node)
        value = item_log_likelihood(net, item)
        spread = float(value.max() - value.min())
        if key not in best or spread > float(best[key][0].max() - best[key][0].min()):
            best[key] = (value, item.item_id)
    return best


def state_log_weights(net: Network, items: Iterable[EvidenceItem]) -> np.ndarray:
    """Evidence collapsed into a flat per-state log-likelihood (n_states,), engine order."""
    out = np.zeros(net.n_states)
    for (_cluster, node), (value, _item) in cluster_state_weights(net, items).items():
        v = net.index(node)
        out[net.state_offsets[v]:net.state_offsets[v + 1]] += value
    return out


def conditions_of(resolutions, given: Mapping[str, bool | str] | None = None
                  ) -> dict[str, bool | str]:
    """Hard evidence: resolved outcomes, plus what-if conditions (which win if both are set)."""
    conditions = {r.node: r.outcome for r in resolutions}
    conditions.update(given or {})
    return conditions
