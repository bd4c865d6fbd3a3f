"""The track record (`forecast score`): on the terminal, the scores, the calibration table and
the resolved nodes; as HTML (jinja2 with autoescape: node ids and scenario titles are data,
never markup), the same with the reliability diagram embedded as a data URI."""

from __future__ import annotations

from rich.console import Console
from rich.markup import escape

from . import num, pct
from .pages import template_environment
from .terminal import columns_table, wrote_line


def print_score(document: dict, written, console: Console) -> None:
    title = "Track record: " + ", ".join(document["scenarios"])
    if document.get("as_of"):
        title += f" (replay as of {document['as_of']}: resolutions and snapshots dated by then)"
    if not document["count"]:
        console.print(f"{title}\nNothing to score yet. {document['empty_reason']}", markup=False)
    else:
        d = document["decomposition"]
        console.print(
            f"{title}\n{document['count']} forecasts of {len(document['by_node'])} resolved nodes · "
            f"Brier {num(document['brier'])} · log score {num(document['log_score'])} · "
            + (f"RPS {num(document['rps'])} · " if document.get("rps") is not None else "") +
            f"reliability {num(d['reliability'])} · resolution {num(d['resolution'])} · "
            f"uncertainty {num(d['uncertainty'])} · within-bin {num(d['within_bin'])}",
            markup=False, highlight=False)
        table = columns_table("Calibration by forecast bin",
                              ("bin", "forecasts", "mean forecast", "observed", "binomial SE", "z"))
        for b in document["bins"]:
            if b["count"]:
                table.add_row(f"{pct(b['low'])} – {pct(b['high'])}", str(b["count"]),
                              pct(b["mean_forecast"]), pct(b["observed"]), pct(b["se"]),
                              num(b["z"], 2))
        console.print(table)
        nodes = columns_table("Resolved nodes", ("node", "outcome", "resolved on", "forecasts",
                                                 "last forecast", "Brier"), left=2)
        for n in document["by_node"]:
            label = n["node"] if len(document["scenarios"]) == 1 else f"{n['scenario']}/{n['node']}"
            nodes.add_row(escape(label), n["outcome"], n["resolved_on"], str(n["count"]),
                          pct(n["last_forecast"]) + (f" on {n['outcome']}" if "distribution" in n
                                                     else ""), num(n["brier"]))
        console.print(nodes)
        if document.get("analysts"):
            team = columns_table("Each analyst (the scores above are the team's pool)",
                                 ("analyst", "forecasts", "Brier", "log score"))
            for name, scores in document["analysts"].items():
                team.add_row(escape(name), str(scores["count"]), num(scores["brier"]),
                             num(scores["log_score"]))
            console.print(team)
    for why in document.get("unscored", []):
        console.print(f"Not scored: {why['scenario']} ({why['resolutions']} resolutions): "
                      f"{why['reason']}.", markup=False, highlight=False)
    if written:
        console.print(wrote_line(written), markup=False, highlight=False)


def render_score_html(document: dict) -> str:
    from .charts.reliability import reliability_diagram

    chart = reliability_diagram(document["bins"]) if document["count"] else None
    return template_environment().get_template("score.html.j2").render(doc=document, chart=chart)
