"""pyAgrum, the peer we did not write, on the same network: one adapter for the tests and
`bench/` (which puts tests/ on its path): our binary networks in pyAgrum, and published
networks (bnlearn's BIF files, k states) from pyAgrum in the kernel's flat layout.

Every CPT entry is given as a number (the exact posterior mean integrates each Beta out to its
mean, so callers pass `net.prior_means`); soft evidence is a likelihood finding per node
(exp of its log-weight, after our cluster rule: the one piece of ours it reuses); a hard
condition is a finding that rules the other state out. LazyPropagation gives the posteriors."""

from __future__ import annotations

import gzip
import re
import tempfile
import time
import warnings
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from forecast.inference.elimination import HARD_EXCLUDED


def _gum():
    """pyAgrum, imported with warnings silenced: its SWIG module warns (DeprecationWarning,
    "builtin type SwigPyPacked has no __module__ attribute") while it initialises, and the
    test suite's warnings-as-errors turns that into a crash inside the C initialiser."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        import pyagrum
    return pyagrum


def agrum_marginals(parents: Sequence[Sequence[int]], theta: np.ndarray, weights: np.ndarray,
                    mask: np.ndarray | None = None, names: Sequence[str] | None = None
                    ) -> tuple[np.ndarray, float]:
    """P(node = yes) for every node, and the seconds pyAgrum took to build its junction tree and
    infer (the CPT fill is not timed). `theta` lists each node's entries in parent-configuration
    order (bit j of the configuration is parent j); `mask` is the (n, 2) per-node log-mask of
    hard evidence (HARD_EXCLUDED or -inf rules a state out)."""
    gum = _gum()

    n = len(parents)
    names = list(names) if names is not None else [f"n{v}" for v in range(n)]
    bn = gum.BayesNet("peer")
    for name in names:
        bn.add(gum.LabelizedVariable(name, name, 2))
    for v, pa in enumerate(parents):
        for p in pa:
            bn.addArc(names[p], names[v])
    offset = 0
    for v, pa in enumerate(parents):
        cpt = bn.cpt(names[v])
        for config in range(2 ** len(pa)):
            t = float(theta[offset + config])
            if pa:
                cpt[{names[p]: (config >> j) & 1 for j, p in enumerate(pa)}] = [1.0 - t, t]
            else:
                cpt.fillWith([1.0 - t, t])
        offset += 2 ** len(pa)
    mask = np.zeros((n, 2)) if mask is None else np.asarray(mask, dtype=float)
    start = time.perf_counter()
    engine = gum.LazyPropagation(bn)
    for v in range(n):
        log_w = np.array([mask[v, 0], weights[v] + mask[v, 1]])
        log_w = np.where(log_w <= HARD_EXCLUDED, -np.inf, log_w)
        if np.any(log_w != 0):
            engine.addEvidence(names[v], list(np.exp(log_w - log_w.max())))
    engine.makeInference()
    means = np.array([engine.posterior(name).toarray()[1] for name in names])
    return means, time.perf_counter() - start


def agrum_scenario_means(problem) -> tuple[dict[str, float], float]:
    """A prepared scenario (`forecast.inference.problem.prepare`) in pyAgrum: every node's
    posterior mean by id, and pyAgrum's seconds."""
    net = problem.net
    means, seconds = agrum_marginals(net.parents, net.prior_means, problem.node_log_weights,
                                     problem.hard_mask, net.node_ids)
    return dict(zip(net.node_ids, (float(m) for m in means), strict=True)), seconds


# ----------------------------------------------------------------------------- published networks

def _safe_label(label: str) -> str:
    """A state label pyAgrum's BIF reader accepts (it refuses '/', '<', '+' and the like)."""
    if re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*|[0-9]+", label):
        return label
    return "s_" + "".join(c if c.isalnum() else f"_{ord(c):x}_" for c in label)


def load_bif(path: Path):
    """A bnlearn .bif or .bif.gz file as a pyAgrum BayesNet. State labels pyAgrum's reader
    refuses are renamed (one-to-one, in their `{...}` lists and in table rows); the numbers,
    names and state order are the file's."""
    gum = _gum()

    raw = gzip.open(path).read() if str(path).endswith(".gz") else Path(path).read_bytes()
    text = raw.decode()

    def labels(match: re.Match) -> str:
        inner = ", ".join(_safe_label(s.strip()) for s in match.group(2).split(","))
        return f"{match.group(1)}{{ {inner} }}"

    text = re.sub(r"(type discrete\s*\[\s*\d+\s*\]\s*)\{([^}]*)\}", labels, text)
    text = re.sub(r"^(\s*)\(([^)]*)\)",
                  lambda m: f"{m.group(1)}(" + ", ".join(_safe_label(s.strip())
                                                        for s in m.group(2).split(",")) + ")",
                  text, flags=re.MULTILINE)
    with tempfile.TemporaryDirectory() as tmp:
        target = Path(tmp) / (Path(path).name.removesuffix(".gz"))
        target.write_text(text)
        return gum.loadBN(str(target))


def flat_network(bn) -> tuple[list[str], tuple[tuple[int, ...], ...], tuple[int, ...], np.ndarray]:
    """A pyAgrum BayesNet in the kernel's layout: node names, parents (in the order of each
    CPT's variables, which makes the row strides those of the kernel), cards and the flat CPT.

    A CPT's variables are (node, parent_0, ..., parent_m) and `toarray()` orders its axes the
    other way round, (parent_m, ..., parent_0, node): exactly the C order of the kernel's cells
    (row = sum x[parent_j] * stride_j with parent_0 fastest, then the node's state)."""
    ids = sorted(bn.nodes())
    names = [bn.variable(i).name() for i in ids]
    index = {name: v for v, name in enumerate(names)}
    parents, cards, blocks = [], [], []
    for name in names:
        cpt = bn.cpt(name)
        assert cpt.names[0] == name
        parents.append(tuple(index[p] for p in cpt.names[1:]))
        cards.append(bn.variable(name).domainSize())
        blocks.append(np.asarray(cpt.toarray(), dtype=float).ravel())
    return names, tuple(parents), tuple(cards), np.concatenate(blocks)


def agrum_state_marginals(bn, names: Sequence[str], evidence: dict[int, np.ndarray]
                          ) -> tuple[list[np.ndarray], float]:
    """Every node's posterior (one array per node, in state order) under evidence
    {node index: likelihood vector} (a one-hot vector is hard evidence), and pyAgrum's
    seconds for its junction tree and inference."""
    gum = _gum()

    start = time.perf_counter()
    engine = gum.LazyPropagation(bn)
    for v, likelihood in evidence.items():
        engine.addEvidence(names[v], [float(x) for x in likelihood])
    engine.makeInference()
    posteriors = [np.asarray(engine.posterior(name).toarray(), dtype=float) for name in names]
    return posteriors, time.perf_counter() - start
