"""`forecast new` and `forecast scenarios`: a scaffold that parses and fits as written, never
overwrites, and a listing with counts and the last snapshot; the second shipped scenario fits."""

from __future__ import annotations

import datetime as dt
import json
import re
import subprocess
import sys
import tomllib

import pytest
from conftest import REPO, cached_fit, snapshot_files
from typer.testing import CliRunner

from forecast.cli import app
from forecast.inference.diagnostics import mcse_mean
from forecast.inference.exact import state_means
from forecast.inference.problem import prepare
from forecast.io.evidence import ALL_EVIDENCE_COLUMNS, RESOLUTION_COLUMNS
from forecast.io.priors import parse_scenario
from forecast.io.scaffold import scaffold_toml
from forecast.model.scales import build_scales, default_scale_tables

runner = CliRunner()
FAST = ["--draws", "300", "--tune", "300", "--chains", "2", "--no-progress"]


def invoke(*args):
    return runner.invoke(app, list(args))


def test_scaffold_parses_and_shows_every_prior_form_and_default_scale():
    text = scaffold_toml("new-case", dt.date(2025, 5, 1))
    scenario = parse_scenario(text, "priors/new-case.toml")
    forms = {prior.form for node in scenario.nodes for prior in node.priors}
    assert forms == {"term", "p+strength", "beta", "dirichlet"}
    scale = scenario.node("scale")                         # a question of three ordered outcomes
    assert scale.states == ("none", "limited", "major") and scale.ordered
    assert re.search(r"^#   p = \[0\.6, 0\.3, 0\.1\], fixed = true", text, re.M)
    assert re.search(r"^  # p = 0\.325\n  # fixed = true$", text, re.M)   # the fourth form, commented
    assert scenario.nodes[0].deadline == dt.date(2026, 5, 1)
    for table, entries in default_scale_tables().items():
        assert f"# [scales.{table}]" in text
        for key in entries:
            assert re.search(rf"^# {re.escape(json.dumps(key) if key.isdigit() else key)} = ", text, re.M), key


def test_uncommenting_the_scales_gives_the_defaults():
    text = scaffold_toml("new-case", dt.date(2025, 5, 1))
    block = text[text.index("# [scales.likelihood_ratio]"):text.index("# ----", text.index("# [scales.likelihood_ratio]"))]
    tables = tomllib.loads("\n".join(line[2:] for line in block.splitlines() if line.startswith("# ")))
    assert build_scales(tables["scales"]) == build_scales()


def test_scaffold_escapes_title_and_trigger():
    text = scaffold_toml("x", dt.date(2025, 2, 28), title='A "quoted" \\ title', trigger="line\nbreak")
    scenario = parse_scenario(text, "priors/x.toml")
    assert scenario.title == 'A "quoted" \\ title' and scenario.trigger == "line\nbreak"


def test_scaffold_points_to_the_analysis_standard_and_the_quote_column():
    text = scaffold_toml("x", dt.date(2025, 2, 28))
    assert "docs/analysis-standard.md" in text and "quote: the verbatim sentence" in text
    assert (REPO / "docs" / "analysis-standard.md").is_file()


def test_scaffold_on_29_february_is_due_on_28_february():
    assert "deadline = 2025-02-28" in scaffold_toml("x", dt.date(2024, 2, 29))


def test_new_writes_three_files_that_validate_and_fit(tmp_path):
    result = invoke("new", "red-sea", "--root", str(tmp_path), "--format", "json")
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout) == {"scenario": "red-sea", "created": [
        "priors/red-sea.toml", "evidence/red-sea.csv", "evidence/red-sea.resolutions.csv"]}
    assert (tmp_path / "evidence" / "red-sea.csv").read_text() == ",".join(ALL_EVIDENCE_COLUMNS) + "\n"
    assert (tmp_path / "evidence" / "red-sea.resolutions.csv").read_text() == ",".join(RESOLUTION_COLUMNS) + "\n"
    fitted = invoke("report", "--root", str(tmp_path), "--scenario", "red-sea", "--format", "json", *FAST)
    assert fitted.exit_code == 0, fitted.output
    doc = json.loads(fitted.stdout)
    assert [n["id"] for n in doc["nodes"]] == ["driver_event", "consequence", "scale"]
    assert doc["evidence"] == [] and doc["history"] == []
    # No evidence: the forecast is the prior (term "unlikely" = 0.325; 0.325*0.6 + 0.675*0.1).
    assert doc["nodes"][0]["prior_mean"] == pytest.approx(0.325)
    assert doc["nodes"][1]["prior_mean"] == pytest.approx(0.2625)
    for node in doc["nodes"][:2]:
        assert node["mean"] == pytest.approx(node["prior_mean"], abs=4 * node["mcse"] + 0.01)
    # The ordered three-state question: its prior rows mixed by P(driver) = 0.325.
    expected = {s: 0.325 * yes + 0.675 * no for s, yes, no in
                (("none", 0.2, 0.6), ("limited", 0.5, 0.3), ("major", 0.3, 0.1))}
    scale = doc["nodes"][2]
    assert scale["states"] == ["none", "limited", "major"] and scale["ordered"] is True
    for row in scale["distribution"]:
        assert row["prior_mean"] == pytest.approx(expected[row["state"]], abs=1e-9)
        assert row["mean"] == pytest.approx(expected[row["state"]], abs=1e-9)


def test_new_refuses_to_overwrite_and_writes_nothing(repo_root):
    before = snapshot_files(repo_root)
    result = invoke("new", "turkey-peacekeeping", "--root", str(repo_root))
    assert result.exit_code == 1
    assert result.stderr == ("Error: priors/turkey-peacekeeping.toml: already exists: scenario "
                             "'turkey-peacekeeping' is taken (choose another id); nothing written\n")
    assert snapshot_files(repo_root) == before


def test_new_refuses_when_only_the_evidence_file_exists(tmp_path):
    (tmp_path / "evidence").mkdir()
    (tmp_path / "evidence" / "orphan.csv").write_text("kept\n")
    result = invoke("new", "orphan", "--root", str(tmp_path))
    assert result.exit_code == 1 and "evidence/orphan.csv: already exists" in result.stderr
    assert not (tmp_path / "priors" / "orphan.toml").exists()
    assert (tmp_path / "evidence" / "orphan.csv").read_text() == "kept\n"


def test_new_rejects_a_bad_id_in_one_line(tmp_path):
    result = invoke("new", "Bad Id", "--root", str(tmp_path))
    assert result.exit_code == 1
    assert result.stderr.count("\n") == 1 and "ID: expected a scenario id" in result.stderr
    assert not any(tmp_path.iterdir())


def test_scenarios_lists_counts_and_last_snapshot(repo_root):
    history = repo_root / "reports" / "us-tariffs-2025" / "history.jsonl"
    history.parent.mkdir(parents=True)
    snapshot = {"as_of": "2025-04-30", "generated_at": "2025-05-01T09:00:00+00:00",
                "nodes": [{"id": "us_china_deal", "mean": 0.4, "interval": [0.2, 0.6]}]}
    history.write_text(json.dumps({**snapshot, "as_of": "2025-04-11"}) + "\n" + json.dumps(snapshot)
                       + "\n{torn line\n")
    (repo_root / "priors" / "broken.toml").write_text("[scenario]\nid = 'broken'\n")
    result = invoke("scenarios", "--root", str(repo_root), "--format", "json")
    assert result.exit_code == 0, result.output
    rows = {row["id"]: row for row in json.loads(result.stdout)["scenarios"]}
    assert list(rows) == ["broken", "turkey-peacekeeping", "us-tariffs-2025"]
    assert rows["turkey-peacekeeping"] | {"title": None} == {
        "id": "turkey-peacekeeping", "title": None, "nodes": 13, "evidence_items": 9, "evidence_rows": 10,
        "resolutions": 0, "snapshots": 0, "last_snapshot": None, "last_snapshot_generated_at": None,
        "error": None, "overdue": rows["turkey-peacekeeping"]["overdue"],
        "overdue_nodes": rows["turkey-peacekeeping"]["overdue_nodes"]}
    tariffs = rows["us-tariffs-2025"]
    assert (tariffs["nodes"], tariffs["evidence_items"], tariffs["resolutions"]) == (7, 15, 7)
    assert tariffs["evidence_items"] >= 8
    assert (tariffs["snapshots"], tariffs["last_snapshot"]) == (2, "2025-04-30")
    assert tariffs["last_snapshot_generated_at"] == "2025-05-01T09:00:00+00:00"
    assert rows["broken"]["error"].endswith("broken.toml:scenario: title: expected a value, found 'nothing (missing)'")
    table = invoke("scenarios", "--root", str(repo_root))
    assert table.exit_code == 0
    assert "us-tariffs-2025" in table.stdout and "2025-04-30" in table.stdout and "invalid" in table.stdout


def test_scenarios_on_an_empty_root_says_how_to_start(tmp_path):
    result = invoke("scenarios", "--root", str(tmp_path))
    assert result.exit_code == 0 and "forecast new ID" in result.stdout
    assert json.loads(invoke("scenarios", "--root", str(tmp_path), "-f", "json").stdout)["scenarios"] == []


def test_new_and_scenarios_never_import_pymc_or_matplotlib(tmp_path):
    code = (
        "import sys, json\n"
        "from typer.testing import CliRunner\nfrom forecast.cli import app\n"
        f"r = CliRunner().invoke(app, ['new', 'x', '--root', {str(tmp_path)!r}])\nassert r.exit_code == 0\n"
        f"r = CliRunner().invoke(app, ['scenarios', '--root', {str(tmp_path)!r}])\nassert r.exit_code == 0\n"
        "print(json.dumps(sorted({m.split('.')[0] for m in sys.modules} & "
        "{'pymc', 'pytensor', 'arviz', 'matplotlib'})))\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert json.loads(out.stdout) == []


@pytest.mark.slow
def test_second_shipped_scenario_fits_and_agrees_with_the_exact_reference(repo_root):
    inputs, posterior = cached_fit(repo_root, "us-tariffs-2025")
    assert len({item.item_id for item in inputs.evidence}) >= 8
    assert all(p.rationale and p.reference_class for n in inputs.scenario.nodes for p in n.priors)
    problem = prepare(inputs)
    # Every state of every node (the scenario has a four-state question): NUTS within 4 MCSE of
    # the exact engine's junction tree.
    exact = state_means(problem.net, problem.state_log_weights, problem.conditions)
    draws = posterior.state_draws.reshape(-1, problem.net.n_states)
    mcse = mcse_mean(posterior.state_draws)
    for s in range(problem.net.n_states):
        assert abs(draws[:, s].mean() - exact[s]) <= 4 * mcse[s] + 1e-9, (s, draws[:, s].mean(), exact[s])
    resolved = {r.node: r.outcome for r in inputs.resolutions}
    assert resolved == {"china_escalation": True, "reciprocal_pause": True, "us_china_deal": True,
                        "us_q2_contraction": False, "fed_cut_by_september": True,
                        "eu_retaliation_in_force": False, "fed_cuts_2025": "three_or_more"}


def test_the_scaffold_says_yes_and_no_are_accepted(tmp_path):
    result = runner.invoke(app, ["new", "red-sea", "--root", str(tmp_path)])
    assert result.exit_code == 0, result.output
    assert '"yes"' in (tmp_path / "priors" / "red-sea.toml").read_text()


def test_scenarios_never_cut_an_id(tmp_path):
    """Two long ids cut alike ("red-sea-shipping-…") would look like one scenario."""
    from typer.testing import CliRunner

    from forecast.cli import app

    ids = ["red-sea-shipping-after-the-attacks", "red-sea-shipping-before-the-attacks"]
    for scenario_id in ids:
        assert CliRunner().invoke(app, ["new", scenario_id, "--root", str(tmp_path)]).exit_code == 0
    result = CliRunner().invoke(app, ["scenarios", "--root", str(tmp_path)], env={"COLUMNS": "90"})
    assert result.exit_code == 0, result.output
    assert "…" not in result.stdout
    for scenario_id in ids:
        assert f"│ {scenario_id} " in result.stdout
