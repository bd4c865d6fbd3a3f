"""HTML for the score report and the self-check report (jinja2 with autoescape: node ids,
sources and scenario titles are data, never markup). Charts are embedded as data URIs."""

from __future__ import annotations

from . import sbc_divergences, template_environment


def render_score_html(document: dict) -> str:
    from .calibration_plots import reliability_diagram

    chart = reliability_diagram(document["bins"]) if document["count"] else None
    return template_environment().get_template("score.html.j2").render(doc=document, chart=chart)


def render_check_html(document: dict) -> str:
    from .calibration_plots import rank_histograms

    sbc = document["sbc"]
    quantities = [{**q, "passed": q["p_value"] >= sbc["p_limit"]} for q in sbc["quantities"]]
    chart = rank_histograms(quantities, sbc["ranks"]) if quantities else None
    words = sbc_divergences(sbc) if "fits_with_divergences" in sbc else ""
    return template_environment().get_template("check.html.j2").render(doc=document, quantities=quantities,
                                                               chart=chart, sbc_divergences=words)
