"""`forecast report` from the command line: files written, JSON shape, errors, --strict."""

from __future__ import annotations

import json
import re

import pytest
from conftest import snapshot_files
from typer.testing import CliRunner

from forecast.cli import app

runner = CliRunner()

TOP_KEYS = {"scenario", "as_of", "generated_at", "model_version", "evidence_hash", "seed",
            "versions", "diagnostics", "nodes"}
NODE_KEYS = {"id", "role", "question", "prior_mean", "mean", "interval", "interval_prob", "term",
             "resolved", "top_evidence"}
FAST = ["--draws", "300", "--tune", "300", "--chains", "2", "--no-progress"]


def invoke(*args):
    return runner.invoke(app, list(args))


def check_shape(doc: dict, scenario: str):
    assert TOP_KEYS <= doc.keys()
    assert doc["scenario"] == scenario
    assert {"divergences", "max_rhat", "min_ess", "warnings"} <= doc["diagnostics"].keys()
    assert {"pymc", "arviz", "numpy"} <= doc["versions"].keys()
    assert doc["evidence_hash"].startswith("sha256:")
    for node in doc["nodes"]:
        assert NODE_KEYS <= node.keys()
        low, high = node["interval"]
        assert 0 <= low <= node["mean"] <= high <= 1
        assert node["interval_prob"] == 0.9
        assert node["resolved"] in (None, "yes", "no")
        for item in node["top_evidence"]:
            assert {"item_id", "effect_pp"} <= item.keys()


@pytest.mark.slow
def test_report_json_on_turkey_writes_three_files(frozen_root):
    result = invoke("report", "--root", str(frozen_root), "--format", "json", "--seed", "3", *FAST)
    assert result.exit_code == 0, result.output
    doc = json.loads(result.stdout)
    check_shape(doc, "turkey-peacekeeping")
    assert doc["seed"] == 3
    assert len(doc["nodes"]) == 6
    out = frozen_root / "reports" / "turkey-peacekeeping"
    assert json.loads((out / "report.json").read_text())["nodes"] == doc["nodes"]
    assert "<table>" in (out / "report.html").read_text()
    assert "## Forecasts" in (out / "report.md").read_text()
    # Evidence moved the forecasts and the report says which items did it.
    assert any(node["top_evidence"] for node in doc["nodes"])


def test_report_table_names_every_node_and_the_diagnostics(data_root):
    result = invoke("report", "--root", str(data_root), "--scenario", "two-node-beta")
    assert result.exit_code == 0, result.output
    rows = {cells[1].strip(): [c.strip() for c in cells[2:-1]]
            for cells in (line.split("│") for line in result.stdout.splitlines())
            if len(cells) > 2}
    # one row per node, with the hand-derived exact posteriors of tests/test_inference.py
    assert set(rows) == {"a", "b"}
    assert rows["a"][:3] == ["driver", "50.0%", "62.5%"]
    assert rows["b"][:3] == ["consequence", "50.0%", "75.0%"]
    assert "exact engine: exact means (no sampling, no Monte Carlo error), intervals from 4,000 exact draws" \
        in " ".join(result.stdout.split())
    assert "R-hat" not in result.stdout          # nothing is sampled, so no sampler diagnostics
    assert ("Wrote reports/two-node-beta/report.md, reports/two-node-beta/report.html, "
            "reports/two-node-beta/report.json") in result.stdout


def test_fixed_network_report_reproduces_aima(data_root):
    result = invoke("report", "--root", str(data_root), "--scenario", "burglary", "--format",
                    "json")
    assert result.exit_code == 0, result.output
    doc = json.loads(result.stdout)
    check_shape(doc, "burglary")
    burglary = next(n for n in doc["nodes"] if n["id"] == "burglary")
    assert burglary["mean"] == pytest.approx(0.284, abs=5e-4)
    assert [n["resolved"] for n in doc["nodes"]][-2:] == ["yes", "yes"]


def test_a_network_of_fixed_numbers_says_its_intervals_are_points_not_draws(data_root):
    result = invoke("report", "--root", str(data_root), "--scenario", "burglary")
    assert result.exit_code == 0, result.output
    words = " ".join(result.stdout.split())
    assert ("exact engine: exact means (no sampling, no Monte Carlo error), point intervals "
            "(every CPT entry is fixed: nothing to draw)") in words
    assert "0 exact draws" not in words


def test_unknown_node_in_evidence_is_one_line_exit_1_nothing_written(data_root):
    csv = data_root / "evidence" / "two-node-beta.csv"
    csv.write_text(csv.read_text() + "E9,no_such_node,2025-02-01,Test,B,2,3,,bad,\n")
    before = snapshot_files(data_root)
    result = invoke("report", "--root", str(data_root), "--scenario", "two-node-beta")
    assert result.exit_code == 1
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1
    assert lines[0].startswith("Error: ") and "two-node-beta.csv:3: node:" in lines[0]
    assert "Traceback" not in result.output
    assert snapshot_files(data_root) == before


@pytest.mark.parametrize("breakage, expected", [
    (lambda root: (root / "priors" / "two-node-beta.toml").unlink(),
     "two-node-beta.toml: file not found"),
    (lambda root: (root / "evidence" / "two-node-beta.csv").write_bytes(b"\xff\xfe junk"),
     "two-node-beta.csv:1: encoding:"),
    (lambda root: (root / "priors" / "two-node-beta.toml").write_text("[scenario\n"),
     "two-node-beta.toml:1: toml:"),
])
def test_bad_files_are_one_line_errors(data_root, breakage, expected):
    breakage(data_root)
    before = snapshot_files(data_root)
    result = invoke("report", "--root", str(data_root), "--scenario", "two-node-beta")
    assert result.exit_code == 1
    assert result.stderr.count("\n") == 1 and expected in result.stderr
    assert snapshot_files(data_root) == before


def test_usage_errors_exit_2(data_root):
    assert invoke("report", "--root", str(data_root), "--format", "pdf").exit_code == 2
    assert invoke("report", "--no-such-option").exit_code == 2


def test_root_from_environment(data_root, monkeypatch):
    monkeypatch.setenv("FORECAST_ROOT", str(data_root))
    result = invoke("report", "--scenario", "burglary", "--format", "json")
    assert result.exit_code == 0, result.output
    assert (data_root / "reports" / "burglary" / "report.json").is_file()


@pytest.mark.slow
def test_strict_fails_on_sampling_problems_and_writes_nothing(data_root):
    before = snapshot_files(data_root)
    result = invoke("report", "--root", str(data_root), "--scenario", "two-node-beta", "--strict",
                    "--draws", "100", "--tune", "100", "--chains", "2", "--no-progress", "--engine", "nuts")
    assert result.exit_code == 1
    assert "--strict" in result.stderr and "ESS" in result.stderr
    assert result.stderr.count("\n") == 1
    assert snapshot_files(data_root) == before


def test_every_command_has_help_with_an_example():
    result = invoke("--help")
    assert result.exit_code == 0
    for command in app.registered_commands:
        name = command.name or command.callback.__name__
        sub = invoke(name, "--help")
        assert sub.exit_code == 0, name
        assert "Example" in sub.stdout, name


def _commands(typer_app, prefix=()):
    for info in typer_app.registered_commands:
        yield (*prefix, info.name or info.callback.__name__), info
    for group in typer_app.registered_groups:
        yield from _commands(group.typer_instance, (*prefix, group.name))


def test_help_paragraphs_are_one_line_each_so_help_wraps_evenly():
    """typer's rich help keeps a docstring's single line breaks and wraps too: ragged lines."""
    for name, info in _commands(app):
        assert info.help, name
        for paragraph in info.help.split("\n\n"):
            assert "\n" not in paragraph, (name, paragraph)


def test_option_help_keeps_its_default_in_words():
    """Rich read "[default: ...]" in a help text as markup and dropped it ("Project root .")."""
    for args, _info in _commands(app):
        result = CliRunner().invoke(app, [*args, "--help"], env={"COLUMNS": "300"})
        text = " ".join(result.stdout.split())
        if "--root" in text:
            assert "Project root (default: $FORECAST_ROOT, else the current directory)." in text
        assert not re.search(r"\w \.(?=\s|$)", text), (args, re.search(r".{20}\w \.(?=\s|$)", text))
