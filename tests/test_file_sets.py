"""check, score and backtest replace their .json and .html as one set, like the report set: a
reader through the manifest (`read_file_set`) gets both files of one run, and the plain files
are that run's."""

from __future__ import annotations

import json

import pytest
from conftest import FROZEN, copy_root
from typer.testing import CliRunner

from forecast.cli import app
from forecast.io.atomic import read_file_set

runner = CliRunner()
SCENARIO = "turkey-peacekeeping"


@pytest.fixture
def root(tmp_path):
    root = copy_root(FROZEN, tmp_path / "root")
    done = runner.invoke(app, ["report", "--root", str(root), "--scenario", SCENARIO])
    assert done.exit_code == 0, done.output
    return root


def _assert_one_set(directory, name):
    files = read_file_set(directory, name)
    assert sorted(files) == [f"{name}.html", f"{name}.json"]
    for file_name, data in files.items():
        assert (directory / file_name).read_bytes() == data
    return json.loads(files[f"{name}.json"])


@pytest.mark.parametrize("command", [
    ["score"],
    ["backtest"],
    ["check", "--engine", "exact", "--simulations", "10"],
])
def test_each_command_commits_its_pair_through_a_manifest(root, command):
    name = command[0]
    directory = root / "reports" / SCENARIO
    for _ in range(2):        # the second run replaces the first set as one
        done = runner.invoke(app, [*command, "--root", str(root), "--scenario", SCENARIO])
        assert done.exit_code == 0, done.output
        assert SCENARIO in json.dumps(_assert_one_set(directory, name))
    generations = [p for p in directory.iterdir() if p.name.startswith(f".{name}-generation-")]
    assert 1 <= len(generations) <= 2          # the current one and at most the previous


def test_the_pooled_score_of_every_scenario_is_a_set_of_its_own(root):
    done = runner.invoke(app, ["score", "--root", str(root), "--all"])
    assert done.exit_code == 0, done.output
    pooled = _assert_one_set(root / "reports", "score")
    assert SCENARIO in json.dumps(pooled)
    _assert_one_set(root / "reports" / SCENARIO, "score")
