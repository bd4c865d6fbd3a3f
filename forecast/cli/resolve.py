"""`forecast resolve`."""

from __future__ import annotations

import datetime as dt
import json
from enum import Enum
from typing import Annotated

import typer

from ..io.project import scenario_paths
from .options import DEFAULTS, RootOption, ScenarioOption, user_errors


class ResolveFormat(str, Enum):
    text = "text"
    json = "json"


@user_errors
def resolve(
    node: Annotated[str, typer.Argument(help="The node that resolved.", show_default=False)],
    outcome: Annotated[str | None, typer.Argument(help="yes or no, or on a question of other "
                                                  "outcomes the state that happened (not with "
                                                  "--undo).",
                                                  show_default=False)] = None,
    source: Annotated[str | None, typer.Option(
        "--source", help="Where the outcome is documented (with --undo: why it is retracted).",
        show_default=False)] = None,
    date: Annotated[str | None, typer.Option(
        "--date", help="Resolution (or retraction) date YYYY-MM-DD, not after today "
        "(default: today).", show_default=False)] = None,
    undo: Annotated[bool, typer.Option(
        "--undo", help="Retract NODE's resolution: a `retracted` row is appended (the file "
        "keeps its history) and NODE is a forecast again.")] = False,
    scenario: ScenarioOption = DEFAULTS["scenario"],
    root: RootOption = None,
    fmt: Annotated[ResolveFormat, typer.Option("--format", "-f", help="What to print on stdout.")]
    = ResolveFormat.text,
) -> None:
    """Record a node's real outcome in evidence/<scenario>.resolutions.csv; from then on the
    node is hard evidence in every fit, and reports show it resolved. With --undo, retract a
    resolution recorded by mistake (a row is appended; nothing is erased).

    A question of more than two outcomes resolves to the state that happened (forecast
    resolve attacks sporadic ...).

    Example: forecast resolve ceasefire no --date 2026-03-11 --source "Reuters, 11 Mar 2026"
    """
    from ..jobs.resolve import resolve as record
    from ..jobs.resolve import undo as retract

    paths = scenario_paths(root, scenario)
    when = date if date is not None else dt.date.today().isoformat()
    if undo:
        if outcome is not None:
            raise typer.BadParameter("no OUTCOME with --undo", param_hint="OUTCOME")
        resolution = retract(paths, node, when, source or "retracted with forecast resolve --undo")
    else:
        if outcome is None:
            raise typer.BadParameter("yes or no, or the state that happened (or --undo to "
                                     "retract)", param_hint="OUTCOME")
        if source is None:
            raise typer.BadParameter("where the outcome is documented", param_hint="--source")
        resolution = record(paths, node, outcome, when, source)
    fields = {"scenario": paths.scenario_id, "node": resolution.node,
              "outcome": resolution.state,
              "date": resolution.date.isoformat(), "source": resolution.source,
              "file": paths.display(paths.resolutions)}
    if undo:
        fields["retracted"] = when
    if fmt is ResolveFormat.json:
        typer.echo(json.dumps(fields, indent=2, ensure_ascii=False))
    elif undo:
        typer.echo(f"Retracted {fields['node']} = {fields['outcome']} (resolved "
                   f"{fields['date']}) on {when} in {fields['file']}; {fields['node']} is a "
                   "forecast again")
    else:
        typer.echo(f"Recorded {fields['node']} = {fields['outcome']} on {fields['date']} "
                   f"in {fields['file']}")
