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

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np

__all__ = ["DEFAULT_MAX_BYTES", "HARD_EXCLUDED", "ContradictoryEvidence", "Structure", "TooLarge",
           "build_structure", "condition_mask", "conjugate_draws", "entry_counts", "marginals",
           "sample_states", "used_entries"]

HARD_EXCLUDED = -1e12            # log-weight of a ruled-out state (exp() of it is exactly 0)
DEFAULT_MAX_BYTES = 256 * 2**20  # working memory per call unless the caller says otherwise
_SMALL_CLIQUE = 10               # cliques up to this size use precomputed gathers/matmuls
_RESCUE_BELOW = 1e-280           # a rescaling factor below this sends the row to log space
_LOG_RESCUE_BELOW = float(np.log(_RESCUE_BELOW))
_TINY = np.finfo(float).tiny
_CHUNK_TARGET_BYTES = 24 * 2**20  # rows per chunk: enough to amortise numpy's per-call cost,
                                  # few enough that the working set stays near the caches


class ContradictoryEvidence(ValueError):
    """The evidence has probability zero under theta (hard conditions that 0/1 CPT entries or
    other hard conditions make impossible): no posterior exists."""


class TooLarge(ValueError):
    """One row of the computation needs more memory than the budget allows."""

    def __init__(self, needed_bytes: int, max_bytes: int, treewidth: int):
        self.needed_bytes, self.max_bytes, self.treewidth = needed_bytes, max_bytes, treewidth
        super().__init__(f"exact inference needs about {needed_bytes / 2**20:.0f} MiB "
                         f"(treewidth {treewidth}), over the budget of {max_bytes / 2**20:.0f} MiB")


# ----------------------------------------------------------------------------- structure

def _moral_graph(parents: Sequence[Sequence[int]]) -> list[int]:
    """Adjacency bitsets of the moral graph (a node, its parents and co-parents are joined)."""
    n = len(parents)
    adj = [0] * n
    for v, pa in enumerate(parents):
        family = [v, *pa]
        bits = 0
        for a in family:
            bits |= 1 << a
        for a in family:
            adj[a] |= bits & ~(1 << a)
    return adj


def _greedy_order(adj: list[int], rule: str) -> list[int]:
    """Greedy elimination order on bitset adjacency. rule "fill": fewest fill-in edges, ties to
    the smaller clique (min-weight: binary nodes, so weight is 2^(degree + 1)), then the index.
    rule "weight": smallest clique first, ties to fewer fill-ins."""
    adj = list(adj)
    n = len(adj)
    remaining = (1 << n) - 1
    alive = set(range(n))
    order = []
    while alive:
        best, best_key = -1, None
        for u in alive:
            near = adj[u] & remaining
            degree = near.bit_count()
            fill = 0
            if degree > 1:
                rest = near
                while rest:
                    low = rest & -rest
                    a = low.bit_length() - 1
                    fill += (near & ~adj[a] & ~low).bit_count()
                    rest ^= low
                fill //= 2
            key = (fill, degree, u) if rule == "fill" else (degree, fill, u)
            if best_key is None or key < best_key:
                best, best_key = u, key
        near = adj[best] & remaining
        rest = near
        while rest:
            low = rest & -rest
            a = low.bit_length() - 1
            adj[a] |= near & ~low
            rest ^= low
        remaining &= ~(1 << best)
        alive.remove(best)
        order.append(best)
    return order


def _bits(mask: int) -> list[int]:
    out = []
    while mask:
        low = mask & -mask
        out.append(low.bit_length() - 1)
        mask ^= low
    return out


def _elimination_tree(adj: list[int], order: list[int]) -> tuple[list[int], list[int]]:
    """Cliques {u} + neighbours(u) at u's elimination, and each one's parent: the clique of the
    neighbour eliminated next (-1 for a root). This tree has the running-intersection
    property: a node's cliques are connected."""
    adj = list(adj)
    n = len(adj)
    pos = {u: i for i, u in enumerate(order)}
    remaining = (1 << n) - 1
    cliques, tree_parent = [], []
    for u in order:
        near = adj[u] & remaining
        cliques.append(near | (1 << u))
        tree_parent.append(min((pos[a] for a in _bits(near)), default=-1))
        for a in _bits(near):
            adj[a] |= near & ~(1 << a)
        remaining &= ~(1 << u)
    return cliques, tree_parent


def _merge_tree(cliques: list[int], tree_parent: list[int], merge_up_to: int
                ) -> tuple[list[int], list[int]]:
    """Contract tree edges where one clique contains the other (so only maximal cliques are
    left), then edges whose union has at most `merge_up_to` nodes (fewer numpy calls).
    Contracting an edge of a junction tree leaves a junction tree."""
    sets = dict(enumerate(cliques))
    parent = dict(enumerate(tree_parent))
    # a forest (disconnected network) hangs from its first root by empty separators
    roots = [i for i, p in parent.items() if p < 0]
    for r in roots[1:]:
        parent[r] = roots[0]

    def contract(child: int, into: int) -> None:
        sets[into] |= sets.pop(child)
        for node, p in parent.items():
            if p == child:
                parent[node] = into
        del parent[child]

    largest = max(c.bit_count() for c in cliques)
    everything = 0
    for c in cliques:
        everything |= c
    # merging never makes the largest table larger, except that a network of at most
    # `merge_up_to` nodes becomes a single clique (enumeration: fastest when that small)
    limit = merge_up_to if everything.bit_count() <= merge_up_to else min(merge_up_to, largest)
    for limit_rule in ("contain", "small"):
        changed = True
        while changed:
            changed = False
            for child in sorted(sets, key=lambda c: -sets[c].bit_count()):
                p = parent.get(child, -1)
                if child not in sets or p < 0:
                    continue
                a, b = sets[child], sets[p]
                if limit_rule == "contain":
                    ok = (a & b) == a or (a & b) == b
                else:
                    ok = (a | b).bit_count() <= limit
                if ok:
                    contract(child, p)
                    changed = True
    keys = sorted(sets)
    index = {k: i for i, k in enumerate(keys)}
    return ([sets[k] for k in keys],
            [index[parent[k]] if parent[k] >= 0 else -1 for k in keys])


@dataclass(frozen=True)
class _Clique:
    vars: tuple[int, ...]        # axis order of this clique's tables (the batch axis last)
    parent: int                  # index of the parent clique, -1 for the root
    sep: int                     # the first `sep` vars are shared with the parent
    sep_sum: tuple               # (shape, axes): the PARENT's table reshaped and summed to
                                 # reach this separator (runs of axes merged: long loops)
    up_shape: tuple[int, ...]    # the separator message reshaped to broadcast in the parent
    children: tuple[int, ...]
    families: tuple[tuple[int, tuple[int, ...], tuple[int, ...]], ...]
    # (node, transpose of the family table (v, pa[k-1], ..., pa[0], batch), broadcast shape)
    reports: tuple[int, ...]     # nodes whose marginal this clique reports
    bits: np.ndarray | None      # (2^w, 2 * len(reports)): 1 where a reported node is yes,
                                 # then 1 where it is no; for a large clique over its
                                 # reported nodes only (2^len(reports) rows)
    gather: np.ndarray | None    # (families, 2^w) index of each cell's entry in the flat
                                 # (2K,) family vector: no entries first, then yes (small only)
    report_sum: tuple | None     # (shape, axes) summing a large clique to its reported nodes


@dataclass(frozen=True, eq=False)
class Structure:
    """The parents of a network, compiled once: elimination order, junction tree, and the
    table plans that every call with new theta, evidence or conditions reuses.

    treewidth: largest clique size minus one, of the tree used (merging small cliques never
    enlarges the largest, except that a network of at most `merge_up_to` nodes is one
    clique); cells: entries of the largest clique table (2^(treewidth+1)); `peak_bytes(rows)`
    and `sample_bytes()` the working memory of `marginals` and `sample_states`."""

    parents: tuple[tuple[int, ...], ...]
    order: tuple[int, ...]
    offsets: np.ndarray          # (n,) first CPT entry of each node
    entry_node: np.ndarray       # (K,) node of each CPT entry
    cliques: tuple[_Clique, ...] = field(repr=False)
    post_order: tuple[int, ...] = field(repr=False)   # children before parents; root last
    report_order: np.ndarray = field(repr=False)       # nodes in the order cliques report them
    total_cells: int = 0         # entries of all clique tables together
    separator_cells: int = 0     # entries of all separator messages together

    @property
    def n_nodes(self) -> int:
        return len(self.parents)

    @property
    def n_entries(self) -> int:
        return len(self.entry_node)

    @property
    def largest_clique(self) -> int:
        return max(len(c.vars) for c in self.cliques)

    @property
    def treewidth(self) -> int:
        return self.largest_clique - 1

    @property
    def cells(self) -> int:
        return 2 ** self.largest_clique

    def row_bytes(self, keep_tables: bool = False) -> int:
        """Working bytes per row: family tables, every separator message up and down, and
        either every clique table (kept from collect to distribute) or three of the largest
        (recomputed in distribute, the least memory the computation can take)."""
        tables = self.total_cells + self.cells if keep_tables else 3 * self.cells
        return 8 * (4 * self.n_entries + 2 * self.separator_cells + tables + 4 * self.n_nodes)

    def sample_bytes(self) -> int:
        """Estimated peak working memory of `sample_states` (and so of `conjugate_draws`):
        the frugal row plus every clique's belief, kept for the backward pass."""
        return self.peak_bytes(1) + 8 * self.total_cells

    def peak_bytes(self, rows: int = 1) -> int:
        """Estimated peak working memory of `marginals` for `rows` rows in one chunk, in the
        frugal mode (`marginals` never goes above max_bytes; it raises TooLarge when even
        one row does not fit)."""
        return rows * self.row_bytes(keep_tables=False)


def build_structure(parents: Sequence[Sequence[int]], merge_up_to: int = 6,
                    small_clique: int = _SMALL_CLIQUE) -> Structure:
    """Compile `parents` (a DAG, parent indices per node in CPT bit order).

    Two greedy orders are tried (min-fill with min-weight ties, and min-weight with min-fill
    ties); the one with the smaller largest clique, then fewer total cells, is kept.
    merge_up_to: neighbouring cliques merge while their union has at most this many nodes
    (never past the largest clique, except that a network this small becomes one clique).
    small_clique: cliques up to this size get precomputed gathers and bit tables (fewer
    numpy calls); larger ones broadcast and reduce at call time (no 2^w plans stored)."""
    parents = tuple(tuple(int(p) for p in pa) for pa in parents)
    n = len(parents)
    for v, pa in enumerate(parents):
        if len(set(pa)) != len(pa) or any(not 0 <= p < n or p == v for p in pa):
            raise ValueError(f"node {v}: parents {pa} must be distinct indices of other nodes")
    _check_acyclic(parents)
    if n == 0:
        raise ValueError("a network needs at least one node")
    adj = _moral_graph(parents)
    best = None
    for rule in ("fill", "weight"):
        order = _greedy_order(adj, rule)
        cliques, tree_parent = _elimination_tree(adj, order)
        key = (max(c.bit_count() for c in cliques), sum(2 ** c.bit_count() for c in cliques))
        if best is None or key < best[0]:
            best = (key, order, cliques, tree_parent)
    _key, order, cliques, tree_parent = best
    cliques, tree_parent = _merge_tree(cliques, tree_parent, merge_up_to)
    return _plan(parents, tuple(order), cliques, tree_parent, small_clique)


def _check_acyclic(parents: tuple[tuple[int, ...], ...]) -> None:
    state = [0] * len(parents)          # 0 new, 1 on the stack, 2 done
    for start in range(len(parents)):
        stack = [(start, iter(parents[start]))]
        if state[start]:
            continue
        state[start] = 1
        while stack:
            node, it = stack[-1]
            nxt = next(it, None)
            if nxt is None:
                state[node] = 2
                stack.pop()
            elif state[nxt] == 1:
                raise ValueError(f"the parents form a cycle through node {nxt}")
            elif state[nxt] == 0:
                state[nxt] = 1
                stack.append((nxt, iter(parents[nxt])))


def _reduction(keep: list[bool]) -> tuple[tuple[int, ...], tuple[int, ...]]:
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


def _plan(parents, order, clique_sets: list[int], tree_parent: list[int],
          small_clique: int) -> Structure:
    n = len(parents)
    sizes = [2 ** len(pa) for pa in parents]
    offsets = np.concatenate([[0], np.cumsum(sizes)[:-1]]).astype(np.int64)
    entry_node = np.repeat(np.arange(n), sizes)
    n_entries = int(sum(sizes))
    m = len(clique_sets)
    roots = [i for i in range(m) if tree_parent[i] < 0]
    # A forest (disconnected network) hangs from the first root by empty separators.
    for r in roots[1:]:
        tree_parent[r] = roots[0]
    root = roots[0]
    children = [[] for _ in range(m)]
    for i, p in enumerate(tree_parent):
        if p >= 0:
            children[p].append(i)
    pre = [root]
    for i in pre:
        pre.extend(children[i])
    # Axis order: the root's nodes sorted; a child's separator nodes first, in the parent's
    # order (so messages need no transpose, only a reshape), then its own nodes sorted.
    var_order: dict[int, tuple[int, ...]] = {root: tuple(_bits(clique_sets[root]))}
    for i in pre[1:]:
        p = tree_parent[i]
        shared = clique_sets[i] & clique_sets[p]
        sep_vars = tuple(v for v in var_order[p] if shared >> v & 1)
        var_order[i] = sep_vars + tuple(_bits(clique_sets[i] & ~shared))
    # Each family goes to the smallest clique holding it; each node reports from there too.
    home: dict[int, list[int]] = {i: [] for i in range(m)}
    for v, pa in enumerate(parents):
        family = 1 << v
        for p in pa:
            family |= 1 << p
        holders = [i for i in range(m) if clique_sets[i] & family == family]
        home[min(holders, key=lambda i: (clique_sets[i].bit_count(), i))].append(v)
    built = []
    for i in range(m):
        vars_i = var_order[i]
        where = {v: a for a, v in enumerate(vars_i)}
        p = tree_parent[i]
        sep = (clique_sets[i] & clique_sets[p]).bit_count() if p >= 0 else 0
        if p >= 0:
            parent_vars = var_order[p]
            sep_set = set(vars_i[:sep])
            sep_sum = _reduction([v in sep_set for v in parent_vars])
            up_shape = tuple(2 if v in sep_set else 1 for v in parent_vars)
        else:
            sep_sum, up_shape = None, ()
        families = []
        for v in home[i]:
            src = [v, *reversed(parents[v])]
            positions = [where[u] for u in src]
            perm = tuple(int(a) for a in np.argsort(positions))
            shape = tuple(2 if u in src else 1 for u in vars_i)
            families.append((v, (*perm, len(src)), shape))
        reports = tuple(sorted(home[i]))
        w = len(vars_i)
        gather, bits, report_sum = None, None, None
        if w > small_clique and reports:
            # large cliques: one pass sums the table to the reported nodes, then a matmul
            report_sum = _reduction([v in home[i] for v in vars_i])
            r = len(reports)
            states = (np.arange(2**r)[:, None] >> np.arange(r - 1, -1, -1)[None, :]) & 1
            in_order = [v for v in vars_i if v in home[i]]
            yes = states[:, [in_order.index(v) for v in reports]].astype(float)
            bits = np.concatenate([yes, 1.0 - yes], axis=1)
        if w <= small_clique:
            # small cliques: the potential is one gather from the flat family vector and one
            # product, and the marginals one matmul (few numpy calls: a small network's time)
            states = (np.arange(2**w)[:, None] >> np.arange(w - 1, -1, -1)[None, :]) & 1
            yes = states[:, [where[v] for v in reports]].astype(float)
            bits = np.concatenate([yes, 1.0 - yes], axis=1)
            if home[i]:
                gather = np.stack([
                    states[:, where[v]] * n_entries + offsets[v]
                    + sum(states[:, where[q]] << j for j, q in enumerate(parents[v]))
                    for v in home[i]]).astype(np.intp)
        # large cliques broadcast the family tables and sum per axis at call time: no
        # 2^w-row index or bit table is built here
        built.append(_Clique(vars=vars_i, parent=p, sep=sep, sep_sum=sep_sum,
                             up_shape=up_shape, children=tuple(children[i]),
                             families=tuple(families), reports=reports, bits=bits,
                             gather=gather, report_sum=report_sum))
    post_order = tuple(reversed(pre))
    report_order = np.array([v for i in reversed(post_order) for v in built[i].reports])
    return Structure(parents=tuple(parents), order=order, offsets=offsets,
                     entry_node=entry_node, cliques=tuple(built), post_order=post_order,
                     report_order=report_order,
                     total_cells=sum(2 ** len(c.vars) for c in built),
                     separator_cells=sum(2 ** c.sep for c in built))


# ----------------------------------------------------------------------------- arithmetic
#
# Tables keep the batch axis LAST: (2, ..., 2, rows). numpy's inner loops then run over the
# rows, contiguous, instead of over axes of length 2 (ten times faster on a batch).

class _Linear:
    """Products and sums of rescaled probabilities (in place where the table is our own)."""
    log_space = False

    @staticmethod
    def families(s: Structure, theta, mask0, weight1):
        """Per-entry tables (2, K, rows): [1 - theta, theta] times the evidence weights of
        the entry's node, each node's table divided by its largest entry. Returns them, the
        log of the factors taken out (rows,), and the rows to redo in log space."""
        top = np.maximum(mask0, weight1)                             # (n, rows)
        finite_top = np.where(np.isfinite(top), top, 0.0)
        w0 = np.exp(mask0 - finite_top)
        w1 = np.exp(weight1 - finite_top)
        node = s.entry_node
        table = np.empty((2,) + theta.shape)
        np.multiply(1.0 - theta, w0[node], out=table[0])
        np.multiply(theta, w1[node], out=table[1])
        peak = np.maximum.reduceat(np.maximum(table[0], table[1]), s.offsets, axis=0)
        rescue = ~(peak >= _RESCUE_BELOW).all(axis=0) | ~np.isfinite(top).all(axis=0)
        safe = np.where(peak > 0, peak, 1.0)
        table /= safe[node]
        log_scale = (finite_top + np.log(safe)).sum(axis=0)
        return table, log_scale, rescue

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
        return table.reshape(size, -1, table.shape[-1]).sum(axis=1)

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
        """log of the factors taken out, and the rows where one fell below _RESCUE_BELOW."""
        if not tops:
            return 0.0, False
        tops = np.stack(tops)
        return np.log(tops).sum(axis=0), ~(tops.min(axis=0) >= _RESCUE_BELOW)

    @staticmethod
    def divide(new, old):
        """new / old on a separator. Where old is 0, new is exactly 0 too (it was summed
        from products holding that 0), so flooring old at the smallest normal float gives 0
        there; below that floor both are negligible next to the belief's total (~1)."""
        return new / np.maximum(old, _TINY)

    @staticmethod
    def normalise(table2d):
        """Divide in place by the total per row; returns the table and the total."""
        total = table2d.sum(axis=0)
        table2d /= total
        return table2d, total

    log = staticmethod(np.log)


class _Log:
    """The same operations on logarithms: slower, but nothing underflows. -inf is an exact
    zero; it never meets +inf, so no NaN arises."""
    log_space = True

    @staticmethod
    def families(s: Structure, theta, mask0, weight1):
        node = s.entry_node
        table = np.empty((2,) + theta.shape)
        with np.errstate(divide="ignore"):
            table[0] = np.log1p(-theta) + mask0[node]
            table[1] = np.log(theta) + weight1[node]
        rows = theta.shape[1]
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


def _calibrate(s: Structure, theta, mask0, weight1, ops, keep_tables: bool,
               want_beliefs: bool = False):
    """Collect (leaves to root: each clique's potential times its children's messages, summed
    to the separator) then distribute (root to leaves: each clique's belief, summed to a
    child's separator and divided by that child's upward message).

    Inputs are batch-last: theta (K, rows), mask0 and weight1 (n, rows). Returns P(yes)
    (n, rows), log Z (rows,), the rows to redo in log space, and if asked every clique's
    normalised belief (2^w, rows) in linear space."""
    with np.errstate(divide="ignore", under="ignore", invalid="ignore"):
        return _calibrate_quiet(s, theta, mask0, weight1, ops, keep_tables, want_beliefs)


def _calibrate_quiet(s, theta, mask0, weight1, ops, keep_tables, want_beliefs):
    rows = theta.shape[-1]
    fam, log_z, rescue = ops.families(s, theta, mask0, weight1)
    flat = fam.reshape(2 * s.n_entries, rows)
    cl = s.cliques
    up: dict[int, np.ndarray] = {}

    def potential(i: int) -> np.ndarray:
        c = cl[i]
        full = (2,) * len(c.vars) + (rows,)
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
            k = len(s.parents[v])
            off = int(s.offsets[v])
            f = fam[:, off:off + 2**k].reshape((2,) * (k + 1) + (rows,))
            factors.append(f.transpose(perm).reshape(shape + (rows,)))
        return _product(ops, factors, full)

    kept: dict[int, np.ndarray] = {}
    tops = []
    for i in s.post_order:
        c = cl[i]
        table = potential(i)
        if keep_tables or c.parent < 0:
            kept[i] = table
        if c.parent >= 0:
            up[i], top = ops.rescale(ops.sum_to(table, 2 ** c.sep))
            tops.append(top)
    scale, bad = ops.scales(tops)
    log_z = log_z + scale
    rescue |= bad

    yes_no = []                                  # per clique (2 * reports, rows): yes, then no
    beliefs: dict[int, np.ndarray] = {}
    down: dict[int, np.ndarray] = {}
    for i in reversed(s.post_order):
        c = cl[i]
        table = kept.pop(i) if i in kept else potential(i)
        w = len(c.vars)
        if c.parent >= 0:
            msg = down.pop(i).reshape((2,) * c.sep + (1,) * (w - c.sep) + (rows,))
            table = ops.mul(table, msg)      # the table is this call's own: written in place
        belief, total = ops.normalise(table.reshape(2**w, rows))
        del table
        if c.parent < 0:
            log_total = ops.log(total)
            log_z = log_z + log_total
            if not ops.log_space:
                rescue |= ~(log_total >= _LOG_RESCUE_BELOW)
        if c.report_sum is not None:
            shape, axes = c.report_sum
            small = belief.reshape(shape + (rows,)).sum(axis=axes)
            yes_no.append(c.bits.T @ small.reshape(-1, rows))
        elif c.reports:
            yes_no.append(c.bits.T @ belief)
        if want_beliefs:
            beliefs[i] = belief
        for j in c.children:
            shape, axes = cl[j].sep_sum
            new = belief.reshape(shape + (rows,))
            new = (new.sum(axis=axes) if axes else new).reshape(2 ** cl[j].sep, rows)
            if ops.log_space:
                new = np.log(new)
            down[j] = ops.divide(new, up.pop(j))
    # yes / (yes + no), not yes / total: a conditioned node comes out exactly 0 or 1
    yes = np.concatenate([b[:len(b) // 2] for b in yes_no])
    no = np.concatenate([b[len(b) // 2:] for b in yes_no])
    p_yes = np.empty((s.n_nodes, rows))
    p_yes[s.report_order] = yes / np.maximum(yes + no, 1e-300)
    return p_yes, log_z, rescue, beliefs


def _product(ops, factors: list[np.ndarray], full: tuple[int, ...]) -> np.ndarray:
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


# ----------------------------------------------------------------------------- public calls

def _check_theta(s: Structure, theta) -> np.ndarray:
    theta = np.asarray(theta, dtype=float)
    if theta.ndim == 0 or theta.shape[-1] != s.n_entries:
        raise ValueError(f"theta must have {s.n_entries} CPT entries on its last axis, "
                         f"not shape {theta.shape}")
    if not ((theta >= 0.0) & (theta <= 1.0)).all():
        raise ValueError("theta must lie in [0, 1] (no NaN)")
    return theta


def _evidence(s: Structure, node_log_weights, conditions) -> tuple[np.ndarray, np.ndarray]:
    """(mask0, weight1), each (..., n): the log-weight of x_v = no, and of x_v = yes."""
    n = s.n_nodes
    weights = np.zeros(n) if node_log_weights is None else np.asarray(node_log_weights, float)
    if weights.ndim == 0 or weights.shape[-1] != n:
        raise ValueError(f"node_log_weights must have {n} nodes on its last axis, "
                         f"not shape {weights.shape}")
    if not np.isfinite(weights).all():
        raise ValueError("node_log_weights must be finite (use conditions for hard evidence)")
    mask = condition_mask(n, conditions)
    if np.isnan(mask).any() or (mask == np.inf).any():
        raise ValueError("a conditions mask holds log-weights: no NaN and no +inf")
    # HARD_EXCLUDED (finite, so that other code can multiply it by 0) is an exact zero here:
    # in log space e^-1e12 would otherwise pass for a possible state
    mask = np.where(mask <= HARD_EXCLUDED, -np.inf, mask)
    return mask[..., 0], weights + mask[..., 1]


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


def _chunking(s: Structure, total: int, max_bytes: int) -> tuple[int, bool]:
    """Rows per chunk and whether clique tables are kept between the two passes."""
    frugal = s.row_bytes(keep_tables=False)
    if frugal > max_bytes:
        raise TooLarge(frugal, max_bytes, s.treewidth)
    keep = s.row_bytes(keep_tables=True)
    rows = min(total, max(1, _CHUNK_TARGET_BYTES // keep), max_bytes // keep)
    if rows >= min(total, 8):
        return max(rows, 1), True
    return max(1, min(total, max(1, _CHUNK_TARGET_BYTES // frugal), max_bytes // frugal)), False


def _take(array: np.ndarray, batch: tuple[int, ...], start: int, stop: int) -> np.ndarray:
    """Rows start:stop of `array` broadcast to batch + its last axis, flattened: a copy of the
    chunk only (never of the whole broadcast batch)."""
    wide = np.broadcast_to(array, batch + array.shape[-1:])
    if not batch:
        return wide[None]
    if len(batch) == 1:
        return wide[start:stop]
    return wide[np.unravel_index(np.arange(start, stop), batch)]


def _run(s: Structure, theta, mask0, weight1, keep: bool, want_beliefs: bool = False):
    """Linear-space calibration, with the rows that need it redone in log space. Takes rows
    first (rows, K), (rows, n); returns p_yes (rows, n), log_z (rows,), beliefs (2^w, rows)."""
    theta, mask0, weight1 = (np.ascontiguousarray(a.T) for a in (theta, mask0, weight1))
    p_yes, log_z, rescue, beliefs = _calibrate(s, theta, mask0, weight1, _Linear, keep,
                                               want_beliefs)
    if rescue.all():
        beliefs.clear()              # free the linear tables before the log-space pass
        p_yes, log_z, _r, beliefs = _calibrate(s, theta, mask0, weight1, _Log, False,
                                               want_beliefs)
    elif rescue.any():
        redo = np.flatnonzero(rescue)
        p2, z2, _r, b2 = _calibrate(s, theta[:, redo], mask0[:, redo], weight1[:, redo], _Log,
                                    False, want_beliefs)
        p_yes[:, redo], log_z[redo] = p2, z2
        for i, b in b2.items():
            beliefs[i][:, redo] = b
    return p_yes.T, log_z, beliefs


def marginals(structure: Structure, theta, node_log_weights=None, conditions=None, *,
              max_bytes: int = DEFAULT_MAX_BYTES) -> tuple[np.ndarray, np.ndarray]:
    """Exact P(node = yes | evidence, theta) for every node, and log P(evidence | theta).

    theta (..., K), node_log_weights (..., n) and a conditions mask (..., n, 2) broadcast
    against each other over their leading axes; the result is p_yes (batch..., n) and
    log_z (batch...) (log_z counts the soft weights and the mask as factors). Rows are
    processed in chunks under `max_bytes`. Raises TooLarge if one row alone does not fit,
    ContradictoryEvidence if some row's evidence has probability zero."""
    s = structure
    theta = _check_theta(s, theta)
    mask0, weight1 = _evidence(s, node_log_weights, conditions)
    batch = np.broadcast_shapes(theta.shape[:-1], mask0.shape[:-1], weight1.shape[:-1])
    total = int(np.prod(batch, dtype=np.int64))
    rows, keep = _chunking(s, max(total, 1), max_bytes)
    p_yes = np.empty((total, s.n_nodes))
    log_z = np.empty(total)
    for start in range(0, total, rows):
        stop = min(total, start + rows)
        p, z, _b = _run(s, _take(theta, batch, start, stop), _take(mask0, batch, start, stop),
                        _take(weight1, batch, start, stop), keep)
        p_yes[start:stop], log_z[start:stop] = p, z
    impossible = ~(log_z > -np.inf)
    if impossible.any():
        first = np.unravel_index(int(np.flatnonzero(impossible)[0]), batch) if batch else ()
        raise ContradictoryEvidence(
            "the evidence has probability zero: the hard conditions cannot all hold under "
            f"these CPT entries (first impossible batch row {tuple(int(i) for i in first)})")
    np.clip(p_yes, 0.0, 1.0, out=p_yes)
    return p_yes.reshape(batch + (s.n_nodes,)), log_z.reshape(batch)


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
