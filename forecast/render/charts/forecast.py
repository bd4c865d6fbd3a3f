"""The forecast chart: each question's posterior mean and interval beside its prior, over the
ICD 203 bands of words; with analysts, a dot per analyst beside the team's pool. A question with
more outcomes gets a row per state (its likeliest STATE_ROWS, past that many) under its label and,
when its states are ordered, a strip of the cumulative shares, forecast under prior."""

from __future__ import annotations

from typing import TYPE_CHECKING

from ..svg import BAND, GRID, MUTED, POSTERIOR, POSTERIOR_BAND, PRIOR, Svg, fmt, wrap
from ..team import analyst_colour

if TYPE_CHECKING:
    from ...analysis.report_document import ReportDocument

CHART_LEFT = 250.0      # room for the node labels
CHART_WIDTH = 640.0
ROW_HEIGHT = 50.0


STATE_ROW_HEIGHT = 34.0
HEADER_HEIGHT = 26.0    # a question of more outcomes: its label (and ordered: the cumulative strip)
STATE_ROWS = 12         # past this many states, the likeliest STATE_ROWS are drawn


def _rows(document: ReportDocument) -> list[dict]:
    """What the chart draws, top to bottom: a row per yes/no question, and per question of more
    outcomes a header then a row per state, each with its own height."""
    rows: list[dict] = []
    for node in document["nodes"]:
        if node["mean"] is not None:
            rows.append({"kind": "question", "node": node, "height": ROW_HEIGHT,
                         "label": wrap(node.get("label") or node["id"], 30)[:2] + [f"({node['role']})"],
                         "mean": node["mean"], "interval": node["interval"],
                         "prior_mean": node["prior_mean"], "prior_interval": node.get("prior_interval"),
                         "by_analyst": node.get("by_analyst", {}), "resolved": node.get("resolved")})
            continue
        states = node["distribution"]
        shown = states if len(states) <= STATE_ROWS else sorted(
            sorted(states, key=lambda s: -s["mean"])[:STATE_ROWS], key=states.index)
        lines = wrap(node.get("label") or node["id"], 34)
        title = lines[0] + ("…" if len(lines) > 1 else "") + f" ({node['role']})"
        if len(shown) < len(states):
            title += f": {len(shown)} likeliest of {len(states)}"
        rows.append({"kind": "header", "node": node, "height": HEADER_HEIGHT, "label": [title]})
        for state in shown:
            by_analyst = {a: d[state["state"]] for a, d in node.get("by_analyst", {}).items()
                          if isinstance(d, dict) and state["state"] in d}
            rows.append({"kind": "state", "node": node, "height": STATE_ROW_HEIGHT,
                         "label": [f"{state['state']}"], "mean": state["mean"],
                         "interval": state["interval"], "prior_mean": state["prior_mean"],
                         "prior_interval": state.get("prior_interval"), "by_analyst": by_analyst,
                         "resolved": "resolved" if node.get("resolved") == state["state"] else None})
    return rows


def _cumulative_strip(svg: Svg, node: dict, x_of, y: float) -> None:
    """An ordered question's cumulative shares: the prior's boundaries as ticks over the
    forecast's stacked segments, alternately shaded, each boundary where "up to that state" ends."""
    total = prior_total = 0.0
    for k, state in enumerate(node["distribution"]):
        start = total
        total += state["mean"]
        svg.rect(x_of(start), y - 4, max(x_of(total) - x_of(start), 0.0), 8,
                 POSTERIOR if k % 2 == 0 else POSTERIOR_BAND)
        prior_total += state["prior_mean"]
        if k < len(node["distribution"]) - 1:
            svg.line(x_of(prior_total), y - 8, x_of(prior_total), y + 8, PRIOR, 1.6)


def forecast_chart(document: ReportDocument) -> str:
    """Each node's posterior mean and interval beside its prior, over the ICD 203 bands."""
    rows = _rows(document)
    prob = int(round(100 * document["nodes"][0]["interval_prob"]))
    top = 34.0
    ordered = any(r["kind"] == "header" and r["node"].get("ordered") for r in rows)
    height = (top + sum(r["height"] for r in rows) + 64 + 20 * ordered
              + 18 * ((len(document.get("analysts", [])) + 3) // 4))
    svg = Svg(CHART_LEFT + CHART_WIDTH + 30, height)

    def x_of(p: float) -> float:
        return CHART_LEFT + CHART_WIDTH * min(max(p, 0.0), 1.0)

    bottom = top + sum(r["height"] for r in rows)
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
    y_top = top
    for row in rows:
        centre = y_top + row["height"] / 2
        y_top += row["height"]
        if row["kind"] == "header":
            svg.text(CHART_LEFT - 10, centre + 2, row["label"][0], size=11.5, anchor="end",
                     weight="bold")
            if row["node"].get("ordered"):
                _cumulative_strip(svg, row["node"], x_of, centre + 2)
            continue
        if row["kind"] == "state":
            svg.text(CHART_LEFT - 10, centre, row["label"][0], size=11, anchor="end", fill=MUTED)
        else:
            svg.lines_of_text(CHART_LEFT - 10, centre, row["label"], size=11.5, anchor="end")
        spread = 6 if row["kind"] == "state" else 8
        low, high = row["prior_interval"] or (row["prior_mean"], row["prior_mean"])
        y = centre - spread
        svg.line(x_of(low), y, x_of(high), y, PRIOR, 2.2, extra=' opacity="0.75"')
        px = x_of(row["prior_mean"])
        svg.add(f'<path d="M{fmt(px)} {fmt(y - 5)} l5 5 l-5 5 l-5 -5 z" fill="white" '
                f'stroke="{PRIOR}" stroke-width="1.5"/>')
        low, high = row["interval"]
        y = centre + spread - 1
        svg.rect(x_of(low), y - 5, max(x_of(high) - x_of(low), 1.0), 10, POSTERIOR_BAND)
        for analyst, value in row["by_analyst"].items():
            svg.circle(x_of(value), y, 3.6, analyst_colour(document, analyst), "white", 0.8)
        svg.circle(x_of(row["mean"]), y, 5.5, POSTERIOR, "white", 1)
        text = f"{100 * row['mean']:.0f}%"
        if row["resolved"]:
            text += "  resolved" + ("" if row["kind"] == "state" else f" {row['resolved']}")
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
    if ordered:
        legend += 20
        svg.rect(CHART_LEFT + 40, legend - 4, 15, 8, POSTERIOR)
        svg.rect(CHART_LEFT + 55, legend - 4, 15, 8, POSTERIOR_BAND)
        svg.line(CHART_LEFT + 55, legend - 8, CHART_LEFT + 55, legend + 8, PRIOR, 1.6)
        svg.text(CHART_LEFT + 78, legend, "ordered outcomes: the forecast's cumulative shares, "
                 "the prior's boundaries as ticks", size=11.5)
    for k, analyst in enumerate(document.get("analysts", [])):
        x = CHART_LEFT + 40 + 150 * (k % 4)
        y = legend + 20 + 18 * (k // 4)
        svg.circle(x + 15, y, 3.6, analyst_colour(document, analyst), "white", 0.8)
        svg.text(x + 26, y, analyst, size=11.5)
    return svg.uri()
