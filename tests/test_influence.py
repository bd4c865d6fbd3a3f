"""Influence, grading and clusters.

Influence is computed exactly from the closed form (no refit per item); here it is held to a
real leave-one-out NUTS refit within Monte Carlo error. Grading: an F- or 6-graded item
(cannot be judged) weighs 0.5, an E- or 5-graded one almost nothing, a zero weight nothing,
and three items restating one event in one cluster move the forecast once, as the cluster rule
says (the strongest of them counts), not three times."""

from __future__ import annotations

import shutil

import numpy as np
import pytest
from conftest import DATA, FROZEN, cached_fit

from forecast.analysis.document import build_report
from forecast.analysis.summaries import influence, logit
from forecast.inference.exact import exact_means
from forecast.inference.nuts import SamplerSettings
from forecast.inference.problem import fit, prepare
from forecast.io.project import load_inputs, scenario_paths
from forecast.model.network import node_log_weights

TURKEY = "turkey-peacekeeping"
HEADER = "item_id,node,date,source,reliability,credibility,lr,cluster,summary,url\n"
TOLERANCE_SIGMAS = 3.5      # per comparison; 12 comparisons -> about 0.6% family-wise


def exact_of(inputs, given=None):
    problem = prepare(inputs, given)
    return exact_means(problem.net, problem.state_log_evidence)


def without(root, tmp_path, scenario, drop) -> object:
    """Inputs of a copy of `root` whose evidence file lacks the rows `drop` selects."""
    target = tmp_path / "loo"
    for folder in ("priors", "evidence"):
        shutil.copytree(root / folder, target / folder)
    path = target / "evidence" / f"{scenario}.csv"
    header, *rows = path.read_text().splitlines(keepends=True)
    kept = [row for row in rows if not drop(row.split(",")[0], row)]
    assert len(kept) < len(rows)
    path.write_text(header + "".join(kept))
    return load_inputs(scenario_paths(target, scenario))


def nuts_means(posterior):
    return posterior.p_yes.reshape(-1, posterior.p_yes.shape[-1]).mean(axis=0)


@pytest.mark.slow
@pytest.mark.parametrize("key, kind", [("E011", "item"), ("c-us-push", "cluster")])
def test_influence_matches_a_real_leave_one_out_nuts_refit(tmp_path, key, kind):
    inputs, full = cached_fit(FROZEN, TURKEY)
    problem = prepare(inputs)
    exact_full = exact_of(inputs)
    effect = next(inf for inf in influence(problem.net, inputs.evidence, problem.conditions)
                  if inf.key == key and inf.kind == kind)
    if kind == "item":
        reduced = without(FROZEN, tmp_path, TURKEY, lambda item_id, row: item_id == key)
    else:
        reduced = without(FROZEN, tmp_path, TURKEY, lambda item_id, row: f",{key}," in row)
    loo = fit(prepare(reduced), "nuts", 2, SamplerSettings(progress=False))
    refit_pp = 100 * (nuts_means(full) - nuts_means(loo))
    tolerance = 100 * TOLERANCE_SIGMAS * np.hypot(full.mcse, loo.mcse)
    assert np.all(np.abs(refit_pp - effect.effect_pp) <= tolerance), (refit_pp, effect.effect_pp,
                                                                       tolerance)
    # The test can fail: the effect on the most-moved node is far beyond the MC tolerance.
    top = int(np.argmax(np.abs(effect.effect_pp)))
    assert abs(effect.effect_pp[top]) > 5 * tolerance[top]
    # Log-odds effect is the same leave-out, on the logit scale.
    np.testing.assert_allclose(effect.effect_logodds,
                               logit(exact_full) - logit(exact_of(reduced)), atol=1e-9)


def test_report_top_evidence_is_the_exact_leave_one_out_effect():
    inputs = load_inputs(scenario_paths(FROZEN, TURKEY))
    document = build_report(inputs, _fake_posterior(inputs), seed=1)
    exact_full = exact_of(inputs)
    checked = 0
    for v, node in enumerate(document["nodes"]):
        effects = [entry["effect_pp"] for entry in node["top_evidence"]]
        assert effects == sorted(effects, key=lambda e: -abs(e))
        for entry in node["top_evidence"]:
            item = entry["item_id"]
            reduced = [it for it in inputs.evidence if it.item_id != item]
            problem = prepare(inputs)
            weights = node_log_weights(problem.net.node_ids, reduced)
            means = exact_means(problem.net, problem.net.state_log_evidence(weights, problem.conditions))
            assert entry["effect_pp"] == pytest.approx(100 * (exact_full[v] - means[v]), abs=0.006)
            assert entry["effect_logodds"] == pytest.approx(logit(exact_full)[v] - logit(means)[v],
                                                            abs=6e-5)
            checked += 1
    assert checked >= 10
    ceasefire = document["nodes"][0]
    assert ceasefire["id"] == "ceasefire" and ceasefire["top_evidence"][0]["item_id"] == "E011"


def test_moved_most_shows_a_cluster_whose_items_each_move_little(shipped_root):
    # Moscow's rejection of foreign troops, restated by the news article (E006, E007): each alone
    # moves Russia's consent by a fraction of what the two do together (the cluster counts once).
    # The figure is pyAgrum's (scripts/turkey_reference.py . E006,E007), independent of ours.
    inputs = load_inputs(scenario_paths(shipped_root, TURKEY))
    document = build_report(inputs, _fake_posterior(inputs), seed=1)
    consent = next(node for node in document["nodes"] if node["id"] == "russia_consents")
    top = consent["moved_most"][0]
    assert (top["kind"], top["id"], top["items"]) == ("cluster", "c-russia-rejects", ["E006", "E007"])
    assert top["effect_pp"] == pytest.approx(-1.1987, abs=0.006)
    alone = {row["id"]: row["effect_pp"] for row in consent["moved_most"] if row["kind"] == "item"}
    assert abs(alone.get("E006", 0.0)) < abs(top["effect_pp"]) / 2 and "E007" not in alone
    # every listed effect is ranked by size, and each item row is its top_evidence row
    effects = [abs(row["effect_pp"]) for node in document["nodes"] for row in node["moved_most"][:1]]
    assert all(e > 0 for e in effects)
    for node in document["nodes"]:
        sizes = [abs(row["effect_pp"]) for row in node["moved_most"]]
        assert sizes == sorted(sizes, reverse=True)
        items = {row["item_id"]: row["effect_pp"] for row in node["top_evidence"]}
        for row in node["moved_most"]:
            if row["kind"] == "item":
                assert items[row["id"]] == row["effect_pp"]


def _fake_posterior(inputs):
    """Draws are irrelevant to top_evidence (it is exact); exact conjugate draws stand in."""
    from forecast.inference.exact import conjugate_draws
    from forecast.inference.problem import Posterior

    problem = prepare(inputs)
    draws = conjugate_draws(problem.net, problem.state_log_evidence, 400, np.random.default_rng(0))
    return Posterior(draws[None], np.zeros(draws.shape[1]), {"divergences": 0, "max_rhat": 1.0,
                     "min_ess": 400.0, "warnings": []}, "exact-test", {})


# -- grading -----------------------------------------------------------------------------------

def write_evidence(root, rows: list[str]):
    (root / "evidence" / "two-node-beta.csv").write_text(HEADER + "".join(r + "\n" for r in rows))
    return load_inputs(scenario_paths(root, "two-node-beta"))


BASE = "E1,b,2025-02-01,Test,A,1,3,,B looks three times likelier,"


def override_grades(root, reliability: str, credibility: str) -> None:
    """Give the copied two-node scenario its own grading tables (entry by entry overrides)."""
    path = root / "priors" / "two-node-beta.toml"
    text = path.read_text()
    path.write_text(text.replace("[[node]]", f"[scales.reliability]\n{reliability}\n\n"
                                 f"[scales.credibility]\n{credibility}\n\n[[node]]", 1))


STRONG_ON_A = "E2,a,2025-02-02,Unknown outlet,{grade},very_strongly_for,,x,"


@pytest.mark.parametrize(("grade", "weight"), [("F,1", 0.5), ("A,6", 0.5), ("F,6", 0.25)])
def test_an_item_graded_f_or_6_is_unknown_not_worthless(data_root, grade, weight):
    """README, "The model, in one page": F (reliability cannot be judged) and 6 (truth cannot
    be judged) weigh 0.5 by default, so an honestly graded unknown outlet still moves its node: exactly as an A1 item
    whose LR is raised to the power w."""
    base = write_evidence(data_root, [BASE])
    graded = write_evidence(data_root, [BASE, STRONG_ON_A.format(grade=grade)])
    assert graded.evidence[-1].weight == weight
    as_a1 = write_evidence(data_root, [BASE, f"E2,a,2025-02-02,T,A,1,{30.0 ** weight!r},,x,"])
    np.testing.assert_allclose(exact_of(graded), exact_of(as_a1), rtol=1e-12)
    moved = exact_of(graded)[0] - exact_of(base)[0]
    assert moved > 0.15          # LR 30 at w 0.25 is LR 2.34: from about .54 to above .7


@pytest.mark.parametrize(("grade", "weight"), [("E,1", 0.05), ("A,5", 0.05), ("E,5", 0.0025)])
def test_an_item_graded_e_or_5_barely_moves_its_node(data_root, grade, weight):
    """E (unreliable) and 5 (improbable) are judgements against the item: near zero weight. A
    very strong LR (30) on a root graded E or 5 shifts its log-odds by w * log 30 (at most a
    twentieth of the A1 shift): under 5 points of probability from anywhere."""
    base = write_evidence(data_root, [BASE])
    graded = write_evidence(data_root, [BASE, STRONG_ON_A.format(grade=grade)])
    full = write_evidence(data_root, [BASE, STRONG_ON_A.format(grade="A,1")])
    assert graded.evidence[-1].weight == pytest.approx(weight, rel=1e-12)
    moved = exact_of(graded)[0] - exact_of(base)[0]
    shift = logit(exact_of(graded)[0]) - logit(exact_of(base)[0])
    shift_at_a1 = logit(exact_of(full)[0]) - logit(exact_of(base)[0])
    assert shift == pytest.approx(weight * np.log(30.0), rel=1e-9)
    assert shift_at_a1 == pytest.approx(np.log(30.0), rel=1e-9)
    assert 0 < moved < 0.05


@pytest.mark.parametrize("grade", ["F,1", "A,6", "F,6"])
def test_a_scenario_that_sets_f_and_6_to_zero_makes_them_move_nothing(data_root, grade):
    """A scenario may override any grading entry; at F = 0 and 6 = 0 the item is inert."""
    override_grades(data_root, "F = 0.0", '"6" = 0.0')
    base = write_evidence(data_root, [BASE])
    graded = write_evidence(data_root, [BASE, f"E2,a,2025-02-02,Rumour,{grade},very_strongly_for,,x,",
                                        f"E2,b,2025-02-02,Rumour,{grade},0.05,,x,"])
    assert graded.evidence[-1].weight == 0.0
    assert graded.scenario.scales.reliability["E"] == 0.05      # other entries keep the default
    np.testing.assert_array_equal(exact_of(graded), exact_of(base))
    problem = prepare(graded)
    effects = {inf.key: inf.effect_pp for inf in influence(problem.net, graded.evidence,
                                                           problem.conditions)}
    np.testing.assert_array_equal(effects["E2"], np.zeros(2))


@pytest.mark.slow
def test_a_zero_weight_item_leaves_the_nuts_posterior_draw_for_draw_unchanged(data_root):
    """Through the engine of record: same seed, same draws, with or without an item whose
    grade the scenario weighs at zero."""
    _inputs, base = cached_fit(DATA, "two-node-beta")
    override_grades(data_root, "F = 0.0", '"6" = 0.0')
    graded = write_evidence(data_root, [BASE, "E2,a,2025-02-02,Rumour,F,6,very_strongly_for,,x,"])
    posterior = fit(prepare(graded), "nuts", 1, SamplerSettings(progress=False))
    np.testing.assert_array_equal(posterior.p_yes, base.p_yes)


def test_grading_scales_the_log_likelihood_ratio(data_root):
    """w = reliability x credibility multiplies log LR: B/2 (0.64) on LR 10 is LR 10^0.64."""
    graded = write_evidence(data_root, ["E1,b,2025-02-01,T,B,2,10,,x,"])
    plain = write_evidence(data_root, [f"E1,b,2025-02-01,T,A,1,{10 ** 0.64!r},,x,"])
    np.testing.assert_allclose(exact_of(graded), exact_of(plain), rtol=1e-12)


# -- clusters ----------------------------------------------------------------------------------

RESTATED = [
    "N1,a,2025-02-03,Wire,A,1,5,c-event,A happened,",
    "N2,a,2025-02-03,Paper,B,2,5,c-event,A happened (wire copy),",
    "N3,a,2025-02-04,Blog,C,3,5,c-event,A happened (blog),",
]


def test_three_restatements_in_one_cluster_move_the_forecast_once(data_root):
    prior_only = write_evidence(data_root, [])
    strongest = write_evidence(data_root, RESTATED[:1])
    clustered = write_evidence(data_root, RESTATED)
    independent = write_evidence(data_root, [r.replace(",c-event,", ",,") for r in RESTATED])
    np.testing.assert_allclose(exact_of(clustered), exact_of(strongest), rtol=1e-12)
    # Counted as independent they would move A's log-odds by the sum of the three weights.
    shift = logit(exact_of(clustered))[0] - logit(exact_of(prior_only))[0]
    shift_independent = logit(exact_of(independent))[0] - logit(exact_of(prior_only))[0]
    assert shift > 0.5
    assert shift_independent > shift + 0.5
    # Order of rows and which restatement comes first do not matter: the strongest counts.
    shuffled = write_evidence(data_root, RESTATED[::-1])
    np.testing.assert_allclose(exact_of(shuffled), exact_of(strongest), rtol=1e-12)
    # The cluster's influence is the whole event; a weaker restatement's own influence is zero.
    problem = prepare(clustered)
    effects = {(inf.kind, inf.key): inf.effect_pp for inf in influence(
        problem.net, clustered.evidence, problem.conditions)}
    np.testing.assert_allclose(effects["cluster", "c-event"],
                               100 * (exact_of(clustered) - exact_of(prior_only)), atol=1e-9)
    np.testing.assert_array_equal(effects["item", "N2"], np.zeros(2))
    np.testing.assert_array_equal(effects["item", "N3"], np.zeros(2))
    # Leaving out the counted item falls back to the next strongest (N2, weight 0.64).
    second = write_evidence(data_root, RESTATED[1:2])
    np.testing.assert_allclose(effects["item", "N1"],
                               100 * (exact_of(clustered) - exact_of(second)), atol=1e-9)


@pytest.mark.slow
def test_nuts_counts_a_cluster_once(data_root):
    independent = write_evidence(data_root, [r.replace(",c-event,", ",,") for r in RESTATED])
    strongest = write_evidence(data_root, RESTATED[:1])
    clustered = write_evidence(data_root, RESTATED)
    posterior = fit(prepare(clustered), "nuts", 3, SamplerSettings(progress=False))
    means = nuts_means(posterior)
    assert np.all(np.abs(means - exact_of(strongest)) <= 3.5 * posterior.mcse)
    assert np.all(np.abs(means - exact_of(independent))[0] > 10 * posterior.mcse[0])
