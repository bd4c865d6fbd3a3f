"""Scale-out figures (bench/README.md, "Verification and bulk work on Dask"): each command in a
new `forecast` process, in process and with `--workers 2` (a LocalCluster of 2 processes),
wall-clock, and whether the two JSON outputs are identical (timing fields aside).

    python bench/scaleout.py                       # from the repository root (Dask installed)
    python bench/scaleout.py --nuts-simulations 50 # a shorter NUTS section

1. `check --engine exact --simulations 1000` on the shipped Turkey scenario.
2. `backtest --all` on the shipped scenarios.
3. `check` (NUTS) on tests/data's noisy-or-four (parametric: noisy-OR CPTs) with
   --nuts-simulations simulations, and in process with 10 (the fewest the command takes): the
   difference is the SBC time of the extra simulations, so one NUTS SBC task (simulate, fit
   500 x 2 draws after 300 tuning steps, rank) costs (T_N - T_10) / (N - 10) seconds, and the
   10-simulation run less its 10 tasks is the fixed part (start, compile, agreement fit).
4. Projection of a 10,000-simulation NUTS SBC on 32 workers: fixed part + per-task time x
   ceil(10000 / 32), assuming each worker is as fast as one core here and Dask's own cost per
   task stays as small as the 2-worker run shows (its wall against the same formula).

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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--nuts-simulations", type=int, default=100)
    parser.add_argument("--exact-simulations", type=int, default=1000)
    options = parser.parse_args()
    print("uptime:", subprocess.run(["uptime"], capture_output=True, text=True).stdout.strip())
    with tempfile.TemporaryDirectory() as scratch:
        shipped = Path(scratch) / "shipped"
        for folder in ("priors", "evidence"):
            shutil.copytree(REPO / folder, shipped / folder)
        data = Path(scratch) / "data"
        for folder in ("priors", "evidence"):
            shutil.copytree(DATA / folder, data / folder)

        compare(f"check --engine exact --simulations {options.exact_simulations} (Turkey)",
                shipped, "check", "--engine", "exact", "--simulations", str(options.exact_simulations))
        compare("backtest --all (shipped scenarios)", shipped, "backtest", "--all")

        n = options.nuts_simulations
        here, there = compare(f"check (NUTS) --simulations {n} (noisy-or-four)", data, "check",
                              "-s", "noisy-or-four", "--simulations", str(n))
        ten, _ = forecast(data, "check", "-s", "noisy-or-four", "--simulations", "10", "--no-progress")
        per_task = (here - ten) / (n - 10)
        fixed = ten - 10 * per_task
        print(f"NUTS check, 10 simulations in process: {ten:.1f} s -> one SBC task {per_task:.2f} s, "
              f"fixed part {fixed:.1f} s", flush=True)
        expected_two = fixed + math.ceil(n / 2) * per_task
        print(f"  --workers 2 by the same formula: {expected_two:.1f} s (measured {there:.1f} s)")
        projected = fixed + math.ceil(10_000 / 32) * per_task
        print(f"Projected 10,000-simulation NUTS SBC on 32 workers: {projected:.0f} s "
              f"({projected / 60:.1f} min); in process: {(fixed + 10_000 * per_task) / 3600:.1f} h")
        print("uptime:", subprocess.run(["uptime"], capture_output=True, text=True).stdout.strip())


if __name__ == "__main__":
    main()
