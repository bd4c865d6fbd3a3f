"""`forecast new`."""

from __future__ import annotations

import datetime as dt
import json
from typing import Annotated

import typer

from .options import RootOption, TableOrJson, TableOrJsonOption, user_errors


@user_errors
def new(
    scenario_id: Annotated[str, typer.Argument(
        metavar="ID", help="New scenario id: lowercase letters, digits, - and _.")],
    title: Annotated[str | None, typer.Option(help="Scenario title.")] = None,
    trigger: Annotated[str | None, typer.Option(help="The triggering event, in words.")] = None,
    root: RootOption = None,
    fmt: TableOrJsonOption = TableOrJson.table,
) -> None:
    """Scaffold a scenario: priors/ID.toml (commented examples of every prior form and the
    default scales) and empty evidence and resolutions CSVs. Never overwrites.

    Example: forecast new red-sea-shipping --title "Red Sea shipping after the Houthi attacks"
    """
    from ..jobs.scenarios import new_scenario

    result = new_scenario(root, scenario_id, dt.date.today(), title, trigger)
    if fmt is TableOrJson.json:
        typer.echo(json.dumps(result.as_json(), indent=2, ensure_ascii=False))
        return
    typer.echo("Created " + ", ".join(result.as_json()["created"]))
    typer.echo(f"Next: edit priors/{scenario_id}.toml, then forecast report --scenario {scenario_id}")
