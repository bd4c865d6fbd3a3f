"""The posterior cache: unchanged inputs reuse the fit; any change of prior, evidence, seed or
settings refits; a damaged entry is never served."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest
from typer.testing import CliRunner

import forecast.jobs.report as workflows
from forecast.cli import app

SMALL = ["--draws", "200", "--tune", "200", "--chains", "2", "--no-progress", "--format", "json"]


@pytest.fixture
def fits(monkeypatch):
    """Counts real fits (the real `fit` still runs: a spy, not a mock)."""
    calls = []
    real = workflows.fit

    def spy(*args, **kwargs):
        calls.append(args[1])
        return real(*args, **kwargs)

    monkeypatch.setattr(workflows, "fit", spy)
    return calls


def report(root, *extra):
    result = CliRunner().invoke(app, ["report", "--root", str(root), "--scenario", "two-node-beta",
                                      *SMALL, *extra])
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def means(doc):
    return [n["mean"] for n in doc["nodes"]]


def test_unchanged_inputs_reuse_the_fit(data_root, fits):
    first = report(data_root)
    second = report(data_root)
    assert len(fits) == 1
    assert means(first) == means(second)
    assert first["diagnostics"] == second["diagnostics"]
    assert first["engine"] == second["engine"]


@pytest.mark.parametrize("change", ["prior", "evidence", "seed", "settings", "resolution"])
def test_each_input_change_invalidates(data_root, fits, change):
    before = report(data_root)
    extra = []
    if change == "prior":
        toml = data_root / "priors" / "two-node-beta.toml"
        toml.write_text(toml.read_text().replace("beta = [2.0, 2.0]", "beta = [2.0, 3.0]"))
    elif change == "evidence":
        csv = data_root / "evidence" / "two-node-beta.csv"
        csv.write_text(csv.read_text().replace(",3,,", ",4,,"))
    elif change == "seed":
        extra = ["--seed", "99"]
    elif change == "settings":
        extra = ["--draws", "250"]
    else:
        (data_root / "evidence" / "two-node-beta.resolutions.csv").write_text(
            "node,outcome,date,source\na,yes,2025-06-01,Test\n")
    after = report(data_root, *extra)
    assert len(fits) == 2
    # The exact engine's means do not depend on the seed or the number of draws; its
    # intervals (from exact iid draws) do.
    assert ([(n["mean"], n["interval"]) for n in after["nodes"]]
            != [(n["mean"], n["interval"]) for n in before["nodes"]])


def test_no_cache_option_refits(data_root, fits):
    report(data_root)
    report(data_root, "--no-cache")
    assert len(fits) == 2


def test_damaged_entry_is_refitted_not_served(data_root, fits):
    first = report(data_root)
    cache = data_root / "reports" / "two-node-beta" / ".cache"
    for entry in cache.glob("*.npz"):
        entry.write_bytes(b"not an npz file")
    second = report(data_root)
    assert len(fits) == 2
    assert means(second) == means(first)         # same seed and inputs: same draws


def test_cache_hit_never_imports_pymc(data_root):
    report(data_root)
    code = ("import sys, json; from typer.testing import CliRunner; from forecast.cli import app; "
            f"r = CliRunner().invoke(app, {['report', '--root', str(data_root), '--scenario', 'two-node-beta', *SMALL]!r}); "
            "assert r.exit_code == 0, r.output; "
            "print(json.dumps(sorted(m for m in ('pymc', 'pytensor', 'nutpie') if m in sys.modules)))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert json.loads(out.stdout.strip().splitlines()[-1]) == []
