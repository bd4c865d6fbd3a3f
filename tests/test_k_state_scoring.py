"""score and backtest on questions with more than two outcomes (README, "Questions with more than
two outcomes"): the halved categorical Brier score, ln p(outcome), the ranked probability score
of ordered questions and the calibration table over (question, state) forecasts, by hand; yes/no
pairs scored exactly as before."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest
from conftest import run_cli
from hypothesis import given
from hypothesis import strategies as st
from test_k_states import EVIDENCE, SCENARIO_TEXT, brute_force, inputs_of

from forecast.analysis.scoring import (
    brier_score,
    categorical_brier,
    log_score,
    pair_scores,
    ranked_probability_score,
    score_pairs,
    state_log_score,
)
from forecast.io.priors import load_scenario


def test_categorical_scores_by_hand():
    # forecast (none, sporadic, sustained) = (0.5, 0.3, 0.2); sustained happened: o = (0, 0, 1)
    # Brier: (0.5^2 + 0.3^2 + 0.8^2) / 2 = (0.25 + 0.09 + 0.64) / 2 = 0.49
    assert categorical_brier([0.5, 0.3, 0.2], 2) == pytest.approx(0.49, abs=1e-12)
    # RPS: cumulative forecast (0.5, 0.8) against (0, 0): (0.25 + 0.64) / 2 = 0.445
    assert ranked_probability_score([0.5, 0.3, 0.2], 2) == pytest.approx(0.445, abs=1e-12)
    # none happened: cumulative outcome (1, 1): (0.25 + 0.04) / 2 = 0.145
    assert ranked_probability_score([0.5, 0.3, 0.2], 0) == pytest.approx(0.145, abs=1e-12)
    # sporadic happened: (0.5 - 0)^2 and (0.8 - 1)^2: (0.25 + 0.04) / 2 = 0.145
    assert ranked_probability_score([0.5, 0.3, 0.2], 1) == pytest.approx(0.145, abs=1e-12)
    assert state_log_score([0.5, 0.3, 0.2], 2) == pytest.approx(math.log(0.2), abs=1e-12)
    assert state_log_score([1.0, 0.0, 0.0], 2) == pytest.approx(math.log(1e-6), abs=1e-12)


@given(st.floats(0.0, 1.0), st.integers(0, 1))
def test_on_two_states_the_halved_brier_and_the_rps_are_the_binary_brier(p, y):
    probs = [1.0 - p, p]               # (no, yes); y = 1: yes happened
    assert categorical_brier(probs, y) == pytest.approx((p - y) ** 2, abs=1e-12)
    assert ranked_probability_score(probs, y) == pytest.approx((p - y) ** 2, abs=1e-12)


def test_yes_no_pairs_score_bit_for_bit_as_before():
    f, y = [0.6, 0.8, 0.3, 0.4, 0.2, 0.999], [1, 1, 0, 0, 0, 1]
    brier, logs, rps = pair_scores(f, y)
    assert float(np.mean(brier)) == brier_score(f, y)
    assert float(np.mean(logs)) == log_score(f, y)
    assert np.all(np.isnan(rps)) and math.isnan(score_pairs(f, y).rps)


def test_bad_state_forecasts_are_refused():
    with pytest.raises(ValueError):
        categorical_brier([0.5, 0.3, 0.3], 0)          # does not sum to 1
    with pytest.raises(ValueError):
        categorical_brier([0.5, 0.5], 2)               # no such state


def snapshot(as_of: str, attacks, talks: float, mediator) -> str:
    """A history line as `forecast update` writes it: yes/no talks by its mean, the others by
    their distributions."""
    def dist(states, probs):
        return [{"state": s, "mean": p, "interval": [0.0, 1.0]} for s, p in zip(states, probs, strict=True)]

    nodes = [{"id": "attacks", "mean": None, "interval": None, "interval_prob": 0.9,
              "resolved": None, "distribution": dist(("none", "sporadic", "sustained"), attacks)},
             {"id": "talks", "mean": talks, "interval": [0.0, 1.0], "interval_prob": 0.9,
              "resolved": None},
             {"id": "mediator", "mean": None, "interval": None, "interval_prob": 0.9,
              "resolved": None, "distribution": dist(("turkey", "qatar", "nobody"), mediator)}]
    return json.dumps({"scenario": "k-state", "as_of": as_of, "generated_at": as_of + "T12:00:00+00:00",
                       "evidence_hash": "sha256:" + as_of, "model_version": "1.0", "seed": 1,
                       "versions": {}, "engine": "exact", "diagnostics": {}, "nodes": nodes,
                       "items": {}, "influence": {}})


@pytest.fixture()
def root(tmp_path):
    (tmp_path / "priors").mkdir()
    (tmp_path / "evidence").mkdir()
    (tmp_path / "priors" / "k-state.toml").write_text(SCENARIO_TEXT)
    (tmp_path / "evidence" / "k-state.csv").write_text(EVIDENCE)
    (tmp_path / "evidence" / "k-state.resolutions.csv").write_text(
        "node,outcome,date,source\nattacks,sustained,2025-06-01,Monitor\n"
        "mediator,qatar,2025-06-01,Wire\ntalks,yes,2025-06-01,Wire\n")
    return tmp_path


def test_score_of_a_hand_made_k_state_history(root):
    """Pairs, by node (attacks ordered, mediator not, talks yes/no):
    attacks (0.5, 0.3, 0.2), sustained: Brier (0.25 + 0.09 + 0.64) / 2 = 0.49, RPS 0.445, ln 0.2
    attacks (0.2, 0.3, 0.5):             (0.04 + 0.09 + 0.25) / 2 = 0.19, RPS (0.04 + 0.25) / 2
                                         = 0.145, ln 0.5
    mediator (0.2, 0.5, 0.3), qatar:     (0.04 + 0.25 + 0.09) / 2 = 0.19, ln 0.5
    mediator (0.1, 0.6, 0.3):            (0.01 + 0.16 + 0.09) / 2 = 0.13, ln 0.6
    talks 0.4, yes: 0.36, ln 0.4;  talks 0.6: 0.16, ln 0.6
    Brier (0.49 + 0.19 + 0.19 + 0.13 + 0.36 + 0.16) / 6 = 1.52 / 6; RPS (0.445 + 0.145) / 2 = 0.295.
    Calibration: 3 + 3 + 3 + 3 state forecasts and talks' 2 yes forecasts = 14."""
    history = root / "reports" / "k-state" / "history.jsonl"
    history.parent.mkdir(parents=True)
    history.write_text(snapshot("2025-03-20", (0.5, 0.3, 0.2), 0.4, (0.2, 0.5, 0.3)) + "\n"
                       + snapshot("2025-05-01", (0.2, 0.3, 0.5), 0.6, (0.1, 0.6, 0.3)) + "\n")
    result = run_cli(root, ["score", "--scenario", "k-state", "--format", "json"])
    assert result.exit_code == 0, result.output
    doc = json.loads(result.stdout)
    assert doc["count"] == 6
    assert doc["brier"] == pytest.approx(1.52 / 6, abs=1e-6)
    logs = [math.log(p) for p in (0.2, 0.5, 0.5, 0.6, 0.4, 0.6)]
    assert doc["log_score"] == pytest.approx(sum(logs) / 6, abs=1e-6)
    assert doc["rps"] == pytest.approx(0.295, abs=1e-9)
    assert sum(b["count"] for b in doc["bins"]) == 14
    # the 14 forecasts: 0.1 once (mediator); 0.2 three times (attacks twice, mediator); 0.3 four
    # times; 0.4 once (talks); 0.5 three times (attacks twice, mediator); 0.6 twice (mediator, talks)
    assert [b["count"] for b in doc["bins"]] == [0, 1, 3, 4, 1, 3, 2, 0, 0, 0]
    by_node = {n["node"]: n for n in doc["by_node"]}
    assert by_node["attacks"]["brier"] == pytest.approx(0.34, abs=1e-9)
    assert by_node["attacks"]["rps"] == pytest.approx(0.295, abs=1e-9)
    assert by_node["attacks"]["outcome"] == "sustained" and by_node["attacks"]["last_forecast"] == 0.5
    assert by_node["attacks"]["distribution"] == {"none": 0.2, "sporadic": 0.3, "sustained": 0.5}
    assert by_node["mediator"]["rps"] is None and by_node["mediator"]["brier"] == pytest.approx(0.16)
    assert "rps" not in by_node["talks"] and by_node["talks"]["brier"] == pytest.approx(0.26)
    first = doc["forecasts"][0]
    assert (first["node"], first["forecast"], first["brier"], first["rps"]) == (
        "attacks", 0.2, 0.49, 0.445)
    table = run_cli(root, ["score", "--scenario", "k-state"])
    assert table.exit_code == 0 and "RPS 0.2950" in table.output and "on sustained" in table.output
    html = (root / "reports" / "k-state" / "score.html").read_text()
    assert "Ranked probability score" in html and "50.0% on sustained" in html


def test_backtest_replays_k_state_distributions_and_scores_them(root):
    result = run_cli(root, ["backtest", "--scenario", "k-state", "--format", "json"])
    assert result.exit_code == 0, result.output
    doc = json.loads(result.stdout)
    scenario = load_scenario(root / "priors" / "k-state.toml")
    _inputs, items, _res = inputs_of(scenario)
    pairs = []
    for snap in doc["snapshots"]:
        nodes = {n["id"]: n for n in snap["nodes"]}
        # a replay uses only the evidence dated by then (one item a day here)
        known = [it for it in items if it.date.isoformat() <= snap["as_of"]]
        want = brute_force(scenario, known)
        for node_id in ("attacks", "mediator"):
            node = nodes[node_id]
            assert node["mean"] is None and node["interval"] is None
            got = {row["state"]: row["mean"] for row in node["distribution"]}
            assert got == pytest.approx(want[node_id], abs=1e-6)
        assert nodes["talks"]["mean"] == pytest.approx(want["talks"]["yes"], abs=1e-6)
        pairs += [("attacks", [nodes["attacks"]["distribution"][i]["mean"] for i in range(3)], 2),
                  ("mediator", [nodes["mediator"]["distribution"][i]["mean"] for i in range(3)], 1),
                  ("talks", nodes["talks"]["mean"], 1)]
    assert doc["score"]["n"] == len(pairs) == 12
    briers = [0.5 * sum((p - (i == o)) ** 2 for i, p in enumerate(f)) if isinstance(f, list)
              else (f - o) ** 2 for _, f, o in pairs]
    assert doc["score"]["brier"] == pytest.approx(sum(briers) / 12, abs=1e-5)
    rps = [((f[0]) ** 2 + (f[0] + f[1]) ** 2) / 2 for node, f, _ in pairs if node == "attacks"]
    assert doc["score"]["rps"] == pytest.approx(sum(rps) / len(rps), abs=1e-5)
    table = run_cli(root, ["backtest", "--scenario", "k-state"])
    assert table.exit_code == 0 and "RPS" in table.output
    assert "backtest-chart" in (root / "reports" / "k-state" / "backtest.html").read_text()
