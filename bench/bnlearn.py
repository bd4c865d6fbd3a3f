"""The published networks of the bnlearn repository with evidence, beside pyAgrum, as users
meet them: imported with `forecast network import`, 10% of the nodes resolved (to the states of
one forward sample, so the evidence is possible) and graded soft evidence on 12% (an LR on one
state), then

* in process: our exact posterior means (every state of every node) beside pyAgrum's
  LazyPropagation with the same hard and soft evidence, each timed cold (first inference,
  structure compiled) and warm, and the largest difference over every state;
* as new processes: `forecast report --no-cache` (fixed CPTs) beside a cold pyAgrum script that
  loads the file, enters the evidence and computes every posterior.

    python bench/bnlearn.py                   # the networks in tests/data/bnlearn
    python bench/bnlearn.py andes barley      # some of them (fetched when not shipped)
    python bench/bnlearn.py --all             # also the large ones (scripts/bnlearn_networks.py)
    python bench/bnlearn.py --strength 20 andes   # Dirichlet rows around the CPTs: draws too

Nothing here asserts (tests/test_bnlearn_networks.py does): it prints a Markdown table for
bench/README.md.
"""

from __future__ import annotations

import csv
import gzip
import io
import json
import math
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
SHIPPED = REPO / "tests" / "data" / "bnlearn"
RESOLVED_SHARE, SOFT_SHARE = 0.10, 0.12
REPEATS = 6          # warm: the best of up to 5 calls after the first (2 s at most), both sides
PEER = """
import json, sys, time
start = time.perf_counter()
import pyagrum as gum
bn = gum.loadBN(sys.argv[1])
for n in bn.nodes():
    bn.cpt(n).normalizeAsCPT()
hard, soft = json.loads(sys.argv[2]), json.loads(sys.argv[3])
engine = gum.LazyPropagation(bn)
for name, state in hard.items():
    engine.addEvidence(name, state)
for name, likelihood in soft.items():
    engine.addEvidence(name, likelihood)
engine.makeInference()
_ = [engine.posterior(n).tolist() for n in bn.nodes()]
print(time.perf_counter() - start)
"""


def evidence_for(bn, seed: int = 0) -> tuple[dict[str, int], dict[str, list[float]]]:
    """Hard evidence on 10% of the nodes (the states of one forward sample) and a likelihood
    vector (LR 3 or 1/3 on one state) on 12% of the others."""
    rng = np.random.default_rng(seed)
    names = [bn.variable(n).name() for n in bn.topologicalOrder()]
    sample: dict[str, int] = {}
    for n in bn.topologicalOrder():
        cpt = bn.cpt(n)
        instantiation = {bn.variable(p).name(): sample[bn.variable(p).name()]
                         for p in bn.parents(n)}
        row = np.asarray(cpt[instantiation] if instantiation else cpt[:], dtype=float).ravel()
        sample[bn.variable(n).name()] = int(rng.choice(len(row), p=row / row.sum()))
    order = list(rng.permutation(len(names)))
    n_hard = max(1, round(RESOLVED_SHARE * len(names)))
    n_soft = max(1, round(SOFT_SHARE * len(names)))
    hard = {names[i]: sample[names[i]] for i in order[:n_hard]}
    soft = {}
    for i in order[n_hard:n_hard + n_soft]:
        k = bn.variable(names[i]).domainSize()
        likelihood = [1.0] * k
        likelihood[int(rng.integers(k))] = float(rng.choice([3.0, 1 / 3]))
        soft[names[i]] = likelihood
    return hard, soft


def write_evidence(root: Path, scenario_id: str, scenario, bn, hard, soft) -> None:
    """The evidence and resolutions CSVs of that evidence (grade A1: weight 1, so the LR is
    the likelihood ratio pyAgrum is given)."""
    by_label = {(node.label or node.id): node for node in scenario.nodes}
    day = scenario.as_of.isoformat()
    rows = io.StringIO()
    writer = csv.writer(rows, lineterminator="\n")
    writer.writerow(["node", "outcome", "date", "source"])
    for name, state in hard.items():
        node = by_label[name]
        writer.writerow([node.id, node.states[state], day, "bench"])
    (root / "evidence" / f"{scenario_id}.resolutions.csv").write_text(rows.getvalue())
    rows = io.StringIO()
    writer = csv.writer(rows, lineterminator="\n")
    writer.writerow(["item_id", "node", "date", "source", "reliability", "credibility", "lr",
                     "cluster", "summary", "url", "state"])
    for k, (name, likelihood) in enumerate(soft.items()):
        node = by_label[name]
        at = int(np.argmax(np.abs(np.log(likelihood))))
        writer.writerow([f"E{k + 1:03d}", node.id, day, "bench", "A", "1", repr(likelihood[at]),
                         "", "bench item", "", node.states[at]])
    (root / "evidence" / f"{scenario_id}.csv").write_text(rows.getvalue())


class Timed(float):
    """A new process's wall seconds, with its CPU seconds (user + sys) as `.cpu`: on a loaded
    machine the wall is mostly waiting for a core, the CPU is not."""

    cpu: float = 0.0

    def __format__(self, spec: str) -> str:
        return f"{float(self):{spec}} ({self.cpu:{spec}} CPU)"


def run(args: list[str], root: Path) -> tuple[Timed, str, str]:
    env = {**os.environ, "PYTHONPATH": str(REPO), "FORECAST_ROOT": str(root)}
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    done = subprocess.run(args, cwd=root, env=env, capture_output=True, text=True, timeout=1800)
    wall = Timed(time.perf_counter() - start)
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    wall.cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    problem = "" if done.returncode == 0 else (done.stderr.strip().splitlines() or ["?"])[-1][:120]
    return wall, problem, done.stdout


def ours_in_process(root: Path, scenario_id: str) -> tuple[dict[str, list[float]], float, float]:
    """Every node's state means in declared order, keyed by label; cold and warm seconds."""
    from forecast.inference import exact
    from forecast.inference.problem import prepare
    from forecast.io.project import load_inputs, scenario_paths

    inputs = load_inputs(scenario_paths(root, scenario_id))
    times = []
    for _ in range(REPEATS):
        start = time.perf_counter()
        problem = prepare(inputs)
        net = problem.net
        if net.multistate:
            flat = exact.state_means(net, problem.state_log_weights, problem.conditions)
        else:
            p = exact.posterior_means(net, problem.node_log_weights, problem.conditions)
            flat = np.column_stack([1 - p, p]).ravel()
        times.append(time.perf_counter() - start)
        if sum(times) > 2.0 and len(times) >= 2:
            break
    out = {}
    for v, node in enumerate(inputs.scenario.nodes):
        lo = net.state_offsets[v]
        out[node.label or node.id] = [float(flat[lo + node.engine_index(s)]) for s in node.states]
    return out, times[0], min(times[1:])


def peer_in_process(bn, hard, soft) -> tuple[dict[str, list[float]], float, float]:
    import pyagrum as gum

    times = []
    for _ in range(REPEATS):
        start = time.perf_counter()
        engine = gum.LazyPropagation(bn)
        for name, state in hard.items():
            engine.addEvidence(name, state)
        for name, likelihood in soft.items():
            engine.addEvidence(name, likelihood)
        engine.makeInference()
        out = {bn.variable(n).name(): [float(x) for x in engine.posterior(n).tolist()]
               for n in bn.nodes()}
        times.append(time.perf_counter() - start)
        if sum(times) > 2.0 and len(times) >= 2:
            break
    return out, times[0], min(times[1:])


def bench(name: str, bif_gz: Path, strength: float | None) -> str:
    import pyagrum as gum

    from forecast.io.priors import load_scenario

    with tempfile.TemporaryDirectory() as scratch:
        root = Path(scratch)
        bif = root / f"{name}.bif"
        bif.write_bytes(gzip.decompress(bif_gz.read_bytes()))
        args = [sys.executable, "-m", "forecast", "network", "import", str(bif), "--id", name]
        if strength:
            args += ["--strength", str(strength)]
        t_import, refused, _ = run(args, root)
        if refused:
            return f"| {name} | | | | | | | | import refused: {refused} |"
        bn = gum.loadBN(str(bif))
        for n in bn.nodes():
            # pyAgrum reads a BIF's numbers as float32 and keeps rows that sum to 1 only to
            # about 1e-8; a scenario's rows are distributions, so both sides use the rows
            # normalised (pyAgrum's own normalizeAsCPT), or they differ at the 1e-8 level
            bn.cpt(n).normalizeAsCPT()
        hard, soft = evidence_for(bn)
        scenario = load_scenario(root / "priors" / f"{name}.toml")
        write_evidence(root, name, scenario, bn, hard, soft)
        t_report, refused, stdout = run([sys.executable, "-m", "forecast", "report", "--scenario",
                                         name, "--no-cache", "--format", "json"], root)
        t_peer, _, _ = run([sys.executable, "-c", PEER, str(bif), json.dumps(hard),
                            json.dumps(soft)], root)
        peer, peer_cold, peer_warm = peer_in_process(bn, hard, soft)
        if refused:
            return (f"| {name} | {bn.size()} | {t_import:.2f} | | | | | {t_report:.2f} / "
                    f"{t_peer:.2f} | refused: {refused} |")
        ours, ours_cold, ours_warm = ours_in_process(root, name)
        diff = max(abs(a - b) for key in peer for a, b in zip(ours[key], peer[key], strict=True))
        document = json.loads(stdout)
        by_label = {(node.label or node.id): node.id for node in scenario.nodes}
        rows = {n["id"]: [r["mean"] for r in n["distribution"]] for n in document["nodes"]}
        json_diff = max(abs(a - b) for key in peer
                        for a, b in zip(rows[by_label[key]], peer[key], strict=True))
        width = max(bn.variable(n).domainSize() for n in bn.nodes())
        return (f"| {name} | {bn.size()} (≤{width} states) | {t_import:.2f} | "
                f"{ours_cold * 1e3:.1f} / {ours_warm * 1e3:.1f} | "
                f"{peer_cold * 1e3:.1f} / {peer_warm * 1e3:.1f} | "
                f"{ours_warm / peer_warm:.2f} | {diff:.1e} ({json_diff:.1e}) | "
                f"{t_report:.2f} / {t_peer:.2f} | |")


def main(argv: list[str]) -> None:
    strength = None
    if "--strength" in argv:
        at = argv.index("--strength")
        strength = float(argv[at + 1])
        argv = argv[:at] + argv[at + 2:]
    chosen = [a for a in argv if not a.startswith("-")]
    if "--all" in argv or any(not (SHIPPED / f"{name}.bif.gz").exists() for name in chosen):
        sys.path.insert(0, str(REPO / "scripts"))
        from bnlearn_networks import all_networks

        folder = all_networks()
        names = chosen or sorted(p.name.removesuffix(".bif.gz") for p in folder.glob("*.bif.gz"))
    else:
        folder = SHIPPED
        names = chosen or sorted(p.name.removesuffix(".bif.gz") for p in SHIPPED.glob("*.bif.gz"))
    print(f"CPTs: {'Dirichlet, strength ' + str(strength) if strength else 'fixed'}; evidence: "
          f"{RESOLVED_SHARE:.0%} of nodes resolved, {SOFT_SHARE:.0%} with soft evidence\n")
    print("| network | nodes | import s | ours ms cold / warm | pyAgrum ms cold / warm | "
          "ours / pyAgrum (warm) | max diff (report.json) | cold report s / cold pyAgrum s | |")
    print("|---|---|---:|---:|---:|---:|---:|---:|---|")
    ratios = []
    for name in names:
        path = folder / f"{name}.bif.gz"
        if not path.exists():
            path = SHIPPED / f"{name}.bif.gz"
        line = bench(name, path, strength)
        print(line, flush=True)
        cells = [c.strip() for c in line.split("|")]
        try:
            ratios.append(float(cells[6]))
        except (ValueError, IndexError):
            pass
    if ratios:
        geo = math.exp(sum(math.log(r) for r in ratios) / len(ratios))
        print(f"\ngeometric mean of ours / pyAgrum (warm, in process): {geo:.2f}; worst {max(ratios):.2f}")


if __name__ == "__main__":
    main(sys.argv[1:])
