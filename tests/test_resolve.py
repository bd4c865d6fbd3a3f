"""`forecast resolve`: a validated, atomic, locked append; the node is hard evidence after."""

from __future__ import annotations

import json
from concurrent.futures import ProcessPoolExecutor

import pytest
from conftest import snapshot_files
from typer.testing import CliRunner

from forecast.cli import app
from forecast.io.project import load_inputs, scenario_paths
from forecast.jobs.resolve import resolve

runner = CliRunner()
TURKEY = "turkey-peacekeeping"


def data_files(root):
    """Every file but the lock files (an empty lock file is left beside a data file)."""
    return {p: b for p, b in snapshot_files(root).items() if not p.name.endswith(".lock")}


def invoke(*args):
    return runner.invoke(app, list(args))


def test_resolve_creates_the_file_with_a_header_and_one_row(repo_root):
    path = repo_root / "evidence" / f"{TURKEY}.resolutions.csv"
    assert not path.exists()
    result = invoke("resolve", "ceasefire", "no", "--date", "2026-03-11", "--source",
                    "Reuters, 11 March 2026", "--root", str(repo_root))
    assert result.exit_code == 0, result.output
    assert result.stdout == (f"Recorded ceasefire = no on 2026-03-11 in evidence/{TURKEY}.resolutions.csv\n")
    assert path.read_text() == 'node,outcome,date,source\nceasefire,no,2026-03-11,"Reuters, 11 March 2026"\n'
    (resolution,) = load_inputs(scenario_paths(repo_root, TURKEY)).resolutions
    assert (resolution.node, resolution.outcome, resolution.date.isoformat()) == ("ceasefire", False, "2026-03-11")


def test_resolve_appends_keeping_existing_bytes_and_prints_json(data_root):
    path = data_root / "evidence" / "burglary.resolutions.csv"
    before = path.read_bytes()
    result = invoke("resolve", "alarm", "YES", "--date", "2025-01-02", "--source", "Siren log",
                    "--scenario", "burglary", "--root", str(data_root), "--format", "json")
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout) == {"scenario": "burglary", "node": "alarm", "outcome": "yes",
                                         "date": "2025-01-02", "source": "Siren log",
                                         "file": "evidence/burglary.resolutions.csv"}
    assert path.read_bytes() == before + b"alarm,yes,2025-01-02,Siren log\n"


def test_resolved_node_is_hard_evidence_and_the_report_shows_it(data_root):
    # burglary is a fixed-CPT network: its report runs without sampling.
    assert invoke("resolve", "alarm", "no", "--date", "2025-01-02", "--source", "Siren log",
                  "--scenario", "burglary", "--root", str(data_root)).exit_code == 0
    result = invoke("report", "--scenario", "burglary", "--root", str(data_root), "--format", "json")
    assert result.exit_code == 0, result.output
    nodes = {n["id"]: n for n in json.loads(result.stdout)["nodes"]}
    assert nodes["alarm"]["resolved"] == "no"
    assert nodes["alarm"]["mean"] == 0.0
    # With the alarm silent, both calls are false alarms: burglary falls back near its prior
    # (0.001 * 0.06 ... by enumeration: P(B | not A) = 0.001 * 0.0581 / P(not A)).
    assert nodes["burglary"]["mean"] < 0.001


@pytest.mark.parametrize("args, expected", [
    (["nope", "yes", "--date", "2025-06-01"], ":4: node: expected a node of burglary"),
    (["alarm", "maybe", "--date", "2025-06-01"], ":4: outcome: expected yes or no, found 'maybe'"),
    (["alarm", "yes", "--date", "2024-12-31"],
     ":4: date: expected a date on or after the node opens (2025-01-01), found '2024-12-31'"),
    (["alarm", "yes", "--date", "01/06/2025"], ":4: date: expected a date YYYY-MM-DD"),
    (["john_calls", "no", "--date", "2025-06-01"], ":4: node: expected one resolution per node (first at line 2)"),
])
def test_bad_resolutions_are_one_line_errors_and_write_nothing(data_root, args, expected):
    before = data_files(data_root)
    result = invoke("resolve", *args, "--source", "S", "--scenario", "burglary", "--root", str(data_root))
    assert result.exit_code == 1
    assert result.stderr.count("\n") == 1
    assert result.stderr.startswith("Error: evidence/burglary.resolutions.csv")
    assert expected in result.stderr
    assert "Traceback" not in result.output
    assert data_files(data_root) == before


def test_missing_source_is_a_usage_error(data_root):
    assert invoke("resolve", "alarm", "yes", "--scenario", "burglary", "--root", str(data_root)).exit_code == 2


def _resolve_one(args):
    root, node = args
    resolve(scenario_paths(root, TURKEY), node, "yes", "2026-01-01", f"source for {node}")
    return node


def test_concurrent_resolutions_lose_no_row(repo_root):
    nodes = ["ceasefire", "turkish_deployment", "russia_ties_strained", "f35_reinstatement",
             "mediation_stalemate", "kyiv_partnership"]
    with ProcessPoolExecutor(max_workers=3) as pool:
        assert sorted(pool.map(_resolve_one, [(repo_root, n) for n in nodes])) == sorted(nodes)
    resolutions = load_inputs(scenario_paths(repo_root, TURKEY)).resolutions
    assert sorted(r.node for r in resolutions) == sorted(nodes)
