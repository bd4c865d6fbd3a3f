"""Sampling faults are reported, not hidden: on a deliberately hard posterior (U-shaped
Beta(0.05, 0.05) priors, near-certain evidence pulling the nodes opposite ways, little tuning)
the report's diagnostics show the divergences, R-hat and ESS problems, the Markdown and HTML
say so, and `--strict` exits 1 with one line on stderr and writes nothing."""

from __future__ import annotations

import html
import json

import pytest
from conftest import DATA, copy_root, snapshot_files
from typer.testing import CliRunner

from forecast.cli import app

runner = CliRunner()
HARD = ["--scenario", "hard-sampling", "--draws", "200", "--tune", "100", "--chains", "2",
        "--no-progress", "--seed", "1", "--engine", "nuts"]
RHAT_LIMIT = 1.01
HARD_ROOT = DATA / "hard-sampling"        # a root of its own: other tests count tests/data's scenarios


@pytest.fixture
def hard_root(tmp_path):
    return copy_root(HARD_ROOT, tmp_path / "hard")


def without_locks(files: dict) -> dict:
    return {p: d for p, d in files.items() if not (p.name.endswith(".lock") and d == b"")}


@pytest.mark.slow
def test_hard_posterior_is_flagged_in_the_report_and_fails_strict(hard_root):
    before = snapshot_files(hard_root)
    strict = runner.invoke(app, ["report", "--root", str(hard_root), *HARD, "--strict"])
    assert strict.exit_code == 1, strict.stdout
    lines = strict.stderr.splitlines()
    assert len(lines) == 1, strict.stderr
    assert lines[0].startswith("Error: ") and "hard-sampling.toml" in lines[0]
    assert ": diagnostics: --strict: " in lines[0] and lines[0].endswith("nothing written")
    assert strict.stdout == ""
    assert without_locks(snapshot_files(hard_root)) == before       # no report, no cached fit

    loose = runner.invoke(app, ["report", "--root", str(hard_root), *HARD, "--format", "json"])
    assert loose.exit_code == 0, loose.stderr
    diagnostics = json.loads(loose.stdout)["diagnostics"]
    assert diagnostics["divergences"] > 0 or diagnostics["max_rhat"] > RHAT_LIMIT
    assert diagnostics["warnings"]
    assert "; ".join(diagnostics["warnings"]) in lines[0]          # strict named the same problems
    if diagnostics["divergences"]:
        assert any(w.startswith(f"{diagnostics['divergences']} divergent transitions: ")
                   and "rerun with --tune" in w for w in diagnostics["warnings"])
    if diagnostics["max_rhat"] > RHAT_LIMIT:
        assert any(w.startswith("R-hat") for w in diagnostics["warnings"])
    folder = hard_root / "reports" / "hard-sampling"
    assert json.loads((folder / "report.json").read_text())["diagnostics"] == diagnostics
    shown = "; ".join(diagnostics["warnings"])
    assert shown in (folder / "report.md").read_text()
    assert f"Sampling problems: {html.escape(shown, quote=False)}" in (folder / "report.html").read_text()


@pytest.mark.slow
def test_update_strict_on_the_hard_posterior_appends_nothing(hard_root):
    before = snapshot_files(hard_root)
    result = runner.invoke(app, ["update", "--root", str(hard_root), *HARD, "--strict"])
    assert result.exit_code == 1, result.stdout
    assert len(result.stderr.splitlines()) == 1 and ": diagnostics: --strict: " in result.stderr
    assert without_locks(snapshot_files(hard_root)) == before


def _no_constants(name: str):
    raise ValueError(f"{name} is not JSON")


@pytest.mark.slow
def test_report_json_stays_strict_json_on_extreme_priors(hard_root):
    result = runner.invoke(app, ["report", "--root", str(hard_root), *HARD, "--format", "json"])
    assert result.exit_code == 0, result.stderr
    json.loads(result.stdout, parse_constant=_no_constants)
