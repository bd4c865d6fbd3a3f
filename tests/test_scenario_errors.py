"""Each bad scenario TOML gives one error naming the file, the TOML key and the field."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from conftest import DATA, data_files, run_cli

from forecast.errors import ForecastError
from forecast.io.priors import load_scenario, parse_scenario, scenario_problems

GOOD = (DATA / "priors" / "two-node-beta.toml").read_text()
PATH = Path("priors/two-node-beta.toml")


def error_for(text: str) -> str:
    with pytest.raises(ForecastError) as caught:
        parse_scenario(text, PATH)
    message = str(caught.value)
    assert "\n" not in message
    assert message.startswith(str(PATH))
    return message


def test_the_shipped_scenarios_parse(shipped_root):
    scenario = load_scenario(shipped_root / "priors" / "turkey-peacekeeping.toml")
    assert set(scenario.node_ids) >= {"ceasefire", "turkish_deployment", "russia_ties_strained",
                                      "f35_reinstatement", "mediation_stalemate",
                                      "kyiv_partnership"}
    for node in scenario.nodes:
        assert len(node.priors) == 2 ** len(node.parents)
        assert all(p.rationale and p.reference_class for p in node.priors)
    assert parse_scenario(GOOD, PATH).node("b").priors[1].mean == pytest.approx(0.75)


@pytest.mark.parametrize("old, new, where, field", [
    ('beta = [3.0, 1.0]', 'beta = [3.0, 1.0]\n  colour = "red"', "node[b].prior[0]", "colour"),
    ('parents = []', 'parents = ["b"]', "node[", "parents"),                       # cycle a <-> b
    ('parents = ["a"]', 'parents = ["b"]', "node[b]", "parents"),                  # self-parent
    ('parents = ["a"]', 'parents = ["zz"]', "node[b]", "parents"),                 # unknown parent
    ('  p = 0.25\n  strength = 4', '  p = 1.0\n  strength = 4', "node[b].prior[1]", "p"),
    ('  p = 0.25\n  strength = 4', '  p = 0\n  strength = 4', "node[b].prior[1]", "p"),
    ('  p = 0.25\n  strength = 4', '  p = -0.2\n  strength = 4', "node[b].prior[1]", "p"),
    ('  p = 0.25\n  strength = 4', '  p = nan\n  strength = 4', "node[b].prior[1]", "p"),
    ('beta = [2.0, 2.0]', 'beta = [0.0, 2.0]', "node[a].prior[0]", "beta"),
    ('  p = 0.25\n  strength = 4', '  term = "maybe"\n  confidence = "low"', "node[b].prior[1]",
     "term"),
    ('when = { a = false }', 'when = { a = true }', "node[b].prior[1]", "when"),   # row twice
    ('deadline = 2026-01-01\nparents = []', 'deadline = 2024-01-01\nparents = []', "node[a]",
     "deadline"),
    ('opens = 2025-01-01\ndeadline = 2026-01-01\nparents = []',
     'opens = "soon"\ndeadline = 2026-01-01\nparents = []', "node[a]", "opens"),
    ('id = "two-node-beta"', 'id = "other"', "scenario", "id"),
    ('role = "driver"', 'role = "cause"', "node[a]", "role"),
    ('id = "b"', 'id = "A"', "node[A]", "id"),                                     # case clash
])
def test_bad_scenario(old, new, where, field):
    assert old in GOOD
    message = error_for(GOOD.replace(old, new, 1))
    assert f":{where}" in message
    assert f": {field}" in message


def test_missing_cpt_row_is_named():
    last_row = GOOD[GOOD.rindex("  [[node.prior]]"):]
    message = error_for(GOOD.replace(last_row, ""))
    assert ":node[b]: prior: expected 2 CPT rows" in message
    assert "a = false" in message


def test_toml_syntax_error_names_the_line():
    message = error_for(GOOD.replace('title = "Two nodes, Beta priors"', 'title = "unterminated'))
    assert message.startswith(f"{PATH}:4: toml: invalid TOML:")


def test_duplicate_toml_key_is_an_error():
    message = error_for(GOOD.replace('title = "Two nodes, Beta priors"',
                                     'title = "x"\ntitle = "y"'))
    assert message.startswith(f"{PATH}:5: toml: invalid TOML: Cannot overwrite a value")


def test_scale_overrides_merge_entry_by_entry():
    text = GOOD.replace("[[node]]", '[scales.likelihood_ratio]\nhuge = 50.0\n\n[[node]]', 1)
    scales = parse_scenario(text, PATH).scales
    assert scales.likelihood_ratio["huge"] == 50.0
    assert scales.likelihood_ratio["strongly_for"] == 10.0
    message = error_for(GOOD.replace("[[node]]", "[scales.reliability]\nG = 0.5\n\n[[node]]", 1))
    assert ":scales.reliability: G:" in message


def test_term_prior_uses_the_term_midpoint_and_confidence_strength():
    text = GOOD.replace('  p = 0.25\n  strength = 4', '  term = "unlikely"\n  confidence = "low"')
    prior = parse_scenario(text, PATH).node("b").priors[0]
    assert prior.mean == pytest.approx((0.20 + 0.45) / 2)
    assert prior.alpha + prior.beta == pytest.approx(4.0)


LOGICAL = GOOD.replace("  beta = [3.0, 1.0]", "  p = 1\n  fixed = true").replace(
    "  p = 0.25\n  strength = 4", "  p = 0.0\n  fixed = true")


def test_a_fixed_probability_may_be_zero_or_one_as_in_a_logical_node():
    node = parse_scenario(LOGICAL, PATH).node("b")
    assert [prior.mean for prior in node.priors] == [0.0, 1.0]
    for bad in ("  p = 1.5\n  fixed = true", "  p = -0.0001\n  fixed = true"):
        message = error_for(GOOD.replace("  p = 0.25\n  strength = 4", bad))
        assert "node[b].prior[1]: p: expected a probability from 0 to 1" in message


@pytest.mark.parametrize("command, resolved", [
    (["report"], "a,yes,2025-02-01,wire\nb,no,2025-02-01,wire\n"),
    (["whatif", "--given", "b=no"], "a,yes,2025-02-01,wire\n"),
    (["update"], "a,yes,2025-02-01,wire\nb,no,2025-02-01,wire\n"),
    (["watch"], "a,yes,2025-02-01,wire\nb,no,2025-02-01,wire\n"),
    (["sensitivity"], "a,yes,2025-02-01,wire\nb,no,2025-02-01,wire\n"),
    (["backtest"], "a,yes,2025-02-01,wire\nb,no,2025-02-01,wire\n"),
])
def test_resolutions_that_fixed_zeros_make_impossible_are_one_line_and_write_nothing(
        tmp_path, command, resolved):
    from typer.testing import CliRunner

    from forecast.cli import app

    root = tmp_path / "root"
    (root / "priors").mkdir(parents=True)
    (root / "evidence").mkdir()
    (root / "priors" / "two-node-beta.toml").write_text(LOGICAL)
    (root / "evidence" / "two-node-beta.csv").write_text(
        "item_id,node,date,source,reliability,credibility,lr,cluster,summary,url\n"
        "E001,a,2025-01-15,wire,A,1,2,,a report,\n")
    (root / "evidence" / "two-node-beta.resolutions.csv").write_text(
        "node,outcome,date,source\n" + resolved)
    result = CliRunner().invoke(app, [*command, "--scenario", "two-node-beta", "--root", str(root)])
    assert result.exit_code == 1, result.output
    assert result.stderr == ("Error: evidence/two-node-beta.resolutions.csv: outcome: these "
                             "resolutions (and conditions) cannot all hold: the priors' fixed 0/1 "
                             "entries give them probability zero; nothing written\n")
    # whatif fits (and caches) the possible unconditional forecast before the impossible one
    written = [p for p in (root / "reports").rglob("*") if p.is_file() and ".cache" not in p.parts]
    assert written == []


# -- every problem is listed, not only the first -----------------------------------------------
SCENARIO = "two-node-beta"
TOML = str(PATH)


def without_last_cpt_row(text: str) -> str:
    return text[: text.rindex("  [[node.prior]]")]


def test_validate_lists_a_typo_and_a_missing_cpt_row_both(data_root):
    bad = without_last_cpt_row(GOOD.replace('rationale = "Symmetric."', 'rationle = "Symmetric."'))
    (data_root / TOML).write_text(bad)
    before = data_files(data_root)
    result = run_cli(data_root, ["evidence", "validate", "--scenario", SCENARIO])
    assert result.exit_code == 1
    assert result.stderr.splitlines() == [
        f"Error: {TOML}:node[a].prior[0]: rationle: expected a known key (one of beta, cause, confidence, "
        "dirichlet, fixed, p, rationale, reference_class, strength, term, when), found 'rationle'",
        f"Error: {TOML}:node[a].prior[0]: rationale: expected a value, found 'nothing (missing)'",
        f"Error: {TOML}:node[b]: prior: expected 2 CPT rows (one per parent configuration), found "
        "'no row for {a = false}'",
        f"Error: evidence/{SCENARIO}.csv: not checked: the priors must be valid first",
    ]
    assert data_files(data_root) == before
    doc = json.loads(run_cli(data_root, ["evidence", "validate", "--scenario", SCENARIO,
                                     "--format", "json"]).stdout)
    assert len(doc["problems"]) == 4


def test_every_problem_in_several_tables_is_listed_and_the_first_is_what_report_says():
    bad = (GOOD.replace('as_of = 2025-01-01', 'as_of = 2025-01-01\ncolour = "red"')
           .replace('role = "driver"', 'role = "cause"')
           .replace('beta = [3.0, 1.0]', 'beta = [0.0, 1.0]')
           .replace("[[node]]", "[scales.likelihood_ratio]\nhuge = 1e6\n\n[[node]]", 1))
    found = [str(e) for e in scenario_problems(bad, TOML)]
    assert [line.split(": ")[0] + ": " + line.split(": ")[1] for line in found] == [
        f"{TOML}:scenario: colour",
        f"{TOML}:scales.likelihood_ratio: huge",
        f"{TOML}:node[a]: role",
        f"{TOML}:node[b].prior[0]: beta",
    ]
    with pytest.raises(ForecastError) as first:
        parse_scenario(bad, TOML)
    assert str(first.value) == found[0]
    assert scenario_problems(GOOD, TOML) == []


def test_a_bad_when_does_not_also_report_a_missing_row():
    bad = GOOD.replace("when = { a = true }", 'when = { a = "perhaps" }')
    found = [str(e) for e in scenario_problems(bad, TOML)]
    assert found == [f'{TOML}:node[b].prior[0]: when.a: expected true or false (or "yes" / "no" in '
                     "quotes: TOML has no bare yes), found 'perhaps'"]



# -- yes / no in `when` --------------------------------------------------------------------------

@pytest.mark.parametrize("yes, no", [('"yes"', '"no"'), ('"Yes"', '"NO"'), ("true", '"no"')])
def test_when_takes_yes_and_no_in_quotes_like_true_and_false(yes, no):
    words = GOOD.replace("when = { a = true }", f"when = {{ a = {yes} }}").replace(
        "when = { a = false }", f"when = {{ a = {no} }}")
    assert parse_scenario(words, TOML) == parse_scenario(GOOD, TOML)


def test_a_bare_yes_is_invalid_toml_and_the_error_says_to_quote_it():
    with pytest.raises(ForecastError) as caught:
        parse_scenario(GOOD.replace("when = { a = true }", "when = { a = yes }"), TOML)
    assert str(caught.value) == (
        f"{TOML}:30: toml: invalid TOML: Invalid value (column 16); TOML has no bare yes/no: write "
        'true/false, or "yes"/"no" in quotes, e.g. when = { ceasefire = "yes" }')


def _chain_toml(ids: list[str]) -> str:
    """Nodes each the parent of the next, and the first the child of the last: one cycle."""
    head = '[scenario]\nid = "loop"\ntitle = "T"\ntrigger = "T"\nas_of = 2025-01-01\n'
    nodes = []
    for k, node in enumerate(ids):
        parent = ids[k - 1]
        rows = "".join(f'  {{ when = {{ {parent} = {v} }}, p = 0.5, strength = 2 }},\n'
                       for v in ("true", "false"))
        nodes.append(f'[[node]]\nid = "{node}"\nrole = "driver"\nquestion = "Q?"\n'
                     f'resolution = "R."\nopens = 2025-01-01\ndeadline = 2026-01-01\n'
                     f'parents = ["{parent}"]\nrationale = "T."\nreference_class = "T."\n'
                     f'prior = [\n{rows}]\n')
    return head + "".join(nodes)


def test_a_cycle_error_names_every_node_of_the_cycle_whole():
    ids = ["russia_ties_strained", "mediation_stalemate", "turkish_deployment",
           "kyiv_partnership"]
    with pytest.raises(ForecastError) as error:
        parse_scenario(_chain_toml(ids), "priors/loop.toml")
    message = str(error.value)
    assert "..." not in message, message
    cycle = message.split("found a cycle ", 1)[1].split(" <- ")
    assert set(cycle) == set(ids) and cycle[0] == cycle[-1] and len(cycle) == len(ids) + 1


def test_a_long_cycle_is_named_by_its_ends_in_whole_ids():
    ids = [f"question_number_{k:02d}" for k in range(14)]
    with pytest.raises(ForecastError) as error:
        parse_scenario(_chain_toml(ids), "priors/loop.toml")
    cycle = str(error.value).split("found a cycle ", 1)[1].split(" <- ")
    assert cycle[4] == "(7 more)" and len(cycle) == 9
    assert set(cycle) - {"(7 more)"} <= set(ids)


def test_validate_reports_a_repeated_rows_own_problems_too():
    text = (DATA / "priors" / "burglary.toml").read_text().replace(
        "  when = { burglary = true, earthquake = false }\n  p = 0.94",
        "  when = { burglary = true, earthquake = true }\n  colour = \"red\"\n  p = 0.94")
    found = [(error.row, error.field) for error in scenario_problems(text, "priors/burglary.toml")]
    assert found == [("node[alarm].prior[1]", "when"), ("node[alarm].prior[1]", "colour"),
                     ("node[alarm]", "prior")]


def test_validate_reports_a_repeated_cause_rows_own_problems_too():
    text = (DATA / "priors" / "noisy-or-four.toml").read_text()
    at = text.index('cause = "c1"')
    text = text[:at] + 'cause = "c2"\n  colour = "red"\n  ' + text[at + len('cause = "c1"\n  '):]
    fields = [error.field for error in scenario_problems(text, "priors/noisy-or-four.toml")]
    assert "colour" in fields and "cause" in fields
