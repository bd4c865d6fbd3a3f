"""`forecast scenarios`."""

from __future__ import annotations

import json
from typing import Annotated

import typer
from rich.table import Table
from rich.text import Text

from ..model.calendar import overdue_warning
from .app import RootOption, TableOrJson, app, stdout_console, user_errors


def _count(value) -> str:
    return "" if value is None else str(value)


@app.command()
@user_errors
def scenarios(
    root: RootOption = None,
    fmt: Annotated[TableOrJson, typer.Option("--format", "-f", help="What to print on stdout.")] = (
        TableOrJson.table),
) -> None:
    """List the scenarios under the root: nodes, evidence items, resolutions, questions overdue
    today (past their deadline, unresolved), last snapshot.

    Example: forecast scenarios --format json
    """
    from ..jobs.scenarios import list_scenarios

    listing = list_scenarios(root)
    if fmt is TableOrJson.json:
        typer.echo(json.dumps(listing, indent=2, ensure_ascii=False))
        return
    if not listing["scenarios"]:
        typer.echo(f"No scenarios under {listing['root']} (priors/*.toml); start one with forecast new ID")
        return
    table = Table(title=f"Scenarios under {listing['root']}", title_justify="left")
    for name, justify in (("scenario", "left"), ("title", "left"), ("nodes", "right"),
                          ("evidence items", "right"), ("resolutions", "right"),
                          ("overdue", "right"), ("snapshots", "right"), ("last snapshot", "left")):
        table.add_column(name, justify=justify)
    for row in listing["scenarios"]:
        title = row["title"] or ""
        if row["error"]:
            title = (title + " " if title else "") + f"[invalid: {row['error']}]"
        cells = (row["id"], title, _count(row["nodes"]), _count(row["evidence_items"]),
                 _count(row["resolutions"]), _count(row["overdue"]), str(row["snapshots"]),
                 row["last_snapshot"] or "none")
        table.add_row(*(Text(cell) for cell in cells))
    console = stdout_console()
    console.print(table, highlight=False)
    for row in listing["scenarios"]:
        if row["overdue"]:
            warning = overdue_warning((n["id"], n["deadline"]) for n in row["overdue_nodes"])
            console.print(f"Overdue in {row['id']} (on {listing['evaluated_on']}): {warning}",
                          markup=False, highlight=False, soft_wrap=True)
