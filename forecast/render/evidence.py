"""Evidence on the terminal (`forecast evidence ...`): the rows a listing finds, and the one
line that says what an add, import, remove or edit wrote. Evidence text is data, never markup."""

from __future__ import annotations

from rich.table import Table
from rich.text import Text

from . import id_list


def items_table(items) -> Table:
    table = Table(title=f"{len(items)} evidence row(s), {len({it.item_id for it in items})} item(s)",
                  title_justify="left")
    for name, justify in (("item", "left"), ("node", "left"), ("date", "left"),
                          ("grade", "left"), ("w", "right"), ("LR", "right"),
                          ("cluster", "left"), ("summary", "left")):
        table.add_column(name, justify=justify)
    for it in items:
        summary = it.summary if len(it.summary) <= 60 else it.summary[:57] + "..."
        cells = (it.item_id, it.node, it.date.isoformat(), it.reliability + it.credibility,
                 f"{it.weight:.2f}", it.lr_text, it.cluster, summary)
        table.add_row(*(Text(cell) for cell in cells))      # evidence text is data, not markup
    return table


def written_line(written, verb: str) -> str:
    """What an add or an import wrote: its ids, the file, the rows (and each row of one item)."""
    ids = id_list(written.item_ids) if written.item_ids else "nothing"
    nodes = ", ".join(f"{it.node} (LR {it.lr_text}, w {it.weight:.2f})" for it in written.rows)
    return (f"{verb} {ids} to {written.path}: {len(written.rows)} row(s)"
            + (f": {nodes}" if len(written.item_ids) == 1 else ""))


def changed_line(changed, verb: str) -> str:
    """What a remove or an edit changed, and the command that says what it moved."""
    rows = ", ".join(f"{it.node} (LR {it.lr_text}, w {it.weight:.2f})" for it in changed.rows)
    return (f"{verb} {changed.item_id} {'from' if verb == 'Removed' else 'in'} {changed.path}: "
            f"{len(changed.nodes)} row(s): "
            + (rows or ", ".join(changed.nodes))
            + ". `forecast update` will say what this moved.")
