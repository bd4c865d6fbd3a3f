"""Writing the three report files of a scenario."""

from __future__ import annotations

from pathlib import Path

from ..render import render
from .atomic import atomic_write_many

REPORT_FILES = {"report.md": "md", "report.html": "html", "report.json": "json"}


def write_reports(directory: Path, document: dict) -> list[Path]:
    files = {directory / name: render(document, fmt) for name, fmt in REPORT_FILES.items()}
    atomic_write_many(files)
    return list(files)
