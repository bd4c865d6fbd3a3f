"""Evidence text is data: escaped in HTML and Markdown, never markup."""

from __future__ import annotations

import json

from conftest import cached_fit

from forecast.render import render
from forecast.report import build_report

HOSTILE = '<script>alert("x")</script> &amp; [link](javascript:1) =cmd|\' /C calc\'!A0'


def hostile_document(data_root):
    csv = data_root / "evidence" / "burglary.csv"
    csv.write_text(csv.read_text() + f'E1,alarm,2025-01-02,"<b>Blog</b>",C,3,2,,"{HOSTILE.replace(chr(34), chr(34) * 2)}",\n')
    inputs, posterior = cached_fit(data_root, "burglary")
    return build_report(inputs, posterior, seed=1)


def test_html_escapes_evidence_text(data_root):
    html = render(hostile_document(data_root), "html")
    assert "<script>" not in html and "<b>Blog</b>" not in html
    assert "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt; &amp;amp;" in html
    assert "&lt;b&gt;Blog&lt;/b&gt;" in html
    assert "http://" not in html and "https://" not in html     # self-contained: no fetches


def test_markdown_escapes_evidence_text(data_root):
    md = render(hostile_document(data_root), "md")
    assert "<script>" not in md
    assert "\\<script\\>" in md and "\\[link\\]\\(javascript:1\\)" in md


def test_json_round_trips_the_text_unchanged(data_root):
    doc = json.loads(render(hostile_document(data_root), "json"))
    assert doc["evidence"][0]["summary"] == HOSTILE
