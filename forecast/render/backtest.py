"""The backtest (`forecast backtest`) as a terminal table and as HTML (jinja2 with autoescape),
with the chart of charts/backtest.py embedded."""

from __future__ import annotations

from rich.console import Console
from rich.table import Table
from rich.text import Text

from . import num, pct
from .charts.backtest import backtest_chart, paths_by_node
from .pages import template_environment


def render_backtest_html(document: dict) -> str:
    """One scenario's backtest page, or the pooled page of `--all` (it has `scenarios`)."""
    if "scenarios" in document:
        return template_environment().get_template("backtest.html.j2").render(
            doc=document, pooled=True, chart=None, paths={})
    return template_environment().get_template("backtest.html.j2").render(
        doc=document, pooled=False, chart=backtest_chart(document),
        paths=paths_by_node(document))


def score_line(score: dict) -> str:
    if not score["n"]:
        return "Nothing scored"
    nodes = len(score.get("by_node", [])) or "?"
    rps = f" · RPS {num(score['rps'])}" if score.get("rps") is not None else ""
    return (f"{score['n']} scored forecasts of {nodes} resolved questions · Brier "
            f"{num(score['brier'])} · log score {num(score['log_score'])}{rps}")


def snapshot_cell(node: dict) -> str:
    """A replayed node in words: P(yes), or the most likely state and its probability."""
    if node["resolved"]:
        return f"resolved {node['resolved']}"
    if node["mean"] is None and node.get("distribution"):
        top = max(node["distribution"], key=lambda row: row["mean"])
        return f"{top['state']} {pct(top['mean'])}"
    return pct(node["mean"])


def print_backtest(document: dict, written, display, console: Console) -> None:
    """The replays (or, pooled, one row per scenario) and their score on `console`."""
    if "scenarios" in document:
        table = Table(title="Backtest of every scenario (pooled)", title_justify="left")
        for name in ("scenario", "engine", "replays", "scored", "Brier", "log score"):
            table.add_column(name, justify="left" if name in ("scenario", "engine") else "right")
        for b in document["backtests"]:
            table.add_row(Text(b["scenario"]), b["engine"], str(len(b["snapshots"])),
                          str(b["score"]["n"]), num(b["score"]["brier"]),
                          num(b["score"]["log_score"]))
        console.print(table)
    else:
        snapshots = document["snapshots"]
        span = f", {snapshots[0]['as_of']} to {snapshots[-1]['as_of']}" if snapshots else ""
        alone = f" ({document['analyst']} alone)" if document.get("analyst") else ""
        table = Table(title=Text(f"Backtest of {document['scenario']}{alone}: {len(snapshots)} replays"
                                 f"{span} (engine {document['engine']}, seed {document['seed']})"),
                      title_justify="left")
        table.add_column("as of", no_wrap=True, min_width=10)      # a date is never cut
        table.add_column("items", justify="right")
        for node in document["nodes"]:      # a narrow column folds its id, never cuts it
            table.add_column(Text(node["id"]), justify="right", overflow="fold")
        for snap in snapshots:
            table.add_row(snap["as_of"], str(snap["evidence_items"]),
                          *(snapshot_cell(n) for n in snap["nodes"]))
        console.print(table)
    score = document["score"]
    console.print("Pooled: " + score_line(score) if "scenarios" in document else score_line(score),
                  markup=False, highlight=False)
    if not score["n"]:
        console.print(document["empty_reason"], markup=False, highlight=False, soft_wrap=True)
    elif document.get("analysts"):
        team = Table(title="Each analyst's replays (the score above is the team's pool)",
                     title_justify="left")
        for name in ("analyst", "scored", "Brier", "log score", "RPS"):
            team.add_column(name, justify="left" if name == "analyst" else "right")
        for name, scores in document["analysts"].items():
            team.add_row(Text(name), str(scores["count"]), num(scores["brier"]),
                         num(scores["log_score"]), num(scores.get("rps")))
        console.print(team)
    if written:
        console.print("Wrote " + ", ".join(display(p) for p in written), markup=False,
                      highlight=False, soft_wrap=True)
