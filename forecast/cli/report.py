"""`forecast report`."""

from __future__ import annotations

import typer

from ..io.project import scenario_paths
from ..io.replay import parse_as_of
from .app import (
    DEFAULTS,
    AsOfOption,
    Backend,
    BackendOption,
    CacheOption,
    ChainsOption,
    DrawsOption,
    Engine,
    EngineOption,
    Format,
    FormatOption,
    ProgressOption,
    RootOption,
    ScenarioOption,
    SeedOption,
    StrictOption,
    TuneOption,
    app,
    stdout_console,
    user_errors,
)


@app.command()
@user_errors
def report(
    scenario: ScenarioOption = DEFAULTS["scenario"],
    root: RootOption = None,
    as_of: AsOfOption = "",
    seed: SeedOption = DEFAULTS["seed"],
    fmt: FormatOption = Format.table,
    strict: StrictOption = False,
    draws: DrawsOption = DEFAULTS["draws"],
    tune: TuneOption = DEFAULTS["tune"],
    chains: ChainsOption = DEFAULTS["chains"],
    progress: ProgressOption = True,
    engine: EngineOption = Engine.auto,
    backend: BackendOption = Backend.auto,
    cache: CacheOption = True,
) -> None:
    """Fit a scenario and write report.md, report.html and report.json.

    Example: forecast report --scenario turkey-peacekeeping --format json
    """
    from ..inference.settings import SamplerSettings
    from ..jobs.report import make_report
    from ..render import render
    from ..render.terminal import print_report

    paths = scenario_paths(root, scenario)
    settings = SamplerSettings(draws=draws, tune=tune, chains=chains, progress=progress,
                               backend=backend.value)
    result = make_report(paths, seed, settings, strict=strict, use_cache=cache,
                         as_of=parse_as_of(as_of), engine=engine.value)
    if fmt is Format.table:
        console = stdout_console()
        print_report(result.document, console)
        written = ", ".join(paths.display(p) for p in result.written)
        console.print(f"Wrote {written}", markup=False, highlight=False)
    else:
        typer.echo(render(result.document, fmt.value), nl=False)
