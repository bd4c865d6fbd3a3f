"""`forecast whatif --given NODE=STATE` and `forecast resolve NODE STATE` on questions with more
than two outcomes: the conditional forecast of every state equals an enumeration over joint
states with the node clamped, the what-if columns give each state's unconditional probability
and change, a resolution naming a state is hard evidence until retracted, and every mistake in
a state is one line naming it and listing the node's states."""

from __future__ import annotations

import json
from pathlib import Path
from types import SimpleNamespace

import pytest
from conftest import data_files, run_cli
from test_k_states import brute_force

from forecast.api import Project
from forecast.io.evidence import load_evidence
from forecast.io.priors import load_scenario

DATA = Path(__file__).parent / "data"
SCENARIO = "k-state"


def enumeration(root: Path, fixed: dict[str, str]) -> dict[str, dict[str, float]]:
    """P(state | evidence, nodes fixed to states) by brute force over joint states."""
    scenario = load_scenario(root / "priors" / f"{SCENARIO}.toml")
    items = load_evidence(root / "evidence" / f"{SCENARIO}.csv", scenario)
    return brute_force(scenario, items, [SimpleNamespace(node=k, outcome=v) for k, v in fixed.items()])


def whatif_json(root: Path, *given: str) -> dict:
    args = ["whatif", "--scenario", SCENARIO, "--engine", "exact", "--format", "json"]
    for value in given:
        args += ["--given", value]
    result = run_cli(root, args)
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


@pytest.mark.parametrize("given, fixed", [
    (["attacks=sporadic"], {"attacks": "sporadic"}),
    (["mediator=nobody", "talks=no"], {"mediator": "nobody", "talks": "no"}),
    (["talks=YES"], {"talks": "yes"}),
])
def test_whatif_given_a_state_equals_enumeration_with_the_node_clamped(k_root, given, fixed):
    document = whatif_json(k_root, *given)
    assert document["given"] == fixed
    conditional, unconditional = enumeration(k_root, fixed), enumeration(k_root, {})
    for node in document["nodes"]:
        assert node["conditioned"] == fixed.get(node["id"])
        before = {row["state"]: row["mean"] for row in node["unconditional"]["distribution"]}
        for row in node["distribution"]:
            state = row["state"]
            assert row["mean"] == pytest.approx(conditional[node["id"]][state], abs=1e-6)
            assert before[state] == pytest.approx(unconditional[node["id"]][state], abs=1e-6)
            assert node["change_pp_by_state"][state] == pytest.approx(
                100 * (conditional[node["id"]][state] - unconditional[node["id"]][state]), abs=0.006)
        if node["states"] == ["yes", "no"]:
            assert node["change_pp"] == node["change_pp_by_state"]["yes"]
        else:
            assert node["change_pp"] is None and node["unconditional"]["mean"] is None


def test_whatif_through_the_library_gives_a_row_per_state(k_root):
    whatif = Project(k_root).whatif({"attacks": "sustained", "talks": True}, scenario=SCENARIO,
                                    engine="exact")
    assert whatif.given == {"attacks": "sustained", "talks": True}
    frame = whatif.to_frame().set_index(["node", "state"])
    expected = enumeration(k_root, {"attacks": "sustained", "talks": "yes"})
    for state in ("turkey", "qatar", "nobody"):
        assert frame.loc[("mediator", state), "mean"] == pytest.approx(expected["mediator"][state],
                                                                       abs=1e-6)
    assert frame.loc[("attacks", "sustained"), "mean"] == pytest.approx(1.0)
    assert frame.loc[("talks", "yes"), "conditioned"] == "yes"


def test_whatif_table_shows_each_state_beside_its_unconditional_probability(k_root):
    result = run_cli(k_root, ["whatif", "--scenario", SCENARIO, "--given", "talks=no",
                              "--format", "md"])
    assert result.exit_code == 0, result.output
    document = whatif_json(k_root, "talks=no")
    (mediator,) = [n for n in document["nodes"] if n["id"] == "mediator"]
    nobody = mediator["change_pp_by_state"]["nobody"]
    assert "| `mediator = nobody` |" in result.stdout
    assert f"{nobody:+.1f} pp" in result.stdout
    assert "| `talks` |" in result.stdout and "given no" in result.stdout


def test_resolve_a_state_is_hard_evidence_until_retracted(k_root):
    result = run_cli(k_root, ["resolve", "attacks", "sporadic", "--scenario", SCENARIO,
                              "--date", "2025-05-01", "--source", "Monitor", "--format", "json"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["outcome"] == "sporadic"
    report = Project(k_root).report(SCENARIO, engine="exact", write=False).document
    expected = enumeration(k_root, {"attacks": "sporadic"})
    for node in report["nodes"]:
        for row in node["distribution"]:
            assert row["mean"] == pytest.approx(expected[node["id"]][row["state"]], abs=1e-6)
    assert report["nodes"][0]["resolved"] == "sporadic"
    result = run_cli(k_root, ["resolve", "attacks", "--undo", "--scenario", SCENARIO,
                              "--date", "2025-05-02"])
    assert result.exit_code == 0, result.output
    assert "Retracted attacks = sporadic" in result.stdout
    report = Project(k_root).report(SCENARIO, engine="exact", write=False).document
    assert report["nodes"][0]["resolved"] is None


@pytest.mark.parametrize("args, message", [
    (["whatif", "--given", "attacks=often"],
     "Error: --given: expected a state of attacks (none, sporadic, sustained), found 'often'"),
    (["whatif", "--given", "talks=sporadic"],
     "Error: --given: expected NODE=yes or NODE=no, found 'talks=sporadic'"),
    (["whatif", "--given", "attacks=none", "--given", "attacks=sustained"],
     "Error: --given: expected one state for attacks, found 'attacks=sustained'"),
    (["whatif", "--given", "attacks"],
     "Error: --given: expected NODE=STATE (e.g. NODE=yes), found 'attacks'"),
    (["resolve", "mediator", "egypt", "--source", "Wire", "--date", "2025-05-01"],
     "Error: OUTCOME: expected a state of mediator (turkey, qatar, nobody), found 'egypt'"),
    (["resolve", "mediator", "yes", "--source", "Wire", "--date", "2025-05-01"],
     "Error: OUTCOME: expected a state of mediator (turkey, qatar, nobody), found 'yes'"),
])
def test_a_bad_state_in_whatif_or_resolve_is_one_line(k_root, args, message):
    before = data_files(k_root)
    result = run_cli(k_root, [*args, "--scenario", SCENARIO])
    assert result.exit_code == 1
    assert result.stderr.splitlines() == [message]
    assert data_files(k_root) == before
