"""No network size ends in a traceback or an OOM kill: every command that infers (report, update,
whatif, watch, sensitivity, backtest, check), on each engine it takes, refuses a network past
the memory budget, and on the exact engine one past the work budget, in one line naming the
priors file, the treewidth and what to do; exit 1; nothing written. One guard does it
(forecast/jobs/budget.py: check_budgets), before the first inference."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest
from conftest import snapshot_files
from test_engines import generated_root
from typer.testing import CliRunner

from forecast.api import Project
from forecast.cli import app
from forecast.errors import ForecastError

runner = CliRunner()

# Every command that infers, as typed, and the --engine values it takes (None: no --engine).
COMMANDS = {
    "report": (["report", "--no-progress"], ("exact", "nuts")),
    "update": (["update", "--no-progress"], ("exact", "nuts")),
    "whatif": (["whatif", "--given", "n03=yes", "--no-progress"], ("exact", "nuts")),
    "watch": (["watch", "--no-progress"], ("exact", "nuts")),
    "sensitivity": (["sensitivity"], (None,)),
    "backtest": (["backtest"], ("exact", "nuts")),
    "check": (["check", "--simulations", "10", "--no-progress"], ("exact", "nuts")),
}
# The option each command's refusal past the work budget names to lower its inferences.
FEWER = {"report": "--draws", "update": "--draws", "whatif": "--draws", "watch": "--cpt-draws",
         "check": "--simulations"}


def command_line(command: str, engine: str | None, root, scenario: str) -> list[str]:
    args, _engines = COMMANDS[command]
    return [*args, "--root", str(root), "--scenario", scenario,
            *(["--engine", engine] if engine else [])]


def with_engines(commands=COMMANDS):
    return [pytest.param(c, e, id=f"{c}-{e}" if e else c) for c in commands
            for e in COMMANDS[c][1]]


def exact(command: str) -> str | None:
    """--engine exact, where the command takes --engine."""
    return "exact" if "exact" in COMMANDS[command][1] else None


def dense_root(tmp_path):
    """A dense 30-node network (treewidth 15): past a 2 MiB memory budget on both engines."""
    return generated_root(tmp_path, "dense", 30, seed=9, n_items=20, window=None, max_parents=8)


def small_root(tmp_path):
    """A 12-node network of treewidth 3: past a work budget of 0.1 ms, within the default."""
    return generated_root(tmp_path, "slow", 12, seed=4, n_items=10, window=3)


def refused(result) -> str:
    """The one stderr line of a command refused as a user error (typer.Exit(1): no other
    exception escaped the command)."""
    assert result.exit_code == 1, (result.stdout, result.stderr, result.exception)
    assert isinstance(result.exception, SystemExit), repr(result.exception)
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, result.stderr
    return lines[0]


@pytest.mark.parametrize(("command", "engine"), with_engines())
def test_every_command_refuses_a_network_past_the_memory_budget(tmp_path, monkeypatch, command,
                                                                engine):
    root = dense_root(tmp_path)
    before = snapshot_files(root)
    monkeypatch.setenv("FORECAST_MEMORY_BUDGET", "2M")
    line = refused(runner.invoke(app, command_line(command, engine, root, "dense")))
    assert line.startswith("Error: priors/dense.toml: network: this network is too wide"), line
    assert "treewidth 15" in line and "fewer parents" in line, line
    assert "FORECAST_MEMORY_BUDGET" in line and "nothing written" in line, line
    assert snapshot_files(root) == before


@pytest.mark.parametrize("command", list(COMMANDS))
def test_every_exact_command_refuses_work_past_the_work_budget(tmp_path, monkeypatch, command):
    """Each command counts its own exact inferences (a backtest: one fit per replay date; a
    check: the agreement fit, its reference and one fit per SBC simulation...) and names
    itself and the option that lowers them."""
    root = small_root(tmp_path)
    before = snapshot_files(root)
    monkeypatch.setenv("FORECAST_WORK_BUDGET", "0.0001")
    line = refused(runner.invoke(app, command_line(command, exact(command), root, "slow")))
    assert line.startswith("Error: priors/slow.toml: network: this network is too slow"), line
    assert "treewidth 3" in line and f"forecast {command} needs about" in line, line
    assert "FORECAST_WORK_BUDGET" in line and "nothing written" in line, line
    if command in FEWER:
        assert f"use fewer {FEWER[command]}" in line, line
    else:                                     # no option lowers a sensitivity's or backtest's
        assert "use fewer" not in line, line
    assert snapshot_files(root) == before


@pytest.mark.parametrize("variable", ["FORECAST_MEMORY_BUDGET", "FORECAST_WORK_BUDGET"])
@pytest.mark.parametrize("command", list(COMMANDS))
def test_a_malformed_budget_variable_is_one_line_in_every_command(tmp_path, monkeypatch, command,
                                                                  variable):
    root = small_root(tmp_path)
    before = snapshot_files(root)
    monkeypatch.setenv(variable, "lots")
    line = refused(runner.invoke(app, command_line(command, exact(command), root, "slow")))
    assert line.startswith(f"Error: {variable}: expected a "), line
    assert line.endswith("found 'lots'"), line
    assert snapshot_files(root) == before


@pytest.mark.parametrize("command", list(COMMANDS))
def test_the_entry_point_past_the_memory_budget_prints_one_line_and_no_traceback(tmp_path, command):
    """`python -m forecast COMMAND` as a user runs it (default engine): exit 1, one stderr line,
    no traceback, nothing written."""
    root = dense_root(tmp_path)
    before = snapshot_files(root)
    done = subprocess.run([sys.executable, "-m", "forecast", *command_line(command, None, root, "dense")],
                          capture_output=True, text=True, timeout=300,
                          env={**os.environ, "FORECAST_MEMORY_BUDGET": "2M"})
    lines = [line for line in done.stderr.splitlines() if line.strip()]
    assert done.returncode == 1 and len(lines) == 1, done.stderr
    assert "Traceback" not in done.stderr
    assert "priors/dense.toml" in lines[0] and "treewidth 15" in lines[0], lines[0]
    assert snapshot_files(root) == before


def test_update_import_past_the_memory_budget_leaves_the_evidence_file_alone(tmp_path, monkeypatch):
    """The import would be written before the fit: the budget is checked first."""
    root = dense_root(tmp_path)
    extra = tmp_path / "more.csv"
    header = (root / "evidence" / "dense.csv").read_text().splitlines()[0]
    extra.write_text(header + "\nX1,n00,2025-02-01,Generated,A,2,2.0,,imported item,\n")
    before = snapshot_files(root)
    monkeypatch.setenv("FORECAST_MEMORY_BUDGET", "2M")
    line = refused(runner.invoke(app, [*command_line("update", "exact", root, "dense"),
                                       "--import", str(extra)]))
    assert "priors/dense.toml" in line and "treewidth 15" in line, line
    assert snapshot_files(root) == before


@pytest.mark.parametrize("method", [
    lambda p: p.report(scenario="dense"), lambda p: p.update(scenario="dense"),
    lambda p: p.whatif({"n03": True}, scenario="dense"), lambda p: p.watch(scenario="dense"),
    lambda p: p.sensitivity(scenario="dense")],
    ids=["report", "update", "whatif", "watch", "sensitivity"])
def test_the_python_api_raises_the_same_refusal(tmp_path, monkeypatch, method):
    root = dense_root(tmp_path)
    before = snapshot_files(root)
    monkeypatch.setenv("FORECAST_MEMORY_BUDGET", "2M")
    with pytest.raises(ForecastError, match=r"treewidth 15 .*FORECAST_MEMORY_BUDGET") as caught:
        method(Project(root))
    assert str(caught.value.path) == "priors/dense.toml"
    assert snapshot_files(root) == before


def wide_noisy_or_root(tmp_path):
    """14 causes and three noisy-OR effects of all of them: treewidth 16."""
    node = ('[[node]]\nid = "{id}"\nrole = "{role}"\nquestion = "Q?"\nresolution = "R."\n'
            'opens = 2025-01-01\ndeadline = 2026-01-01\nparents = {parents}\n')
    prior = ('  [[node.prior]]\n{head}  p = 0.3\n  strength = 4\n  rationale = "T."\n'
             '  reference_class = "T."\n')
    causes = [f"c{i:02d}" for i in range(14)]
    text = ('[scenario]\nid = "wide"\ntitle = "T"\ntrigger = "T"\nas_of = 2025-01-01\n\n'
            + "".join(node.format(id=c, role="driver", parents="[]") + prior.format(head="")
                      for c in causes))
    for effect in ("e1", "e2", "e3"):
        text += (node.format(id=effect, role="consequence", parents=str(causes).replace("'", '"'))
                 + 'cpt = "noisy_or"\n' + prior.format(head="")
                 + "".join(prior.format(head=f'  cause = "{c}"\n') for c in causes))
    for folder, name, body in (("priors", "wide.toml", text), ("evidence", "wide.csv",
                               "item_id,node,date,source,reliability,credibility,lr,cluster,"
                               "summary,url\n")):
        (tmp_path / folder).mkdir()
        (tmp_path / folder / name).write_text(body)
    return tmp_path


def test_a_network_whose_wide_nodes_are_parametric_is_not_told_to_use_a_parametric_cpt(
        tmp_path, monkeypatch):
    root = wide_noisy_or_root(tmp_path)
    monkeypatch.setenv("FORECAST_MEMORY_BUDGET", "256K")
    line = refused(runner.invoke(app, ["report", "--root", str(root), "--no-progress"]))
    assert line.startswith("Error: priors/wide.toml: network: this network is too wide"), line
    assert "parametric CPT" not in line and "fewer parents" in line, line


def test_draws_past_the_memory_budget_are_one_line_naming_the_option(k_root, monkeypatch):
    """One inference of the k-state scenario fits in 1 MiB; its exact draws' CPT cells side by
    side (about 1.7 KB a draw) do not at 4,000 draws: refused before anything is drawn, with
    the option that lowers them; at 100 draws the same budget answers."""
    before = snapshot_files(k_root)
    monkeypatch.setenv("FORECAST_MEMORY_BUDGET", "1M")
    args = ["report", "--root", str(k_root), "--scenario", "k-state", "--engine", "exact",
            "--no-progress", "--format", "json"]
    line = refused(runner.invoke(app, [*args, "--draws", "4000"]))
    assert line.startswith("Error: priors/k-state.toml: network: "), line
    assert "exact draws" in line and "--draws" in line and "nothing written" in line, line
    assert snapshot_files(k_root) == before
    assert runner.invoke(app, [*args, "--draws", "100"]).exit_code == 0


def test_the_work_estimate_costs_inferences_under_resolutions_on_the_tree_without_them(tmp_path):
    """A report's inferences under its resolutions run on the tree with the resolved nodes
    triangulated out: the estimate costs them there and only the prior (and the resolutions'
    own effects) on the network's whole tree, so a network whose whole tree is slow but whose
    resolutions cut it down is answered, not refused."""
    from forecast.inference.exact import SECONDS_PER_CELL, check_work, conditioned_structure, structure_of
    from forecast.inference.problem import prepare
    from forecast.io.project import load_inputs, scenario_paths

    resolved = {f"n{v:02d}": "yes" for v in range(2, 50, 3)}
    root = generated_root(tmp_path, "cut", 50, seed=3, n_items=10, window=16, max_parents=8,
                          resolved=resolved)
    problem = prepare(load_inputs(scenario_paths(root, "cut")))
    net, conditions = problem.net, problem.conditions
    whole = structure_of(net).total_cells * SECONDS_PER_CELL
    under = conditioned_structure(net, conditions).total_cells * SECONDS_PER_CELL
    assert under < whole / 4
    budget = float("inf")
    assert check_work(net, 100, budget) == pytest.approx(100 * whole)
    assert check_work(net, 100, budget, conditions, 10) == pytest.approx(10 * whole + 90 * under)
    assert check_work(net, 100, budget, None, 10) == pytest.approx(100 * whole)
