"""Parametric CPTs (noisy_or, log_odds) and the compact table form: the contract, located
errors, the CPT arithmetic by hand, and the numpy importance-sampling reference."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest
from conftest import DATA
from hypothesis import example as hypothesis_example
from hypothesis import given, settings
from hypothesis import strategies as st

from forecast.errors import ForecastError
from forecast.inference import exact
from forecast.inference.importance import importance_means, prior_p_yes
from forecast.inference.problem import NotExact, engine_for, prepare
from forecast.io.priors import parse_scenario, scenario_problems
from forecast.io.project import load_inputs, scenario_paths
from forecast.model.network import build_network
from forecast.model.parametric import cpt_table

MIXED = (DATA / "priors" / "mixed-parametric.toml").read_text()
MIXED_PATH = Path("priors/mixed-parametric.toml")
PARAMETRIC_SCENARIOS = ("noisy-or-four", "log-odds-inhibitor", "mixed-parametric")


def error_for(text: str) -> str:
    with pytest.raises(ForecastError) as caught:
        parse_scenario(text, MIXED_PATH)
    message = str(caught.value)
    assert "\n" not in message and message.startswith(str(MIXED_PATH))
    return message


# ------------------------------------------------------------------ arithmetic, by hand

def test_noisy_or_with_two_causes_by_hand():
    # base 0.1, c1 = 0.5, c2 = 0.2; configuration c has bit j = parent j:
    # 00: 0.1;  10: 1 - 0.9 * 0.5 = 0.55;  01: 1 - 0.9 * 0.8 = 0.28;  11: 1 - 0.9 * 0.5 * 0.8 = 0.64
    assert cpt_table("noisy_or", 0.1, [0.5, 0.2]) == pytest.approx([0.1, 0.55, 0.28, 0.64], abs=1e-15)


def test_log_odds_with_an_inhibitor_by_hand():
    # base 0.2 (odds 1/4), p1 = 0.5 (odds 1: ratio 4), p2 = 0.05 (odds 1/19: ratio 4/19, an
    # inhibitor). Odds multiply: 11 -> 1/4 * 4 * 4/19 = 4/19, so P = 4/23.
    table = cpt_table("log_odds", 0.2, [0.5, 0.05])
    assert table == pytest.approx([0.2, 0.5, 0.05, 4 / 23], abs=1e-15)
    assert table[3] < table[1]                  # the inhibitor pulls the promoter's effect down


@hypothesis_example(0.998, [0.998, 0.998, 0.998, 0.998, 0.998])     # a noisy-OR that rounds to 1.0
@given(st.floats(0.001, 0.999), st.lists(st.floats(0.001, 0.999), min_size=1, max_size=5))
@settings(max_examples=60, deadline=None)
def test_each_form_gives_the_base_and_each_parent_alone(base, numbers):
    k = len(numbers)
    for form in ("noisy_or", "log_odds"):
        table = cpt_table(form, base, numbers)
        assert table.shape == (2**k,)
        assert np.all((table > 0) & (table < 1))
        assert table[0] == pytest.approx(base, rel=1e-9)
        alone = [table[1 << j] for j in range(k)]
        if form == "log_odds":                  # p_j is P(yes) when parent j alone is yes
            assert alone == pytest.approx(numbers, rel=1e-9)
        else:                                   # c_j acts on its own, on top of the base
            assert alone == pytest.approx([1 - (1 - base) * (1 - c) for c in numbers], rel=1e-9)
    # noisy-OR never falls when a cause is added
    table = cpt_table("noisy_or", base, numbers)
    for c in range(2**k):
        for j in range(k):
            assert table[c | (1 << j)] >= table[c] - 1e-12


def test_network_entries_come_from_the_parameters():
    inputs = load_inputs(scenario_paths(DATA, "mixed-parametric"))
    net = build_network(inputs.scenario)
    params = net.parameters
    assert not net.conjugate and net.parametric
    assert params.n_params == 1 + 2 + 1 + 3 + 3 + 4 and net.n_entries == 16
    theta = params.theta(params.prior_means)
    lifted = net.index("sanctions_lifted")
    first = net.first_entry[lifted]
    assert theta[first:first + 4] == pytest.approx(cpt_table("noisy_or", 0.05, [0.4, 0.25]))
    stalemate = net.first_entry[net.index("stalemate")]
    assert theta[stalemate:stalemate + 4] == pytest.approx(cpt_table("log_odds", 0.4, [0.7, 0.15]))
    # table nodes copy their own parameters
    partnership = net.first_entry[net.index("partnership")]
    assert theta[partnership:partnership + 4] == pytest.approx([0.2, 0.5, 0.35, 0.7])


def test_a_table_only_network_has_its_entries_as_parameters():
    net = build_network(load_inputs(scenario_paths(DATA, "burglary")).scenario)
    assert net.conjugate and net.parameters.identity
    assert net.parameters.theta(net.parameters.prior_means) == pytest.approx(net.prior_means)


# ------------------------------------------------------------------ the contract

def test_the_parametric_rows_are_read_base_first_then_parents_in_order():
    scenario = parse_scenario(MIXED, MIXED_PATH)
    node = scenario.node("stalemate")
    assert node.cpt == "log_odds" and node.parametric
    assert [p.cause for p in node.priors] == [None, "deployment", "ceasefire"]
    assert [p.mean for p in node.priors] == pytest.approx([0.4, 0.7, 0.15])
    assert node.priors[0].rationale == "Deployment hardens positions; a ceasefire eases them."
    assert scenario.node("partnership").cpt == "table"


def test_compact_table_rows_equal_the_long_form():
    compact = parse_scenario(MIXED, MIXED_PATH).node("partnership")
    assert [p.when for p in compact.priors] == [
        (("deployment", False), ("sanctions_lifted", False)),
        (("deployment", True), ("sanctions_lifted", False)),
        (("deployment", False), ("sanctions_lifted", True)),
        (("deployment", True), ("sanctions_lifted", True))]
    assert [p.mean for p in compact.priors] == pytest.approx([0.2, 0.5, 0.35, 0.7])
    # the rows may come in any order, and name the parents or list their states
    reordered = MIXED.replace(
        '  { when = [false, false], p = 0.2, strength = 5 },\n  { when = [true,  false], p = 0.5, strength = 5 },',
        '  { when = [true,  false], p = 0.5, strength = 5 },\n'
        '  { when = { deployment = "no", sanctions_lifted = false }, p = 0.2, strength = 5 },')
    assert reordered != MIXED
    assert parse_scenario(reordered, MIXED_PATH).node("partnership").priors == compact.priors


def swap(old: str, new: str) -> str:
    assert old in MIXED, old
    return MIXED.replace(old, new, 1)


@pytest.mark.parametrize("old, new, where, expected", [
    # a missing cause
    ('  { cause = "us_deal", p = 0.25, strength = 8 },\n', "", "node[sanctions_lifted]: prior",
     "no row for cause us_deal"),
    # a repeated cause
    ('{ cause = "us_deal", p = 0.25', '{ cause = "deployment", p = 0.25',
     "node[sanctions_lifted].prior[2]: cause", "a second row for deployment"),
    # a cause that is not a parent
    ('{ cause = "us_deal", p = 0.25', '{ cause = "ceasefire", p = 0.25',
     "node[sanctions_lifted].prior[2]: cause", "a parent of this node (one of deployment, us_deal)"),
    # `when` in a parametric node
    ('{ cause = "us_deal", p = 0.25', '{ when = { us_deal = true }, p = 0.25',
     "node[sanctions_lifted].prior[2]: when", "no `when` in a parametric CPT"),
    # a missing base
    ('  { p = 0.05, strength = 20 },\n', "", "node[sanctions_lifted]: prior", "a base row"),
    # two base rows
    ('  { p = 0.05, strength = 20 },\n', '  { p = 0.05, strength = 20 },\n  { p = 0.1, strength = 2 },\n',
     "node[sanctions_lifted].prior[1]: cause", "a second base row"),
    # a prior out of range
    ('{ cause = "deployment", p = 0.4,', '{ cause = "deployment", p = 1.4,',
     "node[sanctions_lifted].prior[1]: p", "a probability strictly between 0 and 1"),
    ('{ p = 0.4, strength = 8 }', '{ p = 0.4, strength = -8 }',
     "node[stalemate].prior[0]: strength", "a positive strength"),
    # an unknown form
    ('cpt = "noisy_or"', 'cpt = "noisy_and"', "node[sanctions_lifted]: cpt",
     'one of "log_odds", "noisy_or", "table"'),
    # a cause in a table node
    ('{ when = [true,  true ], p = 0.7', '{ cause = "deployment", p = 0.7',
     "node[partnership].prior[3]: cause", "no `cause` in a table CPT"),
    # compact rows: wrong number of states
    ('{ when = [true,  true ], p = 0.7', '{ when = [true], p = 0.7',
     "node[partnership].prior[3]: when", "2 states, one per parent in order"),
    # no rationale on the row nor on the node
    ('cpt = "log_odds"\nrationale = "Deployment hardens positions; a ceasefire eases them."\n',
     'cpt = "log_odds"\n', "node[stalemate].prior[0]: rationale", "a value"),
])
def test_parametric_mistakes_are_one_located_line(old, new, where, expected):
    message = error_for(swap(old, new))
    assert f"{MIXED_PATH}:{where}" in message
    assert expected in message


def test_validate_lists_every_parametric_problem():
    text = swap('{ cause = "us_deal", p = 0.25', '{ cause = "nobody", p = 0.25')
    text = text.replace('{ cause = "ceasefire", p = 0.15', '{ when = { ceasefire = true }, p = 0.15')
    problems = [str(p) for p in scenario_problems(text, MIXED_PATH)]
    assert any("node[sanctions_lifted].prior[2]: cause" in p for p in problems)
    assert any("node[stalemate].prior[2]: when" in p for p in problems)


# ------------------------------------------------------------------ engines and reference

def test_auto_picks_nuts_and_exact_is_refused_in_one_line():
    problem = prepare(load_inputs(scenario_paths(DATA, "mixed-parametric")))
    assert engine_for(problem, "auto") == "nuts"
    with pytest.raises(NotExact, match="parametric CPTs"):
        engine_for(problem, "exact")


def test_importance_reference_equals_the_closed_form_on_a_table_scenario():
    """On a conjugate scenario the reference must agree with the exact engine: its error is
    its own standard error."""
    problem = prepare(load_inputs(scenario_paths(DATA, "burglary")))
    truth = exact.posterior_means(problem.net, problem.node_log_weights, problem.conditions)
    problem2 = prepare(load_inputs(scenario_paths(DATA, "two-node-beta")))
    truth2 = exact.posterior_means(problem2.net, problem2.node_log_weights, problem2.conditions)
    for prob, want in ((problem, truth), (problem2, truth2)):
        est = importance_means(prob.net, prob.node_log_weights, prob.conditions, 20000,
                               np.random.default_rng(3))
        z = np.abs(est.mean - want) / np.maximum(est.se, 1e-12)
        assert np.all(z < 4), (est.mean, want, est.se)
        assert np.all(est.se < 0.01)


def test_importance_reference_by_hand_on_one_noisy_or_node():
    """Two fixed root causes and a noisy-OR child whose base is Beta(1, 1) and causes fixed:
    with the child resolved yes, the posterior of each cause is a one-dimensional integral,
    done here by quadrature."""
    text = MIXED  # reuse the header
    header = text[:text.index("[[node]]")]
    node = '''
[[node]]
id = "{id}"
role = "driver"
question = "?"
resolution = "."
opens = 2025-01-01
deadline = 2026-01-01
parents = {parents}
rationale = "Test."
reference_class = "Test."
{extra}prior = [{rows}]
'''
    toml = header + node.format(id="a", parents="[]", extra="", rows="{ p = 0.3, fixed = true }")
    toml += node.format(id="b", parents="[]", extra="", rows="{ p = 0.6, fixed = true }")
    toml += node.format(id="y", parents='["a", "b"]', extra='cpt = "noisy_or"\n',
                        rows='{ beta = [1, 1] }, { cause = "a", p = 0.5, fixed = true }, '
                             '{ cause = "b", p = 0.2, fixed = true }')
    scenario = parse_scenario(toml, MIXED_PATH)
    net = build_network(scenario)
    # P(y = yes | a, b, base) = 1 - (1 - base) * (1 - .5)^a * (1 - .2)^b
    grid = (np.arange(200000) + 0.5) / 200000            # base ~ Uniform(0, 1)
    joint = {}
    for a in (0, 1):
        for b in (0, 1):
            prior_ab = (0.3 if a else 0.7) * (0.6 if b else 0.4)
            keep = (0.5 if a else 1.0) * (0.8 if b else 1.0)
            joint[a, b] = prior_ab * (1 - (1 - grid) * keep)
    z = sum(joint.values())                              # P(y | base), per base
    evidence = z.mean()
    p_a = (joint[1, 0] + joint[1, 1]).mean() / evidence
    # the posterior mean of P(a | y, base) is E[P(a, y | base) / P(y | base) * P(y | base)] / P(y)
    est = importance_means(net, np.zeros(3), {"y": True}, 40000, np.random.default_rng(5))
    assert abs(est.mean[0] - p_a) < 4 * est.se[0]
    assert est.mean[2] == pytest.approx(1.0, abs=1e-12)
    assert math.isclose(float(est.effective_sample_size), 40000, rel_tol=0.5)


def test_prior_draws_of_a_parametric_node_average_its_prior_mean_network_by_linearity():
    """Roots with Beta priors: P(root = yes) averaged over prior draws is its prior mean."""
    net = build_network(load_inputs(scenario_paths(DATA, "noisy-or-four")).scenario)
    draws = prior_p_yes(net, 20000, np.random.default_rng(1))
    roots = [net.index(r) for r in ("c1", "c2", "c3", "c4")]
    se = draws[:, roots].std(axis=0) / np.sqrt(len(draws))
    assert np.all(np.abs(draws[:, roots].mean(axis=0) - [0.4, 0.4, 0.325, 0.5]) < 4 * se)


@pytest.mark.parametrize("scenario", PARAMETRIC_SCENARIOS)
def test_shipped_parametric_test_scenarios_have_a_healthy_reference(scenario):
    problem = prepare(load_inputs(scenario_paths(DATA, scenario)))
    est = importance_means(problem.net, problem.node_log_weights, problem.conditions, 4000,
                           np.random.default_rng(0))
    assert est.effective_sample_size > 0.3 * 4000
    assert np.all(est.se < 0.01)


def _uncomment(block: str) -> str:
    return "\n".join(line[2:] if line.startswith("# ") else line[1:] for line in block.splitlines())


def test_the_scaffold_shows_the_compact_and_both_parametric_forms_and_they_parse():
    """Each commented example in `forecast new`'s file, uncommented into a node, parses."""
    import datetime as dt

    from forecast.io.scaffold import scaffold_toml

    text = scaffold_toml("new-case", dt.date(2025, 1, 1))
    assert 'cpt = "noisy_or"' in text and 'cpt = "log_odds"' in text
    blocks = text.split("# cpt = ")
    compact = text[text.index("# parents = [\"driver_event\", \"other_driver\", \"third_driver\"]\n# rationale"):
                   text.index("#\n# Parametric CPTs")]
    node = '''
[[node]]
id = "{id}"
role = "consequence"
question = "?"
resolution = "."
opens = 2025-01-01
deadline = 2026-01-01
'''
    roots = "".join(node.format(id=r) + 'parents = []\nprior = [{ p = 0.3, strength = 4, rationale = "r", reference_class = "c" }]\n'
                    for r in ("other_driver", "third_driver"))
    # a scenario with a parametric CPT asks yes/no questions only: the scaffold says to delete
    # its three-state question first, as done here
    start = text.index('[[node]]\nid = "scale"')
    yes_no = text[:start] + text[text.index("# -----", start):]
    head = yes_no + roots
    examples = [compact] + ["# cpt = " + b[:b.index("# ]") + 3] for b in blocks[1:]]
    assert len(examples) == 3
    forms = []
    for i, example in enumerate(examples):
        body = _uncomment(example).replace('reference_class = "..."', 'reference_class = "c"')
        scenario = parse_scenario(head + node.format(id=f"extra{i}") + body + "\n", Path("priors/new-case.toml"))
        if i == 0:      # the compact table form sits beside the three-state question
            parse_scenario(text + roots + node.format(id="extra0") + body + "\n",
                           Path("priors/new-case.toml"))
        extra = scenario.node(f"extra{i}")
        forms.append(extra.cpt)
        assert len(extra.priors) == (8 if extra.cpt == "table" else len(extra.parents) + 1)
    assert forms == ["table", "noisy_or", "log_odds"]
