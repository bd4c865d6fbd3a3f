"""One function per user job, composing readers, the core and writers. The CLI calls these;
tests can too. Nothing here prints."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from .errors import problem
from .io.catalog import read_history
from .io.project import ScenarioPaths, load_inputs
from .io.reports import write_reports
from .report import build_report, fit


@dataclass
class ReportResult:
    document: dict
    written: list[Path]


def make_report(paths: ScenarioPaths, seed: int, settings=None, strict: bool = False,
                write: bool = True) -> ReportResult:
    """Fit the scenario, build the report, and write report.md/html/json atomically.

    Under `strict`, sampling problems are a user error and nothing is written."""
    inputs = load_inputs(paths)
    posterior = fit(inputs, seed, settings)
    document = build_report(inputs, posterior, seed)
    warnings = document["diagnostics"]["warnings"]
    if strict and warnings:
        raise problem(paths.display(paths.priors), None, "diagnostics",
                      "--strict: " + "; ".join(warnings) + "; nothing written")
    attach_history(document, paths)
    written = write_reports(paths.reports, document) if write else []
    return ReportResult(document, written)


def attach_history(document: dict, paths: ScenarioPaths) -> dict:
    """Add the scenario's forecast history (read tolerantly: it is only drawn) to the document,
    so the HTML and Markdown reports can chart it: `history` and `history_skipped` (lines that
    were not snapshots)."""
    document["history"], document["history_skipped"] = read_history(paths.history)
    return document
