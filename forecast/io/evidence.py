"""Evidence and resolutions CSV -> spec objects, and the evidence content hash.

Row numbers are file line numbers (the header is line 1), as a spreadsheet shows them. Every
reader and writer goes through these parsers, so they hold the rules a shared file must keep:
an item id names one item, nothing is dated after today, no text cell is a live spreadsheet
formula, and a resolution is only retracted by an appended row.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import math
import re
from pathlib import Path

from ..errors import ForecastError, fail, one_of
from ..model.spec import OUTCOMES, EvidenceItem, Resolution, Scenario
from .csv_rows import csv_rows
from .problems import Problems
from .text import FORMULA_PREFIXES, read_user_text

EVIDENCE_COLUMNS = ("item_id", "node", "date", "source", "reliability", "credibility", "lr",
                    "cluster", "summary", "url")
# Columns a file may have or lack (README, "Files": files without them stay valid). `quote` is
# the verbatim sentence of the source that the item codes, so a reader can trace it; `state`
# the state of the node the LR is for (empty: yes on a yes/no node, or a vector LR).
OPTIONAL_EVIDENCE_COLUMNS = ("quote", "state")
# The column set new files are written with (`state` is added when a row first needs it).
ALL_EVIDENCE_COLUMNS = EVIDENCE_COLUMNS + ("quote",)
RESOLUTION_COLUMNS = ("node", "outcome", "date", "source")
# A resolutions row with this outcome retracts the node's resolution above it (`forecast
# resolve --undo`): the file stays append-only, so what was once recorded is never lost.
RETRACTED = "retracted"
# Fields every row of one item shares: an item is one report of one source, coded on one or
# more nodes; only lr, cluster and quote may differ from node to node.
ITEM_FIELDS = ("date", "source", "reliability", "credibility", "summary", "url")
# Free-text columns: a cell a spreadsheet would run (see `neutralise`) is refused on reading
# and neutralised by the commands that write (add, import, edit, resolve).
TEXT_COLUMNS = ("source", "summary", "cluster", "quote")


OPTIONAL_EVIDENCE = {"cluster", "url", "quote", "state"}
# `evidence validate` lists at most this many problems of one file.
MAX_LISTED = 500
DATE_PATTERN = re.compile(r"^\d{4}-\d{2}-\d{2}$")
ITEM_ID_PATTERN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.:-]*$")
# A number as a person or a spreadsheet writes it: ASCII digits, optional point and exponent
# (Python's float() would also take "1_000", "infinity" or non-ASCII digits).
NUMBER_PATTERN = re.compile(r"^\+?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$", re.ASCII)


def check_text(row: dict[str, str], columns, path, line) -> None:
    """Refuse a text cell that a spreadsheet would run: the file is meant to be opened in one."""
    for name in columns:
        cell = row.get(name, "")
        if cell.startswith(FORMULA_PREFIXES):
            raise fail(path, line, name, "text a spreadsheet will not run as a formula (no = + "
                       "- @ first; put a ' before it, as `evidence add` and `import` do)", cell)


def check_not_future(day: dt.date, value: str, today: dt.date, path, line, field) -> None:
    if day > today:
        raise fail(path, line, field, f"a date on or before today ({today.isoformat()}): "
                   "nothing can be known yet of a later day", value)


def item_disagreement(first: EvidenceItem, it: EvidenceItem) -> tuple[str, str, str] | None:
    """(field, first's value, it's value) of the first item field in which two rows of one
    item id differ, or None when they agree."""
    for name in ITEM_FIELDS:
        a, b = getattr(first, name), getattr(it, name)
        if a != b:
            return name, str(a), str(b)
    return None


def same_item_error(path, it: EvidenceItem, first: EvidenceItem, where: str):
    """The error for a row whose id names an item described differently at `where`."""
    name, expected, found = item_disagreement(first, it)
    shown = expected if len(expected) <= 40 else expected[:37] + "..."
    return fail(path, it.row, name, f"{shown!r}, the {name} of item {it.item_id} at {where} (one "
                "id names one item: give another item its own id)", found)


def parse_date(value: str, path, line, field) -> dt.date:
    if not DATE_PATTERN.match(value):
        raise fail(path, line, field, "a date YYYY-MM-DD", value)
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        raise fail(path, line, field, "a real calendar date YYYY-MM-DD", value) from None


def parse_lr(value: str, scenario: Scenario, path, line) -> float:
    """A positive number, or a name from the scenario's likelihood-ratio scale."""
    names = scenario.scales.likelihood_ratio
    if value in names:
        return names[value]
    expected = f"a positive number or a scale name ({one_of(names)})"
    if not NUMBER_PATTERN.match(value):
        raise fail(path, line, "lr", expected, value)
    lr = float(value)
    if not math.isfinite(lr) or lr <= 0:
        raise fail(path, line, "lr", expected, value)
    low, high = scenario.scales.lr_bounds
    if not low <= lr <= high:
        raise fail(path, line, "lr", f"a likelihood ratio from {low:g} to {high:g} (one item past "
                   "that pins its node near 0% or 100%; [scales.lr_bounds] widens the range)", value)
    return lr


def parse_lr_vector(value: str, states: tuple[str, ...], scenario: Scenario, path, line
                    ) -> tuple[float, ...]:
    """k positive numbers joined by `:` (one per state, in the node's declared order; only
    their ratios matter), each within the LR bounds relative to the smallest."""
    parts = value.split(":")
    expected = f"{len(states)} positive numbers joined by ':' ({':'.join(states)})"
    if len(parts) != len(states) or not all(NUMBER_PATTERN.match(p.strip()) for p in parts):
        raise fail(path, line, "lr", expected, value)
    numbers = tuple(float(p) for p in parts)
    if not all(math.isfinite(x) and x > 0 for x in numbers):
        raise fail(path, line, "lr", expected, value)
    low, high = scenario.scales.lr_bounds
    if max(numbers) / min(numbers) > high or min(numbers) / max(numbers) < low:
        raise fail(path, line, "lr", f"ratios between states within {low:g} to {high:g} ([scales."
                   "lr_bounds] widens the range)", value)
    return numbers


def parse_state_and_lr(row: dict[str, str], scenario: Scenario, path, line
                       ) -> tuple[str, float, tuple[float, ...]]:
    """(state, lr, lrs) of one evidence row. A binary node: state empty or yes (the LR is for
    yes) or no. A k-state node: a state with a scalar LR, or no state and a vector LR."""
    node = scenario.node(row["node"])
    state = row.get("state", "")
    if node.binary:
        if state not in ("", "yes", "no"):
            raise fail(path, line, "state", f"empty, yes or no (node {node.id} is yes/no)", state)
        if ":" in row["lr"]:
            raise fail(path, line, "lr", "one likelihood ratio (a vector LR is for nodes with more "
                       "than two states)", row["lr"])
        return ("" if state == "yes" else state), parse_lr(row["lr"], scenario, path, line), ()
    if state:
        if state not in node.states:
            raise fail(path, line, "state", f"a state of {node.id} ({', '.join(node.states)})", state)
        if ":" in row["lr"]:
            raise fail(path, line, "lr", f"one likelihood ratio for state {state} (or an empty "
                       "state and a vector LR)", row["lr"])
        return state, parse_lr(row["lr"], scenario, path, line), ()
    if ":" not in row["lr"]:
        raise fail(path, line, "state", f"a state of {node.id} ({', '.join(node.states)}) for a "
                   f"single LR, or a vector LR with {node.card} numbers joined by ':'", "nothing")
    return "", 1.0, parse_lr_vector(row["lr"], node.states, scenario, path, line)


def parse_evidence(text: str, path: Path | str, scenario: Scenario, *,
                   today: dt.date | None = None) -> tuple[EvidenceItem, ...]:
    """The evidence items, or the first problem in the file."""
    problems = Problems()
    items = _evidence(text, Path(path), scenario, today, problems)
    problems.raise_first()
    return items


def parse_evidence_rows(rows, path: Path | str, scenario: Scenario, *,
                        today: dt.date | None = None) -> tuple[EvidenceItem, ...]:
    """Evidence items from (line number, row) pairs as `read_rows` gives them. `today` (the
    real date, by default) is the latest date a row may carry."""
    problems = Problems()
    items = evidence_items(rows, Path(path), scenario, today, problems)
    problems.raise_first()
    return items


def evidence_problems(text: str, path: Path | str, scenario: Scenario) -> list[ForecastError]:
    """Every problem in an evidence CSV (`forecast evidence validate`), by line."""
    return listed(_evidence, text, Path(path), scenario)


def resolution_problems(text: str, path: Path | str, scenario: Scenario) -> list[ForecastError]:
    """Every problem in a resolutions CSV, by line."""
    return listed(_resolutions, text, Path(path), scenario)


def listed(read, text: str, path: Path, scenario: Scenario,
           limit: int = MAX_LISTED) -> list[ForecastError]:
    """The problems `read` notes (a bad row is one problem; the rows after it are read as if it
    were not there), the first `limit` found, by line. A problem with the header ends it."""
    problems = Problems()
    try:
        read(text, path, scenario, None, problems)
    except ForecastError as error:
        problems.note(error)
    return sorted(problems.found[:limit],
                  key=lambda error: error.row if isinstance(error.row, int) else 0)


def _evidence(text: str, path: Path, scenario: Scenario, today: dt.date | None,
              problems: Problems) -> tuple[EvidenceItem, ...]:
    rows = csv_rows(text, path, EVIDENCE_COLUMNS, OPTIONAL_EVIDENCE_COLUMNS, problems)
    return evidence_items(rows, path, scenario, today, problems)


def evidence_items(rows, path: Path, scenario: Scenario, today: dt.date | None,
                   problems: Problems) -> tuple[EvidenceItem, ...]:
    """The items of the rows that read; a row with a problem is noted and counts nowhere (not
    as the first of its id, nor as a taken (item_id, node))."""
    today = today or dt.date.today()
    items: list[EvidenceItem] = []
    seen: dict[tuple[str, str], int] = {}
    first_row: dict[str, EvidenceItem] = {}
    for line, row in rows:
        item = problems.attempt(_item, row, line, path, scenario, today, seen, first_row)
        if item is not None:
            seen[item.item_id, item.node] = line
            first_row.setdefault(item.item_id, item)
            items.append(item)
    return tuple(items)


def _item(row: dict[str, str], line: int, path: Path, scenario: Scenario, today: dt.date,
          seen: dict[tuple[str, str], int], first_row: dict[str, EvidenceItem]) -> EvidenceItem:
    """One row's item, checked against the rows before it (`seen`, `first_row`)."""
    scales = scenario.scales
    for name in EVIDENCE_COLUMNS:
        if name not in OPTIONAL_EVIDENCE and not row[name]:
            raise fail(path, line, name, "a value", "an empty field")
    item_id, node = row["item_id"], row["node"]
    if not ITEM_ID_PATTERN.match(item_id):
        raise fail(path, line, "item_id", "an id of letters, digits, _ . : -", item_id)
    if node not in scenario.node_ids:
        raise fail(path, line, "node", f"a node of {scenario.id} ({one_of(scenario.node_ids)})",
                   node)
    key = (item_id, node)
    if key in seen:
        raise fail(path, line, "item_id", f"a unique (item_id, node) pair (first at line {seen[key]})",
                   f"{item_id}, {node} again")
    if row["reliability"] not in scales.reliability:
        raise fail(path, line, "reliability", f"a grade ({one_of(scales.reliability)})",
                   row["reliability"])
    if row["credibility"] not in scales.credibility:
        raise fail(path, line, "credibility", f"a grade ({one_of(scales.credibility)})",
                   row["credibility"])
    url = row["url"]
    if url and not re.match(r"^https?://\S+$", url):
        raise fail(path, line, "url", "an http(s) URL or nothing", url)
    check_text(row, TEXT_COLUMNS, path, line)
    date = parse_date(row["date"], path, line, "date")
    check_not_future(date, row["date"], today, path, line, "date")
    state, lr, lrs = parse_state_and_lr(row, scenario, path, line)
    item = EvidenceItem(
        item_id=item_id,
        node=node,
        date=date,
        source=row["source"],
        reliability=row["reliability"],
        credibility=row["credibility"],
        lr=lr,
        lr_text=row["lr"],
        cluster=row["cluster"],
        summary=row["summary"],
        url=url,
        weight=scales.grading_weight(row["reliability"], row["credibility"]),
        row=line,
        quote=row.get("quote", ""),
        state=state,
        lrs=lrs,
    )
    first = first_row.get(item_id, item)
    if item_disagreement(first, item):
        raise same_item_error(path, item, first, f"line {first.row}")
    return item


def parse_resolutions(text: str, path: Path | str, scenario: Scenario, *,
                      today: dt.date | None = None) -> tuple[Resolution, ...]:
    """The resolutions in force: each node's last resolution row, unless a `retracted` row
    follows it (`forecast resolve --undo`). A node is resolved once until retracted, and a
    retraction needs a resolution to retract; nothing is dated after `today` (the real date,
    by default). A retracted resolution counts nowhere, not even in replays: it was a mistake."""
    problems = Problems()
    resolutions = _resolutions(text, Path(path), scenario, today, problems)
    problems.raise_first()
    return resolutions


def _resolutions(text: str, path: Path, scenario: Scenario, today: dt.date | None,
                 problems: Problems) -> tuple[Resolution, ...]:
    today = today or dt.date.today()
    current: dict[str, Resolution] = {}
    for line, row in csv_rows(text, path, RESOLUTION_COLUMNS, (), problems):
        resolution = problems.attempt(_resolution, row, line, path, scenario, today, current)
        if resolution == RETRACTED:
            del current[row["node"]]
        elif resolution is not None:
            current[resolution.node] = resolution
    return tuple(sorted(current.values(), key=lambda r: r.row))


def _resolution(row: dict[str, str], line: int, path: Path, scenario: Scenario, today: dt.date,
                current: dict[str, Resolution]) -> Resolution | str:
    """One row's resolution, or RETRACTED for a retraction of the node's resolution in force."""
    for name in RESOLUTION_COLUMNS:
        if not row[name]:
            raise fail(path, line, name, "a value", "an empty field")
    node = row["node"]
    if node not in scenario.node_ids:
        raise fail(path, line, "node", f"a node of {scenario.id} ({one_of(scenario.node_ids)})",
                   node)
    outcome = row["outcome"].lower()
    check_text(row, ("source",), path, line)
    states = scenario.node(node).states
    if outcome != RETRACTED:
        if scenario.node(node).binary:
            if outcome not in OUTCOMES:
                raise fail(path, line, "outcome", "yes or no", row["outcome"])
            outcome = OUTCOMES[outcome]
        elif outcome not in states:
            raise fail(path, line, "outcome", f"a state of {node} ({', '.join(states)}) or "
                       f"{RETRACTED}", row["outcome"])
    date = parse_date(row["date"], path, line, "date")
    check_not_future(date, row["date"], today, path, line, "date")
    if outcome == RETRACTED:
        if node not in current:
            raise fail(path, line, "outcome", f"a resolution of {node} above to retract",
                       RETRACTED)
        return RETRACTED
    if node in current:
        raise fail(path, line, "node", f"one resolution per node (first at line "
                   f"{current[node].row}); `forecast resolve --undo {node}` retracts that one",
                   node)
    opens = scenario.node(node).opens
    if date < opens:
        raise fail(path, line, "date", f"a date on or after the node opens ({opens})", row["date"])
    return Resolution(node, outcome, date, row["source"], line)


def load_evidence(path: Path, scenario: Scenario, *,
                  today: dt.date | None = None) -> tuple[EvidenceItem, ...]:
    return parse_evidence(read_user_text(path, "an evidence CSV"), path, scenario, today=today)


def load_resolutions(path: Path, scenario: Scenario, *,
                     today: dt.date | None = None) -> tuple[Resolution, ...]:
    """Resolutions are optional: no file means nothing has resolved yet."""
    if not path.exists():
        return ()
    return parse_resolutions(read_user_text(path, "a resolutions CSV"), path, scenario,
                             today=today)


def _canonical(text: str) -> str:
    return " ".join(text.split())


def evidence_hash(items, resolutions=()) -> str:
    """Content hash of the evidence and resolutions: independent of row order and of
    whitespace, changed by any change of content. An empty quote adds nothing, so a file
    without the quote column hashes as it did before the column existed."""
    rows = sorted(
        [
            ["e", it.item_id, it.node, it.date.isoformat(), _canonical(it.source), it.reliability,
             it.credibility, repr(it.lr), _canonical(it.cluster), _canonical(it.summary),
             it.url] + ([_canonical(it.quote)] if it.quote else [])
            + ([it.state] if it.state else []) + ([repr(x) for x in it.lrs] if it.lrs else [])
            for it in items
        ]
        + [["r", r.node, r.state, r.date.isoformat(), _canonical(r.source)]
           for r in resolutions]
    )
    blob = json.dumps(rows, ensure_ascii=False, separators=(",", ":"))
    return "sha256:" + hashlib.sha256(blob.encode("utf-8")).hexdigest()
