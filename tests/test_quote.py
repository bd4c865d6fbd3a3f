"""The optional `quote` column of the evidence CSV (README, "Files"): the verbatim sentence of
the source an item codes. Files without it stay valid and hash as before; add, import and the
CSV export keep it; report.json carries it and the HTML evidence log shows it, escaped."""

from __future__ import annotations

import csv
import io
import json

from conftest import cached_fit
from typer.testing import CliRunner

from forecast.analysis.document import build_report
from forecast.cli import app
from forecast.io.evidence import evidence_hash, parse_evidence
from forecast.io.priors import load_scenario
from forecast.render import render

runner = CliRunner()
SCENARIO = "two-node-beta"
HEADER = "item_id,node,date,source,reliability,credibility,lr,cluster,summary,url"
ROW = "E1,b,2025-02-01,Test,A,1,3,,B looks three times likelier,"
QUOTE = 'The minister said: "B, and only B" <b>today</b>.'
ADD = ["evidence", "add", "--scenario", SCENARIO, "--source", "Wire", "--reliability", "F",
       "--credibility", "6", "--summary", "Talks resume", "--date", "2025-02-03", "--node", "a",
       "--lr", "2"]


def scenario(data_root):
    return load_scenario(data_root / "priors" / f"{SCENARIO}.toml")


def evidence_file(data_root):
    return data_root / "evidence" / f"{SCENARIO}.csv"


def csv_rows(data_root) -> list[dict]:
    return list(csv.DictReader(io.StringIO(evidence_file(data_root).read_text())))


def test_a_file_without_the_quote_column_parses_and_hashes_as_with_an_empty_one(data_root):
    plain = parse_evidence(f"{HEADER}\n{ROW}\n", "e.csv", scenario(data_root))
    empty = parse_evidence(f"{HEADER},quote\n{ROW},\n", "e.csv", scenario(data_root))
    assert plain[0].quote == "" and empty[0].quote == ""
    assert evidence_hash(plain) == evidence_hash(empty)


def test_the_quote_is_parsed_in_any_column_order_and_is_content(data_root):
    text = f'quote,{HEADER}\n"{QUOTE.replace(chr(34), chr(34) * 2)}",{ROW}\n'
    quoted = parse_evidence(text, "e.csv", scenario(data_root))
    assert quoted[0].quote == QUOTE
    assert quoted[0].summary == "B looks three times likelier"
    other = parse_evidence(f"{HEADER},quote\n{ROW},Another sentence.\n", "e.csv", scenario(data_root))
    assert evidence_hash(quoted) != evidence_hash(other)


def test_an_unknown_column_is_still_a_located_error(data_root):
    result = runner.invoke(app, ["evidence", "validate", "--scenario", SCENARIO, "--root", str(data_root)])
    assert result.exit_code == 0, result.output
    evidence_file(data_root).write_text(f"{HEADER},quotes\n{ROW},x\n")
    result = runner.invoke(app, ["evidence", "validate", "--scenario", SCENARIO, "--root", str(data_root)])
    assert result.exit_code == 1
    assert "evidence/two-node-beta.csv:1: quotes: expected a known column" in result.output


def test_evidence_add_quote_widens_a_file_without_the_column_and_keeps_every_row(data_root):
    before = csv_rows(data_root)
    result = runner.invoke(app, [*ADD, "--quote", QUOTE, "--root", str(data_root)])
    assert result.exit_code == 0, result.output
    after = csv_rows(data_root)
    assert list(after[0]) == HEADER.split(",") + ["quote"]
    assert [{k: v for k, v in row.items() if k != "quote"} for row in after[:1]] == before
    assert after[0]["quote"] == "" and after[1]["quote"] == QUOTE
    # A later add without --quote leaves the column in place, empty for that row.
    result = runner.invoke(app, [*ADD, "--root", str(data_root)])
    assert result.exit_code == 0, result.output
    assert [row["quote"] for row in csv_rows(data_root)] == ["", QUOTE, ""]
    items = parse_evidence(evidence_file(data_root).read_text(), "e.csv", scenario(data_root))
    assert [it.quote for it in items] == ["", QUOTE, ""]


def test_evidence_add_without_quote_leaves_a_file_without_the_column_byte_for_byte(data_root):
    before = evidence_file(data_root).read_text()
    result = runner.invoke(app, [*ADD, "--root", str(data_root)])
    assert result.exit_code == 0, result.output
    assert evidence_file(data_root).read_text().startswith(before)
    assert "quote" not in evidence_file(data_root).read_text().splitlines()[0]


def test_evidence_import_keeps_the_quote_and_list_exports_it(data_root, tmp_path):
    incoming = tmp_path / "in.csv"
    incoming.write_text(f'quote,{HEADER}\n"{QUOTE.replace(chr(34), chr(34) * 2)}",'
                        "N1,a,2025-02-05,Wire,F,6,2,,Imported,\n")
    result = runner.invoke(app, ["evidence", "import", str(incoming), "--scenario", SCENARIO,
                                 "--root", str(data_root)])
    assert result.exit_code == 0, result.output
    assert [row["quote"] for row in csv_rows(data_root)] == ["", QUOTE]
    listed = runner.invoke(app, ["evidence", "list", "--scenario", SCENARIO, "--root", str(data_root),
                                 "--format", "json"])
    assert [row["quote"] for row in json.loads(listed.stdout)] == [None, QUOTE]
    exported = runner.invoke(app, ["evidence", "list", "--scenario", SCENARIO, "--root",
                                   str(data_root), "--format", "csv"])
    assert [row["quote"] for row in csv.DictReader(io.StringIO(exported.stdout))] == ["", QUOTE]


def test_report_json_carries_the_quote_and_the_html_log_shows_it_escaped(data_root):
    path = data_root / "evidence" / "burglary.csv"
    path.write_text("item_id,node,date,source,reliability,credibility,lr,cluster,summary,url,quote\n"
                    'E1,alarm,2025-01-02,Blog,F,6,2,,An alarm was heard,,'
                    '"<script>alert(1)</script> & ""the alarm rang"""\n'
                    "E2,alarm,2025-01-03,Blog,F,6,2,,No quote here,,\n")
    inputs, posterior = cached_fit(data_root, "burglary")
    document = build_report(inputs, posterior, seed=1)
    quotes = {e["item_id"]: e["quote"] for e in json.loads(render(document, "json"))["evidence"]}
    assert quotes == {"E1": '<script>alert(1)</script> & "the alarm rang"', "E2": None}
    html = render(document, "html")
    assert "<script>alert(1)" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt; &amp; &#34;the alarm rang&#34;" in html
