"""`forecast report`."""

from __future__ import annotations

import typer

from .options import (
    DEFAULTS,
    AnalystOption,
    AsOfOption,
    CacheOption,
    Engine,
    EngineOption,
    Format,
    FormatOption,
    RootOption,
    SamplerSettings,
    ScenarioOption,
    SeedOption,
    StrictOption,
    sampler_options,
    user_errors,
)


@user_errors
@sampler_options
def report(
    scenario: ScenarioOption = DEFAULTS["scenario"],
    root: RootOption = None,
    as_of: AsOfOption = "",
    seed: SeedOption = DEFAULTS["seed"],
    fmt: FormatOption = Format.table,
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
    if fmt is Format.table:
        console = stdout_console()
        print_report(result.document, console)
        written = ", ".join(project.paths(scenario).display(p) for p in result.written)
        console.print(f"Wrote {written}", markup=False, highlight=False)
    else:
        typer.echo(render(result.document, fmt.value), nl=False)
