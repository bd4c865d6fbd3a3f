"""An analyst's priors, `priors/<scenario>/<analyst>.toml` -> the scenario as that analyst sees it.

The structure, questions, scales and evidence stay the scenario's: an analyst's file may only
give priors (in any form the scenario's reader takes) for nodes it names; a node it omits keeps
the scenario's priors. Anything else (parents, states, a new node) is a located error.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from pathlib import Path

from ..errors import fail, one_of
from ..model.spec import Node, Prior, Scenario
from .prior_rows import (
    Rows,
    cause_in_table,
    configuration_of,
    parametric_priors,
    prior,
    repeated_configuration,
)
from .problems import Problems
from .text import read_user_text
from .toml_fields import load_toml, text_field, unknown_keys

ANALYST_PATTERN = re.compile(r"^[a-z0-9_-]+$")
ANALYST_KEYS = {"name", "note"}
# what an analyst's [[node]] may hold: its id and its priors (with the node-wide rationale)
ANALYST_NODE_KEYS = {"id", "prior", "rationale", "reference_class"}


@dataclass(frozen=True)
class Analyst:
    """One analyst's view: the scenario with their priors, and which nodes they gave."""

    id: str
    name: str
    note: str
    scenario: Scenario
    nodes: tuple[str, ...]          # the node ids whose priors this analyst gave
    path: Path


def analyst_ids(folder: Path) -> list[str]:
    """The analysts' ids in `folder` (priors/<scenario>/), sorted; a .toml whose stem is not a
    valid analyst id is a located error rather than silently left out of the team."""
    if not folder.is_dir():
        return []
    ids = []
    for path in sorted(folder.glob("*.toml")):
        if not ANALYST_PATTERN.match(path.stem):
            raise fail(path, None, "analyst",
                       "a file name of lowercase letters, digits, - and _", path.stem)
        ids.append(path.stem)
    return ids


def load_analyst(path: Path, scenario: Scenario) -> Analyst:
    return parse_analyst(read_user_text(path, "an analyst's priors TOML file"), path, scenario)


def parse_analyst(text: str, path: Path | str, scenario: Scenario) -> Analyst:
    """The analyst's view of `scenario`, or the first problem as a located `ForecastError`."""
    path = Path(path)
    if not ANALYST_PATTERN.match(path.stem):
        raise fail(path, None, "analyst", "a file name of lowercase letters, digits, - and _",
                   path.stem)
    doc = load_toml(text, path)
    for extra in unknown_keys(path, doc, {"analyst", "node"}, "top level"):
        raise extra
    meta = doc.get("analyst", {})
    if not isinstance(meta, dict):
        raise fail(path, "analyst", "analyst", "an [analyst] table", meta)
    for extra in unknown_keys(path, meta, ANALYST_KEYS, "analyst"):
        raise extra
    name = text_field(path, meta, "name", "analyst", False) or path.stem
    note = text_field(path, meta, "note", "analyst", False)
    raw = doc.get("node", [])
    if not isinstance(raw, list) or not all(isinstance(t, dict) for t in raw):
        raise fail(path, "node", "node", "[[node]] tables", raw)
    states_of = {n.id: n.states for n in scenario.nodes}
    known = {n.id: n for n in scenario.nodes}
    given: dict[str, object] = {}
    for index, table in enumerate(raw):
        node_id = table.get("id")
        where = f"node[{node_id}]" if isinstance(node_id, str) else f"node[{index}]"
        if not isinstance(node_id, str) or node_id not in known:
            raise fail(path, where, "id", f"a node of scenario {scenario.id} "
                       f"({one_of(known)})", node_id)
        if node_id in given:
            raise fail(path, where, "id", "each node once", f"'{node_id}' twice")
        for extra in sorted(set(table) - ANALYST_NODE_KEYS):
            raise fail(path, where, extra, "only priors in an analyst's file (id, prior, "
                       "rationale, reference_class): the structure, states and questions are "
                       f"the scenario's ({scenario.id})", extra)
        if "prior" not in table:
            raise fail(path, where, "prior", "[[node.prior]] tables", "nothing (missing)")
        node = known[node_id]
        shared = {key: text_field(path, table, key, where, False)
                  for key in ("rationale", "reference_class")}
        rows = Rows(path, scenario.scales, states_of, shared)
        problems = Problems()
        if node.cpt == "table":
            given[node_id] = _table_rows(rows, table["prior"], node, where, problems)
        else:
            given[node_id] = problems.attempt(parametric_priors, rows, table["prior"],
                                              node.parents, where, problems)
        problems.raise_first()
    nodes = tuple(replace(n, priors=given[n.id]) if n.id in given else n for n in scenario.nodes)
    return Analyst(path.stem, name, note, replace(scenario, nodes=nodes),
                   tuple(n for n in scenario.node_ids if n in given), path)


def _table_rows(rows: Rows, raw, node: Node, where: str, problems: Problems) -> tuple[Prior, ...]:
    """A table node's rows as the analyst gives them: any of its parent configurations (each
    once); a configuration the analyst leaves out keeps the scenario's row. Stops at the first
    problem (an analyst's file is read whole or not at all)."""
    if not isinstance(raw, list) or not raw or not all(isinstance(t, dict) for t in raw):
        raise fail(rows.path, where, "prior", "[[node.prior]] tables", raw)
    given = list(node.priors)
    seen: set[int] = set()
    for index, table in enumerate(raw):
        at = f"{where}.prior[{index}]"
        if "cause" in table:
            raise cause_in_table(rows, table, at)
        config = configuration_of(rows, table, node.parents, at)
        if config in seen:
            raise repeated_configuration(rows, node.parents, config, at)
        seen.add(config)
        given[config] = problems.attempt(prior, rows, table, node.parents, config, at, node.id,
                                         problems)
        problems.raise_first()
    return tuple(given)
