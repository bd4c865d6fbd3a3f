"""The what-if document as a terminal table and as Markdown: conditional forecasts side by
side with the unconditional ones."""

from __future__ import annotations

from typing import TYPE_CHECKING

from rich.markup import escape
from rich.table import Table

from . import as_of_words, overdue_banner, pct
from .markdown import md_escape
from .terminal import render_text

if TYPE_CHECKING:
    from ..analysis.report_document import ReportDocument


def given_text(document: ReportDocument) -> str:
    return ", ".join(f"{node}={state}" for node, state in document["given"].items())


def _span(p: float, interval: list[float]) -> str:
    low, high = interval
    return f"{pct(p)} ({pct(low)} – {pct(high)})"


def _rows(document: ReportDocument):
    """(label, unconditional, if, change, term) per yes/no question, and per state of a
    question of other outcomes (its unconditional distribution and each state's change)."""
    for node in document["nodes"]:
        before = node["unconditional"]
        if node["mean"] is not None and before["mean"] is not None:
            after, change = ((f"given {node['conditioned']}", "") if node["conditioned"] else
                             (_span(node["mean"], node["interval"]), f"{node['change_pp']:+.1f} pp"))
            yield (node["id"], _span(before["mean"], before["interval"]), after, change,
                   "" if node["conditioned"] else node["term"])
            continue
        then = {row["state"]: row for row in before["distribution"]}
        for row in node["distribution"]:
            earlier = then[row["state"]]
            label = f"{node['id']} = {row['state']}"
            if node["conditioned"]:
                after, change = (f"given {node['conditioned']}" if row["state"] ==
                                 node["conditioned"] else "", "")
            else:
                after = _span(row["mean"], row["interval"])
                change = f"{node['change_pp_by_state'][row['state']]:+.1f} pp"
            most_likely = "most likely" if row["state"] == node["most_likely"] and not \
                node["conditioned"] else ""
            yield label, _span(earlier["mean"], earlier["interval"]), after, change, most_likely


def whatif_table(document: ReportDocument) -> Table:
    table = Table(title=f"{document['title']} — if {given_text(document)}", title_justify="left")
    prob = int(round(100 * document["nodes"][0]["interval_prob"]))
    table.add_column("node")
    table.add_column(f"unconditional ({prob}% interval)", justify="right")
    table.add_column(f"if {given_text(document)}", justify="right")
    table.add_column("change", justify="right")
    table.add_column("ICD 203 term (if)")
    for label, before, after, change, term in _rows(document):
        table.add_row(escape(label), before, after, change, term or "")
    return table


def render_whatif_text(document: ReportDocument, width: int = 120) -> str:
    return render_text(document, whatif_table(document), width)


def render_whatif_markdown(document: ReportDocument) -> str:
    prob = int(round(100 * document["nodes"][0]["interval_prob"]))
    given = ", ".join(f"`{k}` = {v}" for k, v in document["given"].items())
    overdue = overdue_banner(document)
    lines = [f"# What if: {md_escape(document['title'])}", ""]
    if overdue:
        lines += [f"> **Overdue:** {md_escape(overdue)}", ""]
    lines += [f"Conditional forecasts given {given}, as of **{document['as_of']}** · engine "
              f"{document['engine']} · seed {document['seed']}", "",
              as_of_words(document), "",
              f"| node | unconditional ({prob}% interval) | if {md_escape(given_text(document))} "
              "| change |",
              "|---|---:|---:|---:|"]
    for label, before, after, change, _term in _rows(document):
        lines.append(f"| `{label}` | {before} | {after} | {change} |")
    return "\n".join(lines) + "\n"
