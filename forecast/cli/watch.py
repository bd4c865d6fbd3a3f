"""`forecast watch` and `forecast sensitivity`: decision support."""

from __future__ import annotations

from typing import Annotated

import typer

from ..inference.settings import WATCH_DRAWS
from ..io.project import scenario_paths
from ..io.replay import parse_as_of
from .options import (
    DEFAULTS,
    AsOfOption,
    CacheOption,
    Engine,
    EngineOption,
    OneAnalystOption,
    RootOption,
    SamplerSettings,
    ScenarioOption,
    SchedulerOption,
    SeedOption,
    TableOrJson,
    TableOrJsonOption,
    WorkersOption,
    sampler_options,
    task_progress,
    user_errors,
    where_of,
)

TargetOption = Annotated[list[str] | None, typer.Option(
    "--target", "-t", help="A target question whose forecast matters; repeat for several "
    "(default: every unresolved consequence).", show_default=False)]


@user_errors
@sampler_options
def watch(
    target: TargetOption = None,
    scenario: ScenarioOption = DEFAULTS["scenario"],
    root: RootOption = None,
    as_of: AsOfOption = "",
    seed: SeedOption = DEFAULTS["seed"],
    fmt: TableOrJsonOption = TableOrJson.table,
    cpt_draws: Annotated[int, typer.Option(
        "--cpt-draws", min=20, max=5000,
        help="Posterior draws of the CPT entries behind each value's spread.")] = WATCH_DRAWS,
    engine: EngineOption = Engine.auto,
    settings: SamplerSettings | None = None,
    cache: CacheOption = True,
    analyst: OneAnalystOption = "",
) -> None:
    """Which unresolved question is most worth watching: for each, the expected reduction of
    the targets' summed Brier uncertainty if it were resolved next (value of information),
    best first, with its spread over the CPT uncertainty. Exact on table-CPT scenarios; on
    NUTS scenarios, averaged over the sampler's draws (--draws/--tune/--chains). With
    analysts' files, the team's: the forecasts are the pool of the analysts', each value the
    mean of the analysts' own values (--analyst NAME: one analyst alone). Writes no files.

    Example: forecast watch --target f35_reinstatement --format json
    """
    from ..jobs.watch import watch_document
    from ..render import json_lines
    from ..render.decisions import render_watch_text

    document = watch_document(scenario_paths(root, scenario), target or [], parse_as_of(as_of),
                              seed, cpt_draws, engine.value, settings, use_cache=cache,
                              analyst=analyst or None)
    if fmt is TableOrJson.json:
        typer.echo(json_lines(document["watch"]))
    else:
        typer.echo(render_watch_text(document), nl=False)


@user_errors
def sensitivity(
    target: TargetOption = None,
    scenario: ScenarioOption = DEFAULTS["scenario"],
    root: RootOption = None,
    as_of: AsOfOption = "",
    fmt: TableOrJsonOption = TableOrJson.table,
    top: Annotated[int | None, typer.Option(
        "--top", min=1, help="Entries per target (default: 10 in the table, all in JSON).",
        show_default=False)] = None,
    workers: WorkersOption = None,
    scheduler: SchedulerOption = None,
    progress: Annotated[bool, typer.Option(help="Show progress on stderr (with --workers or "
                                                "--scheduler).")] = True,
    analyst: OneAnalystOption = "",
) -> None:
    """Which prior each forecast hangs on: per target, its forecast with one CPT entry at its
    prior's 5% and 95% quantiles (every other entry at its prior mean), widest swing first.
    Exact; writes no files. With analysts' files, the team's: the pool of each analyst's
    forecast with the number at their own quantile (--analyst NAME: one analyst alone).

    Example: forecast sensitivity --target russia_ties_strained --top 5
    """
    from ..jobs.sensitivity import sensitivity_document
    from ..render import json_lines
    from ..render.decisions import render_sensitivity_text

    where = where_of(workers, scheduler)
    with task_progress(progress and not where.in_process) as report:
        document = sensitivity_document(scenario_paths(root, scenario), target or [],
                                        parse_as_of(as_of), top, where, report("sensitivity rows"),
                                        analyst=analyst or None)
    if fmt is TableOrJson.json:
        typer.echo(json_lines(document["sensitivity"]))
    else:
        typer.echo(render_sensitivity_text(document, top or 10), nl=False)
