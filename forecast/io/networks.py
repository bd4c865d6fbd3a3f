"""Other tools' network files (BIF, XDSL, DSL, NET, UAI) through pyAgrum, which reads and writes
them all: no parser of ours. pyAgrum is an optional extra (`forecast[networks]`), imported only
here and only when a network is read or written.

Reading checks what a scenario needs and the file may not give: names that stay distinct once
lowercased, 2 to 100 states a node (model.spec.MAX_STATES), CPT rows that are distributions.
Every problem is one `ForecastError` naming the file and the node."""

from __future__ import annotations

import re
import tempfile
from pathlib import Path

from ..errors import fail, problem
from ..model.spec import MAX_STATES, MIN_STATES
from ..model.structure import configurations
from ..model.tables import (
    SUM_TOLERANCE,
    TableNetwork,
    TableNode,
    identifier,
    normalised_row,
)
from .text import CONTROL_CHARACTERS

# By extension: what the file is called in messages. pyAgrum picks its reader the same way.
READ_FORMATS = {".bif": "BIF", ".xdsl": "XDSL (GeNIe)", ".dsl": "DSL (GeNIe)",
                ".net": "NET (Hugin, Netica)", ".uai": "UAI"}
WRITE_FORMATS = ("bif", "xdsl", "net", "uai")
INSTALL = 'pip install "forecast[networks]"'
# pyAgrum's parse errors: "<file>:<line>: <column> : error : <message>"
_PARSE_ERROR = re.compile(r":(\d+):\s*(\d+)\s*:\s*error\s*:\s*(.*)")
# A node's name in another tool (a label) is free text; a scenario keeps at most this much, and
# no control characters (a label is shown in terminals and pages).
MAX_LABEL = 5000


def _pyagrum():
    try:
        import pyagrum
    except ImportError:
        raise problem("forecast network", None, None,
                      f"needs pyAgrum to read and write other tools' files: {INSTALL}") from None
    return pyagrum


def read_network(path: Path, shown: str | None = None) -> TableNetwork:
    """The network in `path` (its format by extension), as tables with scenario ids."""
    shown = shown or str(path)
    kind = READ_FORMATS.get(path.suffix.lower())
    if kind is None:
        raise fail(shown, None, "extension", "a network file: "
                   + ", ".join(sorted(READ_FORMATS)), path.suffix or "none")
    if not path.is_file():
        raise problem(shown, None, None, "file not found (a network file)")
    gum = _pyagrum()
    try:
        bn = gum.loadBN(str(path))
    except Exception as error:            # pyAgrum's errors share no base class we can name
        raise _parse_problem(shown, kind, error) from None
    if bn.size() == 0:
        raise problem(shown, None, None, f"does not hold a network ({kind} with no nodes)")
    return _tables(bn, shown)


def _parse_problem(shown: str, kind: str, error: Exception):
    lines = [line.strip() for line in str(error).splitlines() if line.strip()]
    for line in lines:
        found = _PARSE_ERROR.search(line)
        if found:
            return problem(shown, int(found.group(1)), None,
                           f"does not parse as {kind}: column {found.group(2)}: "
                           f"{found.group(3).strip()}")
    message = lines[0] if lines else type(error).__name__
    message = re.sub(r"^\[pyAgrum\]\s*", "", message)
    return problem(shown, None, None, f"does not parse as {kind}: {message[:200]}")


def _unique(names: dict[str, str], shown: str, where: str, what: str) -> None:
    """`names` maps original -> id; two originals with one id is a user error."""
    seen: dict[str, str] = {}
    for original, new_id in names.items():
        if new_id in seen:
            raise problem(shown, where, what, f"'{seen[new_id]}' and '{original}' are both "
                          f"'{new_id}' once lowercased (other characters as _): {what} names "
                          "must stay distinct (nothing written)")
        seen[new_id] = original


def _tables(bn, shown: str) -> TableNetwork:
    order = sorted(bn.nodes())                # pyAgrum's ids: the file's order
    names = {bn.variable(v).name(): identifier(bn.variable(v).name(), "n") for v in order}
    _unique(names, shown, None, "node")
    states_of: dict[str, tuple[str, ...]] = {}
    for v in order:
        variable = bn.variable(v)
        name = variable.name()
        where = f"node[{name}]"
        labels = tuple(variable.labels())
        if not MIN_STATES <= len(labels) <= MAX_STATES:
            raise problem(shown, where, "states", f"{len(labels)} states; a node has {MIN_STATES} to "
                          f"{MAX_STATES} (nothing written)")
        states = {label: identifier(label, "s") for label in labels}
        _unique(states, shown, where, "state")
        states_of[name] = tuple(states.values())
    nodes = []
    for v in order:
        variable = bn.variable(v)
        name = variable.name()
        cpt = bn.cpt(v)
        parents = tuple(cpt.names[1:])        # the CPT's own order: the file's parent order
        k = len(states_of[name])
        table = cpt.toarray()                 # axes: last parent ... first parent, the node
        rows = []
        cards = [len(states_of[p]) for p in parents]
        flat = table.reshape(-1, k)           # first parent fastest, as `configurations`
        for config, values in zip(configurations(cards), flat, strict=True):
            row = normalised_row(values)
            if row is None:
                when = ", ".join(f"{p} = {bn.variable(p).label(i)}"
                                 for p, i in zip(parents, config, strict=True))
                raise fail(shown, f"node[{name}]", "cpt",
                           f"a row of probabilities summing to 1 (within {SUM_TOLERANCE:g})"
                           + (f" for {when}" if when else ""),
                           "[" + ", ".join(f"{x:g}" for x in values) + "]")
            rows.append(row)
        description = variable.description().strip()
        label = CONTROL_CHARACTERS.sub(" ", description or name)[:MAX_LABEL]
        nodes.append(TableNode(names[name], label, states_of[name],
                               tuple(names[p] for p in parents), tuple(rows)))
    return TableNetwork(tuple(nodes))


def network_bytes(network: TableNetwork, fmt: str, name: str) -> bytes:
    """The network written by pyAgrum in format `fmt` (one of WRITE_FORMATS), as bytes: pyAgrum
    writes to a path, so it writes into a private temporary directory, read back here."""
    if fmt not in WRITE_FORMATS:
        raise fail("--format", None, "format", "one of " + ", ".join(WRITE_FORMATS), fmt)
    gum = _pyagrum()
    bn = gum.BayesNet(identifier(name, "n"))          # NET takes no - in a network's name
    names = {node.id: exported_name(node) for node in network.nodes}
    for node in network.nodes:
        bn.add(gum.LabelizedVariable(names[node.id], node.label, list(node.states)))
    for node in network.nodes:
        for parent in node.parents:
            bn.addArc(names[parent], names[node.id])
    for node in network.nodes:
        cpt = bn.cpt(names[node.id])
        parent_states = [network.node(p).states for p in node.parents]
        cards = [len(s) for s in parent_states]
        for config, row in zip(configurations(cards), node.rows, strict=True):
            if node.parents:
                cpt[{names[p]: states[i] for p, states, i
                     in zip(node.parents, parent_states, config, strict=True)}] = list(row)
            else:
                cpt.fillWith(list(row))
    with tempfile.TemporaryDirectory(prefix="forecast-network-") as scratch:
        target = Path(scratch) / f"network.{fmt}"
        gum.saveBN(bn, str(target))
        return target.read_bytes()


_SAFE_NAME = re.compile(r"^[A-Za-z][A-Za-z0-9_]*$")


def exported_name(node: TableNode) -> str:
    """The node's name in the written file: its label where the label is the name the id was
    made from and every format takes it as a name (so an imported network goes back to its
    tool under its own names), else its id."""
    label = node.label
    if _SAFE_NAME.match(label) and identifier(label, "n") == node.id:
        return label
    return node.id

