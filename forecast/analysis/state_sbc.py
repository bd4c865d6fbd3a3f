"""Simulation-based calibration on a network with questions of more than two outcomes (the
multistate path of `forecast.analysis.sbc`, which owns thinning, ranks and the uniformity tests).

One simulation:

1. draw every free CPT row from its Dirichlet prior (fixed cells stay as they are);
2. draw the joint state x by forward sampling (each node from its row, parents first);
3. simulate evidence from x: each node is observed with probability `observe_prob` through a
   noisy signal y_v ~ Normal(c * onehot(x_v), I_k), c = sqrt(2) * signal, whose exact
   log-likelihood over the node's states, log N(y_v; c * onehot(s), I) = c * y_v[s] + constant,
   becomes that node's state log-weights (on a two-state node the log LR c (y_1 - y_0) is then
   distributed exactly as the binary SBC's 2 * signal * y); each node is resolved to its true
   state with probability `resolve_prob` (a state mask);
4. fit, thin, and rank the truth among the draws.

Quantities ranked: every free CPT cell; each node-state's prior marginal P(x_v = s | CPT) (a
function of the CPT alone) (of a two-state row or node only the second state, as the binary SBC
ranks yes: the first is its mirror image); and each node's state as a categorical rank: the index of the
true state among the indices of states drawn from each posterior draw's P(x_v | evidence, CPT),
ties broken at random (any fixed coding of the states gives a uniform rank when the truth and
the draws come from the same distribution, as 0/1 does on yes/no nodes).

numpy only: the fit is passed in, so this module never imports PyMC.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from ..inference.exact import cell_marginals
from ..inference.importance import prior_cell_draws
from ..model.network import HARD_EXCLUDED, Network
from ..model.structure import configuration


def topological_order(net: Network) -> list[int]:
    """Nodes with every parent before its children."""
    order, placed = [], set()
    while len(order) < net.n_nodes:
        for v in range(net.n_nodes):
            if v not in placed and all(p in placed for p in net.parents[v]):
                order.append(v)
                placed.add(v)
    return order


def forward_sample(net: Network, cells: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """One joint state (n,) of state indices from the CPT cells (n_cells,), parents first."""
    state = np.zeros(net.n_nodes, dtype=np.int64)
    for v in topological_order(net):
        row = configuration([int(state[p]) for p in net.parents[v]],
                            [net.cards[p] for p in net.parents[v]])
        k = net.cards[v]
        start = int(net.cell_offsets[v]) + row * k
        probs = cells[start:start + k]
        state[v] = rng.choice(k, p=probs / probs.sum())
    return state


def simulate_state_world(net: Network, rng: np.random.Generator, settings):
    """(cells (n_cells,), state (n,), state log-weights (n_states,), state mask (n_states,))."""
    cells = prior_cell_draws(net, 1, rng)[0]
    state = forward_sample(net, cells, rng)
    observed = rng.random(net.n_nodes) < settings.observe_prob
    weights = np.zeros(net.n_states)
    mask = np.zeros(net.n_states)
    resolved = rng.random(net.n_nodes) < settings.resolve_prob
    for v in range(net.n_nodes):
        lo, k = int(net.state_offsets[v]), net.cards[v]
        if observed[v]:
            separation = np.sqrt(2.0) * settings.signal
            mean = np.zeros(k)
            mean[state[v]] = separation
            weights[lo:lo + k] = separation * rng.normal(mean, 1.0)
        if resolved[v]:
            mask[lo:lo + k] = HARD_EXCLUDED
            mask[lo + state[v]] = 0.0
    return cells, state, weights, mask


def ranked_cells(net: Network) -> np.ndarray:
    """The free CPT cells ranked: every cell of a row of more than two states; of a two-state
    row only its second state's (yes on a yes/no node), whose mirror the first is."""
    node = np.repeat(np.arange(net.n_nodes), np.diff(net.cell_offsets))
    cards = np.asarray(net.cards)[node]
    within = (np.arange(len(node)) - net.cell_offsets[node]) % cards
    return np.flatnonzero(~np.isnan(net.concentration) & ((cards > 2) | (within == 1)))


def ranked_states(net: Network) -> np.ndarray:
    """The node-states whose prior marginals are ranked: likewise, a two-state node's second."""
    node = np.repeat(np.arange(net.n_nodes), net.cards)
    cards = np.asarray(net.cards)[node]
    within = np.arange(net.n_states) - net.state_offsets[node]
    return np.flatnonzero((cards > 2) | (within == 1))


def quantity_names(net: Network, cell_labels: Sequence[str] | None = None) -> list[str]:
    labels = cell_labels or [str(c) for c in range(len(net.concentration))]
    names = [f"{v}={s}" for v, states in zip(net.node_ids, map(net.states_of, range(net.n_nodes)),
                                             strict=True) for s in states]
    return ([f"theta[{labels[c]}]" for c in ranked_cells(net)]
            + [f"marginal[{names[i]}]" for i in ranked_states(net)]
            + [f"state[{v}]" for v in net.node_ids])


def prior_marginals(net: Network, cells: np.ndarray) -> np.ndarray:
    """P(x_v = s | CPT) per row of cells (D, n_cells): (D, n_states)."""
    return cell_marginals(net, cells)


def draw_states(net: Network, p_states: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """A state index per node from each row of P(node = state) (D, n_states): (D, n)."""
    u = rng.random((len(p_states), net.n_nodes))
    out = np.empty((len(p_states), net.n_nodes))
    for v in range(net.n_nodes):
        lo, hi = int(net.state_offsets[v]), int(net.state_offsets[v + 1])
        cumulative = np.cumsum(p_states[:, lo:hi], axis=1)
        cumulative /= cumulative[:, -1:]
        out[:, v] = np.minimum((cumulative < u[:, v:v + 1]).sum(axis=1), hi - lo - 1)
    return out


def true_state_quantities(net: Network, cells: np.ndarray, state: np.ndarray) -> np.ndarray:
    return np.concatenate([cells[ranked_cells(net)],
                           prior_marginals(net, cells[None])[0][ranked_states(net)],
                           state.astype(float)])


def posterior_state_quantities(net: Network, cells: np.ndarray, p_states: np.ndarray,
                               rng: np.random.Generator) -> np.ndarray:
    return np.concatenate([cells[:, ranked_cells(net)],
                           prior_marginals(net, cells)[:, ranked_states(net)],
                           draw_states(net, p_states, rng)], axis=1)
