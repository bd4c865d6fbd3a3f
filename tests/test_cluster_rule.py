"""The cluster rule (model/network.py): within one cluster, per node, only the item with the
largest |weight * ln LR| counts, ties to the smallest item id; items without a cluster each
count. Hand-computed log-weights."""

from __future__ import annotations

import datetime as dt
import math

import numpy as np
from hypothesis import given
from hypothesis import strategies as st

from forecast.model.network import cluster_log_weights, node_log_weights


def item(item_id: str, lr: float, weight: float = 1.0, cluster: str = "c", node: str = "a"):
    from forecast.model.spec import EvidenceItem

    return EvidenceItem(item_id, node, dt.date(2025, 1, 1), "s", "A", "1", lr, str(lr), cluster,
                        "summary", "", weight)


def test_the_strongest_item_counts_whichever_way_it_points():
    # ln 2 = 0.693 for; ln(1/4) = -1.386 against: the item against is stronger and alone counts
    items = [item("E1", 2.0), item("E2", 0.25), item("E3", 1.5)]
    assert cluster_log_weights(items) == {("c", "a"): (math.log(0.25), "E2")}
    assert node_log_weights(("a",), items)[0] == math.log(0.25)


def test_weight_scales_the_comparison():
    # 0.5 * ln 8 = 1.040 < 1.0 * ln 3 = 1.099: E2 wins although its LR is smaller
    items = [item("E1", 8.0, weight=0.5), item("E2", 3.0)]
    assert cluster_log_weights(items)[("c", "a")] == (math.log(3.0), "E2")


def test_ties_go_to_the_smallest_item_id_in_any_order():
    for items in ([item("E2", 2.0), item("E1", 0.5)], [item("E1", 0.5), item("E2", 2.0)]):
        assert cluster_log_weights(items)[("c", "a")] == (math.log(0.5), "E1")


def test_unclustered_items_each_count_and_nodes_add_up():
    items = [item("E1", 2.0, cluster=""), item("E2", 2.0, cluster=""), item("E3", 3.0, node="b")]
    weights = node_log_weights(("a", "b"), items)
    assert weights[0] == 2 * math.log(2.0) and weights[1] == math.log(3.0)


@given(st.lists(st.floats(0.05, 20.0), min_size=1, max_size=6))
def test_a_cluster_counts_exactly_its_largest_item(lrs):
    items = [item(f"E{k}", lr) for k, lr in enumerate(lrs)]
    value, _ = cluster_log_weights(items)[("c", "a")]
    # numpy's log, as the rule computes it (math.log may differ in the last bit)
    assert abs(value) == max(abs(float(np.log(lr))) for lr in lrs)
