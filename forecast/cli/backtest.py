"""`forecast backtest`."""

from __future__ import annotations

import json
from typing import Annotated

import typer

from .options import (
    DEFAULTS,
    Engine,
    EngineOption,
    RootOption,
    ScenarioOption,
    SchedulerOption,
    SeedOption,
    TableJsonOrHtml,
    TableJsonOrHtmlOption,
    WorkersOption,
    progress_option,
    sampler_settings,
    task_progress,
    user_errors,
    where_of,
)


@user_errors
def backtest(
    scenario: ScenarioOption = DEFAULTS["scenario"],
    root: RootOption = None,
    every: Annotated[bool, typer.Option(
        "--all", help="Backtest every scenario under the root, each and pooled.")] = False,
    seed: SeedOption = DEFAULTS["seed"],
    engine: EngineOption = Engine.auto,
    fmt: TableJsonOrHtmlOption = TableJsonOrHtml.table,
    workers: WorkersOption = None,
    scheduler: SchedulerOption = None,
    progress: Annotated[bool, progress_option("Show progress on stderr (with --workers or "
                                              "--scheduler).")] = True,
    analyst: Annotated[str, typer.Option(
        "--analyst", metavar="NAME",
        help="Replay and score one analyst alone (priors/<scenario>/NAME.toml), written under "
        "reports/<scenario>/analysts/NAME/; without it a scenario with analysts' files replays "
        "each analyst and scores their pool.", show_default=False)] = "",
) -> None:
    """Replay the forecast at each distinct evidence date (what `report --as-of DATE` gives
    that day) and score the replays against the resolutions as `forecast score` scores the
    history; writes reports/<scenario>/backtest.json and backtest.html (with --all, also
    reports/backtest.*, every scenario pooled).

    Example: forecast backtest --scenario us-tariffs-2025 --format json
    (one analyst alone: forecast backtest --analyst alice)
    """
    from ..api import Project

    where = where_of(workers, scheduler)
    project = Project(root)
    with task_progress(progress and not where.in_process) as report:
        result = project.backtest(scenario, every, engine.value, seed, sampler_settings(),
                                  write=True, workers=workers, scheduler=scheduler,
                                  progress=report("replays"), analyst=analyst)
    if fmt is TableJsonOrHtml.json:
        typer.echo(json.dumps(result.document, indent=2, ensure_ascii=False))
    elif fmt is TableJsonOrHtml.html:
        from ..render.backtest import render_backtest_html

        typer.echo(render_backtest_html(result.document), nl=False)
    else:
        from ..render.backtest import print_backtest
        from ..render.terminal import stdout_console

        def display(path):
            try:
                return str(path.relative_to(project.root))
            except ValueError:
                return str(path)

        print_backtest(result.document, result.written, display, stdout_console())
