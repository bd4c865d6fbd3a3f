"""The history of a question of more outcomes: a stacked area, one band per state, over the
snapshots' as-of dates.

Stacked, because the states share 100% and a reader wants to see the mass move between them
(a line per state turns into a tangle at 12 states, most of them near zero). The first state
is at the bottom, so for an ordered question each boundary is a cumulative probability ("up to
this state"). The legend is the labels at the right edge: each state's band at the latest
point, led to its name, its probability and its change since the first snapshot, spread apart
so none overlap. Past 12 states (a question may have 100) the bands are groups
(`render/history.state_groups`): an ordered question's runs of neighbours, an unordered one's
likeliest states and the rest together.
"""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING

from ..history import current_point, group_probabilities, leader, state_groups, state_series
from ..svg import GRID, INK, MUTED, PRIOR, Svg, fmt, wrap
from .history import _date_ticks, steps

if TYPE_CHECKING:
    from ...analysis.report_document import NodeReport, ReportDocument

WIDTH = 1040.0
PLOT_LEFT = 112.0           # the prior's bar and the y labels sit left of it
PLOT_RIGHT = 700.0
LABELS_LEFT = 730.0         # the direct labels (the legend) start here
LABEL_STEP = 15.0           # vertical room per label
NAME_CHARS = 20             # a longer state name is cut (with …) before it meets its number

# Ordered states: a sequential ramp, light (the first, lowest state) to dark; neighbours stay
# apart by the white rule between bands. Unordered: distinct hues (Tableau 10 and two more).
RAMP = ["#fff3c4", "#c7e9b4", "#7fcdbb", "#41b6c4", "#1d91c0", "#225ea8", "#253494", "#081d58"]
CATEGORICAL = ["#4e79a7", "#f28e2b", "#e15759", "#76b7b2", "#59a14f", "#edc948", "#b07aa1",
               "#ff9da7", "#9c755f", "#bab0ac", "#1f4e79", "#8cd17d"]


def _hex(colour: str) -> tuple[int, int, int]:
    return int(colour[1:3], 16), int(colour[3:5], 16), int(colour[5:7], 16)


def state_colours(count: int, ordered: bool) -> list[str]:
    """One colour per state: evenly spaced along the ramp when ordered, else distinct hues."""
    if not ordered:
        return [CATEGORICAL[i % len(CATEGORICAL)] for i in range(count)]
    colours = []
    for i in range(count):
        at = (len(RAMP) - 1) * i / max(count - 1, 1)
        low = min(int(at), len(RAMP) - 2)
        share = at - low
        mixed = [round(a + (b - a) * share)
                 for a, b in zip(_hex(RAMP[low]), _hex(RAMP[low + 1]), strict=True)]
        colours.append("#" + "".join(f"{c:02x}" for c in mixed))
    return colours


def spread_labels(wanted: list[float], top: float, bottom: float, step: float) -> list[float]:
    """Label positions as near `wanted` (ascending) as they can be, at least `step` apart and
    within [top, bottom]; when they do not fit, evenly spaced over the whole height."""
    if len(wanted) > 1 and (len(wanted) - 1) * step > bottom - top:
        gap = (bottom - top) / (len(wanted) - 1)
        return [top + i * gap for i in range(len(wanted))]
    placed: list[float] = []
    for y in wanted:
        placed.append(max(y, top, placed[-1] + step if placed else top))
    if placed and placed[-1] > bottom:
        placed[-1] = bottom
        for i in range(len(placed) - 2, -1, -1):
            placed[i] = min(placed[i], placed[i + 1] - step)
    return placed


def _short_pct(p: float) -> str:
    return "<1%" if 0 < p < 0.005 else f"{100 * p:.0f}%"


def state_history_charts(document: ReportDocument) -> dict[str, str]:
    """For each question of more outcomes with a history, its chart as a data URI (in the
    document's order); empty when there is none."""
    now = current_point(document)
    pending = now is not None and not now["is_snapshot"]
    history = document.get("history") or []
    drawn = {}
    series = {n["id"]: state_series(history, n["id"], n["states"])
              for n in document["nodes"] if n["mean"] is None and n.get("distribution")}
    dates = [day for points in series.values() for day, _ in points]
    if not dates:
        return {}
    if pending:
        dates.append(now["as_of"])
    first, last = min(dates), max(dates)
    for node in document["nodes"]:
        if series.get(node["id"]):
            drawn[node["id"]] = _chart(node, series[node["id"]], now if pending else None,
                                       first, last).uri()
    return drawn


def _chart(node: NodeReport, points: list[tuple[dt.date, dict[str, float]]], now: dict | None,
           first: dt.date, last: dt.date) -> Svg:
    states = node["states"]
    latest = now["distributions"][node["id"]] if now is not None else points[-1][1]
    best, best_p = leader(latest, states)
    groups = state_groups(states, node["ordered"], [p for _, p in points] + [latest])
    colours = state_colours(len(groups), node["ordered"])
    if groups[-1][0].endswith(" others"):
        colours[-1] = PRIOR
    plot_height = max(170.0, LABEL_STEP * len(groups) + 20)
    top = 50.0
    bottom = top + plot_height
    svg = Svg(WIDTH, bottom + 34)
    if first == last:
        first, last = first - dt.timedelta(days=3), last + dt.timedelta(days=3)
    pad = max((last - first) * 0.05, dt.timedelta(days=1))
    start, stop = first - pad, last + pad * 3
    span = (stop - start).days or 1

    def x_of(day: dt.date) -> float:
        return PLOT_LEFT + (PLOT_RIGHT - PLOT_LEFT) * (day - start).days / span

    def y_of(p: float) -> float:
        return bottom - plot_height * min(max(p, 0.0), 1.0)

    kind = "ordered, the first at the bottom" if node["ordered"] else "unordered"
    if len(groups) < len(states):
        kind += (f"; in {len(groups)} runs of neighbours" if node["ordered"]
                 else f"; the {len(groups) - 1} likeliest, the rest together")
    svg.text(8, 16, wrap(node.get("label") or node["id"], 70)[0], size=13, weight="bold")
    svg.text(8, 34, f"{len(states)} outcomes ({kind}) · most likely now: {best} {_short_pct(best_p)}",
             size=11.5, fill=MUTED)

    for level in (0, 0.25, 0.5, 0.75, 1):
        svg.line(PLOT_LEFT, y_of(level), PLOT_RIGHT, y_of(level), GRID, 0.8)
        svg.text(PLOT_LEFT - 6, y_of(level), f"{level * 100:.0f}%", size=9.5, fill=MUTED, anchor="end")
    for tick in _date_ticks(first, last):
        svg.text(x_of(tick), bottom + 13, tick.strftime("%b %Y" if (last - first).days > 75 else "%d %b"),
                 size=9.5, fill=MUTED, anchor="middle")

    # the prior, a stacked bar left of the plot, so the start of the history reads against it
    prior = {row["state"]: row["prior_mean"] or 0.0 for row in node["distribution"]}
    below = 0.0
    for p, colour in zip(group_probabilities(groups, prior), colours, strict=True):
        svg.rect(48, y_of(below + p), 22, y_of(below) - y_of(below + p), colour, "white", width=0.6)
        below += p
    svg.text(59, bottom + 13, "prior", size=9.5, fill=MUTED, anchor="middle")

    # the bands: each group's lower and upper boundaries as steps, held to the plot's end
    held = points + [(now["as_of"], latest)] if now is not None else list(points)
    end = stop if held[-1][0] < stop else held[-1][0]
    cumulative = []
    for day, probabilities in held:
        total, row = 0.0, [0.0]
        for p in group_probabilities(groups, probabilities):
            total += p
            row.append(total)
        cumulative.append((day, row))
    cumulative.append((end, cumulative[-1][1]))
    for i, colour in enumerate(colours):
        upper = steps([(day, row[i + 1]) for day, row in cumulative])
        lower = steps([(day, row[i]) for day, row in cumulative])[::-1]
        outline = " ".join(f"{fmt(x_of(d))},{fmt(y_of(v))}" for d, v in upper + lower)
        svg.add(f'<polygon points="{outline}" fill="{colour}" stroke="white" stroke-width="0.7" '
                f'stroke-linejoin="round"/>')
    if now is not None:
        # the report's own forecast is not a snapshot yet: veil its step, mark its date
        x_now = x_of(now["as_of"])
        svg.rect(x_now, top, x_of(end) - x_now, plot_height, "white", extra=' opacity="0.45"')
        svg.line(x_now, top - 4, x_now, bottom, INK, 1, dash="3 3")
        svg.text(x_now, top - 10, "this report", size=9.5, fill=MUTED, anchor="middle")
    for day, _ in points:
        svg.line(x_of(day), bottom, x_of(day), bottom + 4, INK, 1)

    # the legend: each group led from its band's middle at the right edge to its label
    now_p = group_probabilities(groups, latest)
    then_p = group_probabilities(groups, points[0][1])
    mids, total = [], 0.0
    for p in now_p:
        mids.append(y_of(total + p / 2))
        total += p
    order = sorted(range(len(groups)), key=lambda i: mids[i])
    placed = spread_labels([mids[i] for i in order], top + 5, bottom - 5, LABEL_STEP)
    for i, y in zip(order, placed, strict=True):
        name, members = groups[i]
        change = 100 * (now_p[i] - then_p[i])
        weight = "bold" if best in members else "normal"
        svg.add(f'<polyline points="{fmt(PLOT_RIGHT + 2)},{fmt(mids[i])} {fmt(PLOT_RIGHT + 12)},'
                f'{fmt(mids[i])} {fmt(LABELS_LEFT - 6)},{fmt(y)}" fill="none" stroke="{MUTED}" '
                f'stroke-width="0.7"/>')
        svg.rect(LABELS_LEFT, y - 5, 10, 10, colours[i], MUTED, width=0.5)
        shown = name if len(name) <= NAME_CHARS else name[:NAME_CHARS - 1] + "…"
        svg.text(LABELS_LEFT + 16, y, shown, size=11, weight=weight)
        svg.text(LABELS_LEFT + 170, y, _short_pct(now_p[i]), size=11, anchor="end", weight=weight)
        moved = "±0" if abs(change) < 0.5 else f"{change:+.0f}"
        svg.text(LABELS_LEFT + 178, y, f"{moved} pp since {points[0][0].strftime('%d %b')}",
                 size=10, fill=MUTED)
    return svg
