"""`forecast evidence add / import / list / validate`: rows written exactly, every bad input one
located line with exit 1 and every file unchanged, filters, safe CSV export, no PyMC."""

from __future__ import annotations

import csv
import io
import json
import subprocess
import sys

import pytest
from conftest import data_files, evidence_rows, run_cli
from typer.testing import CliRunner

from forecast.cli import app
from forecast.io.evidence import evidence_problems, parse_evidence
from forecast.io.evidence_rows import next_item_id
from forecast.io.priors import load_scenario
from forecast.io.text import neutralise

runner = CliRunner()
SCENARIO = "two-node-beta"
HEADER = "item_id,node,date,source,reliability,credibility,lr,cluster,summary,url\n"
ADD = ["--scenario", SCENARIO, "--source", "Reuters, wire", "--reliability", "B",
       "--credibility", "2", "--summary", "Talks resume", "--date", "2025-02-03"]


snapshot_files = data_files


def invoke(root, *args):
    return runner.invoke(app, ["evidence", *args, "--root", str(root)])


def rows(root) -> list[dict]:
    text = (root / "evidence" / f"{SCENARIO}.csv").read_text()
    return list(csv.DictReader(io.StringIO(text)))


def test_add_one_item_on_two_nodes_with_one_lr_each(data_root):
    result = invoke(data_root, "add", *ADD, "--node", "b", "--lr", "2", "--node", "a",
                    "--lr", "strongly_for", "--cluster", "c-talks", "--url", "https://example.org/x")
    assert result.exit_code == 0, result.output
    assert result.stdout.startswith("Added E2 to evidence/two-node-beta.csv: 2 row(s)")
    added = rows(data_root)[1:]
    assert [(r["item_id"], r["node"], r["lr"]) for r in added] == [("E2", "b", "2"),
                                                                    ("E2", "a", "strongly_for")]
    assert {r["source"] for r in added} == {"Reuters, wire"}        # the comma survived quoting
    assert {r["cluster"] for r in added} == {"c-talks"}
    # The file still parses, and the first row is byte for byte what it was.
    assert (data_root / "evidence" / f"{SCENARIO}.csv").read_text().startswith(
        HEADER + "E1,b,2025-02-01,Test,A,1,3,,B looks three times likelier,\n")


def test_one_lr_applies_to_every_node_and_json_reports_weights(data_root):
    result = invoke(data_root, "add", *ADD, "--node", "a", "--node", "b", "--lr", "3",
                    "--item-id", "X-7", "--format", "json")
    assert result.exit_code == 0, result.output
    doc = json.loads(result.stdout)
    assert doc["item_ids"] == ["X-7"]
    assert [(r["node"], r["lr_value"], r["weight"]) for r in doc["rows"]] == [
        ("a", 3.0, 0.64), ("b", 3.0, 0.64)]       # B = 0.8, 2 = 0.8


def test_text_with_quotes_and_line_breaks_round_trips(data_root):
    summary = 'He said "no",\nthen =SUM(A1) twice'
    result = invoke(data_root, "add", *ADD[:-4], "--summary", summary, "--node", "a", "--lr", "2")
    assert result.exit_code == 0, result.output
    scenario = load_scenario(data_root / "priors" / f"{SCENARIO}.toml")
    items = parse_evidence((data_root / "evidence" / f"{SCENARIO}.csv").read_text(), "x", scenario)
    assert items[-1].summary == summary


def test_next_item_id_follows_the_widest_numbered_id():
    scenario = load_scenario(__import__("conftest").REPO / "priors" / "turkey-peacekeeping.toml")
    text = HEADER.replace("\n", "") + "\n" + "\n".join(
        f"{i},ceasefire,2025-03-01,S,A,1,2,,x," for i in ("E009", "E018", "E2", "Z99"))
    items = parse_evidence(text, "x", scenario)
    assert next_item_id(items) == "E019"
    assert next_item_id(()) == "E001"


BAD_ADDS = [
    (["--node", "zz", "--lr", "2"], "evidence/two-node-beta.csv:3: node: expected a node of two-node-beta (one of a, b), found 'zz'"),
    (["--node", "a", "--lr", "0"], "evidence/two-node-beta.csv:3: lr: expected a positive number"),
    (["--node", "a", "--lr", "-3"], "evidence/two-node-beta.csv:3: lr: expected a positive number"),
    (["--node", "a", "--lr", "huge"], "evidence/two-node-beta.csv:3: lr: expected a positive number or a scale name"),
    (["--node", "a", "--lr", "2", "--reliability", "G"], "evidence/two-node-beta.csv:3: reliability: expected a grade (one of A, B, C, D, E, F), found 'G'"),
    (["--node", "a", "--lr", "2", "--credibility", "7"], "evidence/two-node-beta.csv:3: credibility: expected a grade"),
    (["--node", "b", "--lr", "2", "--item-id", "E1"], "evidence/two-node-beta.csv:3: item_id: expected a unique (item_id, node) pair (first at line 2)"),
    (["--node", "a", "--lr", "2", "--date", "03/02/2025"], "evidence/two-node-beta.csv:3: date: expected a date YYYY-MM-DD, found '03/02/2025'"),
    (["--node", "a", "--lr", "2", "--date", "2025-02-30"], "evidence/two-node-beta.csv:3: date: expected a real calendar date"),
    (["--node", "a", "--node", "b", "--lr", "2", "--lr", "3", "--lr", "4"], "--lr: lr: expected one --lr for every node, or one per --node (2, in the same order), found 3"),
    (["--node", "a", "--lr", "2", "--url", "javascript:alert(1)"], "evidence/two-node-beta.csv:3: url: expected an http(s) URL"),
    (["--node", "a", "--lr", "2", "--item-id", "bad id"], "evidence/two-node-beta.csv:3: item_id: expected an id"),
]


@pytest.mark.parametrize("args, message", BAD_ADDS)
def test_bad_add_is_one_line_exit_1_and_nothing_changes(data_root, args, message):
    before = snapshot_files(data_root)
    options = list(ADD)
    for flag in ("--reliability", "--credibility"):
        if flag in args:                      # the bad grade replaces the good one
            at = options.index(flag)
            del options[at:at + 2]
    result = invoke(data_root, "add", *options, *args)
    assert result.exit_code == 1, result.output
    assert result.stderr.count("\n") == 1, result.stderr
    assert result.stderr.startswith("Error: " + message), result.stderr
    assert "Traceback" not in result.output
    assert snapshot_files(data_root) == before


def test_add_into_a_file_with_a_missing_column_names_the_column(data_root):
    path = data_root / "evidence" / f"{SCENARIO}.csv"
    path.write_text(HEADER.replace(",url", "") + "E1,b,2025-02-01,Test,A,1,3,,x\n")
    before = snapshot_files(data_root)
    result = invoke(data_root, "add", *ADD, "--node", "a", "--lr", "2")
    assert result.exit_code == 1
    assert result.stderr == ("Error: evidence/two-node-beta.csv:1: url: expected this column in "
                             "the header, found 'no such column'\n")
    assert snapshot_files(data_root) == before


def test_missing_required_option_is_a_usage_error(data_root):
    assert invoke(data_root, "add", "--scenario", SCENARIO, "--node", "a").exit_code == 2


# -- import ------------------------------------------------------------------------------------

GOOD_IMPORT = ("summary,item_id,node,date,source,reliability,credibility,lr,cluster,url\n"
               "First,N1,a,2025-02-05,Wire,C,3,weakly_for,c1,\n"
               "\"Second, with a comma\",N2,b,2025-02-06,Paper,B,2,0.5,c1,https://example.org/2\n")


def test_import_appends_every_row_in_the_files_column_order(data_root, tmp_path):
    source = tmp_path / "new.csv"
    source.write_text(GOOD_IMPORT)
    result = invoke(data_root, "import", str(source), "--scenario", SCENARIO)
    assert result.exit_code == 0, result.output
    assert result.stdout == "Imported N1, N2 to evidence/two-node-beta.csv: 2 row(s)\n"
    got = rows(data_root)
    assert [r["item_id"] for r in got] == ["E1", "N1", "N2"]
    assert got[2]["summary"] == "Second, with a comma" and got[2]["url"] == "https://example.org/2"


@pytest.mark.parametrize("bad_row, field", [
    ("Third,N3,zz,2025-02-07,Wire,C,3,2,,", "node"),
    ("Third,N3,a,2025-02-07,Wire,C,3,-1,,", "lr"),
    ("Third,N3,a,2025-02-07,Wire,X,3,2,,", "reliability"),
    ("Third,N3,a,2025-2-7,Wire,C,3,2,,", "date"),
    ("Third,N1,a,2025-02-07,Wire,C,3,2,,", "item_id"),       # duplicate inside the import file
    ("Third,E1,b,2025-02-07,Wire,C,3,2,,", "item_id"),       # already in the evidence file
])
def test_import_with_one_bad_row_among_good_ones_changes_nothing(data_root, tmp_path, bad_row, field):
    source = tmp_path / "new.csv"
    source.write_text(GOOD_IMPORT + bad_row + "\n")
    before = snapshot_files(data_root)
    result = invoke(data_root, "import", str(source), "--scenario", SCENARIO)
    assert result.exit_code == 1, result.output
    assert result.stderr.count("\n") == 1
    assert result.stderr.startswith(f"Error: {source}:4: {field}: "), result.stderr
    assert snapshot_files(data_root) == before


def test_import_file_missing_a_column_names_the_import_file(data_root, tmp_path):
    source = tmp_path / "new.csv"
    source.write_text("item_id,node,date\nN1,a,2025-02-01\n")
    result = invoke(data_root, "import", str(source), "--scenario", SCENARIO)
    assert result.exit_code == 1
    assert result.stderr.startswith(f"Error: {source}:1: source: expected this column")


# -- list --------------------------------------------------------------------------------------

def turkey_list(root, *args):
    result = runner.invoke(app, ["evidence", "list", "--root", str(root), *args])
    assert result.exit_code == 0, result.output
    return result


def test_list_filters_by_node_cluster_dates_and_grade(frozen_root):
    def ids(*args):
        doc = json.loads(turkey_list(frozen_root, "--format", "json", *args).stdout)
        return sorted({(r["item_id"], r["node"]) for r in doc})

    assert ids("--cluster", "c-us-push") == [("E013", "ceasefire"), ("E013", "mediation_stalemate"),
                                             ("E014", "ceasefire")]
    assert ids("--cluster", "c-us-push", "--node", "ceasefire") == [("E013", "ceasefire"),
                                                                    ("E014", "ceasefire")]
    assert ids("--cluster", "c-us-push", "--grade", "C3") == [("E014", "ceasefire")]
    assert ids("--cluster", "c-us-push", "--grade", "b") == [("E013", "ceasefire"),
                                                             ("E013", "mediation_stalemate")]
    everything = json.loads(turkey_list(frozen_root, "--format", "json").stdout)
    dates = sorted({r["date"] for r in everything})
    middle = dates[len(dates) // 2]
    since = json.loads(turkey_list(frozen_root, "--format", "json", "--since", middle).stdout)
    until = json.loads(turkey_list(frozen_root, "--format", "json", "--until", middle).stdout)
    assert all(r["date"] >= middle for r in since) and all(r["date"] <= middle for r in until)
    on_the_day = sum(r["date"] == middle for r in everything)
    assert len(since) + len(until) == len(everything) + on_the_day


@pytest.mark.parametrize("args, message", [
    (["--grade", "B9"], "Error: --grade: grade: expected a grade like B2"),
    (["--grade", "Z"], "Error: --grade: grade: expected a grade like B2"),
    (["--since", "yesterday"], "Error: --since: since: expected a date YYYY-MM-DD, found 'yesterday'"),
    (["--node", "nope"], "Error: --node: node: expected a node of turkey-peacekeeping"),
])
def test_bad_filters_are_one_line_errors(repo_root, args, message):
    result = runner.invoke(app, ["evidence", "list", "--root", str(repo_root), *args])
    assert result.exit_code == 1
    assert result.stderr.startswith(message) and result.stderr.count("\n") == 1


def test_list_table_shows_counts(frozen_root):
    out = turkey_list(frozen_root, "--cluster", "c-offer").stdout
    assert "10 evidence row(s), 2 item(s)" in out and "E001" in out and "E002" in out


@pytest.mark.parametrize("cell, safe", [
    ("=HYPERLINK(\"http://evil\")", "'=HYPERLINK(\"http://evil\")"), ("+1", "'+1"),
    ("-2+3", "'-2+3"), ("@SUM(A1)", "'@SUM(A1)"), ("\tx", "'\tx"), ("\rx", "'\rx"),
    ("plain", "plain"), ("a=b", "a=b"), ("", ""),
])
def test_neutralise_formula_prefixes(cell, safe):
    assert neutralise(cell) == safe


def test_csv_export_neutralises_formulas_and_keeps_the_columns(data_root):
    added = invoke(data_root, "add", *ADD[:-6], "--reliability", "B", "--credibility", "2",
                   "--source", "@attacker", "--summary", "=cmd|' /C calc'!A0", "--node", "a", "--lr", "2")
    assert added.exit_code == 0, added.output
    result = invoke(data_root, "list", "--scenario", SCENARIO, "--format", "csv")
    assert result.exit_code == 0
    exported = list(csv.DictReader(io.StringIO(result.stdout)))
    assert list(exported[0]) == HEADER.strip().split(",") + ["quote"]
    assert exported[1]["source"] == "'@attacker"
    assert exported[1]["summary"] == "'=cmd|' /C calc'!A0"
    assert exported[0]["summary"] == "B looks three times likelier"


def test_file_commands_never_import_pymc(repo_root, data_root, tmp_path):
    """list, add, import, edit, remove and validate only read and edit files: PyMC, PyTensor and arviz stay
    unimported (they cost seconds and are not needed)."""
    source = tmp_path / "new.csv"
    source.write_text(GOOD_IMPORT)
    commands = [
        ["evidence", "list", "--root", str(repo_root), "--format", "csv"],
        ["evidence", "validate", "--root", str(repo_root)],
        ["evidence", "add", "--root", str(data_root), *ADD, "--node", "a", "--lr", "2"],
        ["evidence", "import", str(source), "--root", str(data_root), "--scenario", SCENARIO],
        ["evidence", "edit", "N1", "--lr", "3", "--root", str(data_root), "--scenario", SCENARIO],
        ["evidence", "remove", "N1", "--root", str(data_root), "--scenario", SCENARIO],
    ]
    script = (
        "import sys\n"
        "from forecast.cli import app\n"
        "try:\n"
        "    app(args=sys.argv[1:], prog_name='forecast')\n"
        "except SystemExit as e:\n"
        "    assert not e.code, e.code\n"
        "print('MODULES', sorted(m.split('.')[0] for m in sys.modules))\n"
    )
    for command in commands:
        done = subprocess.run([sys.executable, "-c", script, *command], capture_output=True,
                              text=True, timeout=120)
        assert done.returncode == 0, (command, done.stderr)
        modules = done.stdout.rsplit("MODULES", 1)[1]
        for heavy in ("pymc", "pytensor", "arviz"):
            assert f"'{heavy}'" not in modules, (command, heavy)


# -- validate ----------------------------------------------------------------------------------

def test_validate_lists_every_problem_with_its_line(data_root):
    evidence = data_root / "evidence" / f"{SCENARIO}.csv"
    evidence.write_text(
        HEADER
        + "E1,b,2025-02-01,Test,A,1,3,,fine,\n"
        + "E2,zz,2025-02-01,T,A,1,3,,unknown node,\n"
        + "E3,b,2025-02-01,T,A,1,-2,,negative lr,\n"
        + 'E4,b,2025-02-01,T,A,1,3,,"two\nlines",\n'
        + "E5,b,2025-02-31,T,A,1,3,,bad date,\n"
        + "E1,b,2025-02-01,T,A,1,3,,duplicate,\n"
        + "E6,b,2025-02-01,T,A,1,3,,too few fields\n"
        + "E7,a,2025-02-01,T,Q,1,3,,bad grade,\n")
    (data_root / "evidence" / f"{SCENARIO}.resolutions.csv").write_text(
        "node,outcome,date,source\na,maybe,2025-03-01,x\nq,yes,2025-03-01,x\n")
    before = snapshot_files(data_root)
    result = invoke(data_root, "validate", "--scenario", SCENARIO)
    assert result.exit_code == 1
    lines = result.stderr.splitlines()
    assert [line.split(": ")[1] + ": " + line.split(": ")[2] for line in lines] == [
        "evidence/two-node-beta.csv:3: node",
        "evidence/two-node-beta.csv:4: lr",
        "evidence/two-node-beta.csv:7: date",        # the quoted record on lines 5-6 is fine
        "evidence/two-node-beta.csv:8: item_id",
        "evidence/two-node-beta.csv:9: row",
        "evidence/two-node-beta.csv:10: reliability",
        "evidence/two-node-beta.resolutions.csv:2: outcome",
        "evidence/two-node-beta.resolutions.csv:3: node",
    ]
    assert snapshot_files(data_root) == before
    doc = json.loads(invoke(data_root, "validate", "--scenario", SCENARIO, "--format", "json").stdout)
    assert doc["ok"] is False and len(doc["problems"]) == 8


def test_validate_a_clean_scenario_says_what_it_checked(frozen_root):
    result = runner.invoke(app, ["evidence", "validate", "--root", str(frozen_root)])
    assert result.exit_code == 0, result.output
    assert result.stdout == ("OK: priors/turkey-peacekeeping.toml (6 nodes); "
                             "evidence/turkey-peacekeeping.csv (42 rows, 20 items)\n")


def test_validate_with_broken_priors_reports_them_and_skips_the_rest(data_root):
    (data_root / "priors" / f"{SCENARIO}.toml").write_text("[scenario\n")
    result = invoke(data_root, "validate", "--scenario", SCENARIO)
    assert result.exit_code == 1
    assert result.stderr.splitlines()[0].startswith("Error: priors/two-node-beta.toml:1: toml:")


def test_listing_every_problem_finds_the_same_first_error_as_the_parser():
    scenario = load_scenario(__import__("conftest").DATA / "priors" / f"{SCENARIO}.toml")
    text = HEADER + "E1,b,2025-02-01,T,A,1,3,,x,\nE2,b,2025-02-01,T,A,1,0,,x,\n"
    with pytest.raises(Exception) as caught:
        parse_evidence(text, "f.csv", scenario)
    found = evidence_problems(text, "f.csv", scenario)
    assert [str(e) for e in found] == [str(caught.value)]
    assert evidence_problems(HEADER, "f.csv", scenario) == []


def test_every_evidence_command_and_update_have_help_with_an_example():
    for args in (["evidence"], ["evidence", "add"], ["evidence", "import"], ["evidence", "list"],
                 ["evidence", "validate"], ["update"]):
        result = runner.invoke(app, [*args, "--help"])
        assert result.exit_code == 0, args
        assert "Example:" in result.stdout, args


# -- import numbers rows without an id as add does -------------------------------------------

def test_import_assigns_ids_to_blank_item_ids_like_add(data_root, tmp_path):
    source = tmp_path / "new.csv"
    source.write_text(HEADER
                      + ",a,2025-02-05,Wire,C,3,2,,Both nodes,\n"
                      + ",b,2025-02-05,Wire,C,3,0.5,,Both nodes,\n"
                      + "E7,a,2025-02-06,Paper,B,2,3,,Numbered,\n"
                      + ",a,2025-02-07,Radio,B,2,3,,Another item,\n")
    result = run_cli(data_root, ["evidence", "import", str(source), "--scenario", SCENARIO])
    assert result.exit_code == 0, result.output
    assert result.stdout == f"Imported E7, E8, E9 to evidence/{SCENARIO}.csv: 4 row(s)\n"
    assert [(r["item_id"], r["node"]) for r in evidence_rows(data_root)] == [
        ("E1", "b"), ("E8", "a"), ("E8", "b"), ("E7", "a"), ("E9", "a")]


def test_a_bad_row_in_an_import_with_blank_ids_names_the_import_line(data_root, tmp_path):
    source = tmp_path / "new.csv"
    source.write_text(HEADER + ",a,2025-02-05,Wire,C,3,2,,x,\n,zz,2025-02-05,Wire,C,3,2,,y,\n")
    before = data_files(data_root)
    result = run_cli(data_root, ["evidence", "import", str(source), "--scenario", SCENARIO])
    assert result.exit_code == 1
    assert result.stderr.startswith(f"Error: {source}:3: node: ")
    assert data_files(data_root) == before
