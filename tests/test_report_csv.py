"""`forecast report --format csv`: one row per node for a spreadsheet, the same numbers as the
JSON report, formula prefixes neutralised like the evidence export."""

from __future__ import annotations

import csv
import io
import json

import pytest
from typer.testing import CliRunner

from forecast.cli import app
from forecast.render.csv import REPORT_COLUMNS, neutralise, render_csv

runner = CliRunner()


def report(root, *args):
    result = runner.invoke(app, ["report", "--root", str(root), "--scenario", "two-node-beta",
                                 "--engine", "exact", *args])
    assert result.exit_code == 0, result.output
    return result.stdout


def test_one_row_per_node_with_the_json_reports_numbers(data_root):
    text = report(data_root, "--format", "csv", "--as-of", "2025-06-01")
    rows = list(csv.DictReader(io.StringIO(text)))
    assert tuple(rows[0]) == REPORT_COLUMNS
    assert text.splitlines()[0] == ("node,role,question,prior,mean,low,high,term,overdue,resolved,"
                                    "distribution")
    # Hand-derived (tests/test_inference.py): P(a | e) = 1.25 / 2, P(b | e) = 1.5 / 2; priors 0.5 each.
    assert [(r["node"], r["role"], r["question"]) for r in rows] == [
        ("a", "driver", "A?"), ("b", "consequence", "B?")]
    assert [float(r["mean"]) for r in rows] == pytest.approx([0.625, 0.75], abs=1e-6)
    assert [float(r["prior"]) for r in rows] == pytest.approx([0.5, 0.5], abs=1e-6)
    assert [r["overdue"] for r in rows] == ["false", "false"]      # deadlines 2026-01-01, as of 2025-06-01
    assert [r["resolved"] for r in rows] == ["", ""]
    document = json.loads(report(data_root, "--format", "json", "--as-of", "2025-06-01"))
    for row, node in zip(rows, document["nodes"], strict=True):
        assert (float(row["low"]), float(row["high"])) == tuple(node["interval"])
        assert float(row["mean"]) == node["mean"] and row["term"] == node["term"]
        assert float(row["low"]) < float(row["mean"]) < float(row["high"])


def test_overdue_and_resolved_columns(data_root):
    (data_root / "evidence" / "two-node-beta.resolutions.csv").write_text(
        "node,outcome,date,source\na,yes,2025-12-01,Test\n")
    rows = list(csv.DictReader(io.StringIO(report(data_root, "--format", "csv"))))
    assert [(r["node"], r["overdue"], r["resolved"]) for r in rows] == [("a", "false", "yes"),
                                                                        ("b", "true", "")]
    assert float(rows[0]["mean"]) == 1.0


def test_a_resolved_question_has_no_estimative_term(data_root):
    (data_root / "evidence" / "two-node-beta.resolutions.csv").write_text(
        "node,outcome,date,source\na,no,2025-12-01,Test\n")
    rows = list(csv.DictReader(io.StringIO(report(data_root, "--format", "csv"))))
    assert [(r["node"], r["term"], r["resolved"]) for r in rows][0] == ("a", "", "no")
    assert rows[1]["term"] != ""


@pytest.mark.parametrize("text", ["=HYPERLINK(\"http://x\",\"y\")?", "+1+1?", "-2?", "@SUM(A1)?"])
def test_question_text_never_runs_as_a_formula(data_root, text):
    toml = data_root / "priors" / "two-node-beta.toml"
    toml.write_text(toml.read_text().replace('question = "A?"', f"question = {json.dumps(text)}"))
    rows = list(csv.DictReader(io.StringIO(report(data_root, "--format", "csv"))))
    assert rows[0]["question"] == "'" + text
    assert not [c for r in rows for c in r.values() if c.startswith(("=", "+", "-", "@", "\t", "\r"))]


def test_documents_without_overdue_leave_the_column_out():
    document = {"nodes": [{"id": "=a", "role": "driver", "question": "Q", "prior_mean": 0.5,
                           "mean": 0.25, "interval": [0.1, 0.4], "term": "unlikely",
                           "resolved": None}]}
    assert render_csv(document) == ("node,role,question,prior,mean,low,high,term,resolved,"
                                    "distribution\n'=a,driver,Q,0.5,0.25,0.1,0.4,unlikely,,\n")
    assert neutralise("plain") == "plain"
    # The scenario parser strips surrounding whitespace from questions; the renderer guards anyway.
    assert [neutralise(c) for c in ("\tA", "\rA", "a=b")] == ["'\tA", "'\rA", "a=b"]
