"""--workers N and --scheduler ADDRESS: check, backtest and sensitivity give the same JSON, bit
for bit, in process and on Dask (a LocalCluster of 2 worker processes shared by this module);
without either option Dask is never imported; a worker that dies mid-run costs a retry, not a
different result; a missing Dask or an unreachable scheduler is one line, exit 1, nothing written."""

from __future__ import annotations

import json
import logging
import os
import socket
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from conftest import DATA, FROZEN, copy_root, snapshot_files
from typer.testing import CliRunner

from forecast.cli import app

distributed = pytest.importorskip("distributed")

runner = CliRunner()
TIMING = {"generated_at"}


def without_timing(value):
    if isinstance(value, dict):
        return {k: without_timing(v) for k, v in value.items() if k not in TIMING}
    if isinstance(value, list):
        return [without_timing(v) for v in value]
    return value


@pytest.fixture(scope="module")
def cluster():
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                                  host="127.0.0.1", dashboard_address="127.0.0.1:0",
                                  silence_logs=logging.ERROR) as local:
        yield local


@pytest.fixture(scope="module")
def roots(tmp_path_factory) -> dict[str, Path]:
    """The frozen shipped scenarios and the small hand-checked networks, read only here (each
    command below writes its reports to a copy)."""
    base = tmp_path_factory.mktemp("scaleout")
    return {"frozen": copy_root(FROZEN, base / "frozen"), "data": copy_root(DATA, base / "data")}


def fresh(roots, name: str, tmp_path: Path, label: str) -> Path:
    return copy_root(roots[name], tmp_path / label)


def run_json(*args) -> dict:
    result = runner.invoke(app, [str(a) for a in args])
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def test_check_json_is_identical_in_process_and_on_a_cluster(roots, cluster, tmp_path):
    args = ("check", "-s", "two-node-beta", "--engine", "exact", "--simulations", "20", "-f", "json",
            "--no-progress")
    here = run_json(*args, "--root", fresh(roots, "data", tmp_path, "here"))
    there = run_json(*args, "--root", fresh(roots, "data", tmp_path, "there"),
                     "--scheduler", cluster.scheduler_address)
    assert here["sbc"]["simulations"] == 20 and here["agreement"]["reference_draws"] == 40000
    assert without_timing(there) == without_timing(here)
    written = tmp_path / "there" / "reports" / "two-node-beta" / "check.json"
    assert without_timing(json.loads(written.read_text())) == without_timing(here)


def test_k_state_check_json_is_identical_in_process_and_on_a_cluster(cluster, tmp_path):
    """Per node-state rows, the Dirichlet reference's batches and the k-state SBC simulations
    keep one seed per task too."""
    from test_k_state_check import k_state_root

    args = ("check", "-s", "k-state", "--engine", "exact", "--simulations", "20", "-f", "json",
            "--no-progress")
    here = run_json(*args, "--root", k_state_root(tmp_path / "here"))
    there = run_json(*args, "--root", k_state_root(tmp_path / "there"),
                     "--scheduler", cluster.scheduler_address)
    assert len(here["agreement"]["states"]) == 8 and here["sbc"]["simulations"] == 20
    assert without_timing(there) == without_timing(here)


def test_backtest_all_is_identical_with_two_local_workers(roots, tmp_path):
    here_root = fresh(roots, "frozen", tmp_path, "here")
    there_root = fresh(roots, "frozen", tmp_path, "there")
    here = run_json("backtest", "--all", "-f", "json", "--root", here_root)
    there = run_json("backtest", "--all", "-f", "json", "--root", there_root, "--workers", "2")
    assert sum(len(b["snapshots"]) for b in here["backtests"]) > 2
    assert without_timing(there) == without_timing(here)
    for scenario in ("turkey-peacekeeping", "us-tariffs-2025"):
        documents = [json.loads((root / "reports" / scenario / "backtest.json").read_text())
                     for root in (here_root, there_root)]
        assert without_timing(documents[1]) == without_timing(documents[0])


def test_sensitivity_is_identical_on_a_cluster_in_several_batches(roots, cluster, monkeypatch):
    from forecast.analysis import decisions

    args = ("sensitivity", "--root", roots["frozen"], "-s", "us-tariffs-2025", "-f", "json")
    whole = run_json(*args)
    monkeypatch.setattr(decisions, "SENSITIVITY_TASK_ROWS", 8)   # several tasks
    here = run_json(*args)
    there = run_json(*args, "--scheduler", cluster.scheduler_address)
    assert there == here
    for target, rows in whole.items():
        assert [r["node"] for r in here[target]] == [r["node"] for r in rows]
        assert [r["low"] for r in here[target]] == pytest.approx([r["low"] for r in rows], abs=1e-9)


def sbc_task_dying_once(shared, item):
    """The SBC task, except that simulation 2 ends its worker process the first time it runs."""
    from forecast.jobs.check import sbc_task

    marker, task = shared
    index, seed = item
    if index == 2 and not Path(marker).exists():
        Path(marker).touch()
        os._exit(1)
    return sbc_task(task, seed)


def test_a_task_whose_worker_dies_is_retried_with_the_same_result(roots, cluster, tmp_path):
    from forecast.analysis.sbc import SbcSettings
    from forecast.inference.problem import prepare
    from forecast.inference.settings import SamplerSettings
    from forecast.io.project import load_inputs, scenario_paths
    from forecast.jobs.check import SbcTask, sbc_task
    from forecast.parallel import Where, task_seeds, tasks

    net = prepare(load_inputs(scenario_paths(roots["frozen"], "turkey-peacekeeping"))).net
    task = SbcTask(net, "exact", SbcSettings(simulations=4), SamplerSettings(draws=100, chains=1))
    seeds = task_seeds(7, 4)
    expected = [sbc_task(task, seed) for seed in seeds]
    marker = tmp_path / "died"
    with tasks(Where(scheduler=cluster.scheduler_address)) as place:
        got = place.map(sbc_task_dying_once, list(enumerate(seeds)), (str(marker), task))
    assert marker.exists()                        # a worker did die mid-run
    assert [int(d) for _, d in got] == [int(d) for _, d in expected]
    for (ranks, _), (want, _) in zip(got, expected, strict=True):
        np.testing.assert_array_equal(ranks, want)


def always_dies(shared, item):
    os._exit(1)


def test_a_task_that_keeps_killing_workers_is_one_error_line(cluster):
    from forecast.errors import ForecastError
    from forecast.parallel import Where, tasks

    with tasks(Where(scheduler=cluster.scheduler_address)) as place, \
            pytest.raises(ForecastError, match="ended 3 worker processes in turn"):
        place.map(always_dies, [0])


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.mark.parametrize("command", [
    ("check", "--engine", "exact", "--simulations", "10"),
    ("backtest", "--all"),
    ("sensitivity",),
])
def test_an_unreachable_scheduler_is_one_line_exit_1_and_nothing_written(roots, tmp_path, command,
                                                                         monkeypatch):
    from forecast import parallel

    monkeypatch.setattr(parallel, "CONNECT_TIMEOUT_S", 1)
    root = fresh(roots, "frozen", tmp_path, "root")
    before = snapshot_files(root)
    address = f"tcp://127.0.0.1:{free_port()}"
    result = runner.invoke(app, [*command, "--root", str(root), "--scheduler", address])
    assert result.exit_code == 1
    assert result.stderr == (f"Error: forecast: --scheduler: cannot reach a Dask scheduler at "
                             f"{address} within 1 s\n")
    assert snapshot_files(root) == before


def test_without_dask_the_options_say_how_to_install_it(roots, tmp_path, monkeypatch):
    root = fresh(roots, "frozen", tmp_path, "root")
    before = snapshot_files(root)
    monkeypatch.setitem(sys.modules, "distributed", None)    # as if it were not installed
    monkeypatch.setitem(sys.modules, "dask", None)
    for args, option in ((("check", "--engine", "exact", "--simulations", "10", "--workers", "2"), "--workers"),
                         (("backtest", "--scheduler", "tcp://127.0.0.1:8786"), "--scheduler")):
        result = runner.invoke(app, [*args, "--root", str(root)])
        assert result.exit_code == 1
        assert result.stderr == f'Error: forecast: {option}: needs Dask: pip install "forecast[distributed]"\n'
    assert snapshot_files(root) == before


def test_workers_and_scheduler_together_are_a_usage_error(roots):
    result = runner.invoke(app, ["sensitivity", "--root", str(roots["frozen"]), "--workers", "2",
                                 "--scheduler", "tcp://127.0.0.1:8786"])
    assert result.exit_code == 2
    words = " ".join(result.stderr.replace("│", " ").split())
    assert "give one of --workers and --scheduler, not both" in words


def test_without_workers_or_scheduler_dask_is_never_imported(roots, tmp_path):
    frozen, data = fresh(roots, "frozen", tmp_path, "frozen"), fresh(roots, "data", tmp_path, "data")
    code = f"""
import sys
from typer.testing import CliRunner
from forecast.cli import app
runner = CliRunner()
for args in (["check", "--root", {str(data)!r}, "-s", "two-node-beta", "--engine", "exact",
              "--simulations", "10"],
             ["backtest", "--all", "--root", {str(frozen)!r}], ["sensitivity", "--root", {str(frozen)!r}]):
    result = runner.invoke(app, args)
    assert result.exit_code == 0, result.output
print(",".join(sorted({{m.split(".")[0] for m in sys.modules}} & {{"dask", "distributed"}})))
"""
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == ""


@pytest.mark.slow
def test_nuts_check_is_identical_on_a_cluster_and_compiles_once_per_worker(roots, cluster, tmp_path):
    args = ("check", "-s", "noisy-or-four", "--simulations", "10", "--draws", "200", "-f", "json",
            "--no-progress")
    here = run_json(*args, "--root", fresh(roots, "data", tmp_path, "here"))
    there = run_json(*args, "--root", fresh(roots, "data", tmp_path, "there"),
                     "--scheduler", cluster.scheduler_address)
    assert here["agreement"]["reference"] == "importance sampling over the priors"
    assert without_timing(there) == without_timing(here)

    def compiled_models():
        from forecast.inference import nuts

        return len(nuts._SAMPLERS)

    with distributed.Client(cluster) as client:
        per_worker = client.run(compiled_models)
    # one structure: at most one compile per worker, however Dask placed the ten tasks (a worker
    # it gave none, or one restarted by an earlier test, compiled nothing)
    assert all(count <= 1 for count in per_worker.values()) and sum(per_worker.values()) >= 1
