"""Calibration in a synthetic world: the system, not only the sampler, is calibrated.

900 worlds are drawn from a known model (CPT entries from their Beta priors, node states from
the network). In each, evidence is coded from the truth with known likelihood ratios and
Admiralty grades, some of it restated by weaker echoes in the same cluster, written as the
evidence CSV an analyst would write. The tool reads it (parser, grading scale, cluster rule)
and forecasts with the exact engine; a subset also goes through NUTS. One question per world
(cycling through the nodes, so forecasts are independent) is resolved with the truth and scored.

Tolerances come from sampling error: per bin, |observed - mean forecast| <= 3 binomial SE of
a calibrated forecaster; the reliability term below the 99.5% quantile of its distribution
under perfect calibration for these very forecasts. Two miscoded forecasters (grades ignored;
restatements counted as new evidence) must fail the same criteria.
"""

from __future__ import annotations

import numpy as np
import pytest

from forecast.analysis import scoring
from forecast.analysis.calibration_world import WORLD_TOML, draw_world
from forecast.inference.exact import exact_means
from forecast.inference.problem import prepare
from forecast.io.evidence import parse_evidence
from forecast.io.priors import parse_scenario
from forecast.model.spec import Inputs

WORLDS = 900
MIN_BIN = 20


def world_forecasts():
    scenario = parse_scenario(WORLD_TOML, "synthetic-world.toml")
    rng = np.random.default_rng(20250306)
    model = prepare(Inputs(scenario, ())).net
    tool, ignore_grades, count_echoes, truth, nodes, problems = [], [], [], [], [], []
    for i in range(WORLDS):
        world = draw_world(model, scenario.scales, rng)
        items = parse_evidence(world.evidence_csv, "world.csv", scenario)
        problem = prepare(Inputs(scenario, items))
        net, v = problem.net, i % len(scenario.nodes)
        tool.append(exact_means(net, problem.state_log_evidence)[v])
        naive = np.zeros(net.n_nodes)
        echoes = np.zeros(net.n_nodes)
        for it in items:
            naive[net.index(it.node)] += np.log(it.lr)
            echoes[net.index(it.node)] += it.weight * np.log(it.lr)
        ignore_grades.append(exact_means(net, net.state_log_evidence(naive))[v])
        count_echoes.append(exact_means(net, net.state_log_evidence(echoes))[v])
        truth.append(int(world.state[v]))
        nodes.append(v)
        problems.append(problem)
    return (np.array(tool), np.array(ignore_grades), np.array(count_echoes), np.array(truth),
            np.array(nodes), problems)


@pytest.fixture(scope="module")
def world():
    return world_forecasts()


def calibration_failures(forecasts, outcomes):
    """Bins outside 3 binomial SE, and whether reliability exceeds its 99.5% quantile."""
    bins = scoring.calibration_bins(forecasts, outcomes)
    bad = [b for b in bins if b.count >= MIN_BIN and abs(b.observed - b.mean_forecast) > 3 * b.se]
    rel = scoring.murphy_decomposition(forecasts, outcomes).reliability
    limit = np.quantile(scoring.reliability_under_calibration(forecasts, rng=np.random.default_rng(1)),
                        0.995)
    return bad, rel, limit


def test_the_tool_is_calibrated_in_a_world_drawn_from_its_model(world):
    tool, _ignore, _echo, truth, _nodes, _problems = world
    summary = scoring.score(tool, truth)
    d = summary.decomposition
    print(f"\nsynthetic world, {len(tool)} questions: Brier {d.brier:.4f} = REL {d.reliability:.4f} "
          f"- RES {d.resolution:.4f} + UNC {d.uncertainty:.4f} + within {d.within_bin:.4f}; "
          f"log score {summary.log_score:.4f}")
    for b in summary.bins:
        print(f"  {b.low:.1f}-{b.high:.1f}: n={b.count:4d} mean f={b.mean_forecast:.3f} "
              f"observed={b.observed:.3f} se={b.se:.3f}")
    bad, rel, limit = calibration_failures(tool, truth)
    assert not bad, bad
    assert rel <= limit, (rel, limit)
    assert sum(b.count >= MIN_BIN for b in summary.bins) >= 7     # the test covers the range
    assert d.resolution > 0.05                                     # and evidence is informative
    assert summary.brier < d.uncertainty                           # better than the base rate


def test_a_forecaster_that_ignores_grades_fails_the_same_test(world):
    _tool, ignore_grades, _echo, truth, _nodes, _problems = world
    bad, rel, limit = calibration_failures(ignore_grades, truth)
    assert bad and rel > limit


def test_a_forecaster_that_counts_restatements_fails_the_same_test(world):
    _tool, _ignore, count_echoes, truth, _nodes, _problems = world
    bad, rel, limit = calibration_failures(count_echoes, truth)
    assert rel > limit or bad


@pytest.mark.slow
def test_nuts_gives_the_same_forecasts_on_a_subset_of_worlds(world):
    """24 worlds through the engine of record: one compiled model, evidence swapped in."""
    from forecast.inference.nuts import SamplerSettings, sampler_for
    from forecast.jobs.check import z_limit

    tool, _ignore, _echo, _truth, _nodes, problems = world
    settings = SamplerSettings(draws=500, tune=500, chains=2, progress=False)
    sampler = sampler_for(problems[0].net)
    limit = z_limit(24 * 3)
    for i, problem in enumerate(problems[:24]):
        fit = sampler.sample(problem.node_log_weights, problem.hard_mask, seed=i, settings=settings)
        means = fit.p_yes.reshape(-1, 3).mean(axis=0)
        exact = exact_means(problem.net, problem.state_log_evidence)
        assert np.all(np.abs(means - exact) <= limit * fit.mcse + 1e-9), (i, means, exact, fit.mcse)
        assert exact[i % 3] == pytest.approx(tool[i], rel=1e-12)
