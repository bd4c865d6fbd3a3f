"""Bad input through the real CLI: each malformed scenario TOML, evidence CSV, resolutions CSV
or option gives exactly one line on stderr naming the file, the row (CSV line or TOML key) and
the field; exit 1; no traceback; and every file under the root stays byte-for-byte as it was.

The commands chosen fail before any sampling (`report` fails while loading its inputs), so the
whole suite runs in seconds. A UTF-8 byte-order mark, as Excel writes it, is accepted."""

from __future__ import annotations

import json
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from conftest import DATA, snapshot_files
from typer.testing import CliRunner

from forecast.cli import app

runner = CliRunner()

SCENARIO = "two-node-beta"
TOML = f"priors/{SCENARIO}.toml"
CSV = f"evidence/{SCENARIO}.csv"
RES = f"evidence/{SCENARIO}.resolutions.csv"
HEADER = "item_id,node,date,source,reliability,credibility,lr,cluster,summary,url\n"
ROW = "E1,b,2025-02-01,Test,A,1,3,,B looks three times likelier,\n"
GOOD_TOML = (DATA / TOML).read_text()
RES_HEADER = "node,outcome,date,source\n"
ADD = ["evidence", "add", "--node", "b", "--source", "Wire", "--reliability", "B", "--credibility",
       "2", "--summary", "Talks resume", "--date", "2025-02-02"]


def replaced(old: str, new: str):
    def change(text: str) -> str:
        assert old in text, old
        return text.replace(old, new, 1)
    return change


def evidence_row(row: str):
    return lambda _text: HEADER + ROW + row


def resolution_rows(rows: str):
    return lambda _text: RES_HEADER + rows


@dataclass(frozen=True)
class Case:
    name: str
    where: str                        # "<file or option>:<row or key>: <field>:" as the line must say
    files: dict = field(default_factory=dict)     # path -> text change, or the new str/bytes
    args: tuple = ("report",)


CASES = [
    # -- scenario TOML ---------------------------------------------------------------------
    Case("toml cycle", f"{TOML}:node[b]: parents: expected an acyclic graph, found a cycle a <- b <- a",
         {TOML: replaced("parents = []", 'parents = ["b"]')}),
    Case("toml self-parent", f"{TOML}:node[b]: parents: expected other nodes",
         {TOML: replaced('parents = ["a"]', 'parents = ["b"]')}),
    Case("toml unknown parent", f"{TOML}:node[b]: parents: expected a node id",
         {TOML: replaced('parents = ["a"]', 'parents = ["zz"]')}),
    Case("toml parent differs in case", f"{TOML}:node[b]: parents: expected a node id",
         {TOML: replaced('parents = ["a"]', 'parents = ["A"]')}),
    Case("toml node id differs only in case", f"{TOML}:node[A]: id: expected node ids that differ",
         {TOML: replaced('id = "b"', 'id = "A"')}),
    Case("toml missing CPT row", f"{TOML}:node[b]: prior: expected 2 CPT rows",
         {TOML: lambda t: t[: t.rindex("  [[node.prior]]")]}),
    Case("toml extra CPT row", f"{TOML}:node[b].prior[2]: when: expected each parent configuration once",
         {TOML: lambda t: t + '  [[node.prior]]\n  when = { a = true }\n  beta = [1.0, 1.0]\n'
          '  rationale = "again"\n  reference_class = "x"\n'}),
    Case("toml when on a root", f"{TOML}:node[a].prior[0]: when: expected no `when`",
         {TOML: replaced("  beta = [2.0, 2.0]", "  when = { b = true }\n  beta = [2.0, 2.0]")}),
    Case("toml p = 0", f"{TOML}:node[b].prior[1]: p: expected a probability strictly between 0 and 1",
         {TOML: replaced("p = 0.25", "p = 0")}),
    Case("toml p = 1", f"{TOML}:node[b].prior[1]: p: expected a probability strictly between 0 and 1",
         {TOML: replaced("p = 0.25", "p = 1.0")}),
    Case("toml p negative", f"{TOML}:node[b].prior[1]: p: expected a probability",
         {TOML: replaced("p = 0.25", "p = -0.25")}),
    Case("toml p nan", f"{TOML}:node[b].prior[1]: p: expected a probability",
         {TOML: replaced("p = 0.25", "p = nan")}),
    Case("toml beta zero", f"{TOML}:node[a].prior[0]: beta: expected [a, b] with a > 0 and b > 0",
         {TOML: replaced("beta = [2.0, 2.0]", "beta = [0.0, 2.0]")}),
    Case("toml beta negative", f"{TOML}:node[b].prior[0]: beta: expected [a, b] with a > 0",
         {TOML: replaced("beta = [3.0, 1.0]", "beta = [3.0, -1.0]")}),
    Case("toml strength zero", f"{TOML}:node[b].prior[1]: strength: expected a positive strength",
         {TOML: replaced("strength = 4", "strength = 0")}),
    Case("toml integer too large for a float", f"{TOML}:node[b].prior[1]: strength: expected a positive",
         {TOML: replaced("strength = 4", "strength = 1" + "0" * 400)}),
    Case("toml unknown estimative term", f"{TOML}:node[b].prior[1]: term: expected an estimative term",
         {TOML: replaced("  p = 0.25\n  strength = 4", '  term = "maybe"\n  confidence = "low"')}),
    Case("toml unknown confidence", f"{TOML}:node[b].prior[1]: confidence: expected a confidence",
         {TOML: replaced("  p = 0.25\n  strength = 4", '  term = "likely"\n  confidence = "total"')}),
    Case("toml unknown scale table", f"{TOML}:scales: likelihoods: expected a known key",
         {TOML: replaced("[[node]]", "[scales.likelihoods]\nhuge = 50.0\n\n[[node]]")}),
    Case("toml negative LR on the scale", f"{TOML}:scales.likelihood_ratio: huge: expected a positive",
         {TOML: replaced("[[node]]", "[scales.likelihood_ratio]\nhuge = -50.0\n\n[[node]]")}),
    Case("toml unknown key", f"{TOML}:node[b].prior[0]: colour: expected a known key",
         {TOML: replaced("beta = [3.0, 1.0]", 'beta = [3.0, 1.0]\n  colour = "red"')}),
    Case("toml duplicate key", f"{TOML}:5: toml: invalid TOML",
         {TOML: replaced('title = "Two nodes, Beta priors"', 'title = "x"\ntitle = "y"')}),
    Case("toml deadline before opens", f"{TOML}:node[a]: deadline: expected a date after opens",
         {TOML: replaced("deadline = 2026-01-01\nparents = []", "deadline = 2024-01-01\nparents = []")}),
    Case("toml date as a string", f"{TOML}:scenario: as_of: expected a TOML date",
         {TOML: replaced("as_of = 2025-01-01", 'as_of = "2025-01-01"')}),
    Case("toml id not the file name", f"{TOML}:scenario: id: expected the file name",
         {TOML: replaced(f'id = "{SCENARIO}"', 'id = "other"')}),
    Case("toml very long question", f"{TOML}:node[a]: question: expected at most 5000 characters",
         {TOML: replaced('question = "A?"', 'question = "' + "x" * 6000 + '"')}),
    Case("toml control character", f"{TOML}:node[a]: question: expected text without control",
         {TOML: replaced('question = "A?"', 'question = "A?\\u001b[2J"')}),
    Case("toml nested too deeply", f"{TOML}: toml: invalid TOML: arrays or tables nested too deeply",
         {TOML: "x = " + "[" * 5000 + "]" * 5000 + "\n"}),
    Case("toml empty file", f"{TOML}:scenario: scenario: expected a [scenario] table", {TOML: ""}),
    Case("toml UTF-16", f"{TOML}:1: encoding: expected UTF-8 text",
         {TOML: GOOD_TOML.encode("utf-16")}),
    Case("toml invalid UTF-8 byte", f"{TOML}:11: encoding: expected UTF-8 text, found 'byte 0xff'",
         {TOML: GOOD_TOML.replace('"A?"', '"A\udcff?"').encode("utf-8", "surrogateescape")}),
    # -- evidence CSV ----------------------------------------------------------------------
    Case("csv LR zero", f"{CSV}:3: lr: expected a positive number",
         {CSV: evidence_row("E2,b,2025-02-01,T,A,1,0,,s,\n")}),
    Case("csv LR negative", f"{CSV}:3: lr: expected a positive number",
         {CSV: evidence_row("E2,b,2025-02-01,T,A,1,-3,,s,\n")}),
    Case("csv LR nan", f"{CSV}:3: lr: expected a positive number",
         {CSV: evidence_row("E2,b,2025-02-01,T,A,1,nan,,s,\n")}),
    Case("csv LR with digit separators", f"{CSV}:3: lr: expected a positive number",
         {CSV: evidence_row("E2,b,2025-02-01,T,A,1,1_000,,s,\n")}),
    Case("csv unknown LR scale name", f"{CSV}:3: lr: expected a positive number or a scale name",
         {CSV: evidence_row("E2,b,2025-02-01,T,A,1,enormous,,s,\n")}),
    Case("csv bad reliability", f"{CSV}:3: reliability: expected a grade",
         {CSV: evidence_row("E2,b,2025-02-01,T,G,1,3,,s,\n")}),
    Case("csv bad credibility", f"{CSV}:3: credibility: expected a grade",
         {CSV: evidence_row("E2,b,2025-02-01,T,A,7,3,,s,\n")}),
    Case("csv duplicate (item_id, node)", f"{CSV}:3: item_id: expected a unique (item_id, node) pair",
         {CSV: evidence_row("E1,b,2025-02-02,T,A,1,3,,s,\n")}),
    Case("csv node differs only in case", f"{CSV}:3: node: expected a node of two-node-beta",
         {CSV: evidence_row("E2,B,2025-02-01,T,A,1,3,,s,\n")}),
    Case("csv malformed date", f"{CSV}:3: date: expected a date YYYY-MM-DD",
         {CSV: evidence_row("E2,b,01/02/2025,T,A,1,3,,s,\n")}),
    Case("csv impossible date", f"{CSV}:3: date: expected a real calendar date",
         {CSV: evidence_row("E2,b,2025-02-30,T,A,1,3,,s,\n")}),
    Case("csv javascript URL", f"{CSV}:3: url: expected an http(s) URL",
         {CSV: evidence_row("E2,b,2025-02-01,T,A,1,3,,s,javascript:alert(1)\n")}),
    Case("csv too few fields", f"{CSV}:3: row: expected 10 fields",
         {CSV: evidence_row("E2,b,2025-02-01,T,A,1,3,,s\n")}),
    Case("csv unterminated quote", f"{CSV}:3: row: malformed CSV",
         {CSV: evidence_row('E2,b,2025-02-01,"T,A,1,3,,s,\n')}),
    Case("csv very long field", f"{CSV}:3: summary: expected at most 5000 characters",
         {CSV: evidence_row("E2,b,2025-02-01,T,A,1,3,," + "s" * 6000 + ",\n")}),
    Case("csv field past the CSV limit", f"{CSV}:3: row: malformed CSV",
         {CSV: evidence_row("E2,b,2025-02-01,T,A,1,3,," + "s" * 200_000 + ",\n")}),
    Case("csv NUL byte", f"{CSV}:3: encoding: expected text",
         {CSV: evidence_row("E2,b,2025-02-01,T,A,1,3,,s\x00,\n")}),
    Case("csv escape character", f"{CSV}:3: summary: expected text without control characters",
         {CSV: evidence_row("E2,b,2025-02-01,T,A,1,3,,s\x1b[2J,\n")}),
    Case("csv missing column", f"{CSV}:1: url: expected this column in the header",
         {CSV: HEADER.replace(",url", "") + ROW.replace("likelier,", "likelier")}),
    Case("csv extra column", f"{CSV}:1: colour: expected a known column",
         {CSV: HEADER.replace("url", "url,colour") + ROW.replace("likelier,", "likelier,,red")}),
    Case("csv repeated column", f"{CSV}:1: url: expected each column once",
         {CSV: HEADER.replace("url", "url,url") + ROW.replace("likelier,", "likelier,,")}),
    Case("csv empty file", f"{CSV}:1: header: expected a header row", {CSV: ""}),
    Case("csv only a byte-order mark", f"{CSV}:1: header: expected a header row", {CSV: b"\xef\xbb\xbf"}),
    Case("csv UTF-16 from a spreadsheet", f"{CSV}:1: encoding: expected UTF-8 text",
         {CSV: (HEADER + ROW).encode("utf-16")}),
    Case("csv invalid UTF-8 byte", f"{CSV}:2: encoding: expected UTF-8 text, found 'byte 0xe9'",
         {CSV: (HEADER + ROW.replace("Test", "T\xe9st")).encode("latin-1")}),
    # -- resolutions CSV ---------------------------------------------------------------------
    Case("resolution outcome maybe", f"{RES}:2: outcome: expected yes or no",
         {RES: resolution_rows("a,maybe,2025-03-01,Ref\n")}),
    Case("resolution twice", f"{RES}:3: node: expected one resolution per node",
         {RES: resolution_rows("a,yes,2025-03-01,Ref\na,no,2025-03-02,Ref\n")}),
    Case("resolution before the node opens", f"{RES}:2: date: expected a date on or after the node opens",
         {RES: resolution_rows("a,yes,2024-12-31,Ref\n")}),
    Case("resolution of an unknown node", f"{RES}:2: node: expected a node of two-node-beta",
         {RES: resolution_rows("zz,yes,2025-03-01,Ref\n")}),
    Case("resolution empty file", f"{RES}:1: header: expected a header row", {RES: ""}),
    Case("resolution UTF-16", f"{RES}:1: encoding: expected UTF-8 text",
         {RES: (RES_HEADER + "a,yes,2025-03-01,Ref\n").encode("utf-16")}),
    # -- command-line values -------------------------------------------------------------------
    Case("resolve outcome", f"{RES}:2: outcome: expected yes or no",
         args=("resolve", "a", "maybe", "--source", "Ref", "--date", "2025-03-01")),
    Case("resolve unknown node", f"{RES}:2: node: expected a node of two-node-beta",
         args=("resolve", "zz", "yes", "--source", "Ref", "--date", "2025-03-01")),
    Case("resolve impossible date", f"{RES}:2: date: expected a real calendar date",
         args=("resolve", "a", "yes", "--source", "Ref", "--date", "2025-13-01")),
    Case("resolve empty source", f"{RES}:2: source: expected a value",
         args=("resolve", "a", "yes", "--source", " ", "--date", "2025-03-01")),
    Case("resolve twice", f"{RES}:3: node: expected one resolution per node",
         {RES: resolution_rows("a,yes,2025-03-01,Ref\n")},
         args=("resolve", "a", "no", "--source", "Ref", "--date", "2025-03-02")),
    Case("add negative LR", f"{CSV}:3: lr: expected a positive number", args=(*ADD, "--lr", "-1")),
    Case("add unknown node", f"{CSV}:4: node: expected a node of two-node-beta",
         args=(*ADD, "--lr", "2", "--node", "zz")),
    Case("add dd/mm/yyyy date", f"{CSV}:3: date: expected a date YYYY-MM-DD",
         args=(*ADD[:-2], "--date", "02/02/2025", "--lr", "2")),
    Case("add two LRs for one node", "--lr: lr: expected one --lr for every node",
         args=(*ADD, "--lr", "2", "--lr", "3")),
    Case("add an id already used", f"{CSV}:3: item_id: expected a unique (item_id, node) pair",
         args=(*ADD, "--lr", "2", "--item-id", "E1")),
    Case("add a NUL in the summary", f"{CSV}:3: summary: expected text without control characters",
         args=(*ADD[:-4], "--summary", "x\x00y", "--date", "2025-02-02", "--lr", "2")),
    Case("add a very long source", f"{CSV}:3: source: expected at most 5000 characters",
         args=(*ADD[:-10], "--source", "w" * 5001, *ADD[-8:], "--lr", "2")),
    Case("add with unreadable priors", f"{TOML}:node[b]: parents: expected other nodes",
         {TOML: replaced('parents = ["a"]', 'parents = ["b"]')}, args=(*ADD, "--lr", "2")),
    Case("add to a UTF-16 evidence file", f"{CSV}:1: encoding: expected UTF-8 text",
         {CSV: (HEADER + ROW).encode("utf-16")}, args=(*ADD, "--lr", "2")),
    Case("import a file with a zero LR", "import.csv:2: lr: expected a positive number",
         {"import.csv": HEADER + "E7,a,2025-02-01,T,A,1,0,,s,\n"},
         args=("evidence", "import", "{root}/import.csv")),
    Case("list --since impossible", "--since: since: expected a real calendar date",
         args=("evidence", "list", "--since", "2025-99-01")),
    Case("list --grade unknown", "--grade: grade: expected a grade like B2", args=("evidence", "list",
                                                                                 "--grade", "Z9")),
    Case("validate a bad evidence row", f"{CSV}:3: lr: expected a positive number",
         {CSV: evidence_row("E2,b,2025-02-01,T,A,1,-3,,s,\n")}, args=("evidence", "validate")),
    Case("scenario id with a path", "--scenario: scenario: expected a scenario id",
         args=("evidence", "list", "--scenario", "../priors/two-node-beta")),
]


def apply(root: Path, files: dict) -> None:
    for rel, change in files.items():
        path = root / rel
        if callable(change):
            change = change(path.read_text(encoding="utf-8") if path.exists() else "")
        if isinstance(change, str):
            path.write_bytes(change.encode("utf-8"))
        else:
            path.write_bytes(change)


def without_locks(files: dict[Path, bytes]) -> dict[Path, bytes]:
    """filelock leaves an empty `.<name>.lock` beside a file it guarded; that is not a change."""
    return {p: data for p, data in files.items() if not (p.name.endswith(".lock") and data == b"")}


def run(root: Path, args) -> object:
    args = [a.replace("{root}", str(root)) for a in args]
    if "--scenario" not in args:
        args += ["--scenario", SCENARIO]
    return runner.invoke(app, [*args, "--root", str(root)])


def test_the_suite_has_at_least_25_distinct_inputs():
    assert len({case.name for case in CASES}) == len(CASES) >= 25


@pytest.mark.parametrize("case", CASES, ids=[case.name for case in CASES])
def test_bad_input_is_one_located_line_exit_1_nothing_written(data_root, case):
    apply(data_root, case.files)
    before = snapshot_files(data_root)
    result = run(data_root, case.args)
    assert result.exit_code == 1, (result.stdout, result.stderr)
    assert result.exception is None or isinstance(result.exception, SystemExit), repr(result.exception)
    lines = result.stderr.splitlines()
    assert len(lines) == 1, result.stderr
    line = lines[0]
    assert line.startswith("Error: ") and "Traceback" not in line
    assert case.where in line, line
    assert result.stdout == ""
    assert without_locks(snapshot_files(data_root)) == before


@pytest.mark.parametrize("name", ["toml nested too deeply", "csv UTF-16 from a spreadsheet",
                                  "resolve outcome"])
def test_a_real_process_prints_one_line_and_no_traceback(data_root, name):
    case = next(c for c in CASES if c.name == name)
    apply(data_root, case.files)
    before = snapshot_files(data_root)
    args = [*case.args, "--scenario", SCENARIO, "--root", str(data_root)]
    done = subprocess.run([sys.executable, "-m", "forecast", *args], capture_output=True, text=True,
                          timeout=120)
    assert done.returncode == 1
    assert done.stderr.count("\n") == 1 and done.stderr.startswith("Error: "), done.stderr
    assert case.where in done.stderr
    assert without_locks(snapshot_files(data_root)) == before


BOM = b"\xef\xbb\xbf"


@pytest.mark.parametrize("newline", ["\n", "\r\n"])
def test_a_utf8_byte_order_mark_from_excel_is_accepted(data_root, newline):
    """Excel's "CSV UTF-8" starts with a BOM: the files read as if it were not there, and an
    added row keeps the analyst's BOM and line endings."""
    csv_path, res_path, toml_path = (data_root / rel for rel in (CSV, RES, TOML))
    csv_path.write_bytes(BOM + (HEADER + ROW).replace("\n", newline).encode())
    res_path.write_bytes(BOM + (RES_HEADER + "a,yes,2025-03-01,Ref\n").replace("\n", newline).encode())
    toml_path.write_bytes(BOM + GOOD_TOML.encode())
    checked = run(data_root, ["evidence", "validate"])
    assert checked.exit_code == 0, checked.stderr
    assert "evidence/two-node-beta.csv (1 rows, 1 items)" in checked.stdout
    listed = run(data_root, ["evidence", "list", "--format", "json"])
    assert [row["item_id"] for row in json.loads(listed.stdout)] == ["E1"]
    added = run(data_root, [*ADD, "--lr", "2"])
    assert added.exit_code == 0, added.stderr
    data = csv_path.read_bytes()
    assert data.startswith(BOM + b"item_id,") and data.count(BOM) == 1
    assert data.endswith(f"E2,b,2025-02-02,Wire,B,2,2,,Talks resume,{newline}".encode())
    resolved = run(data_root, ["resolve", "b", "no", "--source", "Ref", "--date", "2025-03-02"])
    assert resolved.exit_code == 0, resolved.stderr
    data = res_path.read_bytes()
    assert data.startswith(BOM + b"node,") and data.count(BOM) == 1
    assert data.endswith(f"b,no,2025-03-02,Ref{newline}".encode())
    assert run(data_root, ["evidence", "validate"]).exit_code == 0


@pytest.mark.parametrize("args, option", [
    (("report", "--chains", "1"), "--chains"),
    (("update", "--chains", "1"), "--chains"),
    (("whatif", "--given", "a=yes", "--chains", "1"), "--chains"),
    (("check", "--chains", "1"), "--chains"),
    (("report", "--seed", "-1"), "--seed"),
    (("report", "--draws", "0"), "--draws"),
    (("report", "--format", "pdf"), "--format"),
    (("evidence", "list", "--format", "xlsx"), "--format"),
])
def test_a_bad_option_is_a_usage_error_exit_2_nothing_written(data_root, args, option):
    before = snapshot_files(data_root)
    result = run(data_root, args)
    assert result.exit_code == 2, (result.stdout, result.stderr)
    assert option in result.stderr and "Traceback" not in result.stderr
    assert snapshot_files(data_root) == before
