"""The scenario graph's layout, pure Python and tested on its own: each node's depth, box
centres for the diagram (charts/structure.py), whether the diagram stays legible, and the
layered cards the pages show past that size."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from ..analysis.report_document import NodeReport

# Graph layout, in pixels: box size and the gaps between layers and between boxes.
BOX_WIDTH = 180.0
BOX_HEIGHT = 58.0
LAYER_GAP = 250.0
ROW_GAP = 76.0


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
