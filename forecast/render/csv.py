"""The report as CSV, for spreadsheets: one row per node (`forecast report --format csv`).

A question with more than two outcomes has no single mean: its row leaves prior, mean, low and
high empty and its `distribution` cell lists every state's probability in state order
(`none=0.331;sporadic=0.221;sustained=0.447`); a yes/no row's cell reads `yes=...;no=...`.

Text that a spreadsheet would run as a formula (a cell starting with = + - @, a tab or a carriage
return) gets a leading apostrophe, as in the evidence export: questions and node ids come from
files an analyst may have been sent."""

from __future__ import annotations

import csv
import io
from typing import TYPE_CHECKING

from ..io.text import neutralise

if TYPE_CHECKING:
    from ..analysis.report_document import ReportDocument

REPORT_COLUMNS = ("node", "role", "question", "prior", "mean", "low", "high", "term", "overdue",
                  "resolved", "distribution")


def report_rows(document: ReportDocument) -> list[dict]:
    """One record per node of a report document, in REPORT_COLUMNS but `distribution` (see
    `distribution_text`; `overdue` only where the
    document has it): probabilities as floats, `overdue` a bool, `resolved` None, "yes" or "no".
    A resolved question has no estimative term: it is a fact (`resolved` says which)."""
    rows = []
    for node in document["nodes"]:
        low, high = node["interval"] or (None, None)
        # a question with more outcomes has no single mean: its term names the likeliest
        term = node["term"] if node["mean"] is not None else f"most likely {node['most_likely']}"
        row = {"node": node["id"], "role": node["role"], "question": node["question"],
               "prior": node["prior_mean"], "mean": node["mean"], "low": low, "high": high,
               "term": None if node["resolved"] else term}
        if "overdue" in node:
            row["overdue"] = bool(node["overdue"])
        row["resolved"] = node["resolved"]
        rows.append(row)
    return rows


def distribution_text(node) -> str | None:
    """Every state's posterior probability, in state order, to three decimals: one cell a
    spreadsheet shows whole and a script splits on ';' and '='. None for a document without
    `distribution` (written before questions had more outcomes)."""
    rows = node.get("distribution")
    if not rows:
        return None
    return ";".join(f"{row['state']}={row['mean']:.3f}" for row in rows)


def _cell(value) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    return neutralise(str(value))


def render_csv(document: ReportDocument) -> str:
    rows = report_rows(document)
    columns = [c for c in REPORT_COLUMNS if c != "overdue" or all("overdue" in r for r in rows)]
    buffer = io.StringIO(newline="")
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(columns)
    for row, node in zip(rows, document["nodes"], strict=True):
        row["distribution"] = distribution_text(node)
        writer.writerow([_cell(row.get(c)) for c in columns])
    return buffer.getvalue()
