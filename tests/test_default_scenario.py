"""Without --scenario a command works on the root's default scenario: the only one there, or
turkey-peacekeeping among several; otherwise one line lists them."""

from __future__ import annotations

import json

from typer.testing import CliRunner

from forecast.api import Project
from forecast.cli import app

runner = CliRunner()


def new(root, scenario_id):
    result = runner.invoke(app, ["new", scenario_id, "--root", str(root)])
    assert result.exit_code == 0, result.output


def test_a_project_of_one_new_scenario_needs_no_scenario_option(tmp_path):
    new(tmp_path, "red-sea-shipping")
    report = runner.invoke(app, ["report", "--root", str(tmp_path), "--format", "json"])
    assert report.exit_code == 0, report.output
    assert json.loads(report.stdout)["scenario"] == "red-sea-shipping"
    validate = runner.invoke(app, ["evidence", "validate", "--root", str(tmp_path)])
    assert validate.exit_code == 0 and "priors/red-sea-shipping.toml" in validate.stdout
    assert Project(tmp_path).paths().scenario_id == "red-sea-shipping"


def test_several_scenarios_without_the_shipped_one_are_listed(tmp_path):
    new(tmp_path, "red-sea-shipping")
    new(tmp_path, "panama-drought")
    result = runner.invoke(app, ["evidence", "list", "--root", str(tmp_path)])
    assert (result.exit_code, result.stderr) == (1, (
        f"Error: --scenario: needed: 2 scenarios under {tmp_path}, none of them "
        "turkey-peacekeeping; give one of panama-drought, red-sea-shipping\n"))


def test_the_shipped_scenario_stays_the_default_among_several(repo_root):
    new(repo_root, "red-sea-shipping")
    assert Project(repo_root).paths().scenario_id == "turkey-peacekeeping"


def test_an_empty_root_says_how_to_start(tmp_path):
    result = runner.invoke(app, ["report", "--root", str(tmp_path)])
    assert (result.exit_code, result.stderr) == (1, (
        f"Error: {tmp_path / 'priors'}: no scenario here (no priors/<id>.toml): `forecast new "
        "ID` starts one, --root DIR points at another project\n"))


def test_the_readmes_example_ids_are_the_next_free_id_of_the_shipped_evidence(shipped_root):
    import re
    from pathlib import Path

    from forecast.io.evidence_rows import next_item_id
    from forecast.io.project import load_inputs, scenario_paths

    readme = (Path(__file__).resolve().parents[1] / "README.md").read_text()
    edited = set(re.findall(r"forecast evidence (?:edit|remove) (E\d+)", readme))
    evidence = load_inputs(scenario_paths(shipped_root, "turkey-peacekeeping")).evidence
    assert edited == {next_item_id(evidence)}
