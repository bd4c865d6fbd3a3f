"""The exact engine's kernel (forecast.inference.elimination) at scale, beside pyAgrum.

    python bench/elimination.py            # from the repository root
    python bench/elimination.py --quick    # one repeat, smaller batches
    python bench/elimination.py --published [--all]   # only the published networks

Networks are generated with a controlled treewidth: node v takes up to `parents` parents among
the `window` nodes before it (k-tree-like), CPT entries uniform in (0.05, 0.95), soft evidence
(LR 0.2..5) on a third of the nodes, two hard conditions. For each it prints the structure
(treewidth, largest table, estimated peak bytes per row), then wall-clock times (best of
repeats) for marginals of one theta and of a batch of 4000, backward sampling of 4000 joint
states, the full conjugate recipe (4000 draws: states, Beta entries, marginals per draw), and
pyAgrum's LazyPropagation on the same network with the same evidence (one theta: build of
the junction tree and inference; a batch: per-theta CPT refill + inference, measured on a
few thetas and scaled to 4000) and the largest difference between the two. Nothing asserts.

Published networks (k states): bnlearn's networks in tests/data/bnlearn/ (and, when
`scripts/bnlearn_networks.py` has fetched them, the larger ones in its cache), read by pyAgrum
and put in the kernel's layout by tests/pyagrum_peer.py. Hard evidence on 10% of the nodes (a
joint state drawn from the network), a likelihood vector on 12%; both engines in process:
our structure build, our posterior of every node-state (structure built: the first call, which
also plans the tables with the observed nodes folded in, then the best of the repeats),
pyAgrum's LazyPropagation (junction tree + inference, best of the repeats), and the largest
difference. munin1, link and the fetched giants (pyAgrum alone takes from tens of seconds to
out-of-memory on them) run only with --all.
"""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "tests"))

from forecast.inference import elimination as E  # noqa: E402

# label, nodes, max parents, window, seed: seeds picked for the treewidth in the label
NETWORKS = [
    ("6 nodes", 6, 3, 6, 0),
    ("20 nodes", 20, 3, 5, 0),
    ("40 nodes", 40, 4, 6, 0),
    ("60 nodes, tw ~4", 60, 3, 5, 0),
    ("45 nodes, tw ~9", 45, 4, 15, 6),
    ("80 nodes, tw ~21", 80, 4, 60, 0),
    ("80 nodes, tw ~34 (refused)", 80, 6, 80, 0),
]
BATCH = 4000
BATCH_UP_TO_TREEWIDTH = 12          # larger networks: one theta only


def window_dag(n, max_parents, window, rng):
    parents = []
    for v in range(n):
        lo = max(0, v - window)
        k = int(rng.integers(0, min(v - lo, max_parents) + 1))
        parents.append(tuple(int(p) for p in rng.choice(np.arange(lo, v), size=k, replace=False))
                       if k else ())
    return tuple(parents)


CPU = {}                            # label -> best CPU seconds, for the figures under load


def best(fn, repeats, cpu_label=None):
    """Best wall-clock time of `repeats` calls (and, if labelled, the best CPU time: on a
    shared machine the wall clock also counts other jobs' time slices)."""
    times, cpu = [], []
    for _ in range(repeats):
        start, start_cpu = time.perf_counter(), time.process_time()
        out = fn()
        times.append(time.perf_counter() - start)
        cpu.append(time.process_time() - start_cpu)
    if cpu_label:
        CPU[cpu_label] = min(cpu)
    return min(times), out


def fmt(seconds):
    if seconds is None:
        return "-"
    return f"{seconds * 1e3:.1f} ms" if seconds < 1 else f"{seconds:.2f} s"


def agrum_setup(parents, weights, mask):
    import pyagrum as gum
    bn = gum.BayesNet("bench")
    for v in range(len(parents)):
        bn.add(gum.LabelizedVariable(f"n{v}", f"n{v}", 2))
    for v, pa in enumerate(parents):
        for p in pa:
            bn.addArc(f"n{p}", f"n{v}")
    evidence = {}
    for v in range(len(parents)):
        log_w = np.array([mask[v, 0], weights[v] + mask[v, 1]])
        log_w = np.where(log_w <= E.HARD_EXCLUDED, -np.inf, log_w)
        if np.any(log_w != 0):
            evidence[f"n{v}"] = list(np.exp(log_w - log_w.max()))
    return gum, bn, evidence


def agrum_fill(bn, parents, theta):
    """CPTs as arrays: pyAgrum's toarray() axes are the CPT's variables in reverse order."""
    offset = 0
    for v, pa in enumerate(parents):
        cpt = bn.cpt(f"n{v}")
        names = cpt.names                      # (n{v}, parents in arc order)
        k = len(pa)
        t = theta[offset:offset + 2**k]
        offset += 2**k
        table = np.empty((2,) * (k + 1))
        # our config index: bit j is parent pa[j]; build the table over (v, pa[k-1], .., pa[0])
        ours = np.stack([1.0 - t, t]).reshape((2,) + (2,) * k)
        ours_axes = [f"n{v}"] + [f"n{p}" for p in reversed(pa)]
        want = list(reversed(names))
        table = ours.transpose([ours_axes.index(a) for a in want])
        cpt.fillWith(table.ravel().tolist())


def agrum_marginals(gum, bn, evidence, n):
    ie = gum.LazyPropagation(bn)
    for name, lik in evidence.items():
        ie.addEvidence(name, lik)
    ie.makeInference()
    return np.array([ie.posterior(f"n{v}").toarray()[1] for v in range(n)])


def measure(label, n, max_parents, window, seed, *, repeats, batch, have_agrum):
    """One row of the table: structure, our times, pyAgrum's times and the difference."""
    rng = np.random.default_rng(seed)
    parents = window_dag(n, max_parents, window, rng)
    build, s = best(lambda: E.build_structure(parents), repeats)
    row = [label, s.treewidth, s.cells, f"{s.row_bytes() / 2**20:.2f}", fmt(build)]
    theta = rng.uniform(0.05, 0.95, s.n_entries)
    weights = np.zeros(n)
    soft = rng.choice(n, size=n // 3, replace=False)
    weights[soft] = np.log(rng.uniform(0.2, 5.0, size=len(soft)))
    conditions = {int(v): int(rng.integers(2)) for v in rng.choice(n, size=2, replace=False)}
    mask = E.condition_mask(n, conditions)
    try:
        one, (p, _z) = best(lambda: E.marginals(s, theta, weights, mask), repeats,
                            f"{label}: marginals, 1 theta")
    except E.TooLarge as error:
        return row + [f"refused ({error})"]
    many = draws = None
    if s.treewidth <= BATCH_UP_TO_TREEWIDTH:
        thetas = rng.uniform(0.05, 0.95, (batch, s.n_entries))
        many, _ = best(lambda: E.marginals(s, thetas, weights, mask), repeats,
                       f"{label}: marginals, {batch} thetas")
        alpha, beta = 4 * theta, 4 * (1 - theta)
        fixed = np.full(s.n_entries, np.nan)
        draws, _ = best(lambda: E.conjugate_draws(s, alpha, beta, fixed, weights, mask,
                                                  batch, np.random.default_rng(1)), repeats)
    states, _ = best(lambda: E.sample_states(s, theta, weights, mask, batch,
                                             np.random.default_rng(2)), repeats)
    row += [fmt(one), fmt(many), fmt(states), fmt(draws)]
    if have_agrum:
        gum, bn, evidence = agrum_setup(parents, weights, mask)
        agrum_fill(bn, parents, theta)
        agrum_one, q = best(lambda: agrum_marginals(gum, bn, evidence, n), repeats,
                            f"{label}: pyAgrum, 1 theta")
        agrum_many = None
        if s.treewidth <= BATCH_UP_TO_TREEWIDTH:
            few = 20

            def refill_and_infer():
                for t in rng.uniform(0.05, 0.95, (few, s.n_entries)):
                    agrum_fill(bn, parents, t)
                    agrum_marginals(gum, bn, evidence, n)

            agrum_many, _ = best(refill_and_infer, 1)
            agrum_many *= batch / few
        row += [fmt(agrum_one), fmt(agrum_many), f"{np.abs(p - q).max():.1e}"]
    return row


SHIPPED_BNLEARN = REPO / "tests" / "data" / "bnlearn"
SLOW_FOR_PYAGRUM = {"munin1", "link", "munin", "munin2", "munin3", "munin4", "diabetes",
                    "pathfinder", "barley", "mildew"}


def published_networks(everything: bool) -> list[Path]:
    """The shipped networks, and the fetched ones where scripts/bnlearn_networks.py left them
    (nothing is downloaded here)."""
    cache = Path(os.environ.get("FORECAST_BNLEARN_CACHE",
                                Path.home() / ".cache" / "forecast-bnlearn"))
    files = {f.name: f for f in SHIPPED_BNLEARN.glob("*.bif.gz")}
    if cache.is_dir():
        files.update({f.name: f for f in cache.glob("*.bif.gz") if f.name not in files})
    keep = [f for f in files.values()
            if everything or f.name.removesuffix(".bif.gz") not in SLOW_FOR_PYAGRUM]
    return sorted(keep, key=lambda f: f.stat().st_size)


def measure_published(path: Path, repeats: int) -> list:
    """One row: the network, its structure, our times and pyAgrum's, and the difference."""
    from pyagrum_peer import agrum_state_marginals, flat_network, load_bif

    bn = load_bif(path)
    names, parents, cards, cpt = flat_network(bn)
    build, s = best(lambda: E.build_structure(parents, cards), repeats)
    rng = np.random.default_rng(0)
    n = len(names)
    world = E.sample_joint(s, cpt, n_draws=1, rng=rng)[0]
    hard = rng.choice(n, max(1, n // 10), replace=False)
    soft = rng.choice(np.setdiff1d(np.arange(n), hard), max(1, 12 * n // 100), replace=False)
    conditions = {int(v): int(world[v]) for v in hard}
    log_weights = np.zeros(s.n_states)
    findings = {v: np.eye(cards[v])[x] for v, x in conditions.items()}
    for v in soft:
        first = s.state_offsets[v]
        likelihood = rng.uniform(0.2, 5.0, cards[v])
        log_weights[first:first + cards[v]] = np.log(likelihood)
        findings[int(v)] = likelihood
    label = path.name.removesuffix(".bif.gz")
    row = [label, n, max(cards), s.treewidth, s.cells, fmt(build)]
    try:
        start = time.perf_counter()
        E.state_marginals(s, cpt, log_weights, conditions)
        first = time.perf_counter() - start
        ours, (probs, _z) = best(lambda: E.state_marginals(s, cpt, log_weights, conditions),
                                 repeats, f"{label}: state_marginals")
    except E.TooLarge as error:
        return row + [f"refused ({error})", "-", "-", "-", "-"]
    agrum = []
    for _ in range(repeats):
        posteriors, seconds = agrum_state_marginals(bn, names, findings)
        agrum.append(seconds)
    diff = np.abs(probs - np.concatenate(posteriors)).max()
    return row + [fmt(first), fmt(ours), fmt(min(agrum)), f"{ours / min(agrum):.2f}",
                  f"{diff:.1e}"]


def main_published(repeats: int, everything: bool) -> None:
    header = ("network", "nodes", "max states", "tw", "cells", "build", "ours, 1st call",
              "ours", "pyAgrum", "ours/pyAgrum", "max |diff|")
    rows = []
    for path in published_networks(everything):
        rows.append(measure_published(path, repeats))
        print("  done:", rows[-1][0], file=sys.stderr)
    widths = [max(len(str(r[i])) for r in rows + [header]) for i in range(len(header))]
    print("Published networks (bnlearn), in process, posterior of every node-state with "
          "evidence:")
    print(" | ".join(str(h).ljust(w) for h, w in zip(header, widths, strict=True)))
    for r in rows:
        print(" | ".join(str(c).ljust(w) for c, w in zip(r, widths, strict=True)))
    ratios = [float(r[9]) for r in rows if r[9] != "-"]
    if ratios:
        print(f"geometric mean of ours/pyAgrum over {len(ratios)} networks: "
              f"{np.exp(np.mean(np.log(ratios))):.2f}; worst {max(ratios):.2f}")


def main(quick: bool) -> None:
    repeats = 1 if quick else 3
    batch = 500 if quick else BATCH
    try:
        import pyagrum  # noqa: F401
        have_agrum = True
    except ImportError:
        have_agrum = False
    print(f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores; "
          f"wall-clock, best of {repeats}; batch = {batch}")
    header = ("network", "tw", "cells", "MiB/row", "build", "1 theta", f"{batch} thetas",
              f"{batch} states", f"{batch} draws", "pyAgrum 1", f"pyAgrum {batch}*", "max |diff|")
    rows = []
    for network in NETWORKS:
        rows.append(measure(*network, repeats=repeats, batch=batch, have_agrum=have_agrum))
        print("  done:", network[0], file=sys.stderr)
    table = [r for r in rows if len(r) == len(header)]
    widths = [max(len(str(r[i])) for r in table + [header]) for i in range(len(header))]
    print(" | ".join(str(h).ljust(w) for h, w in zip(header, widths, strict=True)))
    for r in table:
        print(" | ".join(str(c).ljust(w) for c, w in zip(r, widths, strict=True)))
    for r in rows:
        if len(r) != len(header):
            print(f"{r[0]}: treewidth {r[1]}, largest table {r[2]} cells, {r[3]} MiB per row, "
                  f"structure built in {r[4]}; marginals {r[5]}")
    print("CPU time (best of repeats), the same calls:")
    for key, seconds in CPU.items():
        print(f"  {key}: {fmt(seconds)}")
    if have_agrum:
        print(f"* pyAgrum {batch}: CPT refill + LazyPropagation per theta, timed on 20 thetas "
              "and scaled")
    else:
        print("pyAgrum not installed: its columns are left out")


if __name__ == "__main__":
    if "--published" not in sys.argv:
        main("--quick" in sys.argv)
    main_published(1 if "--quick" in sys.argv else 3, "--all" in sys.argv)
