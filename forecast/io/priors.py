"""Scenario TOML -> `Scenario`. Every problem names the file, the TOML key and the field.

Unknown keys are errors: a misspelled key silently ignored is a wrong forecast.
`parse_scenario` stops at the first problem (every command that needs the scenario);
`scenario_problems` reads on past each one and returns them all (`forecast evidence validate`).
"""

from __future__ import annotations

import datetime as dt
import re
import tomllib
from dataclasses import replace
from pathlib import Path

from ..errors import ForecastError, fail, one_of, problem
from ..model.scales import (
    CREDIBILITY_GRADES,
    RELIABILITY_GRADES,
    SCALE_TABLES,
    build_scales,
    default_scale_tables,
)
from ..model.spec import BINARY_STATES, CPT_FORMS, MAX_STATES, MIN_STATES, Node, Prior, Scales, Scenario
from .text import CONTROL_CHARACTERS, is_finite_number, read_user_text

SCENARIO_KEYS = {"id", "title", "trigger", "as_of", "description", "sources"}
SCENARIO_REQUIRED = ("id", "title", "trigger", "as_of")
NODE_KEYS = {"id", "label", "role", "question", "resolution", "opens", "deadline", "parents", "prior",
             "cpt", "rationale", "reference_class", "states", "ordered"}
NODE_REQUIRED = ("id", "role", "question", "resolution", "opens", "deadline", "parents", "prior")
PRIOR_KEYS = {"when", "cause", "p", "strength", "beta", "term", "confidence", "fixed", "rationale",
              "reference_class", "dirichlet"}
STATE_PATTERN = re.compile(r"^[a-z][a-z0-9_]*$")
# how far a p list may be from summing to 1 (rounding in a hand-written or exported row)
ROW_SUM_TOLERANCE = 1e-6
PARAMETRIC_FORMS = tuple(form for form in CPT_FORMS if form != "table")
ROLES = ("consequence", "driver")
# A state in `when`: TOML booleans, or the words the CLI uses (`--given a=yes`, `resolve a yes`),
# which TOML only allows as strings.
WHEN_WORDS = {"yes": True, "no": False}
WHEN_EXPECTED = 'true or false (or "yes" / "no" in quotes: TOML has no bare yes)'
BARE_YES_NO = re.compile(r'=\s*(yes|no|Yes|No|YES|NO)\s*[,}#\n]')
LR_BOUND_KEYS = ("low", "high")
ID_PATTERN = re.compile(r"^[A-Za-z][A-Za-z0-9_]*$")
MAX_TEXT = 5000


def load_scenario(path: Path) -> Scenario:
    text = read_user_text(path, "a scenario TOML file")
    return parse_scenario(text, path)


def parse_scenario(text: str, path: Path | str) -> Scenario:
    """The scenario, or the first problem in it as a located `ForecastError`."""
    path = Path(path)
    return _Reader(path).scenario(_load_toml(text, path))


def scenario_problems(text: str, path: Path | str) -> list[ForecastError]:
    """Every problem in a scenario TOML (empty if it is valid), in file order as far as the
    reader can tell. Invalid TOML is one problem: nothing after it can be read."""
    path = Path(path)
    try:
        doc = _load_toml(text, path)
    except ForecastError as error:
        return [error]
    reader = _Reader(path, collect=True)
    try:
        reader.scenario(doc)
    except ForecastError as error:
        reader.problems.append(error)
    unique: dict[str, ForecastError] = {}
    for error in reader.problems:
        unique.setdefault(str(error), error)
    return list(unique.values())


def _load_toml(text: str, path: Path) -> dict:
    try:
        doc = tomllib.loads(text)
    except RecursionError:
        raise problem(path, None, "toml", "invalid TOML: arrays or tables nested too deeply") from None
    except tomllib.TOMLDecodeError as e:
        found = re.search(r"^(.*) \(at line (\d+), column (\d+)\)$", str(e))
        if found:
            message, line = f"{found.group(1)} (column {found.group(3)})", int(found.group(2))
        else:
            message, line = str(e), None
        if line is not None and BARE_YES_NO.search(text.splitlines()[line - 1] + "\n"):
            message += ('; TOML has no bare yes/no: write true/false, or "yes"/"no" in quotes, '
                        'e.g. when = { ceasefire = "yes" }')
        raise problem(path, line, "toml", f"invalid TOML: {message}") from e
    return doc


def _control_character(text: str) -> str | None:
    """The first control character other than tab and line breaks, as U+XXXX, if any."""
    found = CONTROL_CHARACTERS.search(text)
    return f"U+{ord(found.group()):04X}" if found else None


class _Reader:
    """Reads a parsed TOML document into a `Scenario`.

    By default the first problem is raised. With `collect`, problems are gathered in
    `self.problems` and reading goes on wherever it still makes sense: past an unknown key, to
    the next prior row, the next node, the next table (a row that failed still counts for its
    parent configuration, so one typo does not also report a missing CPT row)."""

    def __init__(self, path: Path, collect: bool = False):
        self.path = path
        self.problems: list[ForecastError] | None = [] if collect else None
        self.states_of: dict[str, tuple[str, ...]] = {}     # every node's states, read first

    def note(self, error: ForecastError) -> None:
        """A problem after which reading can go on (raised at once unless collecting)."""
        if self.problems is None:
            raise error
        self.problems.append(error)

    def attempt(self, read, *args, default=None):
        """`read(*args)`; when collecting, a problem is noted and `default` returned."""
        if self.problems is None:
            return read(*args)
        try:
            return read(*args)
        except ForecastError as error:
            self.problems.append(error)
            return default

    @property
    def failed(self) -> bool:
        return bool(self.problems)

    def unknown(self, table: dict, allowed: set, where: str) -> None:
        for extra in sorted(set(table) - allowed):
            self.note(fail(self.path, where, extra, f"a known key ({one_of(allowed)})",
                           extra))

    def text(self, table: dict, key: str, where: str, required: bool = True) -> str:
        if key not in table:
            if required:
                raise fail(self.path, where, key, "a value", "nothing (missing)")
            return ""
        value = table[key]
        if not isinstance(value, str) or (required and not value.strip()):
            raise fail(self.path, where, key, "a non-empty string", value)
        if len(value) > MAX_TEXT:
            raise fail(self.path, where, key, f"at most {MAX_TEXT} characters",
                       f"{len(value)} characters")
        if control := _control_character(value):
            raise fail(self.path, where, key, "text without control characters",
                       f"character {control}")
        return value.strip()

    def date(self, table: dict, key: str, where: str) -> dt.date:
        if key not in table:
            raise fail(self.path, where, key, "a date (YYYY-MM-DD)", "nothing (missing)")
        value = table[key]
        if isinstance(value, dt.datetime) or not isinstance(value, dt.date):
            raise fail(self.path, where, key, "a TOML date like 2025-03-11", value)
        return value

    def number(self, value, where: str, key: str, what: str) -> float:
        if not is_finite_number(value):
            raise fail(self.path, where, key, what, value)
        return float(value)

    # -- scenario ------------------------------------------------------------------------
    def scenario(self, doc: dict) -> Scenario:
        self.unknown(doc, {"scenario", "scales", "node"}, "top level")
        meta = doc.get("scenario")
        if not isinstance(meta, dict):
            self.note(fail(self.path, "scenario", "scenario", "a [scenario] table", meta))
            meta = {}
        else:
            self.unknown(meta, SCENARIO_KEYS, "scenario")
            for key in SCENARIO_REQUIRED:
                if key not in meta:
                    self.note(fail(self.path, "scenario", key, "a value", "nothing (missing)"))
        scenario_id = self.attempt(self.scenario_id, meta) if "id" in meta else None
        sources = meta.get("sources", [])
        if not isinstance(sources, list) or not all(isinstance(s, str) for s in sources):
            self.note(fail(self.path, "scenario", "sources", "a list of strings", sources))
        scales = self.attempt(self.scales, doc.get("scales", {}))
        nodes = self.attempt(self.nodes, doc.get("node"), scales or build_scales())
        header = {key: self.attempt(read, meta, key, "scenario") if key in meta else ""
                  for key, read in (("title", self.text), ("trigger", self.text),
                                    ("as_of", self.date))}
        description = self.attempt(self.text, meta, "description", "scenario", False)
        if self.failed:
            raise self.problems[0]
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

    def scenario_id(self, meta: dict) -> str:
        scenario_id = self.text(meta, "id", "scenario")
        if scenario_id != self.path.stem:
            raise fail(self.path, "scenario", "id", f"the file name '{self.path.stem}'",
                       scenario_id)
        return scenario_id

    # -- scales --------------------------------------------------------------------------
    def scales(self, tables) -> Scales:
        if not isinstance(tables, dict):
            raise fail(self.path, "scales", "scales", "a table of [scales.*] tables", tables)
        self.unknown(tables, set(SCALE_TABLES), "scales")
        valid: dict[str, dict] = {}
        for name, table in tables.items():
            where = f"scales.{name}"
            if name not in SCALE_TABLES:
                continue
            if not isinstance(table, dict):
                self.note(fail(self.path, where, name, "a table", table))
                continue
            valid[name] = {key: value for key, value in table.items()
                           if self.attempt(self.scale_entry, name, key, value, where,
                                           default=False) is not False}
        if "lr_bounds" in valid:
            bounds = {**default_scale_tables()["lr_bounds"], **valid["lr_bounds"]}
            if not bounds["low"] < 1 < bounds["high"]:
                self.note(fail(self.path, "scales.lr_bounds", "low",
                               "low < 1 < high (an LR of 1 must always be allowed)",
                               f"low = {bounds['low']}, high = {bounds['high']}"))
                del valid["lr_bounds"]
        scales = build_scales(valid)
        low, high = scales.lr_bounds
        for name, lr in scales.likelihood_ratio.items():
            if not low <= lr <= high:
                self.note(fail(self.path, "scales.likelihood_ratio", name,
                               f"a likelihood ratio within [scales.lr_bounds] ({low:g} to {high:g})",
                               lr))
        return scales

    def scale_entry(self, name: str, key: str, value, where: str) -> None:
        if name == "likelihood_ratio":
            lr = self.number(value, where, key, "a positive likelihood ratio")
            if lr <= 0:
                raise fail(self.path, where, key, "a positive likelihood ratio", value)
        elif name in ("reliability", "credibility"):
            grades = RELIABILITY_GRADES if name == "reliability" else CREDIBILITY_GRADES
            if key not in grades:
                raise fail(self.path, where, key, f"a grade ({one_of(grades)})", key)
            factor = self.number(value, where, key, "a factor in [0, 1]")
            if not 0 <= factor <= 1:
                raise fail(self.path, where, key, "a factor in [0, 1]", value)
        elif name == "confidence":
            strength = self.number(value, where, key, "a positive prior strength")
            if strength <= 0:
                raise fail(self.path, where, key, "a positive prior strength", value)
        elif name == "lr_bounds":
            if key not in LR_BOUND_KEYS:
                raise fail(self.path, where, key, f"a known key ({one_of(LR_BOUND_KEYS)})",
                           key)
            bound = self.number(value, where, key, "a positive likelihood ratio")
            if bound <= 0:
                raise fail(self.path, where, key, "a positive likelihood ratio", value)
        elif name == "terms":
            ok = (isinstance(value, list) and len(value) == 2 and all(map(is_finite_number, value))
                  and 0 <= value[0] < value[1] <= 1)
            if not ok:
                raise fail(self.path, where, key, "a range [low, high] with 0 <= low < high <= 1",
                           value)

    # -- nodes ---------------------------------------------------------------------------
    def nodes(self, raw, scales: Scales) -> tuple[Node, ...]:
        if not isinstance(raw, list) or not raw:
            raise fail(self.path, "node", "node", "at least one [[node]] table", raw)
        seen: dict[str, str] = {}
        tables = []
        for index, table in enumerate(raw):
            if self.attempt(self.node_id, table, index, seen) is not None:
                tables.append(table)
        ids = set(seen.values())
        for t in tables:
            self.states_of[t["id"]] = self.attempt(self.states, t, default=BINARY_STATES)
        self.attempt(self.check_acyclic,
                     {t["id"]: self.attempt(self.parents, t, ids, default=[]) for t in tables})
        nodes = tuple(self.attempt(self.node, t, ids, scales) for t in tables)
        if self.failed:
            return None
        parametric = next((n for n in nodes if n.parametric), None)
        named = next((n for n in nodes if not n.binary), None)
        if parametric is not None and named is not None:
            raise fail(self.path, f"node[{named.id}]", "states",
                       "yes/no questions only in a scenario with parametric CPTs (node "
                       f"{parametric.id} has cpt = \"{parametric.cpt}\")", list(named.states))
        return nodes

    def node_id(self, table, index: int, seen: dict[str, str]) -> str:
        where = f"node[{index}]"
        if not isinstance(table, dict):
            raise fail(self.path, where, "node", "a [[node]] table", table)
        node_id = self.text(table, "id", where)
        if not ID_PATTERN.match(node_id):
            raise fail(self.path, where, "id",
                       "an identifier (a letter, then letters, digits or _)", node_id)
        folded = node_id.lower()
        if folded in seen:
            if seen[folded] == node_id:
                raise fail(self.path, f"node[{node_id}]", "id", "a unique node id",
                           f"'{node_id}' twice")
            raise fail(self.path, f"node[{node_id}]", "id",
                       "node ids that differ in more than case", f"'{seen[folded]}' and '{node_id}'")
        seen[folded] = node_id
        return node_id

    def states(self, table: dict) -> tuple[str, ...]:
        """A node's states: 2 to MAX_STATES lowercase identifiers, each once; yes/no when absent."""
        if "states" not in table:
            return BINARY_STATES
        where, value = f"node[{table['id']}]", table["states"]
        expected = (f"a list of {MIN_STATES} to {MAX_STATES} state names (lowercase letters, "
                    "digits, _; starting with a letter)")
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            raise fail(self.path, where, "states", expected, value)
        if not MIN_STATES <= len(value) <= MAX_STATES:
            raise fail(self.path, where, "states", expected, f"{len(value)} states")
        for state in value:
            if not STATE_PATTERN.match(state):
                raise fail(self.path, where, "states", expected, state)
        if len(set(value)) != len(value):
            twice = next(v for v in value if value.count(v) > 1)
            raise fail(self.path, where, "states", "each state once", f"'{twice}' twice")
        return tuple(value)

    def node(self, table: dict, ids: set, scales: Scales) -> Node:
        node_id = table["id"]
        where = f"node[{node_id}]"
        self.unknown(table, NODE_KEYS, where)
        for key in NODE_REQUIRED:
            if key not in table:
                self.note(fail(self.path, where, key, "a value", "nothing (missing)"))
        role = table.get("role")
        if "role" in table and role not in ROLES:
            self.note(fail(self.path, where, "role", one_of(ROLES), role))
        opens = self.attempt(self.date, table, "opens", where) if "opens" in table else None
        deadline = self.attempt(self.date, table, "deadline", where) if "deadline" in table else None
        if opens is not None and deadline is not None and deadline <= opens:
            self.note(fail(self.path, where, "deadline", f"a date after opens ({opens})", deadline))
        parents = self.attempt(self.parents, table, ids) if "parents" in table else None
        label = self.attempt(self.text, table, "label", where, False)
        question = self.attempt(self.text, table, "question", where) if "question" in table else None
        resolution = (self.attempt(self.text, table, "resolution", where)
                      if "resolution" in table else None)
        cpt = table.get("cpt", "table")
        if cpt not in CPT_FORMS:
            self.note(fail(self.path, where, "cpt", one_of(f'"{f}"' for f in CPT_FORMS),
                           cpt))
            cpt = None
        states = self.states_of.get(node_id) or BINARY_STATES
        ordered = table.get("ordered", False)
        if not isinstance(ordered, bool):
            self.note(fail(self.path, where, "ordered", "true or false", ordered))
        if cpt is not None and cpt != "table":
            not_binary = [p for p in [node_id, *(parents or ())]
                          if set(self.states_of.get(p) or BINARY_STATES) != set(BINARY_STATES)]
            if not_binary:
                which = "this node has" if not_binary[0] == node_id else f"parent {not_binary[0]} has"
                self.note(fail(self.path, where, "cpt", 'cpt = "table" (parametric CPTs are for '
                               f"yes/no nodes and parents; {which} states "
                               f"{', '.join(self.states_of[not_binary[0]])})", cpt))
                cpt = None
        shared = {key: self.attempt(self.text, table, key, where, False)
                  for key in ("rationale", "reference_class")}
        priors = None
        if "prior" in table and parents is not None and cpt is not None:
            read = self.priors if cpt == "table" else self.parametric_priors
            priors = self.attempt(read, table["prior"], tuple(parents), where, scales, shared)
        if self.failed:
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

    def parents(self, table: dict, ids: set) -> list[str]:
        node_id = table["id"]
        where = f"node[{node_id}]"
        if "parents" not in table:
            raise fail(self.path, where, "parents", "a value ([] for a root)", "nothing (missing)")
        parents = table["parents"]
        if not isinstance(parents, list) or not all(isinstance(p, str) for p in parents):
            raise fail(self.path, where, "parents", "a list of node ids", parents)
        for parent in parents:
            if parent == node_id:
                raise fail(self.path, where, "parents",
                           "other nodes (a node cannot be its own parent)", parent)
            if parent not in ids:
                raise fail(self.path, where, "parents", f"a node id ({one_of(ids)})",
                           parent)
        if len(set(parents)) != len(parents):
            raise fail(self.path, where, "parents", "each parent once", parents)
        return parents

    def check_acyclic(self, parents: dict[str, list[str]]) -> None:
        """Depth-first search with an explicit stack (a long chain of nodes must not exhaust
        Python's recursion limit); the error names the node whose parent closes the cycle."""
        done: set[str] = set()
        for start in parents:
            if start in done:
                continue
            path, on_path, pending = [start], {start}, [iter(parents[start])]
            while pending:
                parent = next(pending[-1], None)
                if parent is None:
                    finished = path.pop()
                    on_path.discard(finished)
                    done.add(finished)
                    pending.pop()
                    continue
                if parent in on_path:
                    cycle = path[path.index(parent):] + [parent]
                    if len(cycle) > 10:     # whole ids always; a long cycle by its ends
                        cycle = cycle[:4] + [f"({len(cycle) - 8} more)"] + cycle[-4:]
                    raise problem(self.path, f"node[{path[-1]}]", "parents", "expected an "
                                  "acyclic graph, found a cycle " + " <- ".join(cycle))
                if parent not in done:
                    path.append(parent)
                    on_path.add(parent)
                    pending.append(iter(parents[parent]))

    # -- priors --------------------------------------------------------------------------
    def priors(self, raw, parents: tuple[str, ...], where: str, scales: Scales,
               shared: dict | None = None) -> tuple[Prior, ...]:
        expected = 1
        for parent in parents:
            expected *= len(self.states_of.get(parent) or BINARY_STATES)
        node_id = where[len("node["):-1]
        if not isinstance(raw, list) or not all(isinstance(t, dict) for t in raw):
            raise fail(self.path, where, "prior", "[[node.prior]] tables", raw)
        by_config: dict[int, Prior | None] = {}
        unplaced = False                    # a row whose `when` could not be read
        for index, table in enumerate(raw):
            at = f"{where}.prior[{index}]"
            if "cause" in table:
                self.note(fail(self.path, at, "cause",
                               'no `cause` in a table CPT (cause belongs to cpt = "noisy_or" or '
                               '"log_odds")', table["cause"]))
                unplaced = True
                continue
            config = self.attempt(self.config, table, parents, at)
            if config is None:
                unplaced = True
                continue
            if config in by_config:
                self.note(fail(self.path, at, "when", "each parent configuration once",
                               f"a second row for {self.describe(parents, config)}"))
                self.attempt(self.prior, table, parents, config, at, scales, shared,  # its own
                             node_id)
                continue
            by_config[config] = self.attempt(self.prior, table, parents, config, at, scales,
                                             shared, node_id)
        missing = [c for c in range(expected) if c not in by_config]
        if missing and not unplaced:
            raise fail(self.path, where, "prior",
                       f"{expected} CPT rows (one per parent configuration)",
                       f"no row for {self.describe(parents, missing[0])}"
                       + (f" and {len(missing) - 1} more" if len(missing) > 1 else ""))
        if self.failed:
            return None
        return tuple(by_config[c] for c in range(expected))

    def config(self, table: dict, parents: tuple[str, ...], at: str) -> int:
        when = table.get("when")
        if not parents:
            if when is not None:
                raise fail(self.path, at, "when", "no `when` on a root node's prior", when)
            return 0
        if isinstance(when, list):
            # the compact form: states in `parents` order, e.g. when = [true, "sustained"]
            if len(when) != len(parents):
                raise fail(self.path, at, "when", f"{len(parents)} states, one per parent in "
                           f"order ({', '.join(parents)})", f"{len(when)} states")
            when = dict(zip(parents, when, strict=True))
        if not isinstance(when, dict):
            raise fail(self.path, at, "when", "a table naming every parent, e.g. { "
                       f"{parents[0]} = true }}, or their states in order, e.g. "
                       f"[{', '.join(['true'] * len(parents))}]", when)
        extra = sorted(set(when) - set(parents))
        if extra:
            raise fail(self.path, at, "when", f"only parents ({one_of(parents)})", extra[0])
        missing = [p for p in parents if p not in when]
        if missing:
            raise fail(self.path, at, "when", "a state for every parent", f"no state for {missing[0]}")
        config, stride = 0, 1
        for parent in parents:
            states = self.states_of.get(parent) or BINARY_STATES
            config += self.parent_state(when[parent], parent, states, at) * stride
            stride *= len(states)
        return config

    def parent_state(self, state, parent: str, states: tuple[str, ...], at: str) -> int:
        """A parent's state in `when` as its engine index (yes = 1 on a yes/no parent)."""
        if set(states) == set(BINARY_STATES):
            if isinstance(state, str) and state.strip().lower() in WHEN_WORDS:
                state = WHEN_WORDS[state.strip().lower()]
            if not isinstance(state, bool):
                raise fail(self.path, at, f"when.{parent}", WHEN_EXPECTED, state)
            return int(state)
        if not isinstance(state, str) or state not in states:
            raise fail(self.path, at, f"when.{parent}", f"a state of {parent} ({', '.join(states)})",
                       state)
        return states.index(state)

    def when_of(self, parents: tuple[str, ...], config: int) -> tuple[tuple[str, bool | str], ...]:
        """Configuration index -> ((parent, state), ...): True/False on yes/no parents."""
        when = []
        for parent in parents:
            states = self.states_of.get(parent) or BINARY_STATES
            index, config = config % len(states), config // len(states)
            when.append((parent, bool(index) if set(states) == set(BINARY_STATES) else states[index]))
        return tuple(when)

    def describe(self, parents: tuple[str, ...], config: int) -> str:
        if not parents:
            return "the root"
        return "{" + ", ".join(f"{p} = {str(s).lower() if isinstance(s, bool) else repr(s)}"
                               for p, s in self.when_of(parents, config)) + "}"

    def parametric_priors(self, raw, parents: tuple[str, ...], where: str, scales: Scales,
                          shared: dict | None = None) -> tuple[Prior, ...]:
        """A noisy_or / log_odds node: one base row (no `cause`) and one row per parent
        (`cause = "<parent>"`), in any order; returned base first, then parents in order."""
        if not isinstance(raw, list) or not all(isinstance(t, dict) for t in raw):
            raise fail(self.path, where, "prior", "[[node.prior]] tables", raw)
        by_cause: dict[str | None, Prior | None] = {}
        unplaced = False
        for index, table in enumerate(raw):
            at = f"{where}.prior[{index}]"
            if "when" in table:
                self.note(fail(self.path, at, "when",
                               "no `when` in a parametric CPT (a base row without `cause`, and "
                               "one row per parent with `cause`)", table["when"]))
                unplaced = True
                continue
            cause = table.get("cause")
            if "cause" in table and (not isinstance(cause, str) or cause not in parents):
                self.note(fail(self.path, at, "cause",
                               f"a parent of this node ({one_of(parents)})"
                               if parents else "no cause (this node has no parents)", cause))
                unplaced = True
                continue
            if cause in by_cause:
                self.note(fail(self.path, at, "cause", "one row per parent and one base row",
                               f"a second row for {cause}" if cause else "a second base row "
                               "(a row without `cause`)"))
                self.attempt(self.prior, table, (), 0, at, scales, shared)      # its own
                continue
            by_cause[cause] = self.attempt(self.prior, table, (), 0, at, scales, shared)
        if not unplaced:
            if None not in by_cause:
                raise fail(self.path, where, "prior", "a base row (a [[node.prior]] without "
                           "`cause`: P(yes) when no parent is yes)", "none")
            missing = [p for p in parents if p not in by_cause]
            if missing:
                raise fail(self.path, where, "prior", "one row per parent (cause = \"<parent>\")",
                           f"no row for cause {missing[0]}"
                           + (f" and {len(missing) - 1} more" if len(missing) > 1 else ""))
        if self.failed:
            return None
        base = by_cause[None]
        rows = [base] + [replace(by_cause[p], cause=p) for p in parents]
        return tuple(rows)

    def prior(self, table: dict, parents, config: int, at: str, scales: Scales,
              shared: dict | None = None, node_id: str | None = None) -> Prior:
        self.unknown(table, PRIOR_KEYS, at)
        states = self.states_of.get(node_id) or BINARY_STATES
        if set(states) != set(BINARY_STATES) or isinstance(table.get("p"), list) or "dirichlet" in table:
            return self.row_prior(table, parents, config, at, states, shared)
        keys = (set(table) & PRIOR_KEYS) - {"when", "cause", "rationale", "reference_class"}
        forms = {
            "p+strength": {"p", "strength"},
            "beta": {"beta"},
            "term": {"term", "confidence"},
            "fixed": {"p", "fixed"},
        }
        form = next((name for name, needed in forms.items() if keys == needed), None)
        if form is None:
            raise fail(self.path, at, "prior",
                       "exactly one form: p + strength | beta = [a, b] | term + confidence | "
                       "p + fixed = true", "keys " + ", ".join(sorted(keys)) if keys else "none")
        alpha = beta = fixed = None
        if form in ("p+strength", "fixed"):
            # A constant may be 0 or 1 (a logical node of a textbook network: "either" in
            # asia); a judgement never is, so p + strength stays strictly inside.
            inside = ("a probability from 0 to 1" if form == "fixed" else
                      "a probability strictly between 0 and 1")
            p = self.number(table["p"], at, "p", inside)
            if not (0 <= p <= 1 if form == "fixed" else 0 < p < 1):
                raise fail(self.path, at, "p", inside, table["p"])
            if form == "fixed":
                self.fixed_flag(table, at)
                fixed = p
            else:
                strength = self.strength(table, at)
                alpha, beta = p * strength, (1 - p) * strength
        elif form == "beta":
            value = table["beta"]
            ok = (isinstance(value, list) and len(value) == 2
                  and all(is_finite_number(v) and v > 0 for v in value))
            if not ok:
                raise fail(self.path, at, "beta", "[a, b] with a > 0 and b > 0", value)
            alpha, beta = float(value[0]), float(value[1])
        else:
            term, confidence = table["term"], table["confidence"]
            if not isinstance(term, str) or term not in scales.terms:
                raise fail(self.path, at, "term", f"an estimative term ({one_of(scales.terms)})",
                           term)
            if not isinstance(confidence, str) or confidence not in scales.confidence:
                raise fail(self.path, at, "confidence",
                           f"a confidence ({one_of(scales.confidence)})", confidence)
            low, high = scales.terms[term]
            p = (low + high) / 2
            strength = scales.confidence[confidence]
            alpha, beta = p * strength, (1 - p) * strength
        return Prior(
            when=self.when_of(parents, config),
            alpha=alpha,
            beta=beta,
            fixed=fixed,
            form=form,
            rationale=self.shared_text(table, "rationale", at, shared),
            reference_class=self.shared_text(table, "reference_class", at, shared),
        )

    def fixed_flag(self, table: dict, at: str) -> None:
        """`fixed` is only ever `true` (a constant); anything else is a slip."""
        if table["fixed"] is not True:
            raise fail(self.path, at, "fixed", "true (or use p + strength)", table["fixed"])

    def strength(self, table: dict, at: str) -> float:
        """A prior's strength (pseudo-counts): a positive number."""
        strength = self.number(table["strength"], at, "strength", "a positive strength")
        if strength <= 0:
            raise fail(self.path, at, "strength", "a positive strength", table["strength"])
        return strength

    def row_prior(self, table: dict, parents, config: int, at: str, states: tuple[str, ...],
                  shared: dict | None) -> Prior:
        """A row over k states (README, "Questions with more than two outcomes"): p = [k] +
        strength, p = [k] + fixed = true, or dirichlet = [k]. On a yes/no node a list is in the
        node's declared order and becomes the binary prior it means."""
        keys = (set(table) & PRIOR_KEYS) - {"when", "cause", "rationale", "reference_class"}
        k = len(states)
        binary = set(states) == set(BINARY_STATES)
        order = ", ".join(states)
        forms = {"p+strength": {"p", "strength"}, "fixed": {"p", "fixed"}, "dirichlet": {"dirichlet"}}
        form = next((name for name, needed in forms.items() if keys == needed), None)
        if form is None:
            if not binary and keys & {"beta", "term", "confidence"}:
                bad = sorted(keys & {"beta", "term", "confidence"})[0]
                raise fail(self.path, at, bad, f"p = [{k} numbers] + strength | p + fixed = true | "
                           f"dirichlet = [{k} numbers] (`{bad}` is for yes/no nodes only)", table[bad])
            raise fail(self.path, at, "prior",
                       f"exactly one form: p = [{k} probabilities] + strength | p = [...] + fixed = "
                       f"true | dirichlet = [{k} numbers]",
                       "keys " + ", ".join(sorted(keys)) if keys else "none")
        key = "dirichlet" if form == "dirichlet" else "p"
        value = table[key]
        if (not isinstance(value, list) or len(value) != k
                or not all(is_finite_number(v) for v in value)):
            raise fail(self.path, at, key, f"{k} numbers, one per state ({order})",
                       f"{len(value)} numbers" if isinstance(value, list) else value)
        values = tuple(float(v) for v in value)
        dirichlet = fixed_row = None
        if form == "dirichlet":
            if not all(v > 0 for v in values):
                raise fail(self.path, at, "dirichlet", "positive numbers", value)
            dirichlet = values
        else:
            # a constant row may hold 0s and a 1 (a logical node); a judgement never does
            fixed_form = form == "fixed"
            if not all((0 <= v <= 1) if fixed_form else (0 < v < 1) for v in values):
                raise fail(self.path, at, "p", "probabilities from 0 to 1" if fixed_form
                           else "probabilities strictly between 0 and 1", value)
            if abs(sum(values) - 1.0) > ROW_SUM_TOLERANCE:
                raise fail(self.path, at, "p", f"probabilities summing to 1 ({order})",
                           f"a sum of {sum(values):.6g}")
            total = sum(values)
            values = tuple(v / total for v in values)
            if form == "fixed":
                self.fixed_flag(table, at)
                fixed_row = values
            else:
                strength = self.strength(table, at)
                dirichlet = tuple(v * strength for v in values)
        when = self.when_of(parents, config)
        rationale = self.shared_text(table, "rationale", at, shared)
        reference = self.shared_text(table, "reference_class", at, shared)
        if binary:
            yes = states.index("yes")
            if fixed_row is not None:
                return Prior(when, None, None, fixed_row[yes], "fixed", rationale, reference)
            return Prior(when, dirichlet[yes], dirichlet[1 - yes], None,
                         "dirichlet" if form == "dirichlet" else "p+strength", rationale, reference)
        return Prior(when, None, None, None, form, rationale, reference,
                     dirichlet=dirichlet, fixed_row=fixed_row)

    def shared_text(self, table: dict, key: str, at: str, shared: dict | None) -> str:
        """A prior's rationale or reference class: its own, else the node's (shared by every
        row that gives none, as the compact table form allows)."""
        if key not in table and shared and shared.get(key):
            return shared[key]
        return self.text(table, key, at)

