"""Issue figure: `forecast recalibrate` on 300 resolved yes/no questions, as a cold command.

A synthetic track record with known miscalibration, written as real files under a temporary
root (three scenarios of 100 independent questions, each with a history snapshot made before
its resolution): the team's pool and the analyst "calibrated" forecast the true chance, the
analyst "overconfident" doubles its log-odds (the slope that corrects it is b = 0.5). Prints
the cold command's wall and CPU time, and per group the fitted slope and the held-out Brier
score before and after recalibration (the document's `held_out` block). `--empty-numba-cache`
also times a first run on a machine (numba compiles the kernel into an empty cache);
`--against DIR` times the same command from another checkout in the same run, for instance
the PyMC fit it replaced (`git worktree add --detach /tmp/old fbc9d96`).

    python bench/recalibration.py [--questions 300] [--seed 7] [--empty-numba-cache]
                                  [--against OTHER_CHECKOUT]
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

NODE = """
[[node]]
id = "q{i}"
role = "driver"
question = "Synthetic question {i}?"
resolution = "Synthetic."
opens = 2025-01-01
deadline = 2025-12-31
parents = []
  [[node.prior]]
  p = 0.5
  strength = 2
  rationale = "Synthetic."
  reference_class = "Synthetic."
"""


def expit(x):
    return 1 / (1 + np.exp(-x))


def write_world(root: Path, questions: int, seed: int) -> None:
    rng = np.random.default_rng(seed)
    truth = rng.normal(0, 1.5, questions)
    happened = rng.random(questions) < expit(truth)
    for name in ("priors", "evidence", "reports"):
        (root / name).mkdir()
    per = -(-questions // 3)
    for s in range(3):
        ids = range(s * per, min(questions, (s + 1) * per))
        scenario = f"world-{s}"
        (root / "priors" / f"{scenario}.toml").write_text(
            f'[scenario]\nid = "{scenario}"\ntitle = "Synthetic track record {s}"\n'
            'trigger = "Synthetic."\nas_of = 2025-01-01\n' + "".join(NODE.format(i=i) for i in ids))
        (root / "evidence" / f"{scenario}.csv").write_text(
            "item_id,node,date,source,reliability,credibility,lr,cluster,summary,url\n")
        (root / "evidence" / f"{scenario}.resolutions.csv").write_text(
            "node,outcome,date,source\n" + "".join(
                f"q{i},{'yes' if happened[i] else 'no'},2025-06-01,Synthetic\n" for i in ids))
        nodes = [{"id": f"q{i}", "mean": float(expit(truth[i])), "interval": [0.0, 1.0],
                  "by_analyst": {"calibrated": float(expit(truth[i])),
                                 "overconfident": float(expit(2 * truth[i]))}} for i in ids]
        history = root / "reports" / scenario / "history.jsonl"
        history.parent.mkdir()
        history.write_text(json.dumps({"as_of": "2025-03-01", "generated_at": "2025-03-01T09:00:00+00:00",
                                       "nodes": nodes}) + "\n")


CHECKOUT = Path(__file__).resolve().parent.parent


def timed_recalibrate(root: Path, checkout: Path, numba_cache: Path | None) -> tuple[float, float, dict]:
    """Wall and CPU seconds of one cold `forecast recalibrate` run from `checkout` (its code
    first on the path), and the document it printed."""
    env = {**os.environ, "FORECAST_ROOT": str(root), "PYTHONPATH": str(checkout)}
    if numba_cache is not None:
        env["NUMBA_CACHE_DIR"] = str(numba_cache)
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    done = subprocess.run([sys.executable, "-m", "forecast", "recalibrate", "--root", str(root),
                           "--format", "json"], capture_output=True, text=True, env=env,
                          cwd=checkout)
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if done.returncode:
        sys.exit(done.stderr)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return wall, cpu, json.loads(done.stdout)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--questions", type=int, default=300)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--against", type=Path, default=None,
                        help="another checkout (say a worktree of an older commit) timed on the "
                             "same track record in the same run")
    parser.add_argument("--empty-numba-cache", action="store_true",
                        help="also time a first run on this machine: numba compiles the kernel")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp) / "root"
        root.mkdir()
        write_world(root, args.questions, args.seed)
        wall, cpu, document = timed_recalibrate(root, CHECKOUT, None)
        print(f"forecast recalibrate, {args.questions} resolved questions x 3 groups, cold process: "
              f"wall {wall:.1f} s, CPU {cpu:.1f} s (goal < 20 s cold)")
        if args.empty_numba_cache:
            cache = Path(tmp) / "numba"
            wall, cpu, _document = timed_recalibrate(root, CHECKOUT, cache)
            print(f"  the same with an empty numba cache (the kernel compiled first): "
                  f"wall {wall:.1f} s, CPU {cpu:.1f} s")
        if args.against is not None:
            wall, cpu, _document = timed_recalibrate(root, args.against.resolve(), None)
            print(f"  {args.against}: wall {wall:.1f} s, CPU {cpu:.1f} s")
    held = document["held_out"]
    print(f"held out: {held.get('folds')} folds by {held.get('by', 'question')}")
    for group, fitted in sorted(document["groups"].items()):
        row = held["by_group"].get(group, {})
        raw, after = row.get("raw_brier", float("nan")), row.get("recalibrated_brier", float("nan"))
        print(f"  {group:14s} b = {fitted['b']:.2f} [{fitted['b_interval'][0]:.2f}, "
              f"{fitted['b_interval'][1]:.2f}]  a = {fitted['a']:+.2f}  held-out Brier "
              f"{raw:.4f} -> {after:.4f}")


if __name__ == "__main__":
    main()
