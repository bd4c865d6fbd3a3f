"""Time (README, "Time: overdue questions, replays and backtests"): the evaluation date,
overdue questions, `--as-of` replays, and `evidence add` dated today. None of these tests samples with NUTS."""

from __future__ import annotations

import csv
import datetime as dt
import io
import json

import pytest
from conftest import snapshot_files
from typer.testing import CliRunner

from forecast.analysis.document import build_report
from forecast.cli import app
from forecast.errors import ForecastError
from forecast.inference.problem import Posterior, fit, prepare
from forecast.io.project import load_inputs, scenario_paths
from forecast.io.replay import inputs_as_of, parse_as_of, replay_dates
from forecast.jobs.scenarios import list_scenarios
from forecast.model.calendar import overdue_nodes, overdue_sentence
from forecast.model.spec import Resolution
from forecast.render import as_of_words
from forecast.render.html import render_html
from forecast.render.markdown import render_markdown
from forecast.render.terminal import render_table_text

runner = CliRunner()
TARIFFS = "us-tariffs-2025"
NO_CHARTS = {"forecast": "data:,", "history": None, "structure": "data:,"}


def invoke(*args):
    return runner.invoke(app, [str(a) for a in args])


def exact_posterior(inputs, seed: int = 1) -> Posterior:
    """The exact engine's posterior (numpy only), through the seam."""
    return fit(prepare(inputs), "exact", seed)


def document(root, scenario, **kwargs) -> dict:
    inputs = load_inputs(scenario_paths(root, scenario), kwargs.pop("as_of", None))
    return build_report(inputs, exact_posterior(inputs), 1, **kwargs)


# -- overdue -----------------------------------------------------------------------------------
def test_a_node_is_overdue_the_day_after_its_deadline_unless_resolved(data_root):
    inputs = load_inputs(scenario_paths(data_root, "two-node-beta"))      # deadlines 2026-01-01
    scenario = inputs.scenario
    assert overdue_nodes(scenario, (), dt.date(2026, 1, 1)) == []
    assert [n.id for n in overdue_nodes(scenario, (), dt.date(2026, 1, 2))] == ["a", "b"]
    late = overdue_nodes(scenario, (Resolution("a", True, dt.date(2025, 6, 1), "x"),),
                         dt.date(2026, 1, 2))
    assert [n.id for n in late] == ["b"]


def test_overdue_sentence_in_the_singular_and_the_plural():
    assert overdue_sentence(0) == ""
    assert overdue_sentence(1) == ("1 question is past its deadline and unresolved: record its "
                                   "outcome with `forecast resolve`")
    assert overdue_sentence(2) == ("2 questions are past their deadline and unresolved: record "
                                   "their outcomes with `forecast resolve`")


def test_report_document_flags_overdue_nodes_and_warns_first(frozen_root):
    doc = document(frozen_root, "turkey-peacekeeping", evaluated_on=dt.date(2026, 12, 1))
    assert doc["evaluated_on"] == "2026-12-01" and doc["replay"] is False
    assert doc["as_of"] == "2025-03-11" and doc["as_of_basis"] in ("evidence", "scenario")
    flags = {n["id"]: (n["deadline"], n["overdue"]) for n in doc["nodes"]}
    assert flags["ceasefire"] == ("2026-03-11", True)
    assert flags["turkish_deployment"] == ("2026-09-11", True)
    assert [k for k, (_d, late) in flags.items() if late] == doc["overdue"] == [
        "ceasefire", "turkish_deployment"]
    assert doc["warnings"] == [
        "2 questions are past their deadline and unresolved: record their outcomes with "
        "`forecast resolve`: ceasefire (deadline 2026-03-11), turkish_deployment "
        "(deadline 2026-09-11)"]
    on_time = document(frozen_root, "turkey-peacekeeping", evaluated_on=dt.date(2026, 3, 11))
    assert on_time["overdue"] == [] and on_time["warnings"] == []
    assert not any(n["overdue"] for n in on_time["nodes"])


def test_a_resolved_node_is_never_overdue_and_as_of_says_a_resolution_set_it(frozen_root):
    doc = document(frozen_root, TARIFFS, evaluated_on=dt.date(2025, 8, 16))
    late = {n["id"]: n["overdue"] for n in doc["nodes"]}
    # china_escalation and reciprocal_pause are past their deadline (2025-07-02) but resolved.
    assert late == {"china_escalation": False, "reciprocal_pause": False,
                    "eu_retaliation_in_force": False, "us_china_deal": False,
                    "us_q2_contraction": True, "fed_cut_by_september": False}
    replay = document(frozen_root, TARIFFS, as_of=dt.date(2025, 4, 9), replay=dt.date(2025, 4, 9))
    assert replay["as_of_basis"] == "replay"
    before = document(frozen_root, TARIFFS, as_of=dt.date(2025, 4, 9))
    assert before["as_of"] == "2025-04-09" and before["as_of_basis"] == "resolution"


def test_banners_top_the_terminal_table_markdown_and_html(frozen_root):
    doc = document(frozen_root, "turkey-peacekeeping", evaluated_on=dt.date(2026, 12, 1))
    doc["history"], doc["history_skipped"] = [], 0
    sentence = ("2 questions are past their deadline and unresolved: record their outcomes with "
                "`forecast resolve`")
    text = render_table_text(doc, width=400)
    assert text.splitlines()[0].startswith("Overdue: " + sentence)
    assert "(overdue)" in text
    md = render_markdown(doc)
    banner = md.splitlines()[2]
    assert banner.startswith("> **Overdue:** " + sentence + ": `ceasefire` (deadline 2026-03-11)")
    html = render_html(doc, NO_CHARTS)
    assert html.index('id="overdue-banner"') < html.index('class="kicker"')
    assert ("2 questions are past their deadline and unresolved: record their outcomes with "
            "<code>forecast resolve</code>") in html
    assert html.count('class="overdue-flag"') == 4          # two cards, two table rows
    assert "Overdue: deadline 2026-03-11 passed, no resolution recorded" in html
    assert "evaluated on 2026-12-01" in as_of_words(doc) and as_of_words(doc) in text


def test_no_banner_when_nothing_is_overdue(frozen_root):
    doc = document(frozen_root, "turkey-peacekeeping", evaluated_on=dt.date(2025, 6, 1))
    doc["history"], doc["history_skipped"] = [], 0
    assert "Overdue" not in render_table_text(doc) and "Overdue" not in render_markdown(doc)
    assert 'id="overdue-banner"' not in render_html(doc, NO_CHARTS)


def test_a_replay_says_so_in_every_rendering(frozen_root):
    doc = document(frozen_root, TARIFFS, as_of=dt.date(2025, 4, 8), replay=dt.date(2025, 4, 8))
    doc["history"], doc["history_skipped"] = [], 0
    words = ("Replay as of 2025-04-08: only the evidence and resolutions dated on or before that "
             "day count, as the tool would have forecast then.")
    assert as_of_words(doc) == words
    assert words in render_table_text(doc, width=400)
    assert words in render_markdown(doc)
    html = render_html(doc, NO_CHARTS)
    assert "Replayed forecast · as of 2025-04-08" in html and words in html
    assert doc["evaluated_on"] == "2025-04-08" and doc["overdue"] == []
    assert doc["resolutions"] == []          # both resolutions are dated 2025-04-09


# -- --as-of -----------------------------------------------------------------------------------
def _truncated_copy(root, target, scenario, day):
    """Copies of the scenario's files with only the rows dated on or before `day`."""
    import shutil

    shutil.copytree(root / "priors", target / "priors")
    (target / "evidence").mkdir()
    for name in (f"{scenario}.csv", f"{scenario}.resolutions.csv"):
        source = root / "evidence" / name
        if not source.exists():
            continue
        rows = list(csv.DictReader(io.StringIO(source.read_text(encoding="utf-8"), newline="")))
        buffer = io.StringIO(newline="")
        writer = csv.DictWriter(buffer, fieldnames=list(rows[0]) if rows else ["x"])
        writer.writeheader()
        writer.writerows(r for r in rows if dt.date.fromisoformat(r["date"]) <= day)
        (target / "evidence" / name).write_text(buffer.getvalue(), encoding="utf-8")
    return target


@pytest.mark.parametrize("scenario", ["turkey-peacekeeping", TARIFFS])
def test_as_of_inputs_equal_the_files_truncated_to_that_date(frozen_root, tmp_path, scenario):
    """Every replay date and the day before each: same rows, same evidence hash, same
    document (apart from the time stamp) as a report on truncated copies of the files."""
    paths = scenario_paths(frozen_root, scenario)
    full = load_inputs(paths)
    days = set()
    for day in replay_dates(full) + [r.date for r in full.resolutions]:
        days |= {day, day - dt.timedelta(days=1)}
    opens = min(n.opens for n in full.scenario.nodes)
    for k, day in enumerate(sorted(d for d in days if d >= opens)):
        replay = load_inputs(paths, day)
        copy = load_inputs(scenario_paths(_truncated_copy(frozen_root, tmp_path / f"c{k}", scenario,
                                                          day), scenario))
        assert replay.evidence == copy.evidence
        assert replay.resolutions == copy.resolutions
        assert replay.evidence_hash == copy.evidence_hash
        assert replay == inputs_as_of(full, day)
        moment = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
        a = build_report(replay, exact_posterior(replay), 1, generated_at=moment, replay=day)
        b = build_report(copy, exact_posterior(copy), 1, generated_at=moment, replay=day)
        assert a["evidence_hash"] == b["evidence_hash"]
        for x, y in zip(a["nodes"], b["nodes"], strict=True):
            assert x["exact_mean"] == pytest.approx(y["exact_mean"], abs=1e-9)
            assert x["mean"] == pytest.approx(y["mean"], abs=1e-9)


def test_replay_dates_are_the_distinct_evidence_dates_from_the_opening_day(frozen_root):
    turkey = load_inputs(scenario_paths(frozen_root, "turkey-peacekeeping"))
    # Every Turkey item is dated on or before the day its questions open (2025-03-11).
    assert replay_dates(turkey) == [dt.date(2025, 3, 11)]
    tariffs = load_inputs(scenario_paths(frozen_root, TARIFFS))
    dates = replay_dates(tariffs)
    assert dates[0] == dt.date(2025, 4, 3)          # an item of 2025-04-02 counts from the opening
    assert dates[-1] == dt.date(2025, 5, 12) and len(dates) == len(set(dates)) == 12


def test_as_of_parses_a_date_and_names_the_option_when_it_cannot():
    assert parse_as_of("") is None and parse_as_of("2025-04-09") == dt.date(2025, 4, 9)
    for bad, message in (("2025-13-01", "a real calendar date"), ("yesterday", "a date YYYY-MM-DD"),
                         ("2025-4-9", "a date YYYY-MM-DD")):
        with pytest.raises(ForecastError) as error:
            parse_as_of(bad)
        assert str(error.value).startswith("--as-of: expected " + message)


@pytest.mark.parametrize("command", [["report"], ["update"], ["whatif", "--given", "ceasefire=yes"],
                                     ["score"]])
@pytest.mark.parametrize("value,message", [
    ("2025-02-30", "Error: --as-of: expected a real calendar date YYYY-MM-DD, found '2025-02-30'"),
    ("2025-03-10", "Error: --as-of: expected a date on or after turkey-peacekeeping opens "
                   "(2025-03-11), found '2025-03-10'"),
])
def test_a_bad_as_of_is_one_line_exit_1_and_nothing_written(frozen_root, command, value, message):
    before = snapshot_files(frozen_root)
    result = invoke(*command, "--root", frozen_root, "--as-of", value)
    assert result.exit_code == 1, result.output
    assert result.stderr == message + "\n"
    assert snapshot_files(frozen_root) == before


def test_score_as_of_counts_only_resolutions_dated_by_then(frozen_root):
    history = frozen_root / "reports" / TARIFFS / "history.jsonl"
    history.parent.mkdir(parents=True)
    nodes = [{"id": "china_escalation", "mean": 0.2, "interval": [0.1, 0.3], "resolved": None},
             {"id": "reciprocal_pause", "mean": 0.4, "interval": [0.3, 0.5], "resolved": None}]
    history.write_text(json.dumps({"as_of": "2025-04-05", "nodes": nodes}) + "\n"
                       + json.dumps({"as_of": "2025-04-08", "nodes": nodes}) + "\n")
    early = invoke("score", "--root", frozen_root, "-s", TARIFFS, "--as-of", "2025-04-08", "-f", "json")
    assert early.exit_code == 0, early.output
    assert json.loads(early.stdout)["count"] == 0
    assert json.loads(early.stdout)["as_of"] == "2025-04-08"
    late = invoke("score", "--root", frozen_root, "-s", TARIFFS, "--as-of", "2025-04-09", "-f", "json")
    scored = json.loads(late.stdout)
    # Two snapshots x two resolved nodes, both resolved yes: (0.8^2 + 0.6^2) / 2.
    assert scored["count"] == 4
    assert scored["brier"] == pytest.approx((0.8**2 + 0.6**2) / 2, abs=1e-9)
    table = invoke("score", "--root", frozen_root, "-s", TARIFFS, "--as-of", "2025-04-09")
    assert table.stdout.startswith(f"Track record: {TARIFFS} (replay as of 2025-04-09: ")
    only_first = invoke("score", "--root", frozen_root, "-s", TARIFFS, "--as-of", "2025-04-07",
                        "-f", "json")
    assert json.loads(only_first.stdout)["count"] == 0


# -- forecast scenarios and evidence add --------------------------------------------------------
def test_scenarios_counts_the_overdue_questions_on_the_day(frozen_root):
    def overdue(day):
        rows = list_scenarios(frozen_root, today=day)["scenarios"]
        return {row["id"]: [n["id"] for n in row["overdue_nodes"]] for row in rows}

    assert overdue(dt.date(2025, 7, 3)) == {"turkey-peacekeeping": [], TARIFFS: []}
    assert overdue(dt.date(2025, 8, 16)) == {"turkey-peacekeeping": [], TARIFFS: ["us_q2_contraction"]}
    assert overdue(dt.date(2026, 9, 12)) == {
        "turkey-peacekeeping": ["ceasefire", "turkish_deployment"],
        TARIFFS: ["eu_retaliation_in_force", "us_china_deal", "us_q2_contraction",
                  "fed_cut_by_september"]}
    listing = list_scenarios(frozen_root, today=dt.date(2026, 9, 12))
    assert [row["overdue"] for row in listing["scenarios"]] == [2, 4]


def test_scenarios_table_shows_the_overdue_column_and_names_them(frozen_root):
    result = invoke("scenarios", "--root", frozen_root)
    assert result.exit_code == 0, result.output
    assert "┃ overdue ┃" in result.stdout.splitlines()[2]
    today = dt.date.today()
    late = overdue_nodes(load_inputs(scenario_paths(frozen_root, TARIFFS)).scenario,
                         load_inputs(scenario_paths(frozen_root, TARIFFS)).resolutions, today)
    if late:
        assert f"Overdue in {TARIFFS} (on {today.isoformat()}): {overdue_sentence(len(late))}" in result.stdout


def test_evidence_add_without_date_is_dated_today_and_says_so(frozen_root):
    result = invoke("evidence", "add", "--root", frozen_root, "--node", "ceasefire", "--lr", "2",
                    "--source", "Reuters", "--reliability", "B", "--credibility", "2",
                    "--summary", "Talks resume")
    assert result.exit_code == 0, result.output
    today = dt.date.today().isoformat()
    assert result.stdout.splitlines()[-1] == f"Dated {today} (today: no --date given)."
    rows = (frozen_root / "evidence" / "turkey-peacekeeping.csv").read_text().splitlines()
    assert rows[-1].startswith(f"E021,ceasefire,{today},")
    dated = invoke("evidence", "add", "--root", frozen_root, "--node", "ceasefire", "--lr", "2",
                   "--source", "Reuters", "--reliability", "B", "--credibility", "2",
                   "--summary", "Talks resume", "--date", "2025-03-12")
    assert "today" not in dated.stdout
    assert "default: today's date, stated in the output" in " ".join(
        invoke("evidence", "add", "--help").stdout.split()).replace("│ ", "")


# -- report and history agree ------------------------------------------------------------------
def _with_history(doc: dict, same: bool) -> dict:
    """`doc` with a one-snapshot history: the report's own forecast (same) or an older one."""
    nodes = [{"id": n["id"], "mean": n["mean"] if same else 0.5, "interval": n["interval"]}
             for n in doc["nodes"]]
    snapshot = {"as_of": doc["as_of"] if same else "2025-04-05", "generated_at": "",
                "evidence_hash": doc["evidence_hash"] if same else "sha256:old", "nodes": nodes}
    return {**doc, "history": [snapshot], "history_skipped": 0}


def test_the_current_forecast_is_the_history_charts_latest_point(frozen_root):
    from forecast.render.charts.history import history_chart
    from forecast.render.history import current_point

    doc = document(frozen_root, TARIFFS, evaluated_on=dt.date(2025, 6, 1))
    older = _with_history(doc, same=False)
    now = current_point(older)
    assert now["as_of"] == dt.date(2025, 5, 12) and not now["is_snapshot"]
    assert now["means"] == {n["id"]: n["mean"] for n in doc["nodes"]}
    assert current_point(_with_history(doc, same=True))["is_snapshot"]
    assert current_point({**doc, "given": {"us_china_deal": "yes"}}) is None
    md = render_markdown(older)
    row = next(line for line in md.splitlines() if "not yet a snapshot" in line)
    assert row.startswith("| 2025-05-12 (this report, not yet a snapshot) | ")
    assert "not yet a snapshot" not in render_markdown(_with_history(doc, same=True))
    html = render_html(older, {**NO_CHARTS, "history": "data:,"})
    assert 'id="current-not-snapshot"' in html
    assert 'id="current-not-snapshot"' not in render_html(_with_history(doc, same=True),
                                                          {**NO_CHARTS, "history": "data:,"})
    # The chart draws the extra point (and its dotted link) only when it is not a snapshot.
    assert history_chart(older) != history_chart({**older, "given": {"us_china_deal": "yes"}})


def test_update_as_of_appends_a_replayed_snapshot_dated_that_day(frozen_root):
    result = invoke("update", "--root", frozen_root, "-s", TARIFFS, "--as-of", "2025-04-08",
                    "--engine", "exact", "-f", "json")
    assert result.exit_code == 0, result.output
    snapshot = json.loads(result.stdout)["snapshot"]
    assert snapshot["as_of"] == "2025-04-08" and snapshot["replay"] is True
    assert snapshot["evaluated_on"] == "2025-04-08"
    replay = load_inputs(scenario_paths(frozen_root, TARIFFS), dt.date(2025, 4, 8))
    assert snapshot["evidence_hash"] == replay.evidence_hash
    assert all(node["resolved"] is None for node in snapshot["nodes"])   # resolved 2025-04-09
    line = json.loads((frozen_root / "reports" / TARIFFS / "history.jsonl").read_text())
    assert line["as_of"] == "2025-04-08"
    report = json.loads((frozen_root / "reports" / TARIFFS / "report.json").read_text())
    assert report["replay"] is True and report["as_of"] == "2025-04-08"


def test_whatif_as_of_conditions_the_replay(frozen_root):
    result = invoke("whatif", "--root", frozen_root, "-s", TARIFFS, "--as-of", "2025-04-08",
                    "--given", "china_escalation=no", "--engine", "exact", "-f", "json")
    assert result.exit_code == 0, result.output
    doc = json.loads(result.stdout)
    assert doc["replay"] is True and doc["as_of"] == "2025-04-08" and doc["resolutions"] == []
    report = json.loads(invoke("report", "--root", frozen_root, "-s", TARIFFS, "--as-of",
                               "2025-04-08", "--engine", "exact", "-f", "json").stdout)
    assert [n["unconditional"]["mean"] for n in doc["nodes"]] == [n["mean"] for n in report["nodes"]]
    text = invoke("whatif", "--root", frozen_root, "-s", TARIFFS, "--as-of", "2025-04-08",
                  "--given", "china_escalation=no", "--engine", "exact")
    assert "Replay as of 2025-04-08" in text.stdout
