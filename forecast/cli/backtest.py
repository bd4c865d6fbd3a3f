"""`forecast backtest`."""

from __future__ import annotations

import json
from enum import Enum
from typing import Annotated

import typer
from rich.table import Table
from rich.text import Text

from ..render import num, pct
from .app import (
    DEFAULTS,
    Engine,
    EngineOption,
    RootOption,
    ScenarioOption,
    SeedOption,
    app,
    stdout_console,
    user_errors,
)


class BacktestFormat(str, Enum):
    table = "table"
    json = "json"
    html = "html"


def score_line(score: dict) -> str:
    if not score["n"]:
        return "Nothing scored"
    nodes = len(score.get("by_node", [])) or "?"
    return (f"{score['n']} scored forecasts of {nodes} resolved questions · Brier "
            f"{num(score['brier'])} · log score {num(score['log_score'])}")


def print_backtest(document: dict, written, display) -> None:

    console = stdout_console()
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
        table = Table(title=Text(f"Backtest of {document['scenario']}: {len(snapshots)} replays"
                                 f"{span} (engine {document['engine']}, seed {document['seed']})"),
                      title_justify="left")
        table.add_column("as of")
        table.add_column("items", justify="right")
        for node in document["nodes"]:
            table.add_column(Text(node["id"]), justify="right")
        for snap in snapshots:
            table.add_row(snap["as_of"], str(snap["evidence_items"]), *(
                f"resolved {n['resolved']}" if n["resolved"] else pct(n["mean"])
                for n in snap["nodes"]))
        console.print(table)
    score = document["score"]
    console.print("Pooled: " + score_line(score) if "scenarios" in document else score_line(score),
                  markup=False, highlight=False)
    if not score["n"]:
        console.print(document["empty_reason"], markup=False, highlight=False, soft_wrap=True)
    if written:
        console.print("Wrote " + ", ".join(display(p) for p in written), markup=False,
                      highlight=False, soft_wrap=True)


@app.command()
@user_errors
def backtest(
    scenario: ScenarioOption = DEFAULTS["scenario"],
    root: RootOption = None,
    every: Annotated[bool, typer.Option(
        "--all", help="Backtest every scenario under the root, each and pooled.")] = False,
    seed: SeedOption = DEFAULTS["seed"],
    engine: EngineOption = Engine.auto,
    fmt: Annotated[BacktestFormat, typer.Option("--format", "-f", help="What to print on stdout.")]
    = BacktestFormat.table,
) -> None:
    """Replay the forecast at each distinct evidence date (what `report --as-of DATE` gives
    that day) and score the replays against the resolutions as `forecast score` scores the
    history; writes reports/<scenario>/backtest.json and backtest.html (with --all, also
    reports/backtest.*, every scenario pooled).

    Example: forecast backtest --scenario us-tariffs-2025 --format json
    """
    from ..inference.settings import SamplerSettings
    from ..io.project import resolve_root
    from ..jobs.backtest import run_backtest  # loaded by this command only

    settings = SamplerSettings(progress=False)
    result = run_backtest(root, scenario, every=every, seed=seed, settings=settings,
                          engine=engine.value)
    if fmt is BacktestFormat.json:
        typer.echo(json.dumps(result.document, indent=2, ensure_ascii=False))
    elif fmt is BacktestFormat.html:
        from ..render.backtest import render_backtest_html

        typer.echo(render_backtest_html(result.document), nl=False)
    else:
        base = resolve_root(root)

        def display(path):
            try:
                return str(path.relative_to(base))
            except ValueError:
                return str(path)

        print_backtest(result.document, result.written, display)
