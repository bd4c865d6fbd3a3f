"""HTML for the score report and the self-check report (jinja2 with autoescape: node ids,
sources and scenario titles are data, never markup). Charts are embedded as data URIs."""

from __future__ import annotations

from functools import cache

from jinja2 import Environment, PackageLoader, select_autoescape

from . import pct, sbc_divergences


def _num(value, digits: int = 4) -> str:
    return "–" if value is None else f"{value:.{digits}f}"


@cache
def _environment() -> Environment:
    env = Environment(loader=PackageLoader("forecast", "render/templates"),
                      autoescape=select_autoescape(default=True, default_for_string=True))
    env.filters["pct"] = lambda p: "–" if p is None else pct(p)
    env.filters["num"] = _num
    return env


def render_score_html(document: dict) -> str:
    from .calibration_plots import reliability_diagram

    chart = reliability_diagram(document["bins"]) if document["count"] else None
    return _environment().get_template("score.html.j2").render(doc=document, chart=chart)


def render_check_html(document: dict) -> str:
    from .calibration_plots import rank_histograms

    sbc = document["sbc"]
    quantities = [{**q, "passed": q["p_value"] >= sbc["p_limit"]} for q in sbc["quantities"]]
    chart = rank_histograms(quantities, sbc["ranks"]) if quantities else None
    words = sbc_divergences(sbc) if "fits_with_divergences" in sbc else ""
    return _environment().get_template("check.html.j2").render(doc=document, quantities=quantities,
                                                               chart=chart, sbc_divergences=words)
