"""Recalibration from the track record: which forecasts count (each question once, per analyst
and for the pool), the refusal with too few questions, reports showing the recalibrated
forecast, and (slow, PyMC) a synthetic world of forecasters with known miscalibration."""

from __future__ import annotations

import datetime as dt
import json
import shutil
from pathlib import Path

import numpy as np
import pytest
from conftest import DATA, snapshot_files
from typer.testing import CliRunner

from forecast.analysis.recalibration import (
    Pair,
    apply_recalibration,
    expit,
    logit,
    pairs_from_snapshots,
    recalibrated_forecast,
)
from forecast.cli import app
from forecast.model.spec import Resolution

runner = CliRunner()
TWO = "two-node-beta"
FITTED = {"fitted_on": "2026-01-02", "n": 40, "questions": 40,
          "groups": {"team": {"a": 0.0, "b": 0.5, "a_interval": [0.0, 0.0],
                              "b_interval": [0.5, 0.5], "n": 40},
                     "hawk": {"a": 0.2, "b": 1.5, "a_interval": [0.1, 0.3],
                              "b_interval": [1.2, 1.8], "n": 20}},
          "held_out": {"folds": 5, "by": "question", "n": 40, "raw_brier": 0.21,
                       "recalibrated_brier": 0.17}}


def snap(day: str, stamp: str, means: dict, analysts: dict | None = None, resolved=None) -> dict:
    return {"as_of": dt.date.fromisoformat(day), "generated_at": stamp,
            "nodes": {node: {"mean": p, "resolved": (resolved or {}).get(node),
                             **({"by_analyst": analysts[node]} if analysts else {})}
                      for node, p in means.items()}}


def test_each_question_counts_once_per_group_from_the_latest_forecast_before_it_resolved():
    resolutions = [Resolution("a", True, dt.date(2025, 6, 1), "x"),
                   Resolution("b", False, dt.date(2025, 3, 1), "x")]
    snapshots = [
        snap("2025-01-01", "t1", {"a": 0.3, "b": 0.6}, {"a": {"hawk": 0.5}, "b": {"hawk": 0.7}}),
        snap("2025-02-01", "t2", {"a": 0.4, "b": 0.2}, {"a": {"hawk": 0.6}, "b": {"hawk": 0.1}}),
        # after b resolved: counts for a only; a's latest before its resolution
        snap("2025-04-01", "t3", {"a": 0.45, "b": 0.0}, {"a": {"hawk": 0.8}, "b": {"hawk": 0.0}},
             resolved={"b": "no"}),
        snap("2025-07-01", "t4", {"a": 1.0, "b": 0.0}, resolved={"a": "yes", "b": "no"}),
    ]
    pairs = pairs_from_snapshots("s", resolutions, snapshots)
    assert pairs == [Pair("hawk", "s", "a", 0.8, True), Pair("hawk", "s", "b", 0.1, False),
                     Pair("team", "s", "a", 0.45, True), Pair("team", "s", "b", 0.2, False)]


def test_the_recalibrated_forecast_is_the_logistic_of_a_plus_b_logit_p():
    fitted = FITTED["groups"]["hawk"]
    out = recalibrated_forecast(0.7, 0.5, 0.85, fitted)
    assert out["mean"] == pytest.approx(float(expit(0.2 + 1.5 * logit(0.7))), abs=1e-6)
    assert out["interval"][0] <= out["mean"] <= out["interval"][1]
    assert out["interval"][0] == pytest.approx(min(float(expit(a + b * logit(0.5)))
                                                   for a in (0.1, 0.2, 0.3) for b in (1.2, 1.5, 1.8)),
                                               abs=1e-6)
    identity = {"a": 0.0, "b": 1.0, "a_interval": [0.0, 0.0], "b_interval": [1.0, 1.0]}
    assert recalibrated_forecast(0.3, 0.2, 0.4, identity) == {"mean": 0.3, "interval": [0.2, 0.4]}


def test_an_analyst_without_a_track_record_takes_the_teams_recalibration():
    document = {"nodes": [{"mean": 0.8, "interval": [0.7, 0.9], "resolved": None}]}
    out = apply_recalibration(document, FITTED, "owl")
    assert out["recalibration"]["group"] == "team"
    assert out["nodes"][0]["recalibrated"]["mean"] == pytest.approx(float(expit(0.5 * logit(0.8))),
                                                                     abs=1e-6)
    assert "recalibrated" not in document["nodes"][0]


@pytest.fixture
def root(tmp_path) -> Path:
    root = tmp_path / "root"
    (root / "priors").mkdir(parents=True)
    (root / "evidence").mkdir()
    shutil.copy(DATA / "priors" / f"{TWO}.toml", root / "priors")
    shutil.copy(DATA / "evidence" / f"{TWO}.csv", root / "evidence")
    return root


def test_too_few_resolved_questions_is_one_line_and_nothing_written(root):
    before = snapshot_files(root)
    result = runner.invoke(app, ["recalibrate", "--root", str(root)])
    assert result.exit_code == 1
    lines = result.output.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith(
        "Error: reports/recalibration.json: too few resolved yes/no questions to learn from (0; "
        "at least 20 needed): the forecasts stay as they are (the identity, a = 0 and b = 1)")
    assert snapshot_files(root) == before


def test_reports_show_the_recalibrated_forecast_where_a_fit_exists(root):
    (root / "reports").mkdir()
    (root / "reports" / "recalibration.json").write_text(json.dumps(FITTED))
    result = runner.invoke(app, ["report", "--root", str(root), "--scenario", TWO])
    assert result.exit_code == 0, result.output
    document = json.loads((root / "reports" / TWO / "report.json").read_text())
    assert document["recalibration"] == {"fitted_on": "2026-01-02", "n": 40, "group": "team",
                                         "raw_brier": 0.21, "recalibrated_brier": 0.17}
    for node in document["nodes"]:
        assert node["recalibrated"]["mean"] == pytest.approx(
            float(expit(0.5 * logit(node["mean"]))), abs=1e-6)
    assert "recalibrated" in result.output and "40 resolved forecasts" in result.output
    markdown = (root / "reports" / TWO / "report.md").read_text()
    assert "| recalibrated |" in markdown and "held-out questions the Brier score went from 0.210 to 0.170" in markdown
    assert 'id="recalibration-words"' in (root / "reports" / TWO / "report.html").read_text()


def test_a_damaged_recalibration_file_is_a_located_error(root):
    (root / "reports").mkdir()
    (root / "reports" / "recalibration.json").write_text("{not json")
    result = runner.invoke(app, ["report", "--root", str(root), "--scenario", TWO])
    assert result.exit_code == 1
    assert result.output.strip().splitlines() == [
        f"Error: {root}/reports/recalibration.json:1: json: invalid JSON: Expecting property name "
        "enclosed in double quotes; rerun `forecast recalibrate` or delete the file"]


@pytest.mark.slow
def test_a_synthetic_world_recovers_each_forecasters_miscalibration():
    """300 questions, three forecasters of the same true chances: overconfident (their log-odds
    doubled: slope 0.5 corrects it), calibrated (slope 1), underconfident (halved: slope 2).
    The fitted slopes' intervals cover the truth; held out, recalibration improves the Brier
    score of the miscalibrated two and leaves the calibrated one's as it was."""
    from forecast.jobs.recalibrate import FitSettings, recalibration_document

    rng = np.random.default_rng(7)
    n = 300
    truth = rng.normal(0, 1.5, n)
    happened = rng.random(n) < expit(truth)
    slopes = {"overconfident": 0.5, "calibrated": 1.0, "underconfident": 2.0}
    pairs = [Pair(name, f"s{i % 3}", f"q{i}", float(expit(truth[i] / slope)), bool(happened[i]))
             for name, slope in slopes.items() for i in range(n)]
    document = recalibration_document(pairs, 1, FitSettings(draws=300, tune=300, fold_draws=200,
                                                             fold_tune=200))
    assert document["n"] == 3 * n and document["held_out"]["folds"] == 5
    assert document["sampler"]["engine"] == "nutpie"
    for name, slope in slopes.items():
        low, high = document["groups"][name]["b_interval"]
        assert low <= slope <= high, (name, low, high)
        assert document["groups"][name]["n"] == n
    held = document["held_out"]["by_group"]
    for name in ("overconfident", "underconfident"):
        assert held[name]["recalibrated_brier"] < held[name]["raw_brier"] - 0.003
    assert held["calibrated"]["recalibrated_brier"] <= held["calibrated"]["raw_brier"] + 0.001
    assert document["diagnostics"]["divergences"] == 0


def test_recalibrate_takes_draws_and_warm_up_as_its_diagnostics_advise(monkeypatch, tmp_path):
    """A divergence warning says to rerun with more --tune: the command takes it (and --draws),
    the written fit gets them and each held-out fold half; without them the defaults hold."""
    import forecast.jobs.recalibrate as job
    from forecast.jobs.recalibrate import FitSettings, RecalibrateResult, fit_settings

    assert fit_settings() == FitSettings()
    seen = []

    def fake(root, seed, backtests, settings=None, **_kw):
        seen.append(settings)
        return RecalibrateResult({"groups": {}}, [])

    monkeypatch.setattr(job, "run_recalibrate", fake)
    monkeypatch.setattr("forecast.render.recalibration.recalibration_text", lambda *_a: "")
    result = runner.invoke(app, ["recalibrate", "--root", str(tmp_path), "--tune", "2000",
                                 "--draws", "800"])
    assert result.exit_code == 0, result.output
    assert (seen[-1].tune, seen[-1].draws, seen[-1].fold_tune, seen[-1].fold_draws) == (
        2000, 800, 1000, 400)
    runner.invoke(app, ["recalibrate", "--root", str(tmp_path)])
    assert seen[-1] == FitSettings()
    assert runner.invoke(app, ["recalibrate", "--root", str(tmp_path), "--tune", "10"]).exit_code == 2
