"""A network's parents and cards compiled once (`Structure`): the order, the junction tree and
every table plan that calls with new CPT cells, evidence or conditions reuse.

Flat layouts (the contract with the model layer): node v has rows_v = prod(cards[parents])
rows, row c = sum_j x[parents[v][j]] * stride_j (parents[0] fastest); its cells are rows times
states, cell `cell_offsets[v] + c * cards[v] + x`; its states are `state_offsets[v] + x` in a
vector of `n_states`; its first row is `row_offsets[v]` of `n_rows`. On binary nodes state 1 is
"yes", and a row is one CPT entry of the binary API (theta), so `offsets` = `row_offsets`."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

from .factor import broadcast_plan, cell_states, family_axes, reduction, row_strides
from .graph import (
    _bits,
    _check_acyclic,
    _elimination_tree,
    _greedy_order,
    _merge_tree,
    _moral_graph,
    cells_of,
)

SMALL_CLIQUE = 10       # cliques up to 2^this cells use precomputed gathers/matmuls
MAX_CARD = 255          # states per node: 2 to this (joint states are drawn as uint8)
_REPORT_TABLE_CELLS = 2**20  # a large clique reads its marginals through a state table up to
                             # this many cells of its reported nodes, else node by node


@dataclass(frozen=True)
class _Clique:
    vars: tuple[int, ...]        # axis order of this clique's tables (the batch axis last)
    shape: tuple[int, ...]       # the cards of vars
    cells: int                   # cells of its table: the product of shape
    parent: int                  # index of the parent clique, -1 for the root
    sep: int                     # the first `sep` vars are shared with the parent
    sep_cells: int               # cells of the separator table
    sep_sum: tuple               # (shape, axes): the PARENT's table reshaped and summed to
                                 # reach this separator (runs of axes merged: long loops)
    up_shape: tuple[int, ...]    # the separator message reshaped to broadcast in the parent
    children: tuple[int, ...]
    families: tuple[tuple[int, tuple[int, ...], tuple[int, ...]], ...]
    # (node, transpose of the family table (pa[-1], ..., pa[0], v, batch), broadcast shape)
    reports: tuple[int, ...]     # nodes whose marginal this clique reports
    bits: np.ndarray | None      # (cells, states of the reports): 1 where a reported node is
                                 # in that state (nodes in `reports` order, states in order);
                                 # for a large clique over its reported nodes' cells only
    gather: np.ndarray | None    # (families, cells) index of each cell's CPT cell in the flat
                                 # (n_cells,) family vector (small cliques only)
    report_sum: tuple | None     # (shape, axes) summing a large clique to its reported nodes
                                 # (then, without bits: their cards and each one's other axes)


@dataclass(frozen=True, eq=False)
class Structure:
    """The parents of a network, compiled once: elimination order, junction tree, and the
    table plans that every call with new CPT cells, evidence or conditions reuses.

    treewidth: largest clique size minus one, of the tree used (merging small cliques never
    enlarges the largest table, except that a network of at most 2^merge_up_to joint states
    is one clique); cells: entries of the largest clique table (the product of its cards);
    `peak_bytes(rows)` and `sample_bytes()` the working memory of the marginals and of
    backward sampling."""

    parents: tuple[tuple[int, ...], ...]
    cards: tuple[int, ...]
    order: tuple[int, ...]
    row_offsets: np.ndarray      # (n,) first row of each node
    cell_offsets: np.ndarray     # (n,) first CPT cell of each node
    state_offsets: np.ndarray    # (n,) first state of each node
    row_node: np.ndarray         # (n_rows,) node of each row
    row_cells: np.ndarray        # (n_rows,) first cell of each row
    row_cards: np.ndarray        # (n_rows,) states of each row's node
    cell_node: np.ndarray        # (n_cells,) node of each cell
    cell_state: np.ndarray       # (n_cells,) flat state index of each cell
    state_node: np.ndarray       # (n_states,) node of each state
    cliques: tuple[_Clique, ...] = field(repr=False)
    post_order: tuple[int, ...] = field(repr=False)   # children before parents; root last
    report_states: np.ndarray = field(repr=False)      # states in the order cliques report them
    total_cells: int = 0         # entries of all clique tables together
    separator_cells: int = 0     # entries of all separator messages together
    cells: int = 0               # entries of the largest clique table
    is_binary: bool = True       # every node has two states (the binary API applies)
    uniform_card: int = 0        # the one number of states of every node, 0 if they differ
    # the tree as compiled (node bitsets, tree parents) and its plan setting, from which
    # `observed.folded` re-plans the same tree with observed nodes down to one state
    clique_sets: tuple[int, ...] = field(default=(), repr=False)
    tree_parents: tuple[int, ...] = field(default=(), repr=False)
    small_clique: int = SMALL_CLIQUE
    folds: dict = field(default_factory=dict, repr=False)     # observed nodes -> Structure

    @property
    def n_nodes(self) -> int:
        return len(self.parents)

    @property
    def n_rows(self) -> int:
        return len(self.row_node)

    @property
    def n_cells(self) -> int:
        return len(self.cell_node)

    @property
    def n_states(self) -> int:
        return len(self.state_node)

    # the binary API's names: a row of a binary node is one CPT entry (P(yes | row))
    @property
    def offsets(self) -> np.ndarray:
        return self.row_offsets

    @property
    def entry_node(self) -> np.ndarray:
        return self.row_node

    @property
    def n_entries(self) -> int:
        return self.n_rows

    @property
    def largest_clique(self) -> int:
        return max(len(c.vars) for c in self.cliques)

    @property
    def treewidth(self) -> int:
        return self.largest_clique - 1

    def row_bytes(self, keep_tables: bool = False) -> int:
        """Working bytes per row: family tables, every separator message up and down, and
        either every clique table (kept from collect to distribute) or three of the largest
        (recomputed in distribute, the least memory the computation can take)."""
        tables = self.total_cells + self.cells if keep_tables else 3 * self.cells
        return 8 * (2 * self.n_cells + 2 * self.separator_cells + tables + 2 * self.n_states)

    def sample_bytes(self) -> int:
        """Estimated peak working memory of backward sampling (and so of the conjugate
        draws): the frugal row plus every clique's belief, kept for the backward pass."""
        return self.peak_bytes(1) + 8 * self.total_cells

    def peak_bytes(self, rows: int = 1) -> int:
        """Estimated peak working memory of the marginals for `rows` rows in one chunk, in
        the frugal mode (the marginals never go above max_bytes; they raise TooLarge when
        even one row does not fit)."""
        return rows * self.row_bytes(keep_tables=False)


def build_structure(parents: Sequence[Sequence[int]], cards: Sequence[int] | None = None,
                    merge_up_to: int = 6, small_clique: int = SMALL_CLIQUE) -> Structure:
    """Compile `parents` (a DAG, parent indices per node in CPT row order) and `cards` (states
    per node, 2 to MAX_CARD; None: every node binary).

    Two greedy orders are tried (min-fill with min-weight ties, and min-weight with min-fill
    ties); the one with the smaller largest table, then fewer total cells, is kept.
    merge_up_to: neighbouring cliques merge while their union has at most 2^merge_up_to
    cells (never past the largest clique, except that a network this small becomes one
    clique). small_clique: cliques up to 2^small_clique cells get precomputed gathers and
    state tables (fewer numpy calls); larger ones broadcast and reduce at call time."""
    parents = tuple(tuple(int(p) for p in pa) for pa in parents)
    n = len(parents)
    for v, pa in enumerate(parents):
        if len(set(pa)) != len(pa) or any(not 0 <= p < n or p == v for p in pa):
            raise ValueError(f"node {v}: parents {pa} must be distinct indices of other nodes")
    _check_acyclic(parents)
    if n == 0:
        raise ValueError("a network needs at least one node")
    cards = (2,) * n if cards is None else tuple(int(k) for k in cards)
    if len(cards) != n or any(not 2 <= k <= MAX_CARD for k in cards):
        raise ValueError(f"cards must give {n} numbers of states, each 2 to {MAX_CARD}")
    weigh = None if all(k == 2 for k in cards) else cards        # None: the binary fast path
    _key, order, cliques, tree_parent = _best_tree(_moral_graph(parents), weigh)
    cliques, tree_parent = _merge_tree(cliques, tree_parent, merge_up_to, weigh)
    return _plan(parents, cards, tuple(order), cliques, tree_parent, small_clique)


def _best_tree(adj: list[int], weigh: Sequence[int] | None, skip: frozenset[int] = frozenset()):
    """Of the two greedy orders (min-fill, min-weight), the one whose elimination tree has the
    smaller largest table, then fewer cells in all: (key, order, cliques, tree parents).
    `skip`: nodes left out of the order (isolated in `adj`: they join no clique)."""
    best = None
    for rule in ("fill", "weight"):
        order = [u for u in _greedy_order(adj, rule, weigh) if u not in skip]
        cliques, tree_parent = _elimination_tree(adj, order)
        sizes = [cells_of(c, weigh) for c in cliques]
        key = (max(sizes), sum(sizes))
        if best is None or key < best[0]:
            best = (key, order, cliques, tree_parent)
    return best


def _family_bits(v: int, parents: Sequence[int]) -> int:
    """Node v and its parents as a bitset."""
    family = 1 << v
    for p in parents:
        family |= 1 << p
    return family


def _smallest_holder(cliques: Sequence[int], bits: int, cards: Sequence[int]) -> int:
    """The index of the smallest clique (in cells; ties: the first) holding every node of
    `bits`."""
    return min((i for i, c in enumerate(cliques) if c & bits == bits),
               key=lambda i: (cells_of(cliques[i], cards), i))


def observed_out(s: Structure, observed: Sequence[int], merge_up_to: int = 6) -> Structure:
    """The network with the `observed` nodes down to one state, its tree triangulated again
    on the moral graph without them (as pyAgrum's LazyPropagation does with hard evidence):
    an observed node no longer joins its neighbours, so the cliques can be far smaller than
    the same tree with their axes dropped (bnlearn link with 72 nodes observed: 2^19 cells
    against 2^21; munin1 with 19: 3.6 million against 78 million). Each observed node then
    joins the clique that holds the rest of each family it belongs to (one state: no cells,
    and nothing to carry between cliques). Whichever tree has the smaller tables is kept."""
    hidden = {int(v) for v in observed}
    cards = [1 if v in hidden else k for v, k in enumerate(s.cards)]
    same = [cells_of(c, cards) for c in s.clique_sets]
    mask = 0
    for v in hidden:
        mask |= 1 << v
    adj = [0 if v in hidden else a & ~mask for v, a in enumerate(_moral_graph(s.parents))]
    best = _best_tree(adj, cards, frozenset(hidden)) if len(hidden) < s.n_nodes else None
    if best is None or best[0] >= (max(same), sum(same)):
        return replan(s, cards)
    _key, order, cliques, tree_parent = best
    cliques, tree_parent = _merge_tree(cliques, tree_parent, merge_up_to, cards)
    for v, pa in enumerate(s.parents):
        family = _family_bits(v, pa)
        cliques[_smallest_holder(cliques, family & ~mask, cards)] |= family & mask
    return _plan(s.parents, tuple(cards), tuple(order) + tuple(sorted(hidden)), cliques,
                 tree_parent, s.small_clique)


def replan(s: Structure, cards: Sequence[int]) -> Structure:
    """The same order and tree planned for other cards (1 for a node observed in one state:
    its axes vanish from every table)."""
    return _plan(s.parents, tuple(cards), s.order, list(s.clique_sets), list(s.tree_parents),
                 s.small_clique)


def _offsets(sizes) -> np.ndarray:
    return np.concatenate([[0], np.cumsum(sizes)[:-1]]).astype(np.int64)


def _plan(parents, cards, order, clique_sets: list[int], tree_parent: list[int],
          small_clique: int) -> Structure:
    n = len(parents)
    rows = [int(np.prod([cards[p] for p in pa], dtype=np.int64)) for pa in parents]
    row_offsets = _offsets(rows)
    cell_offsets = _offsets([r * k for r, k in zip(rows, cards, strict=True)])
    state_offsets = _offsets(cards)
    row_node = np.repeat(np.arange(n), rows)
    row_cells = cell_offsets[row_node] + (np.arange(len(row_node)) - row_offsets[row_node]) \
        * np.asarray(cards)[row_node]
    cell_node = np.repeat(np.arange(n), [r * k for r, k in zip(rows, cards, strict=True)])
    cell_state = state_offsets[cell_node] + (np.arange(len(cell_node)) - cell_offsets[cell_node]) \
        % np.asarray(cards)[cell_node]
    m = len(clique_sets)
    compiled = (tuple(clique_sets), tuple(tree_parent))
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
        home[_smallest_holder(clique_sets, _family_bits(v, pa), cards)].append(v)
    built = [_clique(i, var_order, tree_parent, children[i], home[i], parents, cards,
                     cell_offsets, small_clique) for i in range(m)]
    post_order = tuple(reversed(pre))
    report_states = np.array([state_offsets[v] + x for i in pre for v in built[i].reports
                              for x in range(cards[v])], dtype=np.int64)
    return Structure(parents=tuple(parents), cards=tuple(cards), order=order,
                     row_offsets=row_offsets, cell_offsets=cell_offsets,
                     state_offsets=state_offsets, row_node=row_node, row_cells=row_cells,
                     row_cards=np.asarray(cards, dtype=np.int64)[row_node],
                     cell_node=cell_node, cell_state=cell_state,
                     state_node=np.repeat(np.arange(n), cards), cliques=tuple(built),
                     post_order=post_order, report_states=report_states,
                     total_cells=sum(c.cells for c in built),
                     separator_cells=sum(c.sep_cells for c in built),
                     cells=max(c.cells for c in built), is_binary=all(k == 2 for k in cards),
                     uniform_card=cards[0] if len(set(cards)) == 1 else 0,
                     clique_sets=compiled[0], tree_parents=compiled[1],
                     small_clique=small_clique)


def _indicators(states: np.ndarray, columns: Sequence[int], cards: Sequence[int]) -> np.ndarray:
    """(cells, sum of cards): for each listed column (a reported node), one column per state,
    1.0 where the cell has the node in that state."""
    return np.concatenate([(states[:, a, None] == np.arange(k)[None, :]).astype(float)
                           for a, k in zip(columns, cards, strict=True)], axis=1)


def _clique(i, var_order, tree_parent, children, home, parents, cards, cell_offsets,
            small_clique) -> _Clique:
    """The plans of clique i: its axes, separator reductions, family gathers or transposes and
    the state tables its marginals are read with."""
    vars_i = var_order[i]
    shape = tuple(cards[v] for v in vars_i)
    where = {v: a for a, v in enumerate(vars_i)}
    p = tree_parent[i]
    sep = len(set(vars_i) & set(var_order[p])) if p >= 0 else 0
    sep_cells = int(np.prod(shape[:sep], dtype=np.int64))
    if p >= 0:
        parent_vars = var_order[p]
        sep_set = set(vars_i[:sep])
        sep_sum = reduction([v in sep_set for v in parent_vars], [cards[v] for v in parent_vars])
        up_shape = tuple(cards[v] if v in sep_set else 1 for v in parent_vars)
    else:
        sep_sum, up_shape = None, ()
    families = tuple((v, *broadcast_plan(family_axes(v, parents[v]), vars_i, cards))
                     for v in home)
    reports = tuple(sorted(home))
    report_cards = [cards[v] for v in reports]
    gather, bits, report_sum = None, None, None
    cells = int(np.prod(shape, dtype=np.int64))
    if cells <= 1 << small_clique:
        # small cliques: the potential is one gather from the flat family vector and one
        # product, and the marginals one matmul (few numpy calls: a small network's time)
        states = cell_states(shape)
        if reports:
            bits = _indicators(states, [where[v] for v in reports], report_cards)
            gather = np.stack([
                cell_offsets[v] + cards[v] * (states[:, [where[q] for q in parents[v]]]
                                              @ row_strides([cards[q] for q in parents[v]]))
                + states[:, where[v]] for v in home]).astype(np.intp)
    elif reports:
        # large cliques broadcast the family tables and sum per axis at call time (no
        # full-size index or state table); one pass sums the table to the reported nodes
        report_sum = reduction([v in home for v in vars_i], shape)
        in_order = [v for v in vars_i if v in home]
        in_cards = tuple(cards[v] for v in in_order)
        if np.prod(in_cards, dtype=np.int64) <= _REPORT_TABLE_CELLS:
            states = cell_states(in_cards)
            bits = _indicators(states, [in_order.index(v) for v in reports], report_cards)
        else:
            # too many reported states for a state table: each node by its own sum
            report_sum = (*report_sum, in_cards, tuple(
                tuple(a for a in range(len(in_order)) if a != in_order.index(v))
                for v in reports))
    return _Clique(vars=vars_i, shape=shape, cells=cells, parent=p, sep=sep, sep_cells=sep_cells,
                   sep_sum=sep_sum, up_shape=up_shape, children=tuple(children),
                   families=families, reports=reports, bits=bits, gather=gather,
                   report_sum=report_sum)
