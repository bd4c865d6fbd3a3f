"""Leave-one-out posteriors by retraction from one calibrated junction tree
(`elimination.retract`) equal one full calibration per leave-out to 1e-12: on random k-state
and binary networks with hard conditions, leave-outs on one node, on several nodes of one
clique, on nodes no clique holds together (calibrated in full), a row equal to the full
evidence, and on a published network large enough that hard evidence is folded."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pyagrum_peer import flat_network, load_bif

from forecast.inference import elimination as E

BNLEARN = Path(__file__).resolve().parent / "data" / "bnlearn"


def random_network(rng, n: int, max_card: int):
    parents = [tuple(sorted(rng.choice(v, size=min(v, int(rng.integers(0, 4))),
                                       replace=False).tolist())) if v else () for v in range(n)]
    cards = [int(rng.integers(2, max_card + 1)) for _ in range(n)]
    cells = []
    for v in range(n):
        rows = rng.dirichlet(np.full(cards[v], 0.7), size=int(np.prod([cards[p] for p in parents[v]])))
        rows[rng.random(rows.shape) < 0.1] = 0.0            # logical zeros, as published CPTs have
        rows[:, 0] += 1e-3
        cells.append((rows / rows.sum(axis=1, keepdims=True)).ravel())
    return E.build_structure(parents, cards), np.concatenate(cells)


def leave_outs(rng, s, full, m: int) -> np.ndarray:
    """Rows that differ from `full` on one to three nodes (evidence left out or replaced)."""
    rows = np.repeat(full[None], m, axis=0)
    for r in range(1, m):
        for v in rng.choice(s.n_nodes, size=int(rng.integers(1, min(3, s.n_nodes) + 1)), replace=False):
            lo = s.state_offsets[v]
            rows[r, lo:lo + s.cards[v]] = 0.0 if r % 2 else rng.normal(size=s.cards[v])
    return rows


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(seed=st.integers(0, 2**31), n=st.integers(1, 30), max_card=st.integers(2, 5))
def test_retracted_leave_outs_equal_a_calibration_each(seed, n, max_card):
    rng = np.random.default_rng(seed)
    s, cpt = random_network(rng, n, max_card)
    full = rng.normal(size=s.n_states) * (rng.random(s.n_states) < 0.4)
    conditions = {int(v): int(rng.integers(s.cards[v])) for v in rng.choice(n, size=n // 6, replace=False)}
    rows = leave_outs(rng, s, full, 9)
    try:
        expected, _ = E.state_marginals(s, cpt, rows, conditions)
    except E.ContradictoryEvidence:
        with pytest.raises(E.ContradictoryEvidence):
            E.leave_out_marginals(s, cpt, full, rows, conditions, max_bytes=2**28)
        return
    got = E.leave_out_marginals(s, cpt, full, rows, conditions, max_bytes=2**28)
    np.testing.assert_allclose(got, expected, rtol=0, atol=1e-12)
    assert (got[0] == got[np.flatnonzero((rows == full).all(axis=1))]).all()


@pytest.mark.parametrize("seed", range(4))
def test_binary_leave_outs_equal_the_binary_marginals(seed):
    rng = np.random.default_rng(seed)
    parents = [(), (0,), (0, 1), (2,), (1, 3), (4,), (), (6, 5)]
    s = E.build_structure(parents)
    theta = rng.uniform(0.05, 0.95, s.n_entries)
    full = rng.normal(size=s.n_nodes)
    rows = np.repeat(full[None], 6, axis=0)
    for r in range(1, 6):
        rows[r, rng.integers(s.n_nodes)] = 0.0
    conditions = {3: 1}
    expected, _ = E.marginals(s, theta, rows, conditions)
    got = E.binary_leave_outs(s, theta, full, rows, conditions, max_bytes=2**28)
    np.testing.assert_allclose(got, expected, rtol=0, atol=1e-12)


def test_leave_outs_on_a_published_network_with_folded_hard_evidence():
    """water: tables past the folding threshold, so resolved nodes leave the tables first."""
    _names, parents, cards, cpt = flat_network(load_bif(BNLEARN / "water.bif.gz"))
    s = E.build_structure(parents, cards)
    rng = np.random.default_rng(5)
    full = np.zeros(s.n_states)
    for v in rng.choice(s.n_nodes, size=4, replace=False):
        full[s.state_offsets[v] + int(rng.integers(s.cards[v]))] = np.log(3.0)
    roots = [v for v, pa in enumerate(parents) if not pa]           # never contradictory
    conditions = {v: int(np.argmax(cpt[s.cell_offsets[v]:s.cell_offsets[v] + s.cards[v]]))
                  for v in roots[:3]}
    rows = leave_outs(rng, s, full, 6)
    expected, _ = E.state_marginals(s, cpt, rows, conditions)
    got = E.leave_out_marginals(s, cpt, full, rows, conditions, max_bytes=2**28)
    np.testing.assert_allclose(got, expected, rtol=0, atol=1e-12)
