"""Evidence text is data: escaped in HTML and Markdown, never markup."""

from __future__ import annotations

import datetime as dt
import json
import os
import re

import numpy as np
import pytest
from conftest import REPO, cached_fit
from hypothesis import given, settings
from hypothesis import strategies as st

from forecast.analysis.document import build_report
from forecast.render import render

HOSTILE = '<script>alert("x")</script> &amp; [link](javascript:1) =cmd|\' /C calc\'!A0'


def hostile_document(data_root):
    csv = data_root / "evidence" / "burglary.csv"
    csv.write_text(csv.read_text() + f'E1,alarm,2025-01-02,"<b>Blog</b>",C,3,2,,"{HOSTILE.replace(chr(34), chr(34) * 2)}",\n')
    inputs, posterior = cached_fit(data_root, "burglary")
    return build_report(inputs, posterior, seed=1)


def test_html_escapes_evidence_text(data_root):
    html = render(hostile_document(data_root), "html")
    assert "<script>alert" not in html and "<b>Blog</b>" not in html
    # the only scripts: the what-if data island and its CSP-pinned script
    assert html.count("<script") == 2 and '<script type="application/json" id="whatif-model">' in html
    assert "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt; &amp;amp;" in html
    assert "&lt;b&gt;Blog&lt;/b&gt;" in html
    assert "http://" not in html and "https://" not in html     # self-contained: no fetches


def test_markdown_escapes_evidence_text(data_root):
    md = render(hostile_document(data_root), "md")
    assert not re.search(r"(?<!\\)<(script|b)", md)     # every < escaped: Markdown shows it as text
    assert "\\<script>" in md and "\\[link\\](javascript:1)" in md


def test_json_round_trips_the_text_unchanged(data_root):
    doc = json.loads(render(hostile_document(data_root), "json"))
    assert doc["evidence"][0]["summary"] == HOSTILE


# -- docs/json.md is the contract of --format json: its examples are checked against real output --
OPEN_MAPS = {"versions", "terms", "sampler"}


def documented_examples() -> dict[str, object]:
    text = (REPO / "docs" / "json.md").read_text()
    found = re.findall(r"^## `forecast (\w+)[^`]*`\n.*?```json\n(.*?)```", text, re.S | re.M)
    return {command: json.loads(block) for command, block in found}


def check_like(example, actual, where="$"):
    """`actual` has every key of `example`, each of the same JSON type (null in the example
    allows anything), down to the first element of lists."""
    if example is None:
        return
    if isinstance(example, dict):
        assert isinstance(actual, dict), where
        for key, value in example.items():
            assert key in actual, f"{where}.{key} documented but missing"
            if key not in OPEN_MAPS:
                check_like(value, actual[key], f"{where}.{key}")
    elif isinstance(example, list):
        assert isinstance(actual, list), where
        if example and actual and not isinstance(example[0], int | float | str):
            for item in actual:
                check_like(example[0], item, f"{where}[]")
    elif isinstance(example, bool):
        assert isinstance(actual, bool), where
    elif isinstance(example, int | float):
        assert isinstance(actual, int | float) and not isinstance(actual, bool), where
    else:
        assert isinstance(actual, type(example)), where


def test_docs_json_documents_report_new_and_scenarios():
    assert {"report", "new", "scenarios"} <= set(documented_examples())


def test_report_json_matches_the_documented_shape(data_root):
    from typer.testing import CliRunner

    from forecast.cli import app

    csv = data_root / "evidence" / "burglary.csv"
    csv.write_text(csv.read_text() + "E1,alarm,2025-01-02,Blog,C,3,2,c1,An alarm was heard,https://example.org/a\n")
    history = data_root / "reports" / "burglary" / "history.jsonl"
    history.parent.mkdir(parents=True)
    history.write_text(json.dumps({"as_of": "2025-01-01", "generated_at": "2025-01-01T00:00:00+00:00",
                                   "evidence_hash": "sha256:x",
                                   "nodes": [{"id": "alarm", "mean": 0.5, "interval": [0.4, 0.6]}]}) + "\n")
    result = CliRunner().invoke(app, ["report", "--root", str(data_root), "--scenario", "burglary",
                                      "--format", "json"])
    assert result.exit_code == 0, result.output
    doc = json.loads(result.stdout)
    check_like(documented_examples()["report"], doc)
    assert doc["history"][0]["nodes"][0] == {"id": "alarm", "mean": 0.5, "interval": [0.4, 0.6]}
    assert doc["history_skipped"] == 0
    for node in doc["nodes"]:
        low, high = node["prior_interval"]
        assert 0 <= low <= node["prior_mean"] <= high <= 1


def test_new_and_scenarios_json_match_the_documented_shape(tmp_path):
    from typer.testing import CliRunner

    from forecast.cli import app

    runner = CliRunner()
    created = runner.invoke(app, ["new", "red-sea-shipping", "--root", str(tmp_path), "-f", "json"])
    assert created.exit_code == 0, created.output
    assert json.loads(created.stdout) == documented_examples()["new"]
    history = tmp_path / "reports" / "red-sea-shipping" / "history.jsonl"
    history.parent.mkdir(parents=True)
    history.write_text(json.dumps({"as_of": "2025-03-11", "generated_at": "2025-03-11T18:02:11+00:00",
                                   "nodes": [{"id": "consequence", "mean": 0.3}]}) + "\n")
    listed = runner.invoke(app, ["scenarios", "--root", str(tmp_path), "-f", "json"])
    assert listed.exit_code == 0, listed.output
    listing = json.loads(listed.stdout)
    example = documented_examples()["scenarios"]
    check_like(example, listing)
    assert listing["scenarios"][0].keys() == example["scenarios"][0].keys()
    assert listing["scenarios"][0]["last_snapshot"] == "2025-03-11"


def test_terminal_table_shows_markup_in_titles_as_text_and_resolved_nodes_as_resolved(data_root):
    from forecast.render.terminal import render_table_text

    inputs, posterior = cached_fit(data_root, "burglary")
    doc = build_report(inputs, posterior, seed=1)
    doc["title"] = "Alarm [/x] [bold]not bold"
    text = render_table_text(doc, width=200)
    assert "Alarm [/x] [bold]not bold" in text
    assert text.count("resolved yes") == 2            # john_calls and mary_calls


def test_compiled_templates_are_kept_between_processes_and_a_bad_cache_dir_is_harmless(tmp_path):
    """The report template compiles once per machine (jinja2's bytecode cache in the user's
    cache directory); where that directory cannot be made, pages still render."""
    import subprocess
    import sys

    code = ("from forecast.render.pages import template_environment as t; "
            "t().get_template('report.html.j2'); print(t().bytecode_cache is not None)")
    good = tmp_path / "cache"
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          env={**os.environ, "XDG_CACHE_HOME": str(good)}, check=True)
    assert done.stdout.strip() == "True"
    assert list((good / "forecast" / "templates").glob("__jinja2_*.cache"))
    blocked = tmp_path / "file"
    blocked.write_text("not a directory")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          env={**os.environ, "XDG_CACHE_HOME": str(blocked)}, check=True)
    assert done.stdout.strip() == "False"


# -- Markdown escapes only what a Markdown reader would read as markup ---------------------------

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


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet=st.sampled_from(list("ab1 _*`[]()<>#+-=!|~&;:/\\.{}\"'é\n\t")),
               max_size=24))
def test_markdown_escape_skips_only_text_no_escape_would_change(text):
    """md_escape's shortcut (text without a character any escape acts on) changes nothing."""
    from forecast.render.markdown import _md_escaped, md_escape

    assert md_escape(text) == _md_escaped(" ".join(text.split()))


def test_page_gives_each_prior_row_where_it_applies_its_numbers_and_strength(data_root):
    toml = data_root / "priors" / "two-node-beta.toml"
    toml.write_text(toml.read_text().replace('id = "a"\n', 'id = "a"\nlabel = "A <b> & c"\n', 1))
    inputs, posterior = cached_fit(data_root, "two-node-beta", engine="exact")
    terms = re.findall(r"<dt>(.*?)</dt>", render(build_report(inputs, posterior, seed=1), "html"),
                       re.S)
    assert ["Base rate:\n50.0% (strength 4)", "Given A &lt;b&gt; &amp; c no:\n25.0% (strength 4)",
            "Given A &lt;b&gt; &amp; c yes:\n75.0% (strength 4)"] == [
        t for t in terms if "strength" in t or "constant" in t]


def test_a_question_of_many_outcomes_lists_its_likeliest_twelve_in_the_terminal():
    """bnlearn's barley has a 67-state node: the terminal table keeps the 12 likeliest states
    in their declared order and sums the others in one row (report.md and .json keep all)."""
    from rich.table import Table

    from forecast.render.terminal import _add_state_rows

    means = np.linspace(1.0, 2.0, 67)
    means /= means.sum()
    node = {"id": "yield", "role": "consequence", "resolved": None, "ordered": True,
            "states": [f"s{i}" for i in range(67)],
            "distribution": [{"state": f"s{i}", "prior_mean": 1 / 67, "mean": float(m),
                              "interval": [float(m), float(m)]} for i, m in enumerate(means)]}
    table = Table()
    for column in range(6):
        table.add_column(str(column))
    _add_state_rows(table, node, {"likely": [0.55, 0.8]}, [])
    assert table.row_count == 1 + 12 + 1
    cells = [str(c) for c in table.columns[0].cells]
    assert cells[1:13] == [f"  · s{i}" for i in range(55, 67)]
    assert cells[13] == "  · 55 other states"
    assert list(table.columns[3].cells)[13] == f"{100 * means[:55].sum():.1f}%"


JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=6),
    lambda inner: st.lists(inner, max_size=4) | st.tuples(inner, inner)
    | st.dictionaries(st.text(max_size=4), inner, max_size=4),
    max_leaves=30)


@settings(max_examples=300, deadline=None)
@given(JSON_VALUES)
def test_report_json_text_is_what_json_dumps_writes(value):
    from forecast.render.json_text import indented_json

    assert indented_json(value) == json.dumps(value, indent=2, ensure_ascii=False)


@pytest.mark.parametrize("value", [{1: "a", "b": [2.5]}, {"day": dt.date(2025, 1, 1)}])
def test_report_json_text_leaves_other_keys_and_values_to_json_dumps(value):
    from forecast.render.json_text import indented_json

    try:
        expected = json.dumps(value, indent=2, ensure_ascii=False)
    except TypeError:
        with pytest.raises(TypeError):
            indented_json(value)
        return
    assert indented_json(value) == expected
