"""Writing the three report files of a scenario."""

from __future__ import annotations

from pathlib import Path

from ..analysis.report_document import ReportDocument
from ..io.atomic import read_file_set, write_file_set
from ..render import render

REPORT_FILES = {"report.md": "md", "report.html": "html", "report.json": "json"}
REPORT_SET = "report"           # the set's manifest: reports/<id>/report.manifest.json


def write_reports(directory: Path, document: ReportDocument) -> list[Path]:
    """report.md, report.html and report.json, rendered from one document and replaced as one
    set (io/atomic.py `write_file_set`: a reader through the manifest never sees a new
    report.md beside an old report.json). The charts are drawn inline: hand-written SVG costs
    milliseconds."""
    return write_file_set(directory, {name: render(document, fmt)
                                      for name, fmt in REPORT_FILES.items()}, REPORT_SET)


def read_reports(directory: Path) -> dict[str, bytes]:
    """The current report set, all three files from one generation."""
    return read_file_set(directory, REPORT_SET)
