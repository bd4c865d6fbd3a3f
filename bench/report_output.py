"""What a big network's report output costs: the terminal table and the three report files,
beside an earlier commit's, measured alternately in the same minutes.

A bnlearn network is imported (fixed rows) with bench/bnlearn.py's evidence (10% of the nodes
resolved, soft evidence on 12%), then, for this checkout and for BASE (a `git archive` of it):

* as users meet it: a new `forecast report --no-cache` process (the default terminal output)
  and `forecast report --no-cache --format table` (the full table), wall and CPU, RUNS each;
* in a process per tree: the report document built once, then each rendering timed (the
  terminal as `forecast report` prints it, at 120 columns; report.html, .json, .md; the first
  call, which pays the imports and the template's load, and the best of three), and whether
  the files' text is the same for both trees (`generated_at` set alike).

    python bench/report_output.py                      # pigs against BASE
    python bench/report_output.py andes --base f98b9a7 --runs 5

Nothing here asserts (tests/test_terminal_compact.py and tests/test_render.py do): it prints
Markdown for bench/README.md.
"""

from __future__ import annotations

import gzip
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "bench"))

from bnlearn import SHIPPED, evidence_for, write_evidence  # noqa: E402

BASE = "f98b9a7"        # main before the compact terminal table and the faster renderings
RENDER = """
import io, json, pathlib, sys, time
from rich.console import Console
from forecast.api import Project
from forecast.render import render
from forecast.render.terminal import print_report
document = Project(sys.argv[1]).report(sys.argv[2], use_cache=True).document
document["generated_at"] = "2026-01-01T00:00:00+00:00"
out = {}
def terminal():
    print_report(document, Console(file=io.StringIO(), width=120), *sys.argv[4:])
for name, call in [("terminal", terminal)] + [
        (fmt, lambda fmt=fmt: render(document, fmt)) for fmt in ("html", "json", "md")]:
    times = []
    for _ in range(4):
        start = time.perf_counter()
        text = call()
        times.append(time.perf_counter() - start)
    if text:
        (pathlib.Path(sys.argv[3]) / name).write_text(text)
    out[name] = [times[0], min(times[1:])]
print(json.dumps(out))
"""


def tree_of(commit: str, scratch: Path) -> Path:
    """The package as it was at `commit`, unpacked for PYTHONPATH."""
    target = scratch / f"tree-{commit}"
    target.mkdir()
    archive = subprocess.run(["git", "-C", str(REPO), "archive", commit, "forecast"],
                             capture_output=True, check=True).stdout
    subprocess.run(["tar", "-x", "-C", str(target)], input=archive, check=True)
    return target


def timed(args: list[str], root: Path, tree: Path) -> tuple[float, float, str]:
    """(wall s, CPU s, stdout) of a new process on `tree`'s code."""
    env = {**os.environ, "PYTHONPATH": str(tree), "FORECAST_ROOT": str(root)}
    env.pop("COLUMNS", None)
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    done = subprocess.run(args, cwd=root, env=env, capture_output=True, text=True, timeout=1800,
                          check=True)
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return wall, (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime), done.stdout


def scenario_root(name: str, scratch: Path) -> Path:
    import pyagrum as gum

    from forecast.io.priors import load_scenario

    root = scratch / name
    root.mkdir()
    bif = root / f"{name}.bif"
    bif.write_bytes(gzip.decompress((SHIPPED / f"{name}.bif.gz").read_bytes()))
    timed([sys.executable, "-m", "forecast", "network", "import", str(bif), "--id", name], root,
          REPO)
    bn = gum.loadBN(str(bif))
    for n in bn.nodes():
        bn.cpt(n).normalizeAsCPT()
    hard, soft = evidence_for(bn)
    write_evidence(root, name, load_scenario(root / "priors" / f"{name}.toml"), bn, hard, soft)
    return root


def main(argv: list[str]) -> None:
    base, runs = BASE, 3
    if "--base" in argv:
        at = argv.index("--base")
        base, argv = argv[at + 1], argv[:at] + argv[at + 2:]
    if "--runs" in argv:
        at = argv.index("--runs")
        runs, argv = int(argv[at + 1]), argv[:at] + argv[at + 2:]
    name = argv[0] if argv else "pigs"
    with tempfile.TemporaryDirectory() as folder:
        scratch = Path(folder)
        root = scenario_root(name, scratch)
        trees = {f"base {base}": tree_of(base, scratch), "this checkout": REPO}
        commands = {"report": ["report", "--no-cache"],
                    "report --format table": ["report", "--no-cache", "--format", "table"]}
        results: dict[tuple[str, str], list[tuple[float, float]]] = {}
        lines: dict[tuple[str, str], int] = {}
        for _ in range(runs):
            for command, args in commands.items():
                for label, tree in trees.items():
                    wall, cpu, stdout = timed([sys.executable, "-m", "forecast", *args], root, tree)
                    results.setdefault((command, label), []).append((wall, cpu))
                    lines[command, label] = stdout.count("\n")
        load = os.getloadavg()[0]
        print(f"{name}: cold `forecast {commands['report'][0]}` (--no-cache), {runs} runs "
              f"alternating, load average {load:.1f} at the end\n")
        print("| command | tree | wall s (each run) | CPU s (each run) | median wall / CPU | "
              "lines printed |")
        print("|---|---|---|---|---:|---:|")
        for (command, label), timings in results.items():
            walls = " / ".join(f"{w:.2f}" for w, _ in timings)
            cpus = " / ".join(f"{c:.2f}" for _, c in timings)
            print(f"| {command} | {label} | {walls} | {cpus} | "
                  f"{statistics.median(w for w, _ in timings):.2f} / "
                  f"{statistics.median(c for _, c in timings):.2f} | {lines[command, label]:,} |")
        print("\nIn process, the document built once (s: the first call / the best of three "
              "after it; for this checkout, the lines of each file that differ from BASE's):\n")
        print("| tree | terminal | report.html | report.json | report.md |")
        print("|---|---:|---:|---:|---:|")
        texts = {}
        for label, tree in trees.items():
            texts[label] = scratch / f"texts-{len(texts)}"
            texts[label].mkdir()
            extra = ["reports/x/report.md"] if tree == REPO else []
            _, _, stdout = timed([sys.executable, "-c", RENDER, str(root), name,
                                  str(texts[label]), *extra], root, tree)
            timings = json.loads(stdout)
            cells = []
            for fmt in ("terminal", "html", "json", "md"):
                cell = f"{timings[fmt][0]:.3f} / {timings[fmt][1]:.3f}"
                if tree == REPO and fmt != "terminal":
                    cell += f", {differing_lines(*(texts[t] / fmt for t in trees))} lines differ"
                cells.append(cell)
            print(f"| {label} | " + " | ".join(cells) + " |")


def differing_lines(first: Path, second: Path) -> int:
    """How many lines of two texts differ (position by position; the extra lines of the longer)."""
    a, b = first.read_text().splitlines(), second.read_text().splitlines()
    return sum(x != y for x, y in zip(a, b, strict=False)) + abs(len(a) - len(b))


if __name__ == "__main__":
    main(sys.argv[1:])
