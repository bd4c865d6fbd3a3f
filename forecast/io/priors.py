"""Scenario TOML -> `Scenario`. Every problem names the file, the TOML key and the field.

Unknown keys are errors: a misspelled key silently ignored is a wrong forecast. The reader
notes each problem and reads on wherever it still makes sense (past an unknown key, to the next
node, the next table; io/problems.py): `parse_scenario` raises the first (every command that
needs the scenario), `scenario_problems` returns them all (`forecast evidence validate`). The
`[scales.*]` tables are read by scales_toml.py, a node's priors by prior_rows.py.
"""

from __future__ import annotations

import re
from pathlib import Path

from ..errors import ForecastError, fail, one_of, problem
from ..model.scales import build_scales
from ..model.spec import BINARY_STATES, CPT_FORMS, MAX_STATES, MIN_STATES, Node, Scales, Scenario
from ..model.structure import find_cycle
from .prior_rows import Rows, parametric_priors, table_priors
from .problems import Problems
from .scales_toml import read_scales
from .text import read_user_text
from .toml_fields import date_field, load_toml, text_field, unknown_keys

SCENARIO_KEYS = {"id", "title", "trigger", "as_of", "description", "sources"}
SCENARIO_REQUIRED = ("id", "title", "trigger", "as_of")
NODE_KEYS = {"id", "label", "role", "question", "resolution", "opens", "deadline", "parents", "prior",
             "cpt", "rationale", "reference_class", "states", "ordered"}
NODE_REQUIRED = ("id", "role", "question", "resolution", "opens", "deadline", "parents", "prior")
STATE_PATTERN = re.compile(r"^[a-z][a-z0-9_]*$")
ROLES = ("consequence", "driver")
ID_PATTERN = re.compile(r"^[A-Za-z][A-Za-z0-9_]*$")


def load_scenario(path: Path) -> Scenario:
    text = read_user_text(path, "a scenario TOML file")
    return parse_scenario(text, path)


def parse_scenario(text: str, path: Path | str) -> Scenario:
    """The scenario, or the first problem in it as a located `ForecastError`."""
    path = Path(path)
    problems = Problems()
    scenario = _scenario(path, load_toml(text, path), problems)
    problems.raise_first()
    return scenario


def scenario_problems(text: str, path: Path | str) -> list[ForecastError]:
    """Every problem in a scenario TOML (empty if it is valid), in file order as far as the
    reader can tell. Invalid TOML is one problem: nothing after it can be read."""
    path = Path(path)
    try:
        doc = load_toml(text, path)
    except ForecastError as error:
        return [error]
    problems = Problems()
    _scenario(path, doc, problems)
    return problems.unique()


def _scenario(path: Path, doc: dict, problems: Problems) -> Scenario | None:
    """The scenario, or None once any problem is noted."""
    problems.extend(unknown_keys(path, doc, {"scenario", "scales", "node"}, "top level"))
    meta = doc.get("scenario")
    if not isinstance(meta, dict):
        problems.note(fail(path, "scenario", "scenario", "a [scenario] table", meta))
        meta = {}
    else:
        problems.extend(unknown_keys(path, meta, SCENARIO_KEYS, "scenario"))
        problems.extend(fail(path, "scenario", key, "a value", "nothing (missing)")
                        for key in SCENARIO_REQUIRED if key not in meta)
    scenario_id = problems.attempt(_scenario_id, path, meta) if "id" in meta else None
    sources = meta.get("sources", [])
    if not isinstance(sources, list) or not all(isinstance(s, str) for s in sources):
        problems.note(fail(path, "scenario", "sources", "a list of strings", sources))
    scales = problems.attempt(read_scales, path, doc.get("scales", {}), problems)
    nodes = problems.attempt(_nodes, path, doc.get("node"), scales or build_scales(), problems)
    header = {key: problems.attempt(read, path, meta, key, "scenario") if key in meta else ""
              for key, read in (("title", text_field), ("trigger", text_field),
                                ("as_of", date_field))}
    description = problems.attempt(text_field, path, meta, "description", "scenario", False)
    if problems:
        return None
    return Scenario(
        id=scenario_id,
        title=header["title"],
        trigger=header["trigger"],
        as_of=header["as_of"],
        description=description,
        sources=tuple(sources),
        nodes=nodes,
        scales=scales,
    )


def _scenario_id(path: Path, meta: dict) -> str:
    scenario_id = text_field(path, meta, "id", "scenario")
    if scenario_id != path.stem:
        raise fail(path, "scenario", "id", f"the file name '{path.stem}'", scenario_id)
    return scenario_id


def _nodes(path: Path, raw, scales: Scales, problems: Problems) -> tuple[Node, ...] | None:
    """Every node: ids first, then every node's states (a prior's `when` names its parents'
    states), the graph's acyclicity, then each node whole."""
    if not isinstance(raw, list) or not raw:
        raise fail(path, "node", "node", "at least one [[node]] table", raw)
    seen: dict[str, str] = {}
    tables = [table for index, table in enumerate(raw)
              if problems.attempt(_node_id, path, table, index, seen) is not None]
    ids = set(seen.values())
    states_of = {t["id"]: problems.attempt(_states, path, t, default=BINARY_STATES) for t in tables}
    problems.attempt(_check_acyclic, path,
                     {t["id"]: problems.attempt(_parents, path, t, ids, default=[]) for t in tables})
    nodes = tuple(problems.attempt(_node, path, t, ids, Rows(path, scales, states_of, {}), problems)
                  for t in tables)
    if problems:
        return None
    parametric = next((n for n in nodes if n.parametric), None)
    named = next((n for n in nodes if not n.binary), None)
    if parametric is not None and named is not None:
        raise fail(path, f"node[{named.id}]", "states",
                   "yes/no questions only in a scenario with parametric CPTs (node "
                   f"{parametric.id} has cpt = \"{parametric.cpt}\")", list(named.states))
    return nodes


def _node_id(path: Path, table, index: int, seen: dict[str, str]) -> str:
    """A node's id, unique even when case is ignored (`seen`: folded id -> id, updated)."""
    where = f"node[{index}]"
    if not isinstance(table, dict):
        raise fail(path, where, "node", "a [[node]] table", table)
    node_id = text_field(path, table, "id", where)
    if not ID_PATTERN.match(node_id):
        raise fail(path, where, "id", "an identifier (a letter, then letters, digits or _)", node_id)
    folded = node_id.lower()
    if folded in seen:
        if seen[folded] == node_id:
            raise fail(path, f"node[{node_id}]", "id", "a unique node id", f"'{node_id}' twice")
        raise fail(path, f"node[{node_id}]", "id",
                   "node ids that differ in more than case", f"'{seen[folded]}' and '{node_id}'")
    seen[folded] = node_id
    return node_id


def _states(path: Path, table: dict) -> tuple[str, ...]:
    """A node's states: MIN_STATES to MAX_STATES lowercase identifiers, each once; yes/no when
    absent."""
    if "states" not in table:
        return BINARY_STATES
    where, value = f"node[{table['id']}]", table["states"]
    expected = (f"a list of {MIN_STATES} to {MAX_STATES} state names (lowercase letters, "
                "digits, _; starting with a letter)")
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise fail(path, where, "states", expected, value)
    if not MIN_STATES <= len(value) <= MAX_STATES:
        raise fail(path, where, "states", expected, f"{len(value)} states")
    for state in value:
        if not STATE_PATTERN.match(state):
            raise fail(path, where, "states", expected, state)
    if len(set(value)) != len(value):
        twice = next(v for v in value if value.count(v) > 1)
        raise fail(path, where, "states", "each state once", f"'{twice}' twice")
    return tuple(value)


def _node(path: Path, table: dict, ids: set, rows: Rows, problems: Problems) -> Node | None:
    """One node, or None once any problem is noted; `rows` has every node's states."""
    node_id = table["id"]
    where = f"node[{node_id}]"
    problems.extend(unknown_keys(path, table, NODE_KEYS, where))
    problems.extend(fail(path, where, key, "a value", "nothing (missing)")
                    for key in NODE_REQUIRED if key not in table)
    role = table.get("role")
    if "role" in table and role not in ROLES:
        problems.note(fail(path, where, "role", one_of(ROLES), role))
    opens = problems.attempt(date_field, path, table, "opens", where) if "opens" in table else None
    deadline = (problems.attempt(date_field, path, table, "deadline", where)
                if "deadline" in table else None)
    if opens is not None and deadline is not None and deadline <= opens:
        problems.note(fail(path, where, "deadline", f"a date after opens ({opens})", deadline))
    parents = problems.attempt(_parents, path, table, ids) if "parents" in table else None
    label = problems.attempt(text_field, path, table, "label", where, False)
    question = (problems.attempt(text_field, path, table, "question", where)
                if "question" in table else None)
    resolution = (problems.attempt(text_field, path, table, "resolution", where)
                  if "resolution" in table else None)
    cpt = table.get("cpt", "table")
    if cpt not in CPT_FORMS:
        problems.note(fail(path, where, "cpt", one_of(f'"{f}"' for f in CPT_FORMS), cpt))
        cpt = None
    states = rows.states(node_id)
    ordered = table.get("ordered", False)
    if not isinstance(ordered, bool):
        problems.note(fail(path, where, "ordered", "true or false", ordered))
    if cpt is not None and cpt != "table":
        not_binary = [p for p in [node_id, *(parents or ())]
                      if set(rows.states(p)) != set(BINARY_STATES)]
        if not_binary:
            which = "this node has" if not_binary[0] == node_id else f"parent {not_binary[0]} has"
            problems.note(fail(path, where, "cpt", 'cpt = "table" (parametric CPTs are for '
                               f"yes/no nodes and parents; {which} states "
                               f"{', '.join(rows.states_of[not_binary[0]])})", cpt))
            cpt = None
    shared = {key: problems.attempt(text_field, path, table, key, where, False)
              for key in ("rationale", "reference_class")}
    priors = None
    if "prior" in table and parents is not None and cpt is not None:
        node_rows = Rows(path, rows.scales, rows.states_of, shared)
        if cpt == "table":
            priors = problems.attempt(table_priors, node_rows, table["prior"], node_id,
                                      tuple(parents), where, problems)
        else:
            priors = problems.attempt(parametric_priors, node_rows, table["prior"],
                                      tuple(parents), where, problems)
    if problems:
        return None
    return Node(
        id=node_id,
        role=role,
        question=question,
        resolution=resolution,
        opens=opens,
        deadline=deadline,
        parents=tuple(parents),
        priors=priors,
        label=label,
        cpt=cpt,
        states=states,
        ordered=bool(ordered),
    )


def _parents(path: Path, table: dict, ids: set) -> list[str]:
    node_id = table["id"]
    where = f"node[{node_id}]"
    if "parents" not in table:
        raise fail(path, where, "parents", "a value ([] for a root)", "nothing (missing)")
    parents = table["parents"]
    if not isinstance(parents, list) or not all(isinstance(p, str) for p in parents):
        raise fail(path, where, "parents", "a list of node ids", parents)
    for parent in parents:
        if parent == node_id:
            raise fail(path, where, "parents", "other nodes (a node cannot be its own parent)", parent)
        if parent not in ids:
            raise fail(path, where, "parents", f"a node id ({one_of(ids)})", parent)
    if len(set(parents)) != len(parents):
        raise fail(path, where, "parents", "each parent once", parents)
    return parents


def _check_acyclic(path: Path, parents: dict[str, list[str]]) -> None:
    """The error names the node whose parent closes the cycle, and the cycle (a long one by
    its ends; ids are always whole)."""
    cycle = find_cycle(parents)
    if cycle is None:
        return
    closing = cycle[-2]
    if len(cycle) > 10:
        cycle = cycle[:4] + [f"({len(cycle) - 8} more)"] + cycle[-4:]
    raise problem(path, f"node[{closing}]", "parents", "expected an acyclic graph, found a cycle "
                  + " <- ".join(cycle))
