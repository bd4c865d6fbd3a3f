"""Generated scenarios and evidence, for benchmarks and tests of scale (no I/O).

A generated scenario is a valid TOML text, so it goes through the same parser as an
analyst's file."""

from __future__ import annotations

import numpy as np

# The evidence CSV's required columns (io/evidence.py EVIDENCE_COLUMNS; spelled out here because
# model/ imports nothing from io/, and tests/test_document.py holds the two equal).
EVIDENCE_HEADER = "item_id,node,date,source,reliability,credibility,lr,cluster,summary,url\n"


def scenario_toml(scenario_id: str, n_nodes: int, seed: int = 0, max_parents: int = 2,
                  window: int | None = None) -> str:
    """A random DAG of `n_nodes` binary nodes (each with up to `max_parents` earlier nodes as
    parents) and Beta priors of moderate strength. With `window`, parents come from the
    `window` nodes just before each node, which keeps the treewidth at most `window` however
    many nodes there are (the shape of a long causal chain with local mixing)."""
    rng = np.random.default_rng(seed)
    lines = ["[scenario]", f'id = "{scenario_id}"', f'title = "Generated network of {n_nodes} nodes"',
             'trigger = "generated"', "as_of = 2025-01-01", ""]
    for v in range(n_nodes):
        low = 0 if window is None else max(0, v - window)
        k = int(rng.integers(0, min(v - low, max_parents) + 1))
        parents = sorted((low + rng.choice(v - low, size=k, replace=False)).tolist()) if k else []
        lines += ["[[node]]", f'id = "n{v:02d}"', f'role = "{"driver" if not parents else "consequence"}"',
                  f'question = "Does n{v:02d} happen?"', 'resolution = "Generated."',
                  "opens = 2025-01-01", "deadline = 2026-01-01",
                  "parents = [" + ", ".join(f'"n{p:02d}"' for p in parents) + "]"]
        for config in range(2 ** len(parents)):
            p = float(np.round(rng.uniform(0.1, 0.9), 3))
            strength = float(np.round(rng.uniform(4, 20), 1))
            lines.append("  [[node.prior]]")
            if parents:
                when = ", ".join(f"n{q:02d} = {str(bool(config >> b & 1)).lower()}"
                                 for b, q in enumerate(parents))
                lines.append(f"  when = {{ {when} }}")
            lines += [f"  p = {p}", f"  strength = {strength}", '  rationale = "Generated."',
                      '  reference_class = "Generated."']
        lines.append("")
    return "\n".join(lines)


def evidence_csv(node_ids: list[str], n_items: int, seed: int = 0, cluster_size: int = 1) -> str:
    """`n_items` evidence rows spread over the nodes, with LRs around 1 and mixed grades."""
    rng = np.random.default_rng(seed)
    grades_r, grades_c = "ABCDEF", "123456"
    rows = [EVIDENCE_HEADER]
    for i in range(n_items):
        node = node_ids[int(rng.integers(len(node_ids)))]
        lr = float(np.round(np.exp(rng.normal(0, 0.05 if n_items > 100 else 0.7)), 4))
        cluster = f"c{i // cluster_size}" if cluster_size > 1 else ""
        rows.append(f"G{i:05d},{node},2025-02-01,Generated,{grades_r[int(rng.integers(5))]},"
                    f"{grades_c[int(rng.integers(5))]},{lr},{cluster},generated item {i},\n")
    return "".join(rows)
