"""The scenario TOML of an imported network (README, "Networks from other tools"): the compact
table form, one line per CPT row, so a network of hundreds of nodes stays a file a person can
read. Pure: text in, text out.

A file holds structure and numbers but no questions: every question, resolution, rationale and
reference class is a placeholder that starts with PLACEHOLDER, which `forecast evidence
validate` reports until the analyst has written it."""

from __future__ import annotations

import datetime as dt

from ..model.placeholders import PLACEHOLDER
from ..model.structure import configurations
from ..model.tables import TableNetwork, TableNode, logical
from .scaffold import toml_string


def _number(value: float) -> str:
    """The shortest text that reads back as the same float (TOML takes Python's repr)."""
    return repr(float(value))


def _strength(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else repr(float(value))


def _row(node: TableNode, row: tuple[float, ...], strength: float | None) -> str:
    """A row's prior: fixed, or a Dirichlet of `strength` around it. A row with a zero or a one
    (a logical constraint, as in a deterministic node) stays fixed: no Dirichlet of any strength
    puts mass on a zero, so the row's own limit is the row itself."""
    if node.yes_no:
        p = _number(row[0])
    else:
        p = "[" + ", ".join(_number(v) for v in row) + "]"
    if strength is None or logical(row):
        return f"p = {p}, fixed = true"
    return f"p = {p}, strength = {_strength(strength)}"


def _node(node: TableNode, network: TableNetwork, source: str, today: dt.date,
          deadline: dt.date, strength: float | None) -> str:
    parents = [network.node(p) for p in node.parents]
    outcomes = "yes or no" if node.yes_no else "one of " + ", ".join(node.states)
    lines = [
        "[[node]]",
        f"id = {toml_string(node.id)}",
        f"label = {toml_string(node.label)}",
    ]
    if not node.yes_no:
        lines.append("states = [" + ", ".join(toml_string(s) for s in node.states) + "]")
    lines += [
        f'role = "{"consequence" if node.parents else "driver"}"',
        "question = " + toml_string(f"{PLACEHOLDER} the question '{node.label}' answers "
                                    f"({outcomes}), and by when."),
        "resolution = " + toml_string(f"{PLACEHOLDER} what settles '{node.label}', and which "
                                      "source decides."),
        f"opens = {today.isoformat()}",
        f"deadline = {deadline.isoformat()}",
        "parents = [" + ", ".join(toml_string(p) for p in node.parents) + "]",
        "rationale = " + toml_string(f"{PLACEHOLDER} why these numbers hold here (they are "
                                     f"{source}'s CPT for '{node.label}', as published)."),
        "reference_class = " + toml_string(f"{PLACEHOLDER} the cases the numbers of {source} "
                                           "rest on."),
    ]
    if not node.parents:
        lines.append(f"prior = [{{ {_row(node, node.rows[0], strength)} }}]")
        return "\n".join(lines)
    lines.append("prior = [   # when = [" + ", ".join(node.parents) + "]")
    cards = [len(p.states) for p in parents]
    for config, row in zip(configurations(cards), node.rows, strict=True):
        when = ", ".join(toml_string(p.states[i]) for p, i in zip(parents, config, strict=True))
        lines.append(f"  {{ when = [{when}], {_row(node, row, strength)} }},")
    lines.append("]")
    return "\n".join(lines)


def imported_toml(network: TableNetwork, scenario_id: str, source: str, today: dt.date,
                  strength: float | None = None) -> str:
    """The scenario TOML of `network`, imported from the file named `source` on `today`: CPT
    rows fixed, or with `strength` a Dirichlet of that strength around each row."""
    try:
        deadline = today.replace(year=today.year + 1)
    except ValueError:
        deadline = today.replace(year=today.year + 1, day=28)
    kept = sum(1 for n in network.nodes for row in n.rows if logical(row))
    how = ("fixed probabilities (p + fixed = true), as published" if strength is None else
           f"Dirichlet priors of strength {_strength(strength)} around the published rows "
           f"(p + strength); {kept} row(s) with a 0 or a 1 stay fixed, since no Dirichlet "
           "puts mass on a zero")
    header = [
        f"# Scenario \"{scenario_id}\", imported by `forecast network import` from {source} on "
        f"{today.isoformat()}:",
        f"# {len(network.nodes)} nodes, {network.n_rows} CPT rows as {how}.",
        "# Node and state ids are the file's names lowercased (other characters as _); `label`",
        "# keeps each node's own name. The file gave structure and numbers, not questions: every",
        f"# text that starts with \"{PLACEHOLDER}\" is a placeholder, and",
        f"# `forecast evidence validate --scenario {scenario_id}` lists each one until it is written.",
        "# Rows use the compact table form: `when` lists the parents' states in `parents` order.",
        "",
        "[scenario]",
        f"id = {toml_string(scenario_id)}",
        "title = " + toml_string(f"{scenario_id} (imported from {source})"),
        "trigger = " + toml_string(f"{PLACEHOLDER} the triggering event, in one sentence."),
        f"as_of = {today.isoformat()}",
        "sources = [" + toml_string(source) + "]",
    ]
    blocks = ["\n".join(header)]
    blocks += [_node(node, network, source, today, deadline, strength) for node in network.nodes]
    return "\n\n".join(blocks) + "\n"
