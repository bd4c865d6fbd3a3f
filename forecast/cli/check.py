"""`forecast check`."""

from __future__ import annotations

import json
from enum import Enum
from typing import Annotated

import typer

from ..errors import problem
from ..io.project import scenario_paths
from .options import (
    DEFAULTS,
    RootOption,
    ScenarioOption,
    SchedulerOption,
    SeedOption,
    TableOrJson,
    TableOrJsonOption,
    WorkersOption,
    chains_option,
    draws_option,
    progress_option,
    task_progress,
    tune_option,
    user_errors,
    where_of,
)


class CheckedEngine(str, Enum):
    nuts = "nuts"
    exact = "exact"


# What to do when the self-check fails: a failure at the 1% level can be chance, so the first
# step is always a larger rerun; one that persists is a finding.
CHECK_ADVICE = {
    ("agreement",): "Rerun with --draws 4000: if NUTS still disagrees with the exact engine, trust "
                    "the exact numbers (--engine exact) and report the scenario as a bug.",
    ("sbc",): "Rerun with --simulations 500: if calibration still fails, NUTS is miscalibrated on "
              "this scenario; use --engine exact where it applies, and report it.",
    ("agreement", "sbc"): "Rerun with --draws 4000 --simulations 500: if it still fails, use "
                          "--engine exact where it applies and report the scenario as a bug.",
}


@user_errors
def check(
    scenario: ScenarioOption = DEFAULTS["scenario"],
    root: RootOption = None,
    seed: SeedOption = DEFAULTS["seed"],
    simulations: Annotated[int, typer.Option(min=10, help="SBC simulations.")] = 200,
    draws: Annotated[int, draws_option("Draws per chain of the agreement fit.")] = DEFAULTS["draws"],
    tune: Annotated[int | None, tune_option(
        "Tuning steps of the agreement fit (if not given: 300 "
        "with nutpie, 1000 with PyMC's own sampler).")] = DEFAULTS["tune"],
    chains: Annotated[int, chains_option("Chains of the agreement fit (2 or more).")]
    = DEFAULTS["chains"],
    fmt: TableOrJsonOption = TableOrJson.table,
    progress: Annotated[bool, progress_option("Show progress on stderr.")] = True,
    engine: Annotated[CheckedEngine, typer.Option(
        "--engine", help="The engine to check: nuts (against the exact engine, then SBC) or "
        "exact (against importance sampling over the priors, then SBC of its exact draws).")]
    = CheckedEngine.nuts,
    workers: WorkersOption = None,
    scheduler: SchedulerOption = None,
) -> None:
    """Self-check of the inference: NUTS against the exact reference on this scenario (z per
    node, or per node-state where questions have more outcomes), then simulation-based
    calibration with the same compiled model. Writes reports/<scenario>/check.json and
    check.html; exits 1 if the check fails. Cost: one NUTS fit per simulation; on the shipped
    Turkey scenario (13 questions) the default 200 took 58 s on a quiet 2-core machine
    (bench/README.md).

    Example: forecast check --scenario turkey-peacekeeping --simulations 1000 --workers 4
    """
    from ..jobs.check import CheckSettings, run_check
    from ..render.check import print_check
    from ..render.terminal import stdout_console

    where = where_of(workers, scheduler)
    paths = scenario_paths(root, scenario)
    settings = CheckSettings(seed=seed, simulations=simulations, agreement_draws=draws,
                             agreement_tune=tune, agreement_chains=chains)
    with task_progress(progress) as stage:
        stages: dict = {}

        def report(name: str, done: int, total: int) -> None:
            if name not in stages:
                stages[name] = stage(name)
            stages[name](done, total)

        result = run_check(paths, settings, progress=report if progress else None,
                           engine=engine.value, where=where)
    document = result.document
    if fmt is TableOrJson.json:
        typer.echo(json.dumps(document, indent=2, ensure_ascii=False))
    else:
        print_check(document, [paths.display(p) for p in result.written], stdout_console())
    if not document["passed"]:
        failed = [part for part in ("agreement", "sbc") if not document[part]["passed"]]
        raise problem(paths.display(paths.reports / "check.html"), None, None,
                      "self-check failed (" + ", ".join(failed) + "); see the report. "
                      + CHECK_ADVICE[tuple(failed)])
