"""A network as plain CPT tables: what `forecast network import` reads from another tool's file
and `forecast network export` writes to one. Pure (no I/O, no pyAgrum), so the TOML writer and
the tests can build and check it without the formats' library.

A node's rows are its CPT, one per parent configuration, each a distribution over the node's
states in their order. Configurations run with the first parent varying fastest (as the
compact table form of a scenario lists them, model/structure.py): configuration r gives parent j
the state index (r // stride_j) % len(states of parent j), stride_1 = 1, stride_{j+1} = stride_j *
card_j.
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from dataclasses import dataclass

from .parametric import cpt_table
from .spec import BINARY_STATES, Scenario
from .structure import configurations

YES_NO = BINARY_STATES
# A row whose probabilities sum to 1 within this is kept exactly as the file gives it (a
# GeNIe row 0.1, 0.2, 0.7 sums to 1.0000000000000002 in binary); any other is normalised.
EXACT_SUM = 1e-12
# A row further than this from summing to 1 is a mistake in the file, not rounding.
SUM_TOLERANCE = 1e-3
_NOT_ID = re.compile(r"[^a-z0-9_]")


@dataclass(frozen=True)
class TableNode:
    id: str
    label: str                                  # the name the other tool shows
    states: tuple[str, ...]
    parents: tuple[str, ...]
    rows: tuple[tuple[float, ...], ...]         # one per parent configuration (see module doc)

    @property
    def yes_no(self) -> bool:
        """States exactly yes, no: the scenario's binary node, written without `states`."""
        return self.states == YES_NO


@dataclass(frozen=True)
class TableNetwork:
    nodes: tuple[TableNode, ...]

    def node(self, node_id: str) -> TableNode:
        return next(n for n in self.nodes if n.id == node_id)

    @property
    def n_rows(self) -> int:
        return sum(len(n.rows) for n in self.nodes)


def identifier(name: str, prefix: str) -> str:
    """An id as the scenario TOML takes it: lowercased, every character other than a-z, 0-9 and
    _ as _, and `prefix` in front when it would not start with a letter (a UAI file's nodes and
    states are numbers)."""
    text = _NOT_ID.sub("_", name.lower())
    return text if text[:1].isalpha() and text[:1].isascii() else prefix + text


def normalised_row(values: Sequence[float]) -> tuple[float, ...] | None:
    """The row as a distribution: as given when it already sums to 1 (to rounding), else
    divided by its sum; None when it cannot be one (negative, not finite, or summing to 0 or
    to something SUM_TOLERANCE away from 1)."""
    values = tuple(float(v) for v in values)
    if not all(math.isfinite(v) and v >= 0 for v in values):
        return None
    total = math.fsum(values)
    if total <= 0 or abs(total - 1.0) > SUM_TOLERANCE:
        return None
    if abs(total - 1.0) <= EXACT_SUM:
        return values
    return tuple(v / total for v in values)


# -- a scenario at its prior means --------------------------------------------------------------
def _state_name(state) -> str:
    """A parent's state as a `when` holds it: True/False on a yes/no parent, else the name."""
    if isinstance(state, bool):
        return "yes" if state else "no"
    return str(state)


def _row_mean(prior, states: tuple[str, ...]) -> tuple[float, ...]:
    """A prior's mean over the node's states, in their order (a yes/no node's prior is P(yes),
    whichever order its states are declared in)."""
    if set(states) == set(YES_NO):
        return tuple(prior.mean if s == "yes" else 1.0 - prior.mean for s in states)
    return tuple(prior.row_mean)


def logical(row: tuple[float, ...]) -> bool:
    """A row with a 0 or a 1 (a deterministic node's): no Dirichlet of any strength puts mass
    on a zero, so such a row stays fixed when the others become Dirichlet priors."""
    return min(row) == 0.0 or max(row) == 1.0


def scenario_tables(scenario: Scenario) -> TableNetwork:
    """The scenario's network at its prior means: each CPT row the mean of its prior, and a
    parametric CPT (noisy_or, log_odds) expanded to its table at its numbers' prior means."""
    states_of = {n.id: n.states for n in scenario.nodes}
    nodes = []
    for node in scenario.nodes:
        states = states_of[node.id]
        cards = [len(states_of[p]) for p in node.parents]
        if node.parametric:
            base, *numbers = (prior.mean for prior in node.priors)
            p_yes = cpt_table(node.cpt, base, numbers)          # bit j of c = parent j is yes
            by_when = {tuple("yes" if c >> j & 1 else "no" for j in range(len(node.parents))):
                       _row_mean(_Yes(float(p)), states) for c, p in enumerate(p_yes)}
        else:
            by_when = {tuple(_state_name(s) for _p, s in prior.when): _row_mean(prior, states)
                       for prior in node.priors}
        rows = []
        for config in configurations(cards):
            key = tuple(states_of[p][i] for p, i in zip(node.parents, config, strict=True))
            rows.append(by_when[key])
        nodes.append(TableNode(node.id, node.label or node.id, states, node.parents, tuple(rows)))
    return TableNetwork(tuple(nodes))


@dataclass(frozen=True)
class _Yes:
    """A binary row known by its P(yes) alone (an expanded parametric CPT's entry)."""

    mean: float
