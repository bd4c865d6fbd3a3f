"""`forecast update`: snapshots appended (and only when something changed), what changed and
why, reproducibility, and a damaged history reported rather than dropped."""

from __future__ import annotations

import json
import random

import numpy as np
import pytest
from conftest import FROZEN, snapshot_files
from hypothesis import given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from forecast.cli import app
from forecast.errors import ForecastError
from forecast.inference.exact import exact_means
from forecast.inference.problem import prepare
from forecast.io.evidence import evidence_hash, parse_evidence
from forecast.io.history import append_snapshot, read_history
from forecast.io.priors import load_scenario
from forecast.io.project import load_inputs, scenario_paths
from forecast.jobs.update import item_hashes, what_changed

runner = CliRunner()
FAST = ["--draws", "300", "--tune", "300", "--chains", "2", "--no-progress"]
SCENARIO = "two-node-beta"
NEW_ITEM = ["--node", "b", "--lr", "strongly_for", "--source", "Wire", "--reliability", "A",
            "--credibility", "1", "--summary", "B confirmed", "--date", "2025-02-10"]


def update(root, *args):
    return runner.invoke(app, ["update", "--root", str(root), "--scenario", SCENARIO, "--seed", "7",
                               *FAST, *args])


def history_of(root):
    return root / "reports" / SCENARIO / "history.jsonl"


def exact_for(root):
    problem = prepare(load_inputs(scenario_paths(root, SCENARIO)))
    return exact_means(problem.net, problem.state_log_evidence)


def data_files(root):
    return {p: b for p, b in snapshot_files(root).items() if not p.name.endswith(".lock")}


@pytest.mark.slow
def test_update_appends_then_nothing_new_then_explains_a_new_item(data_root):
    first = update(data_root, "--format", "json")
    assert first.exit_code == 0, first.output
    doc = json.loads(first.stdout)
    assert doc["appended"] is True and doc["changes"]["first"] is True and doc["snapshots"] == 1
    snapshot = doc["snapshot"]
    for key in ("scenario", "as_of", "generated_at", "model_version", "evidence_hash", "seed",
                "versions", "engine", "diagnostics", "nodes", "items", "influence"):
        assert key in snapshot, key
    assert snapshot["items"] == item_hashes(load_inputs(scenario_paths(data_root, SCENARIO)).evidence)
    assert set(snapshot["influence"]) == {"E1"} and set(snapshot["influence"]["E1"]) == {"a", "b"}
    assert (data_root / "reports" / SCENARIO / "report.json").is_file()
    before_means = exact_for(data_root)

    # Nothing new: no refit, nothing appended, no report rewritten, and it says so.
    files = data_files(data_root)
    again = update(data_root)
    assert again.exit_code == 0, again.output
    assert again.stdout.startswith("Nothing new since snapshot 1 of reports/two-node-beta/history.jsonl")
    assert data_files(data_root) == files

    added = runner.invoke(app, ["evidence", "add", "--root", str(data_root), "--scenario", SCENARIO,
                                *NEW_ITEM])
    assert added.exit_code == 0, added.output
    first_line = history_of(data_root).read_bytes()
    second = update(data_root, "--format", "json")
    assert second.exit_code == 0, second.output
    doc = json.loads(second.stdout)
    assert doc["appended"] is True and doc["snapshots"] == 2
    changes = doc["changes"]
    assert changes["items"] == {"added": ["E2"], "removed": [], "changed": []}
    # Append-only: the first snapshot's bytes are untouched, the second follows.
    assert history_of(data_root).read_bytes().startswith(first_line)
    assert len(read_history(history_of(data_root))) == 2
    # The rewritten reports chart the history, the new snapshot included.
    report = json.loads((data_root / "reports" / SCENARIO / "report.json").read_text())
    assert [s["evidence_hash"] for s in report["history"]] == [snapshot["evidence_hash"],
                                                               doc["snapshot"]["evidence_hash"]]
    after_means = exact_for(data_root)
    for v, node in enumerate(changes["nodes"]):
        # The exact shift is the exact influence of the one new item, to rounding.
        assert node["exact_shift_pp"] == pytest.approx(100 * (after_means[v] - before_means[v]), abs=0.006)
        (cause,) = node["causes"]
        assert cause["item_id"] == "E2" and cause["change"] == "added"
        assert cause["effect_pp"] == pytest.approx(node["exact_shift_pp"], abs=0.011)
        # The reported (NUTS) shift agrees with the exact shift within MC error of two fits.
        mcse = np.hypot(doc["snapshot"]["nodes"][v]["mcse"], snapshot["nodes"][v]["mcse"])
        assert abs(node["shift_pp"] - node["exact_shift_pp"]) <= 100 * 4 * mcse + 0.01
    assert changes["nodes"][1]["exact_shift_pp"] > 5          # LR 10 on b moves b a lot

    table = update(data_root)                                     # and the table form says nothing new
    assert "Nothing new" in table.stdout


@pytest.mark.slow
def test_update_table_names_the_items_that_moved_each_node(data_root, tmp_path):
    assert update(data_root).exit_code == 0
    source = tmp_path / "new.csv"
    source.write_text("item_id,node,date,source,reliability,credibility,lr,cluster,summary,url\n"
                      "N1,a,2025-02-11,Wire,A,1,strongly_against,c-x,A denied,\n"
                      "N2,a,2025-02-11,Paper,B,2,strongly_against,c-x,A denied again,\n")
    result = update(data_root, "--import", str(source))
    assert result.exit_code == 0, result.output
    out = result.stdout
    assert out.startswith("Snapshot 2 of two-node-beta")
    assert "Items added N1, N2; removed none; changed none." in out
    # N2 restates N1 in cluster c-x: N1 carries the effect, the cluster line shows the whole.
    assert "N1 added" in out and "cluster c-x" in out and " pp" in out
    assert "Appended to reports/two-node-beta/history.jsonl" in out


@pytest.mark.slow
def test_same_inputs_and_seed_give_the_same_snapshot_numbers(data_root, tmp_path):
    from conftest import DATA, copy_root

    other = copy_root(DATA, tmp_path / "other")
    docs = []
    for root in (data_root, other):
        result = update(root, "--format", "json")
        assert result.exit_code == 0, result.output
        docs.append(json.loads(result.stdout)["snapshot"])
    for key in ("nodes", "items", "influence", "evidence_hash", "inputs_hash", "seed", "diagnostics"):
        assert docs[0][key] == docs[1][key], key


@pytest.mark.slow
def test_a_changed_prior_is_something_new(data_root):
    assert update(data_root).exit_code == 0
    priors = data_root / "priors" / f"{SCENARIO}.toml"
    priors.write_text(priors.read_text().replace("beta = [3.0, 1.0]", "beta = [6.0, 2.0]"))
    result = update(data_root, "--format", "json")
    assert result.exit_code == 0, result.output
    doc = json.loads(result.stdout)
    assert doc["appended"] is True and doc["changes"]["items"] == {"added": [], "removed": [], "changed": []}


@pytest.mark.slow
def test_strict_update_with_sampling_problems_appends_nothing(data_root):
    before = data_files(data_root)
    result = runner.invoke(app, ["update", "--root", str(data_root), "--scenario", SCENARIO, "--strict",
                                 "--draws", "100", "--tune", "100", "--chains", "2", "--no-progress",
                                 "--engine", "nuts"])            # auto would be exact: no sampling
    assert result.exit_code == 1
    assert "--strict" in result.stderr and result.stderr.count("\n") == 1
    assert data_files(data_root) == before


# -- a damaged history -------------------------------------------------------------------------

def good_snapshot(**changes) -> dict:
    snapshot = {"scenario": SCENARIO, "as_of": "2025-01-01", "generated_at": "2025-01-01T00:00:00+00:00",
                "model_version": "1.0", "evidence_hash": "sha256:0", "seed": 1, "versions": {},
                "engine": "test", "diagnostics": {}, "items": {"E1": "abc"},
                "influence": {"E1": {"a": 1.0, "b": 2.0}},
                "nodes": [{"id": "a", "mean": 0.5, "interval": [0.4, 0.6], "interval_prob": 0.9,
                           "resolved": None}]}
    snapshot.update(changes)
    return snapshot


@pytest.mark.parametrize("last_line, message", [
    ('{"scenario": "two-node-beta", "as_of": "2025-0', "history.jsonl:2: json: not a complete JSON snapshot (last line, "),
    (json.dumps(good_snapshot(nodes=[{"id": "a", "mean": 1.5, "interval": [0.1, 0.2], "interval_prob": 0.9}])),
     "history.jsonl:2: nodes[a].mean: expected a probability in [0, 1], found 1.5"),
    (json.dumps({k: v for k, v in good_snapshot().items() if k != "evidence_hash"}),
     "history.jsonl:2: evidence_hash: missing (every snapshot has this field)"),
    ("[1, 2]", "history.jsonl:2: snapshot: expected a JSON object, found a JSON list"),
    (json.dumps(good_snapshot()).replace('"mean": 0.5', '"mean": 1' + "0" * 400),
     "history.jsonl:2: nodes[a].mean: expected a probability in [0, 1], found 1000"),
])
def test_a_corrupt_last_line_is_one_error_and_nothing_is_written(data_root, last_line, message):
    history = history_of(data_root)
    history.parent.mkdir(parents=True)
    history.write_text(json.dumps(good_snapshot()) + "\n" + last_line + "\n")
    before = data_files(data_root)
    result = update(data_root)
    assert result.exit_code == 1
    assert result.stderr.count("\n") == 1
    assert result.stderr.startswith("Error: reports/two-node-beta/" + message), result.stderr
    assert data_files(data_root) == before
    with pytest.raises(ForecastError):
        append_snapshot(history, good_snapshot())
    assert data_files(data_root) == before


def test_history_round_trips_and_a_torn_line_without_newline_is_caught(tmp_path):
    history = tmp_path / "h.jsonl"
    assert read_history(history) == []
    for seed in (1, 2):
        appended, before = append_snapshot(history, good_snapshot(seed=seed))
        assert appended and len(before) == seed - 1
    assert [s["seed"] for s in read_history(history)] == [1, 2]
    appended, _ = append_snapshot(history, good_snapshot(seed=3), should_append=lambda h: False)
    assert not appended and len(read_history(history)) == 2
    with history.open("a") as fh:
        fh.write('{"scenario": "x"')                                     # a torn write
    with pytest.raises(ForecastError, match=r"h.jsonl:3: json: not a complete JSON snapshot"):
        read_history(history)


# -- what changed (pure) -----------------------------------------------------------------------

def test_what_changed_attributes_added_removed_and_changed_items():
    old = good_snapshot(items={"E1": "h1", "E2": "h2", "E3": "h3"},
                        influence={"E1": {"a": 1.0}, "E2": {"a": -2.0}, "E3": {"a": 4.0}},
                        clusters={"c": ["E2", "E3"]}, cluster_influence={"c": {"a": 3.5}},
                        nodes=[{"id": "a", "mean": 0.40, "interval": [0.3, 0.5],
                                "interval_prob": 0.9, "resolved": None}])
    new = good_snapshot(items={"E1": "h1", "E3": "h3-edited", "E4": "h4"},
                        influence={"E1": {"a": 1.0}, "E3": {"a": 6.0}, "E4": {"a": -0.5}},
                        clusters={"c": ["E3"]}, cluster_influence={},
                        nodes=[{"id": "a", "mean": 0.47, "interval": [0.4, 0.6],
                                "interval_prob": 0.9, "resolved": "yes"}])
    diff = what_changed(old, new)
    assert diff["items"] == {"added": ["E4"], "removed": ["E2"], "changed": ["E3"]}
    (node,) = diff["nodes"]
    assert node["shift_pp"] == pytest.approx(7.0)
    assert node["resolved"] == "yes" and node["was_resolved"] is None
    assert [(c["item_id"], c["change"], c["effect_pp"]) for c in node["causes"]] == [
        ("E2", "removed", 2.0), ("E3", "changed", 2.0), ("E4", "added", -0.5)]
    # Cluster c: 3.5 pp then (two items), now E3 alone at 6.0 pp -> +2.5 pp.
    # The line names the items a whole-cluster leave-out drops (then and now).
    assert node["clusters"] == [{"cluster": "c", "items": ["E2", "E3"], "effect_pp": 2.5}]
    assert what_changed(new, new)["items"] == {"added": [], "removed": [], "changed": []}
    assert what_changed(new, new)["nodes"][0]["causes"] == []
    assert what_changed(None, new)["first"] is True


# -- content hashes ----------------------------------------------------------------------------

TURKEY = load_scenario(FROZEN / "priors" / "turkey-peacekeeping.toml")
TURKEY_TEXT = (FROZEN / "evidence" / "turkey-peacekeeping.csv").read_text()
HEADER, *TURKEY_ROWS = TURKEY_TEXT.splitlines(keepends=True)
ITEMS = parse_evidence(TURKEY_TEXT, "x", TURKEY)


@settings(max_examples=40, deadline=None)
@given(st.randoms(use_true_random=False), st.sampled_from(["", " ", "  "]))
def test_hashes_ignore_row_order_and_padding(rnd: random.Random, pad: str):
    rows = list(TURKEY_ROWS)
    rnd.shuffle(rows)
    padded = [pad + row.replace(",", pad + "," + pad, 2) for row in rows]
    items = parse_evidence(HEADER + "".join(padded), "x", TURKEY)
    assert evidence_hash(items) == evidence_hash(ITEMS)
    assert item_hashes(items) == item_hashes(ITEMS)


@settings(max_examples=40, deadline=None)
@given(st.integers(0, len(TURKEY_ROWS) - 1), st.sampled_from(["summary", "source", "date", "lr"]))
def test_any_content_change_changes_the_hash_and_only_that_items_hash(index, field):
    items = list(ITEMS)
    target = items[index]
    replacement = {"summary": target.summary + " (updated)", "source": target.source + "!",
                   "date": target.date.replace(day=1 if target.date.day != 1 else 2),
                   "lr": target.lr * 1.5}[field]
    items[index] = type(target)(**{**target.__dict__, field: replacement})
    assert evidence_hash(items) != evidence_hash(ITEMS)
    before, after = item_hashes(ITEMS), item_hashes(tuple(items))
    assert {k for k in before if before[k] != after[k]} == {target.item_id}


# -- the first update after a report, and resolutions through the network -------------------

def _cli(root, *args):
    from typer.testing import CliRunner

    from forecast.cli import app

    return CliRunner().invoke(app, [*args, "--root", str(root), "--scenario", "two-node-beta"])


def test_the_first_update_after_a_report_says_what_moved_since_the_report(data_root):
    assert _cli(data_root, "report", "--format", "json").exit_code == 0
    assert _cli(data_root, "evidence", "add", "--node", "a", "--lr", "4", "--source", "Wire",
                "--reliability", "A", "--credibility", "1", "--summary", "A is near",
                "--date", "2025-02-03").exit_code == 0
    result = _cli(data_root, "update", "--format", "json")
    assert result.exit_code == 0, result.output
    out = json.loads(result.stdout)
    assert out["previous"]["kind"] == "report"
    changes = out["changes"]
    assert not changes["first"] and changes["items"]["added"] == ["E2"]
    nodes = {n["id"]: n for n in changes["nodes"]}
    for node in ("a", "b"):
        assert [c["item_id"] for c in nodes[node]["causes"]] == ["E2"]
        assert nodes[node]["causes"][0]["effect_pp"] == pytest.approx(nodes[node]["shift_pp"],
                                                                      abs=0.02)
    table = _cli(data_root, "update").stdout        # nothing new now: compared with snapshot 1
    assert table.startswith("Nothing new since snapshot 1")


def test_an_update_after_a_resolution_names_it_on_every_node_it_moved(data_root):
    assert _cli(data_root, "update").exit_code == 0
    assert _cli(data_root, "resolve", "a", "no", "--date", "2025-03-01", "--source",
                "S").exit_code == 0
    result = _cli(data_root, "update", "--format", "json")
    assert result.exit_code == 0, result.output
    changes = json.loads(result.stdout)["changes"]
    assert changes["resolutions"] == [{"node": "a", "change": "resolved no", "was": None,
                                       "now": "no"}]
    nodes = {n["id"]: n for n in changes["nodes"]}
    for node in ("a", "b"):         # b is a's child: it moves through the network
        (cause,) = nodes[node]["resolutions"]
        assert cause["node"] == "a" and cause["change"] == "resolved no"
        assert cause["effect_pp"] == pytest.approx(nodes[node]["shift_pp"], abs=0.02)
        assert nodes[node]["shift_pp"] < 0
    table = _cli(data_root, "update").stdout
    assert "Nothing new" in table
    assert _cli(data_root, "resolve", "--undo", "a").exit_code == 0
    lines = _cli(data_root, "update").stdout.splitlines()
    assert lines[1] == "Items added none; removed none; changed none. a retracted."
    effect = -nodes["b"]["resolutions"][0]["effect_pp"]
    assert f"│ a resolution retracted {effect:+.2f} pp" in [line for line in lines
                                                         if line.startswith("│ b ")][0]
