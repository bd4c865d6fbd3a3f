"""The forecast chart: each question's posterior mean and interval beside its prior, over the
ICD 203 bands of words; with analysts, a dot per analyst beside the team's pool."""

from __future__ import annotations

from typing import TYPE_CHECKING

from ..svg import BAND, GRID, MUTED, POSTERIOR, POSTERIOR_BAND, PRIOR, Svg, fmt, wrap
from ..team import analyst_colour

if TYPE_CHECKING:
    from ...analysis.report_document import ReportDocument

CHART_LEFT = 250.0      # room for the node labels
CHART_WIDTH = 640.0
ROW_HEIGHT = 50.0


def forecast_chart(document: ReportDocument) -> str:
    """Each node's posterior mean and interval beside its prior, over the ICD 203 bands."""
    # yes/no questions; a question with more outcomes shows its distribution on its card
    nodes = [n for n in document["nodes"] if n["mean"] is not None]
    prob = int(round(100 * document["nodes"][0]["interval_prob"]))
    top = 34.0
    height = top + ROW_HEIGHT * len(nodes) + 64 + 18 * ((len(document.get("analysts", [])) + 3) // 4)
    svg = Svg(CHART_LEFT + CHART_WIDTH + 30, height)

    def x_of(p: float) -> float:
        return CHART_LEFT + CHART_WIDTH * min(max(p, 0.0), 1.0)

    bottom = top + ROW_HEIGHT * len(nodes)
    for index, (name, (low, high)) in enumerate(sorted((document.get("terms") or {}).items(),
                                                       key=lambda kv: kv[1])):
        if index % 2 == 0:
            svg.rect(x_of(low), top, x_of(high) - x_of(low), bottom - top, BAND)
        if high - low >= 0.09:
            words = [name] if high - low >= 0.14 else name.split(" ", 1)
            svg.lines_of_text((x_of(low) + x_of(high)) / 2, top - 8 - 5 * (len(words) - 1), words,
                              size=9.5, fill=MUTED, anchor="middle")
    for tick in range(11):
        x = x_of(tick / 10)
        svg.line(x, top, x, bottom, GRID, 0.8)
        svg.text(x, bottom + 12, f"{tick * 10}%", size=10, fill=MUTED, anchor="middle")
    for row, node in enumerate(nodes):
        centre = top + ROW_HEIGHT * (row + 0.5)
        label = wrap(node.get("label") or node["id"], 30)[:2] + [f"({node['role']})"]
        svg.lines_of_text(CHART_LEFT - 10, centre, label, size=11.5, anchor="end")
        low, high = node.get("prior_interval") or (node["prior_mean"], node["prior_mean"])
        y = centre - 8
        svg.line(x_of(low), y, x_of(high), y, PRIOR, 2.2, extra=' opacity="0.75"')
        px = x_of(node["prior_mean"])
        svg.add(f'<path d="M{fmt(px)} {fmt(y - 5)} l5 5 l-5 5 l-5 -5 z" fill="white" '
                f'stroke="{PRIOR}" stroke-width="1.5"/>')
        low, high = node["interval"]
        y = centre + 7
        svg.rect(x_of(low), y - 5, max(x_of(high) - x_of(low), 1.0), 10, POSTERIOR_BAND)
        for analyst in node.get("by_analyst", {}):
            svg.circle(x_of(node["by_analyst"][analyst]), y, 3.6,
                       analyst_colour(document, analyst), "white", 0.8)
        svg.circle(x_of(node["mean"]), y, 5.5, POSTERIOR, "white", 1)
        text = f"{100 * node['mean']:.0f}%"
        if node.get("resolved"):
            text += f"  resolved {node['resolved']}"
        right = high < 0.82
        svg.text(x_of(high) + 6 if right else x_of(low) - 6, y, text, size=11.5, fill=POSTERIOR,
                 anchor="start" if right else "end", weight="bold")
    legend = bottom + 40
    svg.line(CHART_LEFT + 40, legend, CHART_LEFT + 70, legend, PRIOR, 2.2)
    svg.add(f'<path d="M{fmt(CHART_LEFT + 55)} {fmt(legend - 5)} l5 5 l-5 5 l-5 -5 z" '
            f'fill="white" stroke="{PRIOR}" stroke-width="1.5"/>')
    svg.text(CHART_LEFT + 78, legend, f"prior: mean and {prob}% interval", size=11.5)
    svg.rect(CHART_LEFT + 330, legend - 5, 30, 10, POSTERIOR_BAND)
    svg.circle(CHART_LEFT + 345, legend, 5.5, POSTERIOR, "white", 1)
    svg.text(CHART_LEFT + 368, legend, f"forecast: mean and {prob}% credible interval", size=11.5)
    for k, analyst in enumerate(document.get("analysts", [])):
        x = CHART_LEFT + 40 + 150 * (k % 4)
        y = legend + 20 + 18 * (k // 4)
        svg.circle(x + 15, y, 3.6, analyst_colour(document, analyst), "white", 0.8)
        svg.text(x + 26, y, analyst, size=11.5)
    return svg.uri()
