"""Backward sampling of joint states on a calibrated junction tree, the pseudo-observations
a joint state makes, and exact conjugate posterior draws."""

from __future__ import annotations

import numpy as np

from .calibrate import (
    DEFAULT_MAX_BYTES,
    ContradictoryEvidence,
    TooLarge,
    _check_theta,
    _evidence,
    _run,
    marginals,
)
from .structure import Structure


def sample_states(structure: Structure, theta, node_log_weights=None, conditions=None,
                  n_draws: int = 1, rng: np.random.Generator | None = None, *,
                  max_bytes: int = DEFAULT_MAX_BYTES) -> np.ndarray:
    """Exact iid joint states x ~ P(x | evidence, theta), shape (n_draws, n), uint8.

    Forward filtering, backward sampling on the junction tree: after calibration each
    clique's belief is the joint of its nodes given all the evidence; the root's nodes are
    drawn from its belief, then each clique's own nodes from its belief conditioned on the
    separator nodes already drawn (the tree's running intersection makes that the full
    conditional). Cost: n_draws times the clique sizes, never 2^n."""
    s = structure
    rng = rng if rng is not None else np.random.default_rng()
    theta = _check_theta(s, theta)
    mask0, weight1 = _evidence(s, node_log_weights, conditions)
    if theta.ndim != 1 or mask0.ndim != 1 or weight1.ndim != 1:
        raise ValueError("sample_states takes one theta (K,), one weight vector and one mask")
    if s.sample_bytes() > max_bytes:
        raise TooLarge(s.sample_bytes(), max_bytes, s.treewidth)
    _p, log_z, beliefs = _run(s, theta[None], mask0[None], weight1[None], True, True)
    if not log_z[0] > -np.inf:
        raise ContradictoryEvidence("the evidence has probability zero: the hard conditions "
                                    "cannot all hold under these CPT entries")
    states = np.zeros((n_draws, s.n_nodes), dtype=np.uint8)
    for i in reversed(s.post_order):
        c = s.cliques[i]
        w, sep = len(c.vars), c.sep
        table = beliefs[i][:, 0].reshape(2 ** sep, 2 ** (w - sep))
        key = np.zeros(n_draws, dtype=np.int64)
        for v in c.vars[:sep]:
            key = (key << 1) | states[:, v]
        picked = _pick(np.cumsum(table, axis=1), key, rng)
        for t, v in enumerate(c.vars[sep:]):
            states[:, v] = (picked >> (w - sep - 1 - t)) & 1
    return states


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


def used_entries(structure: Structure, states) -> np.ndarray:
    """For joint states (D, n), the CPT entry each node used: (D, n) indices into theta."""
    s = structure
    states = np.asarray(states)
    entries = np.empty(states.shape, dtype=np.int64)
    for v, pa in enumerate(s.parents):
        config = np.zeros(states.shape[0], dtype=np.int64)
        for j, p in enumerate(pa):
            config |= states[:, p].astype(np.int64) << j
        entries[:, v] = s.offsets[v] + config
    return entries


def entry_counts(structure: Structure, states) -> tuple[np.ndarray, np.ndarray]:
    """For joint states (D, n): yes_counts and no_counts (D, K), 0/1 per CPT entry: the one
    pseudo-observation each state makes of each entry it uses (Beta(a + yes, b + no) is
    then that entry's posterior given the state)."""
    s = structure
    states = np.asarray(states)
    entries = used_entries(s, states)
    rows = np.arange(states.shape[0])[:, None]
    yes = np.zeros((states.shape[0], s.n_entries), dtype=np.uint8)
    no = np.zeros_like(yes)
    yes[rows, entries] = states == 1
    no[rows, entries] = states == 0
    return yes, no


def conjugate_draws(structure: Structure, alpha, beta, fixed, node_log_weights=None,
                    conditions=None, n_draws: int = 1000,
                    rng: np.random.Generator | None = None, *,
                    max_bytes: int = DEFAULT_MAX_BYTES) -> tuple[np.ndarray, np.ndarray]:
    """Exact iid posterior draws when every CPT entry has its own Beta(alpha, beta) prior (or
    is fixed where `fixed` is not NaN): joint states by backward sampling at the prior means,
    each entry from its Beta updated by that state's pseudo-observation, then
    P(yes | evidence, entries) per draw. Returns (p_yes (n_draws, n), theta (n_draws, K))."""
    s = structure
    rng = rng if rng is not None else np.random.default_rng()
    alpha, beta, fixed = (np.asarray(a, dtype=float) for a in (alpha, beta, fixed))
    free = np.isnan(fixed)
    means = np.where(free, alpha / np.where(free, alpha + beta, 1.0), fixed)
    states = sample_states(s, means, node_log_weights, conditions, n_draws, rng,
                           max_bytes=max_bytes)
    yes, no = entry_counts(s, states)
    theta = np.broadcast_to(fixed, (n_draws, s.n_entries)).copy()
    draws = rng.beta(alpha[free] + yes[:, free], beta[free] + no[:, free])
    # numpy returns exactly 0.0 or 1.0 for tiny a or b: a Beta draw never is, and a 0 or 1
    # would turn into a hard zero the evidence may contradict
    theta[:, free] = np.clip(draws, np.finfo(float).tiny, 1.0 - np.finfo(float).epsneg)
    p_yes, _log_z = marginals(s, theta, node_log_weights, conditions, max_bytes=max_bytes)
    return p_yes, theta
