"""Writing the three report files of a scenario."""

from __future__ import annotations

from pathlib import Path

from ..io.atomic import atomic_write_many
from ..render import render

REPORT_FILES = {"report.md": "md", "report.html": "html", "report.json": "json"}


def write_reports(directory: Path, document: dict) -> list[Path]:
    """report.md, report.html and report.json, rendered from one document and written
    atomically (the charts are drawn inline: hand-written SVG costs milliseconds)."""
    files = {directory / name: render(document, fmt) for name, fmt in REPORT_FILES.items()}
    atomic_write_many(files)
    return list(files)
