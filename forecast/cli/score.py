"""`forecast score`."""

from __future__ import annotations

import json
from enum import Enum
from typing import Annotated

import typer
from rich.markup import escape

from ..io.replay import parse_as_of
from ..render import num, pct
from ..render.terminal import columns_table, wrote_line
from .app import DEFAULTS, AsOfOption, RootOption, ScenarioOption, app, stdout_console, user_errors


class ScoreFormat(str, Enum):
    table = "table"
    json = "json"
    html = "html"


def print_score(document: dict, written) -> None:

    console = stdout_console()
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
                          pct(n["last_forecast"]), num(n["brier"]))
        console.print(nodes)
    if written:
        console.print(wrote_line(written), markup=False, highlight=False)


@app.command()
@user_errors
def score(
    scenario: ScenarioOption = DEFAULTS["scenario"],
    root: RootOption = None,
    as_of: AsOfOption = "",
    every: Annotated[bool, typer.Option(
        "--all", help="Score every scenario under the root, each and pooled.")] = False,
    bins: Annotated[int, typer.Option(min=1, max=100, help="Probability bins for calibration.")] = 10,
    fmt: Annotated[ScoreFormat, typer.Option("--format", "-f", help="What to print on stdout.")]
    = ScoreFormat.table,
) -> None:
    """Score the forecast history against resolutions: Brier and log scores, the Murphy
    decomposition, a calibration table and a reliability diagram; writes
    reports/<scenario>/score.json and score.html (with --all, also reports/score.*).

    Example: forecast score --all --format json
    """
    from ..jobs.score import score_scenarios
    from ..render.score_html import render_score_html

    result = score_scenarios(root, scenario, every=every, n_bins=bins, as_of=parse_as_of(as_of))
    if fmt is ScoreFormat.json:
        typer.echo(json.dumps(result.document, indent=2, ensure_ascii=False))
    elif fmt is ScoreFormat.html:
        typer.echo(render_score_html(result.document), nl=False)
    else:
        print_score(result.document, result.written)
