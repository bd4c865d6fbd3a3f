"""Evidence text is untrusted (it comes from the open web): script tags and HTML entities in
summaries, sources and clusters are shown as text in every HTML the tool writes, formula
prefixes are neutralised in the CSV export, the JSON keeps the text exactly, and no module of
the package can run input as code (no pickle, eval, exec, yaml.load, np.load with pickles)."""

from __future__ import annotations

import ast
import csv
import io
import json
import re
from pathlib import Path

import pytest
from conftest import DATA, copy_root
from typer.testing import CliRunner

from forecast.cli import app
from forecast.render.check import render_check_html
from forecast.render.score import render_score_html

runner = CliRunner()
PACKAGE = Path(__file__).resolve().parents[1] / "forecast"
SCENARIO = "two-node-beta"

SCRIPT = "<script>alert('pwned')</script><img src=x onerror=alert(1)>"
ENTITIES = 'Tom &amp; Jerry &lt;b&gt; &#60;i&#62; "quoted" \'single\''
FORMULAS = ["=cmd|' /C calc'!A0", "+SUM(A1:A9)", "-2+3+cmd|' /C calc'!A0", "@SUM(1,1)",
            "\t=1+1", "\r=HYPERLINK(\"http://x\")"]
FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")
HEADER = "item_id,node,date,source,reliability,credibility,lr,cluster,summary,url\n"


def hostile_rows() -> str:
    rows = [["E2", "a", "2025-02-02", SCRIPT, "B", "2", "2", ENTITIES, SCRIPT, ""],
            ["E3", "b", "2025-02-03", ENTITIES, "A", "1", "0.5", "", ENTITIES, ""]]
    rows += [[f"F{k}", "a", "2025-02-04", formula, "C", "3", "1.5", formula, formula, ""]
             for k, formula in enumerate(FORMULAS)]
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\n").writerows(rows)
    return buffer.getvalue()


@pytest.fixture(scope="module")
def hostile_root(tmp_path_factory) -> Path:
    """Hostile text brought in as an analyst would: `evidence import` (which puts a ' before
    formulas, so the file opens safely in a spreadsheet)."""
    root = copy_root(DATA, tmp_path_factory.mktemp("hostile"))
    incoming = root / "incoming.csv"
    incoming.write_text(HEADER + hostile_rows())
    imported = runner.invoke(app, ["evidence", "import", str(incoming), "--root", str(root),
                                   "--scenario", SCENARIO])
    assert imported.exit_code == 0, imported.stderr
    (root / "evidence" / f"{SCENARIO}.resolutions.csv").write_text(
        f"node,outcome,date,source\na,yes,2025-06-01,{SCRIPT.replace(',', ' ')}\n")
    return root


@pytest.fixture(scope="module")
def report_dir(hostile_root) -> Path:
    result = runner.invoke(app, ["report", "--root", str(hostile_root), "--scenario", SCENARIO,
                                 "--draws", "100", "--tune", "100", "--chains", "2", "--no-progress",
                                 "--format", "json"])
    assert result.exit_code == 0, result.stderr
    return hostile_root / "reports" / SCENARIO


@pytest.mark.slow
def test_report_html_shows_hostile_evidence_as_text(report_dir):
    html = (report_dir / "report.html").read_text()
    # The page's own what-if is its only script: a JSON data island of ids and numbers and one
    # script pinned by its CSP hash. Evidence text adds no element of any kind.
    assert html.lower().count("<script") == 2
    island = html.split('id="whatif-model">', 1)[1].split("</script>", 1)[0]
    assert "alert" not in island and "pwned" not in island
    assert "<img src=x" not in html
    assert "&lt;script&gt;alert(&#39;pwned&#39;)&lt;/script&gt;&lt;img src=x onerror=alert(1)&gt;" in html
    # An entity written in the evidence is shown as written, not decoded into markup.
    assert "Tom &amp;amp; Jerry &amp;lt;b&amp;gt; &amp;#60;i&amp;#62;" in html


@pytest.mark.slow
def test_report_markdown_and_json_keep_the_text_without_markup(report_dir):
    md = (report_dir / "report.md").read_text()
    assert not re.search(r"(?<!\\)</?(script|img)", md)    # escaped: Markdown shows it as text
    assert "\\<script>alert" in md
    doc = json.loads((report_dir / "report.json").read_text())
    summaries = {e["summary"] for e in doc["evidence"]}
    assert {SCRIPT, ENTITIES} <= summaries          # data is kept exactly, escaped only on output


def test_csv_export_neutralises_formula_prefixes(hostile_root):
    result = runner.invoke(app, ["evidence", "list", "--root", str(hostile_root), "--scenario",
                                 SCENARIO, "--format", "csv"])
    assert result.exit_code == 0, result.stderr
    rows = list(csv.reader(io.StringIO(result.stdout)))
    assert len(rows) == 1 + 1 + 2 + len(FORMULAS)
    cells = [cell for row in rows[1:] for cell in row]
    assert not [cell for cell in cells if cell.startswith(FORMULA_PREFIXES)]
    by_id = {row[0]: row for row in rows[1:]}
    for k, formula in enumerate(FORMULAS):
        stored = formula.strip()                     # the parser trims cells, as a spreadsheet does
        assert by_id[f"F{k}"][3] == by_id[f"F{k}"][7] == by_id[f"F{k}"][8] == "'" + stored
    assert by_id["E2"][3] == SCRIPT                   # not a formula: left as it is
    listed = runner.invoke(app, ["evidence", "list", "--root", str(hostile_root), "--scenario",
                                 SCENARIO, "--format", "json"])
    assert {row["summary"] for row in json.loads(listed.stdout)} >= {SCRIPT, ENTITIES,
                                                                      "'" + FORMULAS[0]}


def test_evidence_table_prints_markup_as_text(hostile_root):
    """Rich would read `[/x]` or `[link=...]` in a summary as console markup (and crash on it)."""
    evidence = hostile_root.parent / "markup"
    copy_root(DATA, evidence)
    path = evidence / "evidence" / f"{SCENARIO}.csv"
    path.write_text(path.read_text() + "E9,a,2025-02-02,[/bogus],A,1,2,[bold]c,[red]red[/red] [/x],\n")
    result = runner.invoke(app, ["evidence", "list", "--root", str(evidence), "--scenario", SCENARIO])
    assert result.exit_code == 0, result.exception
    assert "[red]red[/red] [/x]" in result.stdout and "[bold]c" in result.stdout


def hostile(value):
    """Every string in a document replaced by script and entity text (numbers kept)."""
    if isinstance(value, str):
        return SCRIPT + " " + ENTITIES
    if isinstance(value, list):
        return [hostile(v) for v in value]
    if isinstance(value, dict):
        return {k: hostile(v) for k, v in value.items()}
    return value


def test_score_html_escapes_every_string(hostile_root, tmp_path):
    history = hostile_root / "reports" / SCENARIO / "history.jsonl"
    history.parent.mkdir(parents=True, exist_ok=True)
    snapshot = {"scenario": SCENARIO, "as_of": "2025-03-01", "generated_at": "2025-03-01T00:00:00+00:00",
                "evidence_hash": "sha256:0", "nodes": [{"id": "a", "mean": 0.7, "resolved": None}]}
    history.write_text(json.dumps(snapshot) + "\n")
    result = runner.invoke(app, ["score", "--root", str(hostile_root), "--scenario", SCENARIO,
                                 "--format", "json"])
    assert result.exit_code == 0, result.stderr
    document = json.loads(result.stdout)
    assert document["count"] == 1
    html = render_score_html(hostile(document) | {"count": document["count"]})
    assert "<script" not in html.lower() and "<img src=x" not in html
    assert "&lt;script&gt;alert(" in html and "Tom &amp;amp; Jerry" in html


@pytest.mark.slow
def test_check_html_escapes_every_string(tmp_path):
    root = copy_root(DATA, tmp_path / "root")
    result = runner.invoke(app, ["check", "--root", str(root), "--scenario", "burglary",
                                 "--simulations", "10", "--no-progress", "--format", "json"])
    assert result.exit_code in (0, 1), result.stderr
    document = json.loads(result.stdout)
    html = render_check_html(hostile(document) | {"sbc": document["sbc"]})
    assert "<script" not in html.lower() and "<img src=x" not in html
    assert "&lt;script&gt;alert(" in html


# -- nothing runs input as code ------------------------------------------------------------------

UNSAFE_MODULES = {"pickle", "cPickle", "_pickle", "dill", "cloudpickle", "joblib", "shelve", "marshal",
                  "yaml", "jsonpickle"}
UNSAFE_BUILTINS = {"eval", "exec", "compile", "__import__"}          # called by bare name
UNSAFE_METHODS = {"read_pickle", "system", "popen"}                   # pd.read_pickle, os.system


def unsafe_uses(source: str, name: str) -> list[str]:
    found = []
    for node in ast.walk(ast.parse(source, name)):
        if isinstance(node, ast.Import):
            found += [f"import {a.name}" for a in node.names if a.name.split(".")[0] in UNSAFE_MODULES]
        elif isinstance(node, ast.ImportFrom) and (node.module or "").split(".")[0] in UNSAFE_MODULES:
            found.append(f"from {node.module} import")
        elif isinstance(node, ast.Call):
            func = node.func
            called = func.id if isinstance(func, ast.Name) else getattr(func, "attr", "")
            if (isinstance(func, ast.Name) and called in UNSAFE_BUILTINS) or (
                    isinstance(func, ast.Attribute) and called in UNSAFE_METHODS):
                found.append(f"{called}()")
            if called == "load":
                pickles = [k for k in node.keywords if k.arg == "allow_pickle"]
                owner = func.value.id if isinstance(func, ast.Attribute) and isinstance(
                    func.value, ast.Name) else ""
                if owner in ("np", "numpy") and not (
                        pickles and isinstance(pickles[0].value, ast.Constant)
                        and pickles[0].value.value is False):
                    found.append("np.load() without allow_pickle=False")
                if owner in ("torch", "yaml", "pickle"):
                    found.append(f"{owner}.load()")
            if any(k.arg == "shell" and isinstance(k.value, ast.Constant) and k.value.value
                   for k in node.keywords):
                found.append("shell=True")
    return [f"{name}:{use}" for use in found]


def test_no_module_of_the_package_can_run_input_as_code():
    files = sorted(PACKAGE.rglob("*.py"))
    assert len(files) > 30
    problems = [use for path in files for use in unsafe_uses(path.read_text(), str(path))]
    assert problems == []


@pytest.mark.parametrize("source", [
    "import pickle", "from yaml import load", "eval(text)", "exec(code)", "x = np.load(path)",
    "np.load(path, allow_pickle=True)", "import numpy as np\nnp.load(p, allow_pickle=flag)",
    "pd.read_pickle(p)", "subprocess.run(cmd, shell=True)", "os.system(cmd)",
])
def test_the_scan_catches_each_unsafe_use(source):
    assert unsafe_uses(source, "sample.py")


def test_the_scan_allows_the_safe_forms():
    assert unsafe_uses("np.load(p, allow_pickle=False)\njson.loads(t)\ntomllib.loads(t)\n"
                       "ast.literal_eval(t)\nre.compile(p)", "sample.py") == []
