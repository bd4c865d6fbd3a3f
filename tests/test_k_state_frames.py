"""Tables of questions with more than two outcomes: `Report.to_frame()` and `Project.history()`
give a row per (question, state) (a yes/no question keeps one row, state "yes"), and `report
--format csv` keeps a row per question with every state's probability in a `distribution` cell;
every number equals an enumeration over joint states."""

from __future__ import annotations

import csv
import io
from pathlib import Path
from types import SimpleNamespace

import pytest
from conftest import run_cli
from test_k_states import brute_force

from forecast.api import FRAME_COLUMNS, HISTORY_COLUMNS, Project
from forecast.io.evidence import load_evidence
from forecast.io.priors import load_scenario
from forecast.render.csv import REPORT_COLUMNS, render_csv

DATA = Path(__file__).parent / "data"
SCENARIO = "k-state"
STATES = {"attacks": ["none", "sporadic", "sustained"], "talks": ["yes", "no"],
          "mediator": ["turkey", "qatar", "nobody"]}


def enumeration(root: Path, fixed: dict[str, str] | None = None) -> dict[str, dict[str, float]]:
    scenario = load_scenario(root / "priors" / f"{SCENARIO}.toml")
    items = load_evidence(root / "evidence" / f"{SCENARIO}.csv", scenario)
    return brute_force(scenario, items,
                       [SimpleNamespace(node=k, outcome=v) for k, v in (fixed or {}).items()])


def test_csv_keeps_a_row_per_question_with_each_states_probability_in_distribution(k_root):
    result = run_cli(k_root, ["report", "--scenario", SCENARIO, "--engine", "exact",
                              "--format", "csv"])
    assert result.exit_code == 0, result.output
    assert result.stdout.splitlines()[0].endswith(",resolved,distribution")
    rows = list(csv.DictReader(io.StringIO(result.stdout)))
    assert tuple(rows[0]) == REPORT_COLUMNS
    assert [r["node"] for r in rows] == list(STATES)
    expected = enumeration(k_root)
    for row in rows:
        pairs = [cell.split("=") for cell in row["distribution"].split(";")]
        assert [state for state, _ in pairs] == STATES[row["node"]]
        for state, text in pairs:
            assert len(text.split(".")[1]) == 3                    # three decimals
            assert float(text) == pytest.approx(expected[row["node"]][state], abs=5e-4 + 1e-9)
    talks = rows[1]
    assert float(talks["mean"]) == pytest.approx(expected["talks"]["yes"], abs=1e-6)
    assert rows[0]["mean"] == rows[0]["prior"] == rows[0]["low"] == ""   # no single mean
    assert rows[0]["term"] == "most likely sustained"


def test_a_distribution_cell_never_runs_as_a_formula():
    node = {"id": "a", "role": "driver", "question": "Q", "prior_mean": None, "mean": None,
            "interval": None, "term": None, "most_likely": "x", "resolved": None,
            "distribution": [{"state": "=x", "prior_mean": 0.5, "mean": 0.75, "interval": [0, 1]},
                             {"state": "y", "prior_mean": 0.5, "mean": 0.25, "interval": [0, 1]}]}
    row = list(csv.DictReader(io.StringIO(render_csv({"nodes": [node]}))))[0]
    assert row["distribution"] == "'=x=0.750;y=0.250"


def test_report_frame_has_a_row_per_state_equal_to_enumeration(k_root):
    frame = Project(k_root).report(SCENARIO, engine="exact").to_frame()
    assert list(frame.columns) == list(FRAME_COLUMNS)
    assert list(zip(frame.node, frame.state, strict=True)) == [
        (node, state) for node, states in STATES.items() for state in (states if node != "talks"
                                                                     else ["yes"])]
    expected = enumeration(k_root)
    for row in frame.itertuples():
        assert row.mean == pytest.approx(expected[row.node][row.state], abs=1e-6)
        assert row.low < row.mean < row.high
    attacks = frame[frame.node == "attacks"]
    assert attacks.prior.tolist() == pytest.approx([0.5, 0.3, 0.2])   # the Dirichlet's mean
    assert attacks["mean"].sum() == pytest.approx(1, abs=1e-5)
    assert set(attacks.term) == {"most likely sustained"} and attacks.resolved.isna().all()


def test_history_has_a_row_per_snapshot_node_and_state_and_names_the_resolved_state(k_root):
    project = Project(k_root)
    project.update(SCENARIO, engine="exact")
    project.resolve("attacks", "sporadic", "2025-06-01", "Monitor", scenario=SCENARIO)
    project.update(SCENARIO, engine="exact")
    history = project.history(SCENARIO)
    assert list(history.columns) == list(HISTORY_COLUMNS)
    keys = [(node, state) for node, states in STATES.items()
            for state in (states if node != "talks" else ["yes"])]
    assert list(zip(history.snapshot, history.node, history.state, strict=True)) == [
        (snapshot, *key) for snapshot in (0, 1) for key in keys]
    for snapshot, fixed in ((0, {}), (1, {"attacks": "sporadic"})):
        expected = enumeration(k_root, fixed)
        rows = history[history.snapshot == snapshot]
        for row in rows.itertuples():
            assert row.mean == pytest.approx(expected[row.node][row.state], abs=1e-6)
    resolved = history[(history.snapshot == 1) & (history.node == "attacks")]
    assert set(resolved.resolved) == {"sporadic"}
    assert resolved.set_index("state")["mean"].to_dict() == {"none": 0, "sporadic": 1, "sustained": 0}
    frame = project.report(SCENARIO, engine="exact").to_frame()
    assert set(frame[frame.node == "attacks"].resolved) == {"sporadic"}
