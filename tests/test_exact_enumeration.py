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
