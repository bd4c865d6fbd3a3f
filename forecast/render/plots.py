"""The report's charts, written as SVG by hand and returned as data URIs, so the HTML report
embeds them and never fetches anything.

No plotting library: a chart is a few hundred rectangles, lines and labels, which this module
writes directly, in microseconds, so a new `forecast report` process pays nothing to draw
(matplotlib cost seconds per report). Labels are SVG text in the system's sans-serif font,
escaped as XML. The layered layout of the scenario graph is pure Python and tested on its own;
the graph keeps a fixed box size whatever the number of nodes, so its labels stay legible at
60 nodes (the page scrolls it sideways instead of shrinking it).
"""

from __future__ import annotations

import base64
import datetime as dt
import textwrap
from collections.abc import Sequence
from typing import TYPE_CHECKING
from xml.sax.saxutils import escape as _xml_escape

if TYPE_CHECKING:
    from ..analysis.report_document import HistoryEntry, NodeReport, ReportDocument

POSTERIOR = "#1f4e79"
POSTERIOR_BAND = "#9dbbdc"
PRIOR = "#8a8f98"
INK = "#1d2330"
MUTED = "#5b6475"
GRID = "#e3e6eb"
BAND = "#f3f5f8"
EDGE = "#6b7685"
DRIVER_FILL = "#dde7f3"
CONSEQUENCE_FILL = "#f4efe4"
YES = "#2e7d32"
NO = "#b23b3b"
FONT = "font-family=\"DejaVu Sans, Helvetica, Arial, sans-serif\""

# Graph layout, in pixels: box size and the gaps between layers and between boxes.
BOX_WIDTH = 180.0
BOX_HEIGHT = 58.0
LAYER_GAP = 250.0
ROW_GAP = 76.0


def esc(text: object) -> str:
    return _xml_escape(str(text), {'"': "&quot;"})


def _num(value: float) -> str:
    return f"{value:.1f}".rstrip("0").rstrip(".")


class Svg:
    """A list of SVG elements with a size; `uri()` gives the data URI the report embeds."""

    def __init__(self, width: float, height: float):
        self.width, self.height = width, height
        self.parts: list[str] = []

    def add(self, element: str) -> None:
        self.parts.append(element)

    def rect(self, x, y, w, h, fill, stroke="none", rx=0.0, width=1.0, extra="") -> None:
        self.add(f'<rect x="{_num(x)}" y="{_num(y)}" width="{_num(w)}" height="{_num(h)}" '
                 f'rx="{_num(rx)}" fill="{fill}" stroke="{stroke}" stroke-width="{_num(width)}"{extra}/>')

    def line(self, x1, y1, x2, y2, stroke, width=1.0, dash="", extra="") -> None:
        dashed = f' stroke-dasharray="{dash}"' if dash else ""
        self.add(f'<line x1="{_num(x1)}" y1="{_num(y1)}" x2="{_num(x2)}" y2="{_num(y2)}" '
                 f'stroke="{stroke}" stroke-width="{_num(width)}"{dashed}{extra}/>')

    def circle(self, x, y, r, fill, stroke="none", width=1.0) -> None:
        self.add(f'<circle cx="{_num(x)}" cy="{_num(y)}" r="{_num(r)}" fill="{fill}" '
                 f'stroke="{stroke}" stroke-width="{_num(width)}"/>')

    def text(self, x, y, content, size=12.0, fill=INK, anchor="start", weight="normal",
             baseline="middle") -> None:
        self.add(f'<text x="{_num(x)}" y="{_num(y)}" font-size="{_num(size)}" fill="{fill}" '
                 f'text-anchor="{anchor}" font-weight="{weight}" dominant-baseline="{baseline}" '
                 f'{FONT}>{esc(content)}</text>')

    def lines_of_text(self, x, y, lines: Sequence[str], size=12.0, **kwargs) -> None:
        step = size * 1.15
        top = y - step * (len(lines) - 1) / 2
        for i, line in enumerate(lines):
            self.text(x, top + i * step, line, size=size, **kwargs)

    def document(self) -> str:
        return (f'<svg xmlns="http://www.w3.org/2000/svg" width="{_num(self.width)}" '
                f'height="{_num(self.height)}" viewBox="0 0 {_num(self.width)} {_num(self.height)}">'
                + "".join(self.parts) + "</svg>")

    def uri(self) -> str:
        return svg_data_uri(self.document())


def svg_data_uri(svg_text: str) -> str:
    return "data:image/svg+xml;base64," + base64.b64encode(svg_text.encode("utf-8")).decode("ascii")


def _wrap(text: str, width: int) -> list[str]:
    return textwrap.wrap(text, width) or [text]


# -- forecast chart ----------------------------------------------------------------------------
CHART_LEFT = 250.0      # room for the node labels
CHART_WIDTH = 640.0
ROW_HEIGHT = 50.0


def forecast_chart(document: ReportDocument) -> str:
    """Each node's posterior mean and interval beside its prior, over the ICD 203 bands."""
    nodes = document["nodes"]
    prob = int(round(100 * nodes[0]["interval_prob"]))
    top = 34.0
    height = top + ROW_HEIGHT * len(nodes) + 64
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
        label = _wrap(node.get("label") or node["id"], 30)[:2] + [f"({node['role']})"]
        svg.lines_of_text(CHART_LEFT - 10, centre, label, size=11.5, anchor="end")
        low, high = node.get("prior_interval") or (node["prior_mean"], node["prior_mean"])
        y = centre - 8
        svg.line(x_of(low), y, x_of(high), y, PRIOR, 2.2, extra=' opacity="0.75"')
        px = x_of(node["prior_mean"])
        svg.add(f'<path d="M{_num(px)} {_num(y - 5)} l5 5 l-5 5 l-5 -5 z" fill="white" '
                f'stroke="{PRIOR}" stroke-width="1.5"/>')
        low, high = node["interval"]
        y = centre + 7
        svg.rect(x_of(low), y - 5, max(x_of(high) - x_of(low), 1.0), 10, POSTERIOR_BAND)
        svg.circle(x_of(node["mean"]), y, 5.5, POSTERIOR, "white", 1)
        text = f"{100 * node['mean']:.0f}%"
        if node.get("resolved"):
            text += f"  resolved {node['resolved']}"
        right = high < 0.82
        svg.text(x_of(high) + 6 if right else x_of(low) - 6, y, text, size=11.5, fill=POSTERIOR,
                 anchor="start" if right else "end", weight="bold")
    legend = bottom + 40
    svg.line(CHART_LEFT + 40, legend, CHART_LEFT + 70, legend, PRIOR, 2.2)
    svg.add(f'<path d="M{_num(CHART_LEFT + 55)} {_num(legend - 5)} l5 5 l-5 5 l-5 -5 z" '
            f'fill="white" stroke="{PRIOR}" stroke-width="1.5"/>')
    svg.text(CHART_LEFT + 78, legend, f"prior: mean and {prob}% interval", size=11.5)
    svg.rect(CHART_LEFT + 330, legend - 5, 30, 10, POSTERIOR_BAND)
    svg.circle(CHART_LEFT + 345, legend, 5.5, POSTERIOR, "white", 1)
    svg.text(CHART_LEFT + 368, legend, f"forecast: mean and {prob}% credible interval", size=11.5)
    return svg.uri()


# -- history -----------------------------------------------------------------------------------
PANEL_WIDTH = 300.0
PANEL_HEIGHT = 170.0


def _date_ticks(first: dt.date, last: dt.date, most: int = 4) -> list[dt.date]:
    """A few round dates between first and last: month starts, or evenly spaced days."""
    span = (last - first).days
    if span > 75:
        months, day = [], dt.date(first.year, first.month, 1)
        while day <= last:
            if day >= first:
                months.append(day)
            day = dt.date(day.year + (day.month == 12), day.month % 12 + 1, 1)
        step = max(1, -(-len(months) // most))
        return months[::step] or [first]
    step = max(1, -(-span // most))
    return [first + dt.timedelta(days=d) for d in range(0, span + 1, step)]


def history_chart(document: ReportDocument) -> str | None:
    """Small multiples: each node's mean and interval over the snapshots' as-of dates, with its
    prior as a dashed line. None when there is no history to draw."""
    series = history_series(document.get("history") or [], [n["id"] for n in document["nodes"]])
    if not any(series.values()):
        return None
    nodes = document["nodes"]
    columns = min(3, len(nodes))
    rows = -(-len(nodes) // columns)
    cell_w, cell_h = PANEL_WIDTH + 40, PANEL_HEIGHT + 62
    svg = Svg(columns * cell_w + 20, rows * cell_h + 10)
    now = current_point(document)
    all_dates = [d for points in series.values() for d, *_ in points]
    if now is not None:
        all_dates.append(now["as_of"])
    first, last = min(all_dates), max(all_dates)
    if first == last:
        first, last = first - dt.timedelta(days=3), last + dt.timedelta(days=3)
    pad = max((last - first) * 0.05, dt.timedelta(days=1))
    start, stop = first - pad, last + pad * 3
    span = (stop - start).days or 1
    ticks = _date_ticks(first, last)
    tick_format = "%b %Y" if (last - first).days > 75 else "%d %b"
    for index, node in enumerate(nodes):
        left = 48 + (index % columns) * cell_w
        top = 34 + (index // columns) * cell_h

        def x_of(day: dt.date, left=left) -> float:
            return left + PANEL_WIDTH * (day - start).days / span

        def y_of(p: float, top=top) -> float:
            return top + PANEL_HEIGHT * (1 - min(max(p, 0.0), 1.0))

        title = _wrap(node.get("label") or node["id"], 44)[0]
        svg.text(left - 40, top - 16, title, size=11.5, weight="bold")
        for level in (0, 0.25, 0.5, 0.75, 1):
            svg.line(left, y_of(level), left + PANEL_WIDTH, y_of(level), GRID, 0.8)
            svg.text(left - 6, y_of(level), f"{level * 100:.0f}%", size=9.5, fill=MUTED, anchor="end")
        for tick in ticks:
            svg.text(x_of(tick), top + PANEL_HEIGHT + 13, tick.strftime(tick_format),
                     size=9.5, fill=MUTED, anchor="middle")
        svg.line(left, y_of(node["prior_mean"]), left + PANEL_WIDTH, y_of(node["prior_mean"]),
                 PRIOR, 1, dash="4 3")
        points = series[node["id"]]
        if points:
            upper = [(x_of(d), y_of(iv[1] if iv else m)) for d, m, iv in points]
            lower = [(x_of(d), y_of(iv[0] if iv else m)) for d, m, iv in reversed(points)]
            band = " ".join(f"{_num(x)},{_num(y)}" for x, y in upper + lower)
            svg.add(f'<polygon points="{band}" fill="{POSTERIOR_BAND}" opacity="0.55"/>')
            path = " ".join(f"{_num(x_of(d))},{_num(y_of(m))}" for d, m, _ in points)
            svg.add(f'<polyline points="{path}" fill="none" stroke="{POSTERIOR}" stroke-width="1.8"/>')
            for d, m, _ in points:
                svg.circle(x_of(d), y_of(m), 2.8, POSTERIOR)
        latest = points[-1][:2] if points else None
        if now is not None and not now["is_snapshot"]:
            # The current forecast is not in the history yet: a hollow point, joined to the
            # last snapshot by a dotted line, so the chart ends where the report's headline is.
            mean = now["means"][node["id"]]
            if points:
                svg.line(x_of(points[-1][0]), y_of(points[-1][1]), x_of(now["as_of"]), y_of(mean),
                         POSTERIOR, 1.2, dash="2 3")
            svg.circle(x_of(now["as_of"]), y_of(mean), 4.5, "white", POSTERIOR, 1.6)
            latest = (now["as_of"], mean)
        if latest is not None:
            svg.text(x_of(latest[0]) + 7, y_of(latest[1]), f"{100 * latest[1]:.0f}%", size=10.5,
                     fill=POSTERIOR, weight="bold")
    return svg.uri()


def current_point(document: ReportDocument) -> dict | None:
    """The report's own forecast as the history charts' latest point: its as-of date, the mean
    per node, and whether the history already holds it (a snapshot with the same as-of date,
    evidence hash and means). None for a conditional forecast, which is never a snapshot."""
    if document.get("given") or not document.get("nodes") or not document.get("as_of"):
        return None
    day = dt.date.fromisoformat(document["as_of"])
    means = {n["id"]: n["mean"] for n in document["nodes"]}

    def same(snapshot: HistoryEntry) -> bool:
        theirs = {n["id"]: n["mean"] for n in snapshot.get("nodes", [])}
        return (snapshot.get("as_of") == document["as_of"]
                and snapshot.get("evidence_hash") == document.get("evidence_hash")
                and theirs.keys() == means.keys()
                and all(abs(theirs[k] - means[k]) < 5e-7 for k in means))

    return {"as_of": day, "means": means,
            "is_snapshot": any(same(s) for s in document.get("history") or [])}


def history_series(history: Sequence[HistoryEntry], node_ids: Sequence[str]
                   ) -> dict[str, list[tuple[dt.date, float, tuple[float, float] | None]]]:
    """Per node, (as-of date, mean, interval) in date order. Several snapshots on one as-of
    date keep the last one written (it knew the most)."""
    by_date: dict[str, dict[dt.date, tuple]] = {node_id: {} for node_id in node_ids}
    for snapshot in history:
        day = dt.date.fromisoformat(snapshot["as_of"])
        for node in snapshot["nodes"]:
            if node["id"] in by_date:
                bounds = node.get("interval")
                interval = tuple(bounds) if bounds else None
                by_date[node["id"]][day] = (day, node["mean"], interval)
    return {node_id: [points[d] for d in sorted(points)] for node_id, points in by_date.items()}


# -- scenario graph ----------------------------------------------------------------------------
def depths(nodes: Sequence[NodeReport]) -> dict[str, int]:
    """A root has depth 0; any other node is one deeper than its deepest parent."""
    parents = {n["id"]: list(n.get("parents") or []) for n in nodes}
    found: dict[str, int] = {}

    def depth(node_id: str) -> int:
        if node_id not in found:
            found[node_id] = 1 + max((depth(p) for p in parents[node_id]), default=-1)
        return found[node_id]

    for node_id in parents:
        depth(node_id)
    return found


def dag_layout(nodes: Sequence[NodeReport]) -> dict[str, tuple[float, float]]:
    """Box centres: one column per depth, left to right; within a column, nodes ordered by the
    mean height of their parents (fewer crossing edges), centred on the middle row."""
    level = depths(nodes)
    order = [n["id"] for n in nodes]
    parents = {n["id"]: list(n.get("parents") or []) for n in nodes}
    positions: dict[str, tuple[float, float]] = {}
    for layer in range(max(level.values(), default=-1) + 1):
        members = [node_id for node_id in order if level[node_id] == layer]
        if layer:
            members.sort(key=lambda m: (sum(positions[p][1] for p in parents[m]) / len(parents[m]),
                                        order.index(m)))
        for k, node_id in enumerate(members):
            positions[node_id] = (layer * LAYER_GAP, (k - (len(members) - 1) / 2) * ROW_GAP)
    return positions


# The diagram is drawn only while it stays legible at the page's width (860 px): past this many
# nodes, or so many layers that the picture would be shrunk below ~9 px text, the report shows
# the structure as layered cards instead (`structure_layers`), which read at any size.
DIAGRAM_MAX_NODES = 12
DIAGRAM_MAX_LAYERS = 4


def diagram_fits(nodes: Sequence[NodeReport]) -> bool:
    """Whether the scenario graph can be drawn legibly (see DIAGRAM_MAX_NODES)."""
    level = depths(nodes)
    return len(nodes) <= DIAGRAM_MAX_NODES and max(level.values(), default=0) < DIAGRAM_MAX_LAYERS


def structure_layers(nodes: Sequence[NodeReport]) -> list[list[dict]]:
    """The graph as layers (depth 0 first), each node with its parents and children as node
    dicts, ordered within a layer by the mean position of their parents in the layer above
    (so related questions sit near each other)."""
    level = depths(nodes)
    by_id = {n["id"]: n for n in nodes}
    children: dict[str, list[NodeReport]] = {n["id"]: [] for n in nodes}
    for n in nodes:
        for parent in n.get("parents") or []:
            children[parent].append(n)
    layers: list[list[dict]] = []
    rank: dict[str, int] = {}
    for depth in range(max(level.values(), default=-1) + 1):
        members = [n for n in nodes if level[n["id"]] == depth]
        if depth:
            members.sort(key=lambda n: sum(rank[p] for p in n["parents"]) / len(n["parents"]))
        rank.update({n["id"]: k for k, n in enumerate(members)})
        layers.append([{"node": n, "parents": [by_id[p] for p in n.get("parents") or []],
                        "children": children[n["id"]]} for n in members])
    return layers


def dag_chart(document: ReportDocument) -> str:
    """The scenario's graph: drivers and consequences as boxes holding the forecast, arrows
    from parent to child (curved, entering each box from the left)."""
    nodes = document["nodes"]
    positions = dag_layout(nodes)
    xs = [x for x, _ in positions.values()]
    ys = [y for _, y in positions.values()]
    margin = 12.0
    left, top = min(xs) - BOX_WIDTH / 2 - margin, min(ys) - BOX_HEIGHT / 2 - margin
    svg = Svg(max(xs) - min(xs) + BOX_WIDTH + 2 * margin, max(ys) - min(ys) + BOX_HEIGHT + 2 * margin)
    svg.add(f'<defs><marker id="arrow" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="7" '
            f'markerHeight="7" orient="auto-start-reverse"><path d="M0 0 L10 5 L0 10 z" '
            f'fill="{EDGE}"/></marker></defs>')

    def at(node_id: str) -> tuple[float, float]:
        x, y = positions[node_id]
        return x - left, y - top

    for node in nodes:
        x, y = at(node["id"])
        for parent in node.get("parents") or []:
            px, py = at(parent)
            x0, x1 = px + BOX_WIDTH / 2, x - BOX_WIDTH / 2 - 1
            bend = max(40.0, (x1 - x0) / 2)
            svg.add(f'<path d="M{_num(x0)} {_num(py)} C{_num(x0 + bend)} {_num(py)} '
                    f'{_num(x1 - bend)} {_num(y)} {_num(x1)} {_num(y)}" fill="none" stroke="{EDGE}" '
                    f'stroke-width="1.1" opacity="0.8" marker-end="url(#arrow)"/>')
    for node in nodes:
        x, y = at(node["id"])
        edge = {"yes": YES, "no": NO}.get(node.get("resolved") or "", EDGE)
        svg.rect(x - BOX_WIDTH / 2, y - BOX_HEIGHT / 2, BOX_WIDTH, BOX_HEIGHT,
                 DRIVER_FILL if node["role"] == "driver" else CONSEQUENCE_FILL, edge, rx=8,
                 width=1.6 if node.get("resolved") else 1.0)
        label = _wrap(node.get("label") or node["id"], 26)[:2]
        svg.lines_of_text(x, y - 9, label, size=11.5, anchor="middle", weight="bold")
        status = f"resolved {node['resolved']}" if node.get("resolved") else node["term"]
        svg.text(x, y + 17, f"{100 * node['mean']:.0f}% · {status}", size=11, fill=POSTERIOR,
                 anchor="middle")
    return svg.uri()


def report_charts(document: ReportDocument) -> dict[str, str | None]:
    """Every chart the HTML report embeds, as data URIs (history is None without snapshots;
    structure is None past the size a diagram stays legible at)."""
    return {
        "forecast": forecast_chart(document),
        "history": history_chart(document),
        "structure": dag_chart(document) if diagram_fits(document["nodes"]) else None,
    }
