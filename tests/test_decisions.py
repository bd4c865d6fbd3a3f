"""Decision support: `forecast watch` (value of information) and `forecast sensitivity`
(one-way sensitivity to the CPT entries), held to brute force through the exact engine, to
hand-computed values on a two-node network, and to their definitions' properties."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from conftest import DATA
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from test_engines import HEAVY, generated_root
from typer.testing import CliRunner

from forecast.analysis import decisions
from forecast.cli import app
from forecast.inference import elimination, exact
from forecast.inference.problem import prepare
from forecast.io.priors import parse_scenario
from forecast.io.project import load_inputs, scenario_paths
from forecast.model.generate import scenario_toml
from forecast.model.network import build_network

runner = CliRunner()

# Two nodes, a -> b: a Beta root, b with a fixed row and a Beta row (tests/data/pair/).
TWO_NODE = (DATA / "pair" / "priors" / "pair.toml").read_text()


def pair_root(tmp_path: Path, evidence: str = "") -> Path:
    (tmp_path / "priors").mkdir(parents=True, exist_ok=True)
    (tmp_path / "evidence").mkdir(parents=True, exist_ok=True)
    (tmp_path / "priors" / "pair.toml").write_text(TWO_NODE)
    (tmp_path / "evidence" / "pair.csv").write_text(
        "item_id,node,date,source,reliability,credibility,lr,cluster,summary,url\n" + evidence)
    return tmp_path


def invoke_json(*args: str):
    result = runner.invoke(app, [*args, "--format", "json"])
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def brute_force_watch(net, weights, conditions, targets) -> dict[int, dict[int, float]]:
    """Each unresolved node clamped both ways through the exact engine, one call per clamp:
    P(v)(1 - P(v)) (P(t | v) - P(t | not v))^2 per target t != v."""
    p = exact.posterior_means(net, weights, conditions)
    out = {}
    for v, node in enumerate(net.node_ids):
        if node in conditions:
            continue
        yes = exact.posterior_means(net, weights, {**conditions, node: True})
        no = exact.posterior_means(net, weights, {**conditions, node: False})
        out[v] = {t: p[v] * (1 - p[v]) * (yes[t] - no[t]) ** 2 for t in targets if t != v}
    return out


# --------------------------------------------------------------------------- watch: figures

def test_watch_values_equal_brute_force_clamps_to_1e_9(tmp_path):
    """A 24-node generated network with soft evidence and two resolutions: the batched values,
    and the CLI's JSON, equal one exact calibration per clamp."""
    root = generated_root(tmp_path, "w24", 24, seed=11, n_items=60, window=4,
                          resolved={"n05": "yes", "n17": "no"})
    problem = prepare(load_inputs(scenario_paths(root, "w24")))
    net = problem.net
    consequences = [i for i, n in enumerate(load_inputs(scenario_paths(root, "w24")).scenario.nodes)
                    if n.role == "consequence" and n.id not in problem.conditions]
    result = decisions.value_of_information(net, problem.node_log_weights, problem.conditions,
                                            consequences)
    reference = brute_force_watch(net, problem.node_log_weights, problem.conditions, consequences)
    assert set(result.candidates) == set(reference)
    for i, v in enumerate(result.candidates):
        expected = sum(reference[v].values())
        assert abs(result.value[i] - expected) <= 1e-9
        for j, t in enumerate(result.targets):
            assert abs(result.per_target[i, j] - reference[v].get(t, 0.0)) <= 1e-9
    items = invoke_json("watch", "--root", str(root), "--scenario", "w24")
    assert [item["node"] for item in items] == sorted(
        (net.node_ids[v] for v in reference), key=lambda n: -sum(reference[net.index(n)].values()))
    for item in items:
        v = net.index(item["node"])
        assert abs(item["value"] - sum(reference[v].values())) <= 1e-9
        assert item["per_target"].keys() == {net.node_ids[t] for t in reference[v]}
        for target, share in item["per_target"].items():
            assert abs(share - reference[v][net.index(target)]) <= 1e-9


def test_watch_on_two_nodes_matches_the_formula_by_hand(tmp_path):
    """a ~ Beta(3, 7) (mean 0.3), P(b | a) ~ Beta(8, 2) (mean 0.8), P(b | not a) = 0.2 fixed.
    Watching a for target b: 0.3 * 0.7 * (0.8 - 0.2)^2 = 0.0756. With an item of LR 4 on b
    (weight 1: grade A1): P(a | e) = 0.3*(0.8*4 + 0.2) / (0.3*3.4 + 0.7*1.6) = 1.02/2.14, and
    P(b | a, e) = 3.2/3.4, P(b | not a, e) = 0.8/1.6."""
    root = pair_root(tmp_path)
    items = invoke_json("watch", "--root", str(root), "--scenario", "pair")
    assert [item["node"] for item in items] == ["a", "b"]     # every unresolved node is listed
    assert items[1]["value"] == 0.0 and items[1]["per_target"] == {}   # b is never its own target
    assert items[0]["value"] == pytest.approx(0.0756, abs=1e-12)
    assert items[0]["per_target"] == {"b": pytest.approx(0.0756, abs=1e-12)}
    assert items[0]["if_yes"] == {"b": 0.8} and items[0]["if_no"] == {"b": 0.2}

    pair_root(tmp_path, "E1,b,2025-01-02,Wire,A,1,4,,an item,\n")
    items = invoke_json("watch", "--root", str(root), "--scenario", "pair", "--target", "b")
    pa = 1.02 / 2.14
    assert items[0]["value"] == pytest.approx(pa * (1 - pa) * (3.2 / 3.4 - 0.8 / 1.6) ** 2, abs=1e-9)
    # targets may include drivers; a node is never its own target
    items = invoke_json("watch", "--root", str(root), "--scenario", "pair", "--target", "a",
                        "--target", "b")
    by_node = {item["node"]: item for item in items}
    assert set(by_node["a"]["per_target"]) == {"b"} and set(by_node["b"]["per_target"]) == {"a"}
    # the variance of a's forecast over b's outcome: the same product, by symmetry of the formula
    pb = pa * 3.2 / 3.4 + (1 - pa) * 0.8 / 1.6
    a_if_b, a_if_not_b = pa * (3.2 / 3.4) / pb, pa * (0.2 / 3.4) / (1 - pb)
    assert by_node["b"]["value"] == pytest.approx(pb * (1 - pb) * (a_if_b - a_if_not_b) ** 2, abs=1e-9)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(seed=st.integers(0, 10_000), n_nodes=st.integers(3, 9))
def test_watch_value_is_a_variance_bounded_by_the_targets_uncertainty(seed, n_nodes):
    """For every node, each target's term is the variance of a conditional expectation: at
    least 0, at most the target's own Brier uncertainty P(t)(1 - P(t)); the per-target terms
    sum to the value; the interval over CPT draws is ordered; top shares sum to 1."""
    net = build_network(parse_scenario(scenario_toml("h", n_nodes, seed=seed, max_parents=3),
                                       "h.toml"))
    rng = np.random.default_rng(seed)
    weights = rng.normal(0, 1.0, n_nodes)
    targets = list(range(n_nodes))
    _p, theta = elimination.conjugate_draws(exact.structure_of(net), net.alpha, net.beta, net.fixed,
                                            weights, None, 40, rng)
    result = decisions.value_of_information(net, weights, {}, targets, theta_draws=theta)
    p = exact.posterior_means(net, weights)
    assert np.all(result.per_target >= 0)
    assert np.all(result.per_target <= (p * (1 - p))[None, :] + 1e-12)
    np.testing.assert_allclose(result.per_target.sum(axis=1), result.value, atol=1e-15)
    spread = result.spread()
    assert np.all(spread[:, 0] <= spread[:, 1]) and np.all(spread >= 0)
    assert result.top_share().sum() == pytest.approx(1.0)


def test_watch_averaged_over_draws_converges_to_the_exact_value():
    """The NUTS path (forecasts as averages over posterior draws of theta, reweighted by
    P(v | theta)) fed exact iid conjugate draws: it estimates the same quantity as the exact
    engine, within Monte Carlo error."""
    net = build_network(parse_scenario(scenario_toml("c", 10, seed=3, max_parents=2), "c.toml"))
    weights = np.random.default_rng(2).normal(0, 0.8, 10)
    conditions = {"n04": True}
    targets = [7, 8, 9]
    exact_result = decisions.value_of_information(net, weights, conditions, targets)
    _p, theta = elimination.conjugate_draws(exact.structure_of(net), net.alpha, net.beta, net.fixed,
                                            weights, net.node_mask(conditions), 6000,
                                            np.random.default_rng(5))
    averaged = decisions.value_of_information(net, weights, conditions, targets, theta_draws=theta,
                                              integrated=False)
    np.testing.assert_allclose(averaged.p_yes, exact_result.p_yes, atol=0.02)
    np.testing.assert_allclose(averaged.given_yes, exact_result.given_yes, atol=0.03)
    np.testing.assert_allclose(averaged.value, exact_result.value, atol=0.1 * exact_result.value.max())


def test_a_node_that_cannot_happen_is_worth_nothing_and_breaks_nothing():
    """A constant P(a) = 0 (possible in a network built in code; the TOML parser refuses it)
    makes a impossible: clamping it yes would be contradictory evidence. Its value is exactly
    0, b's is 0 too (a cannot vary), and neither raises, with or without CPT draws."""
    import dataclasses

    net = build_network(parse_scenario(TWO_NODE, "pair.toml"))
    fixed, alpha, beta = net.fixed.copy(), net.alpha.copy(), net.beta.copy()
    fixed[0], alpha[0], beta[0] = 0.0, np.nan, np.nan
    net = dataclasses.replace(net, fixed=fixed, alpha=alpha, beta=beta)
    for draws in (None, np.tile(net.prior_means, (5, 1))):
        result = decisions.value_of_information(net, np.zeros(2), {}, [0, 1], theta_draws=draws)
        assert result.value.tolist() == [0.0, 0.0]
        assert result.p_yes[0] == 0.0


# ------------------------------------------------------------------------- watch: the command

def test_watch_defaults_to_the_unresolved_consequences_and_skips_resolved_nodes(data_root):
    """burglary: john_calls and mary_calls are resolved; alarm is the one unresolved
    consequence, so it is the default target and never its own; resolved nodes are not listed."""
    result = runner.invoke(app, ["watch", "--root", str(data_root), "--scenario", "burglary"])
    assert result.exit_code == 0, result.output
    assert "Targets: alarm" in result.stdout
    items = invoke_json("watch", "--root", str(data_root), "--scenario", "burglary")
    assert {item["node"] for item in items} == {"burglary", "earthquake", "alarm"}
    assert [item["value"] for item in items] == sorted((item["value"] for item in items), reverse=True)
    for item in items:
        assert set(item) >= {"node", "value", "per_target"}
        assert set(item["per_target"]) == ({"alarm"} - {item["node"]})
        low, high = item["interval"]
        assert 0 <= low <= high


@pytest.mark.parametrize("target,expected", [
    ("nowhere", "--target: expected a node of burglary (one of alarm, burglary, earthquake, "
                "john_calls, mary_calls), found 'nowhere'"),
    ("john_calls", "--target: expected an unresolved node (john_calls is resolved: its forecast "
                   "cannot move), found 'john_calls'"),
])
def test_a_bad_target_is_one_line_naming_the_option(data_root, target, expected):
    for command in ("watch", "sensitivity"):
        result = runner.invoke(app, [command, "--root", str(data_root), "--scenario", "burglary",
                                     "--target", target])
        assert result.exit_code == 1
        assert result.stderr == f"Error: {expected}\n"


def test_watch_as_of_replays_the_evidence_of_that_day(tmp_path):
    """--as-of uses only the evidence dated on or before it: the replayed values equal the
    library's on the truncated evidence (and differ from today's)."""
    root = pair_root(tmp_path, "E1,b,2025-01-02,Wire,A,1,4,,early,\nE2,a,2025-03-01,Wire,A,1,0.2,,late,\n")
    replay = invoke_json("watch", "--root", str(root), "--scenario", "pair", "--as-of", "2025-02-01")
    today = invoke_json("watch", "--root", str(root), "--scenario", "pair")
    pa = 1.02 / 2.14
    assert replay[0]["value"] == pytest.approx(pa * (1 - pa) * (3.2 / 3.4 - 0.8 / 1.6) ** 2, abs=1e-9)
    assert today[0]["value"] != pytest.approx(replay[0]["value"], abs=1e-6)
    result = runner.invoke(app, ["watch", "--root", str(root), "--scenario", "pair", "--as-of", "2024-01-01"])
    assert result.exit_code == 1 and "--as-of" in result.stderr and "2025-01-01" in result.stderr


def test_watch_with_nothing_left_to_target_says_so(data_root):
    resolutions = data_root / "evidence" / "burglary.resolutions.csv"
    resolutions.write_text(resolutions.read_text() + "alarm,yes,2025-01-02,Log\n")
    result = runner.invoke(app, ["watch", "--root", str(data_root), "--scenario", "burglary"])
    assert result.exit_code == 0
    assert "No unresolved consequence to forecast: name targets with --target NODE." in result.stdout
    items = invoke_json("watch", "--root", str(data_root), "--scenario", "burglary")
    assert all(item["value"] == 0.0 and item["per_target"] == {} for item in items)


# ----------------------------------------------------------------------------- sensitivity

def test_sensitivity_on_two_nodes_matches_the_beta_quantiles_by_hand(tmp_path):
    """b's forecast is P(a) * P(b | a) + (1 - P(a)) * 0.2. Moving P(a) to its Beta(3, 7)
    quantiles q gives q * 0.8 + (1 - q) * 0.2; moving P(b | a) to its Beta(8, 2) quantiles r
    gives 0.3 * r + 0.7 * 0.2. The fixed entry is not uncertain and is not listed."""
    from scipy.special import betainc

    root = pair_root(tmp_path)
    doc = invoke_json("sensitivity", "--root", str(root), "--scenario", "pair")
    rows = doc["b"]
    assert [(r["node"], r["when"]) for r in rows] == [("b", {"a": "yes"}), ("a", {})] or \
        [(r["node"], r["when"]) for r in rows] == [("a", {}), ("b", {"a": "yes"})]
    by_node = {r["node"]: r for r in rows}
    q_low, q_high = by_node["a"]["entry_low"], by_node["a"]["entry_high"]
    assert betainc(3, 7, q_low) == pytest.approx(0.05, abs=1e-5)
    assert betainc(3, 7, q_high) == pytest.approx(0.95, abs=1e-5)
    assert by_node["a"]["low"] == pytest.approx(q_low * 0.8 + (1 - q_low) * 0.2, abs=2e-6)
    assert by_node["a"]["high"] == pytest.approx(q_high * 0.8 + (1 - q_high) * 0.2, abs=2e-6)
    r_low, r_high = by_node["b"]["entry_low"], by_node["b"]["entry_high"]
    assert betainc(8, 2, r_low) == pytest.approx(0.05, abs=1e-5)
    assert by_node["b"]["low"] == pytest.approx(0.3 * r_low + 0.14, abs=2e-6)
    assert by_node["b"]["high"] == pytest.approx(0.3 * r_high + 0.14, abs=2e-6)
    swings = [r["swing_pp"] for r in rows]
    assert swings == sorted(swings, reverse=True)
    for r in rows:
        assert r["swing_pp"] == pytest.approx(100 * abs(r["high"] - r["low"]), abs=0.01)
        assert r["forecast"] == pytest.approx(0.3 * 0.8 + 0.7 * 0.2)


def test_sensitivity_equals_a_refit_with_the_entry_moved(tmp_path):
    """Every row of a generated network with evidence and a resolution: the forecast with the
    entry moved, recomputed through the kernel one row at a time."""
    root = generated_root(tmp_path, "s12", 12, seed=4, n_items=30, window=3, resolved={"n03": "no"})
    problem = prepare(load_inputs(scenario_paths(root, "s12")))
    net = problem.net
    doc = invoke_json("sensitivity", "--root", str(root), "--scenario", "s12", "--target", "n11",
                      "--target", "n09")
    assert list(doc) == ["n11", "n09"]
    quantiles = decisions.beta_quantiles(net.alpha, net.beta)
    entry_of = {}
    for k in net.free:
        when = {net.node_ids[p]: ("yes" if net.entry_config[k] >> b & 1 else "no")
                for b, p in enumerate(net.parents[net.entry_node[k]])}
        entry_of[(net.node_ids[net.entry_node[k]], tuple(when.items()))] = k
    for target, rows in doc.items():
        assert len(rows) == len(net.free)
        for row in rows[:6]:
            k = entry_of[(row["node"], tuple(row["when"].items()))]
            for side, q in (("low", quantiles[k, 0]), ("high", quantiles[k, 1])):
                theta = net.prior_means.copy()
                theta[k] = q
                p, _ = elimination.marginals(exact.structure_of(net), theta, problem.node_log_weights,
                                             net.node_mask(problem.conditions))
                assert row[side] == pytest.approx(p[net.index(target)], abs=1e-6)
    limited = invoke_json("sensitivity", "--root", str(root), "--scenario", "s12", "--top", "3")
    assert all(len(rows) == 3 for rows in limited.values())


def test_sensitivity_on_a_parametric_cpt_moves_its_base_and_parent_numbers(data_root):
    """noisy-or-four: a noisy-OR node's numbers (its base, each parent's number) are what is
    uncertain, not its 16 entries. Each row equals the forecast with the CPT made from the
    numbers, one moved to its quantile, by the noisy-OR formula."""
    from forecast.model.parametric import cpt_table

    doc = invoke_json("sensitivity", "--root", str(data_root), "--scenario", "noisy-or-four",
                      "--target", "effect")
    problem = prepare(load_inputs(scenario_paths(data_root, "noisy-or-four")))
    net = problem.net
    v = net.index("effect")
    parametric = [r for r in doc["effect"] if r["node"] == "effect"]
    parameters = net.parameters
    mine = np.flatnonzero(parameters.node == v)
    uncertain = {"base" if parameters.slot[i] < 0 else net.node_ids[net.parents[v][parameters.slot[i]]]
                 for i in mine if np.isnan(parameters.fixed[i])}        # a fixed number is not listed
    assert {r["cause"] for r in parametric} == uncertain and len(uncertain) >= 3
    assert all(r["cpt"] == "noisy_or" for r in parametric)
    for row in parametric:
        slot = -1 if row["cause"] == "base" else [net.node_ids[p] for p in net.parents[v]].index(row["cause"])
        i = int(mine[list(parameters.slot[mine]).index(slot)])
        for side in ("low", "high"):
            numbers = parameters.prior_means.copy()
            numbers[i] = row[f"entry_{side}"]
            theta = parameters.theta(numbers)
            base, causes = numbers[mine[0]], numbers[mine[1:]]
            np.testing.assert_allclose(theta[net.first_entry[v]:net.first_entry[v] + 2 ** len(causes)],
                                       cpt_table("noisy_or", base, causes), atol=1e-12)
            p, _ = elimination.marginals(exact.structure_of(net), theta, problem.node_log_weights,
                                         net.node_mask(problem.conditions))
            assert row[side] == pytest.approx(p[v], abs=2e-6)
    table = runner.invoke(app, ["sensitivity", "--root", str(data_root), "--scenario", "noisy-or-four"])
    assert table.exit_code == 0 and "number on effect (noisy_or)" in table.stdout


def test_sensitivity_table_names_what_each_forecast_hangs_on(repo_root):
    """The shipped scenario: each target's table opens with the widest entry of the JSON."""
    from forecast.jobs.sensitivity import sensitivity_document
    from forecast.render.decisions import render_sensitivity_text, row_label

    result = runner.invoke(app, ["sensitivity", "--root", str(repo_root), "--top", "2"])
    assert result.exit_code == 0, result.output
    doc = invoke_json("sensitivity", "--root", str(repo_root))
    assert doc
    wide = render_sensitivity_text(sensitivity_document(scenario_paths(repo_root, "turkey-peacekeeping")),
                                   top=2, width=250)
    for target, rows in doc.items():
        assert f"{target}: forecast" in result.stdout
        first_row = wide[wide.index(f"{target}: forecast"):].splitlines()[4]
        assert row_label(rows[0]) in first_row and f"{rows[0]['swing_pp']:.1f} pp" in first_row


def test_watch_and_sensitivity_never_import_pymc(tmp_path):
    root = generated_root(tmp_path, "light", 8, seed=5, n_items=10, window=3)
    code = f"""
import sys
from typer.testing import CliRunner
from forecast.cli import app
runner = CliRunner()
for args in (["watch"], ["sensitivity"], ["watch", "--format", "json", "--as-of", "2025-02-01"]):
    result = runner.invoke(app, [*args, "--root", {str(root)!r}, "--scenario", "light"])
    assert result.exit_code == 0, result.output
print(",".join(sorted(m for m in {HEAVY!r} if m in sys.modules)))
"""
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == ""


@pytest.mark.slow
def test_watch_on_the_nuts_engine_agrees_with_the_exact_values(data_root):
    """--engine nuts on a table scenario: the forecasts behind each value are averages over
    the sampler's draws; they agree with the exact engine within Monte Carlo error."""
    exact_items = invoke_json("watch", "--root", str(data_root), "--scenario", "two-node-beta",
                              "--target", "b", "--target", "a")
    nuts_items = invoke_json("watch", "--root", str(data_root), "--scenario", "two-node-beta",
                             "--target", "b", "--target", "a", "--engine", "nuts", "--no-progress",
                             "--cpt-draws", "2000")
    by_node = {item["node"]: item for item in nuts_items}
    for item in exact_items:
        other = by_node[item["node"]]
        assert other["p_yes"] == pytest.approx(item["p_yes"], abs=0.03)
        assert other["value"] == pytest.approx(item["value"], abs=0.2 * item["value"] + 1e-3)


def test_watch_and_sensitivity_json_match_docs_json(repo_root):
    """docs/json.md's examples against real output (the maps keyed by target are open maps:
    checked as maps of numbers)."""
    from test_render import check_like, documented_examples

    examples = documented_examples()
    watch_items = invoke_json("watch", "--root", str(repo_root))
    by_target = ("per_target", "if_yes", "if_no")
    check_like({k: v for k, v in examples["watch"][0].items() if k not in by_target}, watch_items[0])
    for item in watch_items:
        for key in by_target:
            assert all(isinstance(x, float) for x in item[key].values())
    rows = invoke_json("sensitivity", "--root", str(repo_root))["russia_ties_strained"]
    check_like({k: v for k, v in examples["sensitivity"]["russia_ties_strained"][0].items()
                if k != "when"}, rows[0])
    assert all(set(row["when"].values()) <= {"yes", "no"} for row in rows)


def test_the_report_carries_what_to_watch_and_what_each_forecast_hangs_on(repo_root):
    """report.json's `watch` and `sensitivity` are the commands' first rows (same numbers), and
    report.md names the entry each open consequence hangs on most."""
    report = invoke_json("report", "--root", str(repo_root), "--no-progress")
    watch = invoke_json("watch", "--root", str(repo_root))
    assert [w["node"] for w in report["watch"]] == [w["node"] for w in watch[:5]]
    for ours, theirs in zip(report["watch"], watch, strict=False):
        assert ours["value"] == theirs["value"] and ours["per_target"] == theirs["per_target"]
        assert "interval" not in ours
    sens = invoke_json("sensitivity", "--root", str(repo_root))
    assert report["sensitivity"]["quantiles"] == [0.05, 0.95]
    assert report["sensitivity"]["targets"] == {t: rows[:5] for t, rows in sens.items()}
    md = (repo_root / "reports" / "turkey-peacekeeping" / "report.md").read_text()
    from forecast.render.decisions import row_label

    for target, rows in sens.items():
        assert f"- `{target}`: this forecast hangs mostly on `{row_label(rows[0])}`" in md
    assert f"- `{watch[0]['node']}` (" in md


def test_the_python_api_gives_what_the_commands_print(repo_root):
    from forecast.api import Project

    project = Project(repo_root)
    frame = project.watch()
    items = invoke_json("watch", "--root", str(repo_root))
    assert frame["node"].tolist() == [w["node"] for w in items]
    assert frame["value"].tolist() == [w["value"] for w in items]
    assert frame["low"].tolist() == [w["interval"][0] for w in items]
    table = project.sensitivity(targets=["russia_ties_strained"], top=3)
    rows = invoke_json("sensitivity", "--root", str(repo_root), "--target", "russia_ties_strained",
                       "--top", "3")["russia_ties_strained"]
    assert table.drop(columns="target").to_dict("records") == rows
