"""What `forecast update` says: the changes since the previous snapshot and their causes, as a
terminal table or as the JSON document of `update --format json`."""

from __future__ import annotations

from typing import TYPE_CHECKING

from rich.console import Console
from rich.table import Table
from rich.text import Text

from . import as_of_words, id_list, overdue_banner, pct
from .terminal import diagnostics_line

if TYPE_CHECKING:
    from ..jobs.update import UpdateResult

MAX_CAUSES = 4                  # per node: the top movers, then a count
MAX_CLUSTERS = 2
MAX_MEMBERS = 3                 # a cluster line names this many of its items, then counts


def update_json(result: UpdateResult) -> dict:
    out = {"appended": result.appended, "history": result.history_path,
           "snapshots": result.count, "snapshot": result.snapshot}
    if result.appended:
        out["previous"] = None if result.previous is None else {
            **{key: result.previous[key] for key in ("generated_at", "as_of", "evidence_hash")},
            "kind": result.baseline}
        out["changes"] = result.changes
        out["written"] = [str(p) for p in result.written]
    else:
        out["message"] = nothing_new(result)
    return out


def nothing_new(result: UpdateResult) -> str:
    last = result.snapshot
    return (f"Nothing new since snapshot {result.count} of {result.history_path} "
            f"({last['generated_at']}, evidence {last['evidence_hash'][:19]}): no refit, "
            "nothing appended.")


def _resolution(r: dict) -> str:
    change = f"{r['node']} {r['change']}" if r["change"] != "retracted" else \
        f"{r['node']} resolution retracted"
    return change if r["effect_pp"] is None else f"{change} {r['effect_pp']:+.2f} pp"


def _members(items: list[str]) -> str:
    """A cluster's items as its line names them: all of a few, a count past MAX_MEMBERS."""
    if not items:
        return ""
    if len(items) > MAX_MEMBERS:
        return f" ({'+'.join(items[:2])}+... {len(items):,} items together)"
    return f" ({'+'.join(items)} together)"


def _causes(node: dict) -> str:
    """The resolutions, then the items and whole clusters behind a node's shift, largest first:
    an item line says what changed about it, a cluster line names the items left out together
    (a restatement in a cluster moves little on its own, since the cluster counts once)."""
    items = [(abs(c["effect_pp"]), f"{c['item_id']} {c['change']} {c['effect_pp']:+.2f} pp"
              + (f" [{c['cluster']}]" if c["cluster"] else "")) for c in node["causes"][:MAX_CAUSES]]
    clusters = [(abs(c["effect_pp"]), f"cluster {c['cluster']}" + _members(c.get("items") or [])
                 + f" {c['effect_pp']:+.2f} pp") for c in node["clusters"][:MAX_CLUSTERS]]
    parts = [_resolution(r) for r in node.get("resolutions", [])]
    parts += [text for _size, text in sorted(items + clusters, key=lambda e: -e[0])]
    if len(node["causes"]) > MAX_CAUSES:
        parts.append(f"+{len(node['causes']) - MAX_CAUSES} more")
    if len(node["clusters"]) > MAX_CLUSTERS:
        parts.append(f"+{len(node['clusters']) - MAX_CLUSTERS} more clusters")
    if (node.get("resolved") and node.get("resolved") != node.get("was_resolved")
            and "resolutions" not in node):
        parts.append(f"resolved {node['resolved']}")
    return "; ".join(parts) or "—"


def _numbers(row: dict) -> tuple[str, str, str]:
    """Before, after and shift of a node's mean or of one state's probability."""
    before = "—" if row["before"] is None else pct(row["before"])
    shift = "—" if row["shift_pp"] is None else f"{row['shift_pp']:+.2f} pp"
    return before, pct(row["after"]), shift


def print_update(result: UpdateResult, display, console: Console) -> None:
    """The changes as a table on `console`; `display` shows a written path as the user gave
    the root."""
    if not result.appended:
        console.print(nothing_new(result), markup=False, highlight=False, soft_wrap=True)
        return
    changes = result.changes
    items = changes["items"]
    if changes["first"]:
        head = (f"First snapshot of {result.snapshot['scenario']} (as of "
                f"{result.snapshot['as_of']}), {len(items['added']):,} items: nothing to compare with.")
    else:
        against = (f"the forecast the last report showed ({result.previous['generated_at']})"
                   if result.baseline == "report" else
                   f"snapshot {result.count - 1} ({result.previous['generated_at']})")
        head = (f"Snapshot {result.count} of {result.snapshot['scenario']} (as of "
                f"{result.snapshot['as_of']}) vs {against}\nItems added "
                f"{id_list(items['added'])}; removed {id_list(items['removed'])}; changed "
                f"{id_list(items['changed'])}."
                + "".join(f" {r['node']} {r['change']}." for r in changes.get("resolutions", [])))
    console.print(head, markup=False, highlight=False, soft_wrap=True)
    if overdue_banner(result.document):
        console.print("Overdue: " + overdue_banner(result.document), markup=False,
                      highlight=False, soft_wrap=True, style="bold")
    console.print(as_of_words(result.document), markup=False, highlight=False, soft_wrap=True)
    table = Table(title_justify="left")
    for name, justify in (("node", "left"), ("before", "right"), ("after", "right"),
                          ("shift", "right"), ("caused by (influence, pp)", "left")):
        table.add_column(name, justify=justify)
    for node in changes["nodes"]:
        if "states" in node:
            # a question of more outcomes: a row per state, with what moved that state
            for index, row in enumerate(node["states"]):
                extra = {"resolutions": node.get("resolutions", []) if index == 0 else [],
                         "resolved": node.get("resolved") if index == 0 else None,
                         "was_resolved": node.get("was_resolved")}
                table.add_row(Text(f"{node['id']} = {row['state']}"), *_numbers(row),
                              Text(_causes({**row, **extra})))
            continue
        table.add_row(Text(node["id"]), *_numbers(node), Text(_causes(node)))
    console.print(table)
    console.print(diagnostics_line(result.document), markup=False, style="dim")
    written = ", ".join(display(p) for p in result.written)
    console.print(f"Appended to {result.history_path}; wrote {written}", markup=False,
                  highlight=False, soft_wrap=True)
