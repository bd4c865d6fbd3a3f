"""`forecast evidence add / import / remove / edit / list / validate`: editing and reading
evidence files.

These commands never import PyMC, PyTensor or arviz (they only read and write files)."""

from __future__ import annotations

import json
from enum import Enum
from pathlib import Path
from typing import Annotated

import typer

from ..io.project import scenario_paths
from .options import DEFAULTS, RootOption, ScenarioOption, TableOrJson, user_errors

evidence_app = typer.Typer(
    help="Add, import, remove, edit, list and validate coded evidence.\n\n"
    "Example: forecast evidence list --node ceasefire",
    no_args_is_help=True,
)


class ListFormat(str, Enum):
    table = "table"
    json = "json"
    csv = "csv"


PrintFormatOption = Annotated[TableOrJson, typer.Option("--format", "-f", help="What to print.")]


def _print_written(written, fmt: TableOrJson, verb: str) -> None:
    from ..render.evidence import item_record, written_line

    if fmt is TableOrJson.json:
        typer.echo(json.dumps({"path": written.path, "item_ids": list(written.item_ids),
                               "rows": [item_record(it) for it in written.rows]}
                              | ({"notes": list(written.notes)} if written.notes else {}),
                              indent=2))
        return
    typer.echo(written_line(written, verb))
    for note in written.notes:
        typer.echo(f"Note: {note}")


@evidence_app.command("add")
@user_errors
def add(
    node: Annotated[list[str], typer.Option("--node", "-n", help="Node the item bears on (repeatable).")],
    lr: Annotated[list[str], typer.Option(
        "--lr", help="Likelihood ratio (number or scale name): one for all nodes, or one per --node, "
        "in the same order. On a node with more than two states, for the --state given, or k "
        "numbers joined by ':' (one per state, in the node's order) without --state.")],
    source: Annotated[str, typer.Option(help="Where the item comes from.")],
    reliability: Annotated[str, typer.Option(help="Admiralty source reliability, A-F.")],
    credibility: Annotated[str, typer.Option(help="Admiralty information credibility, 1-6.")],
    summary: Annotated[str, typer.Option(help="What the item says, in one or two sentences.")],
    date: Annotated[str, typer.Option(
        help="Date of the item, YYYY-MM-DD (default: today's date, stated in the output).",
        show_default=False)] = "",
    cluster: Annotated[str, typer.Option(help="Cluster id shared by items reporting one event.")] = "",
    url: Annotated[str, typer.Option(help="Link to the source.")] = "",
    quote: Annotated[str, typer.Option(
        help="The sentence of the source the item codes, verbatim, so a reader can trace it.")] = "",
    item_id: Annotated[str, typer.Option("--item-id", help="Item id (default: the next free one, printed).",
                                         show_default=False)] = "",
    state: Annotated[list[str] | None, typer.Option(
        "--state", help="The state of the node the --lr is for (yes/no nodes: yes, the default, "
        "or no): one for all nodes, or one per --node.", show_default=False)] = None,
    scenario: ScenarioOption = DEFAULTS["scenario"],
    root: RootOption = None,
    fmt: PrintFormatOption = TableOrJson.table,
) -> None:
    """Add one evidence item (one row per node); the whole file is checked before it is written.

    Without --date the item is dated today, and the output says so; a date after today is
    refused. On a node already resolved, an item dated on or after the resolution is refused
    (it would move nothing); one dated before it is kept, with a note (replays use it). Text a
    spreadsheet would run as a formula (= + - @ first) is stored with a ' before it.

    On a question of more than two outcomes, name the state the LR is for (--node attacks
    --lr 3 --state sustained) or give one LR per state (--lr 1:2:4).

    Example: forecast evidence add --node ceasefire --lr 2 --source Reuters --reliability B
    --credibility 2 --summary "Talks resume"
    """
    from ..io.evidence_rows import NewItem
    from ..jobs.evidence import add_item

    new = NewItem(nodes=tuple(node), lrs=tuple(lr), source=source, reliability=reliability,
                  credibility=credibility, summary=summary, date=date, cluster=cluster, url=url,
                  item_id=item_id, quote=quote, states=tuple(state or ()))
    written = add_item(scenario_paths(root, scenario), new)
    _print_written(written, fmt, "Added")
    if not date and fmt is TableOrJson.table:
        typer.echo(f"Dated {written.rows[0].date.isoformat()} (today: no --date given).")


@evidence_app.command("import")
@user_errors
def import_(
    file: Annotated[Path, typer.Argument(help="CSV with the evidence columns, in any order.",
                                         show_default=False)],
    scenario: ScenarioOption = DEFAULTS["scenario"],
    root: RootOption = None,
    fmt: PrintFormatOption = TableOrJson.table,
) -> None:
    """Import every row of a CSV, all or nothing: the file is checked whole first, with the
    rules of `evidence add` (an id already in the evidence must name the same item).

    Example: forecast evidence import new-items.csv --scenario turkey-peacekeeping
    """
    from ..jobs.evidence import import_items

    _print_written(import_items(scenario_paths(root, scenario), file), fmt, "Imported")


NodesOption = Annotated[list[str] | None, typer.Option(
    "--node", "-n", help="Only the item's rows on this node (repeatable; default: every row).",
    show_default=False)]
ItemArgument = Annotated[str, typer.Argument(help="The item's id, e.g. E012.", show_default=False)]


def _print_changed(changed, fmt: TableOrJson, verb: str) -> None:
    from ..render.evidence import changed_line, item_record

    if fmt is TableOrJson.json:
        typer.echo(json.dumps({"path": changed.path, "item_id": changed.item_id,
                               "nodes": list(changed.nodes),
                               "rows": [item_record(it) for it in changed.rows]}
                              | ({"notes": list(changed.notes)} if changed.notes else {}),
                              indent=2, ensure_ascii=False))
        return
    typer.echo(changed_line(changed, verb))
    for note in changed.notes:
        typer.echo(f"Note: {note}")


@evidence_app.command("remove")
@user_errors
def remove(
    item: ItemArgument,
    node: NodesOption = None,
    scenario: ScenarioOption = DEFAULTS["scenario"],
    root: RootOption = None,
    fmt: PrintFormatOption = TableOrJson.table,
) -> None:
    """Retract an item: delete its rows (or only those on --node), under the file's lock; the
    whole resulting file is checked first and every other row is kept byte for byte.

    Example: forecast evidence remove E012
    """
    from ..jobs.evidence import remove_item

    changed = remove_item(scenario_paths(root, scenario), item, tuple(node or ()))
    _print_changed(changed, fmt, "Removed")


@evidence_app.command("edit")
@user_errors
def edit(
    item: ItemArgument,
    node: NodesOption = None,
    lr: Annotated[list[str] | None, typer.Option(
        "--lr", help="New likelihood ratio: one for every row changed, or one per --node "
        "(a vector 1:2:4 clears the row's state).", show_default=False)] = None,
    state: Annotated[list[str] | None, typer.Option(
        "--state", help="New state the LR is for (\"\" for none): one for every row changed, or "
        "one per --node.", show_default=False)] = None,
    source: Annotated[str, typer.Option(help="New source.", show_default=False)] = "",
    reliability: Annotated[str, typer.Option(help="New source reliability, A-F.",
                                             show_default=False)] = "",
    credibility: Annotated[str, typer.Option(help="New information credibility, 1-6.",
                                             show_default=False)] = "",
    summary: Annotated[str, typer.Option(help="New summary.", show_default=False)] = "",
    date: Annotated[str, typer.Option(help="New date, YYYY-MM-DD.", show_default=False)] = "",
    cluster: Annotated[str | None, typer.Option(help="New cluster (\"\" for none).",
                                                show_default=False)] = None,
    url: Annotated[str | None, typer.Option(help="New link (\"\" for none).",
                                            show_default=False)] = None,
    quote: Annotated[str | None, typer.Option(help="New verbatim quote (\"\" for none).",
                                              show_default=False)] = None,
    scenario: ScenarioOption = DEFAULTS["scenario"],
    root: RootOption = None,
    fmt: PrintFormatOption = TableOrJson.table,
) -> None:
    """Correct an item: change the given fields in its rows (or only those on --node), checked
    like `add`; fields not given stay as they are. Date, source, grade, summary and url are the
    item's, shared by all its rows: they change on every row (no --node).

    Example: forecast evidence edit E012 --lr moderately_for --credibility 3
    """
    from ..jobs.evidence import Edit, edit_item

    change = Edit(lrs=tuple(lr or ()), states=tuple(state or ()), source=source, reliability=reliability,
                  credibility=credibility, summary=summary, date=date, cluster=cluster, url=url,
                  quote=quote)
    changed = edit_item(scenario_paths(root, scenario), item, change, tuple(node or ()))
    _print_changed(changed, fmt, "Changed")


@evidence_app.command("list")
@user_errors
def list_(
    node: Annotated[list[str] | None, typer.Option(
        "--node", "-n", help="Only these nodes (repeatable).")] = None,
    cluster: Annotated[list[str] | None, typer.Option(help="Only these clusters (repeatable).")] = None,
    since: Annotated[str, typer.Option(help="Only items dated on or after YYYY-MM-DD.")] = "",
    until: Annotated[str, typer.Option(help="Only items dated on or before YYYY-MM-DD.")] = "",
    grade: Annotated[str, typer.Option(help="Only this grade: B2, or B for any credibility.")] = "",
    state: Annotated[list[str] | None, typer.Option(
        "--state", help="Only rows whose LR is for this state (repeatable; yes/no nodes: an LR "
        "with no state is for yes).", show_default=False)] = None,
    scenario: ScenarioOption = DEFAULTS["scenario"],
    root: RootOption = None,
    fmt: Annotated[ListFormat, typer.Option("--format", "-f", help="table, json, or csv (safe "
                                            "for spreadsheets).")] = ListFormat.table,
) -> None:
    """List evidence rows, filtered by node, cluster, date and grade.

    Example: forecast evidence list --node ceasefire --since 2025-03-01 --format csv
    """
    from ..jobs.evidence import EvidenceFilter, list_items
    from ..render.evidence import export_csv, item_record

    where = EvidenceFilter(nodes=tuple(node or ()), clusters=tuple(cluster or ()), since=since,
                           until=until, grade=grade, states=tuple(state or ()))
    items = list_items(scenario_paths(root, scenario), where)
    if fmt is ListFormat.json:
        typer.echo(json.dumps([item_record(it) for it in items], indent=2, ensure_ascii=False))
    elif fmt is ListFormat.csv:
        typer.echo(export_csv(items), nl=False)
    else:
        from ..render.evidence import items_table
        from ..render.terminal import stdout_console

        stdout_console().print(items_table(items))


@evidence_app.command("validate")
@user_errors
def validate(
    scenario: ScenarioOption = DEFAULTS["scenario"],
    root: RootOption = None,
    fmt: PrintFormatOption = TableOrJson.table,
) -> None:
    """Check a scenario's priors, evidence and resolutions; list every problem (exit 1 if any).

    Example: forecast evidence validate --scenario turkey-peacekeeping
    """
    from ..jobs.validate import validate_scenario

    paths = scenario_paths(root, scenario)
    result = validate_scenario(paths)
    if fmt is TableOrJson.json:
        typer.echo(json.dumps({"ok": result.ok, "checked": result.checked,
                               "problems": [str(p) for p in result.problems]}, indent=2))
    else:
        for problem in result.problems:
            typer.echo(f"Error: {problem}", err=True)
        if result.ok:
            typer.echo("OK: " + "; ".join(f"{path} ({what})" for path, what in result.checked.items()))
    if not result.ok:
        raise typer.Exit(1)

