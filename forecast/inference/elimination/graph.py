"""The graph side of compilation: moral graph, greedy elimination orders, the elimination
tree of an order and the merging of its cliques. Node sets are Python int bitsets; `cards`
gives each node's number of states (None: every node binary, the fast path), and a clique's
weight is its number of table cells, the product of its nodes' cards."""

from __future__ import annotations

from collections.abc import Sequence

from ...model.structure import find_cycle


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


def cells_of(mask: int, cards: Sequence[int] | None) -> int:
    """Cells of a table over the nodes in `mask`: the product of their cards."""
    if cards is None:
        return 1 << mask.bit_count()
    size = 1
    for a in _bits(mask):
        size *= cards[a]
    return size


def _greedy_order(adj: list[int], rule: str, cards: Sequence[int] | None = None) -> list[int]:
    """Greedy elimination order on bitset adjacency. rule "fill": fewest fill-in edges, ties to
    the smaller clique (min-weight: the cells of u and its neighbours; on binary nodes the
    degree orders them the same), then the index. rule "weight": smallest clique first, ties
    to fewer fill-ins."""
    adj = list(adj)
    n = len(adj)
    remaining = (1 << n) - 1

    def key(u: int) -> tuple[int, int, int]:
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
        weight = degree if cards is None else cards[u] * cells_of(near, cards)
        return (fill, weight, u) if rule == "fill" else (weight, fill, u)

    # a node's key changes only when its neighbourhood or its neighbours' adjacency does:
    # after eliminating b, for b's neighbours and their neighbours; the others keep theirs
    keys = {u: key(u) for u in range(n)}
    order = []
    while keys:
        best = min(keys.values())[2]
        near = adj[best] & remaining
        rest = near
        while rest:
            low = rest & -rest
            a = low.bit_length() - 1
            adj[a] |= near & ~low
            rest ^= low
        remaining &= ~(1 << best)
        del keys[best]
        order.append(best)
        touched = near
        for a in _bits(near):
            touched |= adj[a]
        for u in _bits(touched & remaining):
            keys[u] = key(u)
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


def _merge_tree(cliques: list[int], tree_parent: list[int], merge_up_to: int,
                cards: Sequence[int] | None = None) -> tuple[list[int], list[int]]:
    """Contract tree edges where one clique contains the other (so only maximal cliques are
    left), then edges whose union has at most 2^merge_up_to cells (on binary nodes:
    `merge_up_to` nodes), for fewer numpy calls.
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

    largest = max(cells_of(c, cards) for c in cliques)
    everything = 0
    for c in cliques:
        everything |= c
    # merging never makes the largest table larger, except that a network of at most
    # 2^merge_up_to joint states becomes a single clique (enumeration: fastest when small)
    most = 1 << merge_up_to
    limit = most if cells_of(everything, cards) <= most else min(most, largest)
    for limit_rule in ("contain", "small"):
        changed = True
        while changed:
            changed = False
            for child in sorted(sets, key=lambda c: -cells_of(sets[c], cards)):
                p = parent.get(child, -1)
                if child not in sets or p < 0:
                    continue
                a, b = sets[child], sets[p]
                if limit_rule == "contain":
                    ok = (a & b) == a or (a & b) == b
                else:
                    ok = cells_of(a | b, cards) <= limit
                if ok:
                    contract(child, p)
                    changed = True
    keys = sorted(sets)
    index = {k: i for i, k in enumerate(keys)}
    return ([sets[k] for k in keys],
            [index[parent[k]] if parent[k] >= 0 else -1 for k in keys])




def _check_acyclic(parents: tuple[tuple[int, ...], ...]) -> None:
    """The scenario's one acyclicity check (model/structure.py), on node indices."""
    cycle = find_cycle(dict(enumerate(parents)))
    if cycle is not None:
        raise ValueError(f"the parents form a cycle through node {cycle[0]}")

