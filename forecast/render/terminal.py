"""The terminal table (rich)."""

from __future__ import annotations

import io
import os
import sys
from typing import TYPE_CHECKING

from rich.console import Console
from rich.table import Table
from rich.text import Text

from . import as_of_words, engine_words, ess_text, overdue_banner, pct, term_of
from .history import current_point, leader, state_series
from .team import analysts_words, disagreement_items, recalibration_sentence, team_sentence

if TYPE_CHECKING:
    from ..analysis.report_document import ReportDocument


def stdout_console() -> Console:
    """Rich console for stdout: the terminal's width, or $COLUMNS where set; when piped without
    it, wide enough for the report table."""
    wide = sys.stdout.isatty() or os.environ.get("COLUMNS", "").isdigit()
    return Console(file=sys.stdout, soft_wrap=False, width=None if wide else 120)


def report_table(document: ReportDocument) -> Table:
    title = f"{document['title']} — as of {document['as_of']}"
    if document.get("given"):
        title += "  (given " + ", ".join(f"{k}={v}" for k, v in document["given"].items()) + ")"
    # The title is the analyst's text: shown as it is, never read as rich markup.
    table = Table(title=Text(title), title_justify="left")
    table.add_column("node")
    table.add_column("role")
    table.add_column("prior", justify="right")
    table.add_column("posterior", justify="right")
    table.add_column(f"{int(round(100 * document['nodes'][0]['interval_prob']))}% interval",
                     justify="right")
    table.add_column("ICD 203 term")
    team = bool(document.get("analysts"))
    recalibrated = "recalibration" in document
    if recalibrated:
        table.add_column("recalibrated", justify="right", min_width=12)
    if team:
        table.add_column("analysts")
    for node in document["nodes"]:
        extra = ([pct(node["recalibrated"]["mean"]) if node.get("recalibrated") else ""]
                 if recalibrated else []) + (
            [Text(analysts_words(node, names=False))] if team else [])
        if node["mean"] is None:
            _add_state_rows(table, node, document["terms"], extra)
            continue
        low, high = node["interval"]
        term = f"[bold]resolved {node['resolved']}[/bold]" if node["resolved"] else node["term"]
        if node.get("overdue"):
            term += " [bold](overdue)[/bold]"
        table.add_row(node["id"], node["role"], pct(node["prior_mean"]), pct(node["mean"]),
                      f"{pct(low)} – {pct(high)}", term, *extra)
    return table


SHOWN_STATES = 12       # a question of more outcomes lists its likeliest this many here


def _add_state_rows(table: Table, node, terms, extra: list) -> None:
    """A question with more than two outcomes: a row naming the most likely outcome in words,
    then one row per state (cumulative "or earlier" shares are left to the reports)."""
    best = max(node["distribution"], key=lambda row: row["mean"])
    if node["resolved"]:
        summary = f"[bold]resolved {node['resolved']}[/bold]"
    else:
        summary = f"most likely {best['state']}: {term_of(best['mean'], terms)}"
    if node.get("overdue"):
        summary += " [bold](overdue)[/bold]"
    if len(node["distribution"]) == 2 and not node["resolved"]:
        # two named outcomes (true/false, low/high): one row, the first outcome's numbers
        first = node["distribution"][0]
        low, high = first["interval"]
        table.add_row(node["id"], node["role"], pct(first["prior_mean"]), pct(first["mean"]),
                      f"{pct(low)} – {pct(high)}", f"P({first['state']}); {summary}", *extra)
        return
    kind = "ordered" if node["ordered"] else f"{len(node['states'])} outcomes"
    table.add_row(node["id"], node["role"], "", "", "",
                  summary if node["resolved"] else f"{summary} ({kind})", *extra)
    rows = node["distribution"]
    shown = range(len(rows))
    if len(rows) > SHOWN_STATES:      # bnlearn's barley has 67: the likeliest, in their order
        shown = sorted(sorted(shown, key=lambda i: -rows[i]["mean"])[:SHOWN_STATES])
    for row in (rows[i] for i in shown):
        low, high = row["interval"]
        table.add_row(Text(f"  · {row['state']}"), "", pct(row["prior_mean"]), pct(row["mean"]),
                      f"{pct(low)} – {pct(high)}", "", *([""] * len(extra)))
    if len(shown) < len(rows):
        rest = [row for i, row in enumerate(rows) if i not in set(shown)]
        table.add_row(Text(f"  · {len(rest)} other states"), "",
                      pct(sum(r["prior_mean"] for r in rest)), pct(sum(r["mean"] for r in rest)),
                      "", "(report.md lists every state)", *([""] * len(extra)))


def diagnostics_line(document: ReportDocument) -> str:
    d = document["diagnostics"]
    tail = f"seed {document['seed']} · evidence {document['evidence_hash'][:19]}"
    if document["engine"] == "exact":
        return f"{engine_words(document)} · {tail}"
    status = "; ".join(d["warnings"]) if d["warnings"] else "no sampling problems"
    return (f"{engine_words(document)} · divergences {d['divergences']} · max R-hat "
            f"{d['max_rhat']} · min ESS {ess_text(d['min_ess'])} · {status} · {tail}")


def columns_table(title: str, names, left: int = 1) -> Table:
    """A table whose first `left` columns (labels) are left-aligned and the rest (numbers)
    right-aligned."""
    table = Table(title=title, title_justify="left")
    for k, name in enumerate(names):
        table.add_column(name, justify="left" if k < left else "right")
    return table


def wrote_line(paths) -> str:
    return "Wrote " + ", ".join(str(p) for p in paths)


def print_banners(document: ReportDocument, console: Console) -> None:
    """Above the table: overdue questions (in bold), then what "as of" means."""
    banner = overdue_banner(document)
    if banner:
        console.print(Text("Overdue: " + banner, style="bold"), soft_wrap=True)
    console.print(Text(as_of_words(document)), soft_wrap=True)
    for sentence in (team_sentence(document), recalibration_sentence(document)):
        if sentence:
            console.print(Text(sentence.replace("`", "")), soft_wrap=True)
    if document.get("analysts"):
        console.print(Text("The analysts column: " + " · ".join(document["analysts"])
                           + " (spread: the largest minus the smallest)"), soft_wrap=True)


def render_table_text(document: ReportDocument, width: int = 110) -> str:
    return render_text(document, report_table(document), width)


def render_text(document: ReportDocument, table: Table, width: int) -> str:
    """A report as plain terminal text: the banners, `table`, then the diagnostics line."""
    buffer = io.StringIO()
    console = Console(file=buffer, width=width, force_terminal=False, color_system=None)
    print_banners(document, console)
    console.print(table)
    print_state_history(document, console)
    print_disagreement(document, console)
    console.print(diagnostics_line(document), markup=False)
    return buffer.getvalue()


def print_report(document: ReportDocument, console: Console) -> None:
    print_banners(document, console)
    console.print(report_table(document))
    print_state_history(document, console)
    print_disagreement(document, console)
    console.print(diagnostics_line(document), markup=False, style="dim")


def print_disagreement(document: ReportDocument, console: Console) -> None:
    """Below the table: the questions the team splits on most and the priors behind it."""
    items = disagreement_items(document)
    if not items:
        return
    console.print(Text("Where the team disagrees most", style="bold"))
    shown: set[str] = set()
    for item in items:
        console.print(Text(f"{item['id']}: spread {item['spread_pp']} ({item['numbers']})"),
                      soft_wrap=True)
        for row in item["rows"]:
            if row["where"] in shown:
                console.print(Text(f"  prior {row['where']}: as above"), soft_wrap=True)
                continue
            shown.add(row["where"])
            console.print(Text(f"  prior {row['where']}:"), soft_wrap=True)
            for analyst, number, own, rationale in row["views"]:
                why = rationale if own else "(the scenario's prior) " + rationale
                console.print(Text(f"    {analyst} {number}: {why}"), soft_wrap=True)


STATE_HISTORY_SHOWN = 5     # points per question: the first, then the last four


def state_history_lines(document: ReportDocument) -> list[str]:
    """Each question of more outcomes through its history, on one line: the most likely
    outcome and its probability at each snapshot (the first and the last few), and at this
    report where it is not a snapshot yet. The pages chart every state."""
    history = document.get("history") or []
    now = current_point(document)
    pending = now is not None and not now["is_snapshot"]
    lines = []
    for node in document["nodes"]:
        if node["mean"] is not None or not node.get("distribution"):
            continue
        points = [(day.isoformat(), p) for day, p in state_series(history, node["id"], node["states"])]
        if not points:
            continue
        if pending:
            points.append(("this report", now["distributions"][node["id"]]))
        words = [f"{day} {state} {pct(p)}"
                 for day, probabilities in points for state, p in [leader(probabilities, node["states"])]]
        if len(words) > STATE_HISTORY_SHOWN:
            words = [words[0], "…", *words[-(STATE_HISTORY_SHOWN - 1):]]
        lines.append(f"  {node['id']}: " + " → ".join(words))
    return lines


def print_state_history(document: ReportDocument, console: Console) -> None:
    """Below the table: how each question of more outcomes has moved (the yes/no questions'
    history is charted in the pages)."""
    lines = state_history_lines(document)
    if lines:
        console.print(Text("How the questions with more outcomes have moved (the most likely "
                           "outcome at each snapshot):"), soft_wrap=True)
        for line in lines:
            console.print(Text(line), soft_wrap=True)
