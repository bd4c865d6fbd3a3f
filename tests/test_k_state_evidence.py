"""`forecast evidence add / import / edit / list / validate` on questions with more than two
outcomes: `--state` and vector `--lr`, the `state` column added only when a row needs it, what
each command writes checked through the library and the forecast it gives against an
enumeration over joint states, and every mistake in a state one located line, nothing written."""

from __future__ import annotations

import csv
import io
import json
import shutil
from pathlib import Path

import pytest
from conftest import data_files, run_cli
from test_k_states import brute_force

from forecast.api import Project
from forecast.io.evidence import load_evidence
from forecast.io.priors import load_scenario

DATA = Path(__file__).parent / "data"
SCENARIO = "k-state"
HEADER = "item_id,node,date,source,reliability,credibility,lr,cluster,summary,url\n"
ITEM = ["--scenario", SCENARIO, "--source", "Monitor", "--reliability", "A", "--credibility",
        "1", "--summary", "Shelling reported", "--date", "2025-03-12"]


@pytest.fixture
def k_root(tmp_path) -> Path:
    """The three-node k-state scenario with an evidence file that has no `state` column yet."""
    (tmp_path / "priors").mkdir()
    (tmp_path / "evidence").mkdir()
    shutil.copy(DATA / "k_state_scenario.toml", tmp_path / "priors" / f"{SCENARIO}.toml")
    (tmp_path / "evidence" / f"{SCENARIO}.csv").write_text(
        HEADER + "E001,talks,2025-03-12,Paper,C,3,0.5,,Delegations cancel,\n")
    return tmp_path


def evidence_path(root: Path) -> Path:
    return root / "evidence" / f"{SCENARIO}.csv"


def header(root: Path) -> list[str]:
    return next(csv.reader(io.StringIO(evidence_path(root).read_text())))


def blank(value) -> bool:
    """None, or pandas' NaN for it."""
    return value is None or value != value


def add(root, *args):
    return run_cli(root, ["evidence", "add", *ITEM, *args])


def forecast_matches_enumeration(root: Path) -> None:
    """The report's per-state forecast equals P(state | evidence) by enumeration."""
    scenario = load_scenario(root / "priors" / f"{SCENARIO}.toml")
    items = load_evidence(evidence_path(root), scenario)
    expected = brute_force(scenario, items)
    report = Project(root).report(SCENARIO, engine="exact", write=False)
    for node in report.document["nodes"]:
        for row in node["distribution"]:
            assert row["mean"] == pytest.approx(expected[node["id"]][row["state"]], abs=1e-6)


def test_add_with_a_state_and_a_vector_lr_writes_the_state_column(k_root):
    result = add(k_root, "--node", "attacks", "--lr", "3", "--state", "sustained")
    assert result.exit_code == 0, result.output
    assert "attacks (LR 3 for sustained, w 1.00)" in result.stdout
    assert header(k_root)[-1] == "state"
    result = add(k_root, "--node", "mediator", "--node", "talks", "--lr", "1:2:0.5", "--lr", "2",
                 "--state", "", "--state", "no", "--item-id", "E9")
    assert result.exit_code == 0, result.output
    frame = Project(k_root).evidence(SCENARIO)
    rows = {(r.item_id, r.node): r for r in frame.itertuples()}
    assert blank(rows["E001", "talks"].state)                    # the row written before
    assert rows["E002", "attacks"].state == "sustained" and rows["E002", "attacks"].lr_value == 3
    assert blank(rows["E9", "mediator"].state) and rows["E9", "mediator"].lrs == [1, 2, 0.5]
    assert rows["E9", "talks"].state == "no"
    forecast_matches_enumeration(k_root)


def test_rows_without_a_state_leave_a_file_without_the_column_as_it_was(k_root):
    before = evidence_path(k_root).read_bytes()
    result = add(k_root, "--node", "talks", "--lr", "2")
    assert result.exit_code == 0, result.output
    assert evidence_path(k_root).read_bytes().startswith(before)
    assert "state" not in header(k_root)
    result = add(k_root, "--node", "mediator", "--lr", "1:1:4")    # a vector needs no state
    assert result.exit_code == 0, result.output
    assert "state" not in header(k_root)


def test_import_with_states_into_a_file_without_the_column(k_root, tmp_path):
    incoming = tmp_path / "new.csv"
    incoming.write_text(HEADER.rstrip("\n") + ",state\n"
                        "X1,attacks,2025-03-14,Wire,B,2,4,,Raids,,sporadic\n"
                        "X2,mediator,2025-03-15,Wire,B,2,2:1:1,,Turkey hosts,,\n")
    result = run_cli(k_root, ["evidence", "import", str(incoming), "--scenario", SCENARIO])
    assert result.exit_code == 0, result.output
    frame = Project(k_root).evidence(SCENARIO).set_index(["item_id", "node"])
    assert frame.loc[("X1", "attacks"), "state"] == "sporadic"
    assert frame.loc[("X2", "mediator"), "lrs"] == [2, 1, 1]
    assert blank(frame.loc[("E001", "talks"), "state"])
    forecast_matches_enumeration(k_root)


def test_edit_changes_a_state_and_a_vector_lr_clears_it(k_root):
    assert add(k_root, "--node", "attacks", "--lr", "3", "--state", "sustained").exit_code == 0
    result = run_cli(k_root, ["evidence", "edit", "E002", "--scenario", SCENARIO,
                              "--state", "sporadic", "--format", "json"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["rows"][0]["state"] == "sporadic"
    forecast_matches_enumeration(k_root)
    result = run_cli(k_root, ["evidence", "edit", "E002", "--scenario", SCENARIO, "--lr", "1:1:3"])
    assert result.exit_code == 0, result.output
    (row,) = [r for r in Project(k_root).evidence(SCENARIO).itertuples() if r.item_id == "E002"]
    assert blank(row.state) and row.lrs == [1, 1, 3]
    forecast_matches_enumeration(k_root)


def test_edit_adds_the_state_column_when_a_row_first_needs_it(k_root):
    result = run_cli(k_root, ["evidence", "edit", "E001", "--scenario", SCENARIO, "--state", "no"])
    assert result.exit_code == 0, result.output
    assert header(k_root)[-1] == "state"
    assert Project(k_root).evidence(SCENARIO)["state"].tolist() == ["no"]


def test_list_filters_by_state_and_shows_it_in_csv_and_json(k_root):
    assert add(k_root, "--node", "attacks", "--lr", "3", "--state", "sustained").exit_code == 0
    assert add(k_root, "--node", "mediator", "--lr", "1:2:1").exit_code == 0
    assert add(k_root, "--node", "talks", "--lr", "2").exit_code == 0      # for yes
    listed = run_cli(k_root, ["evidence", "list", "--scenario", SCENARIO, "--state", "sustained",
                              "--state", "yes", "--format", "csv"])
    assert listed.exit_code == 0, listed.output
    rows = list(csv.DictReader(io.StringIO(listed.stdout)))
    assert [(r["item_id"], r["state"]) for r in rows] == [
        ("E001", ""), ("E002", "sustained"), ("E004", "")]
    everything = json.loads(run_cli(k_root, ["evidence", "list", "--scenario", SCENARIO,
                                             "--format", "json"]).stdout)
    assert [(r["item_id"], r["state"], r["lrs"]) for r in everything] == [
        ("E001", None, None), ("E002", "sustained", None), ("E003", None, [1, 2, 1]),
        ("E004", None, None)]
    table = run_cli(k_root, ["evidence", "list", "--scenario", SCENARIO, "--node", "attacks"])
    assert "sustained" in table.stdout


def test_validate_names_the_state_and_lists_the_node_states(k_root):
    path = evidence_path(k_root)
    path.write_text(HEADER.rstrip("\n") + ",state\n"
                    "E1,attacks,2025-03-12,M,A,1,3,,s,,often\n"
                    "E2,mediator,2025-03-12,M,A,1,1:2,,s,,\n")
    result = run_cli(k_root, ["evidence", "validate", "--scenario", SCENARIO])
    assert result.exit_code == 1
    assert result.stderr.splitlines() == [
        "Error: evidence/k-state.csv:2: state: expected a state of attacks (none, sporadic, "
        "sustained), found 'often'",
        "Error: evidence/k-state.csv:3: lr: expected 3 positive numbers joined by ':' "
        "(turkey:qatar:nobody), found '1:2'"]


@pytest.mark.parametrize("args, message", [
    (["evidence", "add", *ITEM, "--node", "attacks", "--lr", "3", "--state", "often"],
     "Error: --state: state: expected a state of attacks (none, sporadic, sustained), found 'often'"),
    (["evidence", "add", *ITEM, "--node", "talks", "--lr", "3", "--state", "sporadic"],
     "Error: --state: state: expected a state of talks (yes, no), found 'sporadic'"),
    (["evidence", "add", *ITEM, "--node", "attacks", "--node", "talks", "--lr", "3",
      "--state", "none", "--state", "no", "--state", "yes"],
     "Error: --state: state: expected one --state for every node, or one per --node (2, in the "
     "same order), found 3"),
    (["evidence", "add", *ITEM, "--node", "attacks", "--lr", "1:2"],
     "Error: --node attacks: lr: expected 3 positive numbers joined by ':' "
     "(none:sporadic:sustained), found '1:2'"),
    (["evidence", "add", *ITEM, "--node", "attacks", "--lr", "3"],
     "Error: --node attacks: state: expected a state of attacks (none, sporadic, "
     "sustained) for a single LR, or a vector LR with 3 numbers joined by ':', found 'nothing'"),
    (["evidence", "edit", "E001", "--scenario", SCENARIO, "--state", "maybe"],
     "Error: --state: state: expected a state of talks (yes, no), found 'maybe'"),
    (["evidence", "list", "--scenario", SCENARIO, "--node", "attacks", "--state", "no"],
     "Error: --state: state: expected a state of attacks (none, sporadic, sustained), found 'no'"),
])
def test_a_bad_state_is_one_located_line_and_nothing_is_written(k_root, args, message):
    before = data_files(k_root)
    result = run_cli(k_root, [*args])
    assert result.exit_code == 1
    assert result.stderr.splitlines() == [message]
    assert data_files(k_root) == before


def test_an_imported_bad_state_names_the_import_file_and_line(k_root, tmp_path):
    incoming = tmp_path / "new.csv"
    incoming.write_text(HEADER.rstrip("\n") + ",state\nX1,mediator,2025-03-14,W,B,2,2,,t,,egypt\n")
    before = data_files(k_root)
    result = run_cli(k_root, ["evidence", "import", str(incoming), "--scenario", SCENARIO])
    assert result.exit_code == 1
    assert result.stderr.splitlines() == [
        f"Error: {incoming}:2: state: expected a state of mediator (turkey, qatar, nobody), "
        "found 'egypt'"]
    assert data_files(k_root) == before


def test_a_state_on_a_row_with_a_vector_lr_names_the_row(k_root):
    assert add(k_root, "--node", "mediator", "--lr", "1:2:1").exit_code == 0
    before = data_files(k_root)
    result = run_cli(k_root, ["evidence", "edit", "E002", "--scenario", SCENARIO, "--state", "qatar"])
    assert result.exit_code == 1
    assert result.stderr.splitlines() == [
        "Error: evidence/k-state.csv:3: lr: expected one likelihood ratio for state qatar (or an "
        "empty state and a vector LR), found '1:2:1'"]
    assert data_files(k_root) == before
