"""The seam and its two engines, through the CLI: exact answers on generated networks equal
pyAgrum's (a peer we did not write), the exact engine never imports PyMC, the engines agree
within Monte Carlo error, and a network past the memory budget is refused in one line with
nothing written."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from conftest import snapshot_files
from pyagrum_peer import agrum_scenario_means
from typer.testing import CliRunner

from forecast.cli import app
from forecast.model.generate import evidence_csv, scenario_toml

runner = CliRunner()
HEAVY = ("pymc", "pytensor", "numba", "nutpie", "arviz")


def generated_root(root: Path, scenario_id: str, n_nodes: int, *, seed: int = 0, n_items: int = 30,
                   window: int | None = 4, max_parents: int = 3, resolved: dict | None = None) -> Path:
    (root / "priors").mkdir(parents=True, exist_ok=True)
    (root / "evidence").mkdir(parents=True, exist_ok=True)
    (root / "priors" / f"{scenario_id}.toml").write_text(
        scenario_toml(scenario_id, n_nodes, seed=seed, max_parents=max_parents, window=window))
    ids = [f"n{v:02d}" for v in range(n_nodes)]
    (root / "evidence" / f"{scenario_id}.csv").write_text(evidence_csv(ids, n_items, seed=seed))
    if resolved:
        rows = "".join(f"{node},{outcome},2025-06-01,Test\n" for node, outcome in resolved.items())
        (root / "evidence" / f"{scenario_id}.resolutions.csv").write_text(
            "node,outcome,date,source\n" + rows)
    return root


def report_json(root: Path, scenario_id: str, *extra: str) -> dict:
    result = runner.invoke(app, ["report", "--root", str(root), "--scenario", scenario_id,
                                 "--format", "json", "--no-progress", *extra])
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def agrum_means(root: Path, scenario_id: str, given: dict[str, bool] | None = None) -> dict[str, float]:
    """The same scenario in pyAgrum (tests/pyagrum_peer.py): resolutions and what-if
    conditions as hard findings."""
    pytest.importorskip("pyagrum")
    from forecast.inference.problem import prepare
    from forecast.io.project import load_inputs, scenario_paths

    means, _seconds = agrum_scenario_means(prepare(load_inputs(scenario_paths(root, scenario_id)), given))
    return means


@pytest.mark.parametrize("n_nodes,seed,window", [(10, 1, 3), (25, 2, 4), (40, 3, 5), (60, 4, 4)])
def test_exact_report_equals_pyagrum_on_generated_networks(tmp_path, n_nodes, seed, window):
    resolved = {f"n{n_nodes // 2:02d}": "yes", f"n{n_nodes - 1:02d}": "no"}
    root = generated_root(tmp_path, f"g{n_nodes}", n_nodes, seed=seed, n_items=3 * n_nodes,
                          window=window, resolved=resolved)
    doc = report_json(root, f"g{n_nodes}", "--engine", "exact")
    assert doc["engine"] == "exact"
    reference = agrum_means(root, f"g{n_nodes}")
    for node in doc["nodes"]:
        assert node["exact_mean"] == pytest.approx(reference[node["id"]], abs=1e-6)
        low, high = node["interval"]
        assert 0 <= low <= node["mean"] <= high <= 1
    # Unrounded, through the same seam the report used: 1e-9.
    from forecast.inference import exact
    from forecast.inference.problem import prepare
    from forecast.io.project import load_inputs, scenario_paths

    problem = prepare(load_inputs(scenario_paths(root, f"g{n_nodes}")))
    ours = exact.posterior_means(problem.net, problem.node_log_weights, problem.conditions)
    np.testing.assert_allclose(ours, [reference[i] for i in problem.net.node_ids], atol=1e-9)


def test_exact_whatif_equals_pyagrum_with_the_condition(tmp_path):
    root = generated_root(tmp_path, "w30", 30, seed=7, n_items=60, window=4)
    result = runner.invoke(app, ["whatif", "--root", str(root), "--scenario", "w30", "--given",
                                 "n12=yes", "--given", "n20=no", "--format", "json"])
    assert result.exit_code == 0, result.output
    doc = json.loads(result.stdout)
    reference = agrum_means(root, "w30", {"n12": True, "n20": False})
    unconditional = agrum_means(root, "w30")
    for node in doc["nodes"]:
        assert node["mean"] == pytest.approx(reference[node["id"]], abs=1e-6)
        assert node["unconditional"]["mean"] == pytest.approx(unconditional[node["id"]], abs=1e-6)


def test_exact_engine_commands_never_import_pymc(tmp_path):
    """report, whatif and update on the exact engine, each in a fresh interpreter: none of
    PyMC, PyTensor, numba, nutpie or ArviZ is imported."""
    root = generated_root(tmp_path, "light", 8, seed=5, n_items=10, window=3)
    code = f"""
import sys
from typer.testing import CliRunner
from forecast.cli import app
runner = CliRunner()
for args in (["report"], ["whatif", "--given", "n03=yes"], ["update"]):
    result = runner.invoke(app, [*args, "--root", {str(root)!r}, "--scenario", "light",
                                 "--engine", "exact", "--no-progress"])
    assert result.exit_code == 0, result.output
print(",".join(sorted(m for m in {HEAVY!r} if m in sys.modules)))
"""
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == ""


def test_a_network_past_the_memory_budget_is_refused_in_one_line(tmp_path):
    """A dense 30-node network (treewidth 15) under a 2 MiB budget: one line naming the priors
    file, the treewidth and what to do; exit 1; nothing written; the same for the NUTS engine
    (refused before PyMC is even imported)."""
    root = generated_root(tmp_path, "dense", 30, seed=9, n_items=20, window=None, max_parents=8)
    before = snapshot_files(root)
    env = {**os.environ, "FORECAST_MEMORY_BUDGET": "2M"}
    for engine in ("exact", "nuts"):
        done = subprocess.run([sys.executable, "-m", "forecast", "report", "--root", str(root),
                               "--scenario", "dense", "--engine", engine, "--no-progress"],
                              capture_output=True, text=True, env=env, timeout=300)
        lines = [line for line in done.stderr.splitlines() if line.strip()]
        assert done.returncode == 1, done.stderr
        assert len(lines) == 1, done.stderr
        assert "priors/dense.toml" in lines[0] and "treewidth" in lines[0]
        assert "fewer parents" in lines[0] and "FORECAST_MEMORY_BUDGET" in lines[0]
        assert "Traceback" not in done.stderr
        assert snapshot_files(root) == before


def test_a_malformed_memory_budget_is_one_line(tmp_path):
    root = generated_root(tmp_path, "small", 5, seed=1, n_items=5, window=2)
    done = subprocess.run([sys.executable, "-m", "forecast", "report", "--root", str(root),
                           "--scenario", "small", "--format", "json"], capture_output=True, text=True,
                          env={**os.environ, "FORECAST_MEMORY_BUDGET": "lots"}, timeout=300)
    assert done.returncode == 1
    assert done.stderr.strip().count("\n") == 0 and "FORECAST_MEMORY_BUDGET" in done.stderr


@pytest.mark.slow
@pytest.mark.parametrize("command", ["report", "whatif"])
def test_nuts_and_exact_agree_within_monte_carlo_error(data_root, command):
    """The same command through --engine nuts and --engine exact: every mean within four
    NUTS standard errors of the exact mean (one family of nodes: Bonferroni at about 1e-4)."""
    extra = ["--given", "b=yes"] if command == "whatif" else []
    docs = {}
    for engine in ("exact", "nuts"):
        result = runner.invoke(app, [command, "--root", str(data_root), "--scenario", "two-node-beta",
                                     "--engine", engine, "--format", "json", "--no-progress", *extra])
        assert result.exit_code == 0, result.output
        docs[engine] = json.loads(result.stdout)
    assert docs["exact"]["engine"] == "exact" and docs["nuts"]["engine"] == "nuts"
    for ex, nu in zip(docs["exact"]["nodes"], docs["nuts"]["nodes"], strict=True):
        assert ex["mcse"] == 0.0
        assert abs(ex["mean"] - nu["mean"]) <= 4 * nu["mcse"] + 1e-9, (ex, nu)


@pytest.mark.slow
def test_exact_and_nuts_intervals_are_one_quantity_within_monte_carlo_error(data_root):
    """The 90% interval of each engine estimates the same two quantiles. Held in probability,
    not in percentage points: the share of NUTS draws below the exact engine's 5% point (and
    above its 95% point) is 5% within four standard errors of the two estimates (binomial, with
    the exact engine's iid draws and NUTS's effective sample size)."""
    from forecast.inference.problem import fit, prepare
    from forecast.inference.settings import SamplerSettings
    from forecast.io.project import load_inputs, scenario_paths

    problem = prepare(load_inputs(scenario_paths(data_root, "two-node-beta")))
    quiet = SamplerSettings(progress=False)
    exact = fit(problem, "exact", 3, quiet)
    nuts = fit(problem, "nuts", 4, quiet)
    exact_draws = exact.p_yes.reshape(-1, 2)
    nuts_draws = nuts.p_yes.reshape(-1, 2)
    ess = nuts.diagnostics["min_ess"]
    se = np.sqrt(0.05 * 0.95 * (1 / len(exact_draws) + 1 / ess))
    for v in range(2):
        low, high = np.quantile(exact_draws[:, v], [0.05, 0.95])
        below = np.mean(nuts_draws[:, v] < low)
        above = np.mean(nuts_draws[:, v] > high)
        assert abs(below - 0.05) <= 4 * se, (v, below, se)
        assert abs(above - 0.05) <= 4 * se, (v, above, se)


def test_a_network_past_the_work_budget_is_refused_before_any_inference(tmp_path):
    """The exact engine estimates the time of every inference a report runs (draws, influence,
    sensitivity) from its table sizes; past $FORECAST_WORK_BUDGET it refuses at once, in one
    line, with nothing written, instead of running for hours (an 80-node network of treewidth
    21 at the default budget; here a tiny budget on a small network)."""
    root = generated_root(tmp_path, "slow", 12, seed=4, n_items=10, window=3)
    before = snapshot_files(root)
    done = subprocess.run([sys.executable, "-m", "forecast", "report", "--root", str(root),
                           "--scenario", "slow", "--no-progress"], capture_output=True, text=True,
                          env={**os.environ, "FORECAST_WORK_BUDGET": "0.0001"}, timeout=300)
    lines = [line for line in done.stderr.splitlines() if line.strip()]
    assert done.returncode == 1 and len(lines) == 1, done.stderr
    assert "priors/slow.toml" in lines[0] and "too slow" in lines[0] and "treewidth" in lines[0]
    assert "--draws" in lines[0] and "FORECAST_WORK_BUDGET" in lines[0]
    assert snapshot_files(root) == before
    ok = subprocess.run([sys.executable, "-m", "forecast", "report", "--root", str(root),
                         "--scenario", "slow", "--format", "json"], capture_output=True, text=True,
                        timeout=300)
    assert ok.returncode == 0, ok.stderr
