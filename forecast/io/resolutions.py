"""Files behind the track record: recording (and retracting) a resolution and reading
forecast snapshots for scoring.

The resolutions CSV is append-only and changed by read-modify-write under its lock: the new
text is built from what is on disk now and checked whole by the scenario-aware parser before
it is renamed into place, so a bad row leaves the file as it was and concurrent writers lose
nothing. A retraction is one more row (outcome `retracted`), so the record of what was once
believed stays in the file.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from ..errors import fail, one_of
from ..model.spec import Resolution, Scenario
from .csv_rows import csv_header
from .evidence import RESOLUTION_COLUMNS, RETRACTED, parse_resolutions
from .evidence_store import change_csv, format_rows, header_of
from .history import read_history_tolerant
from .text import line_ending, neutralise, read_user_text

RESOLUTIONS_HEADER = csv_header(RESOLUTION_COLUMNS)


def _current_text(path: Path) -> str:
    """The resolutions file as it is; a missing or empty file counts as a bare header."""
    text = read_user_text(path, "a resolutions CSV") if path.exists() else ""
    return text if text.strip() else RESOLUTIONS_HEADER


def _append_row(text: str, row: dict[str, str]) -> str:
    """`text` unchanged byte for byte, then one row in its column order and line ending."""
    newline = line_ending(text)
    if text and not text.endswith(("\n", "\r")):
        text += newline
    return text + format_rows([row], header_of(text, RESOLUTION_COLUMNS), newline)


def record_resolution(path: Path, shown: str, scenario: Scenario, node: str, outcome: str,
                      date: str, source: str, today: dt.date | None = None) -> Resolution:
    """Append one resolution; the whole resulting file must parse, or nothing is written. A
    source a spreadsheet would run as a formula is stored with a ' before it."""
    k_state = node in scenario.node_ids and not scenario.node(node).binary
    expected = (f"a state of {node} ({', '.join(scenario.node(node).states)})" if k_state
                else "yes or no")
    if outcome.strip().lower() == RETRACTED:
        raise fail("outcome", None, None, f"{expected} (`forecast resolve --undo NODE` retracts)",
                   outcome)
    if k_state and outcome.strip().lower() not in scenario.node(node).states:
        raise fail("OUTCOME", None, None, expected, outcome)
    row = {"node": node, "outcome": outcome.strip().lower(), "date": date,
           "source": neutralise(source.strip())}
    parsed: list[Resolution] = []

    def append(text: str) -> str:
        new_text = _append_row(text, row)
        parsed.extend(parse_resolutions(new_text, shown, scenario, today=today))
        return new_text

    change_csv(path, _current_text, append)
    return next(r for r in parsed if r.node == node)


def retract_resolution(path: Path, shown: str, scenario: Scenario, node: str, date: str,
                       reason: str, today: dt.date | None = None) -> Resolution:
    """Append a row retracting `node`'s resolution (the resolution it retracts is returned);
    a node that is not resolved is a one-line error, and nothing is written."""
    retracted: list[Resolution] = []

    def append(text: str) -> str:
        before = {r.node: r for r in parse_resolutions(text, shown, scenario, today=today)}
        if node not in scenario.node_ids:
            raise fail("NODE", None, None, f"a node of {scenario.id} ({one_of(scenario.node_ids)})",
                       node)
        if node not in before:
            raise fail(shown, None, "node", f"a resolved node to retract (resolved: "
                       f"{', '.join(sorted(before)) or 'none'})", node)
        retracted.append(before[node])
        new_text = _append_row(text, {"node": node, "outcome": RETRACTED, "date": date,
                                      "source": neutralise(reason.strip())})
        parse_resolutions(new_text, shown, scenario, today=today)
        return new_text

    change_csv(path, _current_text, append)
    return retracted[-1]


def scoring_node(node: dict) -> dict | None:
    """What scoring needs of one snapshot node: its mean (P(yes)), or on a question that is
    not yes/no its `distribution` ({state: mean}, in the snapshot's state order), and its
    resolved state; None for a node with neither."""
    if node.get("mean") is not None:
        return {"mean": float(node["mean"]), "resolved": node.get("resolved"), **_by_analyst(node)}
    if node.get("distribution"):
        return {"mean": None, "resolved": node.get("resolved"),
                "distribution": {str(row["state"]): float(row["mean"])
                                 for row in node["distribution"]}, **_by_analyst(node)}
    return None


def _scoring_snapshot(record: dict) -> dict:
    """What scoring needs of one snapshot: as_of, and per node `scoring_node`."""
    nodes = {node["id"]: scoring_node(node) for node in record["nodes"]}
    return {"as_of": dt.date.fromisoformat(str(record["as_of"])),
            "generated_at": str(record.get("generated_at") or ""),
            "evidence_hash": str(record.get("evidence_hash") or ""),
            "nodes": {node_id: view for node_id, view in nodes.items() if view is not None}}


def _by_analyst(node: dict) -> dict:
    """A team's snapshot keeps each analyst's numbers beside the pool (jobs/team.py): P(yes) on
    a yes/no question, else their distribution ({state: mean})."""
    numbers: dict[str, float | dict[str, float]] = {}
    for analyst, value in (node.get("by_analyst") or {}).items():
        if isinstance(value, int | float) and not isinstance(value, bool):
            numbers[analyst] = float(value)
        elif isinstance(value, list) and all(isinstance(row, dict) and "state" in row
                                             and isinstance(row.get("mean"), int | float)
                                             for row in value):
            numbers[analyst] = {str(row["state"]): float(row["mean"]) for row in value}
    return {"by_analyst": numbers} if numbers else {}


def read_snapshots(path: Path) -> tuple[list[dict], int]:
    """Snapshots of `history.jsonl` as scoring needs them, in file order, and how many lines
    could not be read.

    Tolerant on purpose (`read_history_tolerant`): scoring reads a history that another
    command writes and may extend; a line that is not a snapshot is counted (and reported)
    rather than failing the score. Bytes that are not UTF-8 are a user error."""
    records, skipped = read_history_tolerant(path, distributions=True)
    return [_scoring_snapshot(record) for record in records], skipped
