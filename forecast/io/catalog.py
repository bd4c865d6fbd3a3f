"""The scenarios under a project root: which exist, their forecast history as charts need it,
and creating a new scenario's files without ever overwriting one."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import TYPE_CHECKING

from ..errors import problem
from .atomic import atomic_write_many, file_lock
from .csv_rows import csv_header
from .evidence import ALL_EVIDENCE_COLUMNS, RESOLUTION_COLUMNS
from .history import is_probability, read_history_tolerant
from .project import ScenarioPaths, default_scenario, scenario_ids

if TYPE_CHECKING:
    from ..analysis.report_document import HistoryEntry, HistoryNode


def chosen_scenarios(root: Path, scenario: str | None, every: bool) -> list[str]:
    """The scenario ids a command over one scenario or `--all` works on: every scenario under
    the root (a user error if there is none), or just `scenario` (else the default one)."""
    if not every:
        return [scenario or default_scenario(root)]
    ids = scenario_ids(root)
    if not ids:
        raise problem(root / "priors", None, None,
                      "no scenarios found (expected priors/<id>.toml files)")
    return ids


def _chart_snapshot(record: dict) -> HistoryEntry | None:
    """The part of one snapshot the report draws, or None if it has no node to draw."""
    if not record["nodes"]:
        return None
    nodes: list[HistoryNode] = []
    for node in record["nodes"]:
        if node.get("mean") is None:
            # a question of more outcomes: each state's forecast (read_history_tolerant checked
            # that every state has a name and a mean in [0, 1])
            nodes.append({"id": node["id"], "mean": None, "interval": None, "distribution": [
                {"state": row["state"], "mean": float(row["mean"]), "interval": _interval(row)}
                for row in node["distribution"]]})
            continue
        nodes.append({"id": node["id"], "mean": float(node["mean"]), "interval": _interval(node)})
    return {"as_of": dt.date.fromisoformat(str(record["as_of"])).isoformat(),
            "generated_at": str(record.get("generated_at") or ""),
            "evidence_hash": str(record.get("evidence_hash") or ""), "nodes": nodes}


def _interval(entry: dict) -> list[float] | None:
    """An entry's interval as two probabilities, or None where it has no readable one."""
    interval = entry.get("interval")
    if not (isinstance(interval, list) and len(interval) == 2 and all(map(is_probability, interval))):
        return None
    return [float(b) for b in interval]


def read_chart_history(path: Path) -> tuple[list[HistoryEntry], int]:
    """Snapshots of `history.jsonl` as charts need them, in file order, and how many lines
    were unreadable.

    Read tolerantly (`read_history_tolerant`): the history is for display here, so a line that
    is not a snapshot, or has no node to draw, is counted and skipped rather than failing the
    report; undecodable bytes read as U+FFFD. No file means no history yet."""
    records, skipped = read_history_tolerant(path, replace_undecodable=True, distributions=True)
    snapshots = []
    for record in records:
        snapshot = _chart_snapshot(record)
        if snapshot is None:
            skipped += 1
        else:
            snapshots.append(snapshot)
    return snapshots, skipped


def create_scenario_files(paths: ScenarioPaths, scenario_toml: str) -> list[Path]:
    """Write the scenario TOML and header-only evidence and resolutions CSVs, all or none.
    Refuses (a user error, nothing written) if any of the three already exists."""
    files = {
        paths.priors: scenario_toml,
        paths.evidence: csv_header(ALL_EVIDENCE_COLUMNS),
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
