"""Scores against values computed on paper, and the decomposition identity as a property."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from forecast.analysis import scoring

# Four forecasts, worked by hand:
#   f = 0.9, 0.2, 0.7, 0.4 ; y = 1, 0, 0, 1
#   squared errors 0.01, 0.04, 0.49, 0.36 -> Brier 0.90 / 4 = 0.225
#   log score (ln 0.9 + ln 0.8 + ln 0.3 + ln 0.4) / 4 = -2.4487677 / 4 = -0.6121919
#   ten bins: every forecast alone in its bin, so reliability = Brier = 0.225,
#   base rate 0.5, resolution = mean (y - 0.5)^2 = 0.25, uncertainty 0.25, within-bin 0.
F4, Y4 = [0.9, 0.2, 0.7, 0.4], [1, 0, 0, 1]


def test_brier_and_log_score_by_hand():
    assert scoring.brier_score(F4, Y4) == pytest.approx(0.225, abs=1e-12)
    assert scoring.log_score(F4, Y4) == pytest.approx(-0.6121919, abs=1e-7)
    assert scoring.log_score(F4, Y4) == pytest.approx(
        (math.log(0.9) + math.log(0.8) + math.log(0.3) + math.log(0.4)) / 4, rel=1e-12)


def test_decomposition_with_one_forecast_per_bin_by_hand():
    d = scoring.murphy_decomposition(F4, Y4)
    assert d.reliability == pytest.approx(0.225, abs=1e-12)
    assert d.resolution == pytest.approx(0.25, abs=1e-12)
    assert d.uncertainty == pytest.approx(0.25, abs=1e-12)
    assert d.within_bin == pytest.approx(0.0, abs=1e-12)
    assert d.base_rate == 0.5


def test_decomposition_with_spread_inside_bins_by_hand():
    # Two bins. f = .2 .4 | .6 .8, y = 0 1 | 1 1.
    # bin 0: mean f 0.3, observed 0.5; bin 1: mean f 0.7, observed 1.0; base rate 0.75.
    # REL = (2 * 0.2^2 + 2 * 0.3^2) / 4 = 0.065; RES = (2 * 0.25^2 + 2 * 0.25^2) / 4 = 0.0625
    # UNC = 0.75 * 0.25 = 0.1875; Brier = (.04 + .36 + .16 + .04) / 4 = 0.15
    # within-bin = 0.15 - (0.065 - 0.0625 + 0.1875) = -0.04
    #   (= within-bin variance 0.01 - within-bin covariance 0.05, Stephenson et al. 2008)
    f, y = [0.2, 0.4, 0.6, 0.8], [0, 1, 1, 1]
    d = scoring.murphy_decomposition(f, y, n_bins=2)
    assert (d.brier, d.reliability, d.resolution, d.uncertainty, d.within_bin) == pytest.approx(
        (0.15, 0.065, 0.0625, 0.1875, -0.04), abs=1e-12)
    bins = scoring.calibration_bins(f, y, n_bins=2)
    assert [b.count for b in bins] == [2, 2]
    assert [b.mean_forecast for b in bins] == pytest.approx([0.3, 0.7])
    assert [b.observed for b in bins] == pytest.approx([0.5, 1.0])
    assert bins[0].se == pytest.approx(math.sqrt(0.2 * 0.8 + 0.4 * 0.6) / 2)
    assert bins[0].z == pytest.approx(0.2 / (math.sqrt(0.4) / 2))


def test_bin_edges_are_half_open_and_one_goes_in_the_top_bin():
    bins = scoring.calibration_bins([0.0, 0.1, 0.0999, 1.0, 0.95], [0, 1, 0, 1, 1])
    counts = [b.count for b in bins]
    assert counts[0] == 2 and counts[1] == 1 and counts[9] == 2
    assert sum(counts) == 5
    assert math.isnan(bins[5].observed) and bins[5].count == 0


def test_log_score_of_a_confident_miss_is_finite_and_floored():
    assert scoring.log_score([0.0], [1]) == pytest.approx(math.log(scoring.LOG_FLOOR))
    assert scoring.log_score([1.0], [1]) == pytest.approx(0.0, abs=1e-5)


def test_bad_inputs_are_refused():
    with pytest.raises(ValueError):
        scoring.brier_score([1.2], [1])
    with pytest.raises(ValueError):
        scoring.brier_score([0.5], [2])
    with pytest.raises(ValueError):
        scoring.brier_score([0.5, 0.5], [1])


def test_no_forecasts_gives_nan_not_an_error():
    summary = scoring.score([], [])
    assert summary.count == 0 and math.isnan(summary.brier)
    assert math.isnan(summary.decomposition.reliability)


def test_reliability_under_calibration_has_the_binomial_mean():
    # One bin of N forecasts at 0.5: REL = (ybar - 0.5)^2, whose mean is 0.25 / N.
    n = 50
    sims = scoring.reliability_under_calibration(np.full(n, 0.5), n_sims=20_000,
                                                 rng=np.random.default_rng(1))
    # SD of (ybar - .5)^2 is sqrt(2) * 0.25 / N for a normal ybar; mean's SE over 20 000 runs.
    assert sims.mean() == pytest.approx(0.25 / n, abs=4 * math.sqrt(2) * 0.25 / n / math.sqrt(20_000))


probabilities = st.lists(st.tuples(st.floats(0, 1), st.booleans()), min_size=1, max_size=60)


@given(probabilities, st.integers(1, 20))
@settings(max_examples=200, deadline=None)
def test_decomposition_identity_and_ranges(pairs, n_bins):
    f = [p for p, _ in pairs]
    y = [int(o) for _, o in pairs]
    d = scoring.murphy_decomposition(f, y, n_bins)
    assert d.reliability - d.resolution + d.uncertainty + d.within_bin == pytest.approx(d.brier, abs=1e-12)
    assert 0 <= d.brier <= 1 and d.reliability >= 0 and d.resolution >= 0
    assert 0 <= d.uncertainty <= 0.25
    assert d.resolution <= d.uncertainty + 1e-12
    assert sum(b.count for b in scoring.calibration_bins(f, y, n_bins)) == len(f)
    assert scoring.log_score(f, y) <= 0


# --- `forecast score` over a history and resolutions ----------------------------------------

import json  # noqa: E402

from typer.testing import CliRunner  # noqa: E402

from forecast.cli import app  # noqa: E402

runner = CliRunner()


def snapshot(as_of: str, nodes: dict) -> str:
    """One history line in the shape `forecast update` writes (extra fields are ignored)."""
    return json.dumps({"scenario": "x", "as_of": as_of, "generated_at": as_of + "T12:00:00+00:00",
                       "evidence_hash": "sha256:" + as_of, "model_version": "1.0",
                       "nodes": [{"id": k, "mean": m, "interval": [0, 1], "interval_prob": 0.9,
                                  "resolved": r} for k, (m, r) in nodes.items()]})


def write_two_node_track_record(root):
    # a resolves yes on 2025-06-01, b resolves no on 2025-08-01.
    (root / "evidence" / "two-node-beta.resolutions.csv").write_text(
        "node,outcome,date,source\na,yes,2025-06-01,Test\nb,no,2025-08-01,Test\n")
    history = root / "reports" / "two-node-beta" / "history.jsonl"
    history.parent.mkdir(parents=True)
    history.write_text("\n".join([
        snapshot("2025-02-01", {"a": (0.6, None), "b": (0.3, None)}),
        snapshot("2025-04-01", {"a": (0.8, None), "b": (0.4, None)}),
        snapshot("2025-07-01", {"a": (1.0, "yes"), "b": (0.2, None)}),   # after a resolved
        "{not json",                                                       # a torn line
        snapshot("2025-09-01", {"a": (1.0, "yes"), "b": (0.0, "no")}),     # after both
    ]) + "\n")


def test_score_of_a_hand_made_history(data_root):
    """Scored: a at 0.6 and 0.8 (yes); b at 0.3, 0.4, 0.2 (no).
    Brier (0.16 + 0.04 + 0.09 + 0.16 + 0.04) / 5 = 0.098;
    log score (ln .6 + ln .8 + ln .7 + ln .6 + ln .8) / 5 = -0.3649227;
    every forecast alone in its bin: REL = Brier = 0.098; base rate 0.4: RES = UNC = 0.24."""
    write_two_node_track_record(data_root)
    result = runner.invoke(app, ["score", "--scenario", "two-node-beta", "--root", str(data_root),
                                 "--format", "json"])
    assert result.exit_code == 0, result.output
    doc = json.loads(result.stdout)
    assert doc["count"] == 5
    assert doc["brier"] == pytest.approx(0.098, abs=1e-9)
    assert doc["log_score"] == pytest.approx(-0.3649227, abs=1e-6)
    d = doc["decomposition"]
    assert (d["reliability"], d["resolution"], d["uncertainty"], d["within_bin"]) == pytest.approx(
        (0.098, 0.24, 0.24, 0.0), abs=1e-9)
    assert [(f["node"], f["as_of"], f["forecast"]) for f in doc["forecasts"]] == [
        ("a", "2025-02-01", 0.6), ("a", "2025-04-01", 0.8),
        ("b", "2025-02-01", 0.3), ("b", "2025-04-01", 0.4), ("b", "2025-07-01", 0.2)]
    by_node = {n["node"]: n for n in doc["by_node"]}
    assert by_node["a"]["brier"] == pytest.approx(0.1) and by_node["a"]["last_forecast"] == 0.8
    assert by_node["b"]["brier"] == pytest.approx(0.29 / 3, abs=1e-6)
    assert [b["count"] for b in doc["bins"]] == [0, 0, 1, 1, 1, 0, 1, 0, 1, 0]
    assert doc["skipped_lines"] == {"two-node-beta": 1}
    out = data_root / "reports" / "two-node-beta"
    assert json.loads((out / "score.json").read_text())["brier"] == doc["brier"]
    html = (out / "score.html").read_text()
    assert "data:image/svg+xml;base64," in html and "Reliability" in html and "0.0980" in html


def test_score_all_pools_every_scenario(data_root):
    write_two_node_track_record(data_root)
    history = data_root / "reports" / "burglary" / "history.jsonl"
    history.parent.mkdir(parents=True)
    history.write_text(snapshot("2025-01-01", {"john_calls": (0.3, None), "mary_calls": (0.1, None)}) + "\n")
    result = runner.invoke(app, ["score", "--all", "--root", str(data_root), "--format", "json"])
    assert result.exit_code == 0, result.output
    doc = json.loads(result.stdout)
    # Every scenario under the root is listed; only the two with a history have pairs to score.
    assert doc["scenarios"] == sorted(p.stem for p in (data_root / "priors").glob("*.toml"))
    assert doc["count"] == 7
    # 0.49 from two-node-beta, plus burglary's (1 - 0.3)^2 + (1 - 0.1)^2 = 1.30.
    assert doc["brier"] == pytest.approx(1.79 / 7, abs=1e-6)     # JSON keeps 6 decimals
    for path in ("reports/score.json", "reports/score.html", "reports/burglary/score.json",
                 "reports/two-node-beta/score.html"):
        assert (data_root / path).is_file(), path


def test_score_all_says_which_resolved_scenarios_it_could_not_score_and_why(data_root):
    write_two_node_track_record(data_root)
    history = data_root / "reports" / "burglary" / "history.jsonl"
    history.parent.mkdir(parents=True)
    history.write_text(snapshot("2025-01-05", {"john_calls": (0.3, None), "mary_calls": (0.1, None)})
                       + "\n")
    result = runner.invoke(app, ["score", "--all", "--root", str(data_root), "--format", "json"])
    assert result.exit_code == 0, result.output
    unscored = {u["scenario"]: u for u in json.loads(result.stdout)["unscored"]}
    assert sorted(unscored) == ["burglary", "mixed-parametric"]
    assert (unscored["burglary"]["resolutions"], unscored["burglary"]["snapshots"]) == (2, 1)
    assert unscored["burglary"]["reason"].startswith(
        "none of its 1 snapshots is dated before a resolution")
    assert unscored["mixed-parametric"]["reason"].startswith(
        "no snapshot in reports/mixed-parametric/history.jsonl: `forecast update --scenario "
        "mixed-parametric` records the forecast from now on")
    table = runner.invoke(app, ["score", "--all", "--root", str(data_root)]).stdout
    assert "Not scored: mixed-parametric (1 resolutions): no snapshot in" in " ".join(table.split())


def test_score_with_nothing_resolved_says_so(repo_root):
    result = runner.invoke(app, ["score", "--root", str(repo_root)])
    assert result.exit_code == 0, result.output
    assert "Nothing to score yet" in result.stdout
    doc = json.loads((repo_root / "reports" / "turkey-peacekeeping" / "score.json").read_text())
    assert doc["count"] == 0 and doc["brier"] is None


def test_score_table_lists_bins_and_nodes(data_root):
    write_two_node_track_record(data_root)
    result = runner.invoke(app, ["score", "--scenario", "two-node-beta", "--root", str(data_root)])
    assert result.exit_code == 0, result.output
    assert "Brier 0.0980" in result.stdout and "Calibration by forecast bin" in result.stdout
    assert "Resolved nodes" in result.stdout
