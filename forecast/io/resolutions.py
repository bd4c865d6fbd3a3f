"""Files behind the track record: recording a resolution and reading forecast snapshots for
scoring.

The resolutions CSV is changed by read-modify-write under its lock: the new text is built
from what is on disk now and checked whole by the scenario-aware parser before it is renamed
into place, so a bad row leaves the file as it was and concurrent writers lose nothing.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
from pathlib import Path

from ..model.spec import Resolution, Scenario
from .atomic import atomic_write_bytes, file_lock
from .evidence import RESOLUTION_COLUMNS, parse_resolutions
from .history import read_history_tolerant
from .text import encode_like, line_ending, read_user_text

RESOLUTIONS_HEADER = ",".join(RESOLUTION_COLUMNS) + "\n"


def _header(text: str) -> list[str]:
    first = next(csv.reader(io.StringIO(text, newline="")), None)
    return [name.strip() for name in first] if first else list(RESOLUTION_COLUMNS)


def _append_row(text: str, row: dict[str, str]) -> str:
    """`text` unchanged byte for byte, then one row in its column order and line ending."""
    newline = line_ending(text)
    if text and not text.endswith(("\n", "\r")):
        text += newline
    buffer = io.StringIO(newline="")
    csv.writer(buffer, lineterminator=newline).writerow([row.get(c, "") for c in _header(text)])
    return text + buffer.getvalue()


def record_resolution(path: Path, shown: str, scenario: Scenario, node: str, outcome: str,
                      date: str, source: str) -> Resolution:
    """Append one resolution; the whole resulting file must parse, or nothing is written."""
    with file_lock(path):
        text = read_user_text(path, "a resolutions CSV") if path.exists() else ""
        if not text.strip():
            text = RESOLUTIONS_HEADER
        new_text = _append_row(text, {"node": node, "outcome": outcome.strip().lower(), "date": date,
                                      "source": source})
        resolutions = parse_resolutions(new_text, shown, scenario)
        atomic_write_bytes(path, encode_like(path, new_text))
    return next(r for r in resolutions if r.node == node)


def _scoring_snapshot(record: dict) -> dict:
    """What scoring needs of one snapshot: as_of, per-node mean and resolved state."""
    return {"as_of": dt.date.fromisoformat(str(record["as_of"])),
            "generated_at": str(record.get("generated_at") or ""),
            "evidence_hash": str(record.get("evidence_hash") or ""),
            "nodes": {node["id"]: {"mean": float(node["mean"]), "resolved": node.get("resolved")}
                      for node in record["nodes"]}}


def read_snapshots(path: Path) -> tuple[list[dict], int]:
    """Snapshots of `history.jsonl` as scoring needs them, in file order, and how many lines
    could not be read.

    Tolerant on purpose (`read_history_tolerant`): scoring reads a history that another
    command writes and may extend; a line that is not a snapshot is counted (and reported)
    rather than failing the score. Bytes that are not UTF-8 are a user error."""
    records, skipped = read_history_tolerant(path)
    return [_scoring_snapshot(record) for record in records], skipped
