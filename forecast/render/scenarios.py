"""The scenarios under a root (`forecast scenarios`) on the terminal."""

from __future__ import annotations

from rich.console import Console
from rich.table import Table
from rich.text import Text

from ..model.calendar import overdue_warning


def _count(value) -> str:
    return "" if value is None else str(value)


def print_scenarios(listing: dict, console: Console) -> None:
    """One row per scenario (an invalid one says why), then its overdue questions."""
    table = Table(title=f"Scenarios under {listing['root']}", title_justify="left")
    widest = max((len(row["id"]) for row in listing["scenarios"]), default=0)
    for name, justify in (("scenario", "left"), ("title", "left"), ("nodes", "right"),
                          ("evidence items", "right"), ("resolutions", "right"),
                          ("overdue", "right"), ("snapshots", "right"), ("last snapshot", "left")):
        # an id is never cut (two ids cut alike look like one scenario); the title wraps
        whole = name in ("scenario", "last snapshot")
        table.add_column(name, justify=justify, no_wrap=whole, overflow="fold",
                         min_width=widest if name == "scenario" else None)
    for row in listing["scenarios"]:
        title = row["title"] or ""
        if row["error"]:
            title = (title + " " if title else "") + f"[invalid: {row['error']}]"
        cells = (row["id"], title, _count(row["nodes"]), _count(row["evidence_items"]),
                 _count(row["resolutions"]), _count(row["overdue"]), str(row["snapshots"]),
                 row["last_snapshot"] or "none")
        table.add_row(*(Text(cell) for cell in cells))
    console.print(table, highlight=False)
    for row in listing["scenarios"]:
        if row["overdue"]:
            warning = overdue_warning((n["id"], n["deadline"]) for n in row["overdue_nodes"])
            console.print(f"Overdue in {row['id']} (on {listing['evaluated_on']}): {warning}",
                          markup=False, highlight=False, soft_wrap=True)
