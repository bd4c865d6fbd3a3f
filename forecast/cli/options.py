"""What every command shares, defined once before any command (as sqlite-utils defines its
option decorators above its commands): the option types, their defaults, the sampler settings
they make, and the wrapper that turns a user's mistake into one line on stderr.

A leaf: it imports no other module of `forecast.cli`, so every command imports it and `app.py`
imports every command, with no circle.
"""

from __future__ import annotations

import contextlib
import functools
import inspect
from enum import Enum
from pathlib import Path
from typing import Annotated

import typer

from .. import DEFAULT_SEED
from ..errors import ForecastError
from ..inference.settings import ENGINES, SamplerSettings  # no PyMC: cheap for every command

ScenarioOption = Annotated[str | None, typer.Option(
    "--scenario", "-s", help="Scenario id (priors/ID.toml; default: the only scenario under "
    "the root, or turkey-peacekeeping among several).", show_default=False)]
RootOption = Annotated[Path | None, typer.Option(
    "--root", help="Project root (default: $FORECAST_ROOT, else the current directory).",
    show_default=False)]
SeedOption = Annotated[int, typer.Option("--seed", min=0, max=2**32 - 1, help="Random seed for the sampler.")]


class Backend(str, Enum):
    auto = "auto"
    nutpie = "nutpie"
    pymc = "pymc"


# the engines' one list (forecast.inference.settings.ENGINES), as the CLI's choices
Engine = Enum("Engine", {name: name for name in ENGINES}, type=str)


EngineOption = Annotated[Engine, typer.Option(
    "--engine", help="Inference engine: exact (numpy, exact means, no sampling), nuts (PyMC's "
    "NUTS), or auto (exact wherever it is exact, NUTS otherwise).")]


class TableOrJson(str, Enum):
    """--format of the commands that print a summary: a table for people, JSON for programs."""

    table = "table"
    json = "json"


class TableJsonOrHtml(str, Enum):
    """--format of the commands that also write a page (score, backtest): it can print that too."""

    table = "table"
    json = "json"
    html = "html"


class Format(str, Enum):
    table = "table"
    md = "md"
    html = "html"
    json = "json"
    csv = "csv"


AnalystOption = Annotated[str, typer.Option(
    "--analyst", metavar="NAME",
    help="Report one analyst alone (priors/<scenario>/NAME.toml), written under "
    "reports/<scenario>/analysts/NAME/; without it a scenario with analysts' files reports "
    "the team's pooled forecast.", show_default=False)]
OneAnalystOption = Annotated[str, typer.Option(
    "--analyst", metavar="NAME",
    help="Answer for one analyst alone (priors/<scenario>/NAME.toml); without it a scenario "
    "with analysts' files answers for the team (each analyst's own, then their pool).",
    show_default=False)]
AsOfOption = Annotated[str, typer.Option(
    "--as-of", metavar="DATE",
    help="Replay: use only the evidence and resolutions dated on or before DATE (YYYY-MM-DD), "
    "the forecast the tool would have made that day; also the evaluation date for overdue "
    "questions (default: today, with everything).", show_default=False)]
CacheOption = Annotated[bool, typer.Option(
    help="Reuse the posterior of an earlier fit of exactly the same inputs.")]
StrictOption = Annotated[bool, typer.Option(
    "--strict", help="Exit 1 on divergences, R-hat > 1.01 or low ESS.")]
FormatOption = Annotated[Format, typer.Option("--format", "-f", help="What to print on stdout.")]
TableOrJsonOption = Annotated[TableOrJson, typer.Option("--format", "-f", help="What to print on stdout.")]
TableJsonOrHtmlOption = Annotated[TableJsonOrHtml, typer.Option("--format", "-f",
                                                                help="What to print on stdout.")]


# Sampler options of the commands that fit (report, update, whatif, watch; check, with its own
# help since it fits twice): one place for their bounds.
def draws_option(help: str = "Posterior draws per chain."):
    return typer.Option(min=100, help=help)


def tune_option(help: str = "Tuning steps per chain (if not given: 300 with nutpie, 1000 with PyMC's "
                            "own sampler)."):
    return typer.Option(min=100, help=help)


def chains_option(help: str = "Number of chains (at least 2)."):
    return typer.Option(min=2, max=16, help=help)


def progress_option(help: str = "Show sampling progress on stderr."):
    return typer.Option(help=help)


DrawsOption = Annotated[int, draws_option()]
TuneOption = Annotated[int | None, tune_option()]
ChainsOption = Annotated[int, chains_option()]
ProgressOption = Annotated[bool, progress_option()]
BackendOption = Annotated[Backend, typer.Option(
    help="NUTS implementation, when the NUTS engine runs: nutpie (its Rust NUTS on the kernel's "
    "density, compiled once per machine) or pymc (PyMC's own sampler on its model); auto is "
    "nutpie, measured the faster at every size (bench/README.md).")]

DEFAULTS = {"scenario": None, "seed": DEFAULT_SEED, "draws": 1000, "tune": None,
            "chains": 4}


def sampler_settings(draws: int = DEFAULTS["draws"], tune: int | None = DEFAULTS["tune"],
                     chains: int = DEFAULTS["chains"], progress: bool = False,
                     backend: Backend = Backend.auto) -> SamplerSettings:
    """The sampler options of a command as the settings the library takes."""
    return SamplerSettings(draws=draws, tune=tune, chains=chains, progress=progress,
                           backend=backend.value)


SAMPLER_OPTIONS = (
    inspect.Parameter("draws", inspect.Parameter.KEYWORD_ONLY, default=DEFAULTS["draws"],
                      annotation=DrawsOption),
    inspect.Parameter("tune", inspect.Parameter.KEYWORD_ONLY, default=DEFAULTS["tune"],
                      annotation=TuneOption),
    inspect.Parameter("chains", inspect.Parameter.KEYWORD_ONLY, default=DEFAULTS["chains"],
                      annotation=ChainsOption),
    inspect.Parameter("progress", inspect.Parameter.KEYWORD_ONLY, default=True,
                      annotation=ProgressOption),
    inspect.Parameter("backend", inspect.Parameter.KEYWORD_ONLY, default=Backend.auto,
                      annotation=BackendOption),
)


def sampler_options(command):
    """The sampler options (--draws, --tune, --chains, --progress, --backend), declared once, as
    sqlite-utils declares its shared option groups: they take the place of the command's
    `settings: SamplerSettings` parameter in its signature (so in its --help), and the command
    is called with the settings they make."""
    signature = inspect.signature(command, eval_str=True)
    parameters = []
    for parameter in signature.parameters.values():
        if parameter.name == "settings":
            parameters += SAMPLER_OPTIONS
        else:
            parameters.append(parameter.replace(kind=inspect.Parameter.KEYWORD_ONLY))

    @functools.wraps(command)
    def wrapper(**options):
        settings = sampler_settings(*(options.pop(p.name) for p in SAMPLER_OPTIONS))
        return command(settings=settings, **options)

    wrapper.__signature__ = signature.replace(parameters=parameters)
    wrapper.__annotations__ = {p.name: p.annotation for p in parameters}
    return wrapper


WorkersOption = Annotated[int | None, typer.Option(
    "--workers", min=1, metavar="N", show_default=False,
    help="Run the work's tasks on N local processes (Dask; pip install \"forecast[distributed]\"); "
    "the output is the same as in process.")]
SchedulerOption = Annotated[str | None, typer.Option(
    "--scheduler", metavar="ADDRESS", show_default=False,
    help="Run the work's tasks on the running Dask cluster whose scheduler is at ADDRESS "
    "(e.g. tcp://10.0.0.5:8786); its workers need forecast installed.")]


def where_of(workers: int | None, scheduler: str | None):
    """Where a command's tasks run (`forecast.parallel.Where`); both options: a usage error."""
    from ..parallel import Where

    if workers is not None and scheduler is not None:
        raise typer.BadParameter("give one of --workers and --scheduler, not both",
                                 param_hint="--workers/--scheduler")
    return Where(workers, scheduler)


@contextlib.contextmanager
def task_progress(show: bool):
    """Progress on stderr counting finished tasks: yields stage name -> callback(done, total).
    The display starts with the first count, so an error before any work is one line alone."""
    if not show:
        yield lambda stage: None
        return
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    bar = Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
                   TimeElapsedColumn(), console=Console(stderr=True))
    try:
        def stage(name: str):
            ids: list = []

            def report(done: int, total: int) -> None:
                if not ids:
                    bar.start()
                    ids.append(bar.add_task(name, total=total))
                bar.update(ids[0], completed=done, total=total)

            return report

        yield stage
    finally:
        if bar.live.is_started:
            bar.stop()


def user_errors(command):
    """A user's mistake becomes one line on stderr and exit 1, never a traceback."""

    @functools.wraps(command)
    def wrapper(*args, **kwargs):
        try:
            return command(*args, **kwargs)
        except ForecastError as error:
            typer.echo(f"Error: {error}", err=True)
            raise typer.Exit(1) from None

    return wrapper
