"""The options commands share are declared once (forecast/cli/options.py, a leaf): the sampler
options reach a command as one SamplerSettings, and no command module imports the app that
registers it."""

from __future__ import annotations

import ast
from pathlib import Path

import typer
from typer.testing import CliRunner

from forecast.cli.options import SamplerSettings, sampler_options, user_errors
from forecast.errors import fail as user_mistake

CLI = Path(__file__).resolve().parents[1] / "forecast" / "cli"


def app_with(command) -> typer.Typer:
    app = typer.Typer()
    app.command()(command)
    app.callback()(lambda: None)                   # keep the command's name on the line
    return app


def test_the_sampler_options_reach_the_command_as_one_settings_value():
    seen = []

    @user_errors
    @sampler_options
    def fit(scenario: str = "s", settings: SamplerSettings | None = None, cache: bool = True):
        seen.append((scenario, settings, cache))

    runner = CliRunner()
    app = app_with(fit)
    assert runner.invoke(app, ["fit", "--scenario", "x", "--draws", "300", "--tune", "200",
                               "--chains", "3", "--no-progress", "--backend", "pymc",
                               "--no-cache"]).exit_code == 0
    assert runner.invoke(app, ["fit"]).exit_code == 0
    assert seen == [("x", SamplerSettings(draws=300, tune=200, chains=3, progress=False,
                                          backend="pymc"), False),
                    ("s", SamplerSettings(draws=1000, tune=None, chains=4, progress=True,
                                          backend="auto"), True)]
    help_text = runner.invoke(app, ["fit", "--help"]).output
    assert help_text.index("--scenario") < help_text.index("--draws") < help_text.index("--backend") \
        < help_text.index("--cache")                      # in place of `settings`, in order
    bad = runner.invoke(app, ["fit", "--chains", "1"])
    assert bad.exit_code == 2 and "--chains" in bad.output


def test_a_user_error_is_one_line_and_exit_1():
    @user_errors
    def fail():
        raise user_mistake("priors/x.toml", "node[a]", "beta", "two positive numbers", "0")

    result = CliRunner().invoke(app_with(fail), ["fail"])
    assert (result.exit_code, result.stderr) == (
        1, "Error: priors/x.toml:node[a]: beta: expected two positive numbers, found '0'\n")


def test_options_is_a_leaf_and_no_command_imports_the_app():
    for path in sorted(CLI.glob("*.py")):
        imported = set()
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ImportFrom) and node.level == 1:
                imported |= {node.module} if node.module else {a.name for a in node.names}
        if path.stem == "options":
            assert imported == set(), imported
        elif path.stem not in ("app", "__init__"):
            assert imported <= {"options"}, (path.name, imported)
