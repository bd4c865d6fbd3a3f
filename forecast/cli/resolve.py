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
    outcome: Annotated[str, typer.Argument(help="yes or no.", show_default=False)],
    source: Annotated[str, typer.Option("--source", help="Where the outcome is documented.",
                                        show_default=False)],
    date: Annotated[str | None, typer.Option(
        "--date", help="Resolution date YYYY-MM-DD [default: today].", show_default=False)] = None,
    scenario: ScenarioOption = DEFAULTS["scenario"],
    root: RootOption = None,
    fmt: Annotated[ResolveFormat, typer.Option("--format", "-f", help="What to print on stdout.")]
    = ResolveFormat.text,
) -> None:
    """Record a node's real outcome in evidence/<scenario>.resolutions.csv; from then on the
    node is hard evidence in every fit, and reports show it resolved.

    Example: forecast resolve ceasefire no --date 2026-03-11 --source "Reuters, 11 Mar 2026"
    """
    from ..jobs.resolve import resolve as record

    paths = scenario_paths(root, scenario)
    when = date if date is not None else dt.date.today().isoformat()
    resolution = record(paths, node, outcome, when, source)
    fields = {"scenario": paths.scenario_id, "node": resolution.node,
              "outcome": "yes" if resolution.outcome else "no",
              "date": resolution.date.isoformat(), "source": resolution.source,
              "file": paths.display(paths.resolutions)}
    if fmt is ResolveFormat.json:
        typer.echo(json.dumps(fields, indent=2, ensure_ascii=False))
    else:
        typer.echo(f"Recorded {fields['node']} = {fields['outcome']} on {fields['date']} "
                   f"in {fields['file']}")
