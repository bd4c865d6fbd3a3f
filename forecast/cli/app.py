"""The typer app and what every command shares: root and scenario options, user errors."""

from __future__ import annotations

import functools
import sys
from enum import Enum
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from .. import DEFAULT_SCENARIO, DEFAULT_SEED
from ..errors import ForecastError

app = typer.Typer(
    help="Bayesian forecasts for policy and intelligence analysts: scenario networks, coded "
    "evidence, verified inference.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)

ScenarioOption = Annotated[str, typer.Option("--scenario", "-s", help="Scenario id (priors/ID.toml).")]
RootOption = Annotated[Path | None, typer.Option(
    "--root", help="Project root [default: $FORECAST_ROOT, else the current directory].",
    show_default=False)]
SeedOption = Annotated[int, typer.Option("--seed", min=0, max=2**32 - 1, help="Random seed for the sampler.")]


class Backend(str, Enum):
    auto = "auto"
    nutpie = "nutpie"
    pymc = "pymc"


class Engine(str, Enum):
    auto = "auto"
    exact = "exact"
    nuts = "nuts"


EngineOption = Annotated[Engine, typer.Option(
    "--engine", help="Inference engine: exact (numpy, exact means, no sampling), nuts (PyMC's "
    "NUTS), or auto (exact wherever it is exact, NUTS otherwise).")]


class TableOrJson(str, Enum):
    """--format of the commands that print a summary: a table for people, JSON for programs."""

    table = "table"
    json = "json"


class Format(str, Enum):
    table = "table"
    md = "md"
    html = "html"
    json = "json"
    csv = "csv"


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


# Sampler options of the commands that fit (report, update, whatif; check, with its own help
# since it fits twice): one place for their bounds.
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
    help="NUTS implementation, when the NUTS engine runs: auto picks by network size (see "
    "bench/README.md).")]



@app.callback()
def forecast_main() -> None:
    """Bayesian forecasts for policy and intelligence analysts.

    Example: forecast report
    """


DEFAULTS = {"scenario": DEFAULT_SCENARIO, "seed": DEFAULT_SEED, "draws": 1000, "tune": None,
            "chains": 4}


def stdout_console() -> Console:
    """Rich console for stdout; wide enough for the report table when piped."""
    return Console(file=sys.stdout, soft_wrap=False, width=None if sys.stdout.isatty() else 120)


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


from . import backtest as _backtest  # noqa: E402,F401
from . import check as _check  # noqa: E402,F401
from . import evidence as _evidence  # noqa: E402,F401
from . import new as _new  # noqa: E402,F401
from . import report as _report  # noqa: E402,F401  (registers the commands)
from . import resolve as _resolve  # noqa: E402,F401
from . import scenarios as _scenarios  # noqa: E402,F401
from . import score as _score  # noqa: E402,F401
from . import update as _update  # noqa: E402,F401
from . import watch as _watch  # noqa: E402,F401  (watch, sensitivity)
from . import whatif as _whatif  # noqa: E402,F401
