"""The evidence jobs: add one item, import a CSV, remove or edit an item, list with filters
(`evidence validate` is jobs/validate.py). The rows an add or import writes, and their ids, are
built by io/evidence_rows.py.

Every write goes through `io.evidence_store.change_evidence`: the whole resulting file is
checked with the same parser `forecast report` uses before anything is renamed into place, so
a bad value is one located error and every file stays as it was. Nothing here prints.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from ..errors import fail
from ..io.csv_rows import read_rows
from ..io.evidence import (
    EVIDENCE_COLUMNS,
    ITEM_FIELDS,
    OPTIONAL_EVIDENCE_COLUMNS,
    item_disagreement,
    load_evidence,
    load_resolutions,
    parse_date,
    parse_evidence,
    parse_evidence_rows,
    same_item_error,
)
from ..io.evidence_rows import (
    NewItem,
    check_state_option,
    item_rows,
    neutralised,
    neutralised_note,
    next_item_id,
    per_node,
    with_item_ids,
)
from ..io.evidence_store import (
    change_evidence,
    edit_records,
    header_of,
    with_columns,
    with_rows_appended,
)
from ..io.project import ScenarioPaths, load_scenario_of
from ..io.text import line_ending, read_user_text
from ..model.spec import EvidenceItem, Resolution, Scenario

GRADE_PATTERN = re.compile(r"^([A-Za-z])([0-9])?$")


@dataclass(frozen=True)
class Written:
    """What an add or import put into the evidence file."""

    path: str
    item_ids: tuple[str, ...]
    rows: tuple[EvidenceItem, ...]
    notes: tuple[str, ...] = ()       # what the analyst should know: cells neutralised, ...


def resolved_refusals(items, resolutions: tuple[Resolution, ...], where) -> tuple[str, ...]:
    """Evidence on a resolved node: an item dated on or after the resolution is refused (the
    question is settled; the item would move nothing), one dated before it is kept (replays
    and backtests before that date use it) with a note. `where(item)` locates an item."""
    resolved = {r.node: r for r in resolutions}
    notes = []
    for it in items:
        r = resolved.get(it.node)
        if r is None:
            continue
        outcome = r.state
        if it.date >= r.date:
            path, row = where(it)
            raise fail(path, row, "node", f"a node not yet resolved on {it.date.isoformat()} "
                       f"({it.node} resolved {outcome} on {r.date.isoformat()}; date the item "
                       f"before that, or retract with `forecast resolve --undo {it.node}`)",
                       it.node)
        notes.append(f"{it.item_id} on {it.node} counts only in replays before "
                     f"{r.date.isoformat()}: {it.node} resolved {outcome} then.")
    return tuple(notes)


def add_item(paths: ScenarioPaths, new: NewItem, today: dt.date | None = None) -> Written:
    """Append one item (one row per node) to the scenario's evidence, or change nothing. Text
    a spreadsheet would run is neutralised; an item on a node resolved by its date is refused."""
    scenario = load_scenario_of(paths)
    shown = paths.display(paths.evidence)
    if not new.nodes:
        raise fail("--node", None, "node", "at least one --node", "none")
    today = today or dt.date.today()
    resolutions = load_resolutions(paths.resolutions, scenario, today=today)
    added: list[Written] = []

    def change(text: str) -> str:
        existing = parse_evidence(text, shown, scenario, today=today)
        item_id = new.item_id or next_item_id(existing)
        rows = item_rows(new, item_id, today, scenario)
        rows, cells = neutralised(rows, [item_id] * len(rows))
        new_text = with_rows_appended(text, rows)
        items = parse_evidence(new_text, shown, scenario, today=today)[len(existing):]
        notes = resolved_refusals(items, resolutions, lambda it: (shown, it.row))
        added.append(Written(shown, (item_id,), items, neutralised_note(cells) + notes))
        return new_text

    change_evidence(paths.evidence, change)
    return added[-1]


def import_items(paths: ScenarioPaths, source: Path, today: dt.date | None = None) -> Written:
    """Append every row of `source`, all or nothing. Problems in the import file name the import
    file and its line; so does an (item_id, node) already in the evidence, an id the evidence
    gives to an item with another date, source, grade, summary or url, and an item on a node
    resolved by its date. Text a spreadsheet would run is neutralised."""
    scenario = load_scenario_of(paths)
    shown_source = str(source)
    text = read_user_text(source, "an evidence CSV to import")
    read = read_rows(text, Path(shown_source), EVIDENCE_COLUMNS, OPTIONAL_EVIDENCE_COLUMNS)
    safe, cells = neutralised([row for _line, row in read],
                              [f"{shown_source}:{line}" for line, _row in read])
    lines_rows = [(line, row) for (line, _row), row in zip(read, safe, strict=True)]
    shown = paths.display(paths.evidence)
    today = today or dt.date.today()
    resolutions = load_resolutions(paths.resolutions, scenario, today=today)
    imported: list[Written] = []

    def change(current: str) -> str:
        existing = parse_evidence(current, shown, scenario, today=today)
        filled = with_item_ids(lines_rows, [it.item_id for it in existing])
        incoming = parse_evidence_rows(filled, shown_source, scenario, today=today)
        raw_rows = [row for _line, row in filled]
        at = {(it.item_id, it.node): it.row for it in existing}
        first = {}
        for it in existing:
            first.setdefault(it.item_id, it)
        for it in incoming:
            if (it.item_id, it.node) in at:
                raise fail(shown_source, it.row, "item_id",
                           f"an (item_id, node) pair not yet in {shown} (it is at line "
                           f"{at[it.item_id, it.node]})", f"{it.item_id}, {it.node}")
            if it.item_id in first and item_disagreement(first[it.item_id], it):
                raise same_item_error(shown_source, it, first[it.item_id],
                                      f"{shown}:{first[it.item_id].row}")
        notes = resolved_refusals(incoming, resolutions, lambda it: (shown_source, it.row))
        new_text = with_rows_appended(current, raw_rows) if raw_rows else current
        items = parse_evidence(new_text, shown, scenario, today=today)
        ids = tuple(dict.fromkeys(it.item_id for it in incoming))
        imported.append(Written(shown, ids, items[len(existing):],
                                neutralised_note(cells) + notes))
        return new_text

    change_evidence(paths.evidence, change)
    return imported[-1]


@dataclass(frozen=True)
class Edit:
    """What `evidence edit` changes in an item's rows. Empty text (or None for the columns that
    may be blank: cluster, url, quote) leaves a field as it is; `lrs` is one LR for every row
    changed, or one per --node in the same order; so is `states` (the state each row's LR is
    for; "" clears it, as a vector LR needs)."""

    lrs: tuple[str, ...] = ()
    states: tuple[str, ...] = ()
    source: str = ""
    reliability: str = ""
    credibility: str = ""
    summary: str = ""
    date: str = ""
    cluster: str | None = None
    url: str | None = None
    quote: str | None = None

    def fields(self) -> dict[str, str]:
        """The columns this edit sets, other than `lr` (its value depends on the row's node)."""
        given = {"source": self.source, "reliability": self.reliability.upper(),
                 "credibility": self.credibility, "summary": self.summary, "date": self.date}
        out = {name: value for name, value in given.items() if value}
        out.update({name: value for name, value in (("cluster", self.cluster), ("url", self.url),
                                                    ("quote", self.quote)) if value is not None})
        return out


@dataclass(frozen=True)
class Changed:
    """What a remove or an edit did to one item: the nodes whose rows it touched, and (for an
    edit) those rows as they are now."""

    path: str
    item_id: str
    nodes: tuple[str, ...]
    rows: tuple[EvidenceItem, ...] = ()
    notes: tuple[str, ...] = ()


def _item_nodes(text: str, item_id: str, nodes: tuple[str, ...], shown: str) -> tuple[str, ...]:
    """The nodes an edit or removal touches: `nodes`, each of which the item must bear on, or
    every node it bears on. An unknown item or node is a one-line error."""
    _same, rows = edit_records(text, lambda row: row.get("item_id") == item_id, lambda row: row)
    bears = tuple(row.get("node", "") for row in rows)
    if not bears:
        raise fail(shown, None, "item_id", "the id of an item in the file", item_id)
    for node in nodes:
        if node not in bears:
            raise fail("--node", None, "node", f"a node {item_id} bears on (one of "
                       f"{', '.join(sorted(bears))})", node)
    return tuple(dict.fromkeys(nodes)) or bears


def remove_item(paths: ScenarioPaths, item_id: str, nodes: tuple[str, ...] = ()) -> Changed:
    """Delete an item's rows (or only its rows on `nodes`). The whole resulting file must
    parse, under the same lock as `add`; every other row stays byte for byte."""
    scenario = load_scenario_of(paths)
    shown = paths.display(paths.evidence)
    done: list[Changed] = []

    def change(text: str) -> str:
        targets = _item_nodes(text, item_id, nodes, shown)
        new_text, _rows = edit_records(
            text, lambda row: row.get("item_id") == item_id and row.get("node") in targets,
            lambda row: None)
        parse_evidence(new_text, shown, scenario)
        done.append(Changed(shown, item_id, targets))
        return new_text

    change_evidence(paths.evidence, change)
    return done[-1]


def edit_item(paths: ScenarioPaths, item_id: str, edit: Edit, nodes: tuple[str, ...] = (),
              today: dt.date | None = None) -> Changed:
    """Change fields of an item's rows (or only of its rows on `nodes`), checked like `add`.
    The fields every row of an item shares (date, source, grade, summary, url) change on all
    its rows or not at all."""
    scenario = load_scenario_of(paths)
    shown = paths.display(paths.evidence)
    fields, cells = neutralised([edit.fields()], [item_id])
    fields = fields[0]
    if not fields and not edit.lrs and not edit.states:
        raise fail("evidence edit", None, None, "at least one field to change (--lr, --state, --source, "
                   "--reliability, --credibility, --summary, --date, --cluster, --url, --quote)",
                   "none")
    today = today or dt.date.today()
    resolutions = load_resolutions(paths.resolutions, scenario, today=today)
    done: list[Changed] = []

    def change(text: str) -> str:
        targets = _item_nodes(text, item_id, nodes, shown)
        shared = [name for name in ITEM_FIELDS if name in fields]
        if shared and set(targets) != set(_item_nodes(text, item_id, (), shown)):
            raise fail("--node", None, "node", f"no --node with --{shared[0]} (an item's date, "
                       "source, grade, summary and url are shared by all its rows)",
                       ", ".join(targets))
        if len(edit.lrs) not in (0, 1, len(targets)):
            raise fail("--lr", None, "lr", f"one --lr for every row, or one per --node "
                       f"({len(targets)}: {', '.join(targets)})", len(edit.lrs))
        lrs = dict(zip(targets, edit.lrs * len(targets) if len(edit.lrs) == 1 else edit.lrs,
                       strict=False))
        states = dict(zip(targets, per_node(edit.states, targets, "--state"), strict=True)
                      ) if edit.states else {}
        for node, state in states.items():
            check_state_option(scenario, node, state)
        # a vector LR bears on every state: it clears the row's state unless one is given
        states.update({node: "" for node, lr in lrs.items() if ":" in lr and node not in states})
        missing = [name for name, wanted in (("quote", fields.get("quote")),
                                             ("state", any(states.values())))
                   if wanted and name not in header_of(text)]
        if missing:
            text = with_columns(text, missing, line_ending(text))

        def replace(row: dict[str, str]) -> dict[str, str]:
            lr = {"lr": lrs[row["node"]]} if row["node"] in lrs else {}
            state = {"state": states[row["node"]]} if row["node"] in states else {}
            return {**row, **fields, **lr, **state}

        new_text, _rows = edit_records(
            text, lambda row: row.get("item_id") == item_id and row.get("node") in targets, replace)
        items = parse_evidence(new_text, shown, scenario, today=today)
        rows = tuple(it for it in items if it.item_id == item_id and it.node in targets)
        notes = resolved_refusals(rows, resolutions, lambda it: (shown, it.row))
        done.append(Changed(shown, item_id, targets, rows, neutralised_note(cells) + notes))
        return new_text

    change_evidence(paths.evidence, change)
    return done[-1]


@dataclass(frozen=True)
class EvidenceFilter:
    """Which rows `evidence list` shows; empty fields do not filter."""

    nodes: tuple[str, ...] = ()
    clusters: tuple[str, ...] = ()
    since: str = ""
    until: str = ""
    grade: str = ""
    states: tuple[str, ...] = ()


def row_state(it: EvidenceItem, scenario: Scenario) -> str:
    """The state a row's LR is for, as a filter and an export name it: `yes` for an empty
    state on a yes/no node, "" for a vector LR (it bears on every state)."""
    if it.state or it.lrs:
        return it.state
    return "yes" if scenario.node(it.node).binary else ""


def _state_test(states: tuple[str, ...], scenario: Scenario,
                nodes: tuple[str, ...]) -> Callable[[EvidenceItem], bool]:
    """Rows coded on one of `states`; each must be a state of a listed node (of any node,
    with no --node filter)."""
    among = [scenario.node(n) for n in nodes] if nodes else list(scenario.nodes)
    known = list(dict.fromkeys(s for node in among for s in node.states))
    for state in states:
        if state not in known:
            where = f"{', '.join(nodes)}" if nodes else scenario.id
            raise fail("--state", None, "state", f"a state of {where} ({', '.join(known)})", state)
    return lambda it: row_state(it, scenario) in states


def _grade_test(grade: str, scenario: Scenario) -> Callable[[EvidenceItem], bool]:
    scales = scenario.scales
    match = GRADE_PATTERN.match(grade.strip())
    reliability = match.group(1).upper() if match else ""
    credibility = (match.group(2) or "") if match else ""
    if (not match or reliability not in scales.reliability
            or (credibility and credibility not in scales.credibility)):
        raise fail("--grade", None, "grade",
                   "a grade like B2 (reliability A-F, then optionally credibility 1-6) or B", grade)
    return lambda it: it.reliability == reliability and (not credibility
                                                          or it.credibility == credibility)


def select(items: tuple[EvidenceItem, ...], scenario: Scenario,
           where: EvidenceFilter) -> tuple[EvidenceItem, ...]:
    """The rows that pass every given filter (dates inclusive)."""
    for node in where.nodes:
        if node not in scenario.node_ids:
            raise fail("--node", None, "node",
                       f"a node of {scenario.id} (one of {', '.join(sorted(scenario.node_ids))})", node)
    tests: list[Callable[[EvidenceItem], bool]] = []
    if where.nodes:
        tests.append(lambda it: it.node in where.nodes)
    if where.clusters:
        tests.append(lambda it: it.cluster in where.clusters)
    if where.since:
        since = parse_date(where.since, "--since", None, "since")
        tests.append(lambda it: it.date >= since)
    if where.until:
        until = parse_date(where.until, "--until", None, "until")
        tests.append(lambda it: it.date <= until)
    if where.grade:
        tests.append(_grade_test(where.grade, scenario))
    if where.states:
        tests.append(_state_test(where.states, scenario, where.nodes))
    return tuple(it for it in items if all(test(it) for test in tests))


def list_items(paths: ScenarioPaths, where: EvidenceFilter) -> tuple[EvidenceItem, ...]:
    scenario = load_scenario_of(paths)
    items = load_evidence(paths.evidence, scenario) if paths.evidence.exists() else ()
    return select(items, scenario, where)
