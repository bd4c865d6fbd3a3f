"""The enumeration reference (inference/exact.py) stays finite under overwhelming evidence:
its normalisation shifts log-weights by their maximum before exponentiating."""

from __future__ import annotations

import numpy as np
from conftest import DATA

from forecast.inference import exact
from forecast.inference.problem import prepare
from forecast.io.project import load_inputs, scenario_paths


def test_overwhelming_evidence_gives_certainty_not_nan():
    net = prepare(load_inputs(scenario_paths(DATA, "two-node-beta"))).net
    for weight in (800.0, -800.0):          # e^800 overflows a float; the shift keeps it finite
        evidence = net.state_log_evidence(np.array([weight, 0.0]), None)
        means = exact.exact_means(net, evidence)
        assert means[0] == (1.0 if weight > 0 else 0.0)
        p = exact.p_yes_given_theta(net, net.prior_means[None], evidence)
        assert np.isfinite(p).all() and p[0, 0] == means[0]


def test_beta_draws_stay_strictly_inside_zero_and_one():
    """numpy's Beta(0.001, 0.001) returns exactly 0.0 or 1.0 most of the time (7,259 of 10,000
    with this seed); their logs (times a zero count) would make the enumeration NaN."""
    draws = exact._beta(np.random.default_rng(0), 1e-3, 1e-3, size=10000)
    assert (draws > 0).all() and (draws < 1).all()
    assert np.isfinite(np.log(draws)).all() and np.isfinite(np.log1p(-draws)).all()


def test_a_fixed_row_with_a_zero_gives_the_junction_trees_means_not_nan(tmp_path):
    """A logical row (p = 0 on one parent configuration, fixed): the enumeration's log of the
    zero entry meets joint states that never use it, where 0 * log 0 used to be NaN."""
    text = (DATA / "priors" / "two-node-beta.toml").read_text().replace(
        "  p = 0.25\n  strength = 4\n", "  p = 0.0\n  fixed = true\n")
    (tmp_path / "priors").mkdir()
    (tmp_path / "priors" / "logical.toml").write_text(text.replace('id = "two-node-beta"',
                                                                   'id = "logical"'))
    (tmp_path / "evidence").mkdir()
    (tmp_path / "evidence" / "logical.csv").write_text(
        "item_id,node,date,source,reliability,credibility,lr,cluster,summary,url\n")
    net = prepare(load_inputs(scenario_paths(tmp_path, "logical"))).net
    assert 0.0 in net.prior_means
    for weights in (np.zeros(2), np.array([0.0, 1.5]), np.array([-2.0, -0.7])):
        evidence = net.state_log_evidence(weights, None)
        means = exact.exact_means(net, evidence)
        assert np.isfinite(means).all()
        np.testing.assert_allclose(means, exact.posterior_means(net, weights), rtol=0, atol=1e-12)
