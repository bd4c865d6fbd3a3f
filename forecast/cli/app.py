"""The typer app: every command module is imported here and registered, in the order `forecast
--help` lists them. The commands import their options from `options.py`, never from here."""

from __future__ import annotations

import typer

from . import (
    backtest,
    check,
    evidence,
    network,
    new,
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


for command in (backtest.backtest, check.check, new.new, report.report, resolve.resolve,
                scenarios.scenarios, score.score, update.update, watch.watch, watch.sensitivity,
                whatif.whatif):
    app.command()(command)
app.add_typer(evidence.evidence_app, name="evidence")
app.add_typer(network.network_app, name="network")
