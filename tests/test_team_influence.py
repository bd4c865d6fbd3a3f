"""A team's "what moved it": each item's (and cluster's) effect on the POOLED forecast, the
logarithmic pool of every analyst's forecast with the item left out, in report.json and in the
update's snapshot. Checked against enumerations of each analyst's network with the item removed,
pooled by hand (test_team_commands.py's `enumerate_two` and `logistic_pool`)."""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pytest
from conftest import two_node_team
from test_team_commands import GRIM, TWO, VIEWS, K, enumerate_two, logistic_pool
from typer.testing import CliRunner

from forecast.cli import app

runner = CliRunner()
SCENARIO_VIEW = (0.5, 0.75, 0.25)       # tests/data/priors/two-node-beta.toml's prior means
AS_OF = "2025-03-01"

# E1 (LR 3 on b) and E3 (LR 2 on b) restate one event (cluster c1: E1 counts, the stronger);
# E2 is LR 2 on a. What each leave-out keeps, as likelihood ratios on yes:
EVIDENCE = ("item_id,node,date,source,reliability,credibility,lr,cluster,summary,url\n"
            "E1,b,2025-02-01,Test,A,1,3,c1,B looks three times likelier,\n"
            "E2,a,2025-03-01,Test,A,1,2,,A looks twice as likely,\n"
            "E3,b,2025-03-01,Test,A,1,2,c1,B looks likelier (a restatement),\n")
KEPT = {"E1": {"a": 2.0, "b": 2.0}, "E2": {"b": 3.0}, "E3": {"a": 2.0, "b": 3.0},
        "c1": {"a": 2.0}}
ALL = {"a": 2.0, "b": 3.0}


@pytest.fixture
def team_root(tmp_path) -> Path:
    """two-node-beta with the analysts hawk and dove, EVIDENCE, and nothing resolved."""
    return two_node_team(tmp_path / "team", EVIDENCE)


def pooled_effects(views, given: dict[str, bool] | None = None) -> dict[str, dict[str, float]]:
    """{leave-out: {node: effect in pp}}: the pool of the analysts' enumerated forecasts with
    all the evidence less the pool of theirs with the leave-out's evidence removed."""
    given = given or {}

    def pool(lr):
        each = [enumerate_two(view, lr, given) for view in views]
        return {n: logistic_pool([e[n] for e in each]) if n not in given else float(given[n])
                for n in ("a", "b")}

    full = pool(ALL)
    return {key: {n: 100 * (full[n] - pool(lr)[n]) for n in ("a", "b")}
            for key, lr in KEPT.items()}


def invoke(*args) -> dict:
    result = runner.invoke(app, [str(a) for a in args])
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def test_a_teams_report_says_what_moved_the_pooled_forecast(team_root):
    doc = invoke("report", "--root", team_root, "-s", TWO, "--as-of", AS_OF, "--format", "json")
    team = pooled_effects(VIEWS.values())
    scenario = pooled_effects([SCENARIO_VIEW])
    # the team's effects are not the scenario's own priors' (the test can tell them apart)
    assert abs(team["E2"]["b"] - scenario["E2"]["b"]) > 1
    for node in doc["nodes"]:
        rows = node["moved_most"]
        assert rows, node["id"]
        for row in rows:
            assert row["effect_pp"] == pytest.approx(team[row["id"]][node["id"]], abs=0.006)
        for row in node["top_evidence"]:
            assert row["effect_pp"] == pytest.approx(team[row["item_id"]][node["id"]], abs=0.006)
        shown = {row["id"] for row in rows}
        assert shown == {k for k, e in team.items() if abs(e[node["id"]]) >= 0.005}
    b = {n["id"]: n for n in doc["nodes"]}["b"]
    full = logistic_pool([enumerate_two(v, ALL, {})["b"] for v in VIEWS.values()])
    without = logistic_pool([enumerate_two(v, KEPT["E1"], {})["b"] for v in VIEWS.values()])
    (e1,) = [row for row in b["moved_most"] if row["id"] == "E1"]
    assert e1["effect_logodds"] == pytest.approx(
        math.log(full / (1 - full)) - math.log(without / (1 - without)), abs=1e-4)
    said = "so is each effect: the pool of every analyst's forecast without the item"
    for page in ("report.md", "report.html"):
        text = (team_root / "reports" / TWO / page).read_text()
        assert said in text.replace("&#39;", "'").replace("\n   ", ""), page


def test_one_analysts_report_says_what_moved_their_own_forecast(team_root):
    doc = invoke("report", "--root", team_root, "-s", TWO, "--as-of", AS_OF, "--analyst", "hawk",
                 "--format", "json")
    own = pooled_effects([VIEWS["hawk"]])
    said = "so is each effect"
    assert said not in (team_root / "reports" / TWO / "analysts" / "hawk" / "report.md").read_text()
    for node in doc["nodes"]:
        for row in node["moved_most"]:
            assert row["effect_pp"] == pytest.approx(own[row["id"]][node["id"]], abs=0.006)


def test_a_teams_whatif_says_what_moved_the_pooled_conditional_forecast(team_root):
    doc = invoke("whatif", "--root", team_root, "-s", TWO, "--as-of", AS_OF, "-g", "a=yes",
                 "--format", "json")
    team = pooled_effects(VIEWS.values(), {"a": True})
    b = {n["id"]: n for n in doc["nodes"]}["b"]
    assert {row["id"] for row in b["moved_most"]} == {"E1", "c1"}
    for row in b["moved_most"]:
        assert row["effect_pp"] == pytest.approx(team[row["id"]]["b"], abs=0.006)


def test_a_whatif_works_out_what_moved_and_what_to_watch_only_for_the_forecast_it_explains(
        team_root, monkeypatch):
    """Of the forecast without the conditions a what-if shows only the numbers: a team's
    leaves evidence out only of the analysts' networks, once (the pool's influence on the
    conditional forecast), never of the scenario's own priors, and makes the decisions once
    (the conditional document's: a team's are the team's); one analyst's leaves out once, of
    their network."""
    from collections import Counter

    from forecast.analysis import decisions, document
    from forecast.jobs import team, whatif

    calls: Counter = Counter()

    def counted(module, name: str) -> None:
        original = getattr(module, name)

        def counting(*args, **kwargs):
            calls[name] += 1
            return original(*args, **kwargs)

        monkeypatch.setattr(module, name, counting)

    counted(document, "influence")
    counted(whatif, "pooled_influence")
    counted(decisions, "page_whatif")
    counted(team, "team_report_decisions")
    invoke("whatif", "--root", team_root, "-s", TWO, "--as-of", AS_OF, "-g", "a=yes",
           "--format", "json")
    # the team's decisions (each analyst's page what-ifs, pooled), never the scenario's own
    assert calls == Counter({"pooled_influence": 1, "team_report_decisions": 1})
    calls.clear()
    invoke("whatif", "--root", team_root, "-s", TWO, "--as-of", AS_OF, "-g", "a=yes",
           "--analyst", "hawk", "--format", "json")
    assert calls == Counter({"influence": 1, "page_whatif": 1})


def test_a_teams_update_stores_and_names_what_moved_the_pool(team_root):
    """The snapshot's influence, cluster_influence and resolution_influence are the pool's;
    a resolution recorded later is named on b with its effect on the pool."""
    result = runner.invoke(app, ["update", "--root", str(team_root), "-s", TWO, "--as-of", AS_OF])
    assert result.exit_code == 0, result.output
    history = team_root / "reports" / TWO / "history.jsonl"
    first = json.loads(history.read_text().splitlines()[-1])
    team = pooled_effects(VIEWS.values())
    for key in ("E1", "E2"):
        assert first["influence"][key] == pytest.approx(
            {n: round(e, 2) for n, e in team[key].items() if round(e, 2)}, abs=0.011)
    assert "E3" not in first["influence"]          # its cluster's stronger item counts
    assert first["cluster_influence"]["c1"] == pytest.approx(
        {n: round(e, 2) for n, e in team["c1"].items()}, abs=0.011)
    (team_root / "evidence" / f"{TWO}.resolutions.csv").write_text(
        f"node,outcome,date,source\na,no,{AS_OF},Test\n")
    result = runner.invoke(app, ["update", "--root", str(team_root), "-s", TWO, "--as-of", AS_OF,
                                 "--format", "json"])
    assert result.exit_code == 0, result.output
    second = json.loads(history.read_text().splitlines()[-1])
    now = logistic_pool([enumerate_two(v, ALL, {"a": False})["b"] for v in VIEWS.values()])
    before = logistic_pool([enumerate_two(v, ALL, {})["b"] for v in VIEWS.values()])
    assert second["resolution_influence"]["a"]["b"] == pytest.approx(100 * (now - before),
                                                                     abs=0.006)
    scenario = (enumerate_two(SCENARIO_VIEW, ALL, {"a": False})["b"]
                - enumerate_two(SCENARIO_VIEW, ALL, {})["b"])
    assert abs(second["resolution_influence"]["a"]["b"] - 100 * scenario) > 0.5
    conditioned = pooled_effects(VIEWS.values(), {"a": False})
    assert second["influence"]["E1"]["b"] == pytest.approx(conditioned["E1"]["b"], abs=0.006)


def test_k_state_team_influence_is_the_pool_of_each_analysts_leave_outs(k_root):
    """On questions with more outcomes: every node-state's effect is the normalised geometric
    mean of the analysts' forecasts with all the evidence less that of theirs with the item
    left out, each analyst's computed here by a calibration per leave-out (no retraction)."""
    from forecast.analysis.summaries import pooled_influence
    from forecast.inference.exact import state_means
    from forecast.inference.problem import prepare
    from forecast.io.project import load_inputs, scenario_paths
    from forecast.model.network import state_log_weights

    (k_root / "priors" / K).mkdir()
    (k_root / "priors" / K / "grim.toml").write_text(GRIM)
    (k_root / "priors" / K / "same.toml").write_text("")
    paths = scenario_paths(k_root, K)
    problems = [prepare(load_inputs(paths, analyst=a)) for a in ("grim", "same")]
    items = load_inputs(paths).evidence
    net = problems[0].net
    offsets = np.asarray(net.state_offsets)

    def pooled(kept) -> np.ndarray:
        logs = np.mean([np.log(state_means(p.net, state_log_weights(p.net, kept), p.conditions))
                        for p in problems], axis=0)
        out = np.empty_like(logs)
        for lo, hi in zip(offsets[:-1], offsets[1:], strict=True):
            out[lo:hi] = np.exp(logs[lo:hi]) / np.exp(logs[lo:hi]).sum()
        return out

    full = pooled(items)
    got = pooled_influence([(p.net, p.conditions) for p in problems], items)
    assert {inf.key for inf in got if inf.kind == "item"} == {it.item_id for it in items}
    for inf in got:
        expected = 100 * (full - pooled([it for it in items if it.item_id not in inf.items]))
        assert inf.state_effect_pp == pytest.approx(expected, abs=1e-9)
    alone = pooled_influence([(problems[0].net, problems[0].conditions)], items)
    assert max(np.max(np.abs(a.state_effect_pp - t.state_effect_pp))
               for a, t in zip(alone, got, strict=True)) > 0.1
