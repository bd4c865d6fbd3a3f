"""`forecast update` on questions with more than two outcomes: the snapshot keeps each state's
forecast and what moved it, and the diff says, state by state, how far each moved and which
added, removed or changed items moved it, every number equal to an enumeration over joint
states with and without the item."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from conftest import run_cli
from test_k_states import brute_force

from forecast.api import Project
from forecast.io.evidence import parse_evidence
from forecast.io.history import read_history
from forecast.io.priors import load_scenario

DATA = Path(__file__).parent / "data"
SCENARIO = "k-state"
K_NODES = ("attacks", "mediator")


def enumeration(root: Path, leave_out: str = "") -> dict[str, dict[str, float]]:
    """P(state | the evidence file now, without item `leave_out`) by brute force."""
    scenario = load_scenario(root / "priors" / f"{SCENARIO}.toml")
    text = (root / "evidence" / f"{SCENARIO}.csv").read_text()
    items = [it for it in parse_evidence(text, "e.csv", scenario) if it.item_id != leave_out]
    return brute_force(scenario, items)


def update(root: Path) -> dict:
    result = run_cli(root, ["update", "--scenario", SCENARIO, "--engine", "exact", "--format", "json"])
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def states_of(changes: dict, node: str) -> dict[str, dict]:
    (found,) = [n for n in changes["nodes"] if n["id"] == node]
    return {row["state"]: row for row in found["states"]}


def add(root: Path, *args: str) -> None:
    result = run_cli(root, ["evidence", "add", "--scenario", SCENARIO, "--source", "Monitor",
                            "--reliability", "A", "--credibility", "1", "--summary", "New",
                            "--date", "2025-03-20", *args])
    assert result.exit_code == 0, result.output


def test_update_says_how_far_each_state_moved_and_which_item_moved_it(k_root):
    first = update(k_root)
    assert first["changes"]["first"] is True
    before = enumeration(k_root)
    for node in K_NODES:
        for state, row in states_of(first["changes"], node).items():
            assert row["before"] is None and row["after"] == pytest.approx(before[node][state], abs=1e-6)
    add(k_root, "--node", "mediator", "--lr", "1:1:6", "--item-id", "E005")
    second = update(k_root)
    after = enumeration(k_root)
    for node in K_NODES:
        for state, row in states_of(second["changes"], node).items():
            shift = 100 * (after[node][state] - before[node][state])
            assert row["shift_pp"] == pytest.approx(shift, abs=0.006)
            if abs(shift) >= 0.01:      # the one item added accounts for all of it
                (cause,) = row["causes"]
                assert (cause["item_id"], cause["change"]) == ("E005", "added")
                assert cause["effect_pp"] == pytest.approx(shift, abs=0.006)
    (mediator,) = [n for n in second["changes"]["nodes"] if n["id"] == "mediator"]
    assert mediator["before"] is None and mediator["shift_pp"] is None
    # the snapshot keeps each state's forecast and each item's effect on it
    snapshot = read_history(k_root / "reports" / SCENARIO / "history.jsonl")[-1]
    (node,) = [n for n in snapshot["nodes"] if n["id"] == "mediator"]
    assert [row["state"] for row in node["distribution"]] == ["turkey", "qatar", "nobody"]
    without = enumeration(k_root, leave_out="E002")
    effect = 100 * (after["mediator"]["qatar"] - without["mediator"]["qatar"])
    assert snapshot["state_influence"]["E002"]["mediator"]["qatar"] == pytest.approx(effect, abs=0.006)


def test_a_changed_state_is_a_changed_item_moving_each_state_by_the_difference(k_root):
    update(k_root)
    then = {s: enumeration(k_root)["attacks"][s] - enumeration(k_root, "E001")["attacks"][s]
            for s in ("none", "sporadic", "sustained")}
    result = run_cli(k_root, ["evidence", "edit", "E001", "--scenario", SCENARIO, "--state", "none"])
    assert result.exit_code == 0, result.output
    changes = update(k_root)["changes"]
    assert changes["items"]["changed"] == ["E001"]
    now = {s: enumeration(k_root)["attacks"][s] - enumeration(k_root, "E001")["attacks"][s]
           for s in then}
    for state, row in states_of(changes, "attacks").items():
        (cause,) = [c for c in row["causes"] if c["item_id"] == "E001"]
        assert cause["change"] == "changed"
        assert cause["effect_pp"] == pytest.approx(100 * (now[state] - then[state]), abs=0.011)


def test_update_through_the_library_and_the_table_name_each_state(k_root):
    Project(k_root).update(SCENARIO, engine="exact")
    add(k_root, "--node", "attacks", "--lr", "4", "--state", "sustained", "--item-id", "E007")
    result = run_cli(k_root, ["update", "--scenario", SCENARIO, "--engine", "exact"])
    assert result.exit_code == 0, result.output
    assert "attacks = sustained" in result.stdout and "E007 added" in result.stdout
    again = Project(k_root).update(SCENARIO, engine="exact")
    assert again.appended is False


def test_a_changed_k_state_prior_is_new_input_for_update(k_root):
    update(k_root)
    priors = k_root / "priors" / f"{SCENARIO}.toml"
    priors.write_text(priors.read_text().replace("dirichlet = [4, 3, 1]", "dirichlet = [1, 3, 4]"))
    assert update(k_root)["appended"] is True
