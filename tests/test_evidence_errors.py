"""Each bad evidence or resolutions row gives one error naming the file, line and field; the
evidence hash ignores order and whitespace but not content."""

from __future__ import annotations

from pathlib import Path

import pytest
from conftest import ADD_ITEM, DATA, data_files, run_cli

from forecast.errors import ForecastError
from forecast.io.evidence import evidence_hash, parse_evidence, parse_resolutions
from forecast.io.priors import load_scenario, parse_scenario, scenario_problems

SCENARIO = load_scenario(DATA / "priors" / "two-node-beta.toml")
HEADER = "item_id,node,date,source,reliability,credibility,lr,cluster,summary,url\n"
GOOD_ROW = "E1,b,2025-02-01,Test,A,1,3,,B looks likelier,\n"
PATH = Path("evidence/two-node-beta.csv")


def error_for(text: str, parser=parse_evidence) -> str:
    with pytest.raises(ForecastError) as caught:
        parser(text, PATH, SCENARIO)
    message = str(caught.value)
    assert "\n" not in message and message.startswith(str(PATH))
    return message


@pytest.mark.parametrize("row, field", [
    ("E2,zz,2025-02-01,Test,A,1,3,,unknown node,\n", "node"),
    ("E2,b,2025-02-01,Test,A,1,0,,zero LR,\n", "lr"),
    ("E2,b,2025-02-01,Test,A,1,-3,,negative LR,\n", "lr"),
    ("E2,b,2025-02-01,Test,A,1,enormous,,unknown LR name,\n", "lr"),
    ("E2,b,2025-02-01,Test,A,1,inf,,infinite LR,\n", "lr"),
    ("E2,b,2025-02-01,Test,G,1,3,,bad reliability,\n", "reliability"),
    ("E2,b,2025-02-01,Test,A,7,3,,bad credibility,\n", "credibility"),
    ("E2,b,01/02/2025,Test,A,1,3,,malformed date,\n", "date"),
    ("E2,b,2025-02-30,Test,A,1,3,,impossible date,\n", "date"),
    ("E1,b,2025-02-02,Test,A,1,3,,duplicate key,\n", "item_id"),
    ("E2,b,2025-02-01,Test,A,1,3,,too few fields\n", "row"),
    ("E2,b,2025-02-01,,A,1,3,,no source,\n", "source"),
    ("E2,b,2025-02-01,Test,A,1,3,,space in URL,http://example.org/a b\n", "url"),
    ("E2,b,2025-02-01,Test,A,1,3,,bare scheme,https://\n", "url"),
    ("E2,b,2025-02-01,Test,A,1,1e999,,overflows to inf,\n", "lr"),
])
def test_bad_evidence_row(row, field):
    message = error_for(HEADER + GOOD_ROW + row)
    assert message.startswith(f"{PATH}:3: {field}:")


def test_missing_column():
    text = HEADER.replace(",url", "") + GOOD_ROW.rstrip(",\n") + "\n"
    assert error_for(text) == f"{PATH}:1: url: expected this column in the header, found 'no such column'"


def test_unknown_column_and_empty_file():
    assert ":1: colour:" in error_for(HEADER.replace("url", "url,colour") + GOOD_ROW)
    assert ":1: header:" in error_for("")


def test_named_lr_and_grading_weight():
    items = parse_evidence(HEADER + "E2,a,2025-02-01,Test,B,3,strongly_for,c1,named,\n", PATH,
                           SCENARIO)
    assert items[0].lr == 10.0
    assert items[0].weight == pytest.approx(0.8 * 0.6)
    assert items[0].row == 2


@pytest.mark.parametrize("row, field", [
    ("zz,yes,2025-03-01,Ref\n", "node"),
    ("a,maybe,2025-03-01,Ref\n", "outcome"),
    ("a,yes,2024-03-01,Ref\n", "date"),        # before the node opens
    ("a,yes,March,Ref\n", "date"),
])
def test_bad_resolution_row(row, field):
    message = error_for("node,outcome,date,source\n" + row, parse_resolutions)
    assert message.startswith(f"{PATH}:2: {field}:")


def test_hash_ignores_row_order_and_whitespace_but_not_content():
    rows = ["E1,b,2025-02-01,Test,A,1,3,,B looks likelier,\n",
            "E2,a,2025-02-03,Other,B,2,0.5,c1,A looks less likely,\n"]
    base = evidence_hash(parse_evidence(HEADER + "".join(rows), PATH, SCENARIO))
    reordered = evidence_hash(parse_evidence(HEADER + "".join(reversed(rows)), PATH, SCENARIO))
    spaced = evidence_hash(parse_evidence(
        HEADER + rows[0] + "E2 , a,2025-02-03,  Other,B,2,0.5,c1,A  looks less likely ,\n",
        PATH, SCENARIO))
    changed = evidence_hash(parse_evidence(HEADER + rows[0] + rows[1].replace("0.5", "0.4"),
                                           PATH, SCENARIO))
    assert base == reordered == spaced
    assert changed != base


def test_lr_bounds_are_inclusive():
    """[scales.lr_bounds] (default 1e-4 to 1e4) holds its ends; just past either is an error."""
    for lr in ("0.0001", "10000"):
        items = parse_evidence(HEADER + f"E2,a,2025-02-01,Test,A,1,{lr},,at the bound,\n", PATH,
                               SCENARIO)
        assert items[0].lr == float(lr)
    for lr in ("0.0000999", "10000.1"):
        message = error_for(HEADER + f"E2,a,2025-02-01,Test,A,1,{lr},,past the bound,\n")
        assert message == (f"{PATH}:2: lr: expected a likelihood ratio from 0.0001 to 10000 (one "
                           "item past that pins its node near 0% or 100%; [scales.lr_bounds] "
                           f"widens the range), found '{lr}'")


# -- likelihood ratios within bounds -------------------------------------------------------------

GOOD_TOML = (DATA / "priors" / "two-node-beta.toml").read_text()
TOML = "priors/two-node-beta.toml"


@pytest.mark.parametrize("lr, ok", [("1e300", False), ("10001", False), ("10000", True),
                                    ("0.0001", True), ("0.00009", False), ("1e-300", False)])
def test_an_lr_past_the_bounds_is_a_located_error(data_root, lr, ok):
    before = data_files(data_root)
    result = run_cli(data_root, [*ADD_ITEM, "--node", "a", "--lr", lr])
    assert (result.exit_code == 0) is ok, result.output
    if not ok:
        assert result.stderr == (
            f"Error: evidence/two-node-beta.csv:3: lr: expected a likelihood ratio from 0.0001 to "
            "10000 (one item past that pins its node near 0% or 100%; [scales.lr_bounds] widens "
            f"the range), found '{lr}'\n")
        assert data_files(data_root) == before


def test_a_scenario_can_widen_the_bounds_and_they_are_checked():
    wide = GOOD_TOML.replace("[[node]]", "[scales.lr_bounds]\nhigh = 1e9\n\n[[node]]", 1)
    scenario = parse_scenario(wide, TOML)
    assert scenario.scales.lr_bounds == (1e-4, 1e9)
    items = parse_evidence(HEADER + "E1,a,2025-02-01,T,A,1,1e8,,x,\n", "e.csv", scenario)
    assert items[0].lr == 1e8
    inverted = GOOD_TOML.replace("[[node]]", "[scales.lr_bounds]\nlow = 2\n\n[[node]]", 1)
    assert [str(e) for e in scenario_problems(inverted, TOML)] == [
        f"{TOML}:scales.lr_bounds: low: expected low < 1 < high (an LR of 1 must always be allowed), "
        "found 'low = 2, high = 10000.0'"]


# -- a file separated by something else than commas ---------------------------------------------

@pytest.mark.parametrize("delimiter, name", [(";", "semicolons"), ("\t", "tabs")])
def test_a_csv_with_another_delimiter_is_diagnosed(data_root, delimiter, name):
    path = data_root / "evidence" / "two-node-beta.csv"
    path.write_text(HEADER.replace(",", delimiter) + "E1;b;2025-02-01;T;A;1;1,5;;x;\n")
    result = run_cli(data_root, ["evidence", "validate", "--scenario", "two-node-beta"])
    assert result.exit_code == 1
    assert result.stderr == (
        f"Error: evidence/two-node-beta.csv:1: header: this file is separated by {name}, expected "
        'commas: save it as "CSV UTF-8 (Comma delimited)" (or export with a comma delimiter and a '
        "point as decimal mark)\n")


def test_a_comma_file_with_a_stray_semicolon_is_not_misdiagnosed(data_root):
    path = data_root / "evidence" / "two-node-beta.csv"
    path.write_text("item_id;x\nE1\n")
    result = run_cli(data_root, ["evidence", "validate", "--scenario", "two-node-beta"])
    assert "item_id;x: expected a known column" in result.stderr
