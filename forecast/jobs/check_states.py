"""`forecast check` on a network with questions of more than two outcomes: the same checks as
`forecast.jobs.check`, node-state by node-state.

Agreement: each node-state's mean from the tested engine against its reference (NUTS against
the exact engine's state_means, z with the NUTS MCSE of that state's draws; the exact engine
against importance sampling over the Dirichlet priors, z with the sampler's standard error),
the Bonferroni limit at 1% family-wise over the open node-states (a resolved node's states
are exact 0s and 1s on both sides and are held to equality instead). check.json keeps a row
per node (a yes/no node's numbers are its yes state's, as on a yes/no network; on any other
node they are null and z is its largest over its states) and adds `states`, a row per
node-state in the node's declared order, with `tests`, the number of open node-states.

SBC goes through `forecast.analysis.sbc` (its multistate path); the fit functions here give it
CPT cells and P(node = state) per draw.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

import numpy as np

from ..inference.diagnostics import mcse_mean
from ..inference.exact import draws_with_cpt, state_means
from ..inference.importance import ImportanceEstimate
from ..model.network import Network
from ..model.spec import Scenario


def declared(net: Network, v: int) -> list[tuple[str, int]]:
    """Node v's states in declared order (yes before no), each with its flat state index."""
    states = net.states_of(v)
    names = ("yes", "no") if states == ("no", "yes") else states
    return [(s, int(net.state_offsets[v]) + states.index(s)) for s in names]


def cell_labels(scenario: Scenario, net: Network) -> list[str]:
    """A label for every CPT cell, flat cell order: `node=state | parent=state, ...`."""
    labels = []
    for v, node in enumerate(scenario.nodes):
        parents = net.parents[v]
        rows = int(np.prod([net.cards[p] for p in parents], dtype=np.int64))
        for row in range(rows):
            given, rest = [], row
            for p in parents:                       # parents[0] varies fastest
                given.append(f"{net.node_ids[p]}={net.states_of(p)[rest % net.cards[p]]}")
                rest //= net.cards[p]
            for state in net.states_of(v):
                labels.append(f"{node.id}={state}" + (" | " + ", ".join(given) if given else ""))
    return labels


def state_agreement(net: Network, tested: np.ndarray, reference: np.ndarray, mcse: np.ndarray,
                    reference_se: np.ndarray, open_states: np.ndarray, columns: dict,
                    z_limit: Callable[[int], float], family_alpha: float) -> dict:
    """The agreement document from per node-state numbers (n_states,) each."""
    gap = np.abs(tested - reference)
    combined = np.sqrt(mcse**2 + reference_se**2)
    with np.errstate(divide="ignore", invalid="ignore"):
        z = np.where(open_states & (combined > 0), gap / combined,
                     np.where(gap < 1e-9, 0.0, np.inf))
    tests = int(np.sum(open_states))
    limit = z_limit(tests)
    first, second = columns["tested"], columns["reference"]

    def row(i: int) -> dict:
        return {first: round(float(tested[i]), 6), second: round(float(reference[i]), 6),
                "mcse": round(float(mcse[i]), 6), "reference_se": round(float(reference_se[i]), 6),
                "z": round(float(z[i]), 3)}

    states, nodes = [], []
    for v, node_id in enumerate(net.node_ids):
        order = declared(net, v)
        states.extend({"id": node_id, "state": s, **row(i)} for s, i in order)
        worst = round(float(max(z[i] for _s, i in order)), 3)
        if net.states_of(v) == ("no", "yes"):
            nodes.append({"id": node_id, **row(order[0][1]), "z": worst})
        else:
            nodes.append({"id": node_id, first: None, second: None, "mcse": None,
                          "reference_se": None, "z": worst})
    return {
        "columns": columns,
        "z_limit": round(limit, 4),
        "family_alpha": family_alpha,
        "tests": tests,
        "max_z": float(np.max(z)),
        "passed": bool(np.all(z <= limit)),
        "nodes": nodes,
        "states": states,
    }


def _open(net: Network, conditions: Mapping) -> np.ndarray:
    """Node-states whose node no hard condition fixes."""
    shut = np.zeros(net.n_states, dtype=bool)
    for node_id in conditions:
        v = net.index(node_id)
        shut[net.state_offsets[v]:net.state_offsets[v + 1]] = True
    return ~shut


def nuts_state_agreement(net: Network, state_log_weights: np.ndarray, conditions: Mapping,
                         state_draws: np.ndarray, z_limit, family_alpha: float) -> dict:
    """NUTS's node-state means (the mean of its draws (chains, draws, n_states)) against the
    exact engine's, z = gap / the NUTS MCSE of each state's draws."""
    exact = state_means(net, state_log_weights, conditions)
    draws = np.asarray(state_draws, dtype=float)
    means = draws.reshape(-1, net.n_states).mean(axis=0)
    document = state_agreement(net, means, exact, np.asarray(mcse_mean(draws), dtype=float),
                               np.zeros(net.n_states), _open(net, conditions),
                               {"tested": "nuts_mean", "reference": "exact_mean"}, z_limit,
                               family_alpha)
    return {**document, "reference": "closed form"}


def importance_state_agreement(net: Network, conditions: Mapping, exact_means: np.ndarray,
                               estimate: ImportanceEstimate, z_limit, family_alpha: float) -> dict:
    """The exact engine's node-state means against importance sampling over the Dirichlet
    priors (`estimate`, per node-state), z = gap / the sampler's own standard error."""
    document = state_agreement(net, np.asarray(exact_means, dtype=float), estimate.mean,
                               np.zeros(net.n_states), estimate.se, _open(net, conditions),
                               {"tested": "exact_mean", "reference": "importance_mean"}, z_limit,
                               family_alpha)
    return {**document, "reference": "importance sampling over the priors",
            "reference_draws": int(estimate.draws),
            "effective_sample_size": round(float(estimate.effective_sample_size), 1)}


def exact_state_fit_function(net: Network, n_draws: int) -> Callable:
    """SBC's fit from the exact engine: exact iid Dirichlet-conjugate draws of the CPT cells
    and of P(node = state | evidence, CPT)."""

    def fit(state_log_weights, state_mask, seed):
        probs, cells = draws_with_cpt(net, state_log_weights, state_mask, n_draws,
                                      np.random.default_rng(seed))
        return cells, probs, 0

    return fit


def nuts_state_fit_function(sampler, settings) -> Callable:
    """SBC's fit from the compiled NUTS sampler: per draw every CPT cell (fixed ones filled in,
    free rows from the sampled Dirichlet rows), P(node = state), and the divergence count."""
    from ..inference.nuts import sampled_cells

    net = sampler.net
    groups = sampled_cells(net)
    columns = np.concatenate([cells.ravel() for _k, cells in groups]) if groups else np.array([], int)

    def fit(state_log_weights, state_mask, seed):
        result = sampler.sample(state_log_weights, state_mask, seed, settings)
        p_states = result.draws["p_states"].reshape(-1, net.n_states)
        cells = np.broadcast_to(np.nan_to_num(net.fixed_cells),
                                (len(p_states), net.fixed_cells.size)).copy()
        if len(columns):
            cells[:, columns] = result.draws["rows"].reshape(len(p_states), len(columns))
        return cells, p_states, int(result.diagnostics["divergences"])

    return fit
