"""`forecast scenarios`."""

from __future__ import annotations

import json

import typer

from .options import RootOption, TableOrJson, TableOrJsonOption, user_errors


@user_errors
def scenarios(
    root: RootOption = None,
    fmt: TableOrJsonOption = TableOrJson.table,
) -> None:
    """List the scenarios under the root: nodes, evidence items, resolutions, questions overdue
    today (past their deadline, unresolved), last snapshot.

    Example: forecast scenarios --format json
    """
    from ..jobs.scenarios import list_scenarios
    from ..render.scenarios import print_scenarios
    from ..render.terminal import stdout_console

    listing = list_scenarios(root)
    if fmt is TableOrJson.json:
        typer.echo(json.dumps(listing, indent=2, ensure_ascii=False))
        return
    if not listing["scenarios"]:
        typer.echo(f"No scenarios under {listing['root']} (priors/*.toml); start one with forecast new ID")
        return
    print_scenarios(listing, stdout_console())
