"""Evidence as the pages and the terminal show it: the report's influence section and evidence
log (Markdown and HTML alike), the rows `forecast evidence list` finds, and the line that says
what an add, import, remove or edit wrote, and those rows as data (`--format json`) and as CSV
(`--format csv`). Evidence text is data, never markup."""

from __future__ import annotations

import csv
import io
from typing import TYPE_CHECKING

from ..io.evidence import ALL_EVIDENCE_COLUMNS
from ..io.text import neutralise
from . import id_list

if TYPE_CHECKING:
    from rich.table import Table

    from ..analysis.report_document import EvidenceRow, ReportDocument
    from ..model.spec import EvidenceItem

# Items shown per node in the influence section (report.json keeps the full top list).
INFLUENCE_SHOWN = 3


def influence_rows(document: ReportDocument) -> list[dict]:
    """Per node, what moved it most (items and whole clusters, `moved_most`; `top_evidence` in a
    document made before clusters were ranked) with what a reader needs to judge each: the
    summary, source, date and grade of an item's row for that node; for a cluster, its items'."""
    evidence = document.get("evidence", [])
    rows_by_key = {(e["item_id"], e["node"]): e for e in evidence}

    def row_of(item_id: str, node_id: str) -> EvidenceRow | dict:
        return rows_by_key.get((item_id, node_id)) or next(
            (e for e in evidence if e["item_id"] == item_id), {})

    def entries(node) -> list[dict]:
        if "moved_most" in node:
            return list(node["moved_most"])
        return [{"kind": "item", "id": e["item_id"], "items": [e["item_id"]], **e}
                for e in node["top_evidence"]]

    shown = {node["id"]: entries(node)[:INFLUENCE_SHOWN] for node in document["nodes"]}
    largest = max((abs(e["effect_pp"]) for rows in shown.values() for e in rows), default=0.0) or 1.0
    result = []
    for node in document["nodes"]:
        items = []
        for effect in shown[node["id"]]:
            members = [row_of(item_id, node["id"]) for item_id in effect["items"]]
            if effect["kind"] == "cluster":
                dates = sorted(m.get("date", "") for m in members if m.get("date"))
                text = {"summary": "Left out together. " + " ".join(
                            f"{item_id}: {m.get('summary', '')}" for item_id, m in
                            zip(effect["items"], members, strict=True)),
                        "source": "; ".join(dict.fromkeys(m.get("source", "") for m in members)),
                        "date": f"{dates[0]} – {dates[-1]}" if dates and dates[0] != dates[-1]
                        else (dates[0] if dates else ""),
                        "grade": ", ".join(dict.fromkeys(m.get("grade", "") for m in members)),
                        "label": f"cluster {effect['id']} ({', '.join(effect['items'])})"}
            else:
                row = members[0]
                text = {"summary": row.get("summary", ""), "source": row.get("source", ""),
                        "date": row.get("date", ""), "grade": row.get("grade", ""),
                        "label": effect["id"]}
            items.append({**effect, **text, "item_id": effect["id"],
                          "share": round(100 * abs(effect["effect_pp"]) / largest, 1)})
        result.append({"node": node, "entries": items})
    return result


def evidence_log(document: ReportDocument) -> list[dict]:
    """One entry per evidence item (its CSV has one row per item and question), in date
    order, with the questions it bears on and the likelihood ratio on each."""
    items: dict[str, dict] = {}
    for row in sorted(document.get("evidence", []), key=lambda e: (e["date"], e["item_id"])):
        entry = items.setdefault(row["item_id"], {**row, "bears_on": []})
        entry["bears_on"].append({"node": row["node"], "lr": row["lr"], "state": row.get("state"),
                                  "lrs": row.get("lrs"),
                                  "lr_text": ":".join(f"{x:g}" for x in row.get("lrs") or ())})
    return list(items.values())


def items_table(items) -> Table:
    from rich.table import Table
    from rich.text import Text

    table = Table(title=f"{len(items)} evidence row(s), {len({it.item_id for it in items})} item(s)",
                  title_justify="left")
    with_state = any(it.state for it in items)
    columns = ((("item", "left"), ("node", "left"), ("date", "left"), ("grade", "left"),
                ("w", "right"), ("LR", "right")) + ((("state", "left"),) if with_state else ())
               + (("cluster", "left"), ("summary", "left")))
    for name, justify in columns:
        table.add_column(name, justify=justify)
    for it in items:
        summary = it.summary if len(it.summary) <= 60 else it.summary[:57] + "..."
        cells = ((it.item_id, it.node, it.date.isoformat(), it.reliability + it.credibility,
                  f"{it.weight:.2f}", it.lr_text) + ((it.state,) if with_state else ())
                 + (it.cluster, summary))
        table.add_row(*(Text(cell) for cell in cells))      # evidence text is data, not markup
    return table


def _row_words(it) -> str:
    """A written row in words: its node, LR (and the state it is for) and weight."""
    state = f" for {it.state}" if it.state else ""
    return f"{it.node} (LR {it.lr_text}{state}, w {it.weight:.2f})"


def written_line(written, verb: str) -> str:
    """What an add or an import wrote: its ids, the file, the rows (and each row of one item)."""
    ids = id_list(written.item_ids) if written.item_ids else "nothing"
    nodes = ", ".join(_row_words(it) for it in written.rows)
    return (f"{verb} {ids} to {written.path}: {len(written.rows)} row(s)"
            + (f": {nodes}" if len(written.item_ids) == 1 else ""))


def changed_line(changed, verb: str) -> str:
    """What a remove or an edit changed, and the command that says what it moved."""
    rows = ", ".join(_row_words(it) for it in changed.rows)
    return (f"{verb} {changed.item_id} {'from' if verb == 'Removed' else 'in'} {changed.path}: "
            f"{len(changed.nodes)} row(s): "
            + (rows or ", ".join(changed.nodes))
            + ". `forecast update` will say what this moved.")


def item_record(it: EvidenceItem) -> dict:
    """One row as data (`--format json`): the CSV's columns plus the resolved LR and weight."""
    return {"item_id": it.item_id, "node": it.node, "date": it.date.isoformat(),
            "source": it.source, "reliability": it.reliability, "credibility": it.credibility,
            "lr": it.lr_text, "lr_value": it.lr, "weight": round(it.weight, 4),
            "cluster": it.cluster or None, "summary": it.summary, "url": it.url or None,
            "quote": it.quote or None, "line": it.row,
            "state": it.state or None, "lrs": list(it.lrs) if it.lrs else None}


def export_csv(items: tuple[EvidenceItem, ...]) -> str:
    """The rows in the evidence CSV's columns, safe to open in a spreadsheet; with a `state`
    column when a row names a state (as the evidence file has it), so the export imports back."""
    with_state = any(it.state for it in items)
    buffer = io.StringIO(newline="")
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(ALL_EVIDENCE_COLUMNS + (("state",) if with_state else ()))
    for it in items:
        cells = (it.item_id, it.node, it.date.isoformat(), it.source, it.reliability,
                 it.credibility, it.lr_text, it.cluster, it.summary, it.url, it.quote)
        writer.writerow([neutralise(cell) for cell in cells + ((it.state,) if with_state else ())])
    return buffer.getvalue()
