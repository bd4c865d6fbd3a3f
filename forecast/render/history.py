"""The forecast history as the pages show it: per question, the snapshots' points in date
order, and the report's own forecast as the latest point. Data only; the chart draws it
(charts/history.py) and Markdown tabulates it."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from ..analysis.report_document import HistoryEntry, ReportDocument


def current_point(document: ReportDocument) -> dict | None:
    """The report's own forecast as the history charts' latest point: its as-of date, the mean
    per node, and whether the history already holds it (a snapshot with the same as-of date,
    evidence hash and means). None for a conditional forecast, which is never a snapshot."""
    if document.get("given") or not document.get("nodes") or not document.get("as_of"):
        return None
    day = dt.date.fromisoformat(document["as_of"])
    means = {n["id"]: n["mean"] for n in document["nodes"] if n["mean"] is not None}

    def same(snapshot: HistoryEntry) -> bool:
        theirs = {n["id"]: n["mean"] for n in snapshot.get("nodes", []) if n.get("mean") is not None}
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
            if node["id"] in by_date and node.get("mean") is not None:
                bounds = node.get("interval")
                interval = tuple(bounds) if bounds else None
                by_date[node["id"]][day] = (day, node["mean"], interval)
    return {node_id: [points[d] for d in sorted(points)] for node_id, points in by_date.items()}
