"""The junction-tree kernel of the exact engine (forecast.inference.elimination) against two
independent references: brute-force enumeration of all 2^n joint states (small networks) and
pyAgrum's LazyPropagation (networks of 10-60 nodes); its sampler against the exact joint; and
its behaviour at the edges (extreme numbers, contradictions, memory budget)."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pyagrum_peer import agrum_marginals as peer_marginals

from forecast.inference import elimination as E
from forecast.inference.elimination import backends, calibrate, structure

# ----------------------------------------------------------------------------- references

def window_dag(n: int, max_parents: int, window: int, rng: np.random.Generator):
    """A random DAG whose nodes take parents among the `window` nodes before them: the
    window bounds the treewidth, the draw varies the structure."""
    parents = []
    for v in range(n):
        lo = max(0, v - window)
        k = int(rng.integers(0, min(v - lo, max_parents) + 1))
        parents.append(tuple(int(p) for p in rng.choice(np.arange(lo, v), size=k, replace=False))
                       if k else ())
    return tuple(parents)


def n_entries(parents) -> int:
    return sum(2 ** len(pa) for pa in parents)


def enumerate_joint(parents, theta, weights, mask):
    """log of every joint state's unnormalised weight, and the (2^n, n) state table."""
    n = len(parents)
    states = (np.arange(2**n)[:, None] >> np.arange(n)[None, :]) & 1
    mask = np.where(mask <= E.HARD_EXCLUDED, -np.inf, mask)     # a ruled-out state weighs 0
    offset = 0
    log_w = np.zeros(2**n)
    with np.errstate(divide="ignore"):
        for v, pa in enumerate(parents):
            config = np.zeros(2**n, dtype=int)
            for j, p in enumerate(pa):
                config |= states[:, p] << j
            t = theta[offset + config]
            offset += 2 ** len(pa)
            log_w += np.where(states[:, v] == 1, np.log(t), np.log1p(-t))
            log_w += np.where(states[:, v] == 1, weights[v] + mask[v, 1], mask[v, 0])
    return log_w, states


def brute_marginals(parents, theta, weights, mask):
    log_w, states = enumerate_joint(parents, theta, weights, mask)
    top = log_w.max()
    if not np.isfinite(top):
        return None, -np.inf
    w = np.exp(log_w - top)
    return (w @ states) / w.sum(), top + np.log(w.sum())


def random_mask(n, n_conditions, rng):
    mask = np.zeros((n, 2))
    for v in rng.choice(n, size=min(n, n_conditions), replace=False):
        mask[v, rng.integers(2)] = E.HARD_EXCLUDED
    return mask


# ----------------------------------------------------------------------------- structure

def test_a_chain_has_treewidth_one_and_a_tree_of_pairs():
    parents = ((),) + tuple((v - 1,) for v in range(1, 30))
    s = E.build_structure(parents, merge_up_to=2)
    assert s.treewidth == 1 and s.cells == 4
    assert all(len(c.vars) == 2 for c in s.cliques) and len(s.cliques) == 29


def test_a_window_network_has_treewidth_bounded_by_its_window():
    rng = np.random.default_rng(3)
    for window in (2, 4, 7):
        parents = window_dag(50, 4, window, rng)
        s = E.build_structure(parents)
        assert s.treewidth <= window
        assert s.cells == 2 ** (s.treewidth + 1)


def test_every_family_lies_in_a_clique_and_cliques_keep_running_intersection():
    rng = np.random.default_rng(4)
    parents = window_dag(40, 4, 8, rng)
    s = E.build_structure(parents)
    sets = [set(c.vars) for c in s.cliques]
    for v, pa in enumerate(parents):
        assert any({v, *pa} <= c for c in sets)
    for v in range(len(parents)):       # the cliques holding v form a connected subtree
        holding = {i for i, c in enumerate(sets) if v in c}
        tops = [i for i in holding if s.cliques[i].parent not in holding]
        assert len(tops) == 1


def test_a_network_of_six_nodes_is_one_clique():
    """Tiny networks become a single table: enumeration, the fastest at that size."""
    s = E.build_structure(((), (0,), (0, 1), (2,), (), (3, 4)))
    assert len(s.cliques) == 1 and s.cells == 64
    disconnected = E.build_structure(((), (0,), (), (2,), (), ()))
    assert len(disconnected.cliques) == 1


def test_bad_parents_are_refused():
    with pytest.raises(ValueError, match="cycle"):
        E.build_structure(((1,), (0,)))
    with pytest.raises(ValueError, match="distinct indices"):
        E.build_structure(((), (0, 0)))
    with pytest.raises(ValueError, match="distinct indices"):
        E.build_structure(((), (5,)))


# ----------------------------------------------------------------------------- marginals

def test_a_hand_computed_two_node_network():
    """rain -> wet: P(rain) = 0.2, P(wet | rain) = 0.9, P(wet | no rain) = 0.1; wet observed
    (a hard condition): P(rain | wet) = 0.18 / (0.18 + 0.08); soft evidence LR 3 on rain
    multiplies its odds by 3."""
    s = E.build_structure(((), (0,)))
    theta = np.array([0.2, 0.1, 0.9])
    p, log_z = E.marginals(s, theta, conditions={1: 1})
    assert p[0] == pytest.approx(0.18 / 0.26, abs=1e-15) and p[1] == 1.0
    assert log_z == pytest.approx(np.log(0.26), abs=1e-14)
    p, _ = E.marginals(s, theta, node_log_weights=[np.log(3.0), 0.0])
    assert p[0] == pytest.approx(0.6 / 1.4, abs=1e-15)


@pytest.mark.parametrize("seed", range(6))
@pytest.mark.parametrize("small_clique", [10, 0])
def test_marginals_match_enumeration_on_small_networks(seed, small_clique):
    """Both table plans: gathers and bit tables (small cliques) and broadcast factors with
    merged-axis sums (large cliques, forced here on every clique by small_clique=0)."""
    rng = np.random.default_rng(seed)
    for _ in range(15):
        n = int(rng.integers(1, 11))
        parents = window_dag(n, 3, 6, rng)
        s = E.build_structure(parents, merge_up_to=int(rng.integers(1, 8)),
                              small_clique=small_clique)
        theta = rng.uniform(0.01, 0.99, s.n_entries)
        weights = rng.normal(0, 2, n) * (rng.random(n) < 0.5)
        mask = random_mask(n, int(rng.integers(0, 3)), rng)
        p, log_z = E.marginals(s, theta, weights, mask)
        ref, ref_z = brute_marginals(parents, theta, weights, mask)
        np.testing.assert_allclose(p, ref, rtol=0, atol=1e-12)
        assert log_z == pytest.approx(ref_z, abs=1e-10)


def test_batched_theta_and_weights_broadcast_like_numpy():
    """theta (3, 1, K) against weights (4, n) gives a (3, 4) batch, every row exact; the
    chunking under a small budget (one row at a time) changes nothing but rounding."""
    rng = np.random.default_rng(7)
    parents = window_dag(9, 3, 5, rng)
    s = E.build_structure(parents)
    theta = rng.uniform(0.02, 0.98, (3, 1, s.n_entries))
    weights = rng.normal(0, 1.5, (4, 9))
    mask = random_mask(9, 2, rng)
    p, log_z = E.marginals(s, theta, weights, mask)
    assert p.shape == (3, 4, 9) and log_z.shape == (3, 4)
    p_small, z_small = E.marginals(s, theta, weights, mask, max_bytes=s.row_bytes() + 1)
    np.testing.assert_allclose(p, p_small, atol=1e-14, rtol=0)
    np.testing.assert_allclose(log_z, z_small, atol=1e-12, rtol=0)
    for a in range(3):
        for b in range(4):
            ref, ref_z = brute_marginals(parents, theta[a, 0], weights[b], mask)
            np.testing.assert_allclose(p[a, b], ref, atol=1e-12, rtol=0)
            assert log_z[a, b] == pytest.approx(ref_z, abs=1e-10)


def test_batched_conditions_masks_are_what_ifs_in_one_call():
    rng = np.random.default_rng(8)
    parents = window_dag(7, 3, 4, rng)
    s = E.build_structure(parents)
    theta = rng.uniform(0.05, 0.95, s.n_entries)
    masks = np.stack([E.condition_mask(7, {v: 1}) for v in range(7)])     # (7, 7, 2)
    p, _ = E.marginals(s, theta, None, masks)
    for v in range(7):
        ref, _z = brute_marginals(parents, theta, np.zeros(7), masks[v])
        np.testing.assert_allclose(p[v], ref, atol=1e-12, rtol=0)
        assert p[v, v] == 1.0


def test_unbatched_call_returns_a_vector_and_a_scalar():
    s = E.build_structure(((), (0,)))
    p, log_z = E.marginals(s, [0.5, 0.5, 0.5])
    assert p.shape == (2,) and np.ndim(log_z) == 0 and float(log_z) == pytest.approx(0.0)


@pytest.mark.parametrize("small_clique", [10, 0])
def test_the_log_space_path_agrees_with_the_linear_path(small_clique):
    """Rows are redone in log space when float64 might underflow: both paths must agree, on
    binary nodes and on nodes of up to four states."""
    rng = np.random.default_rng(9)
    for trial in range(20):
        n = int(rng.integers(2, 12))
        parents = window_dag(n, 3, 5, rng)
        cards = None if trial % 2 else rng.integers(2, 5, n)
        s = E.build_structure(parents, cards, small_clique=small_clique)
        rows = 5
        cpt = np.concatenate([rng.dirichlet(np.ones(s.row_cards[r]), rows).T
                              for r in range(s.n_rows)])
        log_weights = rng.normal(0, 2, (s.n_states, rows))
        lin = calibrate._calibrate(s, cpt, log_weights, backends._Linear, True, True)
        log = calibrate._calibrate(s, cpt, log_weights, backends._Log, False, True)
        np.testing.assert_allclose(lin[0], log[0], atol=1e-12, rtol=0)
        np.testing.assert_allclose(lin[1], log[1], atol=1e-10, rtol=0)
        for i in lin[3]:
            np.testing.assert_allclose(lin[3][i], log[3][i], atol=1e-12, rtol=0)


# ----------------------------------------------------------------------------- extremes

def test_extreme_numbers_give_no_nan_and_match_log_space_enumeration():
    """LRs of 1e-8..1e8 on every node, theta from Beta(0.05, 0.05) (many within 1e-30 of 0
    or 1, some exactly at the clip), and hard conditions: finite, in [0, 1], and equal to
    enumeration done in log space."""
    rng = np.random.default_rng(10)
    tiny, top = np.finfo(float).tiny, 1.0 - np.finfo(float).epsneg
    for _ in range(40):
        n = int(rng.integers(2, 10))
        parents = window_dag(n, 3, 5, rng)
        s = E.build_structure(parents)
        theta = np.clip(rng.beta(0.05, 0.05, (6, s.n_entries)), tiny, top)
        weights = np.log(10.0) * rng.uniform(-8, 8, (6, n))
        mask = random_mask(n, int(rng.integers(0, 3)), rng)
        p, log_z = E.marginals(s, theta, weights, mask)
        assert np.isfinite(p).all() and np.isfinite(log_z).all()
        assert ((p >= 0) & (p <= 1)).all()
        for row in range(6):
            ref, ref_z = brute_marginals(parents, theta[row], weights[row], mask)
            np.testing.assert_allclose(p[row], ref, atol=1e-9, rtol=0)
            assert log_z[row] == pytest.approx(ref_z, rel=1e-9, abs=1e-9)


def test_products_below_float64_range_are_rescued_in_log_space():
    """A chain of 40 nodes each conditioned on a state of probability 1e-300: the evidence
    has probability 1e-12000, far below float64; the answer is still exact."""
    n = 40
    parents = ((),) + tuple((v - 1,) for v in range(1, n))
    s = E.build_structure(parents)
    theta = np.full(s.n_entries, 1e-300)
    conditions = dict.fromkeys(range(0, n, 2), 1)
    p, log_z = E.marginals(s, theta, conditions=conditions)
    assert np.isfinite(p).all() and np.isfinite(log_z)
    ref, ref_z = brute_marginals(parents[:12], theta[:1 + 2 * 11],
                                 np.zeros(12), E.condition_mask(12, dict.fromkeys(range(0, 12, 2), 1)))
    np.testing.assert_allclose(p[:11], ref[:11], atol=1e-12, rtol=0)
    assert log_z < -20 * 690


def test_rows_needing_log_space_are_redone_alone_in_a_batch():
    """A batch where only the middle row underflows float64: every row equals its own
    unbatched answer, and an empty batch is an empty answer."""
    n = 30
    parents = ((),) + tuple((v - 1,) for v in range(1, n))
    s = E.build_structure(parents)
    conditions = dict.fromkeys(range(0, n, 2), 1)
    theta = np.stack([np.full(s.n_entries, 0.4), np.full(s.n_entries, 1e-300),
                      np.full(s.n_entries, 0.7)])
    p, log_z = E.marginals(s, theta, conditions=conditions)
    assert np.isfinite(p).all() and log_z[1] < -15 * 690
    for row in range(3):
        alone, alone_z = E.marginals(s, theta[row], conditions=conditions)
        np.testing.assert_allclose(p[row], alone, atol=1e-14, rtol=0)
        assert log_z[row] == pytest.approx(alone_z, abs=1e-9)
    empty, empty_z = E.marginals(s, np.zeros((0, s.n_entries)))
    assert empty.shape == (0, n) and empty_z.shape == (0,)


def test_contradictory_conditions_raise_a_clear_error_not_nan():
    """A node fixed at P(yes) = 1 and conditioned no: the evidence is impossible."""
    s = E.build_structure(((), (0,)))
    theta = np.array([1.0, 0.3, 0.6])
    with pytest.raises(E.ContradictoryEvidence, match="probability zero"):
        E.marginals(s, theta, conditions={0: 0})
    with pytest.raises(E.ContradictoryEvidence):
        E.sample_states(s, theta, conditions={0: 0}, n_draws=5, rng=np.random.default_rng(0))
    # one impossible row in a batch is reported, with its index
    theta_b = np.array([[0.5, 0.3, 0.6], [1.0, 0.3, 0.6]])
    with pytest.raises(E.ContradictoryEvidence, match=r"\(1,\)"):
        E.marginals(s, theta_b, conditions={0: 0})


def test_bad_inputs_are_refused_with_a_message():
    s = E.build_structure(((), (0,)))
    with pytest.raises(ValueError, match="3 CPT entries"):
        E.marginals(s, [0.5, 0.5])
    with pytest.raises(ValueError, match=r"\[0, 1\]"):
        E.marginals(s, [0.5, np.nan, 0.5])
    with pytest.raises(ValueError, match="finite"):
        E.marginals(s, [0.5, 0.5, 0.5], node_log_weights=[np.inf, 0.0])
    with pytest.raises(ValueError, match="node index"):
        E.marginals(s, [0.5, 0.5, 0.5], conditions={5: 1})


def test_a_network_past_the_budget_is_refused_before_allocating():
    """80 nodes with up to 6 parents anywhere before them (treewidth about 34): the
    structure reports the size before any call, and marginals and sample_states raise
    TooLarge naming the treewidth instead of allocating terabytes."""
    parents = window_dag(80, 6, 80, np.random.default_rng(0))
    s = E.build_structure(parents)
    assert s.treewidth >= 30 and s.peak_bytes(1) > 2**40
    with pytest.raises(E.TooLarge, match=f"treewidth {s.treewidth}"):
        E.marginals(s, np.full(s.n_entries, 0.5))
    with pytest.raises(E.TooLarge):
        E.sample_states(s, np.full(s.n_entries, 0.5), n_draws=3)


def test_the_budgets_the_structure_states_are_the_ones_the_calls_apply():
    """marginals runs within peak_bytes(1) (one row per chunk), sample_states within
    sample_bytes(); a byte less is TooLarge, so a caller that checked the structure never
    meets the error later."""
    rng = np.random.default_rng(13)
    parents = window_dag(30, 4, 6, rng)
    s = E.build_structure(parents)
    theta = rng.uniform(0.1, 0.9, (5, s.n_entries))
    p, _ = E.marginals(s, theta, max_bytes=s.peak_bytes(1))
    np.testing.assert_allclose(p, E.marginals(s, theta)[0], atol=1e-14, rtol=0)
    with pytest.raises(E.TooLarge):
        E.marginals(s, theta, max_bytes=s.peak_bytes(1) - 1)
    E.sample_states(s, theta[0], n_draws=10, rng=rng, max_bytes=s.sample_bytes())
    with pytest.raises(E.TooLarge):
        E.sample_states(s, theta[0], n_draws=10, rng=rng, max_bytes=s.sample_bytes() - 1)


# ----------------------------------------------------------------------------- pyAgrum

def agrum_marginals(parents, theta, weights, mask):
    pytest.importorskip("pyagrum")
    return peer_marginals(parents, theta, weights, mask)[0]


@pytest.mark.parametrize("n, window, seed", [(10, 4, 0), (20, 5, 1), (30, 6, 2), (45, 7, 3),
                                             (60, 5, 4), (60, 8, 5), (45, 20, 7)])
def test_marginals_match_pyagrum_on_generated_networks(n, window, seed):
    """Random structures of 10-60 nodes, up to 4 parents, treewidth up to about 10 (the last
    case has cliques past the small-clique plans), a third of the nodes with soft evidence,
    some hard conditions."""
    pytest.importorskip("pyagrum")
    rng = np.random.default_rng(seed)
    parents = window_dag(n, 4, window, rng)
    s = E.build_structure(parents)
    if window == 20:
        assert s.largest_clique > structure.SMALL_CLIQUE
    for _ in range(2):
        theta = rng.uniform(0.02, 0.98, s.n_entries)
        weights = np.zeros(n)
        soft = rng.choice(n, size=n // 3, replace=False)
        weights[soft] = np.log(rng.choice([0.1, 0.5, 2.0, 5.0, 20.0], size=len(soft)))
        mask = random_mask(n, 1 + n // 15, rng)
        p, _ = E.marginals(s, theta, weights, mask)
        np.testing.assert_allclose(p, agrum_marginals(parents, theta, weights, mask),
                                   atol=1e-9, rtol=0)


# ----------------------------------------------------------------------------- properties

@st.composite
def small_networks(draw, max_nodes=7):
    n = draw(st.integers(1, max_nodes))
    parents = []
    for v in range(n):
        k = draw(st.integers(0, min(v, 3)))
        parents.append(tuple(draw(st.permutations(range(v)))[:k]))
    k_total = n_entries(parents)
    theta = np.array(draw(st.lists(st.one_of(st.floats(0.0, 1.0), st.sampled_from([0.0, 1.0])),
                                   min_size=k_total, max_size=k_total)))
    weights = np.array(draw(st.lists(st.floats(-20, 20), min_size=n, max_size=n)))
    conditions = draw(st.dictionaries(st.integers(0, n - 1), st.integers(0, 1), max_size=2))
    return tuple(parents), theta, weights, conditions


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(small_networks())
def test_property_marginals_agree_with_enumeration_or_the_evidence_is_impossible(net):
    """For any small DAG, any theta in [0, 1] (0 and 1 included), LRs up to e^20 and hard
    conditions: the marginals are enumeration's, in [0, 1]; ContradictoryEvidence exactly
    when enumeration finds probability zero."""
    parents, theta, weights, conditions = net
    s = E.build_structure(parents)
    mask = E.condition_mask(len(parents), conditions)
    ref, ref_z = brute_marginals(parents, theta, weights, mask)
    if ref is None:
        with pytest.raises(E.ContradictoryEvidence):
            E.marginals(s, theta, weights, conditions)
        return
    p, log_z = E.marginals(s, theta, weights, conditions)
    assert ((p >= 0) & (p <= 1)).all()
    np.testing.assert_allclose(p, ref, atol=1e-9, rtol=0)
    assert log_z == pytest.approx(ref_z, abs=1e-8, rel=1e-9)
    for v, outcome in conditions.items():
        assert p[v] == outcome


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(small_networks(max_nodes=5))
def test_property_sampled_states_follow_the_exact_joint_and_the_conditions(net):
    """Backward sampling with a fixed seed: every state allowed by the conditions, and every
    joint state's frequency within 5 binomial standard errors of its exact probability."""
    parents, theta, weights, conditions = net
    s = E.build_structure(parents)
    mask = E.condition_mask(len(parents), conditions)
    log_w, states = enumerate_joint(parents, theta, weights, mask)
    if not np.isfinite(log_w.max()):
        return
    exact = np.exp(log_w - log_w.max())
    exact /= exact.sum()
    draws = 4000
    x = E.sample_states(s, theta, weights, conditions, draws, np.random.default_rng(0))
    assert x.shape == (draws, len(parents)) and x.dtype == np.uint8
    for v, outcome in conditions.items():
        assert (x[:, v] == outcome).all()
    code = x.astype(np.int64) @ (1 << np.arange(len(parents)))
    freq = np.bincount(code, minlength=len(exact)) / draws
    se = np.sqrt(exact * (1 - exact) / draws)
    assert (np.abs(freq - exact) <= 5 * se + 1.5 / draws).all()
    assert (freq[exact == 0] == 0).all()


# ----------------------------------------------------------------------------- sampling

def test_sample_frequencies_match_marginals_on_a_larger_network():
    rng = np.random.default_rng(11)
    parents = window_dag(40, 4, 6, rng)
    s = E.build_structure(parents)
    theta = rng.uniform(0.05, 0.95, s.n_entries)
    weights = rng.normal(0, 1, 40)
    conditions = {5: 1, 20: 0}
    p, _ = E.marginals(s, theta, weights, conditions)
    draws = 20000
    x = E.sample_states(s, theta, weights, conditions, draws, np.random.default_rng(1))
    se = np.sqrt(p * (1 - p) / draws)
    assert (np.abs(x.mean(axis=0) - p) <= 5 * se + 1e-12).all()
    assert (x[:, 5] == 1).all() and (x[:, 20] == 0).all()


def test_entry_counts_name_the_entry_each_node_used():
    """Node 2 has parents (0, 1) in that bit order: state (x0=1, x1=0, x2=1) uses entry
    offset 2 + config 1 = 3, as a yes; the roots use entries 0 and 1."""
    s = E.build_structure(((), (), (0, 1)))
    states = np.array([[1, 0, 1], [0, 1, 0]], dtype=np.uint8)
    np.testing.assert_array_equal(E.used_entries(s, states), [[0, 1, 3], [0, 1, 4]])
    yes, no = E.entry_counts(s, states)
    np.testing.assert_array_equal(yes, [[1, 0, 0, 1, 0, 0], [0, 1, 0, 0, 0, 0]])
    np.testing.assert_array_equal(no, [[0, 1, 0, 0, 0, 0], [1, 0, 0, 0, 1, 0]])


def test_conjugate_draws_average_to_the_exact_posterior_mean():
    """E[P(yes | evidence, theta)] over the exact posterior of theta is P(yes | evidence) in
    the network at the prior means (the entries integrate out): the draws' mean agrees
    within Monte Carlo error, and fixed entries stay fixed."""
    rng = np.random.default_rng(12)
    parents = window_dag(12, 3, 5, rng)
    s = E.build_structure(parents)
    alpha = rng.uniform(0.5, 6, s.n_entries)
    beta = rng.uniform(0.5, 6, s.n_entries)
    fixed = np.full(s.n_entries, np.nan)
    fixed[[0, 3]] = [0.3, 0.9]
    weights = rng.normal(0, 1.5, 12)
    conditions = {4: 1}
    p_draws, theta = E.conjugate_draws(s, alpha, beta, fixed, weights, conditions, 6000,
                                       np.random.default_rng(2))
    assert (theta[:, 0] == 0.3).all() and (theta[:, 3] == 0.9).all()
    means = np.where(np.isnan(fixed), alpha / (alpha + beta), fixed)
    exact, _ = brute_marginals(parents, means, weights, E.condition_mask(12, conditions))
    se = p_draws.std(axis=0) / np.sqrt(len(p_draws))
    assert (np.abs(p_draws.mean(axis=0) - exact) <= 5 * se + 1e-12).all()
