"""Calibration of the junction tree (collect, then distribute) and the marginals built on it:
`state_marginals` (k-state nodes, CPT cells) and the binary API's `marginals` (theta), one
computation behind both, in chunks under a memory budget with the log-space rescue."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from .backends import _Linear, _Log, add_over, over_states, rescue_below
from .evidence import binary_cells, binary_evidence, check_cpt, check_theta, state_evidence
from .factor import family_axes, product
from .observed import fold
from .structure import Structure

DEFAULT_MAX_BYTES = 256 * 2**20  # working memory per call unless the caller says otherwise
_CHUNK_TARGET_BYTES = 96 * 2**20  # rows per chunk: enough to amortise numpy's per-call cost
                                  # (andes' exact draws: 17-21 ms each at 96 MB, 23-27 at 24 MB,
                                  # 36-40 at 6 MB, measured side by side)


class ContradictoryEvidence(ValueError):
    """The evidence has probability zero under the CPT (hard conditions that 0/1 CPT cells or
    other hard conditions make impossible): no posterior exists."""


class TooLarge(ValueError):
    """One row of the computation needs more memory than the budget allows."""

    def __init__(self, needed_bytes: int, max_bytes: int, treewidth: int):
        self.needed_bytes, self.max_bytes, self.treewidth = needed_bytes, max_bytes, treewidth
        super().__init__(f"exact inference needs about {needed_bytes / 2**20:.0f} MiB "
                         f"(treewidth {treewidth}), over the budget of {max_bytes / 2**20:.0f} MiB")


class DrawsTooLarge(TooLarge):
    """The conjugate draws (every draw's CPT cells side by side) need more memory than the
    budget allows, though one inference fits."""

    def __init__(self, needed_bytes: int, max_bytes: int, treewidth: int, n_draws: int):
        super().__init__(needed_bytes, max_bytes, treewidth)
        self.n_draws = n_draws


def _calibrate(s: Structure, cpt, log_weights, ops, keep_tables: bool,
               want_beliefs: bool = False):
    """Collect (leaves to root: each clique's potential times its children's messages, summed
    to the separator) then distribute (root to leaves: each clique's belief, summed to a
    child's separator and divided by that child's upward message).

    Inputs are batch-last: cpt (n_cells, rows), log_weights (n_states, rows). Returns every
    node-state's probability (n_states, rows), log Z (rows,), the rows to redo in log space,
    and if asked every clique's normalised belief (cells, rows) in linear space."""
    with np.errstate(divide="ignore", under="ignore", invalid="ignore"):
        return _calibrate_quiet(s, cpt, log_weights, ops, keep_tables, want_beliefs)


def _calibrate_quiet(s, cpt, log_weights, ops, keep_tables, want_beliefs):
    rows = cpt.shape[-1]
    flat, log_z, rescue = ops.families(s, cpt, log_weights)
    cl = s.cliques
    up: dict[int, np.ndarray] = {}

    def potential(i: int) -> np.ndarray:
        c = cl[i]
        full = c.shape + (rows,)
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
            src = tuple(s.cards[u] for u in s.parents[v][::-1]) + (s.cards[v],)
            off = int(s.cell_offsets[v])
            f = flat[off:off + int(np.prod(src))].reshape(src + (rows,))
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
            up[i], top = ops.rescale(ops.sum_to(table, c.sep_cells))
            tops.append(top)
    scale, bad = ops.scales(tops)
    log_z = log_z + scale
    rescue |= bad

    masses = []                                  # per clique (states of its reports, rows)
    beliefs: dict[int, np.ndarray] = {}
    down: dict[int, np.ndarray] = {}
    for i in reversed(s.post_order):
        c = cl[i]
        table = kept.pop(i) if i in kept else potential(i)
        w = len(c.vars)
        if c.parent >= 0:
            msg = down.pop(i).reshape(c.shape[:c.sep] + (1,) * (w - c.sep) + (rows,))
            table = ops.mul(table, msg)      # the table is this call's own: written in place
        # a linear belief below the root stays unnormalised (one pass less over the largest
        # tables): its report masses are normalised per node, and each separator marginal
        # sent down is normalised on its own, which is the same number
        scaled = c.parent < 0 or want_beliefs or ops.log_space
        if scaled:
            belief, total = ops.normalise(table.reshape(c.cells, rows))
        else:
            belief = table.reshape(c.cells, rows)
        del table
        if c.parent < 0:
            log_total = ops.log(total)
            log_z = log_z + log_total
            if not ops.log_space:
                rescue |= ~(log_total >= np.log(rescue_below(log_total.dtype)))
        masses.extend(report_masses(c, belief))
        if want_beliefs:
            beliefs[i] = belief
        for j in c.children:
            shape, axes = cl[j].sep_sum
            new = belief.reshape(shape + (rows,))
            new = add_over(new, axes).reshape(cl[j].sep_cells, rows)
            if not scaled:
                new /= np.einsum("sr->r", new)
            if ops.log_space:
                new = np.log(new)
            down[j] = ops.divide(new, up.pop(j))
    return node_probabilities(s, masses, rows), log_z, rescue, beliefs


def report_masses(c, belief: np.ndarray) -> list[np.ndarray]:
    """A clique's belief (cells, rows) summed to the states of the nodes it reports."""
    rows = belief.shape[-1]
    if c.report_sum is not None:
        shape, axes = c.report_sum[:2]
        small = add_over(belief.reshape(shape + (rows,)), axes)
        if c.bits is not None:
            return [c.bits.T @ small.reshape(-1, rows)]
        small = small.reshape(c.report_sum[2] + (rows,))
        return [add_over(small, others) for others in c.report_sum[3]]
    if c.reports:
        return [c.bits.T @ belief]
    return []


def node_probabilities(s: Structure, masses: list[np.ndarray], rows: int) -> np.ndarray:
    """The cliques' report masses (in reversed post order) as (n_states, rows), each state
    over its node's states, not over the belief's total: a conditioned node comes out exactly
    0 or 1."""
    probs = np.empty((s.n_states, rows))
    probs[s.report_states] = np.concatenate(masses)
    if s.uniform_card:
        per_node = probs.reshape(s.n_nodes, s.uniform_card, rows)
        per_node /= np.maximum(over_states(np.add, per_node), 1e-300)[:, None]
    else:
        totals = np.add.reduceat(probs, s.state_offsets, axis=0)
        probs /= np.maximum(totals, 1e-300)[s.state_node]
    return probs


def _chunking(s: Structure, total: int, max_bytes: int, beliefs: bool = False,
              itemsize: int = 8) -> tuple[int, bool]:
    """Rows per chunk and whether clique tables are kept between the two passes: kept
    whenever one row fits that way (recomputing them in distribute cost 25-35% more on
    andes, water and pigs, however many rows a chunk then held), else recomputed. Keeping
    every clique's belief (`beliefs`) takes the kept tables' memory; single precision
    tables (`itemsize` 4) half of it."""
    keep = s.row_bytes(keep_tables=True)
    frugal = keep if beliefs else s.row_bytes(keep_tables=False)
    if frugal > max_bytes:
        raise TooLarge(frugal, max_bytes, s.treewidth)
    # the target counts the tables as they are; the budget as float64, which rows redone in
    # double precision take
    if keep <= max_bytes:
        return max(1, min(total, _CHUNK_TARGET_BYTES * 8 // (keep * itemsize),
                          max_bytes // keep)), True
    return max(1, min(total, _CHUNK_TARGET_BYTES * 8 // (frugal * itemsize),
                      max_bytes // frugal)), False


def take(array: np.ndarray, batch: tuple[int, ...], start: int, stop: int) -> np.ndarray:
    """Rows start:stop of `array` broadcast to batch + its last axis, flattened: a copy of the
    chunk only (never of the whole broadcast batch)."""
    wide = np.broadcast_to(array, batch + array.shape[-1:])
    if not batch:
        return wide[None]
    if len(batch) == 1:
        return wide[start:stop]
    return wide[np.unravel_index(np.arange(start, stop), batch)]


def single_precision_rows(s: Structure, cpt: np.ndarray, log_weights: np.ndarray) -> np.ndarray:
    """The rows (batch-last inputs) whose numbers float32 holds with room to spare: no CPT
    cell in (0, 1e-20) and no soft weight more than 40 nats below its node's largest, so
    that nothing a row's answer rests on nears float32's smallest normal number (1e-38)."""
    tiny_cell = ((cpt > 0.0) & (cpt < 1e-20)).any(axis=0)
    finite = np.isfinite(log_weights)
    top = np.maximum.reduceat(np.where(finite, log_weights, -np.inf), s.state_offsets, axis=0)
    gap = np.where(finite, top[s.state_node] - log_weights, 0.0)
    return ~tiny_cell & ~(gap > 40.0).any(axis=0)


def run(s: Structure, cpt, log_weights, keep: bool, want_beliefs: bool = False,
        single: bool = False):
    """Linear-space calibration, with the rows that need it redone in log space. Takes
    batch-last cpt (n_cells, rows) and log_weights (n_states, rows); returns probabilities
    (rows, n_states), log_z (rows,), beliefs (cells, rows).

    `single`: the tables in float32, about 1.6x faster on large cliques, probabilities good
    to about 1e-6; for draws, whose Monte Carlo error is thousands of times that. Rows whose
    numbers float32 would not hold, or whose rescaling falls below 1e-30, go in float64."""
    cpt, log_weights = np.ascontiguousarray(cpt), np.ascontiguousarray(log_weights)
    if single and not want_beliefs:
        fits = single_precision_rows(s, cpt, log_weights)
        if fits.any():
            return _single(s, cpt, log_weights, keep, fits)
    probs, log_z, rescue, beliefs = _calibrate(s, cpt, log_weights, _Linear, keep, want_beliefs)
    if rescue.all():
        beliefs.clear()              # free the linear tables before the log-space pass
        probs, log_z, _r, beliefs = _calibrate(s, cpt, log_weights, _Log, False, want_beliefs)
    elif rescue.any():
        redo = np.flatnonzero(rescue)
        p2, z2, _r, b2 = _calibrate(s, cpt[:, redo], log_weights[:, redo], _Log, False,
                                    want_beliefs)
        probs[:, redo], log_z[redo] = p2, z2
        for i, b in b2.items():
            beliefs[i][:, redo] = b
    return probs.T, log_z, beliefs


def _single(s: Structure, cpt, log_weights, keep: bool, fits: np.ndarray):
    """`run` in float32 for the rows that fit, float64 (with its log-space rescue) for the
    others and for any row rescued in float32."""
    rows = np.flatnonzero(fits)
    probs = np.empty((cpt.shape[1], s.n_states))
    log_z = np.empty(cpt.shape[1])
    p32, z32, rescue, _b = _calibrate(s, cpt[:, rows].astype(np.float32),
                                      log_weights[:, rows].astype(np.float32), _Linear, keep)
    probs[rows], log_z[rows] = p32.T, z32
    redo = np.concatenate([np.flatnonzero(~fits), rows[rescue]])
    if len(redo):
        probs[redo], log_z[redo], _b = run(s, cpt[:, redo], log_weights[:, redo], keep)
    return probs, log_z, {}


def family_tables(s: Structure, beliefs: dict[int, np.ndarray]) -> np.ndarray:
    """Every node's family marginal P(v = x, parents = row | evidence) read from the
    calibrated beliefs (cells, rows) of the clique that holds its CPT, in the flat CPT layout:
    (n_cells, rows)."""
    rows = next(iter(beliefs.values())).shape[-1]
    out = np.empty((s.n_cells, rows))
    for i, c in enumerate(s.cliques):
        if not c.families:
            continue
        where = {u: a for a, u in enumerate(c.vars)}
        table = beliefs[i].reshape(c.shape + (rows,))
        batch = len(c.vars)
        for v, _perm, _shape in c.families:
            axes = [where[u] for u in family_axes(v, s.parents[v])] + [batch]
            lo = int(s.cell_offsets[v])
            hi = lo + int(np.prod([s.cards[u] for u in s.parents[v]], dtype=np.int64)) * s.cards[v]
            out[lo:hi] = np.einsum(table, list(range(batch + 1)), axes).reshape(hi - lo, rows)
    return out


def _batched(s: Structure, batch: tuple[int, ...], cells: Callable[[int, int], np.ndarray],
             log_weights: np.ndarray, max_bytes: int, families: bool = False,
             single: bool = False) -> tuple[np.ndarray, np.ndarray]:
    """Every row of the batch in chunks: `cells(start, stop)` gives a chunk's batch-last CPT
    cells. Returns probabilities (batch..., n_states), or with `families` every CPT cell's
    family marginal (batch..., n_cells), and log_z (batch...). Hard evidence shared by every
    row is folded into the tables first (see `observed`). `single`: tables in float32 where
    the numbers allow (see `run`)."""
    folded = fold(s, log_weights)
    if folded is not None:
        inner, full_cells = folded.structure, cells
        cells = lambda a, b: full_cells(a, b)[folded.cells]      # noqa: E731
        log_weights = log_weights[..., folded.states]
    else:
        inner = s
    total = int(np.prod(batch, dtype=np.int64))
    rows, keep = _chunking(inner, max(total, 1), max_bytes, families, 4 if single else 8)
    width = inner.n_cells if families else inner.n_states
    probs = np.empty((total, width))
    log_z = np.empty(total)
    for start in range(0, total, rows):
        stop = min(total, start + rows)
        p, z, beliefs = run(inner, cells(start, stop), take(log_weights, batch, start, stop).T,
                            keep, families, single)
        probs[start:stop], log_z[start:stop] = (family_tables(inner, beliefs).T if families
                                                else p), z
    impossible = ~(log_z > -np.inf)
    if impossible.any():
        first = np.unravel_index(int(np.flatnonzero(impossible)[0]), batch) if batch else ()
        raise ContradictoryEvidence(
            "the evidence has probability zero: the hard conditions cannot all hold under "
            f"these CPT entries (first impossible batch row {tuple(int(i) for i in first)})")
    np.clip(probs, 0.0, 1.0, out=probs)
    if folded is not None:
        reduced, probs = probs, np.zeros((total, s.n_cells if families else s.n_states))
        probs[:, folded.cells if families else folded.states] = reduced
    return probs.reshape(batch + (probs.shape[-1],)), log_z.reshape(batch)


def state_marginals(structure: Structure, cpt, state_log_weights=None, conditions=None, *,
                    max_bytes: int = DEFAULT_MAX_BYTES) -> tuple[np.ndarray, np.ndarray]:
    """Exact P(node = state | evidence, cpt) for every node-state, and log P(evidence | cpt).

    cpt (..., n_cells), state_log_weights (..., n_states) (soft evidence: a log-likelihood per
    node-state) and conditions (None, {node: state}, or a log-mask (..., n_states)) broadcast
    over their leading axes; the result is probs (batch..., n_states), each node's states
    summing to 1, and log_z (batch...). Rows go in chunks under `max_bytes`. Raises TooLarge
    if one row alone does not fit, ContradictoryEvidence if some row's evidence is
    impossible."""
    s = structure
    cpt = check_cpt(s, cpt)
    log_weights = state_evidence(s, state_log_weights, conditions)
    batch = np.broadcast_shapes(cpt.shape[:-1], log_weights.shape[:-1])
    return _batched(s, batch, lambda a, b: take(cpt, batch, a, b).T, log_weights, max_bytes)


def family_marginals(structure: Structure, cpt, state_log_weights=None, conditions=None, *,
                     max_bytes: int = DEFAULT_MAX_BYTES) -> tuple[np.ndarray, np.ndarray]:
    """Exact P(v = x, parents of v = row | evidence, cpt) for every CPT cell (the flat cell
    layout), and log P(evidence | cpt); inputs broadcast as in `state_marginals`. The network
    polynomial is linear in each CPT row, so these are its derivatives up to the cells
    themselves: what one-way sensitivity reads instead of a calibration per moved row."""
    s = structure
    cpt = check_cpt(s, cpt)
    log_weights = state_evidence(s, state_log_weights, conditions)
    batch = np.broadcast_shapes(cpt.shape[:-1], log_weights.shape[:-1])
    return _batched(s, batch, lambda a, b: take(cpt, batch, a, b).T, log_weights, max_bytes,
                    families=True)


def marginals(structure: Structure, theta, node_log_weights=None, conditions=None, *,
              max_bytes: int = DEFAULT_MAX_BYTES) -> tuple[np.ndarray, np.ndarray]:
    """Exact P(node = yes | evidence, theta) for every node of an all-binary network, and
    log P(evidence | theta).

    theta (..., K), node_log_weights (..., n) and a conditions mask (..., n, 2) broadcast
    against each other over their leading axes; the result is p_yes (batch..., n) and
    log_z (batch...) (log_z counts the soft weights and the mask as factors). The same
    computation as `state_marginals`, on cells [1 - theta, theta]."""
    s = structure
    theta = check_theta(s, theta)
    log_weights = binary_evidence(s, node_log_weights, conditions)
    batch = np.broadcast_shapes(theta.shape[:-1], log_weights.shape[:-1])
    probs, log_z = _batched(s, batch, lambda a, b: binary_cells(take(theta, batch, a, b)),
                            log_weights, max_bytes)
    return np.ascontiguousarray(probs[..., 1::2]), log_z
