"""The history chart: small multiples of each question's forecast over the snapshots' as-of
dates, ending at the report's own forecast."""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING

from ..history import current_point, history_series
from ..svg import GRID, MUTED, POSTERIOR, POSTERIOR_BAND, PRIOR, Svg, fmt, wrap

if TYPE_CHECKING:
    from ...analysis.report_document import ReportDocument

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


def steps(points: list[tuple]) -> list[tuple]:
    """(date, value) corners of a step line: a forecast holds until the next snapshot, then
    moves at once (a straight slope between snapshots a year apart would read as a gradual
    drift, not the jump a resolution or a news item made)."""
    corners: list[tuple] = []
    for k, (day, value) in enumerate(points):
        if k:
            corners.append((day, points[k - 1][1]))
        corners.append((day, value))
    return corners


def history_chart(document: ReportDocument) -> str | None:
    """Small multiples: each node's mean and interval over the snapshots' as-of dates, with its
    prior as a dashed line. None when there is no history to draw."""
    # a question of other outcomes has no single mean to draw (its snapshots keep each state's)
    nodes = [n for n in document["nodes"] if n["mean"] is not None]
    series = history_series(document.get("history") or [], [n["id"] for n in nodes])
    if not nodes or not any(series.values()):
        return None
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

        title = wrap(node.get("label") or node["id"], 44)[0]
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
            upper = [(x_of(d), y_of(v)) for d, v in steps([(d, iv[1] if iv else m)
                                                           for d, m, iv in points])]
            lower = [(x_of(d), y_of(v)) for d, v in steps([(d, iv[0] if iv else m)
                                                           for d, m, iv in points])][::-1]
            band = " ".join(f"{fmt(x)},{fmt(y)}" for x, y in upper + lower)
            svg.add(f'<polygon points="{band}" fill="{POSTERIOR_BAND}" opacity="0.55"/>')
            path = " ".join(f"{fmt(x_of(d))},{fmt(y_of(m))}"
                            for d, m in steps([(d, m) for d, m, _ in points]))
            svg.add(f'<polyline points="{path}" fill="none" stroke="{POSTERIOR}" stroke-width="1.8"/>')
            for d, m, _ in points:
                svg.circle(x_of(d), y_of(m), 2.8, POSTERIOR)
        latest = points[-1][:2] if points else None
        if now is not None and not now["is_snapshot"]:
            # The current forecast is not in the history yet: a hollow point, joined to the
            # last snapshot by a dotted line, so the chart ends where the report's headline is.
            mean = now["means"][node["id"]]
            if points:      # held until now, then the step to the current forecast
                corners = steps([points[-1][:2], (now["as_of"], mean)])
                for (d0, m0), (d1, m1) in zip(corners, corners[1:], strict=False):
                    svg.line(x_of(d0), y_of(m0), x_of(d1), y_of(m1), POSTERIOR, 1.2, dash="2 3")
            svg.circle(x_of(now["as_of"]), y_of(mean), 4.5, "white", POSTERIOR, 1.6)
            latest = (now["as_of"], mean)
        if latest is not None:
            svg.text(x_of(latest[0]) + 7, y_of(latest[1]), f"{100 * latest[1]:.0f}%", size=10.5,
                     fill=POSTERIOR, weight="bold")
    return svg.uri()
