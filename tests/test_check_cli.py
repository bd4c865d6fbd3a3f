"""`forecast check` from the command line: exact agreement and SBC, files, exit codes."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from forecast.cli import app
from forecast.jobs.check import z_limit

runner = CliRunner()


def invoke(*args):
    return runner.invoke(app, list(args))


def test_z_limit_is_the_bonferroni_normal_quantile():
    assert z_limit(1) == pytest.approx(2.5758, abs=1e-4)       # two-sided 1%
    assert z_limit(6) == pytest.approx(3.1440, abs=1e-4)       # 1% over six nodes


def test_check_on_a_fixed_network_agrees_exactly_and_has_nothing_to_calibrate(data_root):
    result = invoke("check", "--scenario", "burglary", "--root", str(data_root), "--format", "json",
                    "--no-progress")
    assert result.exit_code == 0, result.output
    doc = json.loads(result.stdout)
    assert doc["passed"] and doc["agreement"]["max_z"] == 0.0
    assert doc["sbc"]["simulations"] == 0 and "nothing to calibrate" in doc["sbc"]["note"]
    burglary = next(n for n in doc["agreement"]["nodes"] if n["id"] == "burglary")
    assert burglary["exact_mean"] == pytest.approx(0.284, abs=5e-4)
    assert (data_root / "reports" / "burglary" / "check.html").is_file()


def test_too_few_simulations_is_a_usage_error(data_root):
    assert invoke("check", "--root", str(data_root), "--simulations", "5").exit_code == 2


@pytest.mark.slow
def test_check_on_turkey_writes_the_report_and_passes(frozen_root):
    result = invoke("check", "--root", str(frozen_root), "--simulations", "20", "--draws", "500",
                    "--tune", "500", "--chains", "2", "--no-progress")
    assert result.exit_code == 0, result.output
    assert "Self-check PASSED" in result.stdout
    assert "theta[turkish_deployment | ceasefire=yes]" in result.stdout
    out = frozen_root / "reports" / "turkey-peacekeeping"
    doc = json.loads((out / "check.json").read_text())
    agreement = doc["agreement"]
    assert len(agreement["nodes"]) == 6
    assert all(n["z"] <= agreement["z_limit"] for n in agreement["nodes"])
    assert doc["sbc"]["simulations"] == 20 and len(doc["sbc"]["quantities"]) == 13 + 12
    assert all(sum(q["counts"]) == 20 for q in doc["sbc"]["quantities"])
    assert {"seed", "evidence_hash", "versions", "model_version"} <= doc.keys()
    html = (out / "check.html").read_text()
    assert "data:image/svg+xml;base64," in html and "Simulation-based calibration" in html
    assert "theta[turkish_deployment | ceasefire=yes]" in html


def test_check_of_the_exact_engine_against_importance_sampling_and_sbc(data_root):
    """--engine exact holds the exact engine to importance sampling over the priors (hand
    values for two-node-beta: P(a) = 0.625, P(b) = 0.75) and runs SBC on its conjugate draws."""
    result = invoke("check", "--scenario", "two-node-beta", "--root", str(data_root), "--engine",
                    "exact", "--simulations", "60", "--format", "json", "--no-progress")
    assert result.exit_code == 0, result.output
    doc = json.loads(result.stdout)
    assert doc["engine"] == "exact" and doc["passed"]
    a = doc["agreement"]
    assert a["columns"] == {"tested": "exact_mean", "reference": "importance_mean"}
    means = {n["id"]: n["exact_mean"] for n in a["nodes"]}
    assert means == {"a": pytest.approx(0.625, abs=1e-6), "b": pytest.approx(0.75, abs=1e-6)}
    for n in a["nodes"]:
        assert n["mcse"] == 0.0 and 0 < n["reference_se"] < 0.01 and n["z"] <= a["z_limit"]
    assert a["reference"] == "importance sampling over the priors"
    assert a["effective_sample_size"] > 1000
    assert doc["sbc"]["simulations"] == 60 and doc["sbc"]["passed"]
    html = (data_root / "reports" / "two-node-beta" / "check.html").read_text()
    assert "importance sampling" in html and "importance mean" in html
    # no sampler ran, so the page claims nothing about divergent transitions
    assert "divergent transitions in any" not in html
    assert "The 60 SBC fits are exact iid draws: no sampler ran" in html


def test_check_says_what_sbc_divergences_mean():
    from forecast.render import sbc_divergences

    assert sbc_divergences({"fits_with_divergences": 0, "divergences": 0, "simulations": 200}) == (
        "No divergent transitions in any of the 200 SBC fits.")
    words = sbc_divergences({"fits_with_divergences": 3, "divergences": 7, "simulations": 200})
    assert words.startswith("3 of 200 SBC fits had divergent transitions (7 in all): NUTS struggled")
    assert "rerun check with more --tune" in words
    assert sbc_divergences({"fits_with_divergences": 0, "divergences": 0, "simulations": 50},
                           "exact") == ("The 50 SBC fits are exact iid draws: no sampler ran, so "
                                        "there are no divergent transitions to count.")


def test_a_failed_self_check_says_what_to_do_next():
    from forecast.cli.check import CHECK_ADVICE

    assert set(CHECK_ADVICE) == {("agreement",), ("sbc",), ("agreement", "sbc")}
    for failed, advice in CHECK_ADVICE.items():
        assert advice.startswith("Rerun with --") and "--engine exact" in advice, failed
