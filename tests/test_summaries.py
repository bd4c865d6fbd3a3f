"""analysis/summaries.py by hand: the equal-tailed interval, the ranking and cut-off of the
top evidence, and the forecast interval widened to hold its mean."""

from __future__ import annotations

import numpy as np
import pytest

from forecast.analysis.summaries import Influence, interval, moved_most, node_forecasts, top_evidence


def test_interval_is_equal_tailed_at_the_stated_probability():
    draws = np.arange(101.0)[:, None]                  # quantile q of 0..100 is exactly 100 q
    assert interval(draws) == pytest.approx(np.array([[5.0, 95.0]]))   # 90%: 5% in each tail
    assert interval(draws, 0.5) == pytest.approx(np.array([[25.0, 75.0]]))
    two = np.stack([draws, draws + 100.0])             # (chains, draws, n): chains pooled
    assert interval(two, 0.5) == pytest.approx(np.array([[50.25, 149.75]]))   # 202 values, 100 twice


def _influence(key: str, pp: float) -> Influence:
    return Influence(key, "item", "", np.array([pp]), np.array([pp / 25]))


def test_top_evidence_ranks_by_size_either_way_and_drops_what_moved_nothing():
    influences = [_influence("E1", 1.0), _influence("E2", -3.0), _influence("E3", 0.004),
                  _influence("E4", 2.0), _influence("E5", 0.01),
                  Influence("c", "cluster", "c", np.array([9.0]), np.array([0.3]))]
    top = top_evidence(influences, 0)
    assert [row["item_id"] for row in top] == ["E2", "E4", "E1", "E5"]   # clusters not listed
    assert top[0] == {"item_id": "E2", "cluster": None, "effect_pp": -3.0, "effect_logodds": -0.12}
    assert [row["item_id"] for row in top_evidence(influences, 0, limit=2)] == ["E2", "E4"]


def test_moved_most_ranks_items_and_whole_clusters_together_and_says_which():
    # E6 and E7 restate one event: each alone moves little (the other takes its place), the
    # cluster left out together moves a lot. c-solo repeats E1's own effect: nothing new, not listed.
    influences = [_influence("E1", 0.5), _influence("E6", -0.4), _influence("E7", 0.0),
                  Influence("c-rejects", "cluster", "c-rejects", np.array([-1.2]), np.array([-0.25]),
                            ("E6", "E7")),
                  Influence("c-solo", "cluster", "c-solo", np.array([0.5]), np.array([0.02]),
                            ("E1", "E9"))]
    rows = moved_most(influences, 0)
    assert [(row["kind"], row["id"]) for row in rows] == [("cluster", "c-rejects"), ("item", "E1"),
                                                          ("item", "E6")]
    assert rows[0] == {"kind": "cluster", "id": "c-rejects", "items": ["E6", "E7"],
                       "cluster": "c-rejects", "effect_pp": -1.2, "effect_logodds": -0.25}
    assert rows[1]["items"] == ["E1"]
    assert [row["id"] for row in moved_most(influences, 0, limit=1)] == ["c-rejects"]


def test_node_forecast_interval_is_widened_to_hold_the_mean():
    p_yes = np.concatenate([np.full((1, 100, 1), 0.1), np.linspace(0.2, 0.4, 101)[None, :100, None]],
                           axis=2)
    forecasts = node_forecasts(p_yes, np.array([0.3, 0.12345678]))
    assert forecasts[0] == (0.3, [0.1, 0.3])          # all draws 0.1, mean 0.3: high becomes 0.3
    mean, (low, high) = forecasts[1]
    assert mean == 0.123457 and low == 0.123457 and high < 0.4
