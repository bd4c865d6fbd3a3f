"""Issue 17, the analyst's day: the rough edges a new user hit in the input files and the
evidence commands (every problem listed, yes/no in `when`, bounded LRs, other delimiters,
blank ids on import, the file's own line endings)."""

from __future__ import annotations

import csv
import io
import json

import pytest
from conftest import DATA
from conftest import snapshot_files as all_files
from hypothesis import given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from forecast.cli import app
from forecast.errors import ForecastError
from forecast.io.evidence import parse_evidence
from forecast.io.priors import parse_scenario, scenario_problems
from forecast.io.text import line_ending

runner = CliRunner()
SCENARIO = "two-node-beta"
GOOD = (DATA / "priors" / f"{SCENARIO}.toml").read_text()
TOML = f"priors/{SCENARIO}.toml"
HEADER = "item_id,node,date,source,reliability,credibility,lr,cluster,summary,url\n"
ADD = ["evidence", "add", "--scenario", SCENARIO, "--source", "Wire", "--reliability", "B",
       "--credibility", "2", "--summary", "Talks resume", "--date", "2025-02-03"]


def files(root):
    return {p: data for p, data in all_files(root).items() if not p.name.endswith(".lock")}


def run(root, args):
    return runner.invoke(app, [*args, "--root", str(root)])


def csv_rows(root) -> list[dict]:
    text = (root / "evidence" / f"{SCENARIO}.csv").read_text(encoding="utf-8-sig")
    return list(csv.DictReader(io.StringIO(text)))


# -- 1: validate lists every problem in the scenario TOML ----------------------------------------

def without_last_cpt_row(text: str) -> str:
    return text[: text.rindex("  [[node.prior]]")]


def test_validate_lists_a_typo_and_a_missing_cpt_row_both(data_root):
    bad = without_last_cpt_row(GOOD.replace('rationale = "Symmetric."', 'rationle = "Symmetric."'))
    (data_root / TOML).write_text(bad)
    before = files(data_root)
    result = run(data_root, ["evidence", "validate", "--scenario", SCENARIO])
    assert result.exit_code == 1
    assert result.stderr.splitlines() == [
        f"Error: {TOML}:node[a].prior[0]: rationle: expected a known key (one of beta, cause, confidence, "
        "fixed, p, rationale, reference_class, strength, term, when), found 'rationle'",
        f"Error: {TOML}:node[a].prior[0]: rationale: expected a value, found 'nothing (missing)'",
        f"Error: {TOML}:node[b]: prior: expected 2 CPT rows (one per parent configuration), found "
        "'no row for {a = false}'",
        f"Error: evidence/{SCENARIO}.csv: not checked: the priors must be valid first",
    ]
    assert files(data_root) == before
    doc = json.loads(run(data_root, ["evidence", "validate", "--scenario", SCENARIO,
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


# -- 7: yes / no in `when` -------------------------------------------------------------------------

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


def test_the_scaffold_says_yes_and_no_are_accepted(tmp_path):
    result = runner.invoke(app, ["new", "red-sea", "--root", str(tmp_path)])
    assert result.exit_code == 0, result.output
    assert '"yes"' in (tmp_path / "priors" / "red-sea.toml").read_text()


# -- 6: bounded LRs ---------------------------------------------------------------------------------

@pytest.mark.parametrize("lr, ok", [("1e300", False), ("10001", False), ("10000", True),
                                    ("0.0001", True), ("0.00009", False), ("1e-300", False)])
def test_an_lr_past_the_bounds_is_a_located_error(data_root, lr, ok):
    before = files(data_root)
    result = run(data_root, [*ADD, "--node", "a", "--lr", lr])
    assert (result.exit_code == 0) is ok, result.output
    if not ok:
        assert result.stderr == (
            f"Error: evidence/{SCENARIO}.csv:3: lr: expected a likelihood ratio from 0.0001 to "
            "10000 (one item past that pins its node near 0% or 100%; [scales.lr_bounds] widens "
            f"the range), found '{lr}'\n")
        assert files(data_root) == before


def test_a_scenario_can_widen_the_bounds_and_they_are_checked():
    wide = GOOD.replace("[[node]]", "[scales.lr_bounds]\nhigh = 1e9\n\n[[node]]", 1)
    scenario = parse_scenario(wide, TOML)
    assert scenario.scales.lr_bounds == (1e-4, 1e9)
    items = parse_evidence(HEADER + "E1,a,2025-02-01,T,A,1,1e8,,x,\n", "e.csv", scenario)
    assert items[0].lr == 1e8
    inverted = GOOD.replace("[[node]]", "[scales.lr_bounds]\nlow = 2\n\n[[node]]", 1)
    assert [str(e) for e in scenario_problems(inverted, TOML)] == [
        f"{TOML}:scales.lr_bounds: low: expected low < 1 < high (an LR of 1 must always be allowed), "
        "found 'low = 2, high = 10000.0'"]


# -- 9: other delimiters ----------------------------------------------------------------------------

@pytest.mark.parametrize("delimiter, name", [(";", "semicolons"), ("\t", "tabs")])
def test_a_csv_with_another_delimiter_is_diagnosed(data_root, delimiter, name):
    path = data_root / "evidence" / f"{SCENARIO}.csv"
    path.write_text(HEADER.replace(",", delimiter) + "E1;b;2025-02-01;T;A;1;1,5;;x;\n")
    result = run(data_root, ["evidence", "validate", "--scenario", SCENARIO])
    assert result.exit_code == 1
    assert result.stderr == (
        f"Error: evidence/{SCENARIO}.csv:1: header: this file is separated by {name}, expected "
        'commas: save it as "CSV UTF-8 (Comma delimited)" (or export with a comma delimiter and a '
        "point as decimal mark)\n")


def test_a_comma_file_with_a_stray_semicolon_is_not_misdiagnosed(data_root):
    path = data_root / "evidence" / f"{SCENARIO}.csv"
    path.write_text("item_id;x\nE1\n")
    result = run(data_root, ["evidence", "validate", "--scenario", SCENARIO])
    assert "item_id;x: expected a known column" in result.stderr


# -- 3: import assigns ids to blank item_id --------------------------------------------------------

def test_import_assigns_ids_to_blank_item_ids_like_add(data_root, tmp_path):
    source = tmp_path / "new.csv"
    source.write_text(HEADER
                      + ",a,2025-02-05,Wire,C,3,2,,Both nodes,\n"
                      + ",b,2025-02-05,Wire,C,3,0.5,,Both nodes,\n"
                      + "E7,a,2025-02-06,Paper,B,2,3,,Numbered,\n"
                      + ",a,2025-02-07,Radio,B,2,3,,Another item,\n")
    result = run(data_root, ["evidence", "import", str(source), "--scenario", SCENARIO])
    assert result.exit_code == 0, result.output
    assert result.stdout == f"Imported E7, E8, E9 to evidence/{SCENARIO}.csv: 4 row(s)\n"
    assert [(r["item_id"], r["node"]) for r in csv_rows(data_root)] == [
        ("E1", "b"), ("E8", "a"), ("E8", "b"), ("E7", "a"), ("E9", "a")]


def test_a_bad_row_in_an_import_with_blank_ids_names_the_import_line(data_root, tmp_path):
    source = tmp_path / "new.csv"
    source.write_text(HEADER + ",a,2025-02-05,Wire,C,3,2,,x,\n,zz,2025-02-05,Wire,C,3,2,,y,\n")
    before = files(data_root)
    result = run(data_root, ["evidence", "import", str(source), "--scenario", SCENARIO])
    assert result.exit_code == 1
    assert result.stderr.startswith(f"Error: {source}:3: node: ")
    assert files(data_root) == before


# -- 5: the file's own line endings -----------------------------------------------------------------

BOM = b"\xef\xbb\xbf"


@pytest.mark.parametrize("newline", ["\r\n", "\r", "\n"])
@pytest.mark.parametrize("terminated", [True, False])
def test_add_and_import_keep_the_files_line_endings(data_root, tmp_path, newline, terminated):
    path = data_root / "evidence" / f"{SCENARIO}.csv"
    text = (HEADER + "E1,b,2025-02-01,Test,A,1,3,,x,\n").replace("\n", newline)
    path.write_bytes(BOM + (text if terminated else text[: -len(newline)]).encode())
    assert run(data_root, [*ADD, "--node", "a", "--lr", "2", "--quote", "They met."]).exit_code == 0
    source = tmp_path / "new.csv"
    source.write_text(HEADER + ",a,2025-02-05,Wire,C,3,2,,Imported,\n")
    assert run(data_root, ["evidence", "import", str(source), "--scenario", SCENARIO]).exit_code == 0
    data = path.read_bytes()
    assert data.startswith(BOM + b"item_id,") and data.count(BOM) == 1
    breaks = data.replace(b"\r\n", b"#").count(b"\n") + data.replace(b"\r\n", b"#").count(b"\r")
    crlf = data.count(b"\r\n")
    assert (crlf, breaks) == ((4, 0) if newline == "\r\n" else (0, 4)), data
    assert data.endswith(f"E3,a,2025-02-05,Wire,C,3,2,,Imported,,{newline}".encode())
    assert run(data_root, ["evidence", "validate", "--scenario", SCENARIO]).exit_code == 0


def test_resolve_keeps_an_old_mac_files_line_endings(data_root):
    path = data_root / "evidence" / f"{SCENARIO}.resolutions.csv"
    path.write_bytes(b"node,outcome,date,source\r")
    result = run(data_root, ["resolve", "a", "yes", "--date", "2025-03-01", "--source", "Ref",
                             "--scenario", SCENARIO])
    assert result.exit_code == 0, result.output
    assert path.read_bytes() == b"node,outcome,date,source\ra,yes,2025-03-01,Ref\r"


@pytest.mark.parametrize("text, newline", [("a\r\nb\n", "\r\n"), ("a\rb", "\r"), ("a\nb\r\n", "\n"),
                                           ("a", "\n"), ("", "\n")])
def test_line_ending_is_the_first_lines(text, newline):
    assert line_ending(text) == newline


# -- 2: remove and edit an item ---------------------------------------------------------------------

TWO_ROWS = ["--node", "a", "--node", "b", "--lr", "2", "--lr", "3"]


def test_remove_deletes_an_items_rows_and_keeps_every_other_byte(data_root):
    path = data_root / "evidence" / f"{SCENARIO}.csv"
    path.write_bytes(BOM + (HEADER + "E1,b,2025-02-01,Test,A,1,3,,\"x, y\",\n").replace(
        "\n", "\r\n").encode())
    assert run(data_root, [*ADD, *TWO_ROWS]).exit_code == 0
    assert run(data_root, [*ADD, "--node", "a", "--lr", "4"]).exit_code == 0
    before = path.read_bytes()
    result = run(data_root, ["evidence", "remove", "E2", "--scenario", SCENARIO])
    assert result.exit_code == 0, result.output
    assert result.stdout == (f"Removed E2 from evidence/{SCENARIO}.csv: 2 row(s): a, b. "
                             "`forecast update` will say what this moved.\n")
    lines = before.split(b"\r\n")
    assert path.read_bytes() == b"\r\n".join(lines[:2] + lines[4:])
    result = run(data_root, ["evidence", "remove", "E3", "--node", "a", "--scenario", SCENARIO,
                             "--format", "json"])
    assert json.loads(result.stdout) == {"path": f"evidence/{SCENARIO}.csv", "item_id": "E3",
                                         "nodes": ["a"], "rows": []}
    assert [r["item_id"] for r in csv_rows(data_root)] == ["E1"]


def test_remove_can_retract_a_bad_row_and_refuses_unknown_items(data_root):
    path = data_root / "evidence" / f"{SCENARIO}.csv"
    path.write_text(HEADER + "E1,b,2025-02-01,Test,A,1,3,,x,\nE2,zz,2025-02-01,T,A,1,3,,bad,\n")
    assert run(data_root, ["evidence", "validate", "--scenario", SCENARIO]).exit_code == 1
    assert run(data_root, ["evidence", "remove", "E2", "--scenario", SCENARIO]).exit_code == 0
    assert run(data_root, ["evidence", "validate", "--scenario", SCENARIO]).exit_code == 0
    before = files(data_root)
    for args, message in ((["E9"], f"evidence/{SCENARIO}.csv: item_id: expected the id of an item "
                                   "in the file, found 'E9'"),
                          (["E1", "--node", "a"], "--node: node: expected a node E1 bears on (one "
                                                  "of b), found 'a'")):
        result = run(data_root, ["evidence", "remove", *args, "--scenario", SCENARIO])
        assert (result.exit_code, result.stderr) == (1, f"Error: {message}\n")
    assert files(data_root) == before


def test_edit_changes_only_the_given_fields_and_is_checked_like_add(data_root):
    assert run(data_root, [*ADD, *TWO_ROWS]).exit_code == 0
    result = run(data_root, ["evidence", "edit", "E2", "--node", "b", "--lr", "moderately_for",
                             "--quote", 'He said "so"', "--scenario", SCENARIO])
    assert result.exit_code == 0, result.output
    assert result.stdout == (f"Changed E2 in evidence/{SCENARIO}.csv: 1 row(s): b (LR "
                             "moderately_for, w 0.64). `forecast update` will say what this moved.\n")
    assert run(data_root, ["evidence", "edit", "E2", "--credibility", "3", "--scenario",
                           SCENARIO]).exit_code == 0
    got = {(r["item_id"], r["node"]): r for r in csv_rows(data_root)}
    assert (got["E2", "a"]["lr"], got["E2", "a"]["credibility"], got["E2", "a"]["quote"]) == ("2", "3", "")
    assert (got["E2", "b"]["lr"], got["E2", "b"]["credibility"], got["E2", "b"]["quote"]) == (
        "moderately_for", "3", 'He said "so"')
    assert got["E2", "b"]["summary"] == "Talks resume" and got["E1", "b"]["lr"] == "3"
    assert run(data_root, ["evidence", "edit", "E2", "--cluster", "c1", "--scenario",
                           SCENARIO]).exit_code == 0
    assert {r["cluster"] for r in csv_rows(data_root) if r["item_id"] == "E2"} == {"c1"}
    before = files(data_root)
    for args, message in (
            (["--lr", "-1"], f"evidence/{SCENARIO}.csv:3: lr: expected a positive number"),
            (["--reliability", "Q"], f"evidence/{SCENARIO}.csv:3: reliability: expected a grade"),
            (["--lr", "2", "--lr", "3", "--lr", "4"], "--lr: lr: expected one --lr for every row, "
                                                      "or one per --node (2: a, b), found 3"),
            ([], "evidence edit: expected at least one field to change")):
        result = run(data_root, ["evidence", "edit", "E2", *args, "--scenario", SCENARIO])
        assert result.exit_code == 1 and result.stderr.startswith(f"Error: {message}"), result.stderr
        assert result.stderr.count("\n") == 1
    assert files(data_root) == before


@pytest.mark.slow
def test_update_names_what_was_removed_and_what_was_changed(data_root):
    fast = ["--draws", "300", "--tune", "300", "--chains", "2", "--no-progress", "--scenario",
            SCENARIO]
    assert run(data_root, [*ADD, "--node", "a", "--lr", "3"]).exit_code == 0
    assert run(data_root, ["update", *fast]).exit_code == 0
    assert run(data_root, ["evidence", "remove", "E1", "--scenario", SCENARIO]).exit_code == 0
    assert run(data_root, ["evidence", "edit", "E2", "--lr", "0.5", "--scenario", SCENARIO]).exit_code == 0
    result = run(data_root, ["update", *fast])
    assert result.exit_code == 0, result.output
    assert "Items added none; removed E1; changed E2." in result.stdout
    assert "E1 removed" in result.stdout and "E2 changed" in result.stdout
    doc = json.loads(run(data_root, ["update", *fast, "--format", "json"]).stdout)
    assert doc["appended"] is False


# -- 10: report.md escapes only what Markdown needs --------------------------------------------------

def markdown_text(source: str) -> str:
    """What a Markdown reader shows for one line (CommonMark with GFM tables and strikethrough):
    the HTML it renders, which must be one plain paragraph, as text."""
    import html

    from markdown_it import MarkdownIt

    rendered = MarkdownIt("commonmark").enable(["table", "strikethrough"]).render(source)
    assert rendered.startswith("<p>") and rendered.endswith("</p>\n"), rendered
    body = rendered[3:-5]
    assert "<" not in body, rendered                    # no markup: every tag came from the text
    return html.unescape(body)


def test_markdown_leaves_ordinary_punctuation_alone():
    from forecast.render.markdown import md_escape

    assert md_escape("Reuters (Mar 2025): 3 + 4 = 7, 50% #1 a-b! {x} kyiv_partnership") == (
        "Reuters (Mar 2025): 3 + 4 = 7, 50% #1 a-b! {x} kyiv_partnership")


@pytest.mark.parametrize("text", [
    "<script>alert(1)</script>", "[link](javascript:1)", "![img](x.png)", "*bold* _em_ __x__",
    "`code`", "a | b", "~~gone~~", "Tom &amp; Jerry &#60;i&#62;", "# heading #", "> quote",
    "- item", "+ item", "1. item", "2) item", "---", "***", "___", "=", "back\\slash",
    "<http://example.org>", "trailing \\", "x_", "_x", "a*b*c",
])
def test_markdown_shows_hostile_text_as_written(text):
    from forecast.render.markdown import md_escape

    assert markdown_text(md_escape(text)) == text


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet=st.sampled_from(list("ab1 _*`[]()<>#+-=!|~&;:/\\.{}\"'é")), min_size=1,
               max_size=24).filter(str.strip))
def test_markdown_escape_property_any_text_reads_as_written(text):
    from forecast.render.markdown import md_escape

    assert markdown_text(md_escape(text)) == " ".join(text.split())


# -- 8: every diagnostic warning says what to do ----------------------------------------------------

def test_the_ess_advice_asks_for_enough_draws():
    from forecast.inference.settings import draws_for_ess

    assert draws_for_ess(1000, 399.0, 400.0) == 2000
    assert draws_for_ess(1000, 100.0, 400.0) == 6000
    assert draws_for_ess(300, 390.0, 400.0) == 500
    for draws in (100, 300, 1000, 2500):
        for ess in (1.0, 50.0, 250.0, 399.9):
            more = draws_for_ess(draws, ess, 400.0)
            assert more % 500 == 0 and more > draws and ess * more / draws >= 400


def test_each_sampling_warning_names_the_problem_and_the_next_command():
    import numpy as np

    from forecast.inference.nuts import diagnose
    from forecast.inference.settings import draws_for_ess

    rng = np.random.default_rng(3)
    chains, draws = 2, 200
    walk = np.cumsum(rng.normal(size=(chains, draws, 2)), axis=1) * 0.05       # sticky chains
    walk[1] += 3.0                                                            # that disagree
    p_yes = 1 / (1 + np.exp(-walk))
    diverging = np.zeros((chains, draws), dtype=bool)
    diverging[0, :7] = True
    found = diagnose(np.concatenate([p_yes, p_yes], axis=2), diverging, tune=300)
    assert found["divergences"] == 7
    warnings = found["warnings"]
    assert len(warnings) == 3
    assert warnings[0].startswith("7 divergent transitions: the sampler missed part of the posterior")
    assert "rerun with --tune 2000" in warnings[0]
    assert warnings[1].startswith(f"R-hat {found['max_rhat']:.3f} > 1.01: the chains disagree")
    assert warnings[1].endswith("rerun with --tune 2000 --draws 400")
    assert warnings[2].startswith(f"ESS {found['min_ess']:.0f} < 400: too few independent draws")
    more = int(warnings[2].rsplit("rerun with --draws ", 1)[1])
    ess = found["min_ess"]                                  # rounded to 0.1 in the diagnostics
    assert draws_for_ess(200, ess + 0.05, 400.0) <= more <= draws_for_ess(200, ess - 0.05, 400.0)


def test_check_says_what_sbc_divergences_mean():
    from forecast.render import sbc_divergences

    assert sbc_divergences({"fits_with_divergences": 0, "divergences": 0, "simulations": 200}) == (
        "No divergent transitions in any of the 200 SBC fits.")
    words = sbc_divergences({"fits_with_divergences": 3, "divergences": 7, "simulations": 200})
    assert words.startswith("3 of 200 SBC fits had divergent transitions (7 in all): NUTS struggled")
    assert "rerun check with more --tune" in words


# -- 11: report.html for readers: trust in words, a structure view that scales ----------------------

def generated_root(tmp_path, n_nodes: int):
    from forecast.model.generate import evidence_csv, scenario_toml

    root = tmp_path / f"gen{n_nodes}"
    (root / "priors").mkdir(parents=True)
    (root / "evidence").mkdir()
    (root / "priors" / f"gen{n_nodes}.toml").write_text(scenario_toml(f"gen{n_nodes}", n_nodes, seed=3))
    (root / "evidence" / f"gen{n_nodes}.csv").write_text(
        evidence_csv([f"n{i:02d}" for i in range(n_nodes)], 30, seed=1))
    return root


def html_report(root, scenario: str) -> str:
    import re

    result = run(root, ["report", "--scenario", scenario, "--engine", "exact", "--format", "html"])
    assert result.exit_code == 0, result.output
    return re.sub(r"data:image/svg\+xml;base64,[A-Za-z0-9+/=]+", "data:", result.stdout)


def test_a_large_network_is_shown_as_linked_layers_not_a_shrunken_diagram(tmp_path):
    import re

    page = html_report(generated_root(tmp_path, 24), "gen24")
    assert 'id="structure-chart"' not in page and 'id="structure-layers"' in page
    cards = re.findall(r'<li id="node-(n\d\d)"', page)
    assert sorted(cards) == [f"n{i:02d}" for i in range(24)]
    targets = set(re.findall(r'<a href="#node-(n\d\d)"', page))
    assert targets and targets <= set(cards)                 # every link lands on a card
    assert "24 questions in 5 layers, too many for a legible diagram" in " ".join(page.split())


def test_the_diagram_is_kept_while_it_fits():
    from forecast.render.graph_layout import diagram_fits

    chain = [{"id": f"n{i}", "parents": [f"n{i - 1}"] if i else []} for i in range(5)]
    assert diagram_fits(chain[:4]) and not diagram_fits(chain)                   # layers
    wide = [{"id": f"r{i}", "parents": []} for i in range(13)]
    assert diagram_fits(wide[:12]) and not diagram_fits(wide)                   # nodes


def test_the_report_says_in_words_whether_the_numbers_can_be_trusted(data_root):
    page = html_report(data_root, "burglary")
    assert "<h2 id=\"diagnostics-title\"><span class=\"num\">8</span>Can these numbers be trusted?</h2>" in page
    trust = page[page.index('<p id="trust"'):page.index('<details id="technical">')]
    assert "Yes, as computation goes. These forecasts were computed exactly" in trust
    assert "R-hat" not in trust and "ESS" not in trust                          # jargon kept below
    technical = page[page.index('<details id="technical">'):page.index("</details>")]
    assert "<dt>max R-hat</dt>" in technical and "<dt>min ESS</dt>" in technical
    assert 'id="structure-chart"' in page                                       # five nodes: a diagram


@pytest.mark.parametrize("diagnostics, engine, trusted, start", [
    ({"warnings": ["ESS 120 < 400: ..."]}, "nuts", False, "Not yet."),
    ({"warnings": []}, "nuts", True, "Yes, as computation goes. These forecasts come from random"),
    ({"warnings": []}, "exact", True, "Yes, as computation goes. These forecasts were computed exactly"),
])
def test_trust_words(diagnostics, engine, trusted, start):
    from forecast.render import trust_words

    document = {"diagnostics": diagnostics, "engine": engine,
                "nodes": [{"mcse": 0.002}, {"mcse": 0.004}]}
    ok, words = trust_words(document)
    assert ok is trusted and words.startswith(start)
    if engine == "nuts" and trusted:
        assert "would not move any forecast by more than about 0.8 percentage points" in words


def test_edit_and_remove_json_match_docs_json(data_root):
    from test_render import check_like, documented_examples

    example = documented_examples()["evidence"]
    assert run(data_root, [*ADD, "--node", "a", "--lr", "2"]).exit_code == 0
    edited = run(data_root, ["evidence", "edit", "E2", "--lr", "3", "--scenario", SCENARIO,
                             "--format", "json"])
    doc = json.loads(edited.stdout)
    check_like(example, doc)
    assert doc["rows"][0]["lr_value"] == 3.0 and doc["nodes"] == ["a"]
    removed = json.loads(run(data_root, ["evidence", "remove", "E2", "--scenario", SCENARIO,
                                         "--format", "json"]).stdout)
    check_like({**example, "rows": []}, removed)
    assert removed["rows"] == []


def test_a_failed_self_check_says_what_to_do_next():
    from forecast.cli.check import CHECK_ADVICE

    assert set(CHECK_ADVICE) == {("agreement",), ("sbc",), ("agreement", "sbc")}
    for failed, advice in CHECK_ADVICE.items():
        assert advice.startswith("Rerun with --") and "--engine exact" in advice, failed


def test_long_id_lists_are_counted_and_ordered_as_numbers():
    from forecast.render import id_list

    ids = [f"E{n:03d}" for n in range(22, 23_022)]
    assert id_list(ids) == "23,000 (E022, E023, E024, ..., E23021)"
    assert id_list(["E10", "E9", "A1"]) == "A1, E9, E10"
    assert id_list([]) == "none"
