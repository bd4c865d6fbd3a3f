"""The NUTS engine's two backends and how their draws are read.

nutpie's draws are read from its raw Arrow trace (building an InferenceData cost a warm refit a
quarter of its time): they must be exactly the draws nutpie's own conversion gives for the same
seed. PyMC's own sampler (`--backend pymc`, on PyMC's model of the scenario) must agree with the
exact engine on the hand-derivable two-node network."""

from __future__ import annotations

import numpy as np
import pytest
from conftest import DATA

from forecast.inference import exact
from forecast.inference.problem import prepare
from forecast.inference.settings import SamplerSettings
from forecast.io.project import load_inputs, scenario_paths
from forecast.jobs.check import z_limit

pytestmark = pytest.mark.slow


def _problem(scenario: str):
    return prepare(load_inputs(scenario_paths(DATA, scenario)))


def test_draws_read_from_the_arrow_trace_are_nutpies_own():
    import nutpie

    from forecast.inference.nuts import _idata_draws, sampler_for

    problem = _problem("log-odds-inhibitor")
    settings = SamplerSettings(progress=False, draws=200, tune=200, chains=2)
    sampler = sampler_for(problem.net, "nutpie")
    fit = sampler.sample(problem.node_log_weights, problem.hard_mask, 5, settings)
    compiled = sampler.compiled().with_data(
        sampler.density.weights(problem.node_log_weights, problem.hard_mask))
    idata = nutpie.sample(compiled, draws=200, tune=200, chains=2, cores=2, seed=5,
                          save_warmup=False, progress_bar=False, target_accept=0.9)
    draws, diverging = _idata_draws(idata)
    assert fit.draws.keys() == draws.keys() == {"theta", "p_yes"}
    for name in draws:
        assert fit.draws[name].shape == draws[name].shape == (2, 200, draws[name].shape[-1])
        np.testing.assert_array_equal(fit.draws[name], draws[name])
    assert fit.diagnostics["divergences"] == int(diverging.sum())


def test_pymcs_own_sampler_agrees_with_the_exact_engine():
    from forecast.inference.nuts import sample

    problem = _problem("two-node-beta")
    fit = sample(problem.net, problem.node_log_weights, problem.hard_mask, 3,
                 SamplerSettings(progress=False, draws=1000, chains=2), backend="pymc")
    assert fit.engine == "pymc-nuts" and fit.settings["tune"] == 1000   # PyMC's own warm-up
    means = exact.posterior_means(problem.net, problem.node_log_weights, problem.conditions)
    gap = np.abs(fit.p_yes.reshape(-1, len(means)).mean(axis=0) - means)
    assert np.all(fit.mcse < 0.02)
    assert np.all(gap <= z_limit(len(means), alpha=0.001) * fit.mcse + 1e-9), (gap, fit.mcse)
    assert fit.diagnostics["divergences"] == 0 and fit.diagnostics["max_rhat"] <= 1.01
