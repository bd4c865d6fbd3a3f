"""Parametric CPTs on NUTS: the cold `forecast report` on a 6-node parametric scenario beside the
naive `pm.sample` command, and the warm in-process refit after an evidence change.

    python bench/parametric.py            # from the repository root

Prints wall-clock and CPU seconds (the machine is shared: CPU seconds say what the work costs
when wall time is inflated by other jobs). Nothing here asserts.
"""

from __future__ import annotations

import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import warnings
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
SCENARIO = "noisy-or-four"          # tests/data: 4 causes -> noisy-OR effect -> consequence
RUNS = int(os.environ.get("BENCH_RUNS", "3"))


def root_copy() -> Path:
    root = Path(tempfile.mkdtemp(prefix="forecast-bench-param-"))
    for folder in ("priors", "evidence"):
        shutil.copytree(REPO / "tests" / "data" / folder, root / folder)
    return root


def child(args: list[str], cwd: Path) -> tuple[float, float]:
    """(wall, CPU) seconds of a new process."""
    env = dict(os.environ, FORECAST_ROOT=str(cwd), PYTHONPATH=str(REPO))
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    subprocess.run(args, cwd=cwd, env=env, check=True, capture_output=True)
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return wall, (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)


NAIVE = """
import logging, warnings, sys
sys.path.insert(0, {bench!r})
warnings.simplefilter("ignore")
from forecast.io.project import load_inputs, scenario_paths
from forecast.inference.problem import prepare
from baseline import naive_fit
naive_fit(prepare(load_inputs(scenario_paths({root!r}, {scenario!r}))))
"""


def main() -> None:
    warnings.simplefilter("ignore")
    root = root_copy()
    naive = [sys.executable, "-c", NAIVE.format(bench=str(REPO / "bench"), root=str(root),
                                                scenario=SCENARIO)]
    report = [sys.executable, "-m", "forecast", "report", "--scenario", SCENARIO, "--no-progress",
              "--no-cache"]
    child(naive, root)                              # warm PyTensor's C cache, as on a used machine
    child(report, root)                             # and the compiled-model caches
    rows = []
    for name, command in (("naive pm.sample command", naive), ("forecast report --no-cache", report)):
        runs = [child(command, root) for _ in range(RUNS)]
        wall = statistics.median(r[0] for r in runs)
        cpu = statistics.median(r[1] for r in runs)
        rows.append((name, wall, cpu))
        print(f"{name:<40} wall {wall:7.2f} s   CPU {cpu:7.2f} s", flush=True)
    (_, naive_wall, naive_cpu), (_, ours_wall, ours_cpu) = rows
    print(f"{'cold report / naive command':<40} wall {ours_wall / naive_wall:7.2f}x  "
          f"CPU {ours_cpu / naive_cpu:7.2f}x   (goal <= 1.0x)")

    from forecast.inference.problem import fit, prepare
    from forecast.inference.settings import SamplerSettings
    from forecast.io.project import load_inputs, scenario_paths

    inputs = load_inputs(scenario_paths(root, SCENARIO))
    quiet = SamplerSettings(progress=False)
    start = time.perf_counter()
    fit(prepare(inputs), "auto", 1, quiet)
    print(f"{'first fit in process (compile)':<40} wall {time.perf_counter() - start:7.2f} s")
    changed = type(inputs)(inputs.scenario, inputs.evidence[1:], inputs.resolutions)
    # the default 4 x (300 tune + 1000 draws: nutpie's own warm-up); the old 1000-step warm-up;
    # and fewer draws, with the Monte Carlo error each leaves
    for label, settings in (("default 4x(300+1000)", quiet),
                            ("--tune 1000 (the old default)", SamplerSettings(progress=False, tune=1000)),
                            ("--draws 500", SamplerSettings(progress=False, draws=500))):
        walls, cpus = [], []
        for seed in range(2, 2 + RUNS):
            start, cpu = time.perf_counter(), time.process_time()
            posterior = fit(prepare(changed), "auto", seed, settings)
            walls.append(time.perf_counter() - start)
            cpus.append(time.process_time() - cpu)
        print(f"warm refit, {label:<30} wall {statistics.median(walls):7.2f} s   "
              f"CPU {statistics.median(cpus):7.2f} s   (goal <= 0.5 s)  "
              f"min ESS {posterior.diagnostics['min_ess']}, max MCSE "
              f"{100 * max(posterior.mcse):.2f} pp", flush=True)


if __name__ == "__main__":
    main()
