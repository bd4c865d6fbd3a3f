"""Print every performance figure of bench/README.md in one run, baseline beside it.

    python bench/run.py                      # every section, from the repository root
    python bench/run.py --only users scale   # some sections: baseline users scale items nuts decisions

Figures are as users meet them: a new `forecast` process per command (wall-clock), beside the
naive baseline command (bench/baseline.py: a plain `pm.sample` of the same network in a new
process) measured in the same run. The scale section adds pyAgrum (LazyPropagation) on the
same generated networks and the largest difference of any mean from it.

Figures are wall-clock seconds on this machine; ratios are against the naive baseline
(bench/baseline.py) measured in the same process. Nothing here asserts: it prints.
"""

from __future__ import annotations

import json
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

import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "bench"))
sys.path.insert(0, str(REPO / "tests"))           # pyagrum_peer: the adapter the tests use

from baseline import min_ess, naive_fit  # noqa: E402

from forecast.analysis.document import build_report  # noqa: E402
from forecast.inference.exact import structure_of  # noqa: E402
from forecast.inference.problem import fit, prepare  # noqa: E402
from forecast.inference.settings import SamplerSettings  # noqa: E402
from forecast.io.priors import parse_scenario  # noqa: E402
from forecast.io.project import load_inputs, scenario_paths  # noqa: E402
from forecast.model.generate import evidence_csv, scenario_toml  # noqa: E402
from forecast.model.network import build_network  # noqa: E402

SCENARIO = "turkey-peacekeeping"
QUIET = SamplerSettings(progress=False)
rows: list[tuple[str, str, str, str]] = []


def row(what: str, ours: float | str, baseline: float | str = "", target: str = "") -> None:
    def fmt(x):
        return f"{x:.3f}" if isinstance(x, float) else str(x)

    ratio = f"{ours / baseline:.3f}x" if isinstance(ours, float) and isinstance(baseline, float) else ""
    rows.append((what, fmt(ours), fmt(baseline), ratio + (f"  (target {target})" if target else "")))
    print(f"{what:<58} {fmt(ours):>10} {fmt(baseline):>10} {rows[-1][3]}", flush=True)


def timed(fn, *args, **kwargs):
    start = time.perf_counter()
    value = fn(*args, **kwargs)
    return time.perf_counter() - start, value


def copy_root() -> Path:
    root = Path(tempfile.mkdtemp(prefix="forecast-bench-"))
    for folder in ("priors", "evidence"):
        shutil.copytree(REPO / folder, root / folder)
    return root


def user_env(root: Path) -> dict:
    """The environment of a user's shell: Python writes bytecode caches as usual (a sandbox that
    sets PYTHONDONTWRITEBYTECODE would otherwise make every process recompile the package)."""
    env = dict(os.environ, FORECAST_ROOT=str(root))
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    return env


def cli(root: Path, *args: str) -> float:
    """Wall-clock seconds of one `forecast` command as a new process; its CPU seconds (user +
    sys, what the wall would be on an idle machine) are kept in CPU[-1]."""
    env = user_env(root)
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    subprocess.run([sys.executable, "-m", "forecast", *args], cwd=root, env=env, check=True,
                   capture_output=True)
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    CPU.append(after.ru_utime + after.ru_stime - before.ru_utime - before.ru_stime)
    return wall


CPU: list[float] = []


def timed_cli(label: str, runs: list[float], cpus: list[float], baseline: float | str = "",
              target: str = "") -> None:
    """A command's figure twice: median wall-clock, and median CPU time (the wall-clock of an
    idle machine; on a shared one the wall is mostly waiting)."""
    row(f"{label}, wall (s)", statistics.median(runs), baseline, target)
    row(f"{label}, CPU (s)", statistics.median(cpus), baseline, target)


def imports_pymc(root: Path, *args: str) -> bool:
    """Run the command in a fresh interpreter and say whether PyMC or PyTensor got imported."""
    code = "\n".join([
        "import sys",
        "from forecast.cli import app",
        "try:",
        f"    app({list(args)!r})",
        "except SystemExit:",
        "    pass",
        "print('PYMC' if {'pymc', 'pytensor'} & set(sys.modules) else 'CLEAN')",
    ])
    out = subprocess.run([sys.executable, "-c", code], cwd=root, capture_output=True, text=True,
                         env=dict(os.environ, FORECAST_ROOT=str(root)))
    return "PYMC" in out.stdout


def generated_root(sizes: dict[str, tuple[int, int]]) -> Path:
    """Scenarios named by `sizes`: id -> (nodes, evidence items)."""
    root = Path(tempfile.mkdtemp(prefix="forecast-bench-gen-"))
    (root / "priors").mkdir()
    (root / "evidence").mkdir()
    for scenario_id, (n_nodes, n_items) in sizes.items():
        text = scenario_toml(scenario_id, n_nodes, seed=n_nodes)
        (root / "priors" / f"{scenario_id}.toml").write_text(text)
        nodes = list(parse_scenario(text, f"{scenario_id}.toml").node_ids)
        (root / "evidence" / f"{scenario_id}.csv").write_text(evidence_csv(nodes, n_items, seed=1))
    return root


def backtest_root(n_dates: int = 20) -> Path:
    """A copy of the frozen Turkey scenario (tests/data/frozen-shipped: 20 items, so the figure
    does not move when the shipped evidence does) whose items are spread over `n_dates` distinct
    dates a week apart from the day it opens, and the ceasefire resolved after them all, so
    `forecast backtest` replays it `n_dates` times and scores every replay."""
    import csv
    import datetime as dt
    import io

    root = Path(tempfile.mkdtemp(prefix="forecast-bench-backtest-"))
    for folder in ("priors", "evidence"):
        shutil.copytree(REPO / "tests" / "data" / "frozen-shipped" / folder, root / folder)
    path = root / "evidence" / f"{SCENARIO}.csv"
    rows = list(csv.DictReader(io.StringIO(path.read_text(encoding="utf-8"), newline="")))
    items = sorted({row["item_id"] for row in rows})
    start = dt.date(2025, 3, 11)
    for row in rows:
        k = items.index(row["item_id"]) % n_dates
        row["date"] = (start + dt.timedelta(days=7 * k)).isoformat()
    buffer = io.StringIO(newline="")
    writer = csv.DictWriter(buffer, fieldnames=list(rows[0]))
    writer.writeheader()
    writer.writerows(rows)
    path.write_text(buffer.getvalue(), encoding="utf-8")
    (root / "evidence" / f"{SCENARIO}.resolutions.csv").write_text(
        "node,outcome,date,source\nceasefire,no,2026-03-11,bench\n", encoding="utf-8")
    return root


def section_baseline() -> dict:
    """The naive baseline, in process (second run: warm PyTensor compile cache, as on an
    analyst's machine) and as a command (new process: import PyMC, build, sample)."""
    root = copy_root()
    problem = prepare(load_inputs(scenario_paths(root, SCENARIO)))
    naive_fit(problem, seed=1)
    in_process, idata = naive_fit(problem, seed=2)
    row("baseline: plain pm.sample, 4x1000, no caching, in process (s)", in_process)
    code = ("import sys; sys.path.insert(0, {!r}); from baseline import naive_fit; "
            "from forecast.io.project import load_inputs, scenario_paths; "
            "from forecast.inference.problem import prepare; "
            "naive_fit(prepare(load_inputs(scenario_paths({!r}, {!r}))))").format(
        str(REPO / "bench"), str(root), SCENARIO)
    walls = []
    for _ in range(2):
        start = time.perf_counter()
        subprocess.run([sys.executable, "-c", code], check=True, capture_output=True)
        walls.append(time.perf_counter() - start)
    command = min(walls)
    row("baseline as a command: new process, import PyMC, pm.sample (s)", command)
    return {"in_process": in_process, "command": command, "ess": min_ess(idata)}


def add_item(root: Path, n: int) -> list[str]:
    return ["evidence", "add", "--node", "ceasefire", "--date", "2025-03-12", "--source", "bench",
            "--reliability", "C", "--credibility", "3", "--lr", f"{1.1 + n / 100:.2f}",
            "--summary", f"bench item {n}"]


def section_users(base: dict) -> None:
    """Turkey, each command as a new process on the default (exact) engine."""
    command = base["command"]
    root = copy_root()

    def runs(argument_lists) -> tuple[list[float], list[float]]:
        walls = [cli(root, *args) for args in argument_lists]
        return walls, CPU[-len(walls):]

    walls, cpus = runs([["report", "--no-progress"]])
    timed_cli("`forecast report` first run ever, new process", walls, cpus, command)
    walls, cpus = [], []
    for n in range(3):
        cli(root, *add_item(root, n))
        walls.append(cli(root, "report", "--no-progress"))
        cpus.append(CPU[-1])
    timed_cli("refit after one new evidence item: `forecast report`, new process", walls, cpus,
              command, "<= 0.15x")
    walls, cpus = [], []
    for n in range(3, 6):
        cli(root, *add_item(root, n))
        walls.append(cli(root, "update", "--no-progress"))
        cpus.append(CPU[-1])
    timed_cli("`forecast update` after one new item, new process", walls, cpus, command, "<= 1.5 s")
    walls, cpus = runs([["whatif", "--given", f"{node}=yes"] for node in
                        ("turkish_deployment", "ceasefire", "kyiv_partnership")])
    timed_cli("`forecast whatif --given NODE=yes`, new condition, new process", walls, cpus, command,
              "<= 1.5 s")
    walls, cpus = runs([["whatif", "--given", "kyiv_partnership=yes"]])
    timed_cli("`forecast whatif`, the same condition again (cache), new process", walls, cpus, command)
    walls, cpus = runs([["report", "--no-progress"]] * 3)
    timed_cli("`forecast report` unchanged inputs (cache hit), new process", walls, cpus, command,
              "<= 0.08x")
    walls, cpus = runs([["report", "--no-progress", "--engine", "nuts", "--no-cache"]])
    timed_cli("`forecast report --engine nuts --no-cache`, new process", walls, cpus, command)
    for args in (["evidence", "list"], ["evidence", "validate"], add_item(root, 99)):
        walls, cpus = runs([args])
        timed_cli(f"`forecast {' '.join(args[:2])}` (imports PyMC: {imports_pymc(root, *args)})",
                  walls, cpus, "", "< 1 s, never PyMC")
    replays = backtest_root(20)
    walls = [cli(replays, "backtest", "--scenario", SCENARIO) for _ in range(3)]
    timed_cli(f"`forecast backtest` Turkey, 20 dates (imports PyMC: {imports_pymc(replays, 'backtest')})",
              walls, CPU[-3:], "", "< 5 s")


# label, nodes, max parents, window, seed (seeds picked for the treewidth the label gives)
SCALE = [
    ("6 nodes", 6, 2, 3, 0),
    ("20 nodes", 20, 3, 4, 0),
    ("40 nodes", 40, 3, 4, 0),
    ("60 nodes, small treewidth", 60, 3, 4, 0),
    ("80 nodes, small treewidth", 80, 3, 4, 0),
    ("45 nodes, treewidth ~9", 45, 4, 15, 5),
    ("80 nodes, treewidth ~21", 80, 5, 40, 1),
]
SCALE_ITEMS = 200


def agrum_time_and_means(root: Path, scenario_id: str) -> tuple[float, dict[str, float]] | None:
    """pyAgrum's LazyPropagation on the same prior-mean network and evidence (the adapter the
    tests use, tests/pyagrum_peer.py): seconds for building the junction tree and the
    posteriors of every node, and those posteriors."""
    try:
        import pyagrum  # noqa: F401
    except ImportError:
        return None
    from pyagrum_peer import agrum_scenario_means

    means, seconds = agrum_scenario_means(prepare(load_inputs(scenario_paths(root, scenario_id))))
    return seconds, means


def section_scale() -> None:
    """Generated networks with SCALE_ITEMS graded items: a cold `forecast report` (new process,
    reports written), its treewidth, pyAgrum on the same network, and the largest gap."""
    root = Path(tempfile.mkdtemp(prefix="forecast-bench-scale-"))
    (root / "priors").mkdir()
    (root / "evidence").mkdir()
    for label, n_nodes, max_parents, window, seed in SCALE:
        scenario_id = f"scale{n_nodes}w{window}"
        text = scenario_toml(scenario_id, n_nodes, seed=seed, max_parents=max_parents, window=window)
        (root / "priors" / f"{scenario_id}.toml").write_text(text)
        scenario = parse_scenario(text, f"{scenario_id}.toml")
        (root / "evidence" / f"{scenario_id}.csv").write_text(
            evidence_csv(list(scenario.node_ids), SCALE_ITEMS, seed=seed))
        width = structure_of(build_network(scenario)).treewidth
        env = user_env(root)
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        start = time.perf_counter()
        done = subprocess.run([sys.executable, "-m", "forecast", "report", "--scenario", scenario_id,
                               "--format", "json", "--no-progress"], cwd=root, env=env,
                              capture_output=True, text=True, timeout=900)
        wall = time.perf_counter() - start
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        cpu = after.ru_utime + after.ru_stime - before.ru_utime - before.ru_stime
        if done.returncode != 0:
            row(f"{label} (tw {width}): cold `forecast report`", f"refused in {wall:.2f} s wall",
                "", done.stderr.strip()[:90])
            continue
        doc = json.loads(done.stdout)
        written = all((root / "reports" / scenario_id / f).is_file()
                      for f in ("report.md", "report.html", "report.json"))
        agrum = agrum_time_and_means(root, scenario_id)
        if agrum is None:
            row(f"{label} (tw {width}): cold report wall | CPU (s), written {written}",
                f"{wall:.2f} | {cpu:.2f}")
            continue
        seconds, means = agrum
        gap = max(abs(n["exact_mean"] - means[n["id"]]) for n in doc["nodes"])
        row(f"{label} (tw {width}): cold report wall | CPU (s)", f"{wall:.2f} | {cpu:.2f}",
            f"{seconds:.3f}", f"pyAgrum in process; max gap {gap:.1e} (report rounds to 1e-6); "
            f"written {written}")


def section_items() -> None:
    """Cost against evidence count on the exact engine, in process."""
    gen = generated_root({"items10": (6, 10), "items10000": (6, 10_000)})
    costs = {}
    for scenario_id in ("items10", "items10000"):
        paths = scenario_paths(gen, scenario_id)

        def refit_and_report(paths=paths):
            again = load_inputs(paths)
            return build_report(again, fit(prepare(again), "exact", 7, QUIET), 7)

        refit_and_report()
        costs[scenario_id] = statistics.median(timed(refit_and_report)[0] for _ in range(3))
    row("load CSV + exact fit + influence + report, 10 items (s)", costs["items10"])
    row("load CSV + exact fit + influence + report, 10,000 items (s)", costs["items10000"],
        costs["items10"])


def section_nuts(base: dict) -> None:
    """The NUTS engine (what `forecast check` and parametric scenarios use), in process."""
    baseline = base["in_process"]
    root = copy_root()
    inputs = load_inputs(scenario_paths(root, SCENARIO))
    first, _ = timed(fit, prepare(inputs), "nuts", 1, QUIET)
    row("NUTS: first fit in a process (compile included) (s)", first, baseline)
    changed = type(inputs)(inputs.scenario, inputs.evidence[1:], inputs.resolutions,
                           inputs.evidence_hash + "-changed")
    refit = statistics.median(timed(fit, prepare(changed), "nuts", seed, QUIET)[0] for seed in (2, 3, 4))
    row("NUTS: refit after an evidence change, warm (s)", refit, baseline, "<= 0.35x")
    posterior = fit(prepare(changed), "nuts", 5, QUIET)
    row("NUTS: ESS per second vs baseline", posterior.diagnostics["min_ess"] / refit,
        base["ess"] / baseline)
    row("NUTS: largest MCSE at the default 4x1000 draws (pp)", float(100 * np.max(posterior.mcse)))


def section_decisions() -> None:
    """`forecast watch` and `forecast sensitivity` on a 60-node network of small treewidth
    (generate.scenario_toml(window=4)), 120 evidence items and two resolutions, each as a cold
    command (a new process: imports, parsing, the junction tree, 200 CPT draws), and the
    values alone in process."""
    from forecast.analysis.decisions import value_of_information

    root = Path(tempfile.mkdtemp(prefix="forecast-bench-decide-"))
    (root / "priors").mkdir()
    (root / "evidence").mkdir()
    text = scenario_toml("g60", 60, seed=60, max_parents=3, window=4)
    (root / "priors" / "g60.toml").write_text(text)
    nodes = list(parse_scenario(text, "g60.toml").node_ids)
    (root / "evidence" / "g60.csv").write_text(evidence_csv(nodes, 120, seed=1))
    (root / "evidence" / "g60.resolutions.csv").write_text(
        "node,outcome,date,source\nn10,yes,2025-06-01,bench\nn40,no,2025-06-01,bench\n")
    for args, what in ((["watch", "--scenario", "g60", "--format", "json"],
                        "`forecast watch` 60 nodes, all 58 open, cold"),
                       (["sensitivity", "--scenario", "g60", "--format", "json"],
                        "`forecast sensitivity` 60 nodes, every target, cold")):
        runs, cpus = [], []
        for _ in range(3):
            runs.append(cli(root, *args))
            cpus.append(CPU[-1])
        timed_cli(f"{what}, imports PyMC: {imports_pymc(root, *args[:3])}", runs, cpus, "",
                  f"<= 5 s; load {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores")
    problem = prepare(load_inputs(scenario_paths(root, "g60")))
    targets = [problem.net.index(n) for n in nodes if n not in problem.conditions]
    value_of_information(problem.net, problem.node_log_weights, problem.conditions, targets)
    alone = statistics.median(timed(value_of_information, problem.net, problem.node_log_weights,
                                    problem.conditions, targets)[0] for _ in range(5))
    row("watch values alone, 60 nodes x 58 targets, in process (s)", alone)


SECTIONS = ("baseline", "users", "scale", "items", "nuts", "decisions")


def main() -> None:
    warnings.simplefilter("ignore")
    chosen = SECTIONS
    if "--only" in sys.argv:
        chosen = tuple(sys.argv[sys.argv.index("--only") + 1:])
    print(f"{'figure':<58} {'ours':>10} {'baseline':>10} ratio")
    base = section_baseline() if {"baseline", "users", "nuts"} & set(chosen) else {}
    if "users" in chosen:
        section_users(base)
    if "scale" in chosen:
        section_scale()
    if "items" in chosen:
        section_items()
    if "nuts" in chosen:
        section_nuts(base)
    if "decisions" in chosen:
        section_decisions()
    print()
    print(json.dumps({"rows": rows}, indent=1))


if __name__ == "__main__":
    main()
