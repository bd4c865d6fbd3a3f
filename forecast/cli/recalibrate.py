"""`forecast recalibrate`."""

from __future__ import annotations

import json
from typing import Annotated

import typer

from .options import (
    DEFAULTS,
    RootOption,
    SchedulerOption,
    SeedOption,
    TableOrJson,
    TableOrJsonOption,
    WorkersOption,
    progress_option,
    task_progress,
    user_errors,
    where_of,
)


@user_errors
def recalibrate(
    root: RootOption = None,
    backtests: Annotated[bool, typer.Option(
        "--backtests", help="Also learn from the replayed forecasts (what `forecast backtest` "
        "replays: the team's pool and each analyst's own), for questions the histories do not "
        "hold.")] = False,
    seed: SeedOption = DEFAULTS["seed"],
    draws: Annotated[int | None, typer.Option(
        "--draws", min=100, help="Posterior draws per chain of the written fit (default 500; "
        "each held-out fold takes half).")] = None,
    tune: Annotated[int | None, typer.Option(
        "--tune", min=100, help="Warm-up steps per chain of the written fit (default 500; each "
        "held-out fold takes half): more where the diagnostics report divergences.")] = None,
    fmt: TableOrJsonOption = TableOrJson.table,
    workers: WorkersOption = None,
    scheduler: SchedulerOption = None,
    progress: Annotated[bool, progress_option("Show progress on stderr (with --workers or "
                                              "--scheduler).")] = True,
) -> None:
    """Learn from the track record how to correct the forecasts: logit p' = a + b logit p per
    analyst and for the team's pool (a hierarchical model sampled with NUTS, partial pooling,
    centred on leaving forecasts as they are), from every resolved yes/no question in the histories under
    the root, each question once; checked on held-out questions (k folds). Writes
    reports/recalibration.json; reports then show the recalibrated forecast beside the raw one.

    Example: forecast recalibrate --backtests --format json
    """
    from ..jobs.recalibrate import fit_settings, run_recalibrate  # loaded by this command only
    from ..render.recalibration import recalibration_text

    where = where_of(workers, scheduler)
    with task_progress(progress and not where.in_process) as report:
        result = run_recalibrate(root, seed, backtests, fit_settings(draws, tune), where=where,
                                 progress=report("fits"))
    if fmt is TableOrJson.json:
        typer.echo(json.dumps(result.document, indent=2, ensure_ascii=False))
    else:
        typer.echo(recalibration_text(result.document, result.written), nl=False)
