"""Several analysts: their files (priors/<scenario>/<analyst>.toml), each analyst's own fit, the
team's logarithmic pool in report.json, --analyst, and the located errors. Exact engine only."""

from __future__ import annotations

import json
import math
import shutil
from pathlib import Path

import numpy as np
import pytest
from conftest import DATA, snapshot_files, two_node_team
from hypothesis import given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from forecast.analysis.pooling import log_pool
from forecast.cli import app
from forecast.errors import ForecastError
from forecast.io.analysts import parse_analyst
from forecast.io.priors import load_scenario

runner = CliRunner()
K = "k-state"
TWO = "two-node-beta"
HAWK, DOVE, K_ANALYST = (
    (DATA / "analysts" / f"{name}.toml").read_text() for name in ("hawk", "dove", "grim"))



@pytest.fixture
def team_root(tmp_path) -> Path:
    """two-node-beta with two analysts (hawk gives one row of b, dove the root a)."""
    return two_node_team(tmp_path / "team")


def report_json(root: Path, *args: str) -> dict:
    result = runner.invoke(app, ["report", "--root", str(root), "--scenario", args[0],
                                 "--format", "json", *args[1:]])
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


# -- the pool --------------------------------------------------------------------------------

def test_log_pool_is_the_mean_of_log_odds_on_exact_values():
    assert log_pool(np.array([[0.2], [0.8]]))[0] == pytest.approx(0.5)
    # logit 0.9 = ln 9, logit 0.5 = 0: the pool is the logistic of ln(9) / 2 = 3 / 4
    assert log_pool(np.array([[0.9], [0.5]]))[0] == pytest.approx(0.75)


probability = st.floats(0.01, 0.99)


@settings(max_examples=50, deadline=None)
@given(st.lists(st.lists(probability, min_size=3, max_size=3), min_size=1, max_size=5),
       st.lists(probability, min_size=1, max_size=5))
def test_k_state_pool_is_a_distribution_and_agrees_with_the_binary_pool(rows, yes):
    rows = np.array(rows)
    rows = rows / rows.sum(axis=1, keepdims=True)
    pooled = log_pool(rows, np.array([0, 3]))
    assert pooled.sum() == pytest.approx(1.0)
    geometric = np.exp(np.log(rows).mean(axis=0))
    assert pooled == pytest.approx(geometric / geometric.sum())
    two = np.array([[1 - p, p] for p in yes])
    assert log_pool(two, np.array([0, 2]))[1] == pytest.approx(log_pool(np.array(yes)[:, None])[0])


@settings(max_examples=30, deadline=None)
@given(probability, st.integers(1, 6))
def test_analysts_who_agree_pool_to_their_forecast(p, n):
    assert log_pool(np.full((n, 1), p))[0] == pytest.approx(p)


# -- analysts' files ---------------------------------------------------------------------------

def test_an_analyst_changes_only_the_rows_they_give():
    scenario = load_scenario(DATA / "priors" / f"{TWO}.toml")
    hawk = parse_analyst(HAWK, f"priors/{TWO}/hawk.toml", scenario)
    assert (hawk.id, hawk.name, hawk.nodes) == ("hawk", "Hawk", ("b",))
    a, b = hawk.scenario.nodes
    assert a == scenario.nodes[0]
    assert b.priors[1].mean == pytest.approx(0.9) and b.priors[1].alpha == pytest.approx(9)
    assert b.priors[0] == scenario.nodes[1].priors[0]


@pytest.mark.parametrize(("text", "message"), [
    ('[[node]]\nid = "b"\nparents = []\n  [[node.prior]]\n  p = 0.5\n  strength = 2\n'
     '  rationale = "x"\n  reference_class = "x"\n',
     "hawk.toml:node[b]: parents: expected only priors in an analyst's file"),
    ('[[node]]\nid = "c"\n  [[node.prior]]\n  p = 0.5\n  strength = 2\n',
     "hawk.toml:node[c]: id: expected a node of scenario two-node-beta (one of a, b), found 'c'"),
    ('[[node]]\nid = "b"\n  [[node.prior]]\n  when = { a = true }\n  p = 1.5\n  strength = 2\n'
     '  rationale = "x"\n  reference_class = "x"\n',
     "hawk.toml:node[b].prior[0]: p: expected a probability strictly between 0 and 1"),
    ('[analyst]\nrole = "lead"\n', "hawk.toml:analyst: role: expected a known key"),
    # a misspelt key is the first problem, before the form it leaves incomplete
    ('[[node]]\nid = "b"\n  [[node.prior]]\n  when = { a = true }\n  p = 0.5\n  strenght = 2\n'
     '  rationale = "x"\n  reference_class = "x"\n',
     "hawk.toml:node[b].prior[0]: strenght: expected a known key"),
])
def test_structure_in_an_analysts_file_is_a_located_error(text, message):
    scenario = load_scenario(DATA / "priors" / f"{TWO}.toml")
    with pytest.raises(ForecastError) as error:
        parse_analyst(text, f"priors/{TWO}/hawk.toml", scenario)
    assert message in str(error.value)


def test_a_bad_analyst_file_stops_the_report_with_one_line_and_nothing_written(team_root):
    (team_root / "priors" / TWO / "dove.toml").write_text('[[node]]\nid = "a"\nstates = ["x", "y"]\n')
    before = snapshot_files(team_root)
    result = runner.invoke(app, ["report", "--root", str(team_root), "--scenario", TWO])
    assert result.exit_code == 1
    assert result.output.strip().splitlines() == [
        f"Error: {team_root}/priors/{TWO}/dove.toml:node[a]: states: expected only priors in an "
        "analyst's file (id, prior, rationale, reference_class): the structure, states and "
        f"questions are the scenario's ({TWO}), found 'states'"]
    assert snapshot_files(team_root) == before


# -- the team's report ------------------------------------------------------------------------

def test_the_team_report_pools_each_analysts_own_forecast(team_root):
    team = report_json(team_root, TWO)
    alone = {a: report_json(team_root, TWO, "--analyst", a) for a in ("dove", "hawk")}
    assert team["analysts"] == ["dove", "hawk"] and team["pool"] == "log_odds"
    assert team["analyst_names"] == {"dove": "dove", "hawk": "Hawk"}
    for v, node in enumerate(team["nodes"]):
        means = {a: doc["nodes"][v]["mean"] for a, doc in alone.items()}
        assert node["by_analyst"] == means
        assert node["spread"] == pytest.approx(max(means.values()) - min(means.values()), abs=1e-6)
        logits = [math.log(p / (1 - p)) for p in means.values()]
        assert node["mean"] == pytest.approx(1 / (1 + math.exp(-sum(logits) / 2)), abs=1e-6)
        assert node["interval"][0] <= node["mean"] <= node["interval"][1]
    assert alone["hawk"]["analyst"] == "hawk"
    # the question they split on most comes first, with the rows they differ on and why
    split = team["disagreement"][0]
    assert split["node"] == max(team["nodes"], key=lambda n: n["spread"])["id"]
    rows = {(row["node"], row["when"]): row["by_analyst"] for row in split["priors"]}
    if split["node"] == "b":
        assert rows[("b", "a = true")]["hawk"] == {"mean": 0.9, "own": True,
                                                   "rationale": "A nearly always brings B."}
        assert rows[("b", "a = true")]["dove"]["own"] is False
    assert rows[("a", "root")]["dove"] == {"mean": 0.25, "own": True, "rationale": "A is rare."}


def test_an_analyst_report_is_written_apart_from_the_teams(team_root):
    result = runner.invoke(app, ["report", "--root", str(team_root), "--scenario", TWO,
                                 "--analyst", "hawk"])
    assert result.exit_code == 0, result.output
    assert (team_root / "reports" / TWO / "analysts" / "hawk" / "report.json").is_file()
    assert not (team_root / "reports" / TWO / "report.json").exists()
    missing = runner.invoke(app, ["report", "--root", str(team_root), "--scenario", TWO,
                                  "--analyst", "owl"])
    assert missing.exit_code == 1
    assert "--analyst: analyst: expected one of dove, hawk, found 'owl'" in missing.output


def test_k_state_questions_pool_state_by_state(tmp_path):
    (tmp_path / "priors" / K).mkdir(parents=True)
    (tmp_path / "evidence").mkdir()
    shutil.copy(DATA / "k_state_scenario.toml", tmp_path / "priors" / f"{K}.toml")
    (tmp_path / "priors" / K / "grim.toml").write_text(K_ANALYST)
    (tmp_path / "priors" / K / "same.toml").write_text("")
    (tmp_path / "evidence" / f"{K}.csv").write_text(
        "item_id,node,date,source,reliability,credibility,lr,cluster,summary,url\n")
    team = report_json(tmp_path, K)
    attacks = team["nodes"][0]
    grim = [row["mean"] for row in attacks["by_analyst"]["grim"]]
    same = [row["mean"] for row in attacks["by_analyst"]["same"]]
    assert grim == pytest.approx([0.1, 0.2, 0.7]) and same == pytest.approx([0.5, 0.3, 0.2])
    geometric = np.sqrt(np.array(grim) * np.array(same))
    assert [row["mean"] for row in attacks["distribution"]] == pytest.approx(
        geometric / geometric.sum(), abs=1e-6)
    assert attacks["spread"] == pytest.approx(0.5)


def test_snapshots_keep_each_analysts_numbers_and_score_scores_each(team_root):
    report = report_json(team_root, TWO)
    result = runner.invoke(app, ["update", "--root", str(team_root), "--scenario", TWO])
    assert result.exit_code == 0, result.output
    line = json.loads((team_root / "reports" / TWO / "history.jsonl").read_text().splitlines()[-1])
    assert line["analysts"] == ["dove", "hawk"]
    assert {n["id"]: n["by_analyst"] for n in line["nodes"]} == {
        n["id"]: n["by_analyst"] for n in report["nodes"]}
    # a changed analyst's file is a new forecast: the next update appends
    (team_root / "priors" / TWO / "dove.toml").write_text(DOVE.replace("beta = [1, 3]", "beta = [1, 4]"))
    again = runner.invoke(app, ["update", "--root", str(team_root), "--scenario", TWO])
    assert again.exit_code == 0, again.output
    assert len((team_root / "reports" / TWO / "history.jsonl").read_text().splitlines()) == 2
    resolved = runner.invoke(app, ["resolve", "b", "yes", "--root", str(team_root), "--scenario",
                                   TWO, "--date", "2025-06-01", "--source", "Test"])
    assert resolved.exit_code == 0, resolved.output
    scored = runner.invoke(app, ["score", "--root", str(team_root), "--scenario", TWO,
                                 "--format", "json"])
    assert scored.exit_code == 0, scored.output
    document = json.loads(scored.stdout)
    hawk = [n["by_analyst"]["hawk"] for n in
            map(json.loads, (team_root / "reports" / TWO / "history.jsonl").read_text().splitlines())
            for n in n["nodes"] if n["id"] == "b"]
    assert document["pool"] == "log_odds" and set(document["analysts"]) == {"dove", "hawk"}
    assert document["analysts"]["hawk"]["count"] == 2
    assert document["analysts"]["hawk"]["brier"] == pytest.approx(
        sum((1 - p) ** 2 for p in hawk) / 2, abs=1e-6)
    table = runner.invoke(app, ["score", "--root", str(team_root), "--scenario", TWO])
    assert "Each analyst" in table.output and "hawk" in table.output
    assert "<h2>Each analyst</h2>" in (team_root / "reports" / TWO / "score.html").read_text()
