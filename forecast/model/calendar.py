"""Questions against the calendar: which are overdue on an evaluation date. Pure, no I/O.

A node is overdue on day D when its deadline is before D and it has no resolution: its
forecast is stale, and every report says so at the top (README, "Time: overdue questions,
replays and backtests")."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable

from .spec import Node, Resolution, Scenario


def is_overdue(node: Node, resolved: bool, evaluated_on: dt.date) -> bool:
    return not resolved and node.deadline < evaluated_on


def overdue_nodes(scenario: Scenario, resolutions: Iterable[Resolution],
                  evaluated_on: dt.date) -> list[Node]:
    """The scenario's nodes past their deadline on `evaluated_on` with no resolution."""
    resolved = {r.node for r in resolutions}
    return [n for n in scenario.nodes if is_overdue(n, n.id in resolved, evaluated_on)]


def overdue_sentence(count: int) -> str:
    """The banner every report shows at the top when questions are overdue ('' when none)."""
    if not count:
        return ""
    if count == 1:
        return ("1 question is past its deadline and unresolved: record its outcome with "
                "`forecast resolve`")
    return (f"{count} questions are past their deadline and unresolved: record their outcomes "
            "with `forecast resolve`")


def overdue_warning(overdue: Iterable[tuple[str, str]]) -> str:
    """The banner naming the overdue questions, from (node id, deadline) pairs ('' if none)."""
    overdue = list(overdue)
    if not overdue:
        return ""
    return (overdue_sentence(len(overdue)) + ": "
            + ", ".join(f"{node} (deadline {deadline})" for node, deadline in overdue))


def scenario_opens(scenario: Scenario) -> dt.date:
    """The scenario opens when its first question does: no forecast exists before that."""
    return min(n.opens for n in scenario.nodes)
