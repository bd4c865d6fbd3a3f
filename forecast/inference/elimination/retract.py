"""Leave-outs by retraction: many evidence weightings that each differ from one full weighting
on a few nodes (an evidence item left out, or a cluster of them), from the one calibrated
tree of the full weighting instead of one calibration each.

Why it is exact. The joint with the item left out is the full joint divided by the item's
likelihood, a function of its node's state alone. Dividing it out of the belief of one clique
holding the node and passing each neighbour the ratio of new to old separator marginals (the
Hugin update, outward from that clique) leaves every clique's belief the new joint's marginal,
up to one normalising constant that the per-node normalisation removes. Each leave-out so
costs one multiply and one sum per clique, against a calibration's products of CPT families,
collect and distribute passes.

Rows that do not fit (their changed nodes share no clique, a state ruled out on one side only,
a structure whose beliefs do not fit the memory budget) are calibrated in full as before."""

from __future__ import annotations

import numpy as np

from .calibrate import _batched, node_probabilities, run
from .evidence import binary_cells, binary_evidence, check_cpt, check_theta, state_evidence
from .observed import fold
from .structure import Structure


def leave_out_marginals(structure: Structure, cpt, full_log_weights, rows_log_weights,
                        conditions=None, *, max_bytes: int) -> np.ndarray:
    """P(node = state | row's evidence, cpt) for each row of `rows_log_weights` (M, n_states),
    equal (to rounding) to `state_marginals(structure, cpt, rows_log_weights, conditions)`;
    `full_log_weights` (n_states,) is the weighting every row departs from. cpt (n_cells,)."""
    s = structure
    cpt = check_cpt(s, cpt)
    full = state_evidence(s, full_log_weights, conditions)
    rows = state_evidence(s, rows_log_weights, conditions).reshape(-1, s.n_states)
    return _leave_outs(s, cpt, full, rows, max_bytes)


def binary_leave_outs(structure: Structure, theta, full_node_weights, rows_node_weights,
                      conditions=None, *, max_bytes: int) -> np.ndarray:
    """`leave_out_marginals` for an all-binary network: P(yes) per row (M, n) given theta (K,)
    and node log-weights (n,) and (M, n), as `marginals` takes them."""
    s = structure
    theta = check_theta(s, theta)
    full = binary_evidence(s, full_node_weights, conditions)
    rows = binary_evidence(s, rows_node_weights, conditions).reshape(-1, s.n_states)
    probs = _leave_outs(s, binary_cells(theta[None])[:, 0], full, rows, max_bytes)
    return np.ascontiguousarray(probs[:, 1::2])


def _leave_outs(s: Structure, cpt: np.ndarray, full: np.ndarray, rows: np.ndarray,
                max_bytes: int) -> np.ndarray:
    if len(rows) == 0:
        return np.empty((0, s.n_states))
    folded = fold(s, np.vstack([full, rows]))
    inner, cells, states = (s, cpt, None) if folded is None else (
        folded.structure, cpt[folded.cells], folded.states)
    if states is not None:
        full, rows = full[states], rows[:, states]
    out = np.empty((len(rows), inner.n_states))
    rest = np.arange(len(rows))
    held = inner.row_bytes(keep_tables=True) + 8 * inner.total_cells     # the beliefs kept
    per_row = 8 * (2 * inner.total_cells + inner.n_states)               # a row's new beliefs
    if held + per_row <= max_bytes:
        _p, log_z, beliefs = run(inner, cells[:, None], full[:, None], True, True)
        if log_z[0] > -np.inf:
            rest = _retract(inner, beliefs, full, rows, out)
    if len(rest):
        out[rest] = _batched(inner, (len(rest),),
                             lambda a, b: np.repeat(cells[:, None], b - a, axis=1),
                             rows[rest], max_bytes)[0]
    if states is None:
        return out
    spread = np.zeros((len(rows), s.n_states))
    spread[:, states] = out
    return spread


def _retract(s: Structure, beliefs: dict[int, np.ndarray], full: np.ndarray,
             rows: np.ndarray, out: np.ndarray) -> np.ndarray:
    """Fill `out` for every row that retraction can answer; return the others' indices."""
    holding = _cliques_by_node(s)
    flat = {i: np.ascontiguousarray(b[:, 0]) for i, b in beliefs.items()}
    old = {j: _up(s.cliques[j], flat[j]) for j in flat
           if s.cliques[j].parent >= 0 and s.cliques[j].sep}
    plans: dict[int, list[tuple[int, int]]] = {}
    unchanged = None
    rest = []
    for r, row in enumerate(rows):
        same = row == full
        if not ((np.isfinite(row) & np.isfinite(full)) | same).all():
            rest.append(r)
            continue
        changed = np.unique(s.state_node[~same])
        if not len(changed):
            if unchanged is None:
                unchanged = _read(s, flat, {})
            out[r] = unchanged
            continue
        common = set.intersection(*(holding[int(v)] for v in changed))
        if not common:
            rest.append(r)
            continue
        source = min(common, key=lambda i: s.cliques[i].cells)
        if source not in plans:
            plans[source] = _outward(s, source)
        ratio = np.exp(np.where(same, 0.0, row - np.where(same, 0.0, full)))
        out[r] = _read(s, flat, _spread(s, flat, old, source, plans[source], ratio))
    return np.asarray(rest, dtype=np.int64)


def _spread(s: Structure, beliefs, old, source: int, plan, ratio) -> dict[int, np.ndarray]:
    """Every clique's belief with `ratio` (per node-state) multiplied into the source clique's
    and passed outward by separator ratios (one row: tables without a batch axis)."""
    cl = s.cliques
    c = cl[source]
    table = beliefs[source].reshape(c.shape)
    for axis, v in enumerate(c.vars):
        lo = int(s.state_offsets[v])
        factor = ratio[lo:lo + s.cards[v]]
        if (factor != 1.0).any():
            shape = [1] * len(c.shape)
            shape[axis] = s.cards[v]
            table = table * factor.reshape(shape)
    new = {source: table.reshape(c.cells)}
    for here, there in plan:
        a, b = cl[here], cl[there]
        if b.parent == here:                          # down: the child `there`'s separator
            shape, axes = b.sep_sum
            change = _ratio(_reduce(new[here].reshape(shape), axes).reshape(b.sep_cells),
                            old[there])
            table = beliefs[there].reshape(b.shape) * change.reshape(
                b.shape[:b.sep] + (1,) * (len(b.vars) - b.sep))
        else:                                         # up: `here`'s separator with its parent
            change = _ratio(_up(a, new[here]), old[here])
            table = beliefs[there].reshape(b.shape) * change.reshape(a.up_shape)
        new[there] = table.reshape(b.cells)
    return new


def _read(s: Structure, beliefs, new) -> np.ndarray:
    """Every node-state's probability from the cliques' beliefs (new where changed)."""
    masses = []
    for i in reversed(s.post_order):
        c = s.cliques[i]
        belief = new.get(i, beliefs[i])
        if c.report_sum is not None:
            shape, axes = c.report_sum[:2]
            small = _reduce(belief.reshape(shape), axes)
            if c.bits is not None:
                masses.append((c.bits.T @ small.reshape(-1))[:, None])
            else:
                small = small.reshape(c.report_sum[2])
                masses.extend(_reduce(small, others)[:, None] for others in c.report_sum[3])
        elif c.reports:
            masses.append((c.bits.T @ belief)[:, None])
    return node_probabilities(s, masses, 1)[:, 0]


def _reduce(table: np.ndarray, axes) -> np.ndarray:
    """table summed over `axes`. numpy's reduction is several times slower than BLAS or a few
    elementwise adds when the axes it keeps are short (a (59049, 3) table summed to 3 numbers,
    the usual shape of a separator here): the first and last axes go first, by a product with
    ones (the table shrinks most for the least work), a short middle axis by adding slices."""
    left = sorted(axes)
    while left:
        first, last = left[0] == 0, left[-1] == table.ndim - 1
        axis = 0 if first else left[-1]
        n = table.shape[axis]
        rest = table.shape[:axis] + table.shape[axis + 1:]
        if n == 1:
            table = table.reshape(rest)
        elif first:
            table = (np.ones(n) @ table.reshape(n, -1)).reshape(rest)
        elif last:
            table = (table.reshape(-1, n) @ np.ones(n)).reshape(rest)
        elif n <= 8:
            pick = (slice(None),) * axis
            total = table[pick + (0,)] + table[pick + (1,)]
            for i in range(2, n):
                total += table[pick + (i,)]
            table = total
        else:
            table = table.sum(axis=axis)
        left = [a - 1 for a in left[1:]] if first else left[:-1]
    return table


def _up(c, belief: np.ndarray) -> np.ndarray:
    """A clique's belief summed to its separator with its parent (its first `sep` axes)."""
    return belief.reshape(c.sep_cells, -1) @ np.ones(c.cells // c.sep_cells)


def _ratio(new: np.ndarray, old: np.ndarray) -> np.ndarray:
    """new / old, 0 where old is 0 (new is then 0 too: a state with no mass keeps none)."""
    return np.divide(new, old, out=np.zeros(new.shape), where=old > 0)


def _outward(s: Structure, source: int) -> list[tuple[int, int]]:
    """The tree's edges (from, to) in breadth-first order away from `source`, but for empty
    separators (a forest's parts hang from one root by them): across one, a change is one
    constant factor, which each node's normalisation removes."""
    plan, frontier, seen = [], [source], {source}
    while frontier:
        here = frontier.pop(0)
        c = s.cliques[here]
        linked = [j for j in c.children if s.cliques[j].sep] + (
            [c.parent] if c.parent >= 0 and c.sep else [])
        for there in linked:
            if there not in seen:
                seen.add(there)
                plan.append((here, there))
                frontier.append(there)
    return plan


def _cliques_by_node(s: Structure) -> list[set[int]]:
    holding: list[set[int]] = [set() for _ in range(s.n_nodes)]
    for i, c in enumerate(s.cliques):
        for v in c.vars:
            holding[v].add(i)
    return holding

