"""The forecast history as the pages show it: per question, the snapshots' points in date
order (each state's probability for a question of more outcomes), and the report's own
forecast as the latest point. Data only; the charts draw it (charts/history.py,
charts/state_history.py), Markdown and the terminal tabulate it."""

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
    distributions = {n["id"]: {row["state"]: row["mean"] for row in n["distribution"]}
                     for n in document["nodes"] if n["mean"] is None and n.get("distribution")}

    def same(snapshot: HistoryEntry) -> bool:
        theirs = {n["id"]: n["mean"] for n in snapshot.get("nodes", []) if n.get("mean") is not None}
        their_states = {n["id"]: {row["state"]: row["mean"] for row in n["distribution"]}
                        for n in snapshot.get("nodes", []) if n.get("distribution")}
        return (snapshot.get("as_of") == document["as_of"]
                and snapshot.get("evidence_hash") == document.get("evidence_hash")
                and theirs.keys() == means.keys()
                and all(abs(theirs[k] - means[k]) < 5e-7 for k in means)
                and all(_same_states(their_states.get(k), p) for k, p in distributions.items()))

    return {"as_of": day, "means": means, "distributions": distributions,
            "is_snapshot": any(same(s) for s in document.get("history") or [])}


def _same_states(theirs: dict[str, float] | None, ours: dict[str, float]) -> bool:
    return (theirs is not None and theirs.keys() == ours.keys()
            and all(abs(theirs[s] - ours[s]) < 5e-7 for s in ours))


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


def state_series(history: Sequence[HistoryEntry], node_id: str, states: Sequence[str]
                 ) -> list[tuple[dt.date, dict[str, float]]]:
    """A question of more outcomes through the history: (as-of date, {state: probability}) in
    date order, the last snapshot of a day kept. A snapshot whose states are not the question's
    (written before its states were renamed, or by hand) is left out: its numbers are not
    comparable."""
    by_date: dict[dt.date, dict[str, float]] = {}
    wanted = set(states)
    for snapshot in history:
        for node in snapshot["nodes"]:
            rows = node.get("distribution") if node["id"] == node_id else None
            if rows and {row["state"] for row in rows} == wanted and len(rows) == len(wanted):
                by_date[dt.date.fromisoformat(snapshot["as_of"])] = {
                    row["state"]: row["mean"] for row in rows}
    return [(day, by_date[day]) for day in sorted(by_date)]


def leader(probabilities: dict[str, float], states: Sequence[str]) -> tuple[str, float]:
    """The most likely state and its probability (ties: the first in the question's order)."""
    best = max(states, key=lambda state: probabilities[state])
    return best, probabilities[best]


SHOWN_STATES = 12           # bands in a chart, columns in a table: past this, states are grouped


def state_groups(states: Sequence[str], ordered: bool,
                 points: Sequence[dict[str, float]]) -> list[tuple[str, list[str]]]:
    """The states a history shows, as (name, member states) in the question's order: every
    state alone up to SHOWN_STATES; past that (a question may have 100) an ordered question's
    states in SHOWN_STATES runs of neighbours ("s1–s9", so cumulative boundaries stay true),
    an unordered one's likeliest (by their peak over `points`) alone and the rest as one
    "N others" group, last."""
    if len(states) <= SHOWN_STATES:
        return [(state, [state]) for state in states]
    if ordered:
        size, extra = divmod(len(states), SHOWN_STATES)
        groups, start = [], 0
        for index in range(SHOWN_STATES):
            run = list(states[start:start + size + (index < extra)])
            start += len(run)
            groups.append((run[0] if len(run) == 1 else f"{run[0]}–{run[-1]}", run))
        return groups
    peak = {state: max(p[state] for p in points) for state in states}
    kept = set(sorted(states, key=lambda s: -peak[s])[:SHOWN_STATES - 1])
    others = [state for state in states if state not in kept]
    return ([(state, [state]) for state in states if state in kept]
            + [(f"{len(others)} others", others)])


def group_probabilities(groups: Sequence[tuple[str, list[str]]], probabilities: dict[str, float]
                        ) -> list[float]:
    return [sum(probabilities[state] for state in members) for _, members in groups]
