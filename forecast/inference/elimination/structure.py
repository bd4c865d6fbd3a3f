"""A network's parents compiled once (`Structure`): the order, the junction tree and every
table plan that calls with new CPT entries, evidence or conditions reuse."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

from .factor import reduction
from .graph import _bits, _check_acyclic, _elimination_tree, _greedy_order, _merge_tree, _moral_graph

SMALL_CLIQUE = 10               # cliques up to this size use precomputed gathers/matmuls


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
                    small_clique: int = SMALL_CLIQUE) -> Structure:
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
            sep_sum = reduction([v in sep_set for v in parent_vars])
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
            report_sum = reduction([v in home[i] for v in vars_i])
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

