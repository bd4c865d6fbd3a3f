"""The report document is complete when built (history and what-if columns passed in, not
patched on afterwards) and renderers only read it."""

from __future__ import annotations

import copy

import pytest

from forecast.io.project import scenario_paths
from forecast.jobs.report import make_report
from forecast.jobs.update import run_update
from forecast.jobs.whatif import whatif_document
from forecast.render import render
from forecast.render.terminal import render_table_text
from forecast.render.whatif import render_whatif_markdown, render_whatif_text

SCENARIO = "two-node-beta"


def _two_snapshots(root):
    paths = scenario_paths(root, SCENARIO)
    run_update(paths, 1, engine="exact")
    csv = paths.evidence
    csv.write_text(csv.read_text() + "E2,a,2025-02-02,Wire,B,2,2,,A looks likelier,\n")
    run_update(paths, 1, engine="exact")
    return paths


def test_report_document_carries_its_history_when_built(data_root):
    paths = _two_snapshots(data_root)
    document = make_report(paths, 1, engine="exact", write=False).document
    assert [snap["as_of"] for snap in document["history"]] == ["2025-02-01", "2025-02-02"]
    assert document["history_skipped"] == 0


def test_whatif_document_has_its_columns_when_built(data_root):
    paths = scenario_paths(data_root, SCENARIO)
    plain = make_report(paths, 1, engine="exact", write=False).document
    document = whatif_document(paths, ["a=no"], 1, engine="exact")
    assert document["given"] == {"a": "no"}
    assert document["unconditional_diagnostics"] == plain["diagnostics"]
    a, b = document["nodes"]
    assert (a["conditioned"], b["conditioned"]) == ("no", None)
    assert a["mean"] == 0.0
    for node, before in zip(document["nodes"], plain["nodes"], strict=True):
        assert node["unconditional"]["mean"] == before["mean"]
        assert node["change_pp"] == pytest.approx(100 * (node["mean"] - before["mean"]), abs=0.005)


def test_renderers_leave_the_document_unchanged(data_root):
    paths = _two_snapshots(data_root)
    report = make_report(paths, 1, engine="exact", write=False).document
    whatif = whatif_document(paths, ["a=no"], 1, engine="exact")
    for document in (report, whatif):
        before = copy.deepcopy(document)
        for fmt in ("json", "md", "html", "csv", "table"):
            assert render(document, fmt)
        render_table_text(document)
        if "given" in document:
            render_whatif_text(document)
            render_whatif_markdown(document)
        assert document == before


def test_generated_evidence_uses_the_contract_header():
    from forecast.io.csv_rows import csv_header
    from forecast.io.evidence import EVIDENCE_COLUMNS
    from forecast.model.generate import EVIDENCE_HEADER

    assert EVIDENCE_HEADER == csv_header(EVIDENCE_COLUMNS)
