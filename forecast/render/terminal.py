"""The terminal table (rich)."""

from __future__ import annotations

import io
import os
import sys
from typing import TYPE_CHECKING

from rich.console import Console
from rich.table import Table
from rich.text import Text

from . import as_of_words, engine_words, ess_text, overdue_banner, pct, signed_pp, term_of
from .history import current_point, leader, state_series
from .plain_table import table_text
from .team import analysts_words, disagreement_items, recalibration_sentence, team_sentence

if TYPE_CHECKING:
    from ..analysis.report_document import ReportDocument


def stdout_console() -> Console:
    """Rich console for stdout: the terminal's width, or $COLUMNS where set; when piped without
    it, wide enough for the report table."""
    wide = sys.stdout.isatty() or os.environ.get("COLUMNS", "").isdigit()
    return Console(file=sys.stdout, soft_wrap=False, width=None if wide else 120)


def _table_head(document: ReportDocument, moved: bool = False) -> Table:
    """The report table's title and columns (with `moved`, the compact table's change column
    after the term)."""
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
    if moved:
        table.add_column("moved", justify="right")
    if "recalibration" in document:
        table.add_column("recalibrated", justify="right", min_width=12)
    if document.get("analysts"):
        table.add_column("analysts")
    return table


def _extra_cells(document: ReportDocument, node) -> list:
    """The recalibrated and analysts cells of a node's row, where the report has them."""
    return ([pct(node["recalibrated"]["mean"]) if node.get("recalibrated") else ""]
            if "recalibration" in document else []) + (
        [Text(analysts_words(node, names=False))] if document.get("analysts") else [])


def report_table(document: ReportDocument) -> Table:
    table = _table_head(document)
    for node in document["nodes"]:
        extra = _extra_cells(document, node)
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
    print_table(table, console)
    print_state_history(document, console)
    print_disagreement(document, console)
    console.print(diagnostics_line(document), markup=False)
    return buffer.getvalue()


def print_table(table: Table, console: Console) -> None:
    """`table` on `console`: a long one that needs no wrapping is written directly in rich's
    layout (render/plain_table.py: rich's own layout costs about 1.5 ms a row)."""
    text = table_text(table, console) if table.row_count > COMPACT_PAST else None
    if text is None:
        console.print(table)
    else:
        console.print(text, soft_wrap=True, crop=False)


def print_report(document: ReportDocument, console: Console, full_table: str = "") -> None:
    """The report in the terminal. Given `full_table` (where the full table is written, e.g.
    reports/<id>/report.md), a report of more than COMPACT_PAST questions shows the compact
    table (`compact_table`) and a line saying what it leaves out and where it is."""
    print_banners(document, console)
    compact = bool(full_table) and len(document["nodes"]) > COMPACT_PAST
    shown = (moved_most(document) or None) if compact else None     # none open: the full table
    if shown is None:
        print_table(report_table(document), console)
    else:
        print_table(compact_table(document, shown), console)
        console.print(Text(left_out_line(document, shown, full_table)), soft_wrap=True)
    print_state_history(document, console, None if shown is None else {n["id"] for n in shown})
    print_disagreement(document, console)
    console.print(diagnostics_line(document), markup=False, style="dim")


# Past this many questions the terminal shows the compact table: a reader scans a screenful of
# rows, not a 441-node network's 1,300 (every state of every question); report.md has them all.
COMPACT_PAST = 40
COMPACT_SHOWN = 20      # the compact table's rows: the unresolved questions that moved most


def movement(node) -> tuple[str | None, float]:
    """How far a question moved from its prior: the outcome whose probability changed most
    and that change (posterior minus prior; for a yes/no question, yes's: state None)."""
    if node["mean"] is not None:
        return None, node["mean"] - node["prior_mean"]
    row = max(node["distribution"], key=lambda row: abs(row["mean"] - row["prior_mean"]))
    return row["state"], row["mean"] - row["prior_mean"]


def moved_most(document: ReportDocument) -> list:
    """The unresolved questions that moved most from their priors, most first (ties in the
    document's order), at most COMPACT_SHOWN: what a compact table shows."""
    open_nodes = [node for node in document["nodes"] if not node["resolved"]]
    ranked = sorted(open_nodes, key=lambda node: -abs(movement(node)[1]))
    return ranked[:COMPACT_SHOWN]


def compact_table(document: ReportDocument, nodes) -> Table:
    """One row per question of `nodes`: a yes/no question's forecast as in the full table, a
    question of more outcomes by its most likely outcome; and how far it moved."""
    table = _table_head(document, moved=True)
    for node in nodes:
        state, change = movement(node)
        moved = signed_pp(100 * change) if state is None else f"{state} {signed_pp(100 * change)}"
        if node["mean"] is not None:
            row, term = node, node["term"]
        else:
            row = max(node["distribution"], key=lambda row: row["mean"])
            term = f"most likely {row['state']}: {term_of(row['mean'], document['terms'])}"
        if node.get("overdue"):
            term += " [bold](overdue)[/bold]"
        low, high = row["interval"]
        table.add_row(node["id"], node["role"], pct(row["prior_mean"]), pct(row["mean"]),
                      f"{pct(low)} – {pct(high)}", term, moved, *_extra_cells(document, node))
    return table


def left_out_line(document: ReportDocument, shown, full_table: str) -> str:
    """The line under a compact table: what it shows, how many it leaves out, where they are."""
    total = len(document["nodes"])
    resolved = sum(1 for node in document["nodes"] if node["resolved"])
    of_which = f" ({resolved} of them resolved)" if resolved else ""
    return (f"Showing the {len(shown)} of {total} questions that moved most from their priors; "
            f"the other {total - len(shown)}{of_which} are in the full table in {full_table} "
            "(or run with --format table).")


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


def state_history_lines(document: ReportDocument, ids: set[str] | None = None) -> list[str]:
    """Each question of more outcomes through its history, on one line: the most likely
    outcome and its probability at each snapshot (the first and the last few), and at this
    report where it is not a snapshot yet. The pages chart every state."""
    history = document.get("history") or []
    now = current_point(document)
    pending = now is not None and not now["is_snapshot"]
    lines = []
    for node in document["nodes"]:
        if node["mean"] is not None or not node.get("distribution") or (
                ids is not None and node["id"] not in ids):
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


def print_state_history(document: ReportDocument, console: Console,
                        ids: set[str] | None = None) -> None:
    """Below the table: how each question of more outcomes has moved (the yes/no questions'
    history is charted in the pages); with `ids`, those questions' only."""
    lines = state_history_lines(document, ids)
    if lines:
        console.print(Text("How the questions with more outcomes have moved (the most likely "
                           "outcome at each snapshot):"), soft_wrap=True)
        for line in lines:
            console.print(Text(line), soft_wrap=True)
