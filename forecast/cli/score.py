"""`forecast score`."""

from __future__ import annotations

import json
from typing import Annotated

import typer

from ..io.replay import parse_as_of
from .options import (
    DEFAULTS,
    AsOfOption,
    RootOption,
    ScenarioOption,
    TableJsonOrHtml,
    TableJsonOrHtmlOption,
    user_errors,
)


@user_errors
def score(
    scenario: ScenarioOption = DEFAULTS["scenario"],
    root: RootOption = None,
    as_of: AsOfOption = "",
    every: Annotated[bool, typer.Option(
        "--all", help="Score every scenario under the root, each and pooled.")] = False,
    bins: Annotated[int, typer.Option(min=1, max=100, help="Probability bins for calibration.")] = 10,
    fmt: TableJsonOrHtmlOption = TableJsonOrHtml.table,
) -> None:
    """Score the forecast history against resolutions: Brier and log scores, the Murphy
    decomposition, a calibration table and a reliability diagram; writes
    reports/<scenario>/score.json and score.html (with --all, also reports/score.*).

    Example: forecast score --all --format json
    """
    from ..jobs.score import score_scenarios
    from ..render.score import print_score, render_score_html
    from ..render.terminal import stdout_console

    result = score_scenarios(root, scenario, every=every, n_bins=bins, as_of=parse_as_of(as_of))
    if fmt is TableJsonOrHtml.json:
        typer.echo(json.dumps(result.document, indent=2, ensure_ascii=False))
    elif fmt is TableJsonOrHtml.html:
        typer.echo(render_score_html(result.document), nl=False)
    else:
        print_score(result.document, result.written, stdout_console())
