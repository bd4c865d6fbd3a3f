"""Tests never touch the checkout's own data: every test works on a copy in a temporary root,
shipped scenarios are read as committed (conftest.shipped_data), and an analyst's day of use
(evidence added, a question resolved, reports written) in the live files breaks no test. The
conftest also hashes the checkout's priors/, evidence/ and reports/ around every run and fails the
run if they changed."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys

import pytest
from conftest import REPO, live_digest, shipped_data
from typer.testing import CliRunner

from forecast.cli import app

IGNORED = shutil.ignore_patterns(".git", "reports", "__pycache__", ".pytest_cache", ".hypothesis",
                                 "*.egg-info", ".cache", "build", "dist")


def test_the_guard_sees_any_change_under_priors_evidence_and_reports(tmp_path):
    for folder in ("priors", "evidence", "reports/x"):
        (tmp_path / folder).mkdir(parents=True)
    (tmp_path / "evidence" / "a.csv").write_text("item_id\n")
    before = live_digest(tmp_path)
    assert live_digest(tmp_path) == before
    (tmp_path / "reports" / "x" / "history.jsonl").write_text("{}\n")       # a new file
    after_new = live_digest(tmp_path)
    assert after_new != before
    (tmp_path / "evidence" / "a.csv").write_text("item_id\r\n")               # one byte changed
    assert live_digest(tmp_path) not in (before, after_new)


def test_shipped_data_is_what_git_holds_not_the_live_files(tmp_path):
    """The user's uncommitted rows never reach a test; outside git, a plain copy."""
    root = shipped_data(tmp_path / "shipped")
    committed = subprocess.run(["git", "-C", str(REPO), "show", "HEAD:evidence/turkey-peacekeeping.csv"],
                               capture_output=True)
    if committed.returncode != 0:
        pytest.skip("not a git checkout: shipped data is a copy of the live files")
    assert (root / "evidence" / "turkey-peacekeeping.csv").read_bytes() == committed.stdout
    assert sorted(p.name for p in (root / "priors").iterdir()) == sorted(
        subprocess.run(["git", "-C", str(REPO), "ls-tree", "--name-only", "HEAD", "priors/"],
                       capture_output=True, text=True, check=True).stdout.replace("priors/", "").split())


@pytest.mark.slow
def test_a_day_of_use_in_the_live_files_breaks_no_test_and_tests_write_nothing_there(tmp_path):
    """A clone of this checkout; the analyst adds an item, resolves a question and writes a report
    in its live files; the tests that read the shipped scenarios (and write copies of them) still
    pass there, and leave its priors/, evidence/ and reports/ byte for byte as they were."""
    clone = tmp_path / "clone"
    shutil.copytree(REPO, clone, ignore=IGNORED)
    env = {**os.environ, "GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@t", "GIT_COMMITTER_NAME": "t",
           "GIT_COMMITTER_EMAIL": "t@t", "PYTHONPATH": str(clone)}
    env.pop("FORECAST_ROOT", None)
    env.pop("FORECAST_SHIPPED", None)
    for command in (["git", "init", "-q"], ["git", "add", "-A"], ["git", "commit", "-qm", "shipped"]):
        subprocess.run(command, cwd=clone, env=env, check=True, capture_output=True)

    runner = CliRunner()
    added = runner.invoke(app, ["evidence", "add", "--root", str(clone), "--node", "ceasefire",
                                "--lr", "strongly_for", "--source", "Reuters 2025-04-02",
                                "--reliability", "A", "--credibility", "2",
                                "--summary", "Both sides agree a 30-day truce", "--date", "2025-04-02"])
    assert added.exit_code == 0, added.output
    resolved = runner.invoke(app, ["resolve", "ceasefire", "no", "--root", str(clone), "--date",
                                   "2026-03-11", "--source", "Reuters, 11 Mar 2026: no ceasefire agreed"])
    assert resolved.exit_code == 0, resolved.output
    report = runner.invoke(app, ["report", "--root", str(clone), "--format", "json", "--engine", "exact"])
    assert report.exit_code == 0, report.output
    before = live_digest(clone)

    modules = ["tests/test_shipped_scenarios.py", "tests/test_scenario_errors.py", "tests/test_resolve.py",
               "tests/test_new_and_scenarios.py", "tests/test_data_isolation.py"]
    run = subprocess.run([sys.executable, "-m", "pytest", "-q", "-x", "-m", "not slow",
                          "-p", "no:cacheprovider", *modules],
                         cwd=clone, env=env, capture_output=True, text=True)
    assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-2000:]
    assert " passed" in run.stdout and "failed" not in run.stdout
    assert live_digest(clone) == before


@pytest.mark.skipif(not (REPO / ".git").exists(), reason="not a git checkout")
def test_everything_the_commands_write_under_reports_is_ignored_by_git():
    written = ["reports/score.json", "reports/score.html", "reports/backtest.json",
               "reports/backtest.manifest.json", "reports/turkey-peacekeeping/report.html",
               "reports/turkey-peacekeeping/.last-report.json"]
    result = subprocess.run(["git", "-C", str(REPO), "check-ignore", "--no-index", *written],
                            capture_output=True, text=True)
    assert sorted(result.stdout.split()) == sorted(written)
    kept = subprocess.run(["git", "-C", str(REPO), "check-ignore", "--no-index",
                           "reports/.gitkeep"], capture_output=True, text=True)
    assert kept.returncode == 1
