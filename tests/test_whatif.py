"""`forecast whatif`: a condition is hard evidence, so a what-if equals a refit with the node
resolved that way, and equals the exact reference, within Monte Carlo error."""

from __future__ import annotations

import json

import numpy as np
import pytest
from conftest import cached_fit, snapshot_files
from typer.testing import CliRunner

from forecast.cli import app
from forecast.errors import ForecastError
from forecast.inference import exact
from forecast.inference.problem import prepare
from forecast.io.priors import load_scenario
from forecast.io.project import load_inputs, scenario_paths
from forecast.jobs.whatif import parse_given

runner = CliRunner()
TURKEY = "turkey-peacekeeping"


def invoke(*args):
    return runner.invoke(app, list(args))


def exact_means(root, scenario, given=None):
    problem = prepare(load_inputs(scenario_paths(root, scenario)), given)
    return exact.exact_means(problem.net, problem.state_log_evidence)


def test_parse_given(repo_root):
    scenario = load_scenario(repo_root / "priors" / f"{TURKEY}.toml")
    assert parse_given(["ceasefire=yes", "turkish_deployment = NO"], scenario) == {
        "ceasefire": True, "turkish_deployment": False}
    assert parse_given(["ceasefire=yes", "ceasefire=yes"], scenario) == {"ceasefire": True}
    for bad in (["ceasefire"], ["ceasefire=maybe"], ["nope=yes"], ["ceasefire=yes", "ceasefire=no"], []):
        with pytest.raises(ForecastError):
            parse_given(bad, scenario)


@pytest.mark.parametrize("given, expected", [
    ("nope=yes", "Error: --given: expected a node of turkey-peacekeeping (one of ceasefire, "),
    ("ceasefire=perhaps", "Error: --given: expected NODE=yes or NODE=no, found 'ceasefire=perhaps'"),
])
def test_bad_condition_is_one_line_exit_1_nothing_written(repo_root, given, expected):
    before = snapshot_files(repo_root)
    result = invoke("whatif", "--given", given, "--root", str(repo_root))
    assert result.exit_code == 1
    assert result.stderr.startswith(expected) and result.stderr.count("\n") == 1
    assert snapshot_files(repo_root) == before


def test_missing_given_is_a_usage_error(repo_root):
    assert invoke("whatif", "--root", str(repo_root)).exit_code == 2


def test_fixed_network_whatif_is_the_exact_conditional_and_overrides_a_resolution(data_root):
    """burglary has constant CPTs (no sampling): the what-if is exact enumeration. Given
    john_calls = no, against its recorded resolution (yes), the condition wins."""
    result = invoke("whatif", "--scenario", "burglary", "--root", str(data_root), "--given",
                    "earthquake=yes", "--given", "john_calls=no", "--format", "json")
    assert result.exit_code == 0, result.output
    doc = json.loads(result.stdout)
    assert doc["given"] == {"earthquake": "yes", "john_calls": "no"}
    expected = exact_means(data_root, "burglary", {"earthquake": True, "john_calls": False})
    unconditional = exact_means(data_root, "burglary")
    for v, node in enumerate(doc["nodes"]):
        assert node["mean"] == pytest.approx(expected[v], abs=1e-6)
        assert node["unconditional"]["mean"] == pytest.approx(unconditional[v], abs=1e-6)
        assert node["change_pp"] == pytest.approx(100 * (expected[v] - unconditional[v]), abs=0.01)
    nodes = {n["id"]: n for n in doc["nodes"]}
    assert nodes["john_calls"]["mean"] == 0.0 and nodes["john_calls"]["conditioned"] == "no"
    assert nodes["earthquake"]["mean"] == 1.0 and nodes["burglary"]["conditioned"] is None
    # A what-if writes no report; only its fits enter the posterior cache.
    written = [p for p in (data_root / "reports").rglob("*") if p.is_file()]
    assert written and all(".cache" in p.parts for p in written)


def test_whatif_markdown_and_table_show_both_columns(data_root):
    md = invoke("whatif", "--scenario", "burglary", "--root", str(data_root), "--given", "alarm=no",
                "--format", "md")
    assert md.exit_code == 0, md.output
    assert "| `alarm` | " in md.stdout and "given no" in md.stdout and "| if alarm=no |" in md.stdout
    table = invoke("whatif", "--scenario", "burglary", "--root", str(data_root), "--given", "alarm=no")
    assert table.exit_code == 0
    assert "unconditional" in table.stdout and "if alarm=no" in table.stdout


@pytest.mark.slow
def test_whatif_equals_a_refit_with_the_node_resolved_and_the_exact_reference(frozen_root):
    result = invoke("whatif", "--root", str(frozen_root), "--given", "turkish_deployment=yes",
                    "--format", "json", "--no-progress", "--engine", "nuts")
    assert result.exit_code == 0, result.output
    doc = json.loads(result.stdout)
    assert doc["given"] == {"turkish_deployment": "yes"}
    means = np.array([n["mean"] for n in doc["nodes"]])
    mcse = np.array([n["mcse"] for n in doc["nodes"]])

    # The refit: the same node recorded as resolved yes, fitted from scratch (another seed).
    assert invoke("resolve", "turkish_deployment", "yes", "--date", "2025-09-01", "--source",
                  "test", "--root", str(frozen_root)).exit_code == 0
    _inputs, refit = cached_fit(frozen_root, TURKEY)
    refit_means = refit.p_yes.reshape(-1, len(means)).mean(axis=0)

    conditional = exact_means(frozen_root, TURKEY)            # now with the resolution on file
    assert conditional == pytest.approx(exact_means(frozen_root, TURKEY, {"turkish_deployment": True}),
                                        rel=1e-12)
    assert np.all(mcse < 0.01) and np.all(refit.mcse < 0.01)
    both = np.sqrt(mcse**2 + refit.mcse**2)
    assert np.all(np.abs(means - refit_means) <= 3.5 * both + 1e-9), (means, refit_means, both)
    assert np.all(np.abs(means - conditional) <= 3.5 * mcse + 1e-9), (means, conditional, mcse)
    # The unconditional column is the fit without the condition.
    unconditional = np.array([n["unconditional"]["exact_mean"] for n in doc["nodes"]])
    before = np.array([n["unconditional"]["mean"] for n in doc["nodes"]])
    before_mcse = np.array([n["unconditional"]["mcse"] for n in doc["nodes"]])
    assert np.all(np.abs(before - unconditional) <= 3.5 * before_mcse + 1e-9)
    # Deployment makes every consequence likelier in this scenario's priors.
    assert all(n["change_pp"] > 0 for n in doc["nodes"] if n["role"] == "consequence")
