"""`forecast backtest`: one replay per distinct evidence date, each what `report --as-of D`
gives, scored as `forecast score` scores the history. Exact engine only: no NUTS here."""

from __future__ import annotations

import json
import math
import subprocess
import sys

import pytest
from conftest import snapshot_files
from typer.testing import CliRunner

from forecast.cli import app

runner = CliRunner()
TARIFFS = "us-tariffs-2025"


def invoke(*args):
    return runner.invoke(app, [str(a) for a in args])


def two_dates(data_root):
    """two-node-beta with evidence on two dates and both nodes resolved (see the hand
    computation below)."""
    evidence = data_root / "evidence" / "two-node-beta.csv"
    evidence.write_text(evidence.read_text() + "E2,a,2025-03-01,Test,A,1,2,,A looks twice as likely,\n")
    (data_root / "evidence" / "two-node-beta.resolutions.csv").write_text(
        "node,outcome,date,source\na,no,2025-02-15,Test\nb,yes,2025-04-01,Test\n")
    return data_root


def test_backtest_brier_equals_a_hand_computation(data_root):
    """a ~ Beta(2, 2) (mean 1/2); b | a has means 3/4 and 1/4. Joint prior (a, b):
    (1,1) 3/8, (1,0) 1/8, (0,1) 1/8, (0,0) 3/8.
    Replay 2025-02-01 (E1: LR 3 on b, grade A1, weight 1): b=yes states x3 -> 9/8, 1/8, 3/8, 3/8
    (total 2): P(a) = 10/16 = 0.625, P(b) = 12/16 = 0.75.
    Replay 2025-03-01 (E2: LR 2 on a; a resolved no on 2025-02-15): only the a=0 states
    remain, (0,1) 1/8 x 3 = 3/8 and (0,0) 3/8, so P(b) = 1/2.
    Scored: a by the first replay only (0.625 vs no), b by both (0.75 and 0.5 vs yes)."""
    root = two_dates(data_root)
    result = invoke("backtest", "--root", root, "-s", "two-node-beta", "--format", "json")
    assert result.exit_code == 0, result.output
    doc = json.loads(result.stdout)
    assert [s["as_of"] for s in doc["snapshots"]] == ["2025-02-01", "2025-03-01"]
    first, second = ({n["id"]: n for n in s["nodes"]} for s in doc["snapshots"])
    assert first["a"]["mean"] == pytest.approx(0.625, abs=1e-9)
    assert first["b"]["mean"] == pytest.approx(0.75, abs=1e-9)
    assert second["a"]["resolved"] == "no" and second["a"]["mean"] == pytest.approx(0, abs=1e-9)
    assert second["b"]["mean"] == pytest.approx(0.5, abs=1e-9)
    brier = ((0.625 - 0) ** 2 + (0.75 - 1) ** 2 + (0.5 - 1) ** 2) / 3
    log_score = (math.log(1 - 0.625) + math.log(0.75) + math.log(0.5)) / 3
    assert doc["score"]["n"] == 3
    assert doc["score"]["brier"] == pytest.approx(brier, abs=1e-6)      # 0.234375
    assert doc["score"]["log_score"] == pytest.approx(log_score, abs=1e-6)
    assert [(f["node"], f["as_of"]) for f in doc["forecasts"]] == [
        ("a", "2025-02-01"), ("b", "2025-02-01"), ("b", "2025-03-01")]


def test_backtest_json_has_the_contract_shape_and_writes_two_files(frozen_root):
    before = snapshot_files(frozen_root)
    result = invoke("backtest", "--root", frozen_root, "-s", TARIFFS, "-f", "json")
    assert result.exit_code == 0, result.output
    doc = json.loads(result.stdout)
    assert {"scenario", "snapshots", "score"} <= doc.keys() and doc["scenario"] == TARIFFS
    assert {"brier", "log_score", "n"} <= doc["score"].keys()
    assert doc["engine"] == "exact"
    dates = [s["as_of"] for s in doc["snapshots"]]
    assert dates == sorted(set(dates)) and len(dates) == 12
    for snapshot in doc["snapshots"]:
        for node in snapshot["nodes"]:
            assert {"id", "mean", "interval"} <= node.keys()
            assert 0 <= node["interval"][0] <= node["mean"] <= node["interval"][1] <= 1
    out = frozen_root / "reports" / TARIFFS
    assert json.loads((out / "backtest.json").read_text()) == doc
    assert 'id="backtest-chart"' in (out / "backtest.html").read_text()
    changed = set(snapshot_files(frozen_root)) - set(before)
    visible = {path for path in changed if not any(part.startswith(".") for part in
                                                   path.relative_to(frozen_root).parts)}
    # the two files, and the manifest that commits them as one set (io/atomic.py); the rest is
    # the hidden generation directory and the writers' lock
    assert visible == {out / "backtest.json", out / "backtest.html", out / "backtest.manifest.json"}


def test_each_replay_equals_report_as_of_that_date(frozen_root):
    doc = json.loads(invoke("backtest", "--root", frozen_root, "-s", TARIFFS, "-f", "json").stdout)
    for snapshot in (doc["snapshots"][0], doc["snapshots"][4], doc["snapshots"][-1]):
        report = invoke("report", "--root", frozen_root, "-s", TARIFFS, "--as-of",
                        snapshot["as_of"], "--engine", "exact", "-f", "json", "--no-cache")
        assert report.exit_code == 0, report.output
        document = json.loads(report.stdout)
        assert document["replay"] is True and document["as_of"] == snapshot["as_of"]
        assert document["evidence_hash"] == snapshot["evidence_hash"]
        assert [{k: n[k] for k in ("id", "mean", "interval", "resolved")}
                for n in document["nodes"]] == snapshot["nodes"]


def test_report_as_of_equals_a_report_on_truncated_files(frozen_root, tmp_path):
    """The exact engine: `report --as-of D` and a report on copies of the files with only the
    rows dated on or before D agree to 1e-9 (they are the same numbers)."""
    from test_time import _truncated_copy

    for day in ("2025-04-08", "2025-04-09", "2025-04-30"):
        replay = invoke("report", "--root", frozen_root, "-s", TARIFFS, "--as-of", day,
                        "--engine", "exact", "-f", "json")
        copy = _truncated_copy(frozen_root, tmp_path / day, TARIFFS,
                               __import__("datetime").date.fromisoformat(day))
        truncated = invoke("report", "--root", copy, "-s", TARIFFS, "--engine", "exact", "-f", "json")
        assert replay.exit_code == truncated.exit_code == 0, replay.output + truncated.output
        a, b = json.loads(replay.stdout), json.loads(truncated.stdout)
        assert a["evidence_hash"] == b["evidence_hash"]
        for x, y in zip(a["nodes"], b["nodes"], strict=True):
            for key in ("mean", "exact_mean", "prior_mean"):
                assert x[key] == pytest.approx(y[key], abs=1e-9), (day, x["id"], key)
            assert x["interval"] == pytest.approx(y["interval"], abs=1e-9)


def test_backtest_all_pools_every_scenario(frozen_root):
    single = {sid: json.loads(invoke("backtest", "--root", frozen_root, "-s", sid, "-f", "json").stdout)
              for sid in ("turkey-peacekeeping", TARIFFS)}
    result = invoke("backtest", "--root", frozen_root, "--all", "-f", "json")
    assert result.exit_code == 0, result.output
    pooled = json.loads(result.stdout)
    assert pooled["scenarios"] == ["turkey-peacekeeping", TARIFFS]
    assert pooled["score"]["n"] == sum(d["score"]["n"] for d in single.values())
    assert pooled["score"]["brier"] == single[TARIFFS]["score"]["brier"]   # Turkey: nothing resolved
    assert [b["snapshots"] for b in pooled["backtests"]] == [d["snapshots"] for d in single.values()]
    assert (frozen_root / "reports" / "backtest.json").exists()
    assert (frozen_root / "reports" / "backtest.html").exists()
    table = invoke("backtest", "--root", frozen_root, "--all")
    assert "Pooled: 8 scored forecasts of 2 resolved questions" in table.stdout


def test_backtest_with_nothing_resolved_says_so(frozen_root):
    result = invoke("backtest", "--root", frozen_root)
    assert result.exit_code == 0, result.output
    assert "Backtest of turkey-peacekeeping: 1 replays, 2025-03-11 to 2025-03-11" in result.stdout
    assert "Nothing scored" in result.stdout and "forecast resolve" in result.stdout


def test_backtest_html_escapes_untrusted_text(data_root):
    root = two_dates(data_root)
    (root / "evidence" / "two-node-beta.resolutions.csv").write_text(
        "node,outcome,date,source\nb,yes,2025-04-01,<script>alert(1)</script>\n")
    result = invoke("backtest", "--root", root, "-s", "two-node-beta")
    assert result.exit_code == 0, result.output
    html = (root / "reports" / "two-node-beta" / "backtest.html").read_text()
    assert "<script>" not in html and "&lt;script&gt;alert(1)&lt;/script&gt;" in html


def test_backtest_on_the_exact_engine_never_imports_pymc(frozen_root):
    code = ("import sys\nfrom forecast.cli import app\ntry:\n    app(['backtest', '--root', "
            f"{str(frozen_root)!r}, '-s', {TARIFFS!r}, '-f', 'json'])\nexcept SystemExit as e:\n"
            "    assert not e.code, e.code\n"
            "print(sorted(m for m in ('pymc', 'pytensor', 'arviz', 'nutpie', 'numba', 'matplotlib')"
            " if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip().splitlines()[-1] == "[]"


def test_backtest_json_matches_the_documented_shape(frozen_root):
    from test_render import check_like, documented_examples

    doc = json.loads(invoke("backtest", "--root", frozen_root, "-s", TARIFFS, "-f", "json").stdout)
    check_like(documented_examples()["backtest"], doc)


def test_the_backtest_table_cuts_neither_dates_nor_node_ids(repo_root):
    from typer.testing import CliRunner

    from forecast.cli import app

    result = CliRunner().invoke(app, ["backtest", "--root", str(repo_root)],
                                env={"COLUMNS": "160"})
    assert result.exit_code == 0, result.output
    assert "…" not in result.stdout
    rows = [line for line in result.stdout.splitlines() if line.startswith("│ 20")]
    assert rows and all(line[2:12].count("-") == 2 for line in rows)     # YYYY-MM-DD, whole
