"""`forecast check` on a scenario with questions of more than two outcomes: agreement per
node-state (and that it fails on biased draws), SBC of Dirichlet rows, categorical states and
per-state signals (and that it fails for a wrong posterior), the CLI end to end."""

from __future__ import annotations

import dataclasses
import json
import shutil

import numpy as np
import pytest
from test_k_states import DATA, EVIDENCE
from typer.testing import CliRunner

from forecast.analysis import sbc, state_sbc
from forecast.cli import app
from forecast.inference import elimination, exact
from forecast.inference.exact import structure_of
from forecast.inference.importance import prior_cell_draws
from forecast.inference.problem import prepare
from forecast.io.project import load_inputs, scenario_paths
from forecast.jobs import check_states
from forecast.jobs.check import FAMILY_ALPHA, importance_reference, z_limit

runner = CliRunner()


def k_state_root(path):
    (path / "priors").mkdir(parents=True)
    (path / "evidence").mkdir()
    shutil.copy(DATA / "k_state_scenario.toml", path / "priors" / "k-state.toml")
    (path / "evidence" / "k-state.csv").write_text(EVIDENCE)
    (path / "evidence" / "k-state.resolutions.csv").write_text(
        "node,outcome,date,source\ntalks,yes,2025-04-01,Wire\n")
    return path


@pytest.fixture(scope="module")
def root(tmp_path_factory):
    return k_state_root(tmp_path_factory.mktemp("kcheck"))


@pytest.fixture(scope="module")
def problem(root):
    return prepare(load_inputs(scenario_paths(root, "k-state")))


def test_forward_samples_follow_the_networks_marginals(problem):
    net = problem.net
    cells = prior_cell_draws(net, 1, np.random.default_rng(5))[0]
    rng = np.random.default_rng(6)
    states = np.array([state_sbc.forward_sample(net, cells, rng) for _ in range(6000)])
    expected, _ = elimination.state_marginals(structure_of(net), cells)
    for v in range(net.n_nodes):
        lo, k = net.state_offsets[v], net.cards[v]
        seen = np.bincount(states[:, v], minlength=k) / len(states)
        p = expected[lo:lo + k]
        assert np.all(np.abs(seen - p) <= 5 * np.sqrt(p * (1 - p) / len(states)) + 1e-12), v


def test_prior_cell_draws_are_the_dirichlet_priors(problem):
    net = problem.net
    cells = prior_cell_draws(net, 20000, np.random.default_rng(1))
    fixed = ~np.isnan(net.fixed_cells)
    assert np.array_equal(cells[:, fixed], np.broadcast_to(net.fixed_cells[fixed], cells[:, fixed].shape))
    for v in range(net.n_nodes):
        block = cells[:, net.cell_offsets[v]:net.cell_offsets[v + 1]].reshape(len(cells), -1, net.cards[v])
        np.testing.assert_allclose(block.sum(axis=2), 1.0, atol=1e-12)
    # Dirichlet means, and the variance of attacks=none: a (1 - a) / (strength + 1) = 0.25 / 11
    np.testing.assert_allclose(cells.mean(axis=0), net.prior_cells, atol=0.01)
    assert cells[:, 0].var() == pytest.approx(0.25 / 11, rel=0.05)


def test_simulated_world_resolves_true_states_and_weighs_the_signal(problem):
    net = problem.net
    settings = sbc.SbcSettings(observe_prob=1.0, resolve_prob=1.0, signal=50.0)
    cells, state, weights, mask = state_sbc.simulate_state_world(net, np.random.default_rng(3),
                                                                 settings)
    allowed = np.flatnonzero(mask == 0.0)
    assert allowed.tolist() == (net.state_offsets[:-1] + state).tolist()
    # a strong signal puts the largest log-weight on each node's true state
    for v in range(net.n_nodes):
        lo, hi = net.state_offsets[v], net.state_offsets[v + 1]
        assert int(np.argmax(weights[lo:hi])) == state[v]


def test_categorical_truth_among_categorical_draws_has_uniform_ranks():
    rng = np.random.default_rng(2)
    p = np.array([0.5, 0.3, 0.2])
    ranks = [sbc.rank_of(rng.choice(3, size=1, p=p).astype(float),
                         rng.choice(3, size=(9, 1), p=p).astype(float), rng)[0] for _ in range(4000)]
    counts = np.bincount(ranks, minlength=10)
    assert np.all(np.abs(counts - 400) < 5 * 19), counts


def test_cell_labels_name_each_cells_state_and_parent_states(root, problem):
    scenario = load_inputs(scenario_paths(root, "k-state")).scenario
    labels = check_states.cell_labels(scenario, problem.net)
    assert len(labels) == problem.net.cell_offsets[-1]
    assert labels[:3] == ["attacks=none", "attacks=sporadic", "attacks=sustained"]
    assert labels[4] == "talks=yes | attacks=none"
    assert labels[-1] == "mediator=nobody | attacks=sustained, talks=yes"


def exact_fit(net, flipped: bool = False):
    """Exact iid conjugate draws of `net`'s posterior; `flipped` reads the evidence backwards."""
    right = check_states.exact_state_fit_function(net, 400)
    return lambda weights, mask, seed: right(-weights if flipped else weights, mask, seed)


def failing(result):
    return {q.name for q in result.quantities if q.p_value < result.p_limit}


def test_exact_draws_pass_sbc(problem):
    net = problem.net
    result = sbc.run_sbc(net, exact_fit(net), sbc.SbcSettings(simulations=100), seed=11)
    assert len(result.quantities) == 20 + 7 + 3          # cells, node-state marginals, states
    assert result.passed, failing(result)


# Draws from the prior would not do as a wrong posterior: SBC cannot tell them from a right
# one (the prior is the exact posterior given no data, and the truth is drawn from it too).
def test_sbc_fails_for_priors_fitted_three_times_too_strong(problem):
    net = problem.net
    wrong = dataclasses.replace(net, concentration=3 * net.concentration)
    result = sbc.run_sbc(net, exact_fit(wrong), sbc.SbcSettings(simulations=100), seed=11)
    assert not result.passed
    assert {"marginal[attacks=none]", "theta[0]"} <= failing(result)       # cell 0: attacks=none


def test_sbc_fails_for_evidence_read_backwards(problem):
    net = problem.net
    result = sbc.run_sbc(net, exact_fit(net, flipped=True), sbc.SbcSettings(simulations=100),
                         seed=4)
    assert not result.passed
    assert {f"state[{v}]" for v in net.node_ids} & failing(result)


def test_exact_state_means_agree_with_importance_sampling_and_a_bias_fails(problem):
    net = problem.net
    means = exact.state_means(net, problem.state_log_weights, problem.conditions)
    estimate = importance_reference(net, problem.state_log_weights, problem.conditions, 40000, 0)
    assert estimate.draws == 40000 and estimate.effective_sample_size > 10000
    ok = check_states.importance_state_agreement(net, problem.conditions, means, estimate, z_limit,
                                                 FAMILY_ALPHA)
    assert ok["passed"] and ok["tests"] == 6            # talks is resolved: its two states shut
    talks = [row for row in ok["states"] if row["id"] == "talks"]
    assert [(r["state"], r["exact_mean"], r["z"]) for r in talks] == [("yes", 1.0, 0.0), ("no", 0.0, 0.0)]
    biased = means.copy()
    biased[0] += 0.01
    biased[1] -= 0.01
    bad = check_states.importance_state_agreement(net, problem.conditions, biased, estimate,
                                                  z_limit, FAMILY_ALPHA)
    assert not bad["passed"]


def test_check_of_the_exact_engine_on_a_k_state_scenario_end_to_end(tmp_path):
    root = k_state_root(tmp_path / "root")
    result = runner.invoke(app, ["check", "--scenario", "k-state", "--root", str(root), "--engine",
                                 "exact", "--simulations", "40", "--format", "json", "--no-progress"])
    assert result.exit_code == 0, result.output
    written = json.loads((root / "reports" / "k-state" / "check.json").read_text())
    a = written["agreement"]
    assert written["passed"] and a["columns"] == {"tested": "exact_mean", "reference": "importance_mean"}
    assert [(r["id"], r["state"]) for r in a["states"]] == [
        ("attacks", "none"), ("attacks", "sporadic"), ("attacks", "sustained"), ("talks", "yes"),
        ("talks", "no"), ("mediator", "turkey"), ("mediator", "qatar"), ("mediator", "nobody")]
    assert [n["id"] for n in a["nodes"]] == ["attacks", "talks", "mediator"]
    assert a["nodes"][0]["exact_mean"] is None and a["nodes"][1]["exact_mean"] == 1.0
    assert written["sbc"]["simulations"] == 40 and len(written["sbc"]["quantities"]) == 30
    html = (root / "reports" / "k-state" / "check.html").read_text()
    assert "<td>sustained</td>" in html and "open node-states" in html


# ---------------------------------------------------------------------------- NUTS (slow)

@pytest.fixture(scope="module")
def nuts_sampler(problem):
    from forecast.inference.nuts import sampler_for

    return sampler_for(problem.net, "nutpie")


@pytest.mark.slow
def test_nuts_state_means_pass_agreement_and_biased_draws_fail(problem, nuts_sampler):
    from forecast.inference.settings import SamplerSettings

    net = problem.net
    fit = nuts_sampler.sample(problem.state_log_weights, net.state_mask(problem.conditions), 7,
                              SamplerSettings(draws=600, chains=2, progress=False))
    draws = fit.draws["p_states"]
    args = (net, problem.state_log_weights, problem.conditions)
    ok = check_states.nuts_state_agreement(*args, draws, z_limit, FAMILY_ALPHA)
    assert ok["passed"], ok["states"]
    biased = draws.copy()
    biased[..., 5] += 0.02              # mediator=turkey up, mediator=nobody down
    biased[..., 7] -= 0.02
    bad = check_states.nuts_state_agreement(*args, biased, z_limit, FAMILY_ALPHA)
    assert not bad["passed"]
    assert [r["z"] > bad["z_limit"] for r in bad["states"] if r["id"] == "mediator"] == [True, False, True]


@pytest.mark.slow
def test_nuts_passes_sbc_on_the_k_state_scenario(problem, nuts_sampler):
    from forecast.inference.settings import SamplerSettings

    net = problem.net
    fit = check_states.nuts_state_fit_function(
        nuts_sampler, SamplerSettings(draws=250, tune=300, chains=2, progress=False))
    result = sbc.run_sbc(net, fit, sbc.SbcSettings(simulations=30), seed=2026)
    assert result.passed, {q.name: round(q.p_value, 4) for q in result.quantities}
    assert result.fits_with_divergences <= 3


@pytest.mark.slow
def test_check_on_a_k_state_scenario_end_to_end(tmp_path, nuts_sampler):
    root = k_state_root(tmp_path / "root")
    result = runner.invoke(app, ["check", "--scenario", "k-state", "--root", str(root),
                                 "--simulations", "10", "--draws", "500", "--chains", "2",
                                 "--no-progress"])
    assert result.exit_code == 0, result.output
    assert "Self-check PASSED" in result.stdout and "sustained" in result.stdout
    doc = json.loads((root / "reports" / "k-state" / "check.json").read_text())
    a = doc["agreement"]
    assert a["columns"] == {"tested": "nuts_mean", "reference": "exact_mean"}
    assert len(a["states"]) == 8 and a["tests"] == 6
    assert all(r["z"] <= a["z_limit"] for r in a["states"])
    assert doc["sbc"]["simulations"] == 10 and len(doc["sbc"]["quantities"]) == 30
