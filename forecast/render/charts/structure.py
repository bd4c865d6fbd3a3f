"""The scenario graph as a diagram: drivers and consequences as boxes holding the forecast,
arrows from parent to child. It keeps a fixed box size whatever the number of nodes, so its
labels stay legible (the page scrolls it sideways instead of shrinking it)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from ..graph_layout import BOX_HEIGHT, BOX_WIDTH, dag_layout
from ..svg import CONSEQUENCE_FILL, DRIVER_FILL, EDGE, NO, POSTERIOR, YES, Svg, fmt, wrap

if TYPE_CHECKING:
    from ...analysis.report_document import ReportDocument


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
            svg.add(f'<path d="M{fmt(x0)} {fmt(py)} C{fmt(x0 + bend)} {fmt(py)} '
                    f'{fmt(x1 - bend)} {fmt(y)} {fmt(x1)} {fmt(y)}" fill="none" stroke="{EDGE}" '
                    f'stroke-width="1.1" opacity="0.8" marker-end="url(#arrow)"/>')
    for node in nodes:
        x, y = at(node["id"])
        edge = {"yes": YES, "no": NO}.get(node.get("resolved") or "", EDGE)
        svg.rect(x - BOX_WIDTH / 2, y - BOX_HEIGHT / 2, BOX_WIDTH, BOX_HEIGHT,
                 DRIVER_FILL if node["role"] == "driver" else CONSEQUENCE_FILL, edge, rx=8,
                 width=1.6 if node.get("resolved") else 1.0)
        label = wrap(node.get("label") or node["id"], 26)[:2]
        svg.lines_of_text(x, y - 9, label, size=11.5, anchor="middle", weight="bold")
        if node["mean"] is None:
            best = max(node["distribution"], key=lambda row: row["mean"])
            status = (f"resolved {node['resolved']}" if node.get("resolved")
                      else f"{best['state']} {100 * best['mean']:.0f}%")
            svg.text(x, y + 17, status, size=11, fill=POSTERIOR, anchor="middle")
            continue
        status = f"resolved {node['resolved']}" if node.get("resolved") else node["term"]
        svg.text(x, y + 17, f"{100 * node['mean']:.0f}% · {status}", size=11, fill=POSTERIOR,
                 anchor="middle")
    return svg.uri()
