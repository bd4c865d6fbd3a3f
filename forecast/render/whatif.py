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


def _rows(document: ReportDocument):
    for node in document["nodes"]:
        before = node["unconditional"]
        if node["conditioned"]:
            yield node, before, f"given {node['conditioned']}", ""
            continue
        low, high = node["interval"]
        yield node, before, f"{pct(node['mean'])} ({pct(low)} – {pct(high)})", \
            f"{node['change_pp']:+.1f} pp"


def whatif_table(document: ReportDocument) -> Table:
    table = Table(title=f"{document['title']} — if {given_text(document)}", title_justify="left")
    prob = int(round(100 * document["nodes"][0]["interval_prob"]))
    table.add_column("node")
    table.add_column(f"unconditional ({prob}% interval)", justify="right")
    table.add_column(f"if {given_text(document)}", justify="right")
    table.add_column("change", justify="right")
    table.add_column("ICD 203 term (if)")
    for node, before, after, change in _rows(document):
        low, high = before["interval"]
        table.add_row(escape(node["id"]), f"{pct(before['mean'])} ({pct(low)} – {pct(high)})", after, change,
                      "" if node["conditioned"] else node["term"])
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
    for node, before, after, change in _rows(document):
        low, high = before["interval"]
        lines.append(f"| `{node['id']}` | {pct(before['mean'])} ({pct(low)} – {pct(high)}) | "
                     f"{after} | {change} |")
    return "\n".join(lines) + "\n"
