"""The NUTS engine as users meet it, beside the naive baseline timed in the same run.

    python bench/nuts.py                      # every section, from the repository root
    python bench/nuts.py --only report check parametric backends
    python bench/nuts.py --simulations 50     # a shorter `forecast check`

Every figure is a new process (wall and CPU = user + sys of the process and its children):

- naive: bench/baseline.py's `pm.sample` of the scenario's PyMC model (PyMC's defaults, 4 x
  1000 draws after 1000 tuning steps, its C backend), run twice first so PyTensor's compile
  cache is warm, as on an analyst's machine;
- `forecast report --engine nuts --no-cache`, cold (numba's cache empty: NUMBA_CACHE_DIR set to
  a new directory) and warm (the same directory again: what a returning user has);
- `forecast check --simulations N`, cold (an empty numba cache);
- the parametric test scenarios' cold and warm reports, each beside its own naive command;
- backends, in process: each backend's first fit and warm refit (CPU), the measurement behind
  `auto`'s rule.

Nothing here asserts: it prints.
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
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
TURKEY = "turkey-peacekeeping"
PARAMETRIC = ("noisy-or-four", "log-odds-inhibitor", "mixed-parametric")
RUNS = int(os.environ.get("BENCH_RUNS", "2"))

NAIVE = """
import sys, warnings
sys.path.insert(0, {bench!r})
warnings.simplefilter("ignore")
from forecast.io.project import load_inputs, scenario_paths
from forecast.inference.problem import prepare
from baseline import naive_fit
naive_fit(prepare(load_inputs(scenario_paths({root!r}, {scenario!r}))))
"""


def root_copy(source: Path) -> Path:
    root = Path(tempfile.mkdtemp(prefix="forecast-bench-nuts-"))
    for folder in ("priors", "evidence"):
        shutil.copytree(source / folder, root / folder)
    return root


def child(args: list[str], root: Path, numba_cache: Path | None = None) -> tuple[float, float]:
    """(wall, CPU) seconds of a new process in `root`, numba's cache in `numba_cache`."""
    env = dict(os.environ, FORECAST_ROOT=str(root), PYTHONPATH=str(REPO))
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    if numba_cache is not None:
        env["NUMBA_CACHE_DIR"] = str(numba_cache)
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    subprocess.run(args, cwd=root, env=env, check=True, capture_output=True)
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return wall, (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)


def forecast(*args: str) -> list[str]:
    return [sys.executable, "-m", "forecast", *args]


def naive(root: Path, scenario: str) -> list[str]:
    return [sys.executable, "-c", NAIVE.format(bench=str(REPO / "bench"), root=str(root),
                                               scenario=scenario)]


def show(what: str, figure: tuple[float, float], base: tuple[float, float] | None = None) -> None:
    ratio = (f"   {figure[0] / base[0]:5.2f}x wall, {figure[1] / base[1]:5.2f}x CPU of naive"
             if base else "")
    print(f"{what:<62} wall {figure[0]:7.2f} s  CPU {figure[1]:7.2f} s{ratio}   "
          f"(load {os.getloadavg()[0]:.1f})", flush=True)


def median(runs: list[tuple[float, float]]) -> tuple[float, float]:
    return statistics.median(r[0] for r in runs), statistics.median(r[1] for r in runs)


def naive_figure(root: Path, scenario: str) -> tuple[float, float]:
    child(naive(root, scenario), root)             # PyTensor's compile cache warm
    figure = median([child(naive(root, scenario), root) for _ in range(RUNS)])
    show(f"naive pm.sample command, {scenario}", figure)
    return figure


def report_figures(root: Path, scenario: str, base: tuple[float, float]) -> None:
    cache = Path(tempfile.mkdtemp(prefix="forecast-bench-numba-"))
    report = forecast("report", "--scenario", scenario, "--engine", "nuts", "--no-cache",
                      "--no-progress")
    show(f"report --engine nuts --no-cache, {scenario}, empty caches", child(report, root, cache),
         base)
    warm = median([child(report, root, cache) for _ in range(RUNS)])
    show(f"report --engine nuts --no-cache, {scenario}, warm caches", warm, base)


def main() -> None:
    chosen = ("report", "check", "parametric", "backends")
    if "--only" in sys.argv:
        chosen = tuple(a for a in sys.argv[sys.argv.index("--only") + 1:] if not a.startswith("-"))
    simulations = (sys.argv[sys.argv.index("--simulations") + 1] if "--simulations" in sys.argv
                   else "200")
    turkey = root_copy(REPO)
    if "report" in chosen:
        report_figures(turkey, TURKEY, naive_figure(turkey, TURKEY))
    if "check" in chosen:
        cache = Path(tempfile.mkdtemp(prefix="forecast-bench-numba-"))
        show(f"check --simulations {simulations}, {TURKEY}, empty caches",
             child(forecast("check", "--simulations", simulations, "--no-progress"), turkey, cache))
    data = root_copy(REPO / "tests" / "data")
    if "parametric" in chosen:
        for scenario in PARAMETRIC:
            report_figures(data, scenario, naive_figure(data, scenario))
    if "backends" in chosen:
        backends(((data, "two-node-beta"), (data, "noisy-or-four"), (turkey, TURKEY)))


def backends(scenarios) -> None:
    """In process: each backend's first fit (its preparation included: PyMC's model built and
    compiled, PyTensor's cache warm from the naive runs; the kernel's plan) and its warm refit
    after an evidence change, CPU seconds of the process and its children (PyMC samples chains in
worker processes): the measurement behind `auto`."""
    sys.path.insert(0, str(REPO))
    from forecast.inference.nuts import Sampler
    from forecast.inference.problem import prepare
    from forecast.inference.settings import SamplerSettings
    from forecast.io.project import load_inputs, scenario_paths

    def cpu() -> float:
        usage = [resource.getrusage(who) for who in (resource.RUSAGE_SELF, resource.RUSAGE_CHILDREN)]
        return sum(u.ru_utime + u.ru_stime for u in usage)

    quiet = SamplerSettings(progress=False)
    for root, scenario in scenarios:
        problem = prepare(load_inputs(scenario_paths(root, scenario)))
        changed = problem.node_log_weights + 0.1
        for backend in ("nutpie", "pymc"):
            start = cpu()
            sampler = Sampler(problem.net, backend)
            sampler.sample(problem.node_log_weights, problem.hard_mask, 1, quiet)
            first = cpu() - start
            start = cpu()
            sampler.sample(changed, problem.hard_mask, 2, quiet)
            refit = cpu() - start
            print(f"{scenario:<22} {backend:<7} first fit CPU {first:7.2f} s   warm refit CPU "
                  f"{refit:6.2f} s   (load {os.getloadavg()[0]:.1f})", flush=True)

if __name__ == "__main__":
    main()
