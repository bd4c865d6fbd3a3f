"""The backtest chart: small multiples of each question's replayed forecast over the replay
dates, with its resolution marked."""

from __future__ import annotations

import datetime as dt
from xml.sax.saxutils import escape

from ..svg import GRID, INK, MUTED, NO, POSTERIOR, POSTERIOR_BAND, YES, svg_data_uri


def plotted_states(document: dict) -> dict[str, str]:
    """Per question that is not yes/no, the state its panel follows: the one that happened,
    else the most likely in the last replay."""
    outcomes = {r["node"]: r["outcome"] for r in document["resolutions"]}
    out: dict[str, str] = {}
    for snapshot in document["snapshots"]:
        for node in snapshot["nodes"]:
            rows = node.get("distribution")
            if rows:
                states = [row["state"] for row in rows]
                happened = outcomes.get(node["id"])
                out[node["id"]] = happened if happened in states else max(
                    rows, key=lambda row: row["mean"])["state"]
    return out


def paths_by_node(document: dict) -> dict[str, list[tuple[dt.date, float, list[float]]]]:
    """Per node, its replayed forecast path: (as-of date, mean, interval), in date order; on a
    question that is not yes/no, of the state `plotted_states` picks."""
    out: dict[str, list] = {n["id"]: [] for n in document["nodes"]}
    picked = plotted_states(document)
    for snapshot in document["snapshots"]:
        day = dt.date.fromisoformat(snapshot["as_of"])
        for node in snapshot["nodes"]:
            if node.get("distribution"):
                row = next(r for r in node["distribution"] if r["state"] == picked[node["id"]])
                out[node["id"]].append((day, row["mean"], row["interval"]))
            else:
                out[node["id"]].append((day, node["mean"], node["interval"]))
    return out


# Panel geometry of the chart, in SVG pixels.
PANEL_W, PANEL_H = 320, 200
PLOT_LEFT, PLOT_RIGHT, PLOT_TOP, PLOT_BOTTOM = 44, 300, 34, 168
COLUMNS = 3


def _short_date(day: dt.date) -> str:
    return f"{day.day} {day.strftime('%b')} {day.year}"


def backtest_chart(document: dict) -> str | None:
    """Small multiples, as a hand-written SVG (no matplotlib: a cold backtest stays fast): each
    node's replayed mean (steps) and interval (band) over the replay dates; a resolution is a
    dashed vertical line at its date and a star at 100% (yes) or 0% (no). A question that is
    not yes/no follows one state (`plotted_states`), named in its title. A data URI."""
    if not document["snapshots"]:
        return None
    paths = paths_by_node(document)
    picked = plotted_states(document)
    resolutions = {r["node"]: r for r in document["resolutions"]}
    nodes = document["nodes"]
    days = [dt.date.fromisoformat(s["as_of"]) for s in document["snapshots"]]
    days += [dt.date.fromisoformat(r["date"]) for r in document["resolutions"]]
    first, last = min(days), max(days)
    span = max((last - first).days, 1)
    first -= dt.timedelta(days=max(1, round(span * 0.04)))
    last += dt.timedelta(days=max(1, round(span * 0.08)))
    total = (last - first).days

    def x(day: dt.date) -> float:
        return PLOT_LEFT + (PLOT_RIGHT - PLOT_LEFT) * (day - first).days / total

    def y(p: float) -> float:
        return PLOT_BOTTOM - (PLOT_BOTTOM - PLOT_TOP) * p

    columns = min(COLUMNS, len(nodes))
    rows = -(-len(nodes) // columns)
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{columns * PANEL_W}" '
             f'height="{rows * PANEL_H}" viewBox="0 0 {columns * PANEL_W} {rows * PANEL_H}" '
             'font-family="DejaVu Sans, Helvetica, Arial, sans-serif" font-size="10">']
    for index, node in enumerate(nodes):
        ox, oy = (index % columns) * PANEL_W, (index // columns) * PANEL_H
        parts.append(f'<g transform="translate({ox},{oy})">')
        title = node.get("label") or node["id"]
        title = title if len(title) <= 46 else title[:45] + "…"
        if node["id"] in picked:
            title = f"{title[:34]}: P({picked[node['id']][:10]})"
        parts.append(f'<text x="{PLOT_LEFT - 36}" y="16" font-size="11.5" fill="{INK}">'
                     f'{escape(title)}</text>')
        for p in (0.0, 0.25, 0.5, 0.75, 1.0):
            parts.append(f'<line x1="{PLOT_LEFT}" x2="{PLOT_RIGHT}" y1="{y(p):.1f}" y2="{y(p):.1f}" '
                         f'stroke="{GRID}"/><text x="{PLOT_LEFT - 4}" y="{y(p) + 3.5:.1f}" '
                         f'text-anchor="end" fill="{MUTED}">{100 * p:.0f}%</text>')
        for day, anchor in ((first, "start"), (last, "end")):
            parts.append(f'<text x="{x(day):.1f}" y="{PLOT_BOTTOM + 14}" text-anchor="{anchor}" '
                         f'fill="{MUTED}" font-size="9">{_short_date(day)}</text>')
        points = paths[node["id"]]
        if points:
            ends = [p[0] for p in points[1:]] + [last]
            upper = " ".join(f"{x(d):.1f},{y(p[2][1]):.1f} {x(e):.1f},{y(p[2][1]):.1f}"
                             for d, e, p in zip([p[0] for p in points], ends, points, strict=True))
            lower = " ".join(f"{x(e):.1f},{y(p[2][0]):.1f} {x(d):.1f},{y(p[2][0]):.1f}"
                             for d, e, p in reversed(list(zip([p[0] for p in points], ends, points,
                                                               strict=True))))
            parts.append(f'<polygon points="{upper} {lower}" fill="{POSTERIOR_BAND}" fill-opacity="0.55"/>')
            line = " ".join(f"{x(d):.1f},{y(p[1]):.1f} {x(e):.1f},{y(p[1]):.1f}"
                            for d, e, p in zip([p[0] for p in points], ends, points, strict=True))
            parts.append(f'<polyline points="{line}" fill="none" stroke="{POSTERIOR}" stroke-width="1.6"/>')
            parts += [f'<circle cx="{x(d):.1f}" cy="{y(p):.1f}" r="2.3" fill="{POSTERIOR}"/>'
                      for d, p, _ in points]
            parts.append(f'<text x="{PLOT_RIGHT + 2}" y="{y(points[-1][1]) + 3.5:.1f}" '
                         f'font-weight="bold" fill="{POSTERIOR}" font-size="9">'
                         f'{100 * points[-1][1]:.0f}%</text>')
        resolution = resolutions.get(node["id"])
        if resolution is not None:
            day = dt.date.fromisoformat(resolution["date"])
            happened = resolution["outcome"] in ("yes", picked.get(node["id"]))
            colour = YES if happened else NO
            top = y(1.0 if happened else 0.0)
            parts.append(f'<line x1="{x(day):.1f}" x2="{x(day):.1f}" y1="{PLOT_TOP}" '
                         f'y2="{PLOT_BOTTOM}" stroke="{colour}" stroke-dasharray="4 3"/>'
                         f'<text x="{x(day):.1f}" y="{top + 5:.1f}" text-anchor="middle" '
                         f'font-size="15" fill="{colour}">★</text>'
                         f'<text x="{x(day) + 4:.1f}" y="{y(0.5):.1f}" fill="{colour}" '
                         f'font-size="9" transform="rotate(-90 {x(day) + 4:.1f} {y(0.5):.1f})" '
                         f'text-anchor="middle" dy="8">resolved {resolution["outcome"]} '
                         f'{_short_date(day)}</text>')
        parts.append("</g>")
    parts.append("</svg>")
    svg = "".join(parts)
    return svg_data_uri(svg)
