"""Parametric CPTs on NUTS: PyMC agrees with the numpy importance-sampling reference on every
node of three scenarios of our own (noisy-OR with 4 causes; log-odds with an inhibitor; a mix
with table nodes and a resolution), SBC passes, the influence approximation matches real
leave-one-out refits, and every command runs on them."""

from __future__ import annotations

import json

import numpy as np
import pytest
from conftest import DATA, copy_root
from typer.testing import CliRunner

from forecast.analysis.sbc import SbcSettings
from forecast.analysis.summaries import influence
from forecast.cli import app
from forecast.inference.importance import importance_means
from forecast.inference.problem import fit, prepare
from forecast.inference.settings import SamplerSettings
from forecast.io.project import load_inputs, scenario_paths
from forecast.jobs.check import CheckSettings, run_check

QUIET = SamplerSettings(progress=False)
runner = CliRunner()


@pytest.fixture
def root(tmp_path):
    return copy_root(DATA, tmp_path / "root")


def test_exact_engine_is_refused_in_one_line_and_nothing_is_written(root):
    result = runner.invoke(app, ["report", "--scenario", "noisy-or-four", "--root", str(root),
                                 "--engine", "exact", "--no-progress"])
    assert result.exit_code == 1
    line = result.output.strip()
    assert "\n" not in line and "priors/noisy-or-four.toml" in line and "parametric CPTs" in line
    assert not (root / "reports" / "noisy-or-four" / "report.json").exists()


@pytest.mark.slow
@pytest.mark.parametrize("scenario", ["noisy-or-four", "log-odds-inhibitor", "mixed-parametric"])
def test_nuts_agrees_with_importance_sampling_within_three_combined_standard_errors(scenario):
    problem = prepare(load_inputs(scenario_paths(DATA, scenario)))
    posterior = fit(problem, "auto", 11, QUIET)
    assert posterior.engine == "nuts"
    assert posterior.diagnostics["warnings"] == []
    reference = importance_means(problem.net, problem.node_log_weights, problem.conditions, 40000,
                                 np.random.default_rng(12))
    combined = np.sqrt(posterior.mcse**2 + reference.se**2)
    gap = np.abs(posterior.means - reference.mean)
    resolved = combined == 0
    assert np.all(gap[resolved] < 1e-9)
    assert np.all(gap[~resolved] <= 3 * combined[~resolved]), (posterior.means, reference.mean, combined)


@pytest.mark.slow
def test_influence_approximation_matches_real_leave_one_out_refits():
    """The importance-sampling influence (shared prior draws) against NUTS refits with the item
    left out, on the same compiled model, for the two items that move most."""
    inputs = load_inputs(scenario_paths(DATA, "mixed-parametric"))
    problem = prepare(inputs)
    full = fit(problem, "nuts", 21, QUIET)
    influences = {inf.key: inf for inf in influence(problem.net, inputs.evidence, problem.conditions)
                                if inf.kind == "item"}
    checked = 0
    for item_id, node in (("E4", "stalemate"), ("E3", "sanctions_lifted")):
        v = problem.net.index(node)
        kept = tuple(it for it in inputs.evidence if it.item_id != item_id)
        without = prepare(type(inputs)(inputs.scenario, kept, inputs.resolutions))
        refit = fit(without, "nuts", 22, QUIET)
        refit_effect = 100 * (full.means[v] - refit.means[v])
        approx = influences[item_id].effect_pp[v]
        reference = importance_means(problem.net, np.vstack([problem.node_log_weights,
                                                             without.node_log_weights]),
                                     problem.conditions, 4000, np.random.default_rng(0))
        error = 100 * np.sqrt(full.mcse[v]**2 + refit.mcse[v]**2 + reference.se[0, v]**2
                              + reference.se[1, v]**2)
        assert abs(approx) > 3                       # a real effect, not noise
        assert abs(approx - refit_effect) <= 3 * error, (item_id, approx, refit_effect, error)
        checked += 1
    assert checked == 2


@pytest.mark.slow
def test_check_passes_agreement_and_sbc_on_a_parametric_scenario(root):
    """`forecast check` on the log-odds scenario: agreement with the importance-sampling
    reference, then SBC of the compiled model with 100 simulations (ranks of every parameter,
    every node's prior marginal and state, each held to 1% / number of quantities)."""
    result = run_check(scenario_paths(root, "log-odds-inhibitor"),
                       CheckSettings(seed=5, simulations=100, sbc_draws=250, sbc_tune=250,
                                     sbc_chains=2, progress=False, sbc=SbcSettings(thin_to=99)),
                       write=True)
    document = result.document
    agreement, sbc = document["agreement"], document["sbc"]
    assert agreement["reference"] == "importance sampling over the priors"
    assert agreement["passed"], agreement
    assert all(n["reference_se"] > 0 for n in agreement["nodes"])
    names = [q["name"] for q in sbc["quantities"]]
    assert "theta[escalation | cause talks]" in names and "theta[escalation | base]" in names
    assert sbc["simulations"] == 100 and sbc["passed"], (sbc["min_p"], sbc["p_limit"])
    saved = json.loads((root / "reports" / "log-odds-inhibitor" / "check.json").read_text())
    assert saved["passed"] is True


@pytest.mark.slow
def test_report_update_whatif_resolve_score_run_on_a_parametric_scenario(root):
    base = ["--scenario", "mixed-parametric", "--root", str(root)]
    report = runner.invoke(app, ["report", *base, "--no-progress", "--format", "json"])
    assert report.exit_code == 0, report.output
    document = json.loads(report.output)
    assert document["engine"] == "nuts"
    nodes = {n["id"]: n for n in document["nodes"]}
    assert nodes["sanctions_lifted"]["cpt"] == "noisy_or" and nodes["stalemate"]["cpt"] == "log_odds"
    assert all(n["exact_mean"] is None for n in document["nodes"])
    assert nodes["stalemate"]["top_evidence"][0]["item_id"] == "E4"
    assert nodes["stalemate"]["top_evidence"][0]["effect_pp"] < -3
    html = (root / "reports" / "mixed-parametric" / "report.html").read_text()
    assert "each cause acts independently (noisy-OR): deployment alone 40%, us_deal alone 25%, base 5%" in html
    assert "ceasefire alone 15% (an inhibitor: lowers it)" in html

    whatif = runner.invoke(app, ["whatif", *base, "--given", "deployment=yes", "--no-progress",
                                 "--format", "json"])
    assert whatif.exit_code == 0, whatif.output
    conditional = {n["id"]: n for n in json.loads(whatif.output)["nodes"]}
    assert conditional["deployment"]["mean"] == 1.0
    assert conditional["stalemate"]["change_pp"] > 0        # deployment raises the stalemate

    update = runner.invoke(app, ["update", *base, "--no-progress", "--format", "json"])
    assert update.exit_code == 0, update.output
    resolve = runner.invoke(app, ["resolve", "stalemate", "no", "--date", "2025-06-01", "--source",
                                  "Test", *base])
    assert resolve.exit_code == 0, resolve.output
    second = runner.invoke(app, ["update", *base, "--no-progress", "--format", "json"])
    assert second.exit_code == 0, second.output
    history = (root / "reports" / "mixed-parametric" / "history.jsonl").read_text().splitlines()
    assert len(history) == 2
    assert json.loads(history[-1])["nodes"][4]["resolved"] == "no"
    score = runner.invoke(app, ["score", *base, "--format", "json"])
    assert score.exit_code == 0, score.output
