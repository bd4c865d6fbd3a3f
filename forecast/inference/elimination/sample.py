"""Backward sampling of joint states on a calibrated junction tree, the pseudo-observations
a joint state makes of the CPT, and exact conjugate posterior draws (Dirichlet rows; Beta on
binary rows), in the general form and the binary API's."""

from __future__ import annotations

import numpy as np

from .calibrate import DEFAULT_MAX_BYTES, ContradictoryEvidence, DrawsTooLarge, TooLarge, _batched, run
from .evidence import binary_cells, binary_evidence, check_cpt, check_theta, state_evidence
from .factor import row_strides
from .structure import Structure

_TINY = np.finfo(float).tiny
_BELOW_ONE = 1.0 - np.finfo(float).epsneg
# Each draw's marginals in float32 from networks this large (clique tables, all together): there
# the tables are the time, and float32 takes about 0.6x of it (andes' draws 2.8-3.3 ms against
# 4.6-5.5), each probability good to about 1e-6 against a Monte Carlo error in the thousandths.
# Smaller networks, every shipped scenario among them, draw in float64 as before.
SINGLE_PRECISION_FROM_CELLS = 2**16


def _sample(s: Structure, cells: np.ndarray, log_weights: np.ndarray, n_draws: int,
            rng: np.random.Generator, max_bytes: int) -> np.ndarray:
    """Joint states from one batch-last CPT column (n_cells, 1) and log-weights (n_states,)."""
    if log_weights.ndim != 1:
        raise ValueError("sampling takes one CPT, one weight vector and one mask")
    if s.sample_bytes() > max_bytes:
        raise TooLarge(s.sample_bytes(), max_bytes, s.treewidth)
    _p, log_z, beliefs = run(s, cells, log_weights[:, None], True, True)
    if not log_z[0] > -np.inf:
        raise ContradictoryEvidence("the evidence has probability zero: the hard conditions "
                                    "cannot all hold under these CPT entries")
    states = np.zeros((n_draws, s.n_nodes), dtype=np.uint8)
    for i in reversed(s.post_order):
        c = s.cliques[i]
        table = beliefs[i][:, 0].reshape(c.sep_cells, -1)
        key = np.zeros(n_draws, dtype=np.int64)
        for v, k in zip(c.vars[:c.sep], c.shape[:c.sep], strict=True):
            key = key * k + states[:, v]
        picked = _pick(np.cumsum(table, axis=1), key, rng)
        own = np.unravel_index(picked, c.shape[c.sep:])
        for v, x in zip(c.vars[c.sep:], own, strict=True):
            states[:, v] = x
    return states


def sample_joint(structure: Structure, cpt, state_log_weights=None, conditions=None,
                 n_draws: int = 1, rng: np.random.Generator | None = None, *,
                 max_bytes: int = DEFAULT_MAX_BYTES) -> np.ndarray:
    """Exact iid joint states x ~ P(x | evidence, cpt), shape (n_draws, n), uint8 state indices.

    Forward filtering, backward sampling on the junction tree: after calibration each
    clique's belief is the joint of its nodes given all the evidence; the root's nodes are
    drawn from its belief, then each clique's own nodes from its belief conditioned on the
    separator nodes already drawn (the tree's running intersection makes that the full
    conditional). Cost: n_draws times the clique sizes, never the joint state space."""
    s = structure
    rng = rng if rng is not None else np.random.default_rng()
    cpt = check_cpt(s, cpt)
    if cpt.ndim != 1:
        raise ValueError("sample_joint takes one CPT (n_cells,)")
    return _sample(s, cpt[:, None], state_evidence(s, state_log_weights, conditions),
                   n_draws, rng, max_bytes)


def sample_states(structure: Structure, theta, node_log_weights=None, conditions=None,
                  n_draws: int = 1, rng: np.random.Generator | None = None, *,
                  max_bytes: int = DEFAULT_MAX_BYTES) -> np.ndarray:
    """`sample_joint` for an all-binary network given theta (K,): states 0/1, 1 for yes."""
    s = structure
    rng = rng if rng is not None else np.random.default_rng()
    theta = check_theta(s, theta)
    if theta.ndim != 1:
        raise ValueError("sample_states takes one theta (K,), one weight vector and one mask")
    return _sample(s, binary_cells(theta[None]), binary_evidence(s, node_log_weights, conditions),
                   n_draws, rng, max_bytes)


def _pick(cum: np.ndarray, key: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """For each draw d, an index drawn from row key[d] of the (unnormalised) cumulative table:
    the first index whose cumulative weight reaches u * row total, u uniform in (0, 1]. An
    index of zero weight is never picked (its cumulative weight equals its predecessor's)."""
    u = 1.0 - rng.random(len(key))
    if cum.shape[1] == 1:
        return np.zeros(len(key), dtype=np.int64)
    if len(key) * cum.shape[1] <= 2**22:
        rows = cum[key]
        return (rows < (u * rows[:, -1])[:, None]).sum(axis=1)
    picked = np.empty(len(key), dtype=np.int64)
    for value in np.unique(key):
        at = np.flatnonzero(key == value)
        row = cum[value]
        picked[at] = np.searchsorted(row, u[at] * row[-1], side="left")
    return picked


def used_rows(structure: Structure, states) -> np.ndarray:
    """For joint states (D, n), the CPT row each node used: (D, n) indices into the rows."""
    s = structure
    states = np.asarray(states)
    rows = np.empty(states.shape, dtype=np.int64)
    for v, pa in enumerate(s.parents):
        strides = row_strides([s.cards[p] for p in pa])
        rows[:, v] = s.row_offsets[v] + states[:, list(pa)].astype(np.int64) @ strides
    return rows


def used_entries(structure: Structure, states) -> np.ndarray:
    """For joint states (D, n) of an all-binary network, the CPT entry each node used: (D, n)
    indices into theta (an entry is a row)."""
    return used_rows(structure, states)


def cell_counts(structure: Structure, states) -> np.ndarray:
    """For joint states (D, n): (D, n_cells) uint8, 1 in the cell each node used (its row,
    its state): the pseudo-observations a joint state makes, so that Dirichlet(concentration
    + counts) is each row's posterior given the state."""
    s = structure
    states = np.asarray(states)
    cells = s.row_cells[used_rows(s, states)] + states
    counts = np.zeros((states.shape[0], s.n_cells), dtype=np.uint8)
    counts[np.arange(states.shape[0])[:, None], cells] = 1
    return counts


def entry_counts(structure: Structure, states) -> tuple[np.ndarray, np.ndarray]:
    """For joint states (D, n) of an all-binary network: yes_counts and no_counts (D, K), 0/1
    per CPT entry: the one pseudo-observation each state makes of each entry it uses
    (Beta(a + yes, b + no) is then that entry's posterior given the state)."""
    counts = cell_counts(structure, states)
    return np.ascontiguousarray(counts[:, 1::2]), np.ascontiguousarray(counts[:, 0::2])


def _free_rows(s: Structure, concentration, fixed) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Checked (concentration, fixed, free row mask): each cell has exactly one of the two,
    a row is all free or all fixed, concentrations are positive and finite."""
    concentration = np.asarray(concentration, dtype=float)
    fixed = np.asarray(fixed, dtype=float)
    if concentration.shape != (s.n_cells,) or fixed.shape != (s.n_cells,):
        raise ValueError(f"concentration and fixed must each have shape ({s.n_cells},), not "
                         f"{concentration.shape} and {fixed.shape}")
    free = np.isnan(fixed)
    if (free == np.isnan(concentration)).any():
        raise ValueError("each CPT cell needs a concentration or a fixed value (the other NaN)")
    row_free = np.logical_and.reduceat(free, s.row_cells)
    if (row_free != np.logical_or.reduceat(free, s.row_cells)).any():
        raise ValueError("a CPT row is either free (Dirichlet) or fixed in every cell")
    if not (concentration[free] > 0).all() or not np.isfinite(concentration[free]).all():
        raise ValueError("concentrations must be positive and finite")
    return concentration, fixed, row_free


def draw_bytes(s: Structure, n_draws: int) -> int:
    """Peak working memory of `n_draws` conjugate draws: backward sampling's beliefs, then per
    draw its joint state and pseudo-counts (uint8), its CPT cells and the gamma draws'
    temporaries (float64, about three per cell)."""
    return s.sample_bytes() + n_draws * (s.n_nodes + s.n_cells * (1 + 8 + 3 * 8))


def _dirichlet(s: Structure, concentration, fixed, log_weights, n_draws, rng, max_bytes):
    if draw_bytes(s, n_draws) > max_bytes:
        raise DrawsTooLarge(draw_bytes(s, n_draws), max_bytes, s.treewidth, n_draws)
    concentration, fixed, row_free = _free_rows(s, concentration, fixed)
    two = s.row_cards == 2
    yes2 = s.row_cells[row_free & two] + 1            # binary free rows: the "yes" cell
    no2 = yes2 - 1
    many = np.flatnonzero(row_free & ~two)            # free rows of more states, side by side
    sizes = s.row_cards[many]
    k_starts = _offsets_within(sizes)
    k_row = np.repeat(np.arange(len(many)), sizes)
    k_cells = np.repeat(s.row_cells[many] - k_starts, sizes) + np.arange(int(sizes.sum()))
    means = fixed.copy()
    # binary rows exactly as the Beta recipe always did: the yes mean, and 1 - it
    means[yes2] = concentration[yes2] / (concentration[yes2] + concentration[no2])
    means[no2] = 1.0 - means[yes2]
    if len(many):
        a = concentration[k_cells]
        means[k_cells] = a / np.add.reduceat(a, k_starts)[k_row]
    check_cpt(s, means)
    states = _sample(s, means[:, None], log_weights, n_draws, rng, max_bytes)
    counts = cell_counts(s, states)
    cpt = np.broadcast_to(means, (n_draws, s.n_cells)).copy()
    draws = rng.beta(concentration[yes2] + counts[:, yes2], concentration[no2] + counts[:, no2])
    # numpy returns exactly 0.0 or 1.0 for tiny a or b: a Beta draw never is, and a 0 or 1
    # would turn into a hard zero the evidence may contradict
    cpt[:, yes2] = np.clip(draws, _TINY, _BELOW_ONE)
    cpt[:, no2] = 1.0 - cpt[:, yes2]
    if len(many):
        cpt[:, k_cells] = _dirichlet_rows(concentration[k_cells] + counts[:, k_cells], k_starts,
                                          rng)
    probs, _log_z = _batched(s, (n_draws,), lambda a, b: cpt[a:b].T, log_weights, max_bytes,
                             single=s.total_cells >= SINGLE_PRECISION_FROM_CELLS)
    return probs, cpt


def _offsets_within(sizes: np.ndarray) -> np.ndarray:
    return np.concatenate([[0], np.cumsum(sizes)[:-1]]).astype(np.int64)


def _dirichlet_rows(a: np.ndarray, starts: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Dirichlet(a) draws for rows laid side by side (D, cells), row r from starts[r]: gamma
    draws normalised per row, in log space (Gamma(a) = Gamma(a + 1) * U^(1/a)), so that small
    concentrations never leave a row of zeros; clipped away from exact 0 and 1."""
    log_g = np.log(rng.gamma(a + 1.0)) + np.log(1.0 - rng.random(a.shape)) / a
    sizes = np.diff(np.append(starts, a.shape[1]))
    row = np.repeat(np.arange(len(starts)), sizes)
    log_g -= np.maximum.reduceat(log_g, starts, axis=1)[:, row]
    g = np.exp(log_g)
    g /= np.add.reduceat(g, starts, axis=1)[:, row]
    return np.clip(g, _TINY, _BELOW_ONE)


def dirichlet_draws(structure: Structure, concentration, fixed, state_log_weights=None,
                    conditions=None, n_draws: int = 1000,
                    rng: np.random.Generator | None = None, *,
                    max_bytes: int = DEFAULT_MAX_BYTES) -> tuple[np.ndarray, np.ndarray]:
    """Exact iid posterior draws when every free CPT row has its own Dirichlet prior
    (`concentration`, NaN in fixed cells) and the other rows are fixed (`fixed`, NaN in free
    cells): joint states by backward sampling at the prior means, each free row from its
    Dirichlet updated by that state's pseudo-observation, then the marginals per draw.

    Two-state rows draw their "yes" cell by one `rng.beta` call over all of them (as
    `conjugate_draws` always has, so an all-binary network gives its draws for the same
    seed); rows of more states then draw by normalised gammas. Returns (probs (D, n_states),
    cpt (D, n_cells))."""
    s = structure
    rng = rng if rng is not None else np.random.default_rng()
    log_weights = state_evidence(s, state_log_weights, conditions)
    return _dirichlet(s, concentration, fixed, log_weights, n_draws, rng, max_bytes)


def conjugate_draws(structure: Structure, alpha, beta, fixed, node_log_weights=None,
                    conditions=None, n_draws: int = 1000,
                    rng: np.random.Generator | None = None, *,
                    max_bytes: int = DEFAULT_MAX_BYTES) -> tuple[np.ndarray, np.ndarray]:
    """`dirichlet_draws` for an all-binary network: every CPT entry has its own Beta(alpha,
    beta) prior (or is fixed where `fixed` is not NaN). Returns (p_yes (n_draws, n), theta
    (n_draws, K))."""
    s = structure
    rng = rng if rng is not None else np.random.default_rng()
    alpha, beta, fixed = (np.asarray(a, dtype=float) for a in (alpha, beta, fixed))
    check_theta(s, np.where(np.isnan(fixed), 0.5, fixed))
    free = np.isnan(fixed)
    concentration = np.stack([np.where(free, beta, np.nan), np.where(free, alpha, np.nan)], 1)
    cells = np.stack([1.0 - fixed, fixed], axis=1)
    log_weights = binary_evidence(s, node_log_weights, conditions)
    probs, cpt = _dirichlet(s, concentration.ravel(), cells.ravel(), log_weights, n_draws, rng,
                            max_bytes)
    return np.ascontiguousarray(probs[:, 1::2]), np.ascontiguousarray(cpt[:, 1::2])
