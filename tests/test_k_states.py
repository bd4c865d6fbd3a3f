"""Questions with more than two outcomes (README, "Questions with more than two outcomes"):
the scenario reader's new keys, the exact engine and NUTS on k-state networks against an
independent enumeration over joint states, and report.json's per-state distribution."""

from __future__ import annotations

import itertools
import json
import math
import shutil
from pathlib import Path

import numpy as np
import pytest

from forecast.errors import ForecastError
from forecast.inference.problem import fit, prepare
from forecast.inference.settings import SamplerSettings
from forecast.io.evidence import parse_evidence, parse_resolutions
from forecast.io.priors import load_scenario, parse_scenario, scenario_problems
from forecast.model.spec import Inputs

DATA = Path(__file__).parent / "data"
SCENARIO_TEXT = (DATA / "k_state_scenario.toml").read_text()
HEADER = "item_id,node,date,source,reliability,credibility,lr,cluster,summary,url,state\n"
EVIDENCE = HEADER + (
    "E001,attacks,2025-03-12,Monitor,A,1,3,,Shelling reported,,sustained\n"
    "E002,mediator,2025-03-13,Wire,B,2,1:2:0.5,,Qatar hosts envoys,,\n"
    "E003,talks,2025-03-14,Paper,C,3,0.5,,Delegations cancel,,\n"
    "E004,talks,2025-03-15,Paper,A,2,2,,Talks rumoured,,no\n")


@pytest.fixture(scope="module")
def scenario(tmp_path_factory):
    path = tmp_path_factory.mktemp("k") / "k-state.toml"
    path.write_text(SCENARIO_TEXT)
    return load_scenario(path)


def brute_force(scenario, items, resolutions=(), rows=None) -> dict[str, dict[str, float]]:
    """Every node's P(state | evidence) by summing over every joint state of the prior-mean
    network (the Dirichlet means), with each item's likelihood^w: the closed form, computed
    without the network code. `rows` ({(node, sorted when items): row}) replaces rows."""
    nodes = scenario.nodes
    means = {n.id: {tuple(sorted(dict(p.when).items())): p.row_mean for p in n.priors} for n in nodes}
    for (node, when), row in (rows or {}).items():
        means[node][when] = row
    rows = means
    weight: dict[tuple[str, str], float] = {}
    for it in items:
        node = scenario.node(it.node)
        if it.lrs:
            for state, lr in zip(node.states, it.lrs, strict=True):
                weight[(it.node, state)] = weight.get((it.node, state), 0.0) + it.weight * math.log(lr)
        else:
            state = it.state or "yes"
            weight[(it.node, state)] = weight.get((it.node, state), 0.0) + it.weight * math.log(it.lr)
    fixed = {r.node: (r.outcome if isinstance(r.outcome, str) else ("yes" if r.outcome else "no"))
             for r in resolutions}
    totals = {n.id: dict.fromkeys(n.states, 0.0) for n in nodes}
    for joint in itertools.product(*(n.states for n in nodes)):
        x = dict(zip([n.id for n in nodes], joint, strict=True))
        if any(x[k] != v for k, v in fixed.items()):
            continue
        p = 1.0
        for n in nodes:
            when = tuple(sorted((pa, (x[pa] == "yes") if scenario.node(pa).binary else x[pa])
                                for pa in n.parents))
            p *= rows[n.id][when][n.states.index(x[n.id])] * math.exp(weight.get((n.id, x[n.id]), 0.0))
        for n in nodes:
            totals[n.id][x[n.id]] += p
    return {k: {s: v / sum(d.values()) for s, v in d.items()} for k, d in totals.items()}


def distribution(scenario, posterior, net) -> dict[str, dict[str, float]]:
    out = {}
    for v, node in enumerate(scenario.nodes):
        lo = net.state_offsets[v]
        out[node.id] = {s: float(posterior.state_means[lo + node.engine_index(s)]) for s in node.states}
    return out


def inputs_of(scenario, evidence=EVIDENCE, resolutions=""):
    items = parse_evidence(evidence, "k-state.csv", scenario)
    res = parse_resolutions("node,outcome,date,source\n" + resolutions, "r.csv", scenario)
    return Inputs(scenario, items, res), items, res


@pytest.mark.parametrize("resolutions", ["", "attacks,sporadic,2025-04-01,Monitor\n",
                                         "talks,yes,2025-04-01,Wire\n"])
def test_exact_state_means_equal_enumeration_with_soft_and_hard_evidence(scenario, resolutions):
    inputs, items, res = inputs_of(scenario, resolutions=resolutions)
    problem = prepare(inputs)
    posterior = fit(problem, "exact", seed=1, settings=SamplerSettings(draws=500, chains=1))
    expected = brute_force(scenario, items, res)
    got = distribution(scenario, posterior, problem.net)
    for node, states in expected.items():
        for state, p in states.items():
            assert got[node][state] == pytest.approx(p, abs=1e-9), (node, state)


def test_exact_draws_average_to_the_exact_means(scenario):
    inputs, items, _ = inputs_of(scenario)
    posterior = fit(prepare(inputs), "exact", seed=3, settings=SamplerSettings(draws=4000, chains=1))
    draws = posterior.state_draws.reshape(-1, posterior.state_draws.shape[-1])
    se = draws.std(axis=0) / math.sqrt(len(draws))
    # 4.5 standard errors over 27 node-states: a false alarm about once in 10,000 runs
    assert np.all(np.abs(draws.mean(axis=0) - posterior.state_means) <= 4.5 * se + 1e-12)


def test_a_vector_lr_counts_only_its_ratios(scenario):
    scaled = EVIDENCE.replace("1:2:0.5", "2:4:1")
    a, _, _ = inputs_of(scenario)
    b, _, _ = inputs_of(scenario, scaled)
    settings = SamplerSettings(draws=10, chains=1)
    pa = fit(prepare(a), "exact", 0, settings).state_means
    pb = fit(prepare(b), "exact", 0, settings).state_means
    np.testing.assert_allclose(pa, pb, atol=1e-12)


def test_report_json_gives_every_state_in_declared_order(tmp_path):
    root = tmp_path
    (root / "priors").mkdir()
    (root / "evidence").mkdir()
    shutil.copy(DATA / "k_state_scenario.toml", root / "priors" / "k-state.toml")
    (root / "evidence" / "k-state.csv").write_text(EVIDENCE)
    from forecast.io.project import scenario_paths
    from forecast.jobs.report import make_report

    paths = scenario_paths(root, "k-state")
    document = make_report(paths, seed=0, write=True).document
    scenario = load_scenario(root / "priors" / "k-state.toml")
    items = parse_evidence(EVIDENCE, "k-state.csv", scenario)
    expected = brute_force(scenario, items)
    written = json.loads((root / "reports" / "k-state" / "report.json").read_text())
    for node in written["nodes"]:
        states = [row["state"] for row in node["distribution"]]
        assert states == node["states"] == list(scenario.node(node["id"]).states)
        for row in node["distribution"]:
            assert row["mean"] == pytest.approx(expected[node["id"]][row["state"]], abs=1e-6)
            low, high = row["interval"]
            assert 0 <= low <= row["mean"] <= high <= 1
        binary = node["states"] == ["yes", "no"]
        assert (node["mean"] is None) == (not binary)
        assert (node["term"] is None) == (not binary)
        if binary:
            assert node["mean"] == node["distribution"][0]["mean"]
        assert node["most_likely"] == max(node["distribution"], key=lambda r: r["mean"])["state"]
    assert written["nodes"][0]["ordered"] is True
    assert document["nodes"][2]["ordered"] is False


@pytest.mark.parametrize("change, field", [
    ('p = [0.5, 0.3, 0.2]', "p = [0.5, 0.3, 0.3]"),
    ('p = [0.5, 0.3, 0.2]', "p = [0.5, 0.5]"),
    ('when = { attacks = "sporadic" }', 'when = { attacks = "often" }'),
    ('states = ["turkey", "qatar", "nobody"]', 'states = ["turkey", "turkey", "nobody"]'),
    ('states = ["turkey", "qatar", "nobody"]', 'states = ["Turkey", "qatar", "nobody"]'),
    ('states = ["turkey", "qatar", "nobody"]', 'states = ["turkey"]'),
    ('states = ["turkey", "qatar", "nobody"]',
     "states = [" + ", ".join(f'"s{i}"' for i in range(101)) + "]"),
    ('dirichlet = [4, 3, 1]', "dirichlet = [4, 3, 0]"),
    ('dirichlet = [4, 3, 1]', "beta = [4, 3]"),
    ('dirichlet = [4, 3, 1]', 'term = "likely"\n  confidence = "low"'),
    ('ordered = true', 'ordered = "yes"'),
])
def test_each_mistake_in_the_new_keys_is_one_located_line(change, field):
    old, new = change, field
    assert old in SCENARIO_TEXT
    text = SCENARIO_TEXT.replace(old, new, 1)
    with pytest.raises(ForecastError) as caught:
        parse_scenario(text, "k-state.toml")
    message = str(caught.value)
    assert "\n" not in message and message.startswith("k-state.toml:node[")
    assert scenario_problems(text, "k-state.toml")


def test_parametric_cpt_on_a_k_state_node_is_a_located_error():
    text = SCENARIO_TEXT.replace('states = ["turkey", "qatar", "nobody"]\n',
                                 'states = ["turkey", "qatar", "nobody"]\ncpt = "noisy_or"\n')
    with pytest.raises(ForecastError, match=r"node\[mediator\]: cpt: .*table"):
        parse_scenario(text, "k-state.toml")


@pytest.mark.parametrize("row, field", [
    ("E9,attacks,2025-03-12,M,A,1,3,,s,,", "state"),              # scalar LR without a state
    ("E9,attacks,2025-03-12,M,A,1,3,,s,,often", "state"),         # unknown state
    ("E9,attacks,2025-03-12,M,A,1,1:2,,s,,", "lr"),                # wrong number of entries
    ("E9,attacks,2025-03-12,M,A,1,1:2:3,,s,,none", "lr"),          # vector LR with a state
    ("E9,talks,2025-03-12,M,A,1,2,,s,,maybe", "state"),           # binary node: yes/no only
    ("E9,talks,2025-03-12,M,A,1,1:2,,s,,", "lr"),                  # binary node: no vector
])
def test_bad_state_or_vector_lr_names_file_line_and_field(scenario, row, field):
    with pytest.raises(ForecastError, match=rf"^k-state.csv:2: {field}: "):
        parse_evidence(HEADER + row + "\n", "k-state.csv", scenario)


def test_a_resolution_names_a_state_of_its_node(scenario):
    with pytest.raises(ForecastError, match=r"^r.csv:2: outcome: expected a state of attacks"):
        parse_resolutions("node,outcome,date,source\nattacks,yes,2025-04-01,M\n", "r.csv", scenario)
    (res,) = parse_resolutions("node,outcome,date,source\nattacks,sustained,2025-04-01,M\n", "r.csv",
                               scenario)
    assert res.state == "sustained"


def test_a_file_without_the_state_column_stays_valid(scenario):
    text = HEADER.replace(",state", "") + "E1,talks,2025-03-12,M,A,1,2,,s,\n"
    (item,) = parse_evidence(text, "k-state.csv", scenario)
    assert item.state == "" and item.lr == 2.0


@pytest.mark.slow
def test_nuts_agrees_with_the_exact_engine_on_a_k_state_scenario(scenario):
    inputs, _, _ = inputs_of(scenario, resolutions="talks,yes,2025-04-01,Wire\n")
    problem = prepare(inputs)
    exact = fit(problem, "exact", 0, SamplerSettings(draws=10, chains=1)).state_means
    nuts = fit(problem, "nuts", 1, SamplerSettings(draws=1000, chains=2, backend="nutpie"))
    draws = nuts.state_draws.reshape(-1, nuts.state_draws.shape[-1])
    from forecast.inference.diagnostics import mcse_mean

    se = np.maximum(mcse_mean(nuts.state_draws), 1e-12)
    z = np.abs(draws.mean(axis=0) - exact) / se
    open_ = draws.std(axis=0) > 0
    # Bonferroni over the open node-states at 1% family-wise
    from statistics import NormalDist
    limit = NormalDist().inv_cdf(1 - 0.01 / (2 * max(1, open_.sum())))
    assert np.all(z[open_] <= limit), (z, limit)
    assert not nuts.diagnostics["warnings"]
