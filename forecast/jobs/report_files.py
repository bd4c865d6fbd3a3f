"""Writing the three report files of a scenario."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

from ..io.atomic import atomic_write_many, atomic_write_text
from ..render import render
from ..render.html import render_html

REPORT_FILES = {"report.md": "md", "report.html": "html", "report.json": "json"}
VOLATILE_KEYS = ("generated_at",)


def chart_key(document: dict) -> str:
    """The charts are a pure function of the document less its time stamp."""
    stable = {k: v for k, v in document.items() if k not in VOLATILE_KEYS}
    blob = json.dumps(stable, sort_keys=True, default=str).encode("utf-8")
    return hashlib.sha256(blob).hexdigest()


def cached_charts(cache: Path, document: dict) -> dict[str, str | None]:
    """The report's charts, drawn once per distinct document: drawing them (matplotlib) is
    most of the cost of a report whose posterior comes from the cache."""
    path = cache / f"charts-{chart_key(document)}.json"
    try:
        charts = json.loads(path.read_text("utf-8"))
        if isinstance(charts, dict) and all(isinstance(v, str | None) for v in charts.values()):
            return charts
    except (OSError, ValueError):
        pass
    from ..render.plots import report_charts

    charts = report_charts(document)
    atomic_write_text(path, json.dumps(charts))
    for stale in sorted(cache.glob("charts-*.json"), key=lambda p: p.stat().st_mtime)[:-8]:
        stale.unlink(missing_ok=True)
    return charts


def write_reports(directory: Path, document: dict, cache: Path | None = None) -> list[Path]:
    files = {directory / name: render(document, fmt) for name, fmt in REPORT_FILES.items()
             if fmt != "html"}
    charts = cached_charts(cache, document) if cache is not None else None
    files[directory / "report.html"] = render_html(document, charts)
    atomic_write_many(files)
    return list(files)
