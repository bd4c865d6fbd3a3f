"""The Python API (forecast.api, docs/python.md): the same jobs as the CLI, the same numbers,
the same errors; the worked example in docs/python.md runs as written."""

from __future__ import annotations

import json
import re
import subprocess
import sys

import pandas as pd
import pytest
from conftest import REPO, snapshot_files, two_node_team
from typer.testing import CliRunner

from forecast.api import BACKTEST_COLUMNS, FRAME_COLUMNS, Project, Report
from forecast.cli import app
from forecast.errors import ForecastError

runner = CliRunner()
TWO = "two-node-beta"


def cli(root, *args):
    return runner.invoke(app, [*args, "--root", str(root)])


def test_the_worked_example_in_docs_python_md_runs(repo_root, monkeypatch):
    text = (REPO / "docs" / "python.md").read_text(encoding="utf-8")
    blocks = re.findall(r"```python\n(.*?)```", text, re.S)
    assert len(blocks) >= 8
    monkeypatch.chdir(repo_root)
    namespace: dict = {}
    for block in blocks:
        exec(compile(block, "docs/python.md", "exec"), namespace)
    frame = namespace["frame"]
    assert list(frame.columns) == list(FRAME_COLUMNS)
    assert set(frame.node) >= {"ceasefire", "turkish_deployment", "kyiv_partnership"}
    assert namespace["report"].engine == "exact"
    assert namespace["first"].appended and not namespace["again"].appended
    added = namespace["added"]
    assert len(added) == 1 and added[0] in set(Project(repo_root).evidence().item_id)
    assert len(namespace["history"]) == len(frame)                 # one snapshot, a row per node
    assert (repo_root / "reports" / "turkey-peacekeeping" / "history.jsonl").is_file()


def test_report_frame_has_the_hand_derived_posterior_and_matches_the_cli(data_root):
    project = Project(data_root)
    report = project.report(TWO, engine="exact", as_of="2025-06-01")
    assert isinstance(report, Report) and report.engine == "exact"
    frame = report.to_frame()
    assert list(frame.columns) == list(FRAME_COLUMNS)
    # P(a | e) = 1.25 / 2 and P(b | e) = 1.5 / 2 by hand (tests/test_inference.py)
    assert frame["mean"].tolist() == pytest.approx([0.625, 0.75], abs=1e-6)
    assert frame["prior"].tolist() == pytest.approx([0.5, 0.5], abs=1e-6)
    assert frame["overdue"].tolist() == [False, False]
    assert (frame["low"] < frame["mean"]).all() and (frame["mean"] < frame["high"]).all()
    assert report.node("b").mean == pytest.approx(0.75, abs=1e-6)
    csv_out = cli(data_root, "report", "--scenario", TWO, "--engine", "exact", "--as-of",
                  "2025-06-01", "--format", "csv")
    assert csv_out.exit_code == 0, csv_out.output
    assert csv_out.stdout == report.to_csv()
    json_out = cli(data_root, "report", "--scenario", TWO, "--engine", "exact", "--as-of",
                   "2025-06-01", "--format", "json")
    cli_nodes = json.loads(json_out.stdout)["nodes"]
    assert [n["mean"] for n in cli_nodes] == [n["mean"] for n in report.document["nodes"]]
    assert [n["interval"] for n in cli_nodes] == [n["interval"] for n in report.document["nodes"]]


def test_report_writes_files_only_when_asked(data_root):
    project = Project(data_root)
    project.report(TWO, engine="exact")
    assert not (data_root / "reports" / TWO / "report.html").exists()
    written = project.report(TWO, engine="exact", write=True).written
    assert {p.name for p in written} >= {"report.md", "report.html", "report.json"}


def test_whatif_is_the_hand_derived_conditional(data_root):
    # a clamped yes: P(b | a) = 0.75, LR 3 on b: 0.75 * 3 / (0.75 * 3 + 0.25) = 0.9
    whatif = Project(data_root).whatif({"a": True}, scenario=TWO, engine="exact")
    frame = whatif.to_frame()
    assert frame["mean"].tolist() == pytest.approx([1.0, 0.9], abs=1e-9)
    assert frame["unconditional"].tolist() == pytest.approx([0.625, 0.75], abs=1e-6)
    assert frame["change_pp"].tolist() == pytest.approx([37.5, 15.0], abs=0.01)
    assert whatif.given == {"a": True}
    same = Project(data_root).whatif(["a=yes"], scenario=TWO, engine="exact").to_frame()
    pd.testing.assert_frame_equal(frame, same)


def without_generated_at(document: dict) -> dict:
    return {k: v for k, v in document.items() if k != "generated_at"}


def test_backtest_is_the_clis_backtest_and_writes_its_files_only_when_asked(tmp_path):
    """On two-node-beta with the analysts hawk and dove, evidence on two dates and both nodes
    resolved: the team's backtest, one analyst's and --all's are the CLI's JSON (its clock
    aside), and `write=True` writes the files the CLI writes, with the same bytes but the
    clock's."""
    evidence = (REPO / "tests" / "data" / "evidence" / f"{TWO}.csv").read_text()
    root = two_node_team(tmp_path / "team",
                         evidence + "E2,a,2025-03-01,Test,A,1,2,,A looks twice as likely,\n",
                         "node,outcome,date,source\na,no,2025-02-15,Test\nb,yes,2025-04-01,Test\n")
    project = Project(root)
    whose = {(): ("analysts", {"dove", "hawk"}), ("--analyst", "hawk"): ("analyst", "hawk"),
             ("--all",): ("scenarios", [TWO])}
    for args, options in (((), {}), (("--analyst", "hawk"), {"analyst": "hawk"}),
                          (("--all",), {"every": True})):
        before = snapshot_files(root)
        backtest = project.backtest(TWO, **options)
        assert backtest.written == () and snapshot_files(root) == before, args
        key, value = whose[args]
        found = backtest.document[key]
        assert (found.keys() if isinstance(found, dict) else found) == value, args
        out = cli(root, "backtest", "--scenario", TWO, "--format", "json", *args)
        assert out.exit_code == 0, out.output
        assert without_generated_at(backtest.document) == without_generated_at(json.loads(out.stdout))
    team = project.backtest(TWO)
    assert team.score["n"] == 3
    frame = team.to_frame()
    assert list(frame.columns) == list(BACKTEST_COLUMNS)
    assert list(zip(frame.node, frame.as_of.dt.strftime("%Y-%m-%d"), strict=True)) == [
        ("a", "2025-02-01"), ("b", "2025-02-01"), ("b", "2025-03-01")]
    assert frame.brier.mean() == pytest.approx(team.score["brier"], abs=1e-6)
    cli_files = {p: snapshot_files(root)[p] for p in (root / "reports" / TWO / "backtest.json",
                                                       root / "reports" / TWO / "backtest.html")}
    written = project.backtest(TWO, write=True).written
    assert set(written) == set(cli_files)
    stamp = re.compile(rb"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?\+00:00")
    for path, data in cli_files.items():
        assert stamp.sub(b"T", path.read_bytes()) == stamp.sub(b"T", data), path.name


def test_backtest_brier_is_the_hand_computation(data_root):
    """tests/test_backtest.py's hand computation on two-node-beta: replays on 2025-02-01
    (P(a) 0.625, P(b) 0.75) and 2025-03-01 (a resolved no, P(b) 0.5), scored against a = no
    and b = yes."""
    (data_root / "evidence" / f"{TWO}.csv").write_text(
        (data_root / "evidence" / f"{TWO}.csv").read_text()
        + "E2,a,2025-03-01,Test,A,1,2,,A looks twice as likely,\n")
    (data_root / "evidence" / f"{TWO}.resolutions.csv").write_text(
        "node,outcome,date,source\na,no,2025-02-15,Test\nb,yes,2025-04-01,Test\n")
    frame = Project(data_root).backtest(TWO, engine="exact").to_frame()
    assert frame.forecast.tolist() == pytest.approx([0.625, 0.75, 0.5], abs=1e-9)
    assert frame.brier.mean() == pytest.approx(0.234375, abs=1e-6)


def test_add_evidence_update_history_and_resolve(data_root):
    project = Project(data_root)
    assert project.history(TWO).empty
    added = project.add_evidence(node="a", lr=4, source="Test", reliability="A", credibility=1,
                                 summary="A looks four times likelier", date="2025-03-01",
                                 scenario=TWO)
    assert added == ["E2"]
    evidence = project.evidence(TWO)
    assert evidence[["item_id", "node", "lr_value", "weight"]].values.tolist() == [
        ["E1", "b", 3.0, 1.0], ["E2", "a", 4.0, 1.0]]
    listed = json.loads(cli(data_root, "evidence", "list", "--scenario", TWO, "--format", "json").stdout)
    assert [row["item_id"] for row in listed] == evidence.item_id.tolist()

    update = project.update(TWO, engine="exact")
    assert update.appended and update.snapshots == 1 and update.report is not None
    # Joint weights ab 4.5, a~b 0.5, ~ab 0.375, ~a~b 0.375 (Z = 5.75).
    assert update.report.to_frame()["mean"].tolist() == pytest.approx([5 / 5.75, 4.875 / 5.75], abs=1e-6)
    assert not project.update(TWO, engine="exact").appended
    history = project.history(TWO)
    assert history[["snapshot", "node"]].values.tolist() == [[0, "a"], [0, "b"]]
    assert history["mean"].tolist() == pytest.approx([5 / 5.75, 4.875 / 5.75], abs=1e-6)

    project.resolve("a", True, "2025-12-01", "Test source", scenario=TWO)
    frame = project.report(TWO, engine="exact").to_frame()
    assert frame["resolved"][0] == "yes" and frame["resolved"].isna().tolist() == [False, True]
    assert frame["mean"][0] == 1.0


def test_errors_are_the_clis_forecast_errors(data_root):
    project = Project(data_root)
    with pytest.raises(ForecastError) as caught:
        project.add_evidence(node="a", lr=-3, source="x", reliability="A", credibility=1,
                             summary="bad", scenario=TWO)
    bad = cli(data_root, "evidence", "add", "--scenario", TWO, "--node", "a", "--lr", "-3",
              "--source", "x", "--reliability", "A", "--credibility", "1", "--summary", "bad")
    assert bad.exit_code == 1
    assert bad.stderr.strip() == f"Error: {caught.value}"
    with pytest.raises(ForecastError, match="priors/no-such.toml"):
        project.report("no-such", engine="exact")
    with pytest.raises(ForecastError, match="engine: expected one of auto, exact, nuts, found 'fast'"):
        project.report(TWO, engine="fast")
    with pytest.raises(ForecastError, match="--given"):
        project.whatif({"zz": True}, scenario=TWO, engine="exact")
    assert project.evidence(TWO).item_id.tolist() == ["E1"]          # nothing written


def test_scenarios_lists_every_scenario_under_the_root(data_root):
    frame = Project(data_root).scenarios()
    assert TWO in frame.id.tolist() and frame.id.tolist() == sorted(frame.id)
    assert frame.set_index("id").loc[TWO, "nodes"] == 2


def test_the_api_on_the_exact_engine_never_imports_pymc(data_root):
    code = ("import sys; from forecast.api import Project; "
            f"Project({str(data_root)!r}).report({TWO!r}, engine='exact').to_frame(); "
            "print(sorted(m for m in ('pymc', 'pytensor', 'arviz', 'nutpie') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
