"""Self-contained HTML report (jinja2 with autoescape: evidence text is data, never markup)."""

from __future__ import annotations

from functools import cache

from jinja2 import Environment, PackageLoader, select_autoescape

from . import pct


@cache
def _environment() -> Environment:
    env = Environment(loader=PackageLoader("forecast", "render/templates"),
                      autoescape=select_autoescape(default=True, default_for_string=True))
    env.filters["pct"] = pct
    return env


def render_html(document: dict) -> str:
    return _environment().get_template("report.html.j2").render(doc=document)
