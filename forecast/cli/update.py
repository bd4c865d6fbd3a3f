"""`forecast update`: refit, append a snapshot, and say what changed and why."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer

from ..io.project import scenario_paths
from ..io.replay import parse_as_of
from .options import (
    DEFAULTS,
    AsOfOption,
    CacheOption,
    Engine,
    EngineOption,
    RootOption,
    SamplerSettings,
    ScenarioOption,
    SeedOption,
    StrictOption,
    TableOrJson,
    TableOrJsonOption,
    sampler_options,
    user_errors,
)


@user_errors
@sampler_options
def update(
    scenario: ScenarioOption = DEFAULTS["scenario"],
    root: RootOption = None,
    as_of: AsOfOption = "",
    seed: SeedOption = DEFAULTS["seed"],
    fmt: TableOrJsonOption = TableOrJson.table,
    import_file: Annotated[Path | None, typer.Option(
        "--import", help="First import this evidence CSV (all or nothing).", show_default=False)] = None,
    strict: StrictOption = False,
    engine: EngineOption = Engine.auto,
    settings: SamplerSettings | None = None,
    cache: CacheOption = True,
) -> None:
    """Refit with the current evidence, append a snapshot to history.jsonl, rewrite the
    reports, and print what moved each forecast since the previous snapshot.

    Example: forecast update --scenario turkey-peacekeeping
    """
    from ..jobs.update import run_update
    from ..render.terminal import stdout_console
    from ..render.update import print_update, update_json

    paths = scenario_paths(root, scenario)
    result = run_update(paths, seed, settings, strict=strict, import_file=import_file,
                        as_of=parse_as_of(as_of), engine=engine.value, use_cache=cache)
    if fmt is TableOrJson.json:
        typer.echo(json.dumps(update_json(result), indent=2, ensure_ascii=False))
    else:
        print_update(result, paths.display, stdout_console())
