"""`forecast evidence remove` and `edit`: an item's rows retracted or corrected under the file's
lock, every other byte kept, checked like add, their JSON as docs/json.md shows it, and the next
update naming what was removed and what was changed."""

from __future__ import annotations

import json

import pytest
from conftest import ADD_ITEM, EVIDENCE_HEADER, data_files, evidence_rows, run_cli

SCENARIO = "two-node-beta"
BOM = b"\xef\xbb\xbf"

TWO_ROWS = ["--node", "a", "--node", "b", "--lr", "2", "--lr", "3"]


def test_remove_deletes_an_items_rows_and_keeps_every_other_byte(data_root):
    path = data_root / "evidence" / f"{SCENARIO}.csv"
    path.write_bytes(BOM + (EVIDENCE_HEADER + "E1,b,2025-02-01,Test,A,1,3,,\"x, y\",\n").replace(
        "\n", "\r\n").encode())
    assert run_cli(data_root, [*ADD_ITEM, *TWO_ROWS]).exit_code == 0
    assert run_cli(data_root, [*ADD_ITEM, "--node", "a", "--lr", "4"]).exit_code == 0
    before = path.read_bytes()
    result = run_cli(data_root, ["evidence", "remove", "E2", "--scenario", SCENARIO])
    assert result.exit_code == 0, result.output
    assert result.stdout == (f"Removed E2 from evidence/{SCENARIO}.csv: 2 row(s): a, b. "
                             "`forecast update` will say what this moved.\n")
    lines = before.split(b"\r\n")
    assert path.read_bytes() == b"\r\n".join(lines[:2] + lines[4:])
    result = run_cli(data_root, ["evidence", "remove", "E3", "--node", "a", "--scenario", SCENARIO,
                             "--format", "json"])
    assert json.loads(result.stdout) == {"path": f"evidence/{SCENARIO}.csv", "item_id": "E3",
                                         "nodes": ["a"], "rows": []}
    assert [r["item_id"] for r in evidence_rows(data_root)] == ["E1"]


def test_remove_can_retract_a_bad_row_and_refuses_unknown_items(data_root):
    path = data_root / "evidence" / f"{SCENARIO}.csv"
    path.write_text(EVIDENCE_HEADER + "E1,b,2025-02-01,Test,A,1,3,,x,\nE2,zz,2025-02-01,T,A,1,3,,bad,\n")
    assert run_cli(data_root, ["evidence", "validate", "--scenario", SCENARIO]).exit_code == 1
    assert run_cli(data_root, ["evidence", "remove", "E2", "--scenario", SCENARIO]).exit_code == 0
    assert run_cli(data_root, ["evidence", "validate", "--scenario", SCENARIO]).exit_code == 0
    before = data_files(data_root)
    for args, message in ((["E9"], f"evidence/{SCENARIO}.csv: item_id: expected the id of an item "
                                   "in the file, found 'E9'"),
                          (["E1", "--node", "a"], "--node: node: expected a node E1 bears on (one "
                                                  "of b), found 'a'")):
        result = run_cli(data_root, ["evidence", "remove", *args, "--scenario", SCENARIO])
        assert (result.exit_code, result.stderr) == (1, f"Error: {message}\n")
    assert data_files(data_root) == before


def test_edit_changes_only_the_given_fields_and_is_checked_like_add(data_root):
    assert run_cli(data_root, [*ADD_ITEM, *TWO_ROWS]).exit_code == 0
    result = run_cli(data_root, ["evidence", "edit", "E2", "--node", "b", "--lr", "moderately_for",
                             "--quote", 'He said "so"', "--scenario", SCENARIO])
    assert result.exit_code == 0, result.output
    assert result.stdout == (f"Changed E2 in evidence/{SCENARIO}.csv: 1 row(s): b (LR "
                             "moderately_for, w 0.64). `forecast update` will say what this moved.\n")
    assert run_cli(data_root, ["evidence", "edit", "E2", "--credibility", "3", "--scenario",
                           SCENARIO]).exit_code == 0
    got = {(r["item_id"], r["node"]): r for r in evidence_rows(data_root)}
    assert (got["E2", "a"]["lr"], got["E2", "a"]["credibility"], got["E2", "a"]["quote"]) == ("2", "3", "")
    assert (got["E2", "b"]["lr"], got["E2", "b"]["credibility"], got["E2", "b"]["quote"]) == (
        "moderately_for", "3", 'He said "so"')
    assert got["E2", "b"]["summary"] == "Talks resume" and got["E1", "b"]["lr"] == "3"
    assert run_cli(data_root, ["evidence", "edit", "E2", "--cluster", "c1", "--scenario",
                           SCENARIO]).exit_code == 0
    assert {r["cluster"] for r in evidence_rows(data_root) if r["item_id"] == "E2"} == {"c1"}
    before = data_files(data_root)
    for args, message in (
            (["--lr", "-1"], f"evidence/{SCENARIO}.csv:3: lr: expected a positive number"),
            (["--reliability", "Q"], f"evidence/{SCENARIO}.csv:3: reliability: expected a grade"),
            (["--lr", "2", "--lr", "3", "--lr", "4"], "--lr: lr: expected one --lr for every row, "
                                                      "or one per --node (2: a, b), found 3"),
            ([], "evidence edit: expected at least one field to change")):
        result = run_cli(data_root, ["evidence", "edit", "E2", *args, "--scenario", SCENARIO])
        assert result.exit_code == 1 and result.stderr.startswith(f"Error: {message}"), result.stderr
        assert result.stderr.count("\n") == 1
    assert data_files(data_root) == before


def test_edit_and_remove_json_match_docs_json(data_root):
    from test_render import check_like, documented_examples

    example = documented_examples()["evidence"]
    assert run_cli(data_root, [*ADD_ITEM, "--node", "a", "--lr", "2"]).exit_code == 0
    edited = run_cli(data_root, ["evidence", "edit", "E2", "--lr", "3", "--scenario", SCENARIO,
                             "--format", "json"])
    doc = json.loads(edited.stdout)
    check_like(example, doc)
    assert doc["rows"][0]["lr_value"] == 3.0 and doc["nodes"] == ["a"]
    removed = json.loads(run_cli(data_root, ["evidence", "remove", "E2", "--scenario", SCENARIO,
                                         "--format", "json"]).stdout)
    check_like({**example, "rows": []}, removed)
    assert removed["rows"] == []


@pytest.mark.slow
def test_update_names_what_was_removed_and_what_was_changed(data_root):
    fast = ["--draws", "300", "--tune", "300", "--chains", "2", "--no-progress", "--scenario",
            SCENARIO]
    assert run_cli(data_root, [*ADD_ITEM, "--node", "a", "--lr", "3"]).exit_code == 0
    assert run_cli(data_root, ["update", *fast]).exit_code == 0
    assert run_cli(data_root, ["evidence", "remove", "E1", "--scenario", SCENARIO]).exit_code == 0
    assert run_cli(data_root, ["evidence", "edit", "E2", "--lr", "0.5", "--scenario", SCENARIO]).exit_code == 0
    result = run_cli(data_root, ["update", *fast])
    assert result.exit_code == 0, result.output
    assert "Items added none; removed E1; changed E2." in result.stdout
    assert "E1 removed" in result.stdout and "E2 changed" in result.stdout
    doc = json.loads(run_cli(data_root, ["update", *fast, "--format", "json"]).stdout)
    assert doc["appended"] is False
