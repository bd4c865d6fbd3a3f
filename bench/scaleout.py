"""Scale-out figures (bench/README.md, "Verification and bulk work on Dask"): each command in a
new `forecast` process, in process and with `--workers 2` (a LocalCluster of 2 processes),
wall-clock, and whether the two JSON outputs are identical (timing fields aside).

    python bench/scaleout.py                       # from the repository root (Dask installed)
    python bench/scaleout.py --only-nuts --nuts-simulations 0   # the per-task time alone

1. `check --engine exact --simulations 1000` on the shipped Turkey scenario.
2. `backtest --all` on the shipped scenarios.
3. `check` (NUTS) on tests/data's noisy-or-four (parametric: noisy-OR CPTs) with
   --nuts-simulations simulations (0 skips it).
4. One NUTS SBC task (simulate, fit 500 x 2 draws after 300 tuning steps, rank) timed as a worker
   runs it, in a new process: the first (PyMC's import and the compile included), then the mean
   of --task-samples more. Projection of a 10,000-simulation NUTS SBC on 32 workers: the first
   task + ceil(10000 / 32) x the mean, assuming each worker is as fast as one core here and
   Dask's own cost per task (milliseconds) is negligible beside a NUTS fit.

Nothing asserts: it prints. The machine is shared; `uptime` is printed beside the figures.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
DATA = REPO / "tests" / "data"


def forecast(root: Path, *args: str) -> tuple[float, dict]:
    """Wall-clock seconds of one `forecast` process, and its JSON output."""
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    start = time.perf_counter()
    done = subprocess.run([sys.executable, "-m", "forecast", *args, "--root", str(root), "-f", "json"],
                          capture_output=True, text=True, env=env)
    wall = time.perf_counter() - start
    if done.returncode not in (0, 1) or not done.stdout.strip():
        raise SystemExit(f"forecast {' '.join(args)} failed:\n{done.stderr}")
    return wall, json.loads(done.stdout)


def without_timing(value):
    if isinstance(value, dict):
        return {k: without_timing(v) for k, v in value.items() if k != "generated_at"}
    if isinstance(value, list):
        return [without_timing(v) for v in value]
    return value


def compare(label: str, root: Path, *args: str, workers: int = 2) -> tuple[float, float]:
    here, here_doc = forecast(root, *args, "--no-progress")
    there, there_doc = forecast(root, *args, "--workers", str(workers), "--no-progress")
    same = without_timing(here_doc) == without_timing(there_doc)
    print(f"{label:<52} in process {here:7.1f} s   --workers {workers} {there:7.1f} s   "
          f"ratio {there / here:.2f}x   identical JSON: {same}", flush=True)
    return here, there


def nuts_task_times(root: Path, samples: int) -> tuple[float, float]:
    """(the first SBC task's seconds, PyMC's import and the compile included; the mean of the
    next `samples` tasks'), as a worker runs them: `forecast.jobs.check.sbc_task`, in a new
    process."""
    code = f"""
import time
t0 = time.perf_counter()
from forecast.analysis.sbc import SbcSettings
from forecast.inference.problem import prepare
from forecast.inference.settings import SamplerSettings
from forecast.io.project import load_inputs, scenario_paths
from forecast.jobs.check import SbcTask, sbc_task
from forecast.parallel import task_seeds
net = prepare(load_inputs(scenario_paths({str(root)!r}, "noisy-or-four"))).net
task = SbcTask(net, "nuts", SbcSettings(), SamplerSettings(draws=500, tune=300, chains=2,
                                                           progress=False, backend="nutpie"))
seeds = task_seeds(0, {samples} + 1)
sbc_task(task, seeds[0])
t1 = time.perf_counter()
for seed in seeds[1:]:
    sbc_task(task, seed)
print(t1 - t0, (time.perf_counter() - t1) / {samples})
"""
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env,
                          check=True)
    first, per_task = (float(x) for x in done.stdout.split()[-2:])
    return first, per_task


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--nuts-simulations", type=int, default=100)
    parser.add_argument("--exact-simulations", type=int, default=1000)
    parser.add_argument("--task-samples", type=int, default=10,
                        help="NUTS SBC tasks timed after the first, for the projection")
    parser.add_argument("--only-nuts", action="store_true", help="skip the exact and backtest figures")
    options = parser.parse_args()
    print("uptime:", subprocess.run(["uptime"], capture_output=True, text=True).stdout.strip())
    with tempfile.TemporaryDirectory() as scratch:
        shipped = Path(scratch) / "shipped"
        for folder in ("priors", "evidence"):
            shutil.copytree(REPO / folder, shipped / folder)
        data = Path(scratch) / "data"
        for folder in ("priors", "evidence"):
            shutil.copytree(DATA / folder, data / folder)

        if not options.only_nuts:
            compare(f"check --engine exact --simulations {options.exact_simulations} (Turkey)",
                    shipped, "check", "--engine", "exact", "--simulations",
                    str(options.exact_simulations))
            compare("backtest --all (shipped scenarios)", shipped, "backtest", "--all")

        n = options.nuts_simulations
        if n:
            compare(f"check (NUTS) --simulations {n} (noisy-or-four)", data, "check",
                    "-s", "noisy-or-four", "--simulations", str(n))
        first, per_task = nuts_task_times(data, options.task_samples)
        print(f"one NUTS SBC task in process (noisy-or-four; mean of {options.task_samples} after the "
              f"first): {per_task:.2f} s; the first, with PyMC's import and the compile: {first:.1f} s",
              flush=True)
        projected = first + math.ceil(10_000 / 32) * per_task
        print(f"Projected 10,000-simulation NUTS SBC on 32 workers: {projected:.0f} s "
              f"({projected / 60:.1f} min) = first task {first:.0f} s + ceil(10000 / 32) x {per_task:.2f} s; "
              f"in one process: {(first + 10_000 * per_task) / 3600:.1f} h", flush=True)
        print("uptime:", subprocess.run(["uptime"], capture_output=True, text=True).stdout.strip())


if __name__ == "__main__":
    main()
