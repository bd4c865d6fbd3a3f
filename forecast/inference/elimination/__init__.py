"""Exact inference on a network of discrete nodes (2 to 255 states each) by a junction tree:
the numerical kernel of the exact engine, in numpy alone, taking plain arrays (nothing from
the rest of the project).

Why a junction tree. Enumerating the joint states costs their number whatever the structure;
summing variables out in a good elimination order costs about n times the largest clique
table. The cliques of the elimination order, joined into a tree, let one collect pass (leaves
to root) give the probability of the evidence and one distribute pass (root to leaves) give
every node's marginal at once, for little more than twice the cost of a single elimination.

Why a `Structure`. The order, the tree and every reshape/transpose plan depend on the parents
and cards only. A backtest's replays, leave-one-out influence, what-ifs and value of
information change the CPT, the evidence weights or the hard conditions, never the parents:
they build one `Structure` and call the marginals many times, batched over rows.

The model. Node v has cards[v] states; `parents[v]` lists its parents in CPT row order (row
c = sum_j x[parents[v][j]] * stride_j, parents[0] fastest). The CPT is a flat vector of cells,
cell `cell_offsets[v] + c * cards[v] + x` = P(v = x | row c); soft evidence is a log-weight
per node-state and hard conditions a log-mask per node-state (HARD_EXCLUDED or below rules
the state out exactly) or a dict {node: state}:

    P(x | evidence, cpt) ∝ prod_v cpt_v(x_v | x_pa(v)) * exp(L[v, x_v] + mask[v, x_v]).

The binary API (theta = P(yes | row) per entry, a log-weight on "yes" per node, (n, 2) masks)
is the same computation on cells [1 - theta, theta], with the same numbers and draws as
before nodes had more than two states.

Numbers. Tables are products of numbers in [0, 1], each message rescaled by its largest entry
(its logarithm kept aside), so ordinary LRs, 0/1 hard conditions and cells near 0 or 1 stay in
float64 range. A row where a rescaling factor falls below 1e-280 (products of several
extreme numbers, where float64 could underflow) is computed again in log space, where nothing
underflows. A row whose evidence has probability exactly zero (contradictory hard conditions
with 0/1 CPT cells) raises `ContradictoryEvidence`, never returns NaN.

Memory. Tables have `Structure.cells` entries at most (the product of a clique's cards);
`Structure.peak_bytes(rows)` estimates the peak of a batch before anything is allocated, and
the marginals go through a batch in chunks under `max_bytes` (raising `TooLarge`, before any
big allocation, if one row alone does not fit).

API (all arrays plain numpy):

    s = build_structure(parents, cards)          # once per network structure
    s.treewidth, s.cells, s.peak_bytes(rows)     # sizes, before any big allocation
    probs, log_z = state_marginals(s, cpt, state_log_weights, conditions, max_bytes=...)
    families, log_z = family_marginals(s, cpt, state_log_weights, conditions)  # per CPT cell
    states = sample_joint(s, cpt, state_log_weights, conditions, n_draws, rng)
    counts = cell_counts(s, states)              # (D, n_cells) pseudo-observations
    probs, cpts = dirichlet_draws(s, concentration, fixed, weights, conditions, D, rng)
    probs = leave_out_marginals(s, cpt, full_weights, rows_weights, conditions, max_bytes=...)
    # binary networks: marginals, sample_states, entry_counts, used_entries, conjugate_draws

Tiny networks. Neighbouring cliques are merged while their union has at most 2^merge_up_to
cells (64 by default): fewer, larger tables mean fewer numpy calls, which is what a small
network's time is made of. A network of 64 joint states or fewer becomes one clique.

Modules: graph (moral graph, orders, elimination tree), factor (table index arithmetic),
structure (the compiled plans), evidence (inputs in one form), observed (hard evidence folded
into the tables), backends (linear and log-space arithmetic), calibrate (collect/distribute,
marginals), sample (backward sampling, draws), retract (leave-outs from one calibrated tree).
"""

from .calibrate import (
    DEFAULT_MAX_BYTES,
    ContradictoryEvidence,
    DrawsTooLarge,
    TooLarge,
    family_marginals,
    marginals,
    state_marginals,
)
from .evidence import HARD_EXCLUDED, condition_mask, state_condition_mask
from .retract import binary_leave_outs, leave_out_marginals
from .sample import (
    cell_counts,
    conjugate_draws,
    dirichlet_draws,
    draw_bytes,
    entry_counts,
    sample_joint,
    sample_states,
    used_entries,
    used_rows,
)
from .structure import MAX_CARD, Structure, build_structure

__all__ = ["DEFAULT_MAX_BYTES", "HARD_EXCLUDED", "MAX_CARD", "ContradictoryEvidence",
           "DrawsTooLarge", "Structure", "TooLarge", "binary_leave_outs", "build_structure",
           "cell_counts", "condition_mask", "conjugate_draws", "dirichlet_draws", "draw_bytes",
           "entry_counts", "family_marginals", "leave_out_marginals", "marginals", "sample_joint",
           "sample_states", "state_condition_mask", "state_marginals", "used_entries", "used_rows"]
