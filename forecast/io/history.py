"""The forecast history: `reports/<scenario>/history.jsonl`, one snapshot per line.

Append-only: a snapshot is added under the file's lock and earlier lines are never changed.
The append itself is atomic (the old bytes plus the new line go to a temporary that is renamed
over the file): a process killed mid-append leaves the history as it was, never a torn line,
which a plain O_APPEND write cannot promise once the kernel returns a short write.
This module owns reading it. `read_history` (for `forecast update`, which appends) validates
every line; a damaged line (a torn write, a hand edit) is a user error naming the file, the
line and the field, never silently skipped. `read_history_tolerant` (for readers that only
draw or score the history) skips and counts the lines that are not snapshots instead.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable
from pathlib import Path

from ..errors import ForecastError, fail, problem
from .atomic import atomic_write_bytes, file_lock
from .text import is_finite_number, read_user_text

TOP_FIELDS: dict[str, type | tuple[type, ...]] = {
    "scenario": str, "as_of": str, "generated_at": str, "model_version": str,
    "evidence_hash": str, "seed": int, "versions": dict, "engine": str, "diagnostics": dict,
    "nodes": list, "items": dict, "influence": dict,
}
TYPE_NAMES = {str: "a string", int: "an integer", dict: "an object", list: "a list"}


def is_probability(value) -> bool:
    return is_finite_number(value) and 0 <= value <= 1


def check_snapshot(snapshot, shown: str, line: int) -> dict:
    """The snapshot if every field the history's readers rely on is there and well formed."""
    if not isinstance(snapshot, dict):
        raise problem(shown, line, "snapshot",
                      f"expected a JSON object, found a JSON {type(snapshot).__name__}")
    for name, kind in TOP_FIELDS.items():
        if name not in snapshot:
            raise problem(shown, line, name, "missing (every snapshot has this field)")
        value = snapshot[name]
        if not isinstance(value, kind) or isinstance(value, bool):
            raise fail(shown, line, name, TYPE_NAMES[kind], value)
    for index, node in enumerate(snapshot["nodes"]):
        where = f"nodes[{index}]"
        if not isinstance(node, dict):
            raise fail(shown, line, where, "an object", node)
        if not isinstance(node.get("id"), str):
            raise fail(shown, line, f"{where}.id", "a node id", node.get("id"))
        where = f"nodes[{node['id']}]"
        if node.get("mean") is None and "distribution" in node:
            _check_distribution(node, shown, line, where)
            continue
        if not is_probability(node.get("mean")):
            raise fail(shown, line, f"{where}.mean", "a probability in [0, 1]", node.get("mean"))
        bounds = node.get("interval")
        if not (isinstance(bounds, list) and len(bounds) == 2 and all(map(is_probability, bounds))
                and bounds[0] <= bounds[1]):
            raise fail(shown, line, f"{where}.interval", "[low, high] with 0 <= low <= high <= 1",
                       bounds)
        if not is_probability(node.get("interval_prob")):
            raise fail(shown, line, f"{where}.interval_prob", "a probability",
                       node.get("interval_prob"))
        if node.get("resolved", None) not in (None, "yes", "no"):
            raise fail(shown, line, f"{where}.resolved", "null, yes or no", node.get("resolved"))
    for item_id, digest in snapshot["items"].items():
        if not isinstance(digest, str):
            raise fail(shown, line, f"items[{item_id}]", "a content hash", digest)
    for item_id, effects in snapshot["influence"].items():
        if not isinstance(effects, dict) or not all(map(is_finite_number, effects.values())):
            raise fail(shown, line, f"influence[{item_id}]", "{node: effect in pp}", effects)
    return snapshot


def _check_distribution(node: dict, shown: str, line: int, where: str) -> None:
    """A question with more than two outcomes: each state's mean and interval."""
    rows = node["distribution"]
    if not isinstance(rows, list) or len(rows) < 2:
        raise fail(shown, line, f"{where}.distribution", "a list of states", rows)
    for row in rows:
        bounds = row.get("interval") if isinstance(row, dict) else None
        if not (isinstance(row, dict) and isinstance(row.get("state"), str)
                and is_probability(row.get("mean")) and isinstance(bounds, list)
                and len(bounds) == 2 and all(map(is_probability, bounds))):
            raise fail(shown, line, f"{where}.distribution", "{state, mean, interval} per state", row)
    if node.get("resolved") is not None and node["resolved"] not in [r["state"] for r in rows]:
        raise fail(shown, line, f"{where}.resolved", "null or one of its states", node["resolved"])


def read_history(path: Path, shown: str | None = None) -> list[dict]:
    """Every snapshot in order; no file means no history yet."""
    shown = shown or str(path)
    if not path.exists():
        return []
    text = read_user_text(path, "a history file")
    snapshots = []
    lines = text.split("\n")
    if lines and lines[-1] == "":
        lines.pop()
    for number, raw in enumerate(lines, start=1):
        if not raw.strip():
            raise fail(shown, number, "snapshot", "one JSON snapshot per line", "an empty line")
        try:
            snapshot = json.loads(raw)
        except json.JSONDecodeError as e:
            where = "last line, " if number == len(lines) else ""
            raise problem(shown, number, "json",
                          f"not a complete JSON snapshot ({where}{e.msg} at column {e.colno}); the "
                          "history is append-only: repair or remove this line by hand") from None
        snapshots.append(check_snapshot(snapshot, shown, number))
    return snapshots


def _tolerant_snapshot(record, distributions: bool = False) -> dict | None:
    """`record` with only its well-formed nodes (an id and a mean in [0, 1], or with
    `distributions` also a question of more outcomes: a null mean and each state's mean in
    [0, 1]), or None if it lacks what every tolerant reader needs: an object with an ISO
    `as_of` and a `nodes` list."""
    if not isinstance(record, dict) or not isinstance(record.get("nodes"), list):
        return None
    try:
        dt.date.fromisoformat(str(record.get("as_of")))
    except ValueError:
        return None
    nodes = [node for node in record["nodes"]
             if isinstance(node, dict) and isinstance(node.get("id"), str)
             and (is_probability(node.get("mean")) or (distributions and _has_distribution(node)))]
    return {**record, "nodes": nodes}


def _has_distribution(node: dict) -> bool:
    rows = node.get("distribution")
    return (node.get("mean") is None and isinstance(rows, list) and len(rows) >= 2
            and all(isinstance(row, dict) and isinstance(row.get("state"), str)
                    and is_probability(row.get("mean")) for row in rows))


def _tolerant_text(path: Path, replace_undecodable: bool) -> str | None:
    """The history's text, or None when there is no history file."""
    if replace_undecodable:
        try:
            return path.read_text(encoding="utf-8", errors="replace")
        except (FileNotFoundError, IsADirectoryError, NotADirectoryError):
            return None
    if not path.is_file():
        return None
    return read_user_text(path, "a history file")


def read_history_tolerant(path: Path, replace_undecodable: bool = False,
                          distributions: bool = False) -> tuple[list[dict], int]:
    """Snapshots in file order (see `_tolerant_snapshot`), and how many non-blank lines were
    not snapshots (a torn last line, a future format): counted and skipped, not an error.
    `distributions`: keep the nodes of questions with more outcomes too (scoring reads them).

    Bytes that are not UTF-8 are a user error, unless `replace_undecodable` (then they read
    as U+FFFD, for readers that only draw the history). No file means no history yet."""
    text = _tolerant_text(path, replace_undecodable)
    if text is None:
        return [], 0
    snapshots, skipped = [], 0
    for line in text.splitlines():
        if not line.strip():
            continue
        try:
            snapshot = _tolerant_snapshot(json.loads(line), distributions)
        except ValueError:
            snapshot = None
        if snapshot is None:
            skipped += 1
        else:
            snapshots.append(snapshot)
    return snapshots, skipped


def snapshot_line(snapshot: dict) -> str:
    return json.dumps(snapshot, ensure_ascii=False, separators=(",", ":"), allow_nan=False) + "\n"


def append_snapshot(path: Path, snapshot: dict, shown: str | None = None,
                    should_append: Callable[[list[dict]], bool] = lambda history: True,
                    ) -> tuple[bool, list[dict]]:
    """Append `snapshot` as one line, under the lock, if `should_append(history as it is now)`.

    Returns (appended?, the history before the append). The existing history is validated
    first, so nothing is ever appended after a damaged line."""
    shown = shown or str(path)
    line = snapshot_line(snapshot)
    check_snapshot(json.loads(line), shown, "new")
    with file_lock(path):
        history = read_history(path, shown)
        if not should_append(history):
            return False, history
        old = path.read_bytes() if path.exists() else b""
        if old and not old.endswith(b"\n"):
            old += b"\n"
        atomic_write_bytes(path, old + line.encode("utf-8"))
        return True, history



def write_shown(path: Path, snapshot: dict) -> None:
    """Keep, atomically, the snapshot of the forecast a report last showed (not a line of the
    history: a report does not add to it), so the next `update` can say what moved since."""
    line = snapshot_line(snapshot)
    check_snapshot(json.loads(line), str(path), None)
    atomic_write_bytes(path, line.encode("utf-8"))


def read_shown(path: Path) -> dict | None:
    """The snapshot `write_shown` kept, or None: absent, or not a snapshot (it is derived from
    a report that can be made again, so a damaged copy is ignored, not an error)."""
    try:
        return check_snapshot(json.loads(path.read_text(encoding="utf-8")), str(path), None)
    except (OSError, ValueError, ForecastError):
        return None
