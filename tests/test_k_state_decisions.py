"""watch and sensitivity on questions with more than two outcomes (README, "Questions with more
than two outcomes"): every value against an independent enumeration over joint states with the
candidate clamped or the Dirichlet entry set, and the CLI's JSON shape."""

from __future__ import annotations

import json
from types import SimpleNamespace

import numpy as np
import pytest
from conftest import run_cli
from scipy import stats
from test_k_states import EVIDENCE, SCENARIO_TEXT, brute_force, inputs_of

from forecast.analysis.state_decisions import (
    cell_meaning,
    state_sensitivity,
    state_value_of_information,
)
from forecast.inference.problem import prepare
from forecast.io.priors import load_scenario


@pytest.fixture(scope="module")
def scenario(tmp_path_factory):
    path = tmp_path_factory.mktemp("k") / "k-state.toml"
    path.write_text(SCENARIO_TEXT)
    return load_scenario(path)


@pytest.fixture(scope="module")
def root(tmp_path_factory):
    root = tmp_path_factory.mktemp("kroot")
    (root / "priors").mkdir()
    (root / "evidence").mkdir()
    (root / "priors" / "k-state.toml").write_text(SCENARIO_TEXT)
    (root / "evidence" / "k-state.csv").write_text(EVIDENCE)
    return root


def clamp(node, state):
    return SimpleNamespace(node=node, outcome=state)


def expected_values(scenario, items, resolutions, candidate, targets):
    """Half the sum over each target's states of the variance, over the candidate's outcome,
    of their forecasts, from enumerations with the candidate clamped to each state."""
    base = brute_force(scenario, items, resolutions)
    per_target = dict.fromkeys(targets, 0.0)
    for x, p_x in base[candidate].items():
        if p_x == 0.0:
            continue
        given = brute_force(scenario, items, [*resolutions, clamp(candidate, x)])
        for t in targets:
            if t != candidate:
                per_target[t] += 0.5 * sum(p_x * (given[t][r] - base[t][r]) ** 2 for r in base[t])
    return per_target


@pytest.mark.parametrize("resolutions", ["", "attacks,sporadic,2025-04-01,Monitor\n",
                                         "talks,no,2025-04-01,Wire\n"])
def test_value_of_information_equals_the_clamped_enumeration(scenario, resolutions):
    inputs, items, res = inputs_of(scenario, resolutions=resolutions)
    problem = prepare(inputs)
    net = problem.net
    targets = [t for t in ("talks", "mediator") if t not in problem.conditions]
    result = state_value_of_information(net, problem.state_log_weights, problem.conditions,
                                        [net.index(t) for t in targets])
    assert len(result.candidates) == 3 - len(res)
    for i, v in enumerate(result.candidates):
        want = expected_values(scenario, items, list(res), net.node_ids[v], targets)
        for j, t in enumerate(targets):
            assert result.per_target[i, j] == pytest.approx(want[t], abs=1e-9), (v, t)
        assert result.value[i] == pytest.approx(sum(want.values()), abs=1e-9)


def test_a_binary_target_keeps_the_variance_of_its_yes_forecast(scenario):
    """On a yes/no target the halved sum over its two states is the variance of P(yes)."""
    inputs, items, _ = inputs_of(scenario)
    problem = prepare(inputs)
    net = problem.net
    result = state_value_of_information(net, problem.state_log_weights, {}, [net.index("talks")],
                                        candidates=[net.index("attacks")])
    base = brute_force(scenario, items)
    yes = {x: brute_force(scenario, items, [clamp("attacks", x)])["talks"]["yes"]
           for x in ("none", "sporadic", "sustained")}
    variance = sum(p * (yes[x] - base["talks"]["yes"]) ** 2 for x, p in base["attacks"].items())
    assert result.per_target[0, 0] == pytest.approx(variance, abs=1e-12)


def test_watch_cli_lists_each_question_with_its_distribution_and_forecasts_given_each_state(root):
    result = run_cli(root, ["watch", "--scenario", "k-state", "--format", "json", "--cpt-draws", "50"])
    assert result.exit_code == 0, result.output
    rows = json.loads(result.output)
    assert [r["node"] for r in rows] == sorted((r["node"] for r in rows),
                                               key=lambda n: -next(r["value"] for r in rows if r["node"] == n))
    by_node = {r["node"]: r for r in rows}
    attacks = by_node["attacks"]
    assert attacks["p_yes"] is None and list(attacks["distribution"]) == ["none", "sporadic", "sustained"]
    assert sum(attacks["distribution"].values()) == pytest.approx(1.0, abs=3e-6)
    assert set(attacks["if_state"]["none"]) == {"talks", "mediator"}
    assert list(attacks["if_state"]["none"]["mediator"]) == ["turkey", "qatar", "nobody"]
    talks = by_node["talks"]
    assert talks["if_yes"] == talks["if_state"]["yes"] and list(talks["distribution"]) == ["yes", "no"]
    for r in rows:
        low, high = r["interval"]
        assert 0.0 <= low <= high and 0.0 <= r["top_share"] <= 1.0
    table = run_cli(root, ["watch", "--scenario", "k-state", "--cpt-draws", "50"])
    assert table.exit_code == 0 and "if sustained" in table.output


def concentration(prior):
    """A Dirichlet row's parameters in declared order (a Beta row's: (alpha, beta))."""
    return np.array(prior.dirichlet if prior.dirichlet is not None else (prior.alpha, prior.beta))


def test_sensitivity_moves_one_dirichlet_entry_to_its_beta_quantiles_and_rescales_the_row(scenario):
    inputs, items, _ = inputs_of(scenario)
    problem = prepare(inputs)
    net = problem.net
    result = state_sensitivity(net, problem.state_log_weights, problem.conditions)
    # free rows: attacks (3 cells), talks none/sporadic (1 each), mediator 5 Dirichlet rows (3 each)
    assert len(result.params) == 3 + 2 + 15
    base = brute_force(scenario, items)
    for i, cell in enumerate(result.params):
        meaning = cell_meaning(net, int(cell))
        node = scenario.node(meaning["node"])
        when = tuple(sorted((pa, (s == "yes") if scenario.node(pa).binary else s)
                            for pa, s in meaning["when"].items()))
        prior = next(p for p in node.priors if tuple(sorted(dict(p.when).items())) == when)
        alpha = concentration(prior)
        x = node.states.index(meaning["entry_state"])
        mean = alpha / alpha.sum()
        for q, got in ((0.05, result.low[i]), (0.95, result.high[i])):
            value = stats.beta.ppf(q, alpha[x], alpha.sum() - alpha[x])
            row = mean * (1 - value) / (1 - mean[x])
            row[x] = value
            want = brute_force(scenario, items, rows={(node.id, when): tuple(row)})
            for t, states in want.items():
                for s, p in states.items():
                    v = net.index(t)
                    assert got[net.state_offsets[v] + net.state_index(v, s)] == pytest.approx(
                        p, abs=1e-9), (meaning, q, t, s)
    for t, states in base.items():
        v = net.index(t)
        for s, p in states.items():
            assert result.base[net.state_offsets[v] + net.state_index(v, s)] == pytest.approx(p, abs=1e-9)


def test_sensitivity_cli_rows_name_the_entry_state_and_the_targets_likeliest_state(root):
    result = run_cli(root, ["sensitivity", "--scenario", "k-state", "--format", "json"])
    assert result.exit_code == 0, result.output
    document = json.loads(result.output)
    mediator, talks = document["mediator"], document["talks"]
    assert {r["state"] for r in mediator} == {"nobody"}          # its most likely state
    assert all("state" not in r for r in talks)                  # a yes/no target: P(yes)
    assert {r["entry_state"] for r in mediator} == {"none", "sporadic", "sustained", "yes",
                                                     "turkey", "qatar", "nobody"}
    row = next(r for r in mediator if r["node"] == "mediator" and r["when"] ==
               {"attacks": "sporadic", "talks": "no"} and r["entry_state"] == "nobody")
    assert row["entry_low"] < 3 / 4.4 < row["entry_high"]        # Dirichlet [0.8, 0.6, 3]
    swings = [r["swing_pp"] for r in mediator]
    assert swings == sorted(swings, reverse=True)
    assert row["swing_pp"] == pytest.approx(100 * abs(row["high"] - row["low"]), abs=0.011)
    table = run_cli(root, ["sensitivity", "--scenario", "k-state"])
    assert table.exit_code == 0 and "mediator: forecast nobody" in table.output
    assert "P(mediator = nobody | attacks = sporadic, talks = no)" in table.output


def test_the_reports_watch_list_is_left_to_forecast_watch_past_its_clamp_budget(monkeypatch, k_root):
    """A large imported network would spend the report's whole time clamping every question:
    past REPORT_WATCH_CLAMPS the report has no watch list (and does not count its work), while
    sensitivity stays."""
    from forecast.analysis import decisions
    from forecast.inference.settings import SamplerSettings
    from forecast.io.project import load_inputs, scenario_paths
    from forecast.jobs.report import report_work

    inputs = load_inputs(scenario_paths(k_root, "k-state"))
    problem = prepare(inputs)
    scenario = inputs.scenario
    terms = {name: list(bounds) for name, bounds in scenario.scales.terms.items()}
    full = decisions.report_decisions(scenario, problem, terms)
    work = report_work(problem, inputs, SamplerSettings()).inferences
    assert full["watch"] and decisions.report_watch_clamps(problem.net, {}) == 8
    monkeypatch.setattr(decisions, "REPORT_WATCH_CLAMPS", 7)
    capped = decisions.report_decisions(scenario, problem, terms)
    assert capped["watch"] == [] and capped["sensitivity"] == full["sensitivity"]
    assert report_work(problem, inputs, SamplerSettings()).inferences == work - 8
    monkeypatch.setattr(decisions, "REPORT_WATCH_CLAMPS", 300)
    monkeypatch.setattr(decisions, "REPORT_WATCH_SECONDS", 1e-12)      # by time, likewise
    assert decisions.report_decisions(scenario, problem, terms)["watch"] == []


def test_sensitivity_with_every_question_resolved_leaves_every_forecast_where_it_is(scenario):
    """Nothing open: no node-state to clamp, and every moved row leaves the 0/1 forecasts."""
    inputs, _items, _ = inputs_of(scenario)
    problem = prepare(inputs)
    net = problem.net
    conditions = {node.id: node.states[0] for node in scenario.nodes}
    result = state_sensitivity(net, problem.state_log_weights, conditions)
    assert len(result.params) > 0
    assert set(np.unique(result.base)) == {0.0, 1.0}
    np.testing.assert_array_equal(result.low, np.broadcast_to(result.base, result.low.shape))
    np.testing.assert_array_equal(result.high, np.broadcast_to(result.base, result.high.shape))
