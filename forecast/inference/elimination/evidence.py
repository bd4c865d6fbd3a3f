"""The inputs of a call, checked and put in the kernel's one form: CPT cells (n_cells,) and a
log-weight per node-state (n_states,) that holds both soft evidence and hard conditions (-inf
for a ruled-out state). The binary API's theta, node weights and (n, 2) masks become the same
form here, so both APIs share one computation."""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np

from .structure import Structure

HARD_EXCLUDED = -1e12            # log-weight of a ruled-out state (exp() of it is exactly 0)
_ROW_SUM_TOLERANCE = 1e-6        # a CPT row must sum to 1 within this


def check_theta(s: Structure, theta) -> np.ndarray:
    """theta (..., K): P(yes | row) per CPT entry of an all-binary network."""
    if not s.is_binary:
        raise ValueError("theta describes binary nodes only: this network has nodes with more "
                         "than two states (use the state_* calls with CPT cells)")
    theta = np.asarray(theta, dtype=float)
    if theta.ndim == 0 or theta.shape[-1] != s.n_entries:
        raise ValueError(f"theta must have {s.n_entries} CPT entries on its last axis, "
                         f"not shape {theta.shape}")
    if not ((theta >= 0.0) & (theta <= 1.0)).all():
        raise ValueError("theta must lie in [0, 1] (no NaN)")
    return theta


def check_cpt(s: Structure, cpt) -> np.ndarray:
    """cpt (..., n_cells): cells in [0, 1], each row summing to 1."""
    cpt = np.asarray(cpt, dtype=float)
    if cpt.ndim == 0 or cpt.shape[-1] != s.n_cells:
        raise ValueError(f"cpt must have {s.n_cells} CPT cells on its last axis, "
                         f"not shape {cpt.shape}")
    if not ((cpt >= 0.0) & (cpt <= 1.0)).all():
        raise ValueError("CPT cells must lie in [0, 1] (no NaN)")
    sums = np.add.reduceat(cpt, s.row_cells, axis=-1)
    bad = np.abs(sums - 1.0) > _ROW_SUM_TOLERANCE
    if bad.any():
        row = int(np.flatnonzero(bad.reshape(-1, s.n_rows).any(axis=0))[0])
        raise ValueError(f"every CPT row must sum to 1: node {int(s.row_node[row])}, row "
                         f"{row - int(s.row_offsets[s.row_node[row]])} does not")
    return cpt


def binary_cells(theta: np.ndarray) -> np.ndarray:
    """theta (rows, K) as batch-last CPT cells (2K, rows): [1 - theta, theta] per entry."""
    cells = np.empty((theta.shape[1], 2, theta.shape[0]))
    np.subtract(1.0, theta.T, out=cells[:, 0])
    cells[:, 1] = theta.T
    return cells.reshape(-1, theta.shape[0])


def _exact_zeros(mask: np.ndarray) -> np.ndarray:
    if np.isnan(mask).any() or (mask == np.inf).any():
        raise ValueError("a conditions mask holds log-weights: no NaN and no +inf")
    # HARD_EXCLUDED (finite, so that other code can multiply it by 0) is an exact zero here:
    # in log space e^-1e12 would otherwise pass for a possible state
    return np.where(mask <= HARD_EXCLUDED, -np.inf, mask)


def binary_evidence(s: Structure, node_log_weights, conditions) -> np.ndarray:
    """The binary API's evidence as state log-weights (..., 2n): state "no" takes the mask,
    state "yes" the node's log-weight plus the mask."""
    n = s.n_nodes
    weights = np.zeros(n) if node_log_weights is None else np.asarray(node_log_weights, float)
    if weights.ndim == 0 or weights.shape[-1] != n:
        raise ValueError(f"node_log_weights must have {n} nodes on its last axis, "
                         f"not shape {weights.shape}")
    if not np.isfinite(weights).all():
        raise ValueError("node_log_weights must be finite (use conditions for hard evidence)")
    mask = _exact_zeros(condition_mask(n, conditions))
    batch = np.broadcast_shapes(weights.shape[:-1], mask.shape[:-2])
    out = np.empty(batch + (n, 2))
    out[..., 0] = mask[..., 0]
    out[..., 1] = weights + mask[..., 1]
    return out.reshape(batch + (2 * n,))


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


def state_condition_mask(s: Structure, conditions) -> np.ndarray:
    """Hard conditions as a log-mask over node-states (..., n_states): None (no condition), a
    dict {node index: state index}, or an array (..., n_states) passed through (0 allowed,
    HARD_EXCLUDED or -inf ruled out)."""
    if conditions is None:
        return np.zeros(s.n_states)
    if isinstance(conditions, Mapping):
        mask = np.zeros(s.n_states)
        for v, state in conditions.items():
            if not (0 <= int(v) < s.n_nodes and isinstance(state, int | np.integer)
                    and 0 <= int(state) < s.cards[int(v)]):
                raise ValueError(f"condition {v}: {state!r} must be node index: state index")
            v = int(v)
            first = int(s.state_offsets[v])
            mask[first:first + s.cards[v]] = HARD_EXCLUDED
            mask[first + int(state)] = 0.0
        return mask
    mask = np.asarray(conditions, dtype=float)
    if mask.ndim < 1 or mask.shape[-1] != s.n_states:
        raise ValueError(f"a conditions mask must have shape (..., {s.n_states}), "
                         f"not {mask.shape}")
    return mask


def state_evidence(s: Structure, state_log_weights, conditions) -> np.ndarray:
    """Soft evidence plus hard conditions as one log-weight per node-state (..., n_states)."""
    weights = (np.zeros(s.n_states) if state_log_weights is None
               else np.asarray(state_log_weights, float))
    if weights.ndim == 0 or weights.shape[-1] != s.n_states:
        raise ValueError(f"state_log_weights must have {s.n_states} node-states on its last "
                         f"axis, not shape {weights.shape}")
    if not np.isfinite(weights).all():
        raise ValueError("state_log_weights must be finite (use conditions for hard evidence)")
    return weights + _exact_zeros(state_condition_mask(s, conditions))
