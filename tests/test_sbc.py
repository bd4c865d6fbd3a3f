"""Simulation-based calibration: the machinery is right (an exact sampler passes, a wrong one
fails), and PyMC's NUTS on the Turkey scenario passes with 100 simulations."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
from conftest import FROZEN

from forecast.analysis import sbc
from forecast.inference import exact
from forecast.inference.problem import prepare
from forecast.io.project import load_inputs, scenario_paths
from forecast.jobs.check import entry_labels, nuts_fit_function

TURKEY = "turkey-peacekeeping"


def turkey():
    inputs = load_inputs(scenario_paths(FROZEN, TURKEY))
    return inputs.scenario, prepare(inputs).net


def exact_sampler(net, evidence_scale=1.0, n_draws=400):
    """Exact iid posterior draws (conjugate), optionally with the evidence mis-weighted."""
    def fit(node_log_weights, hard_mask, seed):
        rng = np.random.default_rng(seed)
        sle = net.state_log_evidence(evidence_scale * node_log_weights) + hard_mask
        theta = exact.conjugate_theta_draws(net, sle, n_draws, rng)
        return theta, exact.p_yes_given_theta(net, theta, sle), 0
    return fit


def test_rank_of_counts_draws_below_and_splits_ties():
    draws = np.array([[0.1, 1.0], [0.5, 1.0], [0.9, 0.0], [0.3, 1.0]])
    ranks = sbc.rank_of(np.array([0.4, 1.0]), draws, np.random.default_rng(0))
    assert ranks[0] == 2                      # 0.1 and 0.3 are below 0.4
    assert 1 <= ranks[1] <= 4                 # one draw below, three ties


def test_tied_binary_truth_gets_uniform_ranks():
    rng = np.random.default_rng(1)
    ranks = [sbc.rank_of((rng.random(1) < 0.7).astype(float),
                         (rng.random((9, 1)) < 0.7).astype(float), rng)[0] for _ in range(4000)]
    counts = np.bincount(ranks, minlength=10)
    # Under uniformity each of 10 ranks has 400 expected, binomial SD about 19.
    assert np.all(np.abs(counts - 400) < 5 * 19), counts


def test_bins_divide_the_ranks_and_expect_ten_per_bin():
    assert sbc.n_bins_for(100, 100) == 10
    assert sbc.n_bins_for(200, 100) == 20
    assert sbc.n_bins_for(50, 100) == 5
    assert sbc.thin(np.arange(1000), 99).tolist()[:3] == [0, 10, 20]
    with pytest.raises(ValueError):
        sbc.thin(np.arange(50), 99)


def test_simulated_evidence_is_the_exact_log_likelihood_ratio():
    """y ~ N(s(2x - 1), 1): log N(y; s, 1) - log N(y; -s, 1) = 2 s y."""
    _scenario, net = turkey()
    world = sbc.simulate_world(net, np.random.default_rng(4), sbc.SbcSettings(observe_prob=1.0,
                                                                              resolve_prob=1.0))
    assert set(world.resolved) == set(net.node_ids)
    assert [world.resolved[v] for v in net.node_ids] == world.state.astype(bool).tolist()
    assert np.isfinite(world.hard_mask).sum() == 1        # only the true joint state survives


def test_exact_sampler_passes_sbc():
    _scenario, net = turkey()
    result = sbc.run_sbc(net, exact_sampler(net), sbc.SbcSettings(simulations=300), seed=11)
    assert result.bins == 20
    assert result.passed, [(q.name, q.p_value) for q in result.quantities if q.p_value < result.p_limit]


def failing(result):
    return {q.name for q in result.quantities if q.p_value < result.p_limit}


def test_sbc_detects_evidence_read_the_wrong_way_round():
    """An LR coded upside down: the node states' ranks pile up at the ends."""
    _scenario, net = turkey()
    result = sbc.run_sbc(net, exact_sampler(net, evidence_scale=-1.0),
                         sbc.SbcSettings(simulations=300), seed=11)
    assert not result.passed
    assert {f"state[{v}]" for v in net.node_ids} <= failing(result)


def test_sbc_detects_priors_fitted_with_the_wrong_strength():
    """Priors three times as strong as the scenario says: CPT entries and marginals fail."""
    _scenario, net = turkey()
    wrong = dataclasses.replace(net, alpha=3 * net.alpha, beta=3 * net.beta)
    result = sbc.run_sbc(net, exact_sampler(wrong), sbc.SbcSettings(simulations=300), seed=11)
    assert not result.passed
    assert {f"marginal[{v}]" for v in net.node_ids} <= failing(result)


def test_sbc_refuses_a_network_with_nothing_sampled(data_root):
    net = prepare(load_inputs(scenario_paths(data_root, "burglary"))).net
    with pytest.raises(ValueError, match="nothing for the sampler"):
        sbc.run_sbc(net, exact_sampler(net), sbc.SbcSettings(simulations=10))


@pytest.mark.slow
def test_nuts_passes_sbc_on_turkey_with_100_simulations():
    """The engine of record, one compiled model reused across 100 fits (about 0.2 s each)."""
    from forecast.inference.nuts import SamplerSettings, sampler_for

    scenario, net = turkey()
    fit = nuts_fit_function(sampler_for(net), SamplerSettings(draws=500, tune=300, chains=2,
                                                              progress=False))
    result = sbc.run_sbc(net, fit, sbc.SbcSettings(simulations=100), seed=2025,
                         entry_labels=entry_labels(scenario, net))
    report = {q.name: round(q.p_value, 4) for q in result.quantities}
    print("SBC p-values:", report)
    assert len(result.quantities) == len(net.free) + 2 * net.n_nodes
    assert result.passed, report
    assert result.fits_with_divergences <= 5
