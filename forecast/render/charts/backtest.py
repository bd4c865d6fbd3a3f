"""The backtest chart: small multiples of each question's replayed forecast over the replay
dates, with its resolution marked; on a team's backtest, each analyst's own path beside the
pool's."""

from __future__ import annotations

import datetime as dt
from xml.sax.saxutils import escape

from ..svg import GRID, INK, MUTED, NO, POSTERIOR, POSTERIOR_BAND, YES, svg_data_uri
from ..team import ANALYST_COLOURS


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


def team_of(document: dict) -> list[str]:
    """The analysts of a team's backtest, in the snapshots' order ([] without analysts)."""
    return next((list(s["analysts"]) for s in document["snapshots"] if s.get("analysts")), [])


def analyst_paths(document: dict) -> dict[str, dict[str, list[tuple[dt.date, float]]]]:
    """Per analyst of a team's backtest, per node, their own replayed forecast: (as-of date,
    mean) in date order; on a question that is not yes/no, of the state the pool's panel
    follows (`plotted_states`). {} without analysts."""
    picked = plotted_states(document)
    out = {a: {n["id"]: [] for n in document["nodes"]} for a in team_of(document)}
    for snapshot in document["snapshots"]:
        day = dt.date.fromisoformat(snapshot["as_of"])
        for node in snapshot["nodes"]:
            for analyst, value in node.get("by_analyst", {}).items():
                if isinstance(value, list):
                    state = picked.get(node["id"]) or max(value, key=lambda r: r["mean"])["state"]
                    value = next(r["mean"] for r in value if r["state"] == state)
                out[analyst][node["id"]].append((day, value))
    return out


# Panel geometry of the chart, in SVG pixels.
PANEL_W, PANEL_H = 320, 200
PLOT_LEFT, PLOT_RIGHT, PLOT_TOP, PLOT_BOTTOM = 44, 300, 34, 168
COLUMNS = 3
LEGEND_H = 24           # a team's chart: the key to the pool's and each analyst's line, on top


def _short_date(day: dt.date) -> str:
    return f"{day.day} {day.strftime('%b')} {day.year}"


def backtest_chart(document: dict) -> str | None:
    """Small multiples, as a hand-written SVG (no matplotlib: a cold backtest stays fast): each
    node's replayed mean (steps) and interval (band) over the replay dates; a resolution is a
    dashed vertical line at its date and a star at 100% (yes) or 0% (no). A question that is
    not yes/no follows one state (`plotted_states`), named in its title. On a team's backtest
    the mean and band are the pool's, and each analyst's own replayed forecast is a thin
    coloured line beside it (`analyst_paths`), keyed above the panels. A data URI."""
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
    team = analyst_paths(document)
    colour_of = {a: ANALYST_COLOURS[k % len(ANALYST_COLOURS)] for k, a in enumerate(team)}
    top = LEGEND_H if team else 0
    height = rows * PANEL_H + top
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{columns * PANEL_W}" '
             f'height="{height}" viewBox="0 0 {columns * PANEL_W} {height}" '
             'font-family="DejaVu Sans, Helvetica, Arial, sans-serif" font-size="10">']
    if team:
        parts.append(_team_key(colour_of))

    def steps(points) -> str:
        """A path held at each replay's value until the next replay (the last to the end)."""
        ends = [p[0] for p in points[1:]] + [last]
        return " ".join(f"{x(d):.1f},{y(p):.1f} {x(e):.1f},{y(p):.1f}"
                        for (d, p), e in zip(points, ends, strict=True))

    for index, node in enumerate(nodes):
        ox, oy = (index % columns) * PANEL_W, (index // columns) * PANEL_H + top
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
            for analyst, colour in colour_of.items():
                mine = team[analyst][node["id"]]
                parts.append(f'<polyline class="analyst" data-analyst="{escape(analyst)}" '
                             f'points="{steps(mine)}" fill="none" stroke="{colour}" '
                             'stroke-width="1.1" stroke-dasharray="4 2"/>')
                parts += [f'<circle cx="{x(d):.1f}" cy="{y(p):.1f}" r="1.6" fill="{colour}"/>'
                          for d, p in mine]
            line = steps([(d, p) for d, p, _ in points])
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


def _team_key(colour_of: dict[str, str]) -> str:
    """The key above a team's panels: the pool's line, then each analyst's."""
    parts = [f'<line x1="8" x2="30" y1="12" y2="12" stroke="{POSTERIOR}" stroke-width="1.6"/>'
             f'<text x="35" y="15.5" fill="{INK}" font-size="11">team (pool)</text>']
    at = 130
    for analyst, colour in colour_of.items():
        label = analyst if len(analyst) <= 18 else analyst[:17] + "…"
        parts.append(f'<line x1="{at}" x2="{at + 22}" y1="12" y2="12" stroke="{colour}" '
                     f'stroke-width="1.1" stroke-dasharray="4 2"/><text x="{at + 27}" y="15.5" '
                     f'fill="{INK}" font-size="11">{escape(label)}</text>')
        at += 40 + 7 * len(label)
    return "".join(parts)
