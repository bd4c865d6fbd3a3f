"""The two arithmetic back-ends of calibration: linear (rescaled probabilities, fast) and log
space (slower, nothing underflows). Both expose the same operations on batch-last tables."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from .structure import Structure

_RESCUE_BELOW = 1e-280           # a rescaling factor below this sends the row to log space
_LOG_RESCUE_BELOW = float(np.log(_RESCUE_BELOW))
# in single precision (batched draws of large networks, see calibrate.run) a factor below this
# sends the row back to double precision, well before float32's smallest normal (1e-38)
_SINGLE_RESCUE_BELOW = 1e-30


def rescue_below(dtype) -> float:
    """The rescaling factor below which a row of tables of this dtype is computed again."""
    return _SINGLE_RESCUE_BELOW if np.dtype(dtype) == np.float32 else _RESCUE_BELOW

# ----------------------------------------------------------------------------- arithmetic
#
# Tables keep the batch axis LAST: (cards..., rows). numpy's inner loops then run over the
# rows, contiguous, instead of over axes of length 2 (ten times faster on a batch).

def add_over(table: np.ndarray, axes) -> np.ndarray:
    """table summed over `axes`, by einsum: numpy's `sum` reduces an axis that is not last
    element by element when the axes it keeps are short (a chunk of 4 rows of a large table),
    4-8x slower than einsum's loop on the same numbers."""
    axes = set(axes)
    if not axes:
        return table
    return np.einsum(table, list(range(table.ndim)),
                     [a for a in range(table.ndim) if a not in axes])


def over_states(op: np.ufunc, table: np.ndarray) -> np.ndarray:
    """op reduced over axis 1 (the states) of (nodes or rows, k, batch): for k = 2 one
    elementwise call, which numpy runs several times faster than a reduction over a short
    middle axis (and with the same result: one operation on the same two numbers)."""
    if table.shape[1] == 2:
        return op(table[:, 0], table[:, 1])
    return op.reduce(table, axis=1)


class _Linear:
    """Products and sums of rescaled probabilities (in place where the table is our own)."""
    log_space = False

    @staticmethod
    def families(s: Structure, cpt, log_weights):
        """CPT cells times the evidence weight of their state (n_cells, rows), each node's
        block divided by its largest cell. Returns them, the log of the factors taken out
        (rows,), and the rows to redo in log space."""
        k, rows = s.uniform_card, cpt.shape[1]
        if k:
            # every node has k states (binary networks above all): per-node reductions are
            # reductions over an axis of length k, without index lists
            log_weights = log_weights.reshape(s.n_nodes, k, rows)
            top = over_states(np.maximum, log_weights)                         # (n, rows)
            finite_top = np.where(np.isfinite(top), top, 0.0)
            w = np.exp(log_weights - finite_top[:, None])
            table = cpt.reshape(s.n_rows, k, rows) * w[s.row_node]
            peak = np.maximum.reduceat(over_states(np.maximum, table), s.row_offsets, axis=0)
        else:
            top = np.maximum.reduceat(log_weights, s.state_offsets, axis=0)
            finite_top = np.where(np.isfinite(top), top, 0.0)
            w = np.exp(log_weights - finite_top[s.state_node])
            table = cpt * w[s.cell_state]
            peak = np.maximum.reduceat(table, s.cell_offsets, axis=0)
        rescue = ~(peak >= rescue_below(table.dtype)).all(axis=0) | ~np.isfinite(top).all(axis=0)
        safe = np.where(peak > 0, peak, 1.0)
        if k:
            table /= safe[s.row_node][:, None]
        else:
            table /= safe[s.cell_node]
        log_scale = (finite_top + np.log(safe)).sum(axis=0)
        return table.reshape(s.n_cells, rows), log_scale, rescue

    @staticmethod
    def ones(shape):
        return np.ones(shape)

    @staticmethod
    def mul(a, b):
        a *= b
        return a

    @staticmethod
    def fresh_mul(a, b):
        return a * b

    @staticmethod
    def sum_to(table, size):
        return np.einsum("smr->sr", table.reshape(size, -1, table.shape[-1]))

    combine = staticmethod(np.prod)

    @staticmethod
    def rescale(msg):
        """Divide a message by its largest entry per row, in place; returns that entry. A
        zero gives NaN here: such a row is redone in log space (see `scales`)."""
        top = msg.max(axis=0)
        msg /= top
        return msg, top

    @staticmethod
    def scales(tops):
        """log of the factors taken out, and the rows where one fell below `rescue_below`."""
        if not tops:
            return 0.0, False
        tops = np.stack(tops)
        return np.log(tops).sum(axis=0), ~(tops.min(axis=0) >= rescue_below(tops.dtype))

    @staticmethod
    def divide(new, old):
        """new / old on a separator. Where old is 0, new is exactly 0 too (it was summed
        from products holding that 0), so flooring old at the smallest normal number of its
        dtype gives 0 there; below that floor both are negligible next to the belief's total
        (~1)."""
        return new / np.maximum(old, np.finfo(old.dtype).tiny)

    @staticmethod
    def normalise(table2d):
        """Divide in place by the total per row; returns the table and the total."""
        total = np.einsum("cr->r", table2d)
        table2d /= total
        return table2d, total

    log = staticmethod(np.log)


class _Log:
    """The same operations on logarithms: slower, but nothing underflows. -inf is an exact
    zero; it never meets +inf, so no NaN arises."""
    log_space = True

    @staticmethod
    def families(s: Structure, cpt, log_weights):
        with np.errstate(divide="ignore"):
            table = np.log(cpt) + log_weights[s.cell_state]
        rows = cpt.shape[1]
        return table, np.zeros(rows), np.zeros(rows, dtype=bool)

    @staticmethod
    def ones(shape):
        return np.zeros(shape)

    combine = staticmethod(np.sum)

    @staticmethod
    def mul(a, b):
        a += b
        return a

    @staticmethod
    def fresh_mul(a, b):
        return a + b

    @staticmethod
    def sum_to(table, size):
        table = table.reshape(size, -1, table.shape[-1])
        top = table.max(axis=1, keepdims=True)
        top = np.where(np.isfinite(top), top, 0.0)
        with np.errstate(divide="ignore", under="ignore"):
            return np.log(np.exp(table - top).sum(axis=1)) + top[:, 0]

    @staticmethod
    def rescale(msg):
        top = msg.max(axis=0)
        top = np.where(np.isfinite(top), top, 0.0)
        return msg - top, top

    @staticmethod
    def scales(tops):
        return (np.sum(tops, axis=0) if tops else 0.0), False

    @staticmethod
    def divide(new, old):
        return np.where(old > -np.inf, new - np.where(old > -np.inf, old, 0.0), -np.inf)

    @staticmethod
    def normalise(table2d):
        """exp, normalised per row (linear probabilities), and the log of the total."""
        top = table2d.max(axis=0)
        top = np.where(np.isfinite(top), top, 0.0)
        w = np.exp(table2d - top)
        total = w.sum(axis=0)
        return w / np.where(total > 0, total, 1.0), np.log(total) + top

    @staticmethod
    def log(log_total):
        return log_total


