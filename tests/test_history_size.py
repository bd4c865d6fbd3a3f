"""Big evidence files stay small where it shows: an update after a 23,000-item import keeps its
snapshot compact and its terminal output short, and a long list of item ids is counted rather
than printed (docs/history.md says what a snapshot keeps per item, and why)."""

from __future__ import annotations

import dataclasses
import random

import pytest

from forecast.analysis.summaries import influence
from forecast.inference.exact import exact_means
from forecast.inference.problem import prepare
from forecast.io.evidence import evidence_hash, parse_evidence
from forecast.io.history import check_snapshot, snapshot_line
from forecast.io.project import load_inputs, scenario_paths
from forecast.jobs.update import (
    TOP_INFLUENCES,
    UpdateResult,
    comparable_digest,
    item_hashes,
    make_snapshot,
    what_changed,
)
from forecast.render.terminal import stdout_console
from forecast.render.update import print_update

HEADER = "item_id,node,date,source,reliability,credibility,lr,cluster,summary,url\n"


def many_items(scenario, count: int, seed: int = 1) -> str:
    rng = random.Random(seed)
    rows = [f"X{i:05d},{rng.choice(scenario.node_ids)},2025-03-{rng.randint(1, 28):02d},Wire,"
            f"{rng.choice('ABCDEF')},{rng.randint(1, 6)},{rng.choice(['1.02', '0.98', '1.01', '0.99'])},"
            f"{f'c{rng.randint(0, count // 8)}' if rng.random() < 0.3 else ''},Report {i},\n"
            for i in range(count)]
    return HEADER + "".join(rows)


def snapshot_for(inputs) -> dict:
    fitted = prepare(inputs)
    means = exact_means(fitted.net, fitted.state_log_evidence)
    influences = influence(fitted.net, inputs.evidence, fitted.conditions)
    document = {
        "scenario": inputs.scenario.id, "as_of": "2025-03-28", "evaluated_on": "2025-03-28",
        "replay": False, "generated_at": "2025-03-28T00:00:00+00:00", "model_version": "1",
        "evidence_hash": inputs.evidence_hash, "seed": 1, "versions": {}, "engine": "exact",
        "diagnostics": {"divergences": 0, "max_rhat": 1.0, "min_ess": None, "warnings": []},
        "nodes": [{"id": node, "mean": float(means[v]), "interval": [0.0, 1.0],
                   "interval_prob": 0.9, "resolved": None}
                  for v, node in enumerate(inputs.scenario.node_ids)]}
    return make_snapshot(document, inputs, influences), influences


@pytest.fixture(scope="module")
def big(tmp_path_factory):
    from conftest import FROZEN, copy_root

    # The six-node Turkey network (frozen fixture): the 4000-character bound below is sized for it.
    root = copy_root(FROZEN, tmp_path_factory.mktemp("big") / "root")
    base = load_inputs(scenario_paths(root, "turkey-peacekeeping"))
    items = parse_evidence(many_items(base.scenario, 23_000), "big.csv", base.scenario)
    inputs = dataclasses.replace(base, evidence=items, evidence_hash=evidence_hash(items))
    return base, inputs, *snapshot_for(inputs)


def test_a_23000_item_snapshot_is_compact(big):
    _base, inputs, snapshot, _influences = big
    line = snapshot_line(snapshot)
    check_snapshot(snapshot, "history.jsonl", 1)
    assert len(line.encode()) < 30 * 23_000              # it was 4.7 MB (about 200 bytes per item)
    assert len(snapshot["items"]) == 23_000             # every item can still be named
    assert all(len(digest) == 8 for digest in snapshot["items"].values())
    counts = [sum(node in effects for effects in snapshot["influence"].values())
              for node in inputs.scenario.node_ids]
    assert max(counts) == TOP_INFLUENCES and all(count <= TOP_INFLUENCES for count in counts)


def test_the_kept_influences_are_each_nodes_largest(big):
    _base, inputs, snapshot, influences = big
    for v, node in enumerate(inputs.scenario.node_ids):
        ranked = sorted((abs(round(float(inf.effect_pp[v]), 2)) for inf in influences
                         if inf.kind == "item"), reverse=True)
        kept = sorted((abs(e[node]) for e in snapshot["influence"].values() if node in e),
                      reverse=True)
        assert kept == ranked[:TOP_INFLUENCES]


def test_with_few_items_every_visible_influence_is_kept(repo_root):
    inputs = load_inputs(scenario_paths(repo_root, "turkey-peacekeeping"))
    snapshot, influences = snapshot_for(inputs)
    for inf in influences:
        store = snapshot["influence" if inf.kind == "item" else "cluster_influence"]
        for v, node in enumerate(inputs.scenario.node_ids):
            effect = round(float(inf.effect_pp[v]), 2)
            assert store.get(inf.key, {}).get(node, 0.0) == effect


def test_an_old_sixteen_hex_digit_hash_compares_equal_to_the_new_one(repo_root):
    inputs = load_inputs(scenario_paths(repo_root, "turkey-peacekeeping"))
    item = inputs.evidence[0]
    old = evidence_hash([it for it in inputs.evidence if it.item_id == item.item_id])[7:23]
    assert comparable_digest(old) == item_hashes(inputs.evidence)[item.item_id]


def test_update_after_a_big_import_prints_counts_and_top_movers(big, capsys):
    base, _inputs, snapshot, _influences = big
    previous, _ = snapshot_for(base)
    result = UpdateResult(True, snapshot, previous, what_changed(previous, snapshot),
                          "reports/turkey-peacekeeping/history.jsonl", 2, [], snapshot)
    print_update(result, scenario_paths(None, "turkey-peacekeeping").display, stdout_console())
    out = capsys.readouterr().out
    assert len(out) < 4000, len(out)                   # it was 160 KB of ids on one line
    added = len(snapshot["items"]) - len(previous["items"]) + len(
        set(previous["items"]) - set(snapshot["items"]))
    assert f"Items added {added:,} (X00000, X00001, X00002, ..., X22999); removed " in out
    assert "more" in out                               # each node: its top movers, then a count


def test_long_id_lists_are_counted_and_ordered_as_numbers():
    from forecast.render import id_list

    ids = [f"E{n:03d}" for n in range(22, 23_022)]
    assert id_list(ids) == "23,000 (E022, E023, E024, ..., E23021)"
    assert id_list(["E10", "E9", "A1"]) == "A1, E9, E10"
    assert id_list([]) == "none"
