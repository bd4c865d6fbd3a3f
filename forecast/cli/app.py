"""The typer app: every command module is imported here and registered, in the order `forecast
--help` lists them. The commands import their options from `options.py`, never from here."""

from __future__ import annotations

import inspect

import typer

from . import (
    backtest,
    check,
    evidence,
    network,
    new,
    recalibrate,
    report,
    resolve,
    scenarios,
    score,
    update,
    watch,
    whatif,
)

app = typer.Typer(
    help="Bayesian forecasts for policy and intelligence analysts: scenario networks, coded "
    "evidence, verified inference.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)


@app.callback()
def forecast_main() -> None:
    """Bayesian forecasts for policy and intelligence analysts.

    Example: forecast report
    """


def one_line_paragraphs(text: str) -> str:
    """A docstring with each paragraph on one line: typer's rich help keeps single line breaks
    and wraps as well, which leaves ragged lines ("... gives" / "that day) and ...")."""
    return "\n\n".join(" ".join(line.strip() for line in paragraph.splitlines())
                       for paragraph in inspect.cleandoc(text).split("\n\n"))


def reflow_help(typer_app: typer.Typer) -> None:
    """Every command's help (its docstring) as `one_line_paragraphs`, in sub-apps too."""
    for info in typer_app.registered_commands:
        if info.help is None and info.callback is not None and info.callback.__doc__:
            info.help = one_line_paragraphs(info.callback.__doc__)
    for group in typer_app.registered_groups:
        reflow_help(group.typer_instance)


for command in (backtest.backtest, check.check, new.new, report.report, resolve.resolve,
                scenarios.scenarios, score.score, update.update, watch.watch, watch.sensitivity,
                whatif.whatif, recalibrate.recalibrate):
    app.command()(command)
app.add_typer(evidence.evidence_app, name="evidence")
app.add_typer(network.network_app, name="network")
reflow_help(app)
