"""Factors: tables over variables with a number of states (a card) per variable, the way
pgmpy's `DiscreteFactor(variables, cardinality, values)` is. A table is a numpy array with
one axis per variable, in C order (the first variable slowest), and the batch axis last.

Indices are `np.ravel_multi_index` arithmetic (strides, products of cards), never bit shifts:
on binary variables they reduce to the bit order the kernel always used. A CPT row index
counts its parents the other way (parents[0] fastest), which is the C order of the axes
(pa[-1], ..., pa[0]); a node's CPT cells are its rows times its states, so node v's block
of the flat CPT reshapes to a table over (pa[-1], ..., pa[0], v) with no copy."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np


def row_strides(parent_cards: Sequence[int]) -> np.ndarray:
    """Stride of each parent in a CPT row index: 1 for parents[0], then the running product
    of the cards before it (so row c = sum_j x[parents[j]] * stride_j)."""
    return np.cumprod([1, *parent_cards[:-1]], dtype=np.int64)[:len(parent_cards)]


def cell_states(cards: Sequence[int]) -> np.ndarray:
    """(prod(cards), len(cards)): the state of each variable in each cell of a C-order table."""
    if not cards:
        return np.zeros((1, 0), dtype=np.int64)
    return np.indices(tuple(cards), dtype=np.int64).reshape(len(cards), -1).T


def family_axes(v: int, parents: Sequence[int]) -> tuple[int, ...]:
    """The variables of node v's CPT block reshaped as a table: (pa[-1], ..., pa[0], v)."""
    return (*reversed(parents), v)


def broadcast_plan(src: Sequence[int], dst: Sequence[int], cards: Sequence[int]
                   ) -> tuple[tuple[int, ...], tuple[int, ...]]:
    """How a table over `src` (batch last) joins a table over `dst` (a superset): the
    transpose that puts its axes in dst's order (batch still last) and the shape that
    broadcasts it (its own cards, 1 for the variables it lacks)."""
    where = {u: a for a, u in enumerate(dst)}
    perm = tuple(int(a) for a in np.argsort([where[u] for u in src]))
    shape = tuple(cards[u] if u in src else 1 for u in dst)
    return (*perm, len(src)), shape


def reduction(keep: Sequence[bool], dims: Sequence[int]) -> tuple[tuple[int, ...], tuple[int, ...]]:
    """How to marginalise a table (dims..., rows) to the axes marked in `keep` (their order
    kept): runs of neighbouring axes with the same mark merge into one axis, so numpy loops
    over a few long axes instead of many short ones. Returns (shape without rows, axes)."""
    shape, marks = [], []
    for k, d in zip(keep, dims, strict=True):
        if marks and marks[-1] == k:
            shape[-1] *= d
        else:
            shape.append(d)
            marks.append(k)
    return tuple(shape), tuple(a for a, k in enumerate(marks) if not k)


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
        table = np.empty(full, dtype=np.result_type(*factors))
        table[...] = factors[0]
        rest = factors[1:]
    for f in rest:
        table = ops.mul(table, f)
    return table
