"""Table arithmetic shared by the plans and the calibration: tables are numpy arrays with one
axis per variable and the batch axis last."""

from __future__ import annotations

import numpy as np


def reduction(keep: list[bool]) -> tuple[tuple[int, ...], tuple[int, ...]]:
    """How to sum a table (2, ..., 2, rows) down to the axes marked in `keep` (their order
    kept): runs of neighbouring axes with the same mark merge into one axis, so numpy loops
    over a few long axes instead of many of length 2. Returns (shape without rows, axes)."""
    dims, marks = [], []
    for k in keep:
        if marks and marks[-1] == k:
            dims[-1] *= 2
        else:
            dims.append(2)
            marks.append(k)
    return tuple(dims), tuple(a for a, k in enumerate(marks) if not k)




def product(ops, factors: list[np.ndarray], full: tuple[int, ...]) -> np.ndarray:
    """The product of broadcastable factors as a new array of the full clique shape (the
    inputs are views of shared data and are never written)."""
    if not factors:
        return ops.ones(full)
    # one full-size allocation: the largest factor broadcast into it, the others multiplied in
    factors = sorted(factors, key=lambda f: -f.size)
    if len(factors) > 1 and np.broadcast_shapes(factors[0].shape, factors[1].shape) == full:
        table = ops.fresh_mul(factors[0], factors[1])
        rest = factors[2:]
    else:
        table = np.empty(full)
        table[...] = factors[0]
        rest = factors[1:]
    for f in rest:
        table = ops.mul(table, f)
    return table

