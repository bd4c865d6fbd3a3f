"""The scenario as a PyMC model: the one module that imports PyMC (and PyTensor).

What it is for since the NUTS target has its own kernel (`forecast.inference.density`, which
nutpie samples): PyMC's own sampler (`--backend pymc`), the naive baseline of bench/, the
reference the kernel's log density and gradient are tested against, and the same for the
recalibration model (`recalibration_model.py`). Discrete node states are summed out exactly
inside the model (by enumeration up to ENUMERATION_MAX_NODES nodes, else by variable
elimination in the exact engine's order); evidence enters as per-node log-weights and a
hard-evidence mask held in `pm.Data`, so a change of evidence reuses the same model graph.
"""

from __future__ import annotations

import logging
import sys
import warnings

import numpy as np
import pymc as pm
import pytensor.tensor as pt

from ..model.network import Network
from .exact import structure_of
from .nuts import sampled_cells
from .settings import ENUMERATION_MAX_NODES, SamplerSettings


def _entry_logs(net: Network):
    """log(theta) and log(1 - theta) for every CPT entry. Table entries are their own
    parameters (a sampled Beta, or a constant); a parametric node's entries are computed from
    its shared parameters by the linear maps of `forecast.model.parametric` (log(1 - theta)
    for noisy_or, the logit for log_odds), in log space so no entry rounds to 0 or 1."""
    params = net.parameters
    if params.identity:
        free = net.free
        log_theta = np.log(np.where(np.isnan(net.fixed), 0.5, net.fixed))
        log1m_theta = np.log1p(-np.where(np.isnan(net.fixed), 0.5, net.fixed))
        log_theta, log1m_theta = pt.as_tensor_variable(log_theta), pt.as_tensor_variable(log1m_theta)
        if len(free):
            theta = pm.Beta("theta", alpha=net.alpha[free], beta=net.beta[free], dims="entry")
            log_theta = pt.set_subtensor(log_theta[free], pt.log(theta))
            log1m_theta = pt.set_subtensor(log1m_theta[free], pt.log1p(-theta))
        return log_theta, log1m_theta
    # Parametric: only dense matrix products (no indexed set_subtensor), which numba compiles
    # in a fraction of the time. value = constants + placement @ sampled Betas.
    free = params.free
    value = pt.as_tensor_variable(np.where(np.isnan(params.fixed), 0.0, params.fixed))
    if len(free):
        theta = pm.Beta("theta", alpha=params.alpha[free], beta=params.beta[free], dims="entry")
        place = np.zeros((params.n_params, len(free)))
        place[free, np.arange(len(free))] = 1.0
        value = value + pt.dot(place, theta)
    log_p, log1m_p = pt.log(value), pt.log1p(-value)
    take = np.zeros((params.n_entries, params.n_params))       # table entries copy a parameter
    take[params.table_entry, params.table_param] = 1.0
    log_theta = pt.dot(take, log_p)
    log1m_theta = pt.dot(take, log1m_p)
    if len(params.or_entry):
        put = np.zeros((params.n_entries, len(params.or_entry)))
        put[params.or_entry, np.arange(len(params.or_entry))] = 1.0
        log_no = pt.dot(params.or_matrix, log1m_p)
        log_theta = log_theta + pt.dot(put, pt.log1mexp(log_no))
        log1m_theta = log1m_theta + pt.dot(put, log_no)
    if len(params.lo_entry):
        put = np.zeros((params.n_entries, len(params.lo_entry)))
        put[params.lo_entry, np.arange(len(params.lo_entry))] = 1.0
        z = pt.dot(params.lo_matrix, log_p - log1m_p)
        log_theta = log_theta + pt.dot(put, -pt.softplus(-z))
        log1m_theta = log1m_theta + pt.dot(put, -pt.softplus(z))
    return log_theta, log1m_theta


def parameter_labels(net: Network) -> list[str]:
    """`node|configuration` for a table parameter, `node|base` or `node|<parent>` for a
    parametric one, in parameter order."""
    params = net.parameters
    labels = []
    for v, slot in zip(params.node, params.slot, strict=True):
        node = net.node_ids[v]
        if net.forms[v] == "table":
            labels.append(f"{node}|{slot}")
        else:
            labels.append(f"{node}|{'base' if slot < 0 else net.node_ids[net.parents[v][slot]]}")
    return labels


def _enumerate(net: Network, log_theta, log1m_theta, log_weights, node_mask):
    """log Z and P(node = yes | evidence, theta) by summing over all 2^n joint states."""
    states = net.states
    log_joint = (pt.dot(net.uses_yes, log_theta) + pt.dot(net.uses_no, log1m_theta)
                 + pt.dot(states, log_weights + node_mask[:, 1]) + pt.dot(1 - states, node_mask[:, 0]))
    return pt.logsumexp(log_joint), pt.dot(pt.special.softmax(log_joint), states)


def _eliminate(net: Network, log_theta, log1m_theta, log_weights, node_mask):
    """log Z by variable elimination in a min-fill order. A factor is a log-space tensor with
    one axis per variable of its scope (kept sorted); a product is a broadcast sum after
    aligning axes, and summing a variable out is a logsumexp over its axis. P(node = yes) is
    d log Z / d L_node (L enters as x_node * L_node): one backward pass for every node."""
    n = net.n_nodes
    first = {int(v): int(np.flatnonzero(net.entry_node == v)[0]) for v in range(n)}

    def sorted_factor(table, axes_vars):
        order = [int(i) for i in np.argsort(axes_vars)]
        if order != list(range(len(order))):
            table = table.transpose(*order)
        return table, sorted(axes_vars)

    def aligned(table, scope, union):
        return table.dimshuffle([scope.index(v) if v in scope else "x" for v in union])

    factors = []
    for v in range(n):
        pa = net.parents[v]
        k = len(pa)
        rows = slice(first[v], first[v] + 2**k)
        no = pt.reshape(log1m_theta[rows], (2,) * k) if k else log1m_theta[rows][0]
        yes = pt.reshape(log_theta[rows], (2,) * k) if k else log_theta[rows][0]
        # reshape of a config-indexed vector puts the highest bit first: parents reversed
        table = pt.stack([no, yes]) + pt.stack([node_mask[v, 0], log_weights[v] + node_mask[v, 1]]
                                               ).dimshuffle([0] + ["x"] * k)
        factors.append(sorted_factor(table, [v, *reversed(pa)]))
    for u in structure_of(net).order:           # the exact engine's order: one home
        touching = [f for f in factors if u in f[1]]
        factors = [f for f in factors if u not in f[1]]
        union = sorted(set().union(*(f[1] for f in touching)))
        total = aligned(*touching[0], union)
        for table, scope in touching[1:]:
            total = total + aligned(table, scope, union)
        factors.append((pt.logsumexp(total, axis=union.index(u)), [w for w in union if w != u]))
    log_z = pt.sum([pt.reshape(table, ()) for table, _scope in factors])
    return log_z, pt.grad(log_z, log_weights)


def _state_cells(net: Network):
    """log of every CPT cell (n_cells,): fixed cells as constants, each free row a Dirichlet
    over its node's states (rows of the same number of states share one variable, `rows`
    holding them all, flattened; see `sampled_cells`)."""
    conc, fixed = net.concentration, net.fixed_cells
    log_cells = pt.as_tensor_variable(np.log(np.where(np.isnan(fixed), 1.0, fixed)))
    pieces = []
    for k, cells in sampled_cells(net):
        rows = pm.Dirichlet(f"rows_{k}", a=conc[cells], shape=cells.shape)
        log_cells = pt.set_subtensor(log_cells[cells.ravel()], pt.log(rows).ravel())
        pieces.append(pt.reshape(rows, (-1,)))
    if pieces:
        pm.Deterministic("rows", pt.concatenate(pieces) if len(pieces) > 1 else pieces[0])
    return log_cells


def _eliminate_states(net: Network, log_cells, state_weights):
    """log Z over a network with k-state nodes, by the same elimination as `_eliminate`;
    P(node = state) is d log Z / d (that state's log-weight), one backward pass."""
    factors = []
    for v in range(net.n_nodes):
        pa = net.parents[v]
        block = log_cells[int(net.cell_offsets[v]):int(net.cell_offsets[v + 1])]
        shape = tuple(net.cards[p] for p in reversed(pa)) + (net.cards[v],)
        lo = int(net.state_offsets[v])
        weights = state_weights[lo:lo + net.cards[v]]
        table = pt.reshape(block, shape) + weights.dimshuffle(["x"] * len(pa) + [0])
        scope = [*reversed(pa), v]
        order = [int(i) for i in np.argsort(scope)]
        if order != list(range(len(order))):
            table = table.transpose(*order)
        factors.append((table, sorted(scope)))
    for u in structure_of(net).order:
        touching = [f for f in factors if u in f[1]]
        factors = [f for f in factors if u not in f[1]]
        union = sorted(set().union(*(f[1] for f in touching)))
        total = None
        for table, scope in touching:
            piece = table.dimshuffle([scope.index(w) if w in scope else "x" for w in union])
            total = piece if total is None else total + piece
        factors.append((pt.logsumexp(total, axis=union.index(u)), [w for w in union if w != u]))
    log_z = pt.sum([pt.reshape(table, ()) for table, _scope in factors])
    return log_z, pt.grad(log_z, state_weights)


def build_state_model(net: Network, state_log_weights: np.ndarray, state_mask: np.ndarray
                      ) -> pm.Model:
    """A network with k-state nodes as a PyMC model: each free CPT row a Dirichlet, node
    states summed out exactly, evidence (per node-state log-weights) and hard conditions (a
    per-state log-mask) as data. Table CPTs only (parametric CPTs are yes/no)."""
    coords = {"node": list(net.node_ids), "state": list(range(net.n_states))}
    with pm.Model(coords=coords) as model:
        weights = pm.Data("state_log_weights", np.asarray(state_log_weights, dtype=float))
        mask = pm.Data("state_mask", np.asarray(state_mask, dtype=float))
        log_cells = _state_cells(net)
        log_z, p_states = _eliminate_states(net, log_cells, weights + mask)
        pm.Potential("evidence", log_z)
        pm.Deterministic("p_states", p_states, dims="state")
        pm.Deterministic("p_yes", p_states[net.state_offsets[:-1] + 1], dims="node")
    return model


def build_model(net: Network, node_log_weights: np.ndarray, hard_mask: np.ndarray,
                method: str | None = None) -> pm.Model:
    """The scenario as a PyMC model: CPT entries as Beta variables, joint node states summed
    out exactly, evidence and hard conditions as data (so a change of evidence keeps the
    compiled model). `hard_mask` is (n, 2) per node, or (S,) per joint state."""
    if net.multistate:
        return build_state_model(net, node_log_weights, hard_mask)
    method = method or ("enumerate" if net.n_nodes <= ENUMERATION_MAX_NODES else "eliminate")
    labels = parameter_labels(net)
    coords = {"node": list(net.node_ids), "entry": [labels[k] for k in net.parameters.free]}
    with pm.Model(coords=coords) as model:
        log_weights = pm.Data("node_log_weights", np.asarray(node_log_weights, dtype=float))
        node_mask = pm.Data("node_mask", net.as_node_mask(hard_mask))
        log_theta, log1m_theta = _entry_logs(net)
        summed_out = _enumerate if method == "enumerate" else _eliminate
        log_z, p_yes = summed_out(net, log_theta, log1m_theta, log_weights, node_mask)
        pm.Potential("evidence", log_z)
        pm.Deterministic("p_yes", p_yes, dims="node")
    return model


def sample_pymc(model: pm.Model, data: dict[str, np.ndarray], seed: int,
                settings: SamplerSettings, cores: int, tune: int):
    """`pm.sample` of the model with `data` swapped in: PyMC's own NUTS on the C backend.
    Returns the InferenceData (or ArviZ 1 DataTree)."""
    if settings.progress:
        # PyMC binds sys.stderr when first imported; follow it if it has been replaced since
        # (as test runners and embedding programs do), or the bar writes to a closed stream.
        from pymc.progress_bar import rich_progress

        rich_progress.stderr = sys.stderr
    quiet = logging.getLogger("pymc")
    level = quiet.level
    quiet.setLevel(logging.ERROR)
    try:
        with model, warnings.catch_warnings():
            warnings.simplefilter("ignore")
            pm.set_data(data)
            return pm.sample(
                draws=settings.draws, tune=tune, chains=settings.chains, cores=cores,
                target_accept=settings.target_accept, random_seed=seed,
                progressbar=settings.progress, compute_convergence_checks=False,
                nuts_sampler="pymc",   # PyMC 6 defaults to nutpie when installed
            )
    finally:
        quiet.setLevel(level)


def recalibration_model(x: np.ndarray, y: np.ndarray, group: np.ndarray, n_groups: int) -> pm.Model:
    """The recalibration model in PyMC: the reference the hand-written density and its nutpie
    sampler (`recalibration_model.py`, what `forecast recalibrate` runs) are tested against.
    logit P(y = 1) = a_g + b_g x, non-centred partial pooling, priors centred on the identity.
    The scales go in as float64 arrays: a Python 0.5 becomes a float32 constant in PyTensor,
    whose log is 1.9e-9 off."""
    from .recalibration_model import MU_SD, SIGMA_A_SD, SIGMA_LOG_B_SD

    def scale(sd: float) -> np.ndarray:
        return np.asarray(sd, dtype=np.float64)

    with pm.Model() as model:
        mu_a = pm.Normal("mu_a", 0.0, scale(MU_SD))
        mu_log_b = pm.Normal("mu_log_b", 0.0, scale(MU_SD))
        sigma_a = pm.HalfNormal("sigma_a", scale(SIGMA_A_SD))
        sigma_log_b = pm.HalfNormal("sigma_log_b", scale(SIGMA_LOG_B_SD))
        z_a = pm.Normal("z_a", 0.0, 1.0, shape=n_groups)
        z_b = pm.Normal("z_b", 0.0, 1.0, shape=n_groups)
        a = pm.Deterministic("a", mu_a + sigma_a * z_a)
        b = pm.Deterministic("b", pt.exp(mu_log_b + sigma_log_b * z_b))
        pm.Bernoulli("y", logit_p=a[group] + b[group] * x, observed=y)
    return model
