"""log Z of a discrete network and its gradient, by one contraction per elimination step, in
one numba kernel that takes the network's structure as data.

Why. NUTS needs log Z (the probability of the evidence, every node state summed out) and its
gradient thousands of times per fit. Written as a PyTensor graph, the sum is a tree of small
ops that takes PyTensor and numba tens of seconds to rewrite and compile for every structure,
and again in every process. Here the elimination order is turned into a `Plan` of index
arrays (numpy, milliseconds), and one kernel, compiled once per machine and kept in numba's
on-disk cache (`cache=True`, keyed by numba on this file and its own version), runs any plan.

The computation. Sources are one flat vector: the log CPT cells, the per node-state
log-weights (evidence plus hard conditions), then the messages. Eliminating variable u sums
every factor that mentions u (CPT families, weights, earlier messages) over the union of their
scopes, one table, and log-sum-exps u out into a message. The gradient is the reverse pass of
the same program: d log Z / d (log cell) is the posterior probability of that CPT cell being
used (the expected count), and d log Z / d (log-weight) each node-state's posterior marginal.
"""

from __future__ import annotations

from dataclasses import dataclass

import numba
import numpy as np

from ..model.network import HARD_EXCLUDED, Network


@dataclass(frozen=True)
class Plan:
    """A network's elimination as index arrays. Source vector: log cells [0, n_cells), then
    log-weights [n_cells, n_cells + n_states), then messages. Step j's table is cells
    `step_start[j]:step_start[j + 1]` of the table buffer; table cell c is the sum of the
    sources `term_src[term_ptr[c]:term_ptr[c + 1]]` and is log-sum-exped into source
    `msg_of[c]`; the messages of empty scope (`finals`) add up to log Z."""

    n_cells: int
    n_states: int
    n_src: int
    step_start: np.ndarray
    msg_start: np.ndarray
    term_ptr: np.ndarray
    term_src: np.ndarray
    msg_of: np.ndarray
    finals: np.ndarray

    @property
    def table_cells(self) -> int:
        return int(self.step_start[-1])

    def packed(self) -> np.ndarray:
        """The plan as one int64 array (`unpack` in numba reads it back): one argument is
        what keeps numba's per-call dispatch cheap."""
        parts = (self.step_start, self.msg_start, self.term_ptr, self.term_src, self.msg_of,
                 self.finals)
        return np.concatenate([[self.n_src, self.table_cells], [len(a) for a in parts],
                               *parts]).astype(np.int64)


def build_plan(net: Network, order) -> Plan:
    """The plan of eliminating `order` (every node once) on `net`'s families and weights."""
    cards = net.cards
    cell_offsets, state_offsets = net.cell_offsets, net.state_offsets
    n_cells, n_states = int(cell_offsets[-1]), int(state_offsets[-1])
    # a factor: (scope (sorted var tuple), function from an assignment array to source indices)
    factors = []
    for v, pa in enumerate(net.parents):
        strides = np.cumprod([1] + [cards[p] for p in pa[:-1]]).astype(np.int64) if pa else []

        def cpt_index(x, v=v, pa=pa, strides=strides):
            row = sum(x[p] * s for p, s in zip(pa, strides, strict=True)) if pa else 0
            return cell_offsets[v] + row * cards[v] + x[v]

        factors.append((tuple(sorted({v, *pa})), cpt_index))
        factors.append(((v,), lambda x, v=v: n_cells + state_offsets[v] + x[v]))
    next_src = n_cells + n_states
    step_start, msg_start, term_rows, msg_of, finals = [0], [next_src], [], [], []
    for u in order:
        touching = [f for f in factors if u in f[0]]
        factors = [f for f in factors if u not in f[0]]
        union = sorted(set().union(*(scope for scope, _ in touching)))
        shape = [cards[w] for w in union]
        grid = np.indices(shape).reshape(len(union), -1)
        x = {w: grid[i] for i, w in enumerate(union)}
        term_rows.append(np.stack([index(x) for _, index in touching], axis=1))
        kept = [w for w in union if w != u]
        out_shape = [cards[w] for w in kept]
        base = next_src
        local = (np.ravel_multi_index([x[w] for w in kept], out_shape) if kept
                 else np.zeros(grid.shape[1], dtype=np.int64))
        msg_of.append(base + local)
        size = int(np.prod(out_shape, dtype=np.int64))
        next_src += size
        if kept:
            def msg_index(x, base=base, kept=tuple(kept), out_shape=tuple(out_shape)):
                return base + np.ravel_multi_index([x[w] for w in kept], out_shape)

            factors.append((tuple(kept), msg_index))
        else:
            finals.append(base)
        step_start.append(step_start[-1] + grid.shape[1])
        msg_start.append(next_src)
    counts = np.concatenate([np.full(len(rows), rows.shape[1]) for rows in term_rows])
    return Plan(n_cells, n_states, next_src, np.array(step_start, dtype=np.int64),
                np.array(msg_start, dtype=np.int64),
                np.concatenate([[0], np.cumsum(counts)]).astype(np.int64),
                np.concatenate([rows.ravel() for rows in term_rows]).astype(np.int64),
                np.concatenate(msg_of).astype(np.int64), np.array(finals, dtype=np.int64))


@numba.njit(cache=True, nogil=True)
def _log_partition(src, grad, table, peak, step_start, msg_start, term_ptr, term_src, msg_of,
                   finals):
    """Forward: messages into `src`, returns log Z. Backward: d log Z / d src into `grad`."""
    n_steps = len(step_start) - 1
    for j in range(n_steps):
        for m in range(msg_start[j], msg_start[j + 1]):
            peak[m] = -np.inf
            src[m] = 0.0
        for c in range(step_start[j], step_start[j + 1]):
            total = 0.0
            for k in range(term_ptr[c], term_ptr[c + 1]):
                total += src[term_src[k]]
            table[c] = total
            if total > peak[msg_of[c]]:
                peak[msg_of[c]] = total
        for c in range(step_start[j], step_start[j + 1]):
            # the table keeps exp(cell - peak) and `peak` then the sum, for the reverse pass
            table[c] = np.exp(table[c] - peak[msg_of[c]])
            src[msg_of[c]] += table[c]
        for m in range(msg_start[j], msg_start[j + 1]):
            total = src[m]
            src[m] = peak[m] + np.log(total)
            peak[m] = total
    log_z = 0.0
    for f in finals:
        log_z += src[f]
    grad[:] = 0.0
    for f in finals:
        grad[f] = 1.0
    for j in range(n_steps - 1, -1, -1):
        for c in range(step_start[j], step_start[j + 1]):
            m = msg_of[c]
            g = grad[m] * table[c] / peak[m]
            for k in range(term_ptr[c], term_ptr[c + 1]):
                grad[term_src[k]] += g
    return log_z


@numba.njit(cache=True, nogil=True)
def unpack(packed):
    """(n_src, table_cells, step_start, msg_start, term_ptr, term_src, msg_of, finals)."""
    parts = []
    at = 8
    for i in range(6):
        parts.append(packed[at:at + packed[2 + i]])
        at += packed[2 + i]
    return packed[0], packed[1], parts[0], parts[1], parts[2], parts[3], parts[4], parts[5]


@numba.njit(cache=True, nogil=True)
def log_z_and_grad(src, packed):
    """log Z and d log Z / d src, for sources `src` (log cells and log-weights filled in; the
    message entries are overwritten) under the packed plan."""
    _n_src, table_cells, step_start, msg_start, term_ptr, term_src, msg_of, finals = unpack(packed)
    grad = np.empty(len(src))
    log_z = _log_partition(src, grad, np.empty(table_cells), np.empty(len(src)), step_start,
                           msg_start, term_ptr, term_src, msg_of, finals)
    return log_z, grad


class Contraction:
    """A plan with its work buffers: `log_partition(log_cells, log_weights)` returns log Z and
    fills `cell_grad` (posterior probability of each CPT cell being used) and `state_grad`
    (each node-state's posterior marginal). One instance per thread (buffers are reused)."""

    def __init__(self, plan: Plan):
        self.plan = plan
        self.src = np.zeros(plan.n_src)
        self.grad = np.zeros(plan.n_src)
        self.table = np.zeros(plan.table_cells)
        self.peak = np.zeros(plan.n_src)

    def log_partition(self, log_cells: np.ndarray, log_weights: np.ndarray) -> float:
        plan = self.plan
        self.src[:plan.n_cells] = np.maximum(log_cells, HARD_EXCLUDED)
        self.src[plan.n_cells:plan.n_cells + plan.n_states] = log_weights
        return _log_partition(self.src, self.grad, self.table, self.peak, plan.step_start,
                              plan.msg_start, plan.term_ptr, plan.term_src, plan.msg_of,
                              plan.finals)

    @property
    def cell_grad(self) -> np.ndarray:
        return self.grad[:self.plan.n_cells]

    @property
    def state_grad(self) -> np.ndarray:
        plan = self.plan
        return self.grad[plan.n_cells:plan.n_cells + plan.n_states]
