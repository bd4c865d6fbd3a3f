"""Hard evidence folded into the tables: a node observed in one state keeps one state, so its
axis drops out of every clique table, and the tree is triangulated again without it
(`structure.observed_out`: an observed node no longer joins its neighbours, which is what
pyAgrum's LazyPropagation gains from hard evidence; the tree compiled for the network, with
card 1 for the observed nodes, where that one is smaller). The CPT cells and state weights of
the folded network are a gather from the full ones, and the answer is spread back (an
observed node: 1 on its state, 0 on the others). log Z is unchanged: the states ruled out
contributed nothing to it.

Folding pays on big tables only (triangulating again costs tens of milliseconds): it applies to
the nodes observed in the same state on every row of a batch (leave-one-out rows, draws) when
the network's tables hold at least `FOLD_FROM_CELLS` cells.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .structure import Structure, observed_out

FOLD_FROM_CELLS = 2**16
_KEEP_FOLDS = 16                # folded structures kept per network (distinct observed sets)


@dataclass(frozen=True)
class Fold:
    structure: Structure         # the network with the observed nodes down to one state
    cells: np.ndarray            # (its n_cells,) the full CPT cell behind each of its cells
    states: np.ndarray           # (its n_states,) the full node-state behind each of its states


def fold(s: Structure, log_weights: np.ndarray) -> Fold | None:
    """The folded network for these evidence log-weights (..., n_states), or None where
    folding would not pay (small tables, or no node observed in the same state on every
    row)."""
    if s.total_cells < FOLD_FROM_CELLS:
        return None
    # a state any row allows stays; a node left with one state is observed (a row that rules
    # that state out too keeps its -inf there, and stays impossible)
    possible = (log_weights > -np.inf).reshape(-1, s.n_states).any(axis=0)
    allowed = np.add.reduceat(possible.astype(np.int64), s.state_offsets)
    observed = np.flatnonzero((allowed == 1) & (np.asarray(s.cards) > 1))
    if not len(observed):
        return None
    at = {int(v): int(np.flatnonzero(possible[s.state_offsets[v]:s.state_offsets[v]
                                              + s.cards[v]])[0])
          for v in observed}
    key = tuple(sorted(at))
    folded = s.folds.get(key)
    if folded is None:
        if len(s.folds) >= _KEEP_FOLDS:
            s.folds.clear()
        folded = s.folds[key] = observed_out(s, key)
    return Fold(folded, *_gathers(s, folded, at))


def _gathers(s: Structure, f: Structure, at: dict[int, int]) -> tuple[np.ndarray, np.ndarray]:
    """For each cell and state of the folded network, the full network's cell and state."""
    cells, states = [], []
    for v, pa in enumerate(s.parents):
        # the folded row's parent states (parents[0] fastest), observed parents at their state
        shape = [f.cards[p] for p in pa]
        parent_states = (np.indices(shape[::-1]).reshape(len(pa), -1)[::-1] if pa
                         else np.zeros((0, 1), dtype=np.int64))
        row = np.zeros(parent_states.shape[1], dtype=np.int64)
        stride = 1
        for j, p in enumerate(pa):
            row += (parent_states[j] + at.get(p, 0)) * stride
            stride *= s.cards[p]
        own = np.array([at[v]]) if v in at else np.arange(s.cards[v])
        cells.append((s.cell_offsets[v] + row[:, None] * s.cards[v] + own[None, :]).ravel())
        states.append(s.state_offsets[v] + own)
    return np.concatenate(cells), np.concatenate(states)
