"""The rows the evidence commands write: an item given on the command line as CSV rows (one
per node), its id (the next free `E<number>`), the ids an import leaves blank, and text cells a
spreadsheet would run neutralised. Building rows is separate from writing them
(`evidence_store.py`) and from checking them (`evidence.py`, which every written file passes).
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass

from ..errors import fail
from ..model.spec import EvidenceItem, Scenario
from .evidence import TEXT_COLUMNS, parse_state_and_lr
from .text import neutralise

NEXT_ID_PATTERN = re.compile(r"^E(\d+)$")


@dataclass(frozen=True)
class NewItem:
    """One evidence item as the analyst gives it on the command line (raw text, unparsed)."""

    nodes: tuple[str, ...]
    lrs: tuple[str, ...]
    source: str
    reliability: str
    credibility: str
    summary: str
    date: str = ""
    cluster: str = ""
    url: str = ""
    item_id: str = ""
    quote: str = ""
    states: tuple[str, ...] = ()     # the state each --lr is for: none, one for all, or one per node


def per_node(values: tuple[str, ...], nodes: tuple[str, ...], option: str) -> tuple[str, ...]:
    """One value of a repeatable option per node: one given for all, or one per --node."""
    if len(values) not in (1, len(nodes)):
        name = option.removeprefix("--")
        raise fail(option, None, name, f"one {option} for every node, or one per --node "
                   f"({len(nodes)}, in the same order)", len(values))
    return values * len(nodes) if len(values) == 1 else values


def check_state_option(scenario: Scenario, node: str, state: str) -> None:
    """A `--state` names a state of its node: the error names the state and lists the node's
    states (the file parser says the same, located in the file, for rows written by hand)."""
    if node not in scenario.node_ids or not state:
        return
    states = scenario.node(node).states
    if state not in states:
        raise fail("--state", None, "state", f"a state of {node} ({', '.join(states)})", state)


def item_rows(new: NewItem, item_id: str, today: dt.date,
              scenario: Scenario | None = None) -> list[dict[str, str]]:
    lrs = per_node(new.lrs, new.nodes, "--lr")
    states = per_node(new.states, new.nodes, "--state") if new.states else ("",) * len(new.nodes)
    if scenario is not None:
        for node, lr, state in zip(new.nodes, lrs, states, strict=True):
            check_state_option(scenario, node, state)
            if node in scenario.node_ids and not scenario.node(node).binary:
                # the LR and state of a question with more outcomes, located by its --node
                parse_state_and_lr({"node": node, "lr": lr, "state": state}, scenario,
                                   f"--node {node}", None)
    return [
        {"item_id": item_id, "node": node, "date": new.date or today.isoformat(),
         "source": new.source, "reliability": new.reliability.upper(),
         "credibility": new.credibility, "lr": lr, "cluster": new.cluster,
         "summary": new.summary, "url": new.url, "quote": new.quote, "state": state}
        for node, lr, state in zip(new.nodes, lrs, states, strict=True)
    ]


def neutralised(rows: list[dict[str, str]], labels: list[str]
                ) -> tuple[list[dict[str, str]], list[str]]:
    """The rows with every text cell a spreadsheet would run given a leading apostrophe (the
    evidence file is meant to be opened in one), and "<label> <column>" per cell changed."""
    out, changed = [], []
    for row, label in zip(rows, labels, strict=True):
        safe = {name: neutralise(cell) if name in TEXT_COLUMNS else cell
                for name, cell in row.items()}
        changed += [f"{label} {name}" for name in TEXT_COLUMNS if safe.get(name) != row.get(name)]
        out.append(safe)
    return out, list(dict.fromkeys(changed))


def neutralised_note(cells: list[str]) -> tuple[str, ...]:
    if not cells:
        return ()
    return (f"Neutralised {len(cells)} cell(s) a spreadsheet would run as a formula (a ' put "
            f"before them): {', '.join(cells[:6])}" + (" ..." if len(cells) > 6 else "") + ".",)


def next_item_id(items: tuple[EvidenceItem, ...]) -> str:
    """One past the largest `E<number>` id, as wide as the widest (E018 -> E019); E001 first."""
    return next_free_id(it.item_id for it in items)


def next_free_id(ids) -> str:
    """`next_item_id` over plain id strings."""
    numbered = [m for item_id in ids if (m := NEXT_ID_PATTERN.match(item_id))]
    if not numbered:
        return "E001"
    width = max(len(m.group(1)) for m in numbered)
    return f"E{max(int(m.group(1)) for m in numbered) + 1:0{width}d}"


def with_item_ids(rows: list[tuple[int, dict[str, str]]],
                  taken: list[str]) -> list[tuple[int, dict[str, str]]]:
    """The import's rows with every blank item_id filled as `evidence add` would: the next free
    `E<number>` past the ids in the evidence file and in the import. Consecutive blank-id rows
    with the same date, source and summary on different nodes are one item (one row per node,
    as `add --node a --node b` writes it); any other blank-id row starts a new item. Linear in
    the rows (an import of 23,000 items is as quick as one of ten)."""
    first = next_free_id(list(taken) + [row["item_id"] for _line, row in rows if row["item_id"]])
    width, number = len(first) - 1, int(first[1:]) - 1
    filled, key, current, nodes = [], None, "", set()
    for line, row in rows:
        if row["item_id"]:
            filled.append((line, row))
            key = None
            continue
        row_key = (row["date"], row["source"], row["summary"])
        if row_key != key or row["node"] in nodes:
            number += 1
            current = f"E{number:0{width}d}"
            key, nodes = row_key, set()
        nodes.add(row["node"])
        filled.append((line, {**row, "item_id": current}))
    return filled
