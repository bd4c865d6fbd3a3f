"""CPU seconds per clique-table cell per exact inference, the number behind the work budget's
estimate (`forecast.inference.exact.SECONDS_PER_CELL`): for each bnlearn network, imported with
Dirichlet rows of strength 20 and bench/bnlearn.py's evidence, the CPU of

* one calibration (the posterior means), repeated for at least a second;
* a posterior exact draw and a prior exact draw (batched, as a report draws them).

    python bench/cell_cost.py                      # alarm hailfinder water andes pigs
    python bench/cell_cost.py mildew barley        # others (fetched when not shipped)

Prints one line per network; nothing asserts.
"""

from __future__ import annotations

import gzip
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
import bnlearn  # noqa: E402  (the sibling bench script: evidence, shipped networks)

DEFAULT = ["alarm", "hailfinder", "water", "andes", "pigs"]


def source(name: str) -> Path:
    shipped = bnlearn.SHIPPED / f"{name}.bif.gz"
    if shipped.exists():
        return shipped
    sys.path.insert(0, str(bnlearn.REPO / "scripts"))
    from bnlearn_networks import all_networks

    return all_networks() / f"{name}.bif.gz"


def measure(name: str) -> str:
    import pyagrum as gum

    from forecast.inference import exact
    from forecast.inference.problem import prepare
    from forecast.io.priors import load_scenario
    from forecast.io.project import load_inputs, scenario_paths

    with tempfile.TemporaryDirectory() as scratch:
        root = Path(scratch)
        bif = root / f"{name}.bif"
        bif.write_bytes(gzip.decompress(source(name).read_bytes()))
        subprocess.run([sys.executable, "-m", "forecast", "network", "import", str(bif), "--id",
                        name, "--strength", "20"], cwd=root, check=True, capture_output=True,
                       env={**os.environ, "FORECAST_ROOT": str(root)})
        bn = gum.loadBN(str(bif))
        for n in bn.nodes():
            bn.cpt(n).normalizeAsCPT()
        hard, soft = bnlearn.evidence_for(bn)
        bnlearn.write_evidence(root, name, load_scenario(root / "priors" / f"{name}.toml"), bn,
                               hard, soft)
        problem = prepare(load_inputs(scenario_paths(root, name)))
    net, conditions = problem.net, problem.conditions
    if net.multistate:
        weights, none = problem.state_log_weights, np.zeros(net.n_states)
        means, draw = exact.state_means, exact.state_draws
    else:                                      # every node yes/no: the binary API
        weights, none = problem.node_log_weights, np.zeros(net.n_nodes)
        means, draw = exact.posterior_means, exact.posterior_draws
    cells = exact.structure_of(net).total_cells
    means(net, weights, conditions)
    start, calls = time.process_time(), 0
    while time.process_time() - start < 1.0 or calls < 3:
        means(net, weights, conditions)
        calls += 1
    single = (time.process_time() - start) / calls
    draws = max(20, min(400, int(2.0 / max(single, 1e-4))))
    start = time.process_time()
    draw(net, weights, conditions, draws, np.random.default_rng(0))
    posterior = (time.process_time() - start) / draws
    start = time.process_time()
    draw(net, none, None, draws, np.random.default_rng(0))
    prior = (time.process_time() - start) / draws
    per_cell = [f"{x * 1e3:.2f} ms = {x / cells * 1e9:.0f} ns/cell" for x in (single, posterior, prior)]
    return (f"{name}: {cells:,} cells, treewidth {exact.structure_of(net).treewidth}; one "
            f"calibration {per_cell[0]}; a posterior draw {per_cell[1]}; a prior draw {per_cell[2]}")


if __name__ == "__main__":
    for network in sys.argv[1:] or DEFAULT:
        print(measure(network), flush=True)
