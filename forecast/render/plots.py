"""The report's charts, drawn with matplotlib (Agg) and returned as SVG data URIs, so the HTML
report embeds them and never fetches anything.

matplotlib is imported inside the drawing functions only: commands that read or edit files
never pay for it. Text is drawn as paths, so the charts look the same on every machine
without any font file. The layered layout of the scenario graph is pure Python and tested
on its own.
"""

from __future__ import annotations

import base64
import datetime as dt
import io
import textwrap
from collections.abc import Sequence

POSTERIOR = "#1f4e79"
POSTERIOR_BAND = "#9dbbdc"
PRIOR = "#8a8f98"
INK = "#1d2330"
MUTED = "#5b6475"
GRID = "#e3e6eb"
DRIVER_FILL = "#dde7f3"
CONSEQUENCE_FILL = "#f4efe4"
YES = "#2e7d32"
NO = "#b23b3b"

# Graph layout, in data units: box size and the gaps between layers and between boxes.
BOX_WIDTH = 2.5
BOX_HEIGHT = 1.0
LAYER_GAP = 3.6
ROW_GAP = 1.35
INCHES_PER_UNIT = 0.78


def _matplotlib():
    """matplotlib with the Agg backend and settings that make the SVG reproducible."""
    import matplotlib

    matplotlib.use("Agg")
    return matplotlib


def _style() -> dict:
    return {
        "svg.fonttype": "path",
        "svg.hashsalt": "forecast-report",
        "font.family": "DejaVu Sans",
        "font.size": 9,
        "axes.edgecolor": "#b9bfc8",
        "axes.labelcolor": INK,
        "xtick.color": MUTED,
        "ytick.color": INK,
        "axes.spines.top": False,
        "axes.spines.right": False,
    }


def _figure(width: float, height: float):
    from matplotlib.figure import Figure

    return Figure(figsize=(width, height), dpi=100)


def svg_data_uri(figure) -> str:
    buffer = io.BytesIO()
    figure.savefig(buffer, format="svg", metadata={"Date": None}, bbox_inches="tight",
                   pad_inches=0.08)
    return "data:image/svg+xml;base64," + base64.b64encode(buffer.getvalue()).decode("ascii")


def _wrap(text: str, width: int) -> str:
    return "\n".join(textwrap.wrap(text, width)) or text


def _percent_axis(axis) -> None:
    from matplotlib.ticker import FuncFormatter

    axis.set_major_formatter(FuncFormatter(lambda v, _pos: f"{100 * v:.0f}%"))


# -- forecast chart ----------------------------------------------------------------------------
def forecast_chart(document: dict) -> str:
    """Each node's posterior mean and interval beside its prior, over the ICD 203 bands."""
    mpl = _matplotlib()
    nodes = document["nodes"]
    prob = int(round(100 * nodes[0]["interval_prob"]))
    with mpl.rc_context(_style()):
        figure = _figure(9.6, 0.58 * len(nodes) + 1.3)
        ax = figure.add_subplot()
        _term_bands(ax, document.get("terms") or {})
        for row, node in enumerate(nodes):
            y = len(nodes) - 1 - row
            low, high = node.get("prior_interval") or (node["prior_mean"], node["prior_mean"])
            ax.plot([low, high], [y + 0.17] * 2, color=PRIOR, lw=2.2, alpha=0.75,
                    solid_capstyle="butt")
            ax.plot(node["prior_mean"], y + 0.17, marker="D", ms=6, mfc="white", mec=PRIOR, mew=1.5)
            low, high = node["interval"]
            ax.plot([low, high], [y - 0.13] * 2, color=POSTERIOR_BAND, lw=9, solid_capstyle="butt")
            ax.plot(node["mean"], y - 0.13, marker="o", ms=8, color=POSTERIOR, mec="white", mew=1)
            label = f"{100 * node['mean']:.0f}%"
            if node.get("resolved"):
                label += f"  resolved {node['resolved']}"
            right = high < 0.82
            ax.text(high + 0.012 if right else low - 0.012, y - 0.13, label, va="center",
                    ha="left" if right else "right", fontsize=9, fontweight="bold", color=POSTERIOR)
        ax.set_yticks(range(len(nodes)),
                      [_wrap(n.get("label") or n["id"], 26) + f"\n({n['role']})" for n in reversed(nodes)])
        ax.set_ylim(-0.7, len(nodes) - 0.35)
        ax.set_xlim(0, 1)
        ax.set_xticks([i / 10 for i in range(11)])
        _percent_axis(ax.xaxis)
        ax.tick_params(axis="y", length=0)
        ax.grid(axis="x", color=GRID, lw=0.8)
        ax.set_axisbelow(True)
        handles = [
            mpl.lines.Line2D([], [], color=PRIOR, lw=2.2, marker="D", mfc="white", mec=PRIOR,
                             label=f"prior: mean and {prob}% interval"),
            mpl.lines.Line2D([], [], color=POSTERIOR_BAND, lw=9, marker="o", mfc=POSTERIOR,
                             mec="white", ms=8, label=f"forecast: mean and {prob}% credible interval"),
        ]
        ax.legend(handles=handles, loc="upper center", bbox_to_anchor=(0.5, -0.09), ncol=2,
                  frameon=False, fontsize=9)
        return svg_data_uri(figure)


def _term_bands(ax, terms: dict) -> None:
    """Alternating shaded bands for the estimative terms, labelled above the plot."""
    for index, (name, (low, high)) in enumerate(sorted(terms.items(), key=lambda kv: kv[1])):
        if index % 2 == 0:
            ax.axvspan(low, high, color="#f3f5f8", zorder=0, lw=0)
        width = high - low
        if width < 0.09:
            continue
        text = name if width >= 0.14 else name.replace(" ", "\n", 1)
        ax.text((low + high) / 2, 1.005, text, transform=ax.get_xaxis_transform(), ha="center",
                va="bottom", fontsize=7.5, color=MUTED)


# -- history -----------------------------------------------------------------------------------
def history_chart(document: dict) -> str | None:
    """Small multiples: each node's mean and interval over the snapshots' as-of dates, with its
    prior as a dashed line. None when there is no history to draw."""
    series = history_series(document.get("history") or [], [n["id"] for n in document["nodes"]])
    if not any(series.values()):
        return None
    mpl = _matplotlib()
    from matplotlib.dates import AutoDateLocator, ConciseDateFormatter

    nodes = document["nodes"]
    columns = min(3, len(nodes))
    rows = -(-len(nodes) // columns)
    with mpl.rc_context(_style()):
        figure = _figure(3.3 * columns, 2.3 * rows)
        axes = figure.subplots(rows, columns, squeeze=False, sharey=True)
        now = current_point(document)
        all_dates = [d for points in series.values() for d, *_ in points]
        if now is not None:
            all_dates.append(now["as_of"])
        first, last = min(all_dates), max(all_dates)
        if first == last:
            first, last = first - dt.timedelta(days=3), last + dt.timedelta(days=3)
        pad = max((last - first) * 0.05, dt.timedelta(days=1))
        for index, node in enumerate(nodes):
            ax = axes[index // columns][index % columns]
            points = series[node["id"]]
            ax.axhline(node["prior_mean"], color=PRIOR, lw=1, ls="--")
            if points:
                dates = [p[0] for p in points]
                lows = [p[2][0] if p[2] else p[1] for p in points]
                highs = [p[2][1] if p[2] else p[1] for p in points]
                ax.fill_between(dates, lows, highs, color=POSTERIOR_BAND, alpha=0.55, lw=0,
                                step=None)
                ax.plot(dates, [p[1] for p in points], color=POSTERIOR, lw=1.8, marker="o", ms=3.5)
            latest = points[-1][:2] if points else None
            if now is not None and not now["is_snapshot"]:
                # The current forecast is not in the history yet: a hollow point, joined to the
                # last snapshot by a dotted line, so the chart ends where the report's headline is.
                mean = now["means"][node["id"]]
                if points:
                    ax.plot([points[-1][0], now["as_of"]], [points[-1][1], mean], color=POSTERIOR,
                            lw=1.2, ls=":")
                ax.plot(now["as_of"], mean, marker="o", ms=6, mfc="white", mec=POSTERIOR, mew=1.6)
                latest = (now["as_of"], mean)
            if latest is not None:
                ax.annotate(f"{100 * latest[1]:.0f}%", latest,
                            xytext=(4, 0), textcoords="offset points", va="center", fontsize=8,
                            color=POSTERIOR, fontweight="bold")
            ax.set_title(_wrap(node.get("label") or node["id"], 34), fontsize=9, loc="left",
                         color=INK)
            ax.set_ylim(0, 1)
            ax.set_xlim(first - pad, last + pad * 3)
            _percent_axis(ax.yaxis)
            locator = AutoDateLocator(minticks=2, maxticks=5)
            ax.xaxis.set_major_locator(locator)
            ax.xaxis.set_major_formatter(ConciseDateFormatter(locator))
            ax.grid(axis="y", color=GRID, lw=0.8)
            ax.tick_params(labelsize=7.5)
        for index in range(len(nodes), rows * columns):
            axes[index // columns][index % columns].set_visible(False)
        figure.tight_layout(h_pad=1.2)
        return svg_data_uri(figure)


def current_point(document: dict) -> dict | None:
    """The report's own forecast as the history charts' latest point: its as-of date, the mean
    per node, and whether the history already holds it (a snapshot with the same as-of date,
    evidence hash and means). None for a conditional forecast, which is never a snapshot."""
    if document.get("given") or not document.get("nodes") or not document.get("as_of"):
        return None
    day = dt.date.fromisoformat(document["as_of"])
    means = {n["id"]: n["mean"] for n in document["nodes"]}

    def same(snapshot: dict) -> bool:
        theirs = {n["id"]: n["mean"] for n in snapshot.get("nodes", [])}
        return (snapshot.get("as_of") == document["as_of"]
                and snapshot.get("evidence_hash") == document.get("evidence_hash")
                and theirs.keys() == means.keys()
                and all(abs(theirs[k] - means[k]) < 5e-7 for k in means))

    return {"as_of": day, "means": means,
            "is_snapshot": any(same(s) for s in document.get("history") or [])}


def history_series(history: Sequence[dict], node_ids: Sequence[str]
                   ) -> dict[str, list[tuple[dt.date, float, tuple[float, float] | None]]]:
    """Per node, (as-of date, mean, interval) in date order. Several snapshots on one as-of
    date keep the last one written (it knew the most)."""
    by_date: dict[str, dict[dt.date, tuple]] = {node_id: {} for node_id in node_ids}
    for snapshot in history:
        day = dt.date.fromisoformat(snapshot["as_of"])
        for node in snapshot["nodes"]:
            if node["id"] in by_date:
                interval = tuple(node["interval"]) if node.get("interval") else None
                by_date[node["id"]][day] = (day, node["mean"], interval)
    return {node_id: [points[d] for d in sorted(points)] for node_id, points in by_date.items()}


# -- scenario graph ----------------------------------------------------------------------------
def depths(nodes: Sequence[dict]) -> dict[str, int]:
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


def dag_layout(nodes: Sequence[dict]) -> dict[str, tuple[float, float]]:
    """Box centres: one column per depth, left to right; within a column, nodes ordered by the
    mean height of their parents (fewer crossing edges), centred on the middle row."""
    level = depths(nodes)
    order = [n["id"] for n in nodes]
    parents = {n["id"]: list(n.get("parents") or []) for n in nodes}
    positions: dict[str, tuple[float, float]] = {}
    for layer in range(max(level.values(), default=-1) + 1):
        members = [node_id for node_id in order if level[node_id] == layer]
        if layer:
            members.sort(key=lambda m: (-sum(positions[p][1] for p in parents[m]) / len(parents[m]),
                                        order.index(m)))
        for k, node_id in enumerate(members):
            positions[node_id] = (layer * LAYER_GAP, ((len(members) - 1) / 2 - k) * ROW_GAP)
    return positions


# The diagram is drawn only while it stays legible at the page's width (860 px): past this many
# nodes, or so many layers that the picture would be shrunk below ~9 px text, the report shows
# the structure as layered cards instead (`structure_layers`), which read at any size.
DIAGRAM_MAX_NODES = 12
DIAGRAM_MAX_LAYERS = 4


def diagram_fits(nodes: Sequence[dict]) -> bool:
    """Whether the scenario graph can be drawn legibly (see DIAGRAM_MAX_NODES)."""
    level = depths(nodes)
    return len(nodes) <= DIAGRAM_MAX_NODES and max(level.values(), default=0) < DIAGRAM_MAX_LAYERS


def structure_layers(nodes: Sequence[dict]) -> list[list[dict]]:
    """The graph as layers (depth 0 first), each node with its parents and children as node
    dicts, ordered within a layer by the mean position of their parents in the layer above
    (so related questions sit near each other)."""
    level = depths(nodes)
    by_id = {n["id"]: n for n in nodes}
    children: dict[str, list[dict]] = {n["id"]: [] for n in nodes}
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


def dag_chart(document: dict) -> str:
    """The scenario's graph: drivers and consequences as boxes holding the forecast, arrows
    from parent to child."""
    mpl = _matplotlib()
    from matplotlib.patches import FancyArrowPatch, FancyBboxPatch

    nodes = document["nodes"]
    positions = dag_layout(nodes)
    level = depths(nodes)
    xs = [x for x, _ in positions.values()]
    ys = [y for _, y in positions.values()]
    width = max(xs) - min(xs) + BOX_WIDTH + 0.4
    height = max(ys) - min(ys) + BOX_HEIGHT + 0.4
    with mpl.rc_context(_style()):
        figure = _figure(max(width * INCHES_PER_UNIT, 3.0), max(height * INCHES_PER_UNIT, 1.2))
        ax = figure.add_axes((0, 0, 1, 1))
        ax.set_xlim(min(xs) - BOX_WIDTH / 2 - 0.2, max(xs) + BOX_WIDTH / 2 + 0.2)
        ax.set_ylim(min(ys) - BOX_HEIGHT / 2 - 0.2, max(ys) + BOX_HEIGHT / 2 + 0.2)
        ax.set_axis_off()
        for node in nodes:
            x, y = positions[node["id"]]
            for parent in node.get("parents") or []:
                px, py = positions[parent]
                skips = level[node["id"]] - level[parent] > 1
                ax.add_patch(FancyArrowPatch(
                    (px + BOX_WIDTH / 2, py), (x - BOX_WIDTH / 2, y), arrowstyle="-|>",
                    mutation_scale=11, color="#6b7685", lw=1.1, shrinkA=1, shrinkB=2,
                    connectionstyle=f"arc3,rad={0.25 if skips else 0.0}", zorder=1))
        for node in nodes:
            x, y = positions[node["id"]]
            edge = {"yes": YES, "no": NO}.get(node.get("resolved") or "", "#6b7685")
            ax.add_patch(FancyBboxPatch(
                (x - BOX_WIDTH / 2, y - BOX_HEIGHT / 2), BOX_WIDTH, BOX_HEIGHT,
                boxstyle="round,pad=0,rounding_size=0.12", lw=1.4 if node.get("resolved") else 1,
                fc=DRIVER_FILL if node["role"] == "driver" else CONSEQUENCE_FILL, ec=edge, zorder=2))
            ax.text(x, y + 0.14, _wrap(node.get("label") or node["id"], 24), ha="center",
                    va="center", fontsize=8.5, fontweight="bold", color=INK, zorder=3,
                    linespacing=1.1)
            status = f"resolved {node['resolved']}" if node.get("resolved") else node["term"]
            ax.text(x, y - 0.3, f"{100 * node['mean']:.0f}% · {status}", ha="center",
                    va="center", fontsize=8, color=POSTERIOR, zorder=3)
        return svg_data_uri(figure)


def report_charts(document: dict) -> dict[str, str | None]:
    """Every chart the HTML report embeds, as data URIs (history is None without snapshots;
    structure is None past the size a diagram stays legible at)."""
    return {
        "forecast": forecast_chart(document),
        "history": history_chart(document),
        "structure": dag_chart(document) if diagram_fits(document["nodes"]) else None,
    }
