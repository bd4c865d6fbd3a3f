"""Shared evidence cannot be silently corrupted: an item id names one item, nothing is dated
after today, no file carries a live spreadsheet formula, evidence on a settled question is
refused, and a resolution is retracted by an appended row that every reader understands."""

from __future__ import annotations

import csv
import datetime as dt
import io
import json

import pytest
from conftest import DATA, snapshot_files
from hypothesis import given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from forecast.cli import app
from forecast.errors import ForecastError
from forecast.io.evidence import parse_evidence, parse_resolutions
from forecast.io.priors import load_scenario
from forecast.io.project import load_inputs, scenario_paths

runner = CliRunner()
SCENARIO = "two-node-beta"
HEADER = "item_id,node,date,source,reliability,credibility,lr,cluster,summary,url\n"
ROW_E1 = "E1,b,2025-02-01,Test,A,1,3,,B looks three times likelier,\n"
TODAY = dt.date.today()
TOMORROW = (TODAY + dt.timedelta(days=1)).isoformat()


def run(root, *args):
    return runner.invoke(app, [*args, "--root", str(root), "--scenario", SCENARIO])


def data_files(root):
    return {p: b for p, b in snapshot_files(root).items() if not p.name.endswith(".lock")}


def refused(root, before, result, message):
    """Exit 1, the one-line error `message`, and every file as it was."""
    assert result.exit_code == 1, result.output
    assert result.stderr == f"Error: {message}\n"
    assert data_files(root) == before


@pytest.fixture(scope="module")
def scenario():
    return load_scenario(DATA / "priors" / f"{SCENARIO}.toml")


# -- an item id names one item -----------------------------------------------------------------

def test_import_of_a_known_id_with_other_details_is_refused_at_the_import_line(data_root):
    incoming = data_root / "dup.csv"
    incoming.write_text(HEADER + "E1,a,2025-04-01,Other source,B,2,2,,A different item,\n")
    before = data_files(data_root)
    refused(data_root, before, run(data_root, "evidence", "import", str(incoming)),
            f"{incoming}:2: date: expected '2025-02-01', the date of item E1 at "
            f"evidence/{SCENARIO}.csv:2 (one id names one item: give another item its own id), "
            "found '2025-04-01'")


def test_import_may_add_a_node_to_a_known_item_when_its_details_agree(data_root):
    incoming = data_root / "more.csv"
    incoming.write_text(HEADER + "E1,a,2025-02-01,Test,A,1,0.5,,B looks three times likelier,\n")
    result = run(data_root, "evidence", "import", str(incoming))
    assert result.exit_code == 0, result.output
    items = load_inputs(scenario_paths(data_root, SCENARIO)).evidence
    assert sorted((it.item_id, it.node) for it in items) == [("E1", "a"), ("E1", "b")]


def test_add_with_a_known_id_and_other_details_is_refused(data_root):
    before = data_files(data_root)
    result = run(data_root, "evidence", "add", "--item-id", "E1", "--node", "a", "--lr", "2",
                 "--source", "Test", "--reliability", "A", "--credibility", "1", "--summary",
                 "Something else", "--date", "2025-02-01")
    refused(data_root, before, result,
            f"evidence/{SCENARIO}.csv:3: summary: expected 'B looks three times likelier', the "
            "summary of item E1 at line 2 (one id names one item: give another item its own id), "
            "found 'Something else'")


def test_edit_of_an_items_shared_field_on_some_of_its_rows_is_refused(data_root):
    path = data_root / "evidence" / f"{SCENARIO}.csv"
    path.write_text(HEADER + ROW_E1 + "E1,a,2025-02-01,Test,A,1,2,,B looks three times likelier,\n")
    before = data_files(data_root)
    refused(data_root, before, run(data_root, "evidence", "edit", "E1", "--node", "a", "--date",
                                   "2025-02-02"),
            "--node: node: expected no --node with --date (an item's date, source, grade, summary "
            "and url are shared by all its rows), found 'a'")
    result = run(data_root, "evidence", "edit", "E1", "--date", "2025-02-02")
    assert result.exit_code == 0, result.output
    assert {it.date for it in load_inputs(scenario_paths(data_root, SCENARIO)).evidence} == {
        dt.date(2025, 2, 2)}


FIELDS = {"date": "2025-02-02", "source": "Other", "reliability": "B", "credibility": "2",
          "summary": "Other words", "url": "https://example.org/x"}


@settings(max_examples=40, deadline=None)
@given(st.sampled_from(sorted(FIELDS)), st.integers(0, 2))
def test_a_hand_edited_file_whose_rows_of_one_id_disagree_is_refused(scenario, field, gap):
    base = {"item_id": "E1", "node": "b", "date": "2025-02-01", "source": "Test",
            "reliability": "A", "credibility": "1", "lr": "3", "cluster": "", "summary": "S",
            "url": ""}
    other = {**base, "item_id": "E2"}
    rows = [base] + [{**other, "node": n} for n in ("a", "b")][:gap] + [
        {**base, "node": "a", field: FIELDS[field]}]
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=list(base), lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    with pytest.raises(ForecastError) as error:
        parse_evidence(buffer.getvalue(), "e.csv", scenario)
    assert (error.value.row, error.value.field) == (len(rows) + 1, field)
    assert "item E1 at line 2" in str(error.value)


def test_validate_lists_an_id_naming_two_items(data_root):
    path = data_root / "evidence" / f"{SCENARIO}.csv"
    path.write_text(HEADER + ROW_E1 + "E1,a,2025-04-01,Other source,B,2,2,,A different item,\n")
    result = run(data_root, "evidence", "validate")
    assert result.exit_code == 1
    assert f"Error: evidence/{SCENARIO}.csv:3: date: expected '2025-02-01', the date of item E1" \
        in result.stderr


# -- nothing dated after today -----------------------------------------------------------------

def test_evidence_dated_after_today_is_refused(data_root):
    before = data_files(data_root)
    result = run(data_root, "evidence", "add", "--node", "a", "--lr", "2", "--source", "S",
                 "--reliability", "B", "--credibility", "2", "--summary", "x", "--date", TOMORROW)
    refused(data_root, before, result,
            f"evidence/{SCENARIO}.csv:3: date: expected a date on or before today "
            f"({TODAY.isoformat()}): nothing can be known yet of a later day, found '{TOMORROW}'")


def test_a_hand_edited_future_row_stops_the_report(data_root):
    path = data_root / "evidence" / f"{SCENARIO}.csv"
    path.write_text(HEADER + ROW_E1 + f"E2,a,{TOMORROW},S,A,1,2,,x,\n")
    result = run(data_root, "report", "--format", "json")
    assert result.exit_code == 1
    assert result.stderr.endswith(f"two-node-beta.csv:3: date: expected a date on or before today "
                                  f"({TODAY.isoformat()}): nothing can be known yet of a later "
                                  f"day, found '{TOMORROW}'\n")


def test_resolution_dated_after_today_is_refused(data_root):
    before = data_files(data_root)
    result = run(data_root, "resolve", "a", "yes", "--date", TOMORROW, "--source", "S")
    refused(data_root, before, result,
            f"evidence/{SCENARIO}.resolutions.csv:2: date: expected a date on or before today "
            f"({TODAY.isoformat()}): nothing can be known yet of a later day, found '{TOMORROW}'")


def test_the_parsers_take_today_from_the_caller(scenario):
    text = HEADER + "E1,b,2025-02-01,Test,A,1,3,,S,\n"
    assert parse_evidence(text, "e.csv", scenario, today=dt.date(2025, 2, 1))
    with pytest.raises(ForecastError, match="on or before today \\(2025-01-31\\)"):
        parse_evidence(text, "e.csv", scenario, today=dt.date(2025, 1, 31))


# -- no live formula in a file the analyst opens in a spreadsheet ------------------------------

FORMULAS = ['=HYPERLINK("http://evil.example","click")', "+cmd|' /C calc'!A0", "@SUM(1,2)",
            "-2+3"]


def test_import_neutralises_formulas_and_says_so(data_root):
    incoming = data_root / "f.csv"
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(HEADER.strip().split(","))
    writer.writerow(["", "a", "2025-03-01", FORMULAS[0], "B", "2", "2", FORMULAS[1], FORMULAS[2], ""])
    incoming.write_text(buffer.getvalue())
    result = run(data_root, "evidence", "import", str(incoming))
    assert result.exit_code == 0, result.output
    assert result.stdout.splitlines()[1] == (
        f"Note: Neutralised 3 cell(s) a spreadsheet would run as a formula (a ' put before them): "
        f"{incoming}:2 source, {incoming}:2 summary, {incoming}:2 cluster.")
    text = (data_root / "evidence" / f"{SCENARIO}.csv").read_text()
    stored = list(csv.DictReader(io.StringIO(text)))[-1]
    assert (stored["source"], stored["cluster"], stored["summary"]) == tuple(
        "'" + f for f in FORMULAS[:3])


def test_add_edit_and_resolve_neutralise_formulas(data_root):
    result = run(data_root, "evidence", "add", "--node", "a", "--lr", "2", "--source", FORMULAS[3],
                 "--reliability", "B", "--credibility", "2", "--summary", "x", "--date",
                 "2025-03-01", "--quote", FORMULAS[0])
    assert result.exit_code == 0, result.output
    assert run(data_root, "evidence", "edit", "E2", "--summary", FORMULAS[2]).exit_code == 0
    assert run(data_root, "resolve", "a", "yes", "--date", "2025-03-02", "--source",
               FORMULAS[1]).exit_code == 0
    for name in (f"{SCENARIO}.csv", f"{SCENARIO}.resolutions.csv"):
        text = (data_root / "evidence" / name).read_text()
        cells = [c for row in csv.reader(io.StringIO(text)) for c in row]
        assert not [c for c in cells if c.startswith(("=", "+", "-", "@"))], name
    (item,) = [it for it in load_inputs(scenario_paths(data_root, SCENARIO)).evidence
               if it.item_id == "E2"]
    assert (item.source, item.summary, item.quote) == ("'-2+3", "'@SUM(1,2)", "'" + FORMULAS[0])


@pytest.mark.parametrize("formula", FORMULAS)
def test_a_hand_edited_formula_cell_is_refused_by_every_reader(data_root, formula):
    path = data_root / "evidence" / f"{SCENARIO}.csv"
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\n").writerow(["E2", "a", "2025-03-01", "S", "A", "1", "2",
                                                       "", formula, ""])
    path.write_text(HEADER + ROW_E1 + buffer.getvalue())
    result = run(data_root, "evidence", "validate")
    assert result.exit_code == 1
    assert result.stderr.startswith(
        f"Error: evidence/{SCENARIO}.csv:3: summary: expected text a spreadsheet will not run as "
        "a formula")


# -- evidence on a resolved question -----------------------------------------------------------

def add_on_a(root, date):
    return run(root, "evidence", "add", "--node", "a", "--lr", "2", "--source", "S",
               "--reliability", "B", "--credibility", "2", "--summary", "x", "--date", date)


def test_evidence_dated_on_or_after_a_resolution_is_refused(data_root):
    assert run(data_root, "resolve", "a", "no", "--date", "2025-03-01", "--source", "S").exit_code == 0
    before = data_files(data_root)
    refused(data_root, before, add_on_a(data_root, "2025-03-01"),
            f"evidence/{SCENARIO}.csv:3: node: expected a node not yet resolved on 2025-03-01 (a "
            "resolved no on 2025-03-01; date the item before that, or retract with `forecast "
            "resolve --undo a`), found 'a'")


def test_evidence_dated_before_a_resolution_is_kept_with_a_note(data_root):
    assert run(data_root, "resolve", "a", "no", "--date", "2025-03-01", "--source", "S").exit_code == 0
    result = add_on_a(data_root, "2025-02-20")
    assert result.exit_code == 0, result.output
    assert result.stdout.splitlines()[1] == (
        "Note: E2 on a counts only in replays before 2025-03-01: a resolved no then.")


# -- retracting a resolution: an appended row --------------------------------------------------

def test_undo_appends_a_retraction_and_the_node_is_a_forecast_again(data_root):
    path = data_root / "evidence" / f"{SCENARIO}.resolutions.csv"
    assert run(data_root, "resolve", "a", "yes", "--date", "2025-03-01", "--source", "S").exit_code == 0
    before = path.read_bytes()
    result = run(data_root, "resolve", "--undo", "a", "--date", "2025-03-05", "--source",
                 "Recorded by mistake")
    assert result.exit_code == 0, result.output
    assert result.stdout == (f"Retracted a = yes (resolved 2025-03-01) on 2025-03-05 in evidence/"
                             f"{SCENARIO}.resolutions.csv; a is a forecast again\n")
    assert path.read_bytes() == before + b"a,retracted,2025-03-05,Recorded by mistake\n"
    assert load_inputs(scenario_paths(data_root, SCENARIO)).resolutions == ()
    report = json.loads(run(data_root, "report", "--format", "json").stdout)
    assert {n["id"]: n["resolved"] for n in report["nodes"]}["a"] is None
    validate = run(data_root, "evidence", "validate")
    assert validate.exit_code == 0
    assert f"{SCENARIO}.resolutions.csv (0 resolutions in force, 1 retracted)" in validate.stdout
    # resolved again, with the other outcome: the file keeps all three rows
    assert run(data_root, "resolve", "a", "no", "--date", "2025-03-06", "--source", "T").exit_code == 0
    (resolution,) = load_inputs(scenario_paths(data_root, SCENARIO)).resolutions
    assert (resolution.outcome, resolution.date, resolution.row) == (False, dt.date(2025, 3, 6), 4)


def test_undo_of_a_node_not_resolved_is_refused(data_root):
    before = data_files(data_root)
    refused(data_root, before, run(data_root, "resolve", "--undo", "a"),
            f"evidence/{SCENARIO}.resolutions.csv: node: expected a resolved node to retract "
            "(resolved: none), found 'a'")
    assert run(data_root, "resolve", "--undo", "a", "yes").exit_code == 2


def test_retraction_rows_are_checked_by_every_reader(scenario):
    head = "node,outcome,date,source\n"
    with pytest.raises(ForecastError, match=":2: outcome: expected a resolution of a above"):
        parse_resolutions(head + "a,retracted,2025-03-01,x\n", "r.csv", scenario)
    with pytest.raises(ForecastError, match=":3: node: expected one resolution per node"):
        parse_resolutions(head + "a,yes,2025-03-01,x\na,no,2025-03-02,y\n", "r.csv", scenario)
    text = head + "a,yes,2025-03-01,x\na,retracted,2025-03-02,y\nb,no,2025-03-03,z\n"
    assert [(r.node, r.outcome) for r in parse_resolutions(text, "r.csv", scenario)] == [("b", False)]


def test_the_python_api_retracts_as_the_command_does(data_root):
    from forecast.api import Project

    project = Project(data_root)
    project.resolve("a", True, "2025-03-01", "S", scenario=SCENARIO)
    project.undo_resolution("a", "2025-03-02", "Mistake", scenario=SCENARIO)
    assert load_inputs(scenario_paths(data_root, SCENARIO)).resolutions == ()
    assert (data_root / "evidence" / f"{SCENARIO}.resolutions.csv").read_text().endswith(
        "a,yes,2025-03-01,S\na,retracted,2025-03-02,Mistake\n")
