"""Calibration of the junction tree (collect, then distribute) and the public `marginals`,
with its evidence checks, chunking under a memory budget and the log-space rescue."""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np

from .backends import _LOG_RESCUE_BELOW, _Linear, _Log
from .factor import product
from .structure import Structure

HARD_EXCLUDED = -1e12            # log-weight of a ruled-out state (exp() of it is exactly 0)
DEFAULT_MAX_BYTES = 256 * 2**20  # working memory per call unless the caller says otherwise
_CHUNK_TARGET_BYTES = 24 * 2**20  # rows per chunk: enough to amortise numpy's per-call cost,
                                  # few enough that the working set stays near the caches


class ContradictoryEvidence(ValueError):
    """The evidence has probability zero under theta (hard conditions that 0/1 CPT entries or
    other hard conditions make impossible): no posterior exists."""


class TooLarge(ValueError):
    """One row of the computation needs more memory than the budget allows."""

    def __init__(self, needed_bytes: int, max_bytes: int, treewidth: int):
        self.needed_bytes, self.max_bytes, self.treewidth = needed_bytes, max_bytes, treewidth
        super().__init__(f"exact inference needs about {needed_bytes / 2**20:.0f} MiB "
                         f"(treewidth {treewidth}), over the budget of {max_bytes / 2**20:.0f} MiB")



def _calibrate(s: Structure, theta, mask0, weight1, ops, keep_tables: bool,
               want_beliefs: bool = False):
    """Collect (leaves to root: each clique's potential times its children's messages, summed
    to the separator) then distribute (root to leaves: each clique's belief, summed to a
    child's separator and divided by that child's upward message).

    Inputs are batch-last: theta (K, rows), mask0 and weight1 (n, rows). Returns P(yes)
    (n, rows), log Z (rows,), the rows to redo in log space, and if asked every clique's
    normalised belief (2^w, rows) in linear space."""
    with np.errstate(divide="ignore", under="ignore", invalid="ignore"):
        return _calibrate_quiet(s, theta, mask0, weight1, ops, keep_tables, want_beliefs)


def _calibrate_quiet(s, theta, mask0, weight1, ops, keep_tables, want_beliefs):
    rows = theta.shape[-1]
    fam, log_z, rescue = ops.families(s, theta, mask0, weight1)
    flat = fam.reshape(2 * s.n_entries, rows)
    cl = s.cliques
    up: dict[int, np.ndarray] = {}

    def potential(i: int) -> np.ndarray:
        c = cl[i]
        full = (2,) * len(c.vars) + (rows,)
        factors = [up[j].reshape(cl[j].up_shape + (rows,)) for j in c.children]
        if c.gather is not None:
            if len(c.gather) == 1:
                table = flat[c.gather[0]].reshape(full)
            else:
                table = ops.combine(flat[c.gather], axis=0).reshape(full)
            for f in factors:
                table = ops.mul(table, f)
            return table
        for v, perm, shape in c.families:
            k = len(s.parents[v])
            off = int(s.offsets[v])
            f = fam[:, off:off + 2**k].reshape((2,) * (k + 1) + (rows,))
            factors.append(f.transpose(perm).reshape(shape + (rows,)))
        return product(ops, factors, full)

    kept: dict[int, np.ndarray] = {}
    tops = []
    for i in s.post_order:
        c = cl[i]
        table = potential(i)
        if keep_tables or c.parent < 0:
            kept[i] = table
        if c.parent >= 0:
            up[i], top = ops.rescale(ops.sum_to(table, 2 ** c.sep))
            tops.append(top)
    scale, bad = ops.scales(tops)
    log_z = log_z + scale
    rescue |= bad

    yes_no = []                                  # per clique (2 * reports, rows): yes, then no
    beliefs: dict[int, np.ndarray] = {}
    down: dict[int, np.ndarray] = {}
    for i in reversed(s.post_order):
        c = cl[i]
        table = kept.pop(i) if i in kept else potential(i)
        w = len(c.vars)
        if c.parent >= 0:
            msg = down.pop(i).reshape((2,) * c.sep + (1,) * (w - c.sep) + (rows,))
            table = ops.mul(table, msg)      # the table is this call's own: written in place
        belief, total = ops.normalise(table.reshape(2**w, rows))
        del table
        if c.parent < 0:
            log_total = ops.log(total)
            log_z = log_z + log_total
            if not ops.log_space:
                rescue |= ~(log_total >= _LOG_RESCUE_BELOW)
        if c.report_sum is not None:
            shape, axes = c.report_sum
            small = belief.reshape(shape + (rows,)).sum(axis=axes)
            yes_no.append(c.bits.T @ small.reshape(-1, rows))
        elif c.reports:
            yes_no.append(c.bits.T @ belief)
        if want_beliefs:
            beliefs[i] = belief
        for j in c.children:
            shape, axes = cl[j].sep_sum
            new = belief.reshape(shape + (rows,))
            new = (new.sum(axis=axes) if axes else new).reshape(2 ** cl[j].sep, rows)
            if ops.log_space:
                new = np.log(new)
            down[j] = ops.divide(new, up.pop(j))
    # yes / (yes + no), not yes / total: a conditioned node comes out exactly 0 or 1
    yes = np.concatenate([b[:len(b) // 2] for b in yes_no])
    no = np.concatenate([b[len(b) // 2:] for b in yes_no])
    p_yes = np.empty((s.n_nodes, rows))
    p_yes[s.report_order] = yes / np.maximum(yes + no, 1e-300)
    return p_yes, log_z, rescue, beliefs



def _check_theta(s: Structure, theta) -> np.ndarray:
    theta = np.asarray(theta, dtype=float)
    if theta.ndim == 0 or theta.shape[-1] != s.n_entries:
        raise ValueError(f"theta must have {s.n_entries} CPT entries on its last axis, "
                         f"not shape {theta.shape}")
    if not ((theta >= 0.0) & (theta <= 1.0)).all():
        raise ValueError("theta must lie in [0, 1] (no NaN)")
    return theta


def _evidence(s: Structure, node_log_weights, conditions) -> tuple[np.ndarray, np.ndarray]:
    """(mask0, weight1), each (..., n): the log-weight of x_v = no, and of x_v = yes."""
    n = s.n_nodes
    weights = np.zeros(n) if node_log_weights is None else np.asarray(node_log_weights, float)
    if weights.ndim == 0 or weights.shape[-1] != n:
        raise ValueError(f"node_log_weights must have {n} nodes on its last axis, "
                         f"not shape {weights.shape}")
    if not np.isfinite(weights).all():
        raise ValueError("node_log_weights must be finite (use conditions for hard evidence)")
    mask = condition_mask(n, conditions)
    if np.isnan(mask).any() or (mask == np.inf).any():
        raise ValueError("a conditions mask holds log-weights: no NaN and no +inf")
    # HARD_EXCLUDED (finite, so that other code can multiply it by 0) is an exact zero here:
    # in log space e^-1e12 would otherwise pass for a possible state
    mask = np.where(mask <= HARD_EXCLUDED, -np.inf, mask)
    return mask[..., 0], weights + mask[..., 1]


def condition_mask(n_nodes: int, conditions) -> np.ndarray:
    """Hard conditions as an (n, 2) log-mask: None (no condition), a dict {node: 0/1 or bool},
    or an array (..., n, 2) passed through (batched what-ifs)."""
    if conditions is None:
        return np.zeros((n_nodes, 2))
    if isinstance(conditions, Mapping):
        mask = np.zeros((n_nodes, 2))
        for v, outcome in conditions.items():
            if not 0 <= int(v) < n_nodes or outcome not in (0, 1):
                raise ValueError(f"condition {v}: {outcome!r} must be node index: 0/1")
            mask[int(v), 1 - int(outcome)] = HARD_EXCLUDED
        return mask
    mask = np.asarray(conditions, dtype=float)
    if mask.ndim < 2 or mask.shape[-2:] != (n_nodes, 2):
        raise ValueError(f"a conditions mask must have shape (..., {n_nodes}, 2), not {mask.shape}")
    return mask


def _chunking(s: Structure, total: int, max_bytes: int) -> tuple[int, bool]:
    """Rows per chunk and whether clique tables are kept between the two passes."""
    frugal = s.row_bytes(keep_tables=False)
    if frugal > max_bytes:
        raise TooLarge(frugal, max_bytes, s.treewidth)
    keep = s.row_bytes(keep_tables=True)
    rows = min(total, max(1, _CHUNK_TARGET_BYTES // keep), max_bytes // keep)
    if rows >= min(total, 8):
        return max(rows, 1), True
    return max(1, min(total, max(1, _CHUNK_TARGET_BYTES // frugal), max_bytes // frugal)), False


def _take(array: np.ndarray, batch: tuple[int, ...], start: int, stop: int) -> np.ndarray:
    """Rows start:stop of `array` broadcast to batch + its last axis, flattened: a copy of the
    chunk only (never of the whole broadcast batch)."""
    wide = np.broadcast_to(array, batch + array.shape[-1:])
    if not batch:
        return wide[None]
    if len(batch) == 1:
        return wide[start:stop]
    return wide[np.unravel_index(np.arange(start, stop), batch)]


def _run(s: Structure, theta, mask0, weight1, keep: bool, want_beliefs: bool = False):
    """Linear-space calibration, with the rows that need it redone in log space. Takes rows
    first (rows, K), (rows, n); returns p_yes (rows, n), log_z (rows,), beliefs (2^w, rows)."""
    theta, mask0, weight1 = (np.ascontiguousarray(a.T) for a in (theta, mask0, weight1))
    p_yes, log_z, rescue, beliefs = _calibrate(s, theta, mask0, weight1, _Linear, keep,
                                               want_beliefs)
    if rescue.all():
        beliefs.clear()              # free the linear tables before the log-space pass
        p_yes, log_z, _r, beliefs = _calibrate(s, theta, mask0, weight1, _Log, False,
                                               want_beliefs)
    elif rescue.any():
        redo = np.flatnonzero(rescue)
        p2, z2, _r, b2 = _calibrate(s, theta[:, redo], mask0[:, redo], weight1[:, redo], _Log,
                                    False, want_beliefs)
        p_yes[:, redo], log_z[redo] = p2, z2
        for i, b in b2.items():
            beliefs[i][:, redo] = b
    return p_yes.T, log_z, beliefs


def marginals(structure: Structure, theta, node_log_weights=None, conditions=None, *,
              max_bytes: int = DEFAULT_MAX_BYTES) -> tuple[np.ndarray, np.ndarray]:
    """Exact P(node = yes | evidence, theta) for every node, and log P(evidence | theta).

    theta (..., K), node_log_weights (..., n) and a conditions mask (..., n, 2) broadcast
    against each other over their leading axes; the result is p_yes (batch..., n) and
    log_z (batch...) (log_z counts the soft weights and the mask as factors). Rows are
    processed in chunks under `max_bytes`. Raises TooLarge if one row alone does not fit,
    ContradictoryEvidence if some row's evidence has probability zero."""
    s = structure
    theta = _check_theta(s, theta)
    mask0, weight1 = _evidence(s, node_log_weights, conditions)
    batch = np.broadcast_shapes(theta.shape[:-1], mask0.shape[:-1], weight1.shape[:-1])
    total = int(np.prod(batch, dtype=np.int64))
    rows, keep = _chunking(s, max(total, 1), max_bytes)
    p_yes = np.empty((total, s.n_nodes))
    log_z = np.empty(total)
    for start in range(0, total, rows):
        stop = min(total, start + rows)
        p, z, _b = _run(s, _take(theta, batch, start, stop), _take(mask0, batch, start, stop),
                        _take(weight1, batch, start, stop), keep)
        p_yes[start:stop], log_z[start:stop] = p, z
    impossible = ~(log_z > -np.inf)
    if impossible.any():
        first = np.unravel_index(int(np.flatnonzero(impossible)[0]), batch) if batch else ()
        raise ContradictoryEvidence(
            "the evidence has probability zero: the hard conditions cannot all hold under "
            f"these CPT entries (first impossible batch row {tuple(int(i) for i in first)})")
    np.clip(p_yes, 0.0, 1.0, out=p_yes)
    return p_yes.reshape(batch + (s.n_nodes,)), log_z.reshape(batch)


