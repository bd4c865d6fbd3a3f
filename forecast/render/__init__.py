"""Renderers: the report document as a terminal table, Markdown, HTML or JSON. No I/O."""

from __future__ import annotations

import json

FORMATS = ("table", "md", "html", "json")


def pct(p: float) -> str:
    return f"{100 * p:.1f}%"


def ess_text(min_ess) -> str:
    """The smallest ESS, or n/a when nothing was sampled (every CPT entry fixed)."""
    return "n/a" if min_ess is None else str(min_ess)


def render_json(document: dict) -> str:
    return json.dumps(document, indent=2, ensure_ascii=False) + "\n"


def render(document: dict, fmt: str) -> str:
    if fmt == "json":
        return render_json(document)
    if fmt == "md":
        from .markdown import render_markdown
        return render_markdown(document)
    if fmt == "html":
        from .html import render_html
        return render_html(document)
    from .terminal import render_table_text
    return render_table_text(document)
