"""A team's forecast, cold, as users meet it: the shipped Turkey scenario with its analysts'
files, each command in a new `forecast` process on a fresh copy of the root (no posterior
cache), beside the same command for one analyst alone (`--analyst`) and for the scenario with
no analysts' files, measured in the same run, interleaved, median of `--repeat` runs.

    python bench/team.py                 # 5 runs of each
    python bench/team.py --repeat 9

A third analyst (`third`: base-rates' file with its ceasefire prior moved) gives the issue's
three-analyst figure. Wall and CPU (user + sys of the child) per command; the ratios are what
matter on a machine shared with other work. Nothing here asserts: it prints a Markdown table
for bench/README.md.
"""

from __future__ import annotations

import argparse
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
SCENARIO = "turkey-peacekeeping"


def make_root(base: Path, analysts: str) -> Path:
    """A fresh root with the shipped priors and evidence: analysts "none", "shipped" (two) or
    "three"."""
    root = Path(tempfile.mkdtemp(dir=base))
    for folder in ("priors", "evidence"):
        shutil.copytree(REPO / folder, root / folder)
    team = root / "priors" / SCENARIO
    if analysts == "none":
        shutil.rmtree(team)
    elif analysts == "three":
        text = (team / "base-rates.toml").read_text()
        (team / "third.toml").write_text(text.replace("strength = 6", "strength = 4", 1))
    return root


def timed(args: list[str], root: Path) -> tuple[float, float]:
    """(wall, child CPU user + sys) seconds of one `forecast` process."""
    env = {**os.environ, "PYTHONPATH": str(REPO), "FORECAST_ROOT": str(root)}
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    done = subprocess.run([sys.executable, "-m", "forecast", *args], cwd=root, env=env,
                          capture_output=True, text=True, timeout=900)
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if done.returncode != 0:
        raise SystemExit(f"forecast {' '.join(args)} failed: {done.stderr.strip()[-400:]}")
    return wall, (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)


CASES = {
    # name: (analysts' files in the root, command)
    "report, scenario without analysts": ("none", ["report", "--scenario", SCENARIO]),
    "report --analyst base-rates (one analyst alone)":
        ("shipped", ["report", "--scenario", SCENARIO, "--analyst", "base-rates"]),
    "report, the team of 2 (shipped)": ("shipped", ["report", "--scenario", SCENARIO]),
    "report, a team of 3": ("three", ["report", "--scenario", SCENARIO]),
    "whatif --given ceasefire=yes --analyst base-rates":
        ("shipped", ["whatif", "--scenario", SCENARIO, "-g", "ceasefire=yes", "--analyst",
                     "base-rates"]),
    "whatif --given ceasefire=yes, the team of 2":
        ("shipped", ["whatif", "--scenario", SCENARIO, "-g", "ceasefire=yes"]),
    "backtest, scenario without analysts": ("none", ["backtest", "--scenario", SCENARIO]),
    "backtest, the team of 2": ("shipped", ["backtest", "--scenario", SCENARIO]),
}
ONE = "report --analyst base-rates (one analyst alone)"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=5)
    options = parser.parse_args()
    walls: dict[str, list[float]] = {name: [] for name in CASES}
    cpus: dict[str, list[float]] = {name: [] for name in CASES}
    with tempfile.TemporaryDirectory() as scratch:
        for _ in range(options.repeat):
            for name, (analysts, args) in CASES.items():      # interleaved: load hits all alike
                root = make_root(Path(scratch), analysts)
                wall, cpu = timed(args, root)
                walls[name].append(wall)
                cpus[name].append(cpu)
                shutil.rmtree(root)
    load = os.getloadavg()[0]
    print(f"Cold (fresh root, new process), median of {options.repeat}; load average {load:.1f} "
          f"on {os.cpu_count()} cores\n")
    print("| command | wall | CPU | wall vs one analyst | CPU vs one analyst |")
    print("|---|---:|---:|---:|---:|")
    one_wall, one_cpu = statistics.median(walls[ONE]), statistics.median(cpus[ONE])
    for name in CASES:
        wall, cpu = statistics.median(walls[name]), statistics.median(cpus[name])
        print(f"| `{name}` | {wall:.2f} s | {cpu:.2f} s | {wall / one_wall:.2f}x | "
              f"{cpu / one_cpu:.2f}x |")


if __name__ == "__main__":
    main()
