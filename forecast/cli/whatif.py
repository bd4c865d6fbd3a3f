"""`forecast whatif`."""

from __future__ import annotations

from enum import Enum
from typing import Annotated

import typer

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
    SeedOption,
    sampler_options,
    user_errors,
)


class WhatifFormat(str, Enum):
    table = "table"
    md = "md"
    json = "json"


@user_errors
@sampler_options
def whatif(
    given: Annotated[list[str], typer.Option(
        "--given", "-g", help="A condition NODE=STATE (NODE=yes or NODE=no on a yes/no "
        "question); repeat for several.",
        show_default=False)],
    scenario: ScenarioOption = DEFAULTS["scenario"],
    root: RootOption = None,
    as_of: AsOfOption = "",
    seed: SeedOption = DEFAULTS["seed"],
    fmt: Annotated[WhatifFormat, typer.Option("--format", "-f", help="What to print on stdout.")]
    = WhatifFormat.table,
    engine: EngineOption = Engine.auto,
    settings: SamplerSettings | None = None,
    cache: CacheOption = True,
    analyst: OneAnalystOption = "",
) -> None:
    """Conditional forecasts of every node if some nodes resolve a given way, beside the
    unconditional forecasts (the condition is hard evidence, as a resolution would be).
    Writes no files.

    On a question of more than two outcomes, name a state: --given attacks=sporadic.
    With analysts' files, each analyst's conditional forecast and the team's pool of them
    (--analyst NAME: one analyst alone).

    Example: forecast whatif --given turkish_deployment=yes
    """
    from ..api import Project
    from ..render import render_json
    from ..render.whatif import render_whatif_markdown, render_whatif_text

    document = Project(root).whatif(given, scenario, engine.value, as_of, seed, settings,
                                    use_cache=cache, analyst=analyst).document
    if fmt is WhatifFormat.json:
        typer.echo(render_json(document), nl=False)
    elif fmt is WhatifFormat.md:
        typer.echo(render_whatif_markdown(document), nl=False)
    else:
        typer.echo(render_whatif_text(document), nl=False)
