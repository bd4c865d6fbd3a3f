"""`forecast network import / export`: exchange networks with GeNIe, Netica, Hugin, bnlearn and
UAI tools (through pyAgrum, the optional extra `forecast[networks]`). Neither imports PyMC."""

from __future__ import annotations

import datetime as dt
import json
from enum import Enum
from pathlib import Path
from typing import Annotated

import typer

from .options import DEFAULTS, RootOption, ScenarioOption, TableOrJson, TableOrJsonOption, user_errors

network_app = typer.Typer(
    help="Bring a network from GeNIe (XDSL, DSL), Netica or Hugin (NET), bnlearn (BIF) or UAI in "
    "as a scenario; write a scenario's network back out.\n\n"
    "Example: forecast network import asia.bif",
    no_args_is_help=True,
)


class NetworkFormat(str, Enum):
    bif = "bif"
    xdsl = "xdsl"
    net = "net"
    uai = "uai"


@network_app.command("import")
@user_errors
def import_(
    file: Annotated[Path, typer.Argument(
        help="A network file: .bif, .xdsl, .dsl, .net or .uai (read by its extension).",
        show_default=False)],
    scenario_id: Annotated[str | None, typer.Option(
        "--id", help="Scenario id (default: the file's stem, lowercased, other characters as _).",
        show_default=False)] = None,
    strength: Annotated[float | None, typer.Option(
        help="Make each CPT row a Dirichlet prior of this strength around the file's numbers "
        "(default: the rows as fixed probabilities).", show_default=False)] = None,
    root: RootOption = None,
    fmt: TableOrJsonOption = TableOrJson.table,
) -> None:
    """Write priors/ID.toml from a network file (states in the file's order, each CPT row as
    one line of the compact table form), with header-only evidence and resolutions CSVs. Every
    question, resolution and rationale is a placeholder that `forecast evidence validate` lists
    until you write it. Never overwrites.

    Example: forecast network import asia.bif --strength 20
    """
    from ..jobs.network import import_network

    result = import_network(root, file, dt.date.today(), scenario_id, strength)
    if fmt is TableOrJson.json:
        typer.echo(json.dumps(result.as_json(), indent=2, ensure_ascii=False))
        return
    how = "fixed" if strength is None else f"Dirichlet priors of strength {strength:g}"
    sid = result.paths.scenario_id
    typer.echo(f"Imported {result.source}: {result.nodes} nodes, {result.rows} CPT rows ({how}). "
               "Created " + ", ".join(result.as_json()["created"]))
    typer.echo(f"Next: write the questions (forecast evidence validate --scenario {sid} lists "
               f"them), then forecast report --scenario {sid}")


@network_app.command("export")
@user_errors
def export(
    fmt: Annotated[NetworkFormat, typer.Option("--format", "-f", help="The file format.",
                                               show_default=False)],
    scenario: ScenarioOption = DEFAULTS["scenario"],
    output: Annotated[Path | None, typer.Option(
        "--output", "-o", help="Write the network to this file (default: stdout).",
        show_default=False)] = None,
    root: RootOption = None,
) -> None:
    """Write a scenario's network at its prior means (parametric CPTs as their expanded
    tables) so GeNIe, Netica, Hugin and pyAgrum open it.

    Example: forecast network export --scenario asia --format xdsl -o asia.xdsl
    """
    from ..jobs.network import export_network

    result = export_network(root, scenario, fmt.value, output)
    if output is None:
        typer.echo(result.data, nl=False)
        return
    typer.echo(f"Wrote {output} ({result.fmt}, {result.nodes} nodes)")

