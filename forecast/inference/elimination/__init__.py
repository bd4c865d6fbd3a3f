"""Exact inference on a network of binary nodes by a junction tree: the numerical kernel of
the exact engine, in numpy alone, taking plain arrays (nothing from the rest of the project).

Why a junction tree. Enumerating the 2^n joint states costs 2^n whatever the structure; summing
variables out in a good elimination order costs about n * 2^(treewidth + 1). The cliques of the
elimination order, joined into a tree, let one collect pass (leaves to root) give the
probability of the evidence and one distribute pass (root to leaves) give every node's
marginal at once, for little more than twice the cost of a single elimination.

Why a `Structure`. The order, the tree and every reshape/transpose plan depend on the parents
only. A backtest's replays, leave-one-out influence, what-ifs and value of information change
theta, the evidence weights or the hard conditions, never the parents: they build one
`Structure` and call `marginals` many times, batched over rows of theta and/or weights.

The model. n binary nodes; `parents[v]` lists node v's parents in CPT bit order: entry
`offsets[v] + c` of theta is P(v = yes | parent configuration c), bit j of c being the state of
`parents[v][j]`. Soft evidence multiplies each joint state with v = yes by exp(L[v]); hard
conditions are an (n, 2) log-mask (column b is 0 where state b is allowed, very negative or
-inf where it is ruled out; HARD_EXCLUDED or below counts as an exact zero) or a dict
{node: 0/1}. So

    P(x | evidence, theta) ∝ prod_v theta_v(x_v | x_pa(v)) * exp(x_v L_v + mask[v, x_v]).

Numbers. Tables are products of numbers in [0, 1], each message rescaled by its largest entry
(its logarithm kept aside), so ordinary LRs, 0/1 hard conditions and theta near 0 or 1 stay in
float64 range. A row where a rescaling factor falls below 1e-280 (products of several
extreme numbers, where float64 could underflow) is computed again in log space, where nothing
underflows. A row whose evidence has probability exactly zero (contradictory hard conditions
with 0/1 CPT entries) raises `ContradictoryEvidence`, never returns NaN.

Memory. Tables have `Structure.cells` entries at most; `Structure.peak_bytes(rows)` estimates
the peak of a batch before anything is allocated, and `marginals` processes a batch in chunks
under `max_bytes` (raising `TooLarge`, before any big allocation, if one row alone does not
fit), so a caller applies its budget by reading the structure or by catching the error.

API (all arrays plain numpy; K CPT entries, n nodes):

    s = build_structure(parents)                 # once per network structure
    s.treewidth, s.cells, s.peak_bytes(rows)     # sizes, before any big allocation
    s.sample_bytes()                             # the same for sample_states / conjugate_draws
    p_yes, log_z = marginals(s, theta, node_log_weights, conditions, max_bytes=...)
    states = sample_states(s, theta, node_log_weights, conditions, n_draws, rng)
    yes, no = entry_counts(s, states)            # (D, K) pseudo-observations per entry
    p_draws, theta_draws = conjugate_draws(s, alpha, beta, fixed, weights, conditions, D, rng)

Tiny networks. Neighbouring cliques are merged while their union has at most `merge_up_to`
nodes (6 by default): fewer, larger tables mean fewer numpy calls, which is what a small
network's time is made of. A network of 6 nodes or fewer becomes one clique: enumeration.
"""

from .calibrate import (
                        DEFAULT_MAX_BYTES,
                        HARD_EXCLUDED,
                        ContradictoryEvidence,
                        TooLarge,
                        condition_mask,
                        marginals,
)
from .sample import conjugate_draws, entry_counts, sample_states, used_entries
from .structure import Structure, build_structure

__all__ = ["DEFAULT_MAX_BYTES", "HARD_EXCLUDED", "ContradictoryEvidence", "Structure", "TooLarge",
           "build_structure", "condition_mask", "conjugate_draws", "entry_counts", "marginals",
           "sample_states", "used_entries"]
