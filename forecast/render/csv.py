"""The report as CSV, for spreadsheets: one row per node (`forecast report --format csv`).

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
                  "resolved")


def report_rows(document: ReportDocument) -> list[dict]:
    """One record per node of a report document, in REPORT_COLUMNS (`overdue` only where the
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
    for row in rows:
        writer.writerow([_cell(row.get(c)) for c in columns])
    return buffer.getvalue()
