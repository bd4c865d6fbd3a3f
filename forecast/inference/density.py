"""The NUTS target of a scenario on unconstrained coordinates, its gradient and the quantities
kept per draw, in numpy and numba (no PyMC): what nutpie samples.

Coordinates. Every sampled CPT row (a Beta entry of a yes/no table, a Dirichlet row of a node
with k states) is a softmax of (y_1 .. y_{k-1}, 0): for a Beta entry y is logit(theta), as in
PyMC's default transform. With that map the prior times its Jacobian is prod_i p_i^{a_i}, so
the log density is sum_i a_i log p_i + log Z, where log Z (every node state summed out, the
evidence weights and hard conditions included) comes from `contraction`. A parametric CPT's
numbers are Betas on the logit scale too; its entries follow by `forecast.model.parametric`'s
maps, written here in log space with their derivatives.

Small a or b. A yes/no entry's Beta(a, b) has tails in the logit that fall at rates a and b;
with a = 0.04 (common in analysts' priors) NUTS needed about 110 gradients per step on the
shipped scenario. An entry whose a or b is below 1 takes instead y = logit(u), u = theta^a (or
u = (1 - theta)^b when b is the smaller), whose prior times Jacobian is u (1 - u) times the
other side's factor, (1 - theta)^(b - 1): tails at rates 1 and b, about 13 gradients per
step. Same posterior of theta, another coordinate (tests hold it to the Beta prior times
log Z times the Jacobian).

Why not PyMC's graph: the model is the same (where both use the logit, tests hold the log
density and gradient to the PyMC model's), but the graph PyTensor and numba built for it took
40 s to 2 minutes to compile per structure and process; this compiles once per machine
(numba's cache) and takes the structure as data.
"""

from __future__ import annotations

import numba
import numpy as np
from numba import types
from numba.core import cgutils
from numba.extending import intrinsic

from ..model.network import HARD_EXCLUDED, Network
from .contraction import Plan, build_plan, log_z_and_grad
from .exact import structure_of


@numba.njit(cache=True, nogil=True)
def _softplus(x):
    return max(x, 0.0) + np.log1p(np.exp(-abs(x)))


@numba.njit(cache=True, nogil=True)
def _log1mexp(x):
    """log(1 - e^x) for x < 0, accurate at both ends."""
    x = min(x, -1e-300)
    return np.log(-np.expm1(x)) if x > -0.6931471805599453 else np.log1p(-np.exp(x))


@numba.njit(cache=True, nogil=True)
def _rows_density(y, log_weights, packed, ints, floats):
    """log density and its gradient in y, for a network whose sampled numbers are CPT rows
    (`ints`: cells, rows R, widest k, then each row's k, first coordinate and cells (R, widest);
    `floats`: each cell's fixed log value, each row's concentrations (R, widest), then each
    row's power (0: a softmax of y; above 0: a yes/no row in the power coordinate of the
    module's docstring, its first cell the one raised)). Also returns d log Z / d sources and
    the sources (each cell's log probability)."""
    n_cells, n_rows, widest = ints[0], ints[1], ints[2]
    row_k, row_y = ints[3:3 + n_rows], ints[3 + n_rows:3 + 2 * n_rows]
    row_cells = ints[3 + 2 * n_rows:3 + (2 + widest) * n_rows].reshape(n_rows, widest)
    base_cells = floats[:n_cells]
    conc = floats[n_cells:n_cells + n_rows * widest].reshape(n_rows, widest)
    src = np.empty(packed[0])
    src[:n_cells] = base_cells
    src[n_cells:n_cells + len(log_weights)] = log_weights
    power = floats[n_cells + n_rows * widest:n_cells + n_rows * (widest + 1)]
    prior = 0.0
    for r in range(n_rows):
        k, s = row_k[r], row_y[r]
        if power[r] > 0.0:
            # the first cell's probability is u^(1 / power), u = sigmoid(y): prior times
            # Jacobian is u (1 - u) (1 - first)^(b - 1), b the other cell's concentration
            log_u, log_1mu = -_softplus(-y[s]), -_softplus(y[s])
            first = log_u / power[r]
            second = _log1mexp(first)
            src[row_cells[r, 0]] = max(first, -1e12)
            src[row_cells[r, 1]] = max(second, -1e12)
            prior += log_u + log_1mu + (conc[r, 1] - 1.0) * second
            continue
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
        if power[r] > 0.0:
            first, second = src[row_cells[r, 0]], src[row_cells[r, 1]]
            u, one_minus_u = np.exp(-_softplus(-y[s])), np.exp(-_softplus(y[s]))
            d_first = one_minus_u / power[r]
            d_second = -np.exp(first - second) * d_first
            dy[s] = (one_minus_u - u + (conc[r, 1] - 1.0 + grad[row_cells[r, 1]]) * d_second
                     + grad[row_cells[r, 0]] * d_first)
            continue
        conc_total, used = 0.0, 0.0
        for i in range(k):
            conc_total += conc[r, i]
            used += grad[row_cells[r, i]]
        for i in range(k - 1):
            p = np.exp(src[row_cells[r, i]])
            dy[s + i] = conc[r, i] - conc_total * p + grad[row_cells[r, i]] - p * used
    return prior + log_z, dy, grad, src


@numba.njit(cache=True, nogil=True)
def _parametric_density(y, log_weights, packed, ints, floats):
    """log density and its gradient in y (each free number's logit) for a network with
    parametric CPTs: numbers -> entries in log space -> log Z, and the chain rule back.
    `ints`: P numbers, F free, then the sizes and indices of `Parameters` (free, table_entry,
    table_param, or_entry, lo_entry); `floats`: the fixed numbers' log p and log(1 - p), the
    free ones' alpha and beta, or_matrix and lo_matrix (see `Density._init_parametric`)."""
    n_params, n_free, n_table, n_or, n_lo = ints[0], ints[1], ints[2], ints[3], ints[4]
    at = 5
    free = ints[at:at + n_free]
    at += n_free
    table_entry = ints[at:at + n_table]
    table_param = ints[at + n_table:at + 2 * n_table]
    at += 2 * n_table
    or_entry = ints[at:at + n_or]
    lo_entry = ints[at + n_or:at + n_or + n_lo]
    fixed_lp, fixed_l1m = floats[:n_params], floats[n_params:2 * n_params]
    alpha = floats[2 * n_params:2 * n_params + n_free]
    beta = floats[2 * n_params + n_free:2 * n_params + 2 * n_free]
    at = 2 * n_params + 2 * n_free
    or_matrix = floats[at:at + n_or * n_params].reshape(n_or, n_params)
    at += n_or * n_params
    lo_matrix = floats[at:at + n_lo * n_params].reshape(n_lo, n_params)
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
    return prior + log_z, dy, grad, src


@intrinsic
def _pointer(typingctx, address):
    """An integer address as a void pointer (what numba.carray reads arrays through)."""

    def codegen(context, builder, signature, args):
        return builder.inttoptr(args[0], cgutils.voidptr_t)

    return types.voidptr(address), codegen


# The C callbacks nutpie calls (no Python, no GIL): `user` points at an int64 array of kind
# (0 rows, 1 parametric), then address and length of the log-weights, the packed plan, the
# density's ints and floats, the kept cells and each node's yes state, then the number of cells
# and 1 where every node-state is kept (see Density.user_data).
_LOGP_SIGNATURE = types.int64(types.uint64, types.CPointer(types.double),
                              types.CPointer(types.double), types.CPointer(types.double),
                              types.voidptr)
_EXPAND_SIGNATURE = types.int64(types.uint64, types.uint64, types.CPointer(types.double),
                                types.CPointer(types.double), types.voidptr)
USER_FIELDS = 15


@numba.njit(cache=True, nogil=True)
def _evaluate(x, user):
    weights = numba.carray(_pointer(user[1]), (user[2],), np.float64)
    packed = numba.carray(_pointer(user[3]), (user[4],), np.int64)
    ints = numba.carray(_pointer(user[5]), (user[6],), np.int64)
    floats = numba.carray(_pointer(user[7]), (user[8],), np.float64)
    if user[0] == 0:
        return _rows_density(x, weights, packed, ints, floats)
    return _parametric_density(x, weights, packed, ints, floats)


@numba.cfunc(_LOGP_SIGNATURE, cache=True)
def _logp_callback(dim, x_, out_, logp_, user_):
    user = numba.carray(user_, (USER_FIELDS,), np.int64)
    x = numba.carray(x_, (dim,))
    out = numba.carray(out_, (dim,))
    value, dy, _grad, _src = _evaluate(x, user)
    logp_[0] = value
    out[:] = dy
    if not np.all(np.isfinite(dy)):
        return 3
    if not np.isfinite(value):
        return 4
    return 0


@numba.njit(cache=True, nogil=True)
def _kept_values(x, kind, grad, src, kept, yes, n_cells, n_states, every_state, out):
    """One draw's kept quantities, flat in `Density.shapes` order: the sampled numbers (rows:
    each kept cell's probability; parametric: each free number), every node-state's
    probability on a network with k-state nodes, and each node's P(yes)."""
    at = 0
    if kind == 1:
        for i in range(len(x)):
            out[at] = 1.0 / (1.0 + np.exp(-x[i]))
            at += 1
    else:
        for c in kept:
            out[at] = np.exp(src[c])
            at += 1
    if every_state:
        for s in range(n_states):
            out[at] = min(max(grad[n_cells + s], 0.0), 1.0)
            at += 1
    for v in range(len(yes)):
        out[at] = min(max(grad[n_cells + yes[v]], 0.0), 1.0)
        at += 1


@numba.cfunc(_EXPAND_SIGNATURE, cache=True)
def _expand_callback(dim, n_expanded, x_, out_, user_):
    user = numba.carray(user_, (USER_FIELDS,), np.int64)
    x = numba.carray(x_, (dim,))
    out = numba.carray(out_, (n_expanded,))
    _value, _dy, grad, src = _evaluate(x, user)
    kept = numba.carray(_pointer(user[9]), (user[10],), np.int64)
    yes = numba.carray(_pointer(user[11]), (user[12],), np.int64)
    _kept_values(x, user[0], grad, src, kept, yes, user[13], user[2], user[14] == 1, out)
    return 0


def _prior_mean_coordinate(conc: np.ndarray, power: float) -> np.ndarray:
    """A row's coordinates at its prior mean: the softmax's y, or logit(u), u = theta^power."""
    if power > 0.0:
        u = (conc[0] / conc.sum()) ** power
        return np.array([np.log(u) - np.log1p(-u)])
    return np.log(conc[:-1]) - np.log(conc[-1])


class Density:
    """One network's NUTS target. `ndim` coordinates; `logp(y, log_weights)` gives the log
    density and its gradient; `expand(y, log_weights)` the quantities kept per draw; the
    per node-state log-weights (evidence plus hard-condition mask: `weights`) are data, so a
    change of evidence reuses everything. `user_data(log_weights)` is the same for the C
    callbacks (`LOGP_CALLBACK`, `EXPAND_CALLBACK`) that nutpie calls without Python."""

    def __init__(self, net: Network, plan: Plan | None = None):
        self.net = net
        self.plan = plan or build_plan(net, structure_of(net).order)
        self._packed = self.plan.packed()
        self.parametric = not net.multistate and not net.parameters.identity
        if self.parametric:
            self._init_parametric()
        else:
            self._init_rows()
        self._yes = (np.asarray(net.state_offsets[:-1]) + 1).astype(np.int64)

    def weights(self, node_log_weights: np.ndarray, hard_mask: np.ndarray) -> np.ndarray:
        """Per node-state log-weights from per-node evidence and hard conditions (any form
        `Network.as_node_mask` takes), or from the per node-state forms (multistate)."""
        if self.net.multistate:
            return np.asarray(node_log_weights, dtype=float) + np.asarray(hard_mask, dtype=float)
        mask = self.net.as_node_mask(hard_mask)
        return np.stack([mask[:, 0], np.asarray(node_log_weights, dtype=float) + mask[:, 1]],
                        axis=1).ravel()

    def _init_rows(self):
        net = self.net
        if net.multistate:
            from .nuts import sampled_cells

            rows = [cells for _k, group in sampled_cells(net) for cells in group]
            conc = [net.concentration[cells] for cells in rows]
            fixed_cells = np.nan_to_num(net.fixed_cells, nan=1.0)
            power = np.zeros(len(rows))
        else:
            free = net.parameters.free
            # a yes/no entry is the row (yes, no), y = logit(theta) as in PyMC, unless a or b
            # is below 1: then the row starts with the smaller one's cell, u^(1 / power) with
            # u = sigmoid(y) and that number as the power (see `_rows_density`)
            alpha, beta = net.alpha[free], net.beta[free]
            yes_first = ~((beta < alpha) & (beta < 1.0))
            rows = [np.array([2 * k + 1, 2 * k] if first else [2 * k, 2 * k + 1])
                    for k, first in zip(free, yes_first, strict=True)]
            conc = [np.array([net.alpha[k], net.beta[k]] if first else [net.beta[k], net.alpha[k]])
                    for k, first in zip(free, yes_first, strict=True)]
            power = np.array([a[0] if a[0] < 1.0 else 0.0 for a in conc])
            fixed_cells = np.stack([1.0 - np.nan_to_num(net.fixed, nan=0.5),
                                    np.nan_to_num(net.fixed, nan=0.5)], axis=1).ravel()
        with np.errstate(divide="ignore"):
            base_cells = np.maximum(np.log(fixed_cells), HARD_EXCLUDED)
        widest = max((len(r) for r in rows), default=2)
        row_k = np.array([len(r) for r in rows], dtype=np.int64)
        row_y = np.concatenate([[0], np.cumsum(row_k - 1)[:-1]]) if len(rows) else row_k
        row_cells = np.zeros((len(rows), widest), dtype=np.int64)
        row_conc = np.zeros((len(rows), widest))
        for r, (cells, a) in enumerate(zip(rows, conc, strict=True)):
            row_cells[r, :len(cells)] = cells
            row_conc[r, :len(cells)] = a
        self.ndim = int(np.sum(row_k - 1))
        self._ints = np.concatenate([[len(base_cells), len(rows), widest], row_k, row_y,
                                     row_cells.ravel()]).astype(np.int64)
        self._floats = np.concatenate([base_cells, row_conc.ravel(), power])
        kept = (np.concatenate(rows) if rows else row_cells[:, 0]) if net.multistate \
            else 2 * np.asarray(net.parameters.free, dtype=np.int64) + 1
        self._kept = np.ascontiguousarray(kept, dtype=np.int64)     # C reads it by address
        self._start = np.concatenate([_prior_mean_coordinate(a, c) for a, c in
                                      zip(conc, power, strict=True)]) if conc else np.zeros(0)

    def _init_parametric(self):
        params = self.net.parameters
        free = params.free
        self.ndim = len(free)
        fixed = np.clip(np.nan_to_num(params.fixed, nan=0.5), 0.0, 1.0)
        with np.errstate(divide="ignore"):
            fixed_lp = np.maximum(np.log(fixed), HARD_EXCLUDED)
            fixed_l1m = np.maximum(np.log1p(-fixed), HARD_EXCLUDED)
        alpha, beta = params.alpha[free], params.beta[free]
        self._ints = np.concatenate([
            [params.n_params, len(free), len(params.table_entry), len(params.or_entry),
             len(params.lo_entry)], free, params.table_entry, params.table_param,
            params.or_entry, params.lo_entry]).astype(np.int64)
        self._floats = np.concatenate([fixed_lp, fixed_l1m, alpha, beta,
                                       params.or_matrix.ravel(), params.lo_matrix.ravel()])
        self._kept = np.zeros(0, dtype=np.int64)
        self._start = np.log(alpha) - np.log(beta)

    def _evaluate(self, y, log_weights):
        """(log density, its gradient, d log Z / d sources, the sources)."""
        density = _parametric_density if self.parametric else _rows_density
        return density(np.asarray(y, dtype=float), np.asarray(log_weights, dtype=float),
                       self._packed, self._ints, self._floats)

    def logp(self, y: np.ndarray, log_weights: np.ndarray) -> tuple[float, np.ndarray]:
        value, dy, _grad, _src = self._evaluate(y, log_weights)
        return float(value), dy

    def expand(self, y: np.ndarray, log_weights: np.ndarray) -> dict[str, np.ndarray]:
        """What a draw keeps: the sampled numbers (theta: yes/no entries or parametric numbers;
        rows: Dirichlet rows, flat in `nuts.sampled_cells` order), every node-state's
        probability (k-state networks) and each node's P(yes), given the evidence and these
        numbers."""
        _value, _dy, grad, src = self._evaluate(y, log_weights)
        shapes = self.shapes()
        out = np.empty(sum(int(np.prod(shape)) for shape in shapes.values()))
        _kept_values(np.asarray(y, dtype=float), int(self.parametric), grad, src, self._kept,
                     self._yes, self.plan.n_cells, self.plan.n_states, self.net.multistate, out)
        kept, at = {}, 0
        for name, (size,) in shapes.items():
            kept[name] = out[at:at + size]
            at += size
        return kept

    def user_data(self, log_weights: np.ndarray) -> tuple[np.ndarray, tuple]:
        """The int64 array the C callbacks read (see USER_FIELDS), and the arrays it points
        at, which the caller keeps alive while the callbacks may run."""
        weights = np.ascontiguousarray(log_weights, dtype=np.float64)
        arrays = (weights, self._packed, self._ints, self._floats, self._kept, self._yes)
        fields = [int(self.parametric)]
        for array in arrays:
            if not array.flags.c_contiguous:
                raise ValueError("the callbacks read arrays by address: each must be contiguous")
            fields += [array.ctypes.data, array.size]
        fields += [self.plan.n_cells, int(self.net.multistate)]
        return np.array(fields, dtype=np.int64), arrays

    def support_point(self) -> np.ndarray:
        """The prior mean in these coordinates (where PyMC starts its chains, before jitter)."""
        return self._start.copy()

    def shapes(self) -> dict[str, tuple[int, ...]]:
        """Each kept quantity's shape, in the order `expand` returns them."""
        n = self.net.n_nodes
        if self.net.multistate:
            return {"rows": (len(self._kept),), "p_states": (self.net.n_states,), "p_yes": (n,)}
        return {"theta": (self.ndim if self.parametric else len(self._kept),), "p_yes": (n,)}


LOGP_CALLBACK = _logp_callback
EXPAND_CALLBACK = _expand_callback
