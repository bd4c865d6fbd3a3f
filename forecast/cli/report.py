"""`forecast report`."""

from __future__ import annotations

from typing import Annotated

import typer

from .options import (
    DEFAULTS,
    AnalystOption,
    AsOfOption,
    CacheOption,
    Engine,
    EngineOption,
    Format,
    RootOption,
    SamplerSettings,
    ScenarioOption,
    SeedOption,
    StrictOption,
    sampler_options,
    user_errors,
)

ReportFormatOption = Annotated[Format | None, typer.Option(
    "--format", "-f", show_default=False,
    help="What to print on stdout (default: the terminal table; for a long report, the "
    "questions that moved most, the full table being in report.md).")]


@user_errors
@sampler_options
def report(
    scenario: ScenarioOption = DEFAULTS["scenario"],
    root: RootOption = None,
    as_of: AsOfOption = "",
    seed: SeedOption = DEFAULTS["seed"],
    fmt: ReportFormatOption = None,
    strict: StrictOption = False,
    engine: EngineOption = Engine.auto,
    settings: SamplerSettings | None = None,
    cache: CacheOption = True,
    analyst: AnalystOption = "",
) -> None:
    """Fit a scenario and write report.md, report.html and report.json.

    Example: forecast report --scenario turkey-peacekeeping --format json
    (one analyst alone: forecast report --analyst alice)
    """
    from ..api import Project
    from ..render import render
    from ..render.terminal import print_report, stdout_console

    project = Project(root)
    result = project.report(scenario, engine.value, as_of, seed,
                            settings, write=True,
                            strict=strict, use_cache=cache, analyst=analyst)
    if fmt is None or fmt is Format.table:
        console = stdout_console()
        display = project.paths(scenario).display
        # by default a long report shows its compact table, and says where the full one is
        full_table = next((display(p) for p in result.written if p.name == "report.md"), "")
        print_report(result.document, console, full_table if fmt is None else "")
        written = ", ".join(display(p) for p in result.written)
        console.print(f"Wrote {written}", markup=False, highlight=False)
    else:
        typer.echo(render(result.document, fmt.value), nl=False)
