"""The history of each state of a question with more outcomes, in every report: report.json
keeps the snapshots' distributions, report.md tabulates them, report.html charts them as a
stacked area, the terminal gives the most likely outcome at each snapshot. The numbers are
hand-written snapshots', so each can be checked by eye; yes/no reports are left as they were."""

from __future__ import annotations

import base64
import json
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
from conftest import run_cli

from forecast.render import pct
from forecast.render.charts.state_history import spread_labels, state_colours, state_history_charts

SCENARIO = "k-state"


def dist(none: float, sporadic: float, sustained: float) -> list[dict]:
    return [{"state": "none", "mean": none, "interval": [none / 2, (1 + none) / 2]},
            {"state": "sporadic", "mean": sporadic, "interval": [sporadic / 2, (1 + sporadic) / 2]},
            {"state": "sustained", "mean": sustained, "interval": [sustained / 2, (1 + sustained) / 2]}]


def snapshot(as_of: str, attacks: list[dict], talks: float, evidence_hash: str = "sha256:hand") -> dict:
    return {"as_of": as_of, "generated_at": f"{as_of}T09:00:00+00:00", "evidence_hash": evidence_hash,
            "nodes": [{"id": "attacks", "mean": None, "interval": None, "distribution": attacks},
                      {"id": "talks", "mean": talks, "interval": [talks - 0.1, talks + 0.1]}]}


HAND = [
    snapshot("2025-03-12", dist(0.5, 0.3, 0.2), 0.6),
    snapshot("2025-03-20", dist(0.25, 0.25, 0.5), 0.5),
    snapshot("2025-03-20", dist(0.1, 0.3, 0.6), 0.4),        # later the same day: it is the one shown
    {"as_of": "2025-03-21", "generated_at": "2025-03-21T09:00:00+00:00", "evidence_hash": "sha256:old",
     "nodes": [{"id": "attacks", "mean": None, "interval": None,        # states since renamed
                "distribution": [{"state": "low", "mean": 0.9, "interval": None},
                                 {"state": "high", "mean": 0.1, "interval": None}]}]},
]


def write_history(root: Path, snapshots: list[dict]) -> None:
    path = root / "reports" / SCENARIO / "history.jsonl"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("".join(json.dumps(s) + "\n" for s in snapshots))


def report(root: Path, *args: str) -> tuple[dict, str, str, str]:
    """report.json, report.md, report.html and the terminal table of a replay on 2025-03-25."""
    result = run_cli(root, ["report", "--scenario", SCENARIO, "--as-of", "2025-03-25", *args])
    assert result.exit_code == 0, result.output
    out = root / "reports" / SCENARIO
    return (json.loads((out / "report.json").read_text()), (out / "report.md").read_text(),
            (out / "report.html").read_text(), result.stdout)


def svg_of(uri: str) -> ET.Element:
    return ET.fromstring(base64.b64decode(uri.split(",", 1)[1]))


def texts(root: ET.Element) -> list[str]:
    return [t.text for t in root.iter() if t.tag.endswith("text")]


def test_report_json_keeps_each_snapshots_distribution_as_written(k_root):
    write_history(k_root, HAND)
    doc, *_ = report(k_root)
    charted = [{n["id"]: n for n in s["nodes"]} for s in doc["history"]]
    assert [s["as_of"] for s in doc["history"]] == ["2025-03-12", "2025-03-20", "2025-03-20", "2025-03-21"]
    assert charted[0]["attacks"] == {"id": "attacks", "mean": None, "interval": None,
                                     "distribution": dist(0.5, 0.3, 0.2)}
    assert charted[2]["attacks"]["distribution"] == dist(0.1, 0.3, 0.6)
    assert charted[3]["attacks"]["distribution"][0] == {"state": "low", "mean": 0.9, "interval": None}
    assert charted[0]["talks"] == {"id": "talks", "mean": 0.6, "interval": [0.5, 0.7]}
    assert doc["history_skipped"] == 0


def test_report_md_tabulates_each_state_at_each_snapshot(k_root):
    write_history(k_root, HAND)
    doc, md, _, _ = report(k_root)
    now = {row["state"]: row["mean"] for row in doc["nodes"][0]["distribution"]}
    best = max(("none", "sporadic", "sustained"), key=now.get)
    section = md.split("## How the forecasts have moved")[1].split("## Evidence")[0]
    assert ("`attacks`: each outcome's probability (3 outcomes, ordered, lowest first)\n\n"
            "| as of | none | sporadic | sustained | most likely |\n"
            "|---|---:|---:|---:|---|\n"
            "| 2025-03-12 | 50.0% | 30.0% | 20.0% | none |\n"
            "| 2025-03-20 | 10.0% | 30.0% | 60.0% | sustained |\n"       # the day's last snapshot;
            f"| 2025-03-25 (this report, not yet a snapshot) | {pct(now['none'])} | "   # 03-21's
            f"{pct(now['sporadic'])} | {pct(now['sustained'])} | {best} |\n") in section  # states differ
    assert "| 2025-03-12 | 60.0% |\n| 2025-03-20 | 40.0% |\n" in section       # talks, as before


def test_terminal_gives_the_most_likely_outcome_at_each_snapshot(k_root):
    write_history(k_root, HAND)
    doc, _, _, terminal = report(k_root, "--format", "table")
    now = {row["state"]: row["mean"] for row in doc["nodes"][0]["distribution"]}
    best = max(("none", "sporadic", "sustained"), key=now.get)
    assert "How the questions with more outcomes have moved" in terminal
    assert (f"  attacks: 2025-03-12 none 50.0% → 2025-03-20 sustained 60.0% → this report {best} "
            f"{pct(now[best])}") in terminal


def test_report_html_charts_each_state_labelled_with_its_change(k_root):
    write_history(k_root, HAND)
    doc, _, html, _ = report(k_root)
    assert 'data-history="attacks"' in html and 'data-history="mediator"' not in html
    # the chart itself, on the snapshots alone (the last one is the report): 60% now, +40 pp
    attacks = next(n for n in doc["nodes"] if n["id"] == "attacks")
    attacks = {**attacks, "distribution": [{**row, "mean": p} for row, p in
                                           zip(attacks["distribution"], (0.1, 0.3, 0.6), strict=True)]}
    page = {"nodes": [attacks], "history": HAND[:3], "as_of": "2025-03-20",
            "evidence_hash": "sha256:hand"}
    root = svg_of(state_history_charts(page)["attacks"])
    words = texts(root)
    assert "3 outcomes (ordered, the first at the bottom) · most likely now: sustained 60%" in words
    for state, now, moved in (("sustained", "60%", "+40 pp"), ("sporadic", "30%", "±0 pp"),
                              ("none", "10%", "-40 pp")):
        at = words.index(state)
        assert words[at + 1:at + 3] == [now, f"{moved} since 12 Mar"]
    bands = [e for e in root.iter() if e.tag.endswith("polygon")]
    assert len(bands) == 3
    # the bottom band (none) starts at 50% on 12 Mar: its top edge's first corner is y_of(0.5)
    first_corner = bands[0].attrib["points"].split()[0]
    assert float(first_corner.split(",")[1]) == pytest.approx(220 - 170 * 0.5)


def test_state_names_and_labels_are_escaped_in_every_report(k_root):
    toml = k_root / "priors" / f"{SCENARIO}.toml"
    hostile = '<b>Who</b> & | *mediates*'
    toml.write_text(toml.read_text()
                    .replace('states = ["turkey", "qatar", "nobody"]', 'states = ["turkey", "qatar", "nobody_"]')
                    .replace('id = "mediator"\n', f'id = "mediator"\nlabel = "{hostile}"\n'))
    mediator = [{"state": s, "mean": p, "interval": None}
                for s, p in (("turkey", 0.2), ("qatar", 0.3), ("nobody_", 0.5))]
    write_history(k_root, [{"as_of": "2025-03-12", "generated_at": "", "evidence_hash": "",
                            "nodes": [{"id": "mediator", "mean": None, "distribution": mediator}]}])
    _, md, html, _ = report(k_root)
    assert ("**\\<b>Who\\</b> & \\| \\*mediates\\*** (`mediator`): each outcome's probability "
            "(3 outcomes, unordered)\n\n| as of | turkey | qatar | nobody\\_ | most likely |") in md
    assert "| 2025-03-12 | 20.0% | 30.0% | 50.0% | nobody\\_ |" in md
    assert "<b>Who</b>" not in html and "&lt;b&gt;Who&lt;/b&gt; &amp; | *mediates*" in html
    uri = html.split('data-history="mediator">')[1].split('src="')[1].split('"')[0]
    words = texts(svg_of(uri))                # well-formed XML whose text is the label as written
    assert hostile in words and "nobody_" in words


def test_real_updates_reach_every_report_with_the_snapshots_numbers(k_root):
    for day in ("2025-03-12", "2025-03-14"):
        result = run_cli(k_root, ["update", "--scenario", SCENARIO, "--as-of", day])
        assert result.exit_code == 0, result.output
    lines = [json.loads(line) for line in
             (k_root / "reports" / SCENARIO / "history.jsonl").read_text().splitlines()]
    doc = json.loads((k_root / "reports" / SCENARIO / "report.json").read_text())
    md = (k_root / "reports" / SCENARIO / "report.md").read_text()
    for line, charted in zip(lines, doc["history"], strict=True):
        for node, shown in zip(line["nodes"], charted["nodes"], strict=True):
            assert shown.get("distribution") == node.get("distribution")
            assert shown["mean"] == node["mean"]
        attacks = {row["state"]: row["mean"] for row in line["nodes"][0]["distribution"]}
        assert (f"| {line['as_of']} | {pct(attacks['none'])} | {pct(attacks['sporadic'])} | "
                f"{pct(attacks['sustained'])} |") in md


def test_yes_no_reports_have_no_state_history(data_root):
    history = data_root / "reports" / "burglary" / "history.jsonl"
    history.parent.mkdir(parents=True)
    history.write_text(json.dumps({"as_of": "2025-01-01", "generated_at": "", "evidence_hash": "sha256:x",
                                   "nodes": [{"id": "alarm", "mean": 0.5, "interval": [0.4, 0.6]}]}) + "\n")
    result = run_cli(data_root, ["report", "--scenario", "burglary", "--format", "table"])
    assert result.exit_code == 0, result.output
    assert "more outcomes" not in result.stdout
    out = data_root / "reports" / "burglary"
    md, html = (out / "report.md").read_text(), (out / "report.html").read_text()
    assert "each outcome's probability" not in md and "| 2025-01-01 |" in md
    assert "state-history" not in html and 'id="history-chart"' in html


def test_colours_run_light_to_dark_when_ordered_and_stay_distinct_when_not():
    ramp = state_colours(12, ordered=True)
    darkness = [sum(int(c[i:i + 2], 16) for i in (1, 3, 5)) for c in ramp]
    assert darkness == sorted(darkness, reverse=True) and len(set(ramp)) == 12
    assert len(set(state_colours(12, ordered=False))) == 12


def test_labels_never_overlap_and_stay_in_the_plot():
    placed = spread_labels([100.0, 101.0, 102.0, 218.0, 219.0], top=55, bottom=215, step=15)
    assert all(b - a >= 15 - 1e-9 for a, b in zip(placed, placed[1:], strict=False))
    assert placed[0] >= 55 and placed[-1] <= 215 and placed[0] == 100.0
    crowded = spread_labels([60.0] * 12, top=55, bottom=200, step=15)     # do not fit: evenly spaced
    assert crowded[0] == 55 and crowded[-1] == 200


def test_the_pages_evidence_log_names_each_item(k_root):
    _, _, html, _ = report(k_root)
    log = html.split('id="evidence-log"')[1].split("</table>")[0]
    for item in ("E001", "E002", "E003", "E004"):
        assert f'<tr data-item="{item}"><td>{item}</td>' in log


def test_a_snapshot_of_questions_with_more_outcomes_alone_counts_as_a_snapshot(k_root):
    write_history(k_root, [{**HAND[0], "nodes": HAND[0]["nodes"][:1]}])     # attacks only
    listed = run_cli(k_root, ["scenarios", "--format", "json"])
    assert listed.exit_code == 0, listed.output
    row = json.loads(listed.stdout)["scenarios"][0]
    assert (row["snapshots"], row["last_snapshot"]) == (1, "2025-03-12")
    doc, *_ = report(k_root)
    assert doc["history_skipped"] == 0 and len(doc["history"]) == 1


def test_past_twelve_states_the_history_groups_neighbours_or_keeps_the_likeliest():
    from forecast.render.history import group_probabilities, state_groups

    states = [f"s{i:03d}" for i in range(100)]
    assert state_groups(states[:12], True, []) == [(s, [s]) for s in states[:12]]
    runs = state_groups(states, True, [])
    assert [len(members) for _, members in runs] == [9] * 4 + [8] * 8         # 100 = 4 x 9 + 8 x 8
    assert [s for _, members in runs for s in members] == states             # in order, each once
    assert runs[0][0] == "s000–s008" and runs[-1][0] == "s092–s099"
    peaks = [dict.fromkeys(states, 0.001) | {"s050": 0.3}, dict.fromkeys(states, 0.001) | {"s007": 0.2}]
    groups = state_groups(states, False, peaks)
    kept = [name for name, members in groups if len(members) == 1]
    assert len(groups) == 12 and "s050" in kept and "s007" in kept and kept == sorted(kept)
    assert groups[-1] == ("89 others", [s for s in states if s not in kept])
    assert sum(group_probabilities(groups, peaks[0])) == pytest.approx(sum(peaks[0].values()))
