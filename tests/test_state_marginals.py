"""The junction-tree kernel on nodes of 2 to 255 states: the flat CPT layout the model layer
relies on, exact agreement with brute-force enumeration and with pyAgrum on published
networks, its sampler and Dirichlet draws, and the binary API as its two-state case."""

from __future__ import annotations

from pathlib import Path
from statistics import NormalDist

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pyagrum_peer import agrum_state_marginals, flat_network, load_bif

from forecast.inference import elimination as E

BNLEARN = Path(__file__).resolve().parent / "data" / "bnlearn"

# ----------------------------------------------------------------------------- references

def layout(parents, cards):
    """The contract's offsets, computed here independently of the kernel: first cell of each
    node, and each node's parent strides (parents[0] fastest)."""
    cell_offsets, strides, at = [], [], 0
    for v, pa in enumerate(parents):
        st_, s = [], 1
        for p in pa:
            st_.append(s)
            s *= cards[p]
        strides.append(st_)
        cell_offsets.append(at)
        at += s * cards[v]
    return cell_offsets, strides, at


def brute_state_marginals(parents, cards, cpt, log_weights):
    """Enumeration of every joint state: P(v = x | evidence) per node-state (flat, in state
    order) and log Z, or (None, -inf) when the evidence is impossible."""
    n = len(parents)
    cell_offsets, strides, _ = layout(parents, cards)
    joint = np.indices(cards).reshape(n, -1).T                       # (J, n)
    state_offsets = np.concatenate([[0], np.cumsum(cards)[:-1]])
    log_w = np.zeros(len(joint))
    with np.errstate(divide="ignore"):
        for v, pa in enumerate(parents):
            row = sum(joint[:, p] * s for p, s in zip(pa, strides[v], strict=True))
            log_w += np.log(cpt[cell_offsets[v] + row * cards[v] + joint[:, v]])
            log_w += log_weights[state_offsets[v] + joint[:, v]]
    top = log_w.max()
    if not np.isfinite(top):
        return None, -np.inf
    w = np.exp(log_w - top)
    total = w.sum()
    probs = np.concatenate([np.bincount(joint[:, v], weights=w, minlength=cards[v]) / total
                            for v in range(n)])
    return probs, top + np.log(total)


def random_cpt(parents, cards, rng, concentration=1.0):
    """Each row a Dirichlet draw, laid out as the contract says."""
    _, _, n_cells = layout(parents, cards)
    blocks = []
    for v, pa in enumerate(parents):
        rows = int(np.prod([cards[p] for p in pa]))
        blocks.append(rng.dirichlet(np.full(cards[v], concentration), rows).ravel())
    cpt = np.concatenate(blocks)
    assert len(cpt) == n_cells
    return cpt


def window_dag(n, max_parents, window, rng):
    parents = []
    for v in range(n):
        lo = max(0, v - window)
        k = int(rng.integers(0, min(v - lo, max_parents) + 1))
        parents.append(tuple(int(p) for p in rng.choice(np.arange(lo, v), size=k, replace=False))
                       if k else ())
    return tuple(parents)


# ----------------------------------------------------------------------------- layout

def test_the_flat_layout_is_the_contract():
    """Node 2 (4 states) with parents (0, 1) of 3 and 2 states: 6 rows, parents[0] fastest;
    cell offsets, state offsets and row offsets as the contract says; the cell a joint state
    uses is offset + row * card + state."""
    parents, cards = ((), (), (0, 1)), (3, 2, 4)
    s = E.build_structure(parents, cards)
    assert s.cards == cards and s.n_states == 9 and s.n_rows == 1 + 1 + 6
    assert s.n_cells == 3 + 2 + 6 * 4
    assert list(s.cell_offsets) == [0, 3, 5] and list(s.state_offsets) == [0, 3, 5]
    assert list(s.row_offsets) == [0, 1, 2]
    states = np.array([[2, 1, 3], [1, 0, 0], [0, 1, 2]], dtype=np.uint8)
    # row of node 2 = x0 * 1 + x1 * 3
    assert E.used_rows(s, states)[:, 2].tolist() == [2 + 2 + 3, 2 + 1, 2 + 3]
    counts = E.cell_counts(s, states)
    assert counts.dtype == np.uint8 and counts.shape == (3, s.n_cells)
    assert (counts.sum(axis=1) == 3).all()
    assert np.flatnonzero(counts[0]).tolist() == [2, 3 + 1, 5 + (2 + 3) * 4 + 3]


def test_a_hand_computed_three_state_network():
    """weather (sun, rain, snow) -> roads (clear, icy): P = (0.6, 0.3, 0.1); P(icy | weather)
    = 0.05, 0.2, 0.9. Observing icy roads: P(weather | icy) is proportional to
    (0.03, 0.06, 0.09); a soft likelihood (1, 2, 1) on weather doubles rain's weight."""
    s = E.build_structure(((), (0,)), (3, 2))
    cpt = np.array([0.6, 0.3, 0.1, 0.95, 0.05, 0.8, 0.2, 0.1, 0.9])
    probs, log_z = E.state_marginals(s, cpt, conditions={1: 1})
    np.testing.assert_allclose(probs, [1 / 6, 1 / 3, 1 / 2, 0.0, 1.0], atol=1e-15, rtol=0)
    assert log_z == pytest.approx(np.log(0.18), abs=1e-14)
    probs, _ = E.state_marginals(s, cpt, np.log([1.0, 2.0, 1.0, 1.0, 1.0]))
    np.testing.assert_allclose(probs[:3], np.array([0.6, 0.6, 0.1]) / 1.3, atol=1e-15, rtol=0)


def test_all_binary_cards_compile_exactly_as_no_cards():
    rng = np.random.default_rng(1)
    for _ in range(5):
        parents = window_dag(30, 4, 8, rng)
        a, b = E.build_structure(parents), E.build_structure(parents, [2] * 30)
        assert a.order == b.order
        assert [c.vars for c in a.cliques] == [c.vars for c in b.cliques]
        assert a.cells == b.cells == 2 ** (a.treewidth + 1)


def test_the_orders_weigh_cliques_by_their_cells():
    """A node of 12 states and its binary neighbours: cells count states, not nodes, and a
    table never exceeds the structure's stated largest."""
    parents = ((), (0,), (0, 1), (1, 2), (2, 3))
    s = E.build_structure(parents, (12, 2, 2, 3, 2), merge_up_to=1)
    assert s.cells == max(int(np.prod(c.shape)) for c in s.cliques)
    assert s.total_cells == sum(int(np.prod(c.shape)) for c in s.cliques)
    assert s.cells == 12 * 2 * 2


def test_bad_cards_cpts_and_conditions_are_refused():
    with pytest.raises(ValueError, match="2 to 255"):
        E.build_structure(((), (0,)), (2, 256))
    with pytest.raises(ValueError, match="2 to 255"):
        E.build_structure(((), (0,)), (2,))
    s = E.build_structure(((), (0,)), (3, 2))
    good = np.array([0.6, 0.3, 0.1, 0.95, 0.05, 0.8, 0.2, 0.1, 0.9])
    with pytest.raises(ValueError, match="node 1, row 2 does not"):
        E.state_marginals(s, np.where(np.arange(9) == 8, 0.5, good))
    with pytest.raises(ValueError, match="9 CPT cells"):
        E.state_marginals(s, good[:-1])
    with pytest.raises(ValueError, match="state index"):
        E.state_marginals(s, good, conditions={0: 3})
    with pytest.raises(ValueError, match="binary nodes only"):
        E.marginals(s, np.full(4, 0.5))
    with pytest.raises(E.ContradictoryEvidence):
        E.state_marginals(s, np.array([1.0, 0, 0, 1, 0, 0.8, 0.2, 0.1, 0.9]), conditions={1: 1})


def test_a_k_state_network_past_the_budget_is_refused_before_allocating():
    """Cells count states: thirty 12-state nodes of treewidth 5 need tables of 12^6 cells,
    which the structure states before any call; under a 32 MiB budget the calls refuse,
    naming the treewidth."""
    parents = window_dag(30, 3, 15, np.random.default_rng(2))
    s = E.build_structure(parents, [12] * 30)
    assert s.treewidth == 5 and s.cells == 12 ** 6 and s.peak_bytes(1) > 8 * 3 * 12 ** 6
    cpt = np.full(s.n_cells, 1 / 12)
    with pytest.raises(E.TooLarge, match="treewidth 5"):
        E.state_marginals(s, cpt, max_bytes=2**25)
    with pytest.raises(E.TooLarge):
        E.sample_joint(s, cpt, n_draws=3, max_bytes=2**25)


# ----------------------------------------------------------------------------- enumeration

@st.composite
def k_state_networks(draw, max_nodes=9, max_joint=6000):
    """A DAG of up to 9 nodes of 2-4 states (at most `max_joint` joint states), Dirichlet
    CPT rows (some with exact zeros), a soft likelihood vector on some nodes and hard
    conditions on up to two."""
    n = draw(st.integers(1, max_nodes))
    cards, joint = [], 1
    for _ in range(n):
        k = draw(st.integers(2, 4)) if joint * 4 <= max_joint else 2
        cards.append(k)
        joint *= k
    parents = []
    for v in range(n):
        k = draw(st.integers(0, min(v, 3)))
        parents.append(tuple(draw(st.permutations(range(v)))[:k]))
    seed = draw(st.integers(0, 2**32 - 1))
    rng = np.random.default_rng(seed)
    cpt = random_cpt(parents, cards, rng, concentration=draw(st.sampled_from([0.2, 1.0, 5.0])))
    if draw(st.booleans()):
        cpt = np.where(cpt < 0.05, 0.0, cpt)               # exact zeros: hard CPT entries
        cpt = _renormalise(parents, cards, cpt)
    n_states = sum(cards)
    log_weights = rng.normal(0, draw(st.sampled_from([0.5, 3.0, 15.0])), n_states)
    log_weights *= np.repeat(rng.random(n) < 0.5, cards)
    conditions = {}
    for v in draw(st.lists(st.integers(0, n - 1), max_size=2, unique=True)):
        conditions[v] = draw(st.integers(0, cards[v] - 1))
    return tuple(parents), tuple(cards), cpt, log_weights, conditions


def _renormalise(parents, cards, cpt):
    out, at = cpt.copy(), 0
    for v, pa in enumerate(parents):
        rows = int(np.prod([cards[p] for p in pa]))
        block = out[at:at + rows * cards[v]].reshape(rows, cards[v])
        block[block.sum(axis=1) == 0] = 1.0
        block /= block.sum(axis=1, keepdims=True)
        at += rows * cards[v]
    return out


@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(k_state_networks())
def test_property_state_marginals_equal_enumeration(net):
    """Any small k-state DAG, CPT rows with zeros, likelihood vectors up to e^40 apart and
    hard conditions: every node-state's probability and log Z are enumeration's (1e-9), or
    ContradictoryEvidence exactly when enumeration finds probability zero."""
    parents, cards, cpt, log_weights, conditions = net
    s = E.build_structure(parents, cards)
    mask = E.state_condition_mask(s, conditions)
    ref, ref_z = brute_state_marginals(parents, cards, cpt,
                                       log_weights + np.where(mask < 0, -np.inf, 0.0))
    if ref is None:
        with pytest.raises(E.ContradictoryEvidence):
            E.state_marginals(s, cpt, log_weights, conditions)
        return
    probs, log_z = E.state_marginals(s, cpt, log_weights, conditions)
    np.testing.assert_allclose(probs, ref, atol=1e-9, rtol=0)
    assert log_z == pytest.approx(ref_z, abs=1e-8, rel=1e-9)
    for v, x in conditions.items():
        assert probs[s.state_offsets[v] + x] == 1.0


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(k_state_networks(max_nodes=7, max_joint=2000), st.integers(0, 2**32 - 1))
def test_property_batched_rows_equal_row_by_row(net, seed):
    """CPTs (3, 1, cells) against weights (4, states) and a mask: a (3, 4) batch whose every
    row is the single call's, whether tables are kept or recomputed (a small budget)."""
    parents, cards, _cpt, _w, conditions = net
    s = E.build_structure(parents, cards)
    rng = np.random.default_rng(seed)
    cpts = np.stack([random_cpt(parents, cards, rng) for _ in range(3)])[:, None]
    weights = rng.normal(0, 2, (4, s.n_states))
    mask = E.state_condition_mask(s, conditions)
    probs, log_z = E.state_marginals(s, cpts, weights, mask)
    assert probs.shape == (3, 4, s.n_states) and log_z.shape == (3, 4)
    small, small_z = E.state_marginals(s, cpts, weights, mask, max_bytes=s.row_bytes() + 1)
    np.testing.assert_allclose(small, probs, atol=1e-14, rtol=0)
    np.testing.assert_allclose(small_z, log_z, atol=1e-12, rtol=0)
    for a in range(3):
        for b in range(4):
            one, one_z = E.state_marginals(s, cpts[a, 0], weights[b], conditions)
            np.testing.assert_allclose(probs[a, b], one, atol=1e-14, rtol=0)
            assert log_z[a, b] == pytest.approx(float(one_z), abs=1e-12)


def test_extreme_numbers_on_k_state_nodes_are_rescued_in_log_space():
    """Likelihoods 1e-8..1e8 on every state and CPT rows from Dirichlet(0.05) (cells within
    1e-30 of 0): finite, summing to 1 per node, and enumeration's."""
    rng = np.random.default_rng(10)
    for _ in range(25):
        n = int(rng.integers(2, 8))
        parents = window_dag(n, 3, 4, rng)
        cards = tuple(int(k) for k in rng.integers(2, 5, n))
        s = E.build_structure(parents, cards)
        cpt = np.clip(random_cpt(parents, cards, rng, 0.05), 1e-300, None)
        cpt = _renormalise(parents, cards, cpt)
        weights = np.log(10.0) * rng.uniform(-8, 8, (3, s.n_states))
        probs, log_z = E.state_marginals(s, cpt, weights)
        assert np.isfinite(probs).all() and np.isfinite(log_z).all()
        np.testing.assert_allclose(np.add.reduceat(probs, s.state_offsets, axis=1), 1.0,
                                   atol=1e-12)
        for row in range(3):
            ref, ref_z = brute_state_marginals(parents, cards, cpt, weights[row])
            np.testing.assert_allclose(probs[row], ref, atol=1e-9, rtol=0)
            assert log_z[row] == pytest.approx(ref_z, rel=1e-9)


@pytest.mark.parametrize("small_clique", [10, 0])
def test_large_cliques_read_marginals_node_by_node_when_their_state_table_is_too_big(
        small_clique, monkeypatch):
    """The plans a large clique uses (broadcast families, merged-axis sums, and per-node sums
    where a state table of its reported nodes would be too big) give enumeration's numbers."""
    from forecast.inference.elimination import structure
    monkeypatch.setattr(structure, "_REPORT_TABLE_CELLS", 1)
    rng = np.random.default_rng(11)
    for _ in range(10):
        n = int(rng.integers(2, 8))
        parents = window_dag(n, 3, 4, rng)
        cards = tuple(int(k) for k in rng.integers(2, 5, n))
        s = E.build_structure(parents, cards, merge_up_to=int(rng.integers(1, 8)),
                              small_clique=small_clique)
        cpt = random_cpt(parents, cards, rng)
        weights = rng.normal(0, 2, s.n_states)
        probs, log_z = E.state_marginals(s, cpt, weights)
        ref, ref_z = brute_state_marginals(parents, cards, cpt, weights)
        np.testing.assert_allclose(probs, ref, atol=1e-12, rtol=0)
        assert log_z == pytest.approx(ref_z, abs=1e-10)


def test_hard_evidence_folded_into_the_tables_gives_the_unfolded_answer(monkeypatch):
    """Observed nodes down to one state (their axes gone from every table) on every network,
    not only large ones: the same probabilities (1e-12) and log Z as the full tables and as
    enumeration, observed nodes exactly 1 on their state, batched soft weights over shared
    conditions too; the folded plan is kept for the next call with the same observed nodes;
    the binary API folds the same way."""
    from forecast.inference.elimination import observed
    rng = np.random.default_rng(12)
    for trial in range(12):
        n = int(rng.integers(3, 8))
        parents = window_dag(n, 3, 4, rng)
        cards = tuple(int(k) for k in rng.integers(2, 5, n))
        s = E.build_structure(parents, cards)
        cpt = random_cpt(parents, cards, rng)
        weights = rng.normal(0, 1, s.n_states)
        seen = rng.choice(n, 2, replace=False)
        conditions = {int(v): int(rng.integers(cards[v])) for v in seen}
        monkeypatch.setattr(observed, "FOLD_FROM_CELLS", 2**62)
        full, full_z = E.state_marginals(s, cpt, weights, conditions)
        monkeypatch.setattr(observed, "FOLD_FROM_CELLS", 0)
        folded, folded_z = E.state_marginals(s, cpt, weights, conditions)
        assert tuple(sorted(conditions)) in s.folds
        np.testing.assert_allclose(folded, full, atol=1e-12, rtol=0)
        assert folded_z == pytest.approx(float(full_z), abs=1e-12)
        ref, ref_z = brute_state_marginals(parents, cards, cpt,
                                           weights + np.where(
                                               E.state_condition_mask(s, conditions) < 0,
                                               -np.inf, 0.0))
        np.testing.assert_allclose(folded, ref, atol=1e-12, rtol=0)
        for v, x in conditions.items():
            block = folded[s.state_offsets[v]:s.state_offsets[v] + cards[v]]
            assert block[x] == 1.0 and block.sum() == 1.0
        rows = np.stack([weights, rng.normal(0, 1, s.n_states), np.zeros(s.n_states)])
        batched, batched_z = E.state_marginals(s, cpt, rows, conditions)
        monkeypatch.setattr(observed, "FOLD_FROM_CELLS", 2**62)
        unfolded, unfolded_z = E.state_marginals(s, cpt, rows, conditions)
        np.testing.assert_allclose(batched, unfolded, atol=1e-12, rtol=0)
        np.testing.assert_allclose(batched_z, unfolded_z, atol=1e-12, rtol=0)
        binary = E.build_structure(parents)
        theta = rng.uniform(0.05, 0.95, binary.n_entries)
        yes = {int(v): trial % 2 for v in seen}
        monkeypatch.setattr(observed, "FOLD_FROM_CELLS", 2**62)
        p_full, _ = E.marginals(binary, theta, weights[:n], yes)
        monkeypatch.setattr(observed, "FOLD_FROM_CELLS", 0)
        p_folded, _ = E.marginals(binary, theta, weights[:n], yes)
        np.testing.assert_allclose(p_folded, p_full, atol=1e-12, rtol=0)


def brute_family_marginals(parents, cards, cpt, log_weights):
    """Enumeration: P(v = x, parents = row | evidence) per CPT cell (the flat layout)."""
    n = len(parents)
    cell_offsets, strides, n_cells = layout(parents, cards)
    joint = np.indices(cards).reshape(n, -1).T
    state_offsets = np.concatenate([[0], np.cumsum(cards)[:-1]])
    used = np.empty((len(joint), n), dtype=np.int64)
    log_w = np.zeros(len(joint))
    with np.errstate(divide="ignore"):
        for v, pa in enumerate(parents):
            row = sum(joint[:, p] * s for p, s in zip(pa, strides[v], strict=True))
            used[:, v] = cell_offsets[v] + row * cards[v] + joint[:, v]
            log_w += np.log(cpt[used[:, v]]) + log_weights[state_offsets[v] + joint[:, v]]
    w = np.exp(log_w - log_w.max())
    return np.bincount(used.ravel(), weights=np.repeat(w, n), minlength=n_cells) / w.sum()


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(k_state_networks(max_nodes=7, max_joint=2000), st.booleans())
def test_property_family_marginals_equal_enumeration(net, fold_all):
    """Every CPT cell's P(node = state, parents = row | evidence) is enumeration's (1e-9),
    with hard conditions folded into the tables or not, and a batch of conditions gives each
    row's own answer."""
    from forecast.inference.elimination import observed
    parents, cards, cpt, log_weights, conditions = net
    s = E.build_structure(parents, cards)
    mask = E.state_condition_mask(s, conditions)
    excluded = np.where(mask < 0, -np.inf, 0.0)
    if brute_state_marginals(parents, cards, cpt, log_weights + excluded)[0] is None:
        return
    ref = brute_family_marginals(parents, cards, cpt, log_weights + excluded)
    saved = observed.FOLD_FROM_CELLS
    observed.FOLD_FROM_CELLS = 0 if fold_all else 2**62
    try:
        fam, _ = E.family_marginals(s, cpt, log_weights, conditions)
        np.testing.assert_allclose(fam, ref, atol=1e-9, rtol=0)
        free = [v for v in range(len(cards)) if v not in conditions][:2]
        masks = np.stack([mask] * (len(free) + 1))
        for b, v in enumerate(free, start=1):
            masks[b, s.state_offsets[v]:s.state_offsets[v] + cards[v]] = E.HARD_EXCLUDED
            masks[b, s.state_offsets[v]] = 0.0
        possible = [b for b in range(len(masks)) if brute_state_marginals(
            parents, cards, cpt, log_weights + np.where(masks[b] < 0, -np.inf, 0.0))[0] is not None]
        batched, _ = E.family_marginals(s, cpt, log_weights, masks[possible])
        for row, b in zip(batched, possible, strict=True):
            want = brute_family_marginals(parents, cards, cpt,
                                          log_weights + np.where(masks[b] < 0, -np.inf, 0.0))
            np.testing.assert_allclose(row, want, atol=1e-9, rtol=0)
    finally:
        observed.FOLD_FROM_CELLS = saved


# ----------------------------------------------------------------------------- pyAgrum

PUBLISHED = ["asia", "sachs", "child", "alarm", "insurance", "hailfinder", "hepar2", "win95pts",
             "andes"]      # k-state and all-binary (asia, win95pts, andes); larger in bench/


@pytest.fixture(scope="module")
def published():
    """Each network loaded once: its pyAgrum BayesNet and the kernel's structure and CPT."""
    out = {}
    for name in PUBLISHED:
        bn = load_bif(BNLEARN / f"{name}.bif.gz")
        names, parents, cards, cpt = flat_network(bn)
        out[name] = (bn, names, cards, cpt, E.build_structure(parents, cards))
    return out


def published_evidence(s, cpt, rng):
    """Hard evidence on ~10% of the nodes (the states of one joint state drawn from the
    network, so never contradictory) and a likelihood vector (0.2..5 per state) on ~12% of
    the others."""
    n = s.n_nodes
    world = E.sample_joint(s, cpt, n_draws=1, rng=rng)[0]
    hard = rng.choice(n, max(1, n // 10), replace=False)
    soft = rng.choice(np.setdiff1d(np.arange(n), hard), max(1, 12 * n // 100), replace=False)
    conditions = {int(v): int(world[v]) for v in hard}
    log_weights = np.zeros(s.n_states)
    for v in soft:
        first = s.state_offsets[v]
        log_weights[first:first + s.cards[v]] = np.log(rng.uniform(0.2, 5.0, s.cards[v]))
    return conditions, log_weights


def assert_equals_pyagrum(bn, names, s, probs, conditions, log_weights) -> None:
    """Every node-state of `probs` within 1e-9 of LazyPropagation given the same hard
    conditions and likelihood vectors."""
    findings = {v: np.eye(s.cards[v])[x] for v, x in conditions.items()}
    for v in np.flatnonzero(np.add.reduceat(np.abs(log_weights), s.state_offsets) > 0):
        first = s.state_offsets[v]
        findings[int(v)] = np.exp(log_weights[first:first + s.cards[v]])
    posteriors, _seconds = agrum_state_marginals(bn, names, findings)
    np.testing.assert_allclose(probs, np.concatenate(posteriors), atol=1e-9, rtol=0)


@pytest.mark.parametrize("name", PUBLISHED)
def test_published_networks_match_pyagrum_in_every_state(published, name):
    """bnlearn's networks as published (pyAgrum reads the BIF): hard evidence and likelihood
    vectors given to both engines, every node-state's posterior within 1e-9 of pyAgrum's
    LazyPropagation."""
    bn, names, cards, cpt, s = published[name]
    rng = np.random.default_rng(len(name))
    conditions, log_weights = published_evidence(s, cpt, rng)
    probs, _ = E.state_marginals(s, cpt, log_weights, conditions)
    assert_equals_pyagrum(bn, names, s, probs, conditions, log_weights)


def forward_sample(parents, cards, cpt, rng) -> list[int]:
    """One joint state drawn node by node in topological order (no inference: for networks
    whose junction tree is too large to sample from)."""
    cell_offsets, strides, _ = layout(parents, cards)
    state: dict[int, int] = {}
    while len(state) < len(parents):
        for v, pa in enumerate(parents):
            if v in state or any(q not in state for q in pa):
                continue
            row = sum(state[q] * st_ for q, st_ in zip(pa, strides[v], strict=True))
            start = cell_offsets[v] + row * cards[v]
            row = cpt[start:start + cards[v]]
            state[v] = int(rng.choice(cards[v], p=row / row.sum()))
    return [state[v] for v in range(len(parents))]


def test_hard_evidence_is_triangulated_out_of_the_tree_as_pyagrum_does():
    """munin1 (186 nodes of up to 21 states): its junction tree without evidence has a table
    of 78 million cells, out of any memory budget; with a tenth of its nodes observed, the
    tree triangulated without them has tables of a few million, and every node-state's
    posterior is pyAgrum's (1e-9)."""
    bn = load_bif(BNLEARN / "munin1.bif.gz")
    names, parents, cards, cpt = flat_network(bn)
    s = E.build_structure(parents, cards)
    assert s.cells > 50_000_000
    rng = np.random.default_rng(186)
    world = forward_sample(parents, cards, cpt, rng)
    hard = rng.choice(len(parents), len(parents) // 10, replace=False)
    conditions = {int(v): world[v] for v in hard}
    log_weights = np.zeros(s.n_states)
    for v in rng.choice(np.setdiff1d(np.arange(len(parents)), hard), 20, replace=False):
        first = s.state_offsets[v]
        log_weights[first:first + cards[v]] = np.log(rng.uniform(0.2, 5.0, cards[v]))
    probs, _ = E.state_marginals(s, cpt, log_weights, conditions, max_bytes=2**30)
    folded = s.folds[tuple(sorted(conditions))]
    assert folded.cells < s.cells // 10
    assert_equals_pyagrum(bn, names, s, probs, conditions, log_weights)


# ----------------------------------------------------------------------------- sampling, draws

def _bonferroni_z(false_alarm: float, tests: int) -> float:
    """The |z| a test of `tests` normal statistics exceeds by chance with probability at most
    `false_alarm` in all (two-sided, Bonferroni)."""
    return NormalDist().inv_cdf(1.0 - false_alarm / (2 * tests))


def _k_state_case(seed: int, n: int = 8):
    rng = np.random.default_rng(seed)
    parents = window_dag(n, 3, 4, rng)
    cards = tuple(int(k) for k in rng.integers(2, 5, n))
    s = E.build_structure(parents, cards)
    weights = np.log(rng.uniform(0.3, 3.0, s.n_states)) * np.repeat(rng.random(n) < 0.4, cards)
    return rng, parents, cards, s, weights


def test_sampled_joint_states_have_the_exact_marginals():
    """20,000 backward-sampled joint states: each node-state's frequency within the z bound
    of a 1e-6 family-wise false-alarm rate around its exact probability; conditioned nodes
    always in their state; 0-probability states never drawn."""
    rng, parents, cards, s, weights = _k_state_case(3)
    cpt = random_cpt(parents, cards, rng, 0.7)
    conditions = {2: 1, 5: 0}
    probs, _ = E.state_marginals(s, cpt, weights, conditions)
    draws = 20_000
    x = E.sample_joint(s, cpt, weights, conditions, draws, np.random.default_rng(4))
    assert x.shape == (draws, len(parents)) and x.dtype == np.uint8
    assert (x[:, 2] == 1).all() and (x[:, 5] == 0).all()
    freq = np.concatenate([np.bincount(x[:, v], minlength=cards[v]) for v in range(len(cards))])
    freq = freq / draws
    inside = (probs > 0) & (probs < 1)
    assert (freq[~inside] == probs[~inside]).all()
    z = (freq[inside] - probs[inside]) / np.sqrt(probs[inside] * (1 - probs[inside]) / draws)
    assert np.abs(z).max() < _bonferroni_z(1e-6, int(inside.sum()))


def test_dirichlet_draws_average_to_the_exact_posterior_means():
    """Every free row Dirichlet (a third of the rows fixed): the mean of 4,000 exact draws of
    each node-state's probability is within the 1e-6 family-wise z bound of the exact
    posterior mean (the marginals at the prior means, by conjugacy); fixed rows stay as
    given, drawn rows are distributions with no exact 0 or 1."""
    rng, parents, cards, s, weights = _k_state_case(5)
    means = random_cpt(parents, cards, rng, 2.0)
    fixed_row = rng.random(s.n_rows) < 1 / 3
    fixed_cell = np.repeat(fixed_row, s.row_cards)
    strength = np.repeat(rng.uniform(1.0, 8.0, s.n_rows), s.row_cards)
    concentration = np.where(fixed_cell, np.nan, strength * means)
    fixed = np.where(fixed_cell, means, np.nan)
    conditions = {int(s.n_nodes - 1): 0}
    exact, _ = E.state_marginals(s, means, weights, conditions)
    draws = 4000
    probs, cpt = E.dirichlet_draws(s, concentration, fixed, weights, conditions, draws,
                                   np.random.default_rng(6))
    assert probs.shape == (draws, s.n_states) and cpt.shape == (draws, s.n_cells)
    np.testing.assert_array_equal(cpt[:, fixed_cell], np.broadcast_to(means[fixed_cell],
                                                                       (draws, fixed_cell.sum())))
    assert ((cpt[:, ~fixed_cell] > 0) & (cpt[:, ~fixed_cell] < 1)).all()
    np.testing.assert_allclose(np.add.reduceat(cpt, s.row_cells, axis=1), 1.0, atol=1e-12)
    spread = probs.std(axis=0)
    moving = spread > 0
    z = (probs.mean(axis=0)[moving] - exact[moving]) / (spread[moving] / np.sqrt(draws))
    assert np.abs(z).max() < _bonferroni_z(1e-6, int(moving.sum()))
    np.testing.assert_allclose(probs.mean(axis=0)[~moving], exact[~moving], atol=1e-12)


def test_small_concentrations_draw_valid_rows():
    """Dirichlet(0.01, ...) rows, where plain gamma draws underflow to all-zero rows: every
    draw is a distribution."""
    rng, parents, cards, s, _weights = _k_state_case(7, n=5)
    concentration = np.full(s.n_cells, 0.01)
    _probs, cpt = E.dirichlet_draws(s, concentration, np.full(s.n_cells, np.nan), n_draws=500,
                                    rng=rng)
    assert np.isfinite(cpt).all() and (cpt > 0).all()
    np.testing.assert_allclose(np.add.reduceat(cpt, s.row_cells, axis=1), 1.0, atol=1e-12)


def test_dirichlet_draws_on_a_binary_network_are_the_conjugate_draws():
    """Cells [no, yes] with concentrations [beta, alpha]: the same draws, number for number,
    as the binary conjugate recipe with the same seed."""
    rng = np.random.default_rng(8)
    parents = window_dag(25, 3, 6, rng)
    s = E.build_structure(parents)
    alpha, beta = rng.uniform(0.3, 5, s.n_entries), rng.uniform(0.3, 5, s.n_entries)
    fixed = np.where(rng.random(s.n_entries) < 0.3, rng.uniform(0.1, 0.9, s.n_entries), np.nan)
    weights = rng.normal(0, 1, 25)
    p_yes, theta = E.conjugate_draws(s, alpha, beta, fixed, weights, {3: 1}, 300,
                                     np.random.default_rng(9))
    free = np.isnan(fixed)
    concentration = np.stack([np.where(free, beta, np.nan), np.where(free, alpha, np.nan)], 1)
    probs, cpt = E.dirichlet_draws(s, concentration.ravel(),
                                   np.stack([1 - fixed, fixed], 1).ravel(),
                                   np.stack([np.zeros(25), weights], 1).ravel(), {3: 1}, 300,
                                   np.random.default_rng(9))
    np.testing.assert_array_equal(cpt[:, 1::2], theta)
    np.testing.assert_array_equal(probs[:, 1::2], p_yes)


def test_conjugate_draws_are_the_draws_of_the_two_state_kernel():
    """Pinned numbers from the kernel before nodes had more states: the same seed consumed in
    the same order (backward sampling, then one Beta call over the free entries) gives the
    same draws to the last digit, and the same marginals to 1e-15."""
    s = E.build_structure(((), (0,), (0, 1)))
    alpha = np.array([2.0, 1.0, 3.0, 0.5, 4.0, 2.0, 1.5])
    beta = np.array([1.0, 2.0, 1.0, 0.7, 1.0, 3.0, 2.5])
    fixed = np.full(7, np.nan)
    fixed[2] = 0.25
    p, theta = E.conjugate_draws(s, alpha, beta, fixed, [0.0, np.log(2.0), 0.0], {2: 1}, 3,
                                 np.random.default_rng(5))
    np.testing.assert_array_equal(theta[:, 0], [0.556108839973067, 0.876288683639978,
                                                0.6703017263124855])
    np.testing.assert_array_equal(theta[:, 6], [0.21052422826235517, 0.45039425882486667,
                                                0.6270167126309746])
    np.testing.assert_allclose(p, [[0.7378567144698928, 0.26367552410802686, 1.0],
                                   [0.8708028549378217, 0.3838247767735202, 1.0],
                                   [0.6860359490197704, 0.2700853588249693, 1.0]],
                               atol=1e-15, rtol=0)


def test_draws_of_large_networks_in_single_precision_match_double_precision(monkeypatch):
    """Draws computed in float32 (as networks past SINGLE_PRECISION_FROM_CELLS are) give each
    draw's marginals within 1e-5 of float64 for the same seed; a draw with a cell below 1e-20
    or a soft weight 40 nats below its node's largest is computed in float64 exactly."""
    from forecast.inference.elimination import calibrate, sample
    rng, parents, cards, s, weights = _k_state_case(31, n=9)
    concentration = np.concatenate([rng.uniform(0.5, 4.0, s.n_cells)])
    fixed = np.full(s.n_cells, np.nan)
    monkeypatch.setattr(sample, "SINGLE_PRECISION_FROM_CELLS", 2**62)
    double, cells = E.dirichlet_draws(s, concentration, fixed, weights, {0: 1}, 300,
                                      np.random.default_rng(5))
    monkeypatch.setattr(sample, "SINGLE_PRECISION_FROM_CELLS", 0)
    single, cells_again = E.dirichlet_draws(s, concentration, fixed, weights, {0: 1}, 300,
                                            np.random.default_rng(5))
    np.testing.assert_array_equal(cells, cells_again)
    assert 0 < np.abs(single - double).max() < 1e-5
    np.testing.assert_allclose(np.add.reduceat(single, s.state_offsets, axis=1), 1.0, atol=1e-12)
    # rows float32 would not hold: a tiny cell, an extreme soft weight
    cpt = np.repeat(cells[:3].T, 1, axis=1).copy()
    cpt[s.row_cells[-1], 1] = 1e-25
    cpt[s.row_cells[-1] + 1, 1] = 1.0 - 1e-25 - cpt[s.row_cells[-1] + 2:s.row_cells[-1] + cards[-1], 1].sum()
    lw = np.repeat(weights[:, None], 3, axis=1)
    lw[s.state_offsets[2], 2] = -45.0
    fits = calibrate.single_precision_rows(s, cpt, lw)
    assert fits.tolist() == [True, False, False]
    p_single, _z, _b = calibrate.run(s, cpt, lw, True, single=True)
    p_double, _z, _b = calibrate.run(s, cpt, lw, True)
    np.testing.assert_array_equal(p_single[1:], p_double[1:])
    assert np.abs(p_single[0] - p_double[0]).max() < 1e-5
