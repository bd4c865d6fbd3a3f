"""The NUTS target of a scenario on unconstrained coordinates, its gradient and the quantities
kept per draw, in numpy and numba (no PyMC): what nutpie samples.

Coordinates. Every sampled CPT row (a Beta entry of a yes/no table, a Dirichlet row of a node
with k states) is a softmax of (y_1 .. y_{k-1}, 0): for a Beta entry y is logit(theta), as in
PyMC's default transform. With that map the prior times its Jacobian is prod_i p_i^{a_i}, so
the log density is sum_i a_i log p_i + log Z, where log Z (every node state summed out, the
evidence weights and hard conditions included) comes from `contraction`. A parametric CPT's
numbers are Betas on the logit scale too; its entries follow by `forecast.model.parametric`'s
maps, written here in log space with their derivatives.

Why not PyMC's graph: the model is the same (tests hold the log density and gradient to the
PyMC model's), but the graph PyTensor and numba built for it took 40 s to 2 minutes to compile
per structure and process; this compiles once per machine (numba's cache) and takes the
structure as data.
"""

from __future__ import annotations

import numba
import numpy as np

from ..model.network import HARD_EXCLUDED, Network
from .contraction import Plan, build_plan, log_z_and_grad
from .exact import structure_of


@numba.njit(cache=True, nogil=True)
def _rows_density(y, log_weights, packed, rows, base_cells, row_conc):
    """log density and its gradient in y, for a network whose sampled numbers are CPT rows
    (`rows`: count R, widest k, then each row's k, first coordinate and cells (R, widest)).
    Also returns d log Z / d sources and the sources (each cell's log probability)."""
    n_rows, widest = rows[0], rows[1]
    row_k, row_y = rows[2:2 + n_rows], rows[2 + n_rows:2 + 2 * n_rows]
    row_cells = rows[2 + 2 * n_rows:].reshape(n_rows, widest)
    conc = row_conc.reshape(n_rows, widest)
    n_cells = len(base_cells)
    src = np.empty(packed[0])
    src[:n_cells] = base_cells
    src[n_cells:n_cells + len(log_weights)] = log_weights
    prior = 0.0
    for r in range(n_rows):
        k, s = row_k[r], row_y[r]
        top = 0.0
        for i in range(k - 1):
            top = max(top, y[s + i])
        total = np.exp(-top)
        for i in range(k - 1):
            total += np.exp(y[s + i] - top)
        lse = top + np.log(total)
        for i in range(k):
            lp = (y[s + i] if i < k - 1 else 0.0) - lse
            src[row_cells[r, i]] = max(lp, -1e12)
            prior += conc[r, i] * lp
    log_z, grad = log_z_and_grad(src, packed)
    dy = np.empty(len(y))
    for r in range(n_rows):
        k, s = row_k[r], row_y[r]
        conc_total, used = 0.0, 0.0
        for i in range(k):
            conc_total += conc[r, i]
            used += grad[row_cells[r, i]]
        for i in range(k - 1):
            p = np.exp(src[row_cells[r, i]])
            dy[s + i] = conc[r, i] - conc_total * p + grad[row_cells[r, i]] - p * used
    return prior + log_z, dy, grad, src


@numba.njit(cache=True, nogil=True)
def _softplus(x):
    return max(x, 0.0) + np.log1p(np.exp(-abs(x)))


@numba.njit(cache=True, nogil=True)
def _log1mexp(x):
    """log(1 - e^x) for x < 0, accurate at both ends."""
    x = min(x, -1e-300)
    return np.log(-np.expm1(x)) if x > -0.6931471805599453 else np.log1p(-np.exp(x))


@numba.njit(cache=True, nogil=True)
def _parametric_density(y, log_weights, free, fixed_lp, fixed_l1m, alpha, beta, table_entry,
                        table_param, or_entry, or_matrix, lo_entry, lo_matrix, packed):
    """log density and its gradient in y (each free number's logit) for a network with
    parametric CPTs: numbers -> entries in log space -> log Z, and the chain rule back."""
    n_params = len(fixed_lp)
    lp, l1m = fixed_lp.copy(), fixed_l1m.copy()
    for i in range(len(free)):
        lp[free[i]] = -_softplus(-y[i])
        l1m[free[i]] = -_softplus(y[i])
    n_entries = len(table_entry) + len(or_entry) + len(lo_entry)
    log_yes = np.empty(n_entries)
    log_no = np.empty(n_entries)
    for t in range(len(table_entry)):
        log_yes[table_entry[t]] = lp[table_param[t]]
        log_no[table_entry[t]] = l1m[table_param[t]]
    for t in range(len(or_entry)):
        none = 0.0
        for j in range(n_params):
            none += or_matrix[t, j] * l1m[j]
        log_yes[or_entry[t]] = _log1mexp(none)
        log_no[or_entry[t]] = none
    for t in range(len(lo_entry)):
        z = 0.0
        for j in range(n_params):
            z += lo_matrix[t, j] * (lp[j] - l1m[j])
        log_yes[lo_entry[t]] = -_softplus(-z)
        log_no[lo_entry[t]] = -_softplus(z)
    src = np.empty(packed[0])
    for e in range(n_entries):
        src[2 * e] = max(log_no[e], -1e12)
        src[2 * e + 1] = max(log_yes[e], -1e12)
    n_cells = 2 * n_entries
    src[n_cells:n_cells + len(log_weights)] = log_weights
    log_z, grad = log_z_and_grad(src, packed)
    d_lp = np.zeros(n_params)
    d_l1m = np.zeros(n_params)
    for t in range(len(table_entry)):
        d_lp[table_param[t]] += grad[2 * table_entry[t] + 1]
        d_l1m[table_param[t]] += grad[2 * table_entry[t]]
    for t in range(len(or_entry)):
        e = or_entry[t]
        # d log(1 - e^x) / dx = -(1 - theta) / theta, where e^x = 1 - theta
        d_none = grad[2 * e] - grad[2 * e + 1] * np.exp(log_no[e] - log_yes[e])
        for j in range(n_params):
            d_l1m[j] += or_matrix[t, j] * d_none
    d_logit = np.zeros(n_params)
    for t in range(len(lo_entry)):
        e = lo_entry[t]
        d_z = grad[2 * e + 1] * np.exp(log_no[e]) - grad[2 * e] * np.exp(log_yes[e])
        for j in range(n_params):
            d_logit[j] += lo_matrix[t, j] * d_z
    dy = np.empty(len(free))
    prior = 0.0
    for i in range(len(free)):
        k = free[i]
        p = np.exp(lp[k])
        dy[i] = (d_lp[k] * (1.0 - p) - d_l1m[k] * p + d_logit[k]
                 + alpha[i] * (1.0 - p) - beta[i] * p)
        prior += alpha[i] * lp[k] + beta[i] * l1m[k]
    return prior + log_z, dy, grad


class Density:
    """One network's NUTS target. `ndim` coordinates; `logp(y, log_weights)` gives the log
    density and its gradient; `expand(y, log_weights)` the quantities kept per draw; the
    per node-state log-weights (evidence plus hard-condition mask, `Network.state_mask` or the
    yes/no form of `weights`) are data, so a change of evidence reuses everything."""

    def __init__(self, net: Network, plan: Plan | None = None):
        self.net = net
        self.plan = plan or build_plan(net, structure_of(net).order)
        plan = self.plan
        self._packed = plan.packed()
        self.parametric = not net.multistate and not net.parameters.identity
        if self.parametric:
            self._init_parametric()
        else:
            self._init_rows()

    # --- the yes/no form of evidence: per node log-weight on yes and an (n, 2) mask
    def weights(self, node_log_weights: np.ndarray, hard_mask: np.ndarray) -> np.ndarray:
        """Per node-state log-weights from per-node evidence and hard conditions (any form
        `Network.as_node_mask` takes), or the per node-state form itself (multistate)."""
        if self.net.multistate:
            return np.asarray(node_log_weights, dtype=float) + np.asarray(hard_mask, dtype=float)
        mask = self.net.as_node_mask(hard_mask)
        return np.stack([mask[:, 0], np.asarray(node_log_weights, dtype=float) + mask[:, 1]],
                        axis=1).ravel()

    def _init_rows(self):
        net = self.net
        if net.multistate:
            from .nuts import sampled_cells

            groups = sampled_cells(net)
            rows = [cells for _k, group in groups for cells in group]
            conc = [net.concentration[cells] for cells in rows]
            fixed_cells = np.nan_to_num(net.fixed_cells, nan=1.0)
        else:
            free = net.parameters.free
            # a yes/no entry is the row (yes, no): y = logit(theta), theta the first
            rows = [np.array([2 * k + 1, 2 * k]) for k in free]
            conc = [np.array([net.alpha[k], net.beta[k]]) for k in free]
            fixed_cells = np.stack([1.0 - np.nan_to_num(net.fixed, nan=0.5),
                                    np.nan_to_num(net.fixed, nan=0.5)], axis=1).ravel()
        with np.errstate(divide="ignore"):
            self.base_cells = np.maximum(np.log(fixed_cells), HARD_EXCLUDED)
        widest = max((len(r) for r in rows), default=2)
        self.row_k = np.array([len(r) for r in rows], dtype=np.int64)
        self.row_y = np.concatenate([[0], np.cumsum(self.row_k - 1)[:-1]]).astype(np.int64) \
            if len(rows) else np.zeros(0, dtype=np.int64)
        self.row_cells = np.zeros((len(rows), widest), dtype=np.int64)
        self.row_conc = np.zeros((len(rows), widest))
        for r, (cells, a) in enumerate(zip(rows, conc, strict=True)):
            self.row_cells[r, :len(cells)] = cells
            self.row_conc[r, :len(cells)] = a
        self.ndim = int(np.sum(self.row_k - 1))
        self._rows = np.concatenate([[len(rows), widest], self.row_k, self.row_y,
                                     self.row_cells.ravel()]).astype(np.int64)
        self._kept_cells = np.concatenate(rows) if net.multistate else self.row_cells[:, 0]
        self._kept_cells = self._kept_cells.astype(np.int64)
        self._conc = self.row_conc.ravel()

    def _init_parametric(self):
        params = self.net.parameters
        self.free = params.free
        self.ndim = len(self.free)
        fixed = np.clip(np.nan_to_num(params.fixed, nan=0.5), 0.0, 1.0)
        with np.errstate(divide="ignore"):
            self._fixed_lp = np.maximum(np.log(fixed), HARD_EXCLUDED)
            self._fixed_l1m = np.maximum(np.log1p(-fixed), HARD_EXCLUDED)
        self._alpha, self._beta = params.alpha[self.free], params.beta[self.free]

    def logp(self, y: np.ndarray, log_weights: np.ndarray) -> tuple[float, np.ndarray]:
        if self.parametric:
            value, dy, _ = self._parametric(y, log_weights)
            return float(value), dy
        value, dy, _, _ = self._rows_density(y, log_weights)
        return float(value), dy

    def _rows_density(self, y, log_weights):
        return _rows_density(np.asarray(y, dtype=float), log_weights, self._packed, self._rows,
                             self.base_cells, self._conc)

    def _parametric(self, y, log_weights):
        params = self.net.parameters
        return _parametric_density(
            np.asarray(y, dtype=float), log_weights, self.free, self._fixed_lp, self._fixed_l1m,
            self._alpha, self._beta, params.table_entry, params.table_param, params.or_entry,
            params.or_matrix, params.lo_entry, params.lo_matrix, self._packed)

    def expand(self, y: np.ndarray, log_weights: np.ndarray) -> dict[str, np.ndarray]:
        """What a draw keeps: the sampled numbers (theta: yes/no entries or parametric numbers;
        rows: Dirichlet rows, flat in `nuts.sampled_cells` order) and each node's P(yes), or
        every node-state's probability, given the evidence and these numbers."""
        y = np.asarray(y, dtype=float)
        if self.parametric:
            _, _, grad = self._parametric(y, log_weights)
            theta = 1.0 / (1.0 + np.exp(-y))
        else:
            _, _, grad, src = self._rows_density(y, log_weights)
            theta = np.exp(src[self._kept_cells])
        n_cells, net = self.plan.n_cells, self.net
        states = np.clip(grad[n_cells:n_cells + self.plan.n_states], 0.0, 1.0)
        p_yes = states[np.asarray(net.state_offsets[:-1]) + 1]
        if net.multistate:
            return {"rows": theta, "p_states": states, "p_yes": p_yes}
        return {"theta": theta, "p_yes": p_yes}

    def support_point(self) -> np.ndarray:
        """The prior mean in these coordinates (where PyMC starts its chains, before jitter)."""
        if self.parametric:
            a, b = self._alpha, self._beta
            return np.log(a) - np.log(b)
        out = np.zeros(self.ndim)
        for r, (k, s) in enumerate(zip(self.row_k, self.row_y, strict=True)):
            a = self.row_conc[r, :k]
            out[s:s + k - 1] = np.log(a[:-1]) - np.log(a[-1])
        return out

    def shapes(self) -> dict[str, tuple[int, ...]]:
        """Each kept quantity's shape, in the order `expand` returns them."""
        n_kept = self.ndim if self.parametric else (
            int(self.row_k.sum()) if self.net.multistate else len(self.row_k))
        if self.net.multistate:
            return {"rows": (n_kept,), "p_states": (self.net.n_states,),
                    "p_yes": (self.net.n_nodes,)}
        return {"theta": (n_kept,), "p_yes": (self.net.n_nodes,)}
