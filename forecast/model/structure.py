"""A scenario's graph as numbers: parent configurations as indices, and the check that the
parents form no cycle. The one place both are written: the priors reader, the exact engine and
the tables of other tools count configurations the same way, first parent fastest.

Configuration c gives parent j the state index (c // stride_j) % card_j, with stride_1 = 1 and
stride_{j+1} = stride_j * card_j (on a yes/no parent, index 1 is yes).
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Hashable, Iterator, Mapping, Sequence


def n_configurations(cards: Sequence[int]) -> int:
    """How many parent configurations (CPT rows) parents with these cards have."""
    return math.prod(cards)


def configuration(indices: Sequence[int], cards: Sequence[int]) -> int:
    """The configuration index of the parents' state indices, first parent fastest."""
    config, stride = 0, 1
    for index, card in zip(indices, cards, strict=True):
        config += index * stride
        stride *= card
    return config


def configuration_states(config: int, cards: Sequence[int]) -> tuple[int, ...]:
    """The parents' state indices of configuration `config` (the inverse of `configuration`)."""
    indices = []
    for card in cards:
        indices.append(config % card)
        config //= card
    return tuple(indices)


def configurations(cards: Sequence[int]) -> Iterator[tuple[int, ...]]:
    """Every parent configuration as state indices, in configuration order."""
    for reversed_config in itertools.product(*(range(c) for c in reversed(cards))):
        yield tuple(reversed(reversed_config))


def find_cycle(parents: Mapping[Hashable, Sequence[Hashable]]) -> list | None:
    """A cycle of the graph given as each node's parents, or None when it is acyclic: the nodes
    from the parent that closes the cycle, child by parent, back to that parent (so the
    second-to-last is the node whose parent closes it). Depth-first search with an explicit
    stack: a long chain of nodes must not exhaust Python's recursion limit."""
    done: set = set()
    for start in parents:
        if start in done:
            continue
        path, on_path, pending = [start], {start}, [iter(parents[start])]
        while pending:
            parent = next(pending[-1], None)
            if parent is None:
                finished = path.pop()
                on_path.discard(finished)
                done.add(finished)
                pending.pop()
                continue
            if parent in on_path:
                return path[path.index(parent):] + [parent]
            if parent not in done:
                path.append(parent)
                on_path.add(parent)
                pending.append(iter(parents[parent]))
    return None
