"""What the report says before its tables (analysis/briefing.py): the bottom line, the key
assumptions, and per question its priors' reasoning, a confidence statement and its forecast if
its main driver happens and if it does not. Checked on the shipped Turkey scenario against
refits with the driver clamped (exact enumeration, another route than the junction tree the
report uses) and against the report's own sensitivity rows."""

from __future__ import annotations

import dataclasses
import re

import numpy as np
import pytest
from conftest import copy_root

from forecast.analysis.briefing import conditionals, confidence
from forecast.analysis.document import build_report
from forecast.inference.exact import conjugate_draws, exact_means
from forecast.inference.problem import Posterior, prepare
from forecast.io.project import load_inputs, scenario_paths
from forecast.render.html import render_html
from forecast.render.markdown import render_markdown

TURKEY = "turkey-peacekeeping"


def report_of(inputs):
    problem = prepare(inputs)
    draws = conjugate_draws(problem.net, problem.state_log_evidence, 400, np.random.default_rng(0))
    posterior = Posterior(draws[None], np.zeros(draws.shape[1]), {
        "divergences": 0, "max_rhat": None, "min_ess": None, "warnings": []}, "exact",
        {"draws": 400}, exact_means(problem.net, problem.state_log_evidence))
    return build_report(inputs, posterior, seed=1)


@pytest.fixture(scope="module")
def turkey(tmp_path_factory, shipped_root):
    inputs = load_inputs(scenario_paths(copy_root(shipped_root, tmp_path_factory.mktemp("b")), TURKEY))
    return inputs, report_of(inputs)


def clamped(inputs, node: str, state: bool) -> dict[str, float]:
    problem = prepare(inputs, {node: state})
    means = exact_means(problem.net, problem.state_log_evidence)
    return dict(zip(inputs.scenario.node_ids, (float(m) for m in means), strict=True))


def test_a_consequence_is_forecast_if_its_main_driver_happens_and_if_it_does_not(turkey):
    inputs, document = turkey
    drivers = [n.id for n in inputs.scenario.nodes if n.role == "driver"]
    given = {(d, s): clamped(inputs, d, s) for d in drivers for s in (True, False)}
    checked = 0
    for node in document["nodes"]:
        if node["role"] == "driver":
            assert node["conditional"] is None
            continue
        c = node["conditional"]
        assert c["if_yes"] == pytest.approx(given[(c["driver"], True)][node["id"]], abs=1e-6)
        assert c["if_no"] == pytest.approx(given[(c["driver"], False)][node["id"]], abs=1e-6)
        swing = {d: abs(given[(d, True)][node["id"]] - given[(d, False)][node["id"]]) for d in drivers}
        assert swing[c["driver"]] == pytest.approx(max(swing.values()), abs=1e-9)
        checked += 1
    assert checked == 7
    by_id = {n["id"]: n for n in document["nodes"]}
    # the analysis's consequences "if implemented" turn on the deployment
    assert by_id["f35_reinstatement"]["conditional"]["driver"] == "turkish_deployment"
    assert by_id["f35_reinstatement"]["conditional"]["if_yes"] == pytest.approx(0.15)


def test_the_bottom_line_is_three_to_five_sentences_made_from_the_numbers(turkey):
    inputs, document = turkey
    lines = document["bottom_line"]
    assert 3 <= len(lines) <= 5 and all(line.endswith(".") for line in lines)
    by_id = {n["id"]: n for n in document["nodes"]}
    deploy = by_id["turkish_deployment"]
    assert lines[0].startswith(f"Turkish deployment by 2026-09-11: {deploy['term']}, "
                               f"{100 * deploy['mean']:.0f}%.")
    moved = max(document["nodes"], key=lambda n: abs(n["mean"] - n["prior_mean"]))
    shift = next(line for line in lines if "evidence items moved" in line)
    assert f"by more than {100 * abs(moved['mean'] - moved['prior_mean']):.1f} points" in shift
    assert f"{len({e['item_id'] for e in document['evidence']})} evidence items" in shift
    # new evidence rewrites it: without Moscow's rejection the numbers it quotes change
    fewer = dataclasses.replace(inputs, evidence=tuple(
        it for it in inputs.evidence if it.cluster != "c-russia-rejects"))
    assert report_of(fewer)["bottom_line"] != lines


def test_key_assumptions_are_the_sensitivity_rows_the_forecasts_hang_on_most(turkey):
    inputs, document = turkey
    assumptions = document["key_assumptions"]
    assert 3 <= len(assumptions) <= 5
    assert len({a["node"] for a in assumptions}) == len(assumptions)           # one per node
    swings = [a["swing_pp"] for a in assumptions]
    assert swings == sorted(swings, reverse=True)
    roles = {n.id: n.role for n in inputs.scenario.nodes}
    assert any(roles[a["node"]] == "driver" for a in assumptions)
    for a in assumptions:
        rows = document["sensitivity"]["targets"][a["target"]]
        row = next(r for r in rows if r["node"] == a["node"] and r["when"] == a["when"])
        assert (row["low"], row["high"], row["swing_pp"]) == (a["low"], a["high"], a["swing_pp"])
        wanted = {p: s == "yes" for p, s in a["when"].items()}
        prior = next(p for p in inputs.scenario.node(a["node"]).priors if dict(p.when) == wanted)
        assert a["prior_mean"] == pytest.approx(prior.mean)
        assert a["rationale"] == " ".join(prior.rationale.split())


def test_every_question_carries_its_priors_reasoning(turkey):
    inputs, document = turkey
    for node, spec in zip(document["nodes"], inputs.scenario.nodes, strict=True):
        assert [p["rationale"] for p in node["priors"]] == [
            " ".join(p.rationale.split()) for p in spec.priors]
        assert all(p["reference_class"] for p in node["priors"])
        assert node["confidence"]["level"] == "low"       # unknown outlets, thin classes
        assert f"{round(100 * node['interval'][1])}%" in node["confidence"]["statement"] or \
            node["interval"][1] < 0.01


def _node(width: float, resolved=None, overdue=False) -> dict:
    return {"interval": [0.4, 0.4 + width], "resolved": resolved, "overdue": overdue}


@pytest.mark.parametrize(("width", "weight", "strength", "level"), [
    (0.10, 0.8, 20.0, "high"),          # narrow, a source we can vouch for, a strong class
    (0.10, 0.8, 4.0, "moderate"),       # ... but a thin class
    (0.25, 0.3, 20.0, "moderate"),      # weak evidence, strong class
    (0.25, 0.3, 4.0, "low"),            # weak evidence, thin class
    (0.40, 1.0, 20.0, "low"),           # too wide, whatever else
])
def test_confidence_words_follow_width_evidence_and_class(width, weight, strength, level):
    priors = [{"strength": strength}]
    rows = [{"item_id": "E1", "grade": "B2", "weight": weight}]
    said = confidence(_node(width), priors, rows, 0.9)
    assert said["level"] == level and said["statement"].startswith(f"{level.capitalize()} confidence:")
    assert "1 item bears on it directly, graded B2" in said["statement"]
    assert confidence(_node(width, resolved="yes"), priors, rows, 0.9)["level"] == "high"
    assert "deadline has passed" in confidence(_node(width, overdue=True), priors, [], 0.9)["statement"]


def test_the_pages_lead_with_the_bottom_line_then_assumptions_then_the_questions(turkey):
    _inputs, document = turkey
    page = render_html(document)
    order = [page.index(f'id="{anchor}"') for anchor in
             ("bottom-line", "key-assumptions", "questions", "key-judgements", "evidence")]
    assert order == sorted(order)
    questions = page[page.index('id="questions"'):page.index('id="key-judgements"')]
    assert questions.count('<article class="question') == len(document["nodes"])
    assert questions.count('<details class="why">') == len(document["nodes"])
    assert "Resolution:</strong> YES if a ceasefire covering" in questions
    assert "If Turkish deployment happens</strong>" in questions
    assert "data-node=" not in questions             # the what-if script's cards stay its own
    text = render_markdown(document)
    assert re.search(r"## Bottom line\n\n.+\n\n## Key assumptions", text)
    assert text.index("## The questions") < text.index("## Key judgements")
    assert "*Reference class:* Interstate wars since 1945" in text


def test_questions_with_more_than_two_outcomes_are_briefed_by_their_most_likely_outcome(tmp_path):
    import json
    import shutil

    from conftest import DATA
    from typer.testing import CliRunner

    from forecast.cli import app

    (tmp_path / "priors").mkdir()
    (tmp_path / "evidence").mkdir()
    shutil.copy(DATA / "k_state_scenario.toml", tmp_path / "priors" / "k-state.toml")
    (tmp_path / "evidence" / "k-state.csv").write_text(
        "item_id,node,date,source,reliability,credibility,lr,cluster,summary,url\n")
    result = CliRunner().invoke(app, ["report", "--root", str(tmp_path), "--scenario", "k-state",
                                      "--format", "json"])
    assert result.exit_code == 0, result.output
    document = json.loads(result.stdout)
    attacks = next(n for n in document["nodes"] if n["id"] == "attacks")
    assert document["bottom_line"][0].startswith(f"attacks by {attacks['deadline']}: most likely "
                                                 f"{attacks['most_likely']}")
    assert all(n["conditional"] is None for n in document["nodes"])
    for prior in attacks["priors"]:
        assert prior["mean"] is None and sum(prior["row_mean"]) == pytest.approx(1.0)
    assert f"interval for {attacks['most_likely']} runs" in attacks["confidence"]["statement"]


LEAF = """
[[node]]
id = "cuts"
label = "Rate cuts"
role = "consequence"
question = "How many cuts?"
resolution = "Count them."
opens = 2025-04-03
deadline = 2025-12-31
states = ["none", "one", "more"]
ordered = true
parents = ["us_q2_contraction"]
  [[node.prior]]
  when = { us_q2_contraction = true }
  p = [0.1, 0.3, 0.6]
  strength = 6
  rationale = "r"
  reference_class = "c"
  [[node.prior]]
  when = { us_q2_contraction = false }
  p = [0.3, 0.4, 0.3]
  strength = 6
  rationale = "r"
  reference_class = "c"
"""


def test_yes_no_questions_keep_their_briefing_beside_a_question_with_more_outcomes(tmp_path):
    """A leaf with three outcomes changes no other forecast, so the yes/no questions' forecasts
    if their main driver happens or not, and the resolutions' effects, equal those of the same
    network without it (enumeration over yes/no joint states); the leaf gets no conditional and
    is named by its most likely outcome in the bottom line."""
    import datetime as dt

    from conftest import FROZEN

    from forecast.analysis.summaries import resolution_influence

    plain_root = copy_root(FROZEN, tmp_path / "plain")
    leaf_root = copy_root(FROZEN, tmp_path / "leaf")
    toml = leaf_root / "priors" / "us-tariffs-2025.toml"
    toml.write_text(toml.read_text() + LEAF)
    roots = {"plain": plain_root, "leaf": leaf_root}
    # before the drivers resolved (9 April), so both are open and every consequence has one
    inputs = {name: load_inputs(scenario_paths(root, "us-tariffs-2025"), as_of=dt.date(2025, 4, 8))
              for name, root in roots.items()}
    leaf_inputs = inputs["leaf"]
    problem = prepare(leaf_inputs)
    assert problem.net.multistate
    from forecast.inference.problem import fit
    from forecast.inference.settings import SamplerSettings

    posterior = fit(problem, "exact", 1, SamplerSettings(draws=200, chains=1))
    leaf_doc = build_report(leaf_inputs, posterior, seed=1)
    plain_doc = report_of(inputs["plain"])
    plain = {n["id"]: n for n in plain_doc["nodes"]}
    checked = 0
    for node in leaf_doc["nodes"]:
        if node["id"] == "cuts":
            assert node["conditional"] is None
            continue
        want, got = plain[node["id"]]["conditional"], node["conditional"]
        assert (want is None) == (got is None), node["id"]
        if want is not None:
            assert got["driver"] == want["driver"]
            for key in ("driver_p", "if_yes", "if_no"):
                assert got[key] == pytest.approx(want[key], abs=1e-9), (node["id"], key)
            checked += 1
    assert checked >= 2
    cuts = next(n for n in leaf_doc["nodes"] if n["id"] == "cuts")
    assert f"Rate cuts is most likely {cuts['most_likely']}" in " ".join(leaf_doc["bottom_line"])
    assert 3 <= len(leaf_doc["bottom_line"]) <= 5
    now = {name: load_inputs(scenario_paths(root, "us-tariffs-2025")) for name, root in roots.items()}
    plain_problem, leaf_problem = prepare(now["plain"]), prepare(now["leaf"])
    want = resolution_influence(plain_problem.net, now["plain"].evidence, plain_problem.conditions)
    got = resolution_influence(leaf_problem.net, now["leaf"].evidence, leaf_problem.conditions)
    assert sorted(got) == sorted(want) and want
    for node, effect in want.items():
        assert np.allclose(got[node][:-1], effect, atol=1e-9), node


def test_a_driver_outcome_a_logical_row_rules_out_has_no_conditional(tmp_path):
    """A k-state network whose resolution makes a yes/no driver's yes impossible (a published
    CPT's zero): the report answers, and the consequence that driver alone could explain gets
    no 'if it happens' forecast (there is none), instead of stopping on a zero-probability
    clamp."""
    pytest.importorskip("pyagrum")
    import datetime as dt

    from forecast.jobs.network import import_network
    from forecast.jobs.report import make_report

    bif = tmp_path / "logic.bif"
    bif.write_text(
        "network logic {\n}\n"
        "variable a {\n  type discrete [ 2 ] { yes, no };\n}\n"
        "variable b {\n  type discrete [ 3 ] { low, mid, high };\n}\n"
        "variable c {\n  type discrete [ 2 ] { yes, no };\n}\n"
        "probability ( a ) {\n  table 0.3, 0.7;\n}\n"
        "probability ( b | a ) {\n  (yes) 1.0, 0.0, 0.0;\n  (no) 0.0, 0.5, 0.5;\n}\n"
        "probability ( c | a ) {\n  (yes) 0.9, 0.1;\n  (no) 0.2, 0.8;\n}\n")
    imported = import_network(tmp_path, bif, dt.date(2025, 1, 1), "logic")
    imported.paths.resolutions.write_text("node,outcome,date,source\nb,mid,2025-01-01,test\n")
    inputs = load_inputs(imported.paths)
    assert conditionals(inputs.scenario, prepare(inputs)) == {"c": None}
    document = make_report(imported.paths, seed=0).document
    roles = {n["id"]: n["role"] for n in document["nodes"]}
    assert roles["a"] == "driver" and roles["c"] == "consequence"
    node_c = next(n for n in document["nodes"] if n["id"] == "c")
    assert node_c["conditional"] is None
    assert node_c["mean"] == pytest.approx(0.2, abs=1e-6)
