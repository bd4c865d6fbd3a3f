"""The team's forecast beyond the report: backtest, whatif, watch, sensitivity and recalibrate
on a scenario with analysts' files answer for the team (each analyst's own computation, then
the logarithmic pool) and, with --analyst, for one analyst. Checked against enumerations of
each analyst's network written out here. Exact engine only."""

from __future__ import annotations

import itertools
import json
import math
from pathlib import Path

import pytest
from conftest import DATA, two_node_team
from typer.testing import CliRunner

from forecast.cli import app

runner = CliRunner()
TWO = "two-node-beta"
K = "k-state"

# each analyst's prior means of two-node-beta: P(a), P(b | a), P(b | not a); the scenario's
# are 1/2, 3/4, 1/4 (tests/data/priors/two-node-beta.toml); hawk gives b | a, dove gives a
VIEWS = {"dove": (0.25, 0.75, 0.25), "hawk": (0.5, 0.9, 0.25)}
HAWK, DOVE, GRIM = (
    (DATA / "analysts" / f"{name}.toml").read_text() for name in ("hawk", "dove", "grim"))


def invoke(*args) -> dict | list:
    result = runner.invoke(app, [str(a) for a in args])
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def logistic_pool(values: list[float]) -> float:
    """The logarithmic pool of yes/no forecasts, written out: logistic of the mean log-odds."""
    mean = sum(math.log(p / (1 - p)) for p in values) / len(values)
    return 1 / (1 + math.exp(-mean))


def enumerate_two(view: tuple[float, float, float], lr: dict[str, float],
                  given: dict[str, bool]) -> dict[str, float]:
    """P(a), P(b) by enumerating the four joint states of one analyst's network, each weighted
    by the likelihood ratios (on the yes state) and zero where a condition fails."""
    p_a, b_if_a, b_if_not = view
    total, yes = 0.0, {"a": 0.0, "b": 0.0}
    for a, b in itertools.product((True, False), repeat=2):
        if any({"a": a, "b": b}[node] != state for node, state in given.items()):
            continue
        p_b = b_if_a if a else b_if_not
        w = (p_a if a else 1 - p_a) * (p_b if b else 1 - p_b)
        w *= (lr.get("a", 1.0) if a else 1.0) * (lr.get("b", 1.0) if b else 1.0)
        total += w
        yes["a"] += w * a
        yes["b"] += w * b
    return {node: value / total for node, value in yes.items()}


@pytest.fixture
def team_root(tmp_path) -> Path:
    """two-node-beta with two analysts, evidence on two dates (E1: LR 3 on b on 2025-02-01;
    E2: LR 2 on a on 2025-03-01, both grade A1, weight 1), a resolved no on 2025-02-15 and b
    yes on 2025-04-01."""
    evidence = (DATA / "evidence" / f"{TWO}.csv").read_text()
    root = two_node_team(tmp_path / "team",
                         evidence + "E2,a,2025-03-01,Test,A,1,2,,A looks twice as likely,\n",
                         "node,outcome,date,source\na,no,2025-02-15,Test\nb,yes,2025-04-01,Test\n")
    return root


@pytest.fixture
def k_team(k_root) -> Path:
    """The k-state scenario with two analysts (grim: attacks mostly sustained; same: the
    scenario's priors) and attacks (ordered) resolved sustained after the evidence."""
    (k_root / "priors" / K).mkdir()
    (k_root / "priors" / K / "grim.toml").write_text(GRIM)
    (k_root / "priors" / K / "same.toml").write_text("")
    (k_root / "evidence" / f"{K}.resolutions.csv").write_text(
        "node,outcome,date,source\nattacks,sustained,2025-04-01,Test\n")
    return k_root


# -- backtest ----------------------------------------------------------------------------------

def test_backtest_scores_each_analysts_replays_and_their_pool(team_root):
    """Replay 2025-02-01: E1 alone; replay 2025-03-01: E1, E2 and a resolved no. Each
    analyst's replayed forecasts are enumerations of their network; the pool is the logistic
    of the mean log-odds; the analysts' and the pool's Brier and log scores are over the three
    scored pairs (a by the first replay, b by both)."""
    doc = invoke("backtest", "--root", team_root, "-s", TWO, "--format", "json")
    first = {a: enumerate_two(v, {"b": 3.0}, {}) for a, v in VIEWS.items()}
    second = {a: enumerate_two(v, {"a": 2.0, "b": 3.0}, {"a": False}) for a, v in VIEWS.items()}
    pairs = {a: [(first[a]["a"], 0), (first[a]["b"], 1), (second[a]["b"], 1)] for a in VIEWS}
    for snap, expected in zip(doc["snapshots"], (first, second), strict=True):
        assert snap["analysts"] == ["dove", "hawk"]
        nodes = {n["id"]: n for n in snap["nodes"]}
        for a in VIEWS:
            assert nodes["b"]["by_analyst"][a] == pytest.approx(expected[a]["b"], abs=1e-6)
        assert nodes["b"]["mean"] == pytest.approx(
            logistic_pool([expected[a]["b"] for a in VIEWS]), abs=1e-6)
    assert doc["pool"] == "log_odds"
    for a, scored in pairs.items():
        mine = doc["analysts"][a]
        assert mine["count"] == 3
        assert mine["brier"] == pytest.approx(sum((p - y) ** 2 for p, y in scored) / 3, abs=1e-5)
        assert mine["log_score"] == pytest.approx(
            sum(math.log(p if y else 1 - p) for p, y in scored) / 3, abs=1e-5)
        assert mine["rps"] is None
    pooled = [(logistic_pool([p[i][0] for p in pairs.values()]), y)
              for i, (_p, y) in enumerate(pairs["dove"])]
    assert doc["score"]["brier"] == pytest.approx(sum((p - y) ** 2 for p, y in pooled) / 3, abs=1e-5)
    html = (team_root / "reports" / TWO / "backtest.html").read_text()
    assert "<h2>Each analyst</h2>" in html
    table = runner.invoke(app, ["backtest", "--root", str(team_root), "-s", TWO])
    assert "Each analyst's replays" in table.output and "hawk" in table.output


def test_the_backtest_chart_draws_each_analysts_path_beside_the_pools(team_root):
    """Per question a dashed line per analyst through their own replayed forecasts (hawk's b:
    the enumerations of hawk's network), under a key naming the pool and each analyst; a
    backtest of one analyst alone has no such lines."""
    import base64
    import re

    from forecast.render.charts.backtest import PLOT_BOTTOM, PLOT_TOP, analyst_paths

    doc = invoke("backtest", "--root", team_root, "-s", TWO, "--format", "json")
    first = enumerate_two(VIEWS["hawk"], {"b": 3.0}, {})
    second = enumerate_two(VIEWS["hawk"], {"a": 2.0, "b": 3.0}, {"a": False})
    paths = analyst_paths(doc)
    assert sorted(paths) == ["dove", "hawk"]
    assert [p for _d, p in paths["hawk"]["b"]] == pytest.approx([first["b"], second["b"]],
                                                                  abs=1e-6)

    def chart(html: str) -> str:
        (data,) = re.findall(r'id="backtest-chart" src="data:image/svg\+xml;base64,([^"]+)"', html)
        return base64.b64decode(data).decode()

    svg = chart((team_root / "reports" / TWO / "backtest.html").read_text())
    lines = re.findall(r'<polyline class="analyst" data-analyst="(\w+)" points="([^"]+)"', svg)
    assert sorted(a for a, _p in lines) == ["dove", "dove", "hawk", "hawk"]   # a per question
    assert ">team (pool)<" in svg and ">hawk<" in svg and ">dove<" in svg
    hawk_b = [p for a, p in lines if a == "hawk"][1].split()     # panels in node order: a, b
    heights = [float(point.split(",")[1]) for point in hawk_b[::2]]
    assert heights == pytest.approx([PLOT_BOTTOM - (PLOT_BOTTOM - PLOT_TOP) * p
                                     for p in (first["b"], second["b"])], abs=0.06)
    invoke("backtest", "--root", team_root, "-s", TWO, "--analyst", "hawk", "--format", "json")
    alone = (team_root / "reports" / TWO / "analysts" / "hawk" / "backtest.html").read_text()
    assert 'class="analyst"' not in chart(alone)


def test_the_backtest_chart_follows_each_analysts_chance_of_the_outcome_that_happened(k_team):
    """On a question of more outcomes each analyst's path is their replayed probability of the
    state the pool's panel follows (attacks resolved sustained: sustained)."""
    from forecast.render.charts.backtest import analyst_paths, plotted_states

    doc = invoke("backtest", "--root", k_team, "-s", K, "--format", "json")
    assert plotted_states(doc)["attacks"] == "sustained"
    paths = analyst_paths(doc)
    for a in ("grim", "same"):
        expected = [next(r["mean"] for r in n["by_analyst"][a] if r["state"] == "sustained")
                    for s in doc["snapshots"] for n in s["nodes"] if n["id"] == "attacks"]
        assert [p for _d, p in paths[a]["attacks"]] == expected and expected
    assert paths["grim"]["attacks"] != paths["same"]["attacks"]


def test_backtest_of_one_analyst_replays_and_scores_their_priors_alone(team_root):
    """hawk alone: each replay is the enumeration of hawk's network that day, scored as the
    team's backtest scores hawk, written under reports/<scenario>/analysts/hawk/."""
    team = invoke("backtest", "--root", team_root, "-s", TWO, "--format", "json")
    (team_root / "reports" / TWO / "backtest.json").unlink()
    doc = invoke("backtest", "--root", team_root, "-s", TWO, "--analyst", "hawk", "--format", "json")
    assert doc["analyst"] == "hawk" and "analysts" not in doc and "pool" not in doc
    first = enumerate_two(VIEWS["hawk"], {"b": 3.0}, {})
    second = enumerate_two(VIEWS["hawk"], {"a": 2.0, "b": 3.0}, {"a": False})
    for snap, expected in zip(doc["snapshots"], (first, second), strict=True):
        nodes = {n["id"]: n for n in snap["nodes"]}
        assert "by_analyst" not in nodes["b"]
        assert nodes["b"]["mean"] == pytest.approx(expected["b"], abs=1e-6)
    assert doc["score"]["n"] == team["analysts"]["hawk"]["count"] == 3
    for key in ("brier", "log_score"):
        assert doc["score"][key] == pytest.approx(team["analysts"]["hawk"][key], abs=1e-9)
    written = team_root / "reports" / TWO / "analysts" / "hawk"
    assert json.loads((written / "backtest.json").read_text())["analyst"] == "hawk"
    assert "(hawk alone)" in (written / "backtest.html").read_text()
    assert not (team_root / "reports" / TWO / "backtest.json").exists()
    table = runner.invoke(app, ["backtest", "--root", str(team_root), "-s", TWO, "--analyst",
                                "hawk"])
    assert "Backtest of two-node-beta (hawk alone)" in table.output
    every = runner.invoke(app, ["backtest", "--root", str(team_root), "--all", "--analyst", "hawk"])
    assert every.exit_code == 1 and len(every.output.strip().splitlines()) == 1
    assert "not with --all" in every.output


def test_each_team_replay_equals_that_days_team_and_analyst_reports(k_team):
    """On questions with more outcomes: a replay's pool and each analyst's distribution are
    what `report --as-of D` (and with --analyst) states that day; attacks is ordered, so each
    analyst has a ranked probability score, computed here from their reports."""
    doc = invoke("backtest", "--root", k_team, "-s", K, "--format", "json")
    rps = {}
    for snap in doc["snapshots"]:
        team = invoke("report", "--root", k_team, "-s", K, "--as-of", snap["as_of"],
                      "--format", "json")
        attacks = {n["id"]: n for n in snap["nodes"]}["attacks"]
        assert [r["mean"] for r in attacks["distribution"]] == pytest.approx(
            [r["mean"] for r in team["nodes"][0]["distribution"]], abs=1e-6)
        for a in ("grim", "same"):
            alone = invoke("report", "--root", k_team, "-s", K, "--as-of", snap["as_of"],
                           "--analyst", a, "--format", "json")
            rows = {r["state"]: r["mean"] for r in alone["nodes"][0]["distribution"]}
            mine = {r["state"]: r["mean"] for r in attacks["by_analyst"][a]}
            assert mine == pytest.approx(rows, abs=1e-6)
            cumulative = [rows["none"], rows["none"] + rows["sporadic"]]
            rps.setdefault(a, []).append(sum(c ** 2 for c in cumulative) / 2)   # outcome: last
    for a, scores in rps.items():
        assert doc["analysts"][a]["count"] == len(scores)
        assert doc["analysts"][a]["rps"] == pytest.approx(sum(scores) / len(scores), abs=1e-5)


# -- recalibrate --backtests ------------------------------------------------------------------

def test_recalibrate_backtests_take_each_analysts_and_the_pools_replays(team_root):
    """No history: with backtests, every resolved question counts once per group (the team's
    pool and each analyst), each at its latest replay before it resolved (a: the first
    replay; b: the second), with the numbers the enumerations give."""
    from forecast.jobs.recalibrate import collect_pairs

    assert collect_pairs(team_root)[0] == []
    pairs, _ids = collect_pairs(team_root, backtests=True)
    got = {(p.group, p.node): (p.p, p.outcome) for p in pairs}
    first = {a: enumerate_two(v, {"b": 3.0}, {}) for a, v in VIEWS.items()}
    second = {a: enumerate_two(v, {"a": 2.0, "b": 3.0}, {"a": False}) for a, v in VIEWS.items()}
    expected = {(a, "a"): (first[a]["a"], False) for a in VIEWS}
    expected |= {(a, "b"): (second[a]["b"], True) for a in VIEWS}
    expected[("team", "a")] = (logistic_pool([first[a]["a"] for a in VIEWS]), False)
    expected[("team", "b")] = (logistic_pool([second[a]["b"] for a in VIEWS]), True)
    assert set(got) == set(expected)
    for key, (p, outcome) in expected.items():
        assert got[key][0] == pytest.approx(p, abs=1e-6) and got[key][1] is outcome


# -- whatif, watch and sensitivity -------------------------------------------------------------

AS_OF = "2025-02-01"        # E1 alone, nothing resolved yet


def test_whatif_is_the_pool_of_each_analysts_conditional_forecast(team_root):
    doc = invoke("whatif", "--root", team_root, "-s", TWO, "--as-of", AS_OF, "-g", "a=yes",
                 "--format", "json")
    each = {a: enumerate_two(v, {"b": 3.0}, {"a": True}) for a, v in VIEWS.items()}
    before = {a: enumerate_two(v, {"b": 3.0}, {}) for a, v in VIEWS.items()}
    b = {n["id"]: n for n in doc["nodes"]}["b"]
    assert doc["analysts"] == ["dove", "hawk"] and doc["pool"] == "log_odds"
    assert b["mean"] == pytest.approx(logistic_pool([each[a]["b"] for a in VIEWS]), abs=1e-6)
    assert b["by_analyst"] == pytest.approx({a: each[a]["b"] for a in VIEWS}, abs=1e-6)
    assert b["unconditional"]["mean"] == pytest.approx(
        logistic_pool([before[a]["b"] for a in VIEWS]), abs=1e-6)
    alone = invoke("whatif", "--root", team_root, "-s", TWO, "--as-of", AS_OF, "-g", "a=yes",
                   "--analyst", "hawk", "--format", "json")
    assert alone["analyst"] == "hawk" and "analysts" not in alone
    assert {n["id"]: n for n in alone["nodes"]}["b"]["mean"] == pytest.approx(each["hawk"]["b"],
                                                                            abs=1e-6)


def test_watch_pools_the_forecasts_and_averages_the_analysts_values(team_root):
    """Watching a for the target b: each analyst's value is P(a)(1 - P(a))(P(b | a) -
    P(b | not a))^2 on their own network (as `watch --analyst` gives it); the team's row has
    the pooled forecasts and the mean of the values."""
    doc = invoke("watch", "--root", team_root, "-s", TWO, "--as-of", AS_OF, "--format", "json")
    (row,) = [r for r in doc if r["node"] == "a"]
    values, p_a, if_yes, if_no = {}, [], [], []
    for a, view in VIEWS.items():
        p = enumerate_two(view, {"b": 3.0}, {})["a"]
        yes = enumerate_two(view, {"b": 3.0}, {"a": True})["b"]
        no = enumerate_two(view, {"b": 3.0}, {"a": False})["b"]
        values[a] = p * (1 - p) * (yes - no) ** 2
        p_a.append(p), if_yes.append(yes), if_no.append(no)
        alone = invoke("watch", "--root", team_root, "-s", TWO, "--as-of", AS_OF, "--analyst", a,
                       "--format", "json")
        assert alone[0]["value"] == pytest.approx(values[a], abs=1e-9)
        assert row["by_analyst"][a]["value"] == pytest.approx(values[a], abs=1e-9)
        assert row["by_analyst"][a]["interval"] == pytest.approx(alone[0]["interval"], abs=1e-9)
    assert row["value"] == pytest.approx(sum(values.values()) / 2, abs=1e-9)
    assert row["p_yes"] == pytest.approx(logistic_pool(p_a), abs=1e-6)
    assert row["if_yes"]["b"] == pytest.approx(logistic_pool(if_yes), abs=1e-6)
    assert row["if_no"]["b"] == pytest.approx(logistic_pool(if_no), abs=1e-6)


def test_sensitivity_pools_each_analysts_forecast_at_their_own_quantiles(team_root):
    """P(b | a) is Beta(3, 1) to dove (the scenario's) and Beta(9, 1) to hawk: the team's row
    for it pools b's forecast with each one's entry at their own 5% and 95% quantile."""
    from scipy.stats import beta

    result = runner.invoke(app, ["sensitivity", "--root", str(team_root), "-s", TWO, "--as-of",
                                 AS_OF, "--target", "b", "--format", "json"])
    assert result.exit_code == 0, result.output
    rows = json.loads(result.stdout)["b"]
    (row,) = [r for r in rows if r["node"] == "b" and r["when"] == {"a": "yes"}]
    shape = {"dove": (3, 1), "hawk": (9, 1)}
    low, high = {}, {}
    for a, (p_a, _b_if_a, b_if_not) in VIEWS.items():
        q5, q95 = beta.ppf([0.05, 0.95], *shape[a])
        low[a] = enumerate_two((p_a, q5, b_if_not), {"b": 3.0}, {})["b"]
        high[a] = enumerate_two((p_a, q95, b_if_not), {"b": 3.0}, {})["b"]
        assert row["by_analyst"][a]["low"] == pytest.approx(low[a], abs=1e-6)
        assert row["by_analyst"][a]["entry_low"] == pytest.approx(q5, abs=1e-6)
    assert row["low"] == pytest.approx(logistic_pool(list(low.values())), abs=1e-6)
    assert row["high"] == pytest.approx(logistic_pool(list(high.values())), abs=1e-6)
    assert row["forecast"] == pytest.approx(
        logistic_pool([enumerate_two(v, {"b": 3.0}, {})["b"] for v in VIEWS.values()]), abs=1e-6)


def test_a_teams_whatif_gives_the_teams_sensitivity_and_page_under_its_conditions(team_root):
    """Given a = yes, b's forecast hangs on P(b | a): the team's row pools b's forecast with
    each analyst's entry at their own 5% and 95% quantile, the conditions holding (not the
    scenario's own priors, which the whatif had used), and the page carries each analyst's
    CPTs, as the team's report does."""
    from scipy.stats import beta

    doc = invoke("whatif", "--root", team_root, "-s", TWO, "--as-of", AS_OF, "-g", "a=yes",
                 "--format", "json")
    assert doc["whatif_page"]["model"]["team_cpt"]
    (row,) = [r for r in doc["sensitivity"]["targets"]["b"]
              if r["node"] == "b" and r["when"] == {"a": "yes"}]
    shape = {"dove": (3, 1), "hawk": (9, 1)}
    low = {}
    for a, (p_a, _b_if_a, b_if_not) in VIEWS.items():
        q5, _q95 = beta.ppf([0.05, 0.95], *shape[a])
        low[a] = enumerate_two((p_a, q5, b_if_not), {"b": 3.0}, {"a": True})["b"]
        assert row["by_analyst"][a]["low"] == pytest.approx(low[a], abs=1e-6)
    assert row["low"] == pytest.approx(logistic_pool(list(low.values())), abs=1e-6)


@pytest.mark.parametrize("command", [["whatif", "-g", "a=yes"], ["watch"], ["sensitivity"],
                                     ["report"], ["backtest"]])
def test_an_unknown_analyst_is_one_line_naming_the_analysts(team_root, command):
    result = runner.invoke(app, [command[0], "--root", str(team_root), "-s", TWO, *command[1:],
                                 "--analyst", "owl"])
    assert result.exit_code == 1
    assert result.output.strip().splitlines() == [
        "Error: --analyst: analyst: expected one of dove, hawk, found 'owl'"]
    assert "Traceback" not in result.output


def test_update_writes_the_teams_decisions_as_report_does(team_root):
    """The report `forecast update` writes has the team's watch list, sensitivity rows and page
    model (each analyst's CPTs), as `forecast report` has them."""
    report = invoke("report", "--root", team_root, "-s", TWO, "--as-of", AS_OF, "--format", "json")
    assert report["whatif_page"]["model"]["team_cpt"]
    assert all("by_analyst" in row for rows in report["sensitivity"]["targets"].values()
               for row in rows)
    result = runner.invoke(app, ["update", "--root", str(team_root), "-s", TWO, "--as-of", AS_OF])
    assert result.exit_code == 0, result.output
    written = json.loads((team_root / "reports" / TWO / "report.json").read_text())
    for key in ("watch", "sensitivity", "whatif_page", "key_assumptions"):
        assert written[key] == report[key], key


def test_the_work_budget_counts_each_analysts_inferences(team_root):
    from forecast.inference.problem import prepare
    from forecast.inference.settings import SamplerSettings
    from forecast.io.project import load_inputs, scenario_paths
    from forecast.jobs.report import per_analyst, report_work

    inputs = load_inputs(scenario_paths(team_root, TWO))
    problem, settings = prepare(inputs), SamplerSettings(progress=False)
    one = report_work(problem, inputs, settings)
    team = per_analyst(report_work, 2)(problem, inputs, settings)
    assert team.inferences == 2 * one.inferences and "each of 2 analysts" in team.what
    assert per_analyst(report_work, 0)(problem, inputs, settings) == one


def test_an_import_past_the_teams_work_budget_leaves_the_evidence_file_alone(team_root,
                                                                           monkeypatch):
    """A budget one analyst's update fits in but the team's (two analysts') does not: the
    update refuses before the import writes anything."""
    from forecast.inference.exact import check_work
    from forecast.inference.problem import prepare
    from forecast.inference.settings import SamplerSettings
    from forecast.io.project import load_inputs, scenario_paths
    from forecast.jobs.update import update_work

    inputs = load_inputs(scenario_paths(team_root, TWO))
    problem = prepare(inputs)
    one = update_work(problem, inputs, SamplerSettings(progress=False))
    seconds = check_work(problem.net, one.inferences + 2, budget=float("inf"))
    monkeypatch.setenv("FORECAST_WORK_BUDGET", str(1.5 * seconds))
    evidence = team_root / "evidence" / f"{TWO}.csv"
    before = evidence.read_bytes()
    extra = team_root / "extra.csv"
    extra.write_text(before.decode().splitlines()[0] + "\nX1,b,2025-03-02,Test,A,1,2,,more,\n")
    result = runner.invoke(app, ["update", "--root", str(team_root), "-s", TWO, "--import",
                                 str(extra)])
    assert result.exit_code == 1 and "each of 2 analysts" in result.output, result.output
    assert evidence.read_bytes() == before
    assert not (team_root / "reports" / TWO / "history.jsonl").exists()


def test_k_state_watch_and_sensitivity_answer_for_the_team(k_team):
    """On questions with more outcomes: a watch row's distribution is the normalised geometric
    mean of the analysts' (each as `--analyst` gives it), its value their mean; a sensitivity
    row's low is the pool of theirs."""
    args = ("--root", k_team, "-s", K, "--as-of", "2025-03-20", "--format", "json")
    team = invoke("watch", *args)
    alone = {a: {r["node"]: r for r in invoke("watch", *args, "--analyst", a)}
             for a in ("grim", "same")}
    for row in team:
        mine = [alone[a][row["node"]] for a in ("grim", "same")]
        assert row["value"] == pytest.approx(sum(r["value"] for r in mine) / 2, abs=1e-9)
        geometric = {s: math.sqrt(mine[0]["distribution"][s] * mine[1]["distribution"][s])
                     for s in row["distribution"]}
        total = sum(geometric.values())
        assert row["distribution"] == pytest.approx(
            {s: g / total for s, g in geometric.items()}, abs=2e-6)
    sens = invoke("sensitivity", *args)
    for target, rows in sens.items():
        for row in rows:
            lows = [row["by_analyst"][a]["low"] for a in ("grim", "same")]
            if row.get("state") is None:            # a yes/no target: the log-odds pool
                assert row["low"] == pytest.approx(logistic_pool(lows), abs=2e-6), target
