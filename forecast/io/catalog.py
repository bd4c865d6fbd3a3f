"""The scenarios under a project root: which exist, their forecast history as charts need it,
and creating a new scenario's files without ever overwriting one."""

from __future__ import annotations

import datetime as dt
import json
import math
import re
from pathlib import Path

from ..errors import problem
from .atomic import atomic_write_many, file_lock
from .evidence import EVIDENCE_COLUMNS, RESOLUTION_COLUMNS
from .project import SCENARIO_ID_PATTERN, ScenarioPaths


def scenario_ids(root: Path) -> list[str]:
    """Ids of the scenario files in `root/priors`, sorted; files whose name is not a valid
    scenario id are not scenarios and are left out."""
    folder = root / "priors"
    if not folder.is_dir():
        return []
    return sorted(p.stem for p in folder.glob("*.toml")
                  if p.is_file() and re.match(SCENARIO_ID_PATTERN, p.stem))


def _probability(value) -> bool:
    return (not isinstance(value, bool) and isinstance(value, int | float) and math.isfinite(value)
            and 0 <= value <= 1)


def _snapshot(record) -> dict | None:
    """The part of one history line the report draws, or None if the line lacks it."""
    if not isinstance(record, dict) or not isinstance(record.get("nodes"), list):
        return None
    try:
        as_of = dt.date.fromisoformat(str(record.get("as_of")))
    except ValueError:
        return None
    nodes = []
    for node in record["nodes"]:
        if not isinstance(node, dict) or not isinstance(node.get("id"), str):
            continue
        if not _probability(node.get("mean")):
            continue
        interval = node.get("interval")
        if not (isinstance(interval, list) and len(interval) == 2 and all(map(_probability, interval))):
            interval = None
        nodes.append({"id": node["id"], "mean": float(node["mean"]),
                      "interval": [float(b) for b in interval] if interval else None})
    if not nodes:
        return None
    return {"as_of": as_of.isoformat(), "generated_at": str(record.get("generated_at") or ""),
            "evidence_hash": str(record.get("evidence_hash") or ""), "nodes": nodes}


def read_history(path: Path) -> tuple[list[dict], int]:
    """Snapshots of `history.jsonl` in file order, and how many lines were unreadable.

    Read tolerantly: the history is for display here, so a line that is not a snapshot (a
    torn last line, a future format) is counted and skipped rather than failing the report.
    No file means no history yet."""
    try:
        text = path.read_text(encoding="utf-8", errors="replace")
    except (FileNotFoundError, IsADirectoryError, NotADirectoryError):
        return [], 0
    snapshots, skipped = [], 0
    for line in text.splitlines():
        if not line.strip():
            continue
        try:
            snapshot = _snapshot(json.loads(line))
        except ValueError:
            snapshot = None
        if snapshot is None:
            skipped += 1
        else:
            snapshots.append(snapshot)
    return snapshots, skipped


def csv_header(columns: tuple[str, ...]) -> str:
    return ",".join(columns) + "\n"


def create_scenario_files(paths: ScenarioPaths, scenario_toml: str) -> list[Path]:
    """Write the scenario TOML and header-only evidence and resolutions CSVs, all or none.
    Refuses (a user error, nothing written) if any of the three already exists."""
    files = {
        paths.priors: scenario_toml,
        paths.evidence: csv_header(EVIDENCE_COLUMNS),
        paths.resolutions: csv_header(RESOLUTION_COLUMNS),
    }
    _refuse_existing(paths, files)
    with file_lock(paths.priors):
        _refuse_existing(paths, files)      # again, under the lock: another `new` may have won
        atomic_write_many(files)
    return list(files)


def _refuse_existing(paths: ScenarioPaths, files) -> None:
    for path in files:
        if path.exists():
            raise problem(paths.display(path), None, None,
                          f"already exists: scenario '{paths.scenario_id}' is taken "
                          "(choose another id); nothing written")
