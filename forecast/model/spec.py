"""Small frozen value objects that describe a scenario, its evidence and resolutions.

No I/O here: readers in `forecast.io` build these, everything downstream consumes them.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType


def frozen_map(mapping: Mapping) -> Mapping:
    return MappingProxyType(dict(mapping))


@dataclass(frozen=True)
class Scales:
    """Named LRs, Admiralty grading factors, confidence strengths, ICD 203 terms, and the
    range an evidence LR must lie in (`lr_bounds`, low and high)."""

    likelihood_ratio: Mapping[str, float]
    reliability: Mapping[str, float]
    credibility: Mapping[str, float]
    confidence: Mapping[str, float]
    terms: Mapping[str, tuple[float, float]]
    lr_bounds: tuple[float, float] = (1e-4, 1e4)

    def grading_weight(self, reliability: str, credibility: str) -> float:
        """w = reliability factor x credibility factor: A/1 moves fully, E or 5 almost nothing,
        F or 6 ("cannot be judged") half as much as A/1 by default."""
        return self.reliability[reliability] * self.credibility[credibility]

    def term_for(self, probability: float) -> str:
        """The estimative term whose range holds `probability` (ends extend to 0 and 1)."""
        ordered = sorted(self.terms.items(), key=lambda kv: kv[1][0])
        for name, (_low, high) in ordered:
            if probability < high:
                return name.replace("_", " ")
        return ordered[-1][0].replace("_", " ")


CPT_FORMS = ("table", "noisy_or", "log_odds")
# How a question resolves, as the resolutions CSV and `--given NODE=yes|no` spell it.
OUTCOMES = {"yes": True, "no": False}
# A node without `states` is a yes/no question (README, "Questions with more than two outcomes").
BINARY_STATES = ("yes", "no")
# The cap on states is a sanity bound, not an engine limit: the largest published networks have
# 63-67 (bnlearn's pathfinder, barley), every state is a row of the report and a cell of every
# Dirichlet row, and a list of hundreds is more likely a data column pasted by mistake than a
# question; cliques past the memory budget are refused by the budget whatever the cap.
MIN_STATES, MAX_STATES = 2, 100


@dataclass(frozen=True)
class Prior:
    """One uncertain number: a Beta(alpha, beta), or a constant; on a node with k states, one
    uncertain row: a Dirichlet(`dirichlet`) or a constant row `fixed_row` (both in the node's
    declared state order; alpha, beta and fixed are then None).

    In a table node it is P(node = yes | one parent configuration, `when`). In a parametric
    node (`cpt` "noisy_or" or "log_odds") it is the base, P(yes) when no parent is yes
    (`cause` None), or the number of one parent (`cause` = that parent's id): see
    `forecast.model.parametric` for what that number means in each form."""

    when: tuple[tuple[str, bool | str], ...]   # binary parents: bool; k-state: state name
    alpha: float | None
    beta: float | None
    fixed: float | None
    form: str
    rationale: str
    reference_class: str
    cause: str | None = None
    dirichlet: tuple[float, ...] | None = None
    fixed_row: tuple[float, ...] | None = None

    @property
    def mean(self) -> float:
        """P(yes) of a binary row (a k-state row has `row_mean` instead)."""
        if self.fixed is not None:
            return self.fixed
        return self.alpha / (self.alpha + self.beta)

    @property
    def row_mean(self) -> tuple[float, ...]:
        """The row's prior mean over the node's states, in declared order."""
        if self.fixed_row is not None:
            return self.fixed_row
        if self.dirichlet is not None:
            total = sum(self.dirichlet)
            return tuple(a / total for a in self.dirichlet)
        return (self.mean, 1.0 - self.mean)

    @property
    def is_fixed(self) -> bool:
        return self.fixed is not None or self.fixed_row is not None


@dataclass(frozen=True)
class Node:
    """A binary, resolvable question. With `cpt` "table" (the default), `priors[c]` holds
    configuration c, where bit j of c is the state of `parents[j]`. With `cpt` "noisy_or" or
    "log_odds", `priors[0]` is the base and `priors[1 + j]` the number of `parents[j]`."""

    id: str
    role: str
    question: str
    resolution: str
    opens: dt.date
    deadline: dt.date
    parents: tuple[str, ...]
    priors: tuple[Prior, ...]
    label: str = ""
    cpt: str = "table"
    states: tuple[str, ...] = BINARY_STATES     # declared order (report order)
    ordered: bool = False

    @property
    def binary(self) -> bool:
        """A yes/no question: `mean`, `term` and intervals speak of P(yes)."""
        return set(self.states) == set(BINARY_STATES)

    @property
    def card(self) -> int:
        return len(self.states)

    @property
    def engine_states(self) -> tuple[str, ...]:
        """States in the engines' index order: a yes/no node is (no, yes), so index 1 is yes
        as it has always been; any other node keeps its declared order."""
        return ("no", "yes") if self.binary else self.states

    def engine_index(self, state: str | bool) -> int:
        """The engine index of a state name (or of True/False on a yes/no node)."""
        if isinstance(state, bool):
            if not self.binary:
                raise KeyError(state)
            return int(state)
        return self.engine_states.index(state)

    @property
    def parametric(self) -> bool:
        return self.cpt != "table"

    @property
    def display(self) -> str:
        return self.label or self.id


@dataclass(frozen=True)
class Scenario:
    id: str
    title: str
    trigger: str
    as_of: dt.date
    nodes: tuple[Node, ...]
    scales: Scales
    description: str = ""
    sources: tuple[str, ...] = ()

    @property
    def node_ids(self) -> tuple[str, ...]:
        return tuple(n.id for n in self.nodes)

    def node(self, node_id: str) -> Node:
        for n in self.nodes:
            if n.id == node_id:
                return n
        raise KeyError(node_id)


@dataclass(frozen=True)
class EvidenceItem:
    """One (item, node) row of the evidence CSV, with its LR and grading resolved."""

    item_id: str
    node: str
    date: dt.date
    source: str
    reliability: str
    credibility: str
    lr: float
    lr_text: str
    cluster: str
    summary: str
    url: str
    weight: float
    row: int = 0
    quote: str = ""          # the verbatim sentence of the source the item codes (optional)
    state: str = ""          # the state the LR is for ("" = yes on a binary node, or a vector)
    lrs: tuple[float, ...] = ()   # a vector LR, one per state in declared order ("" state)

    @property
    def cluster_key(self) -> str:
        """Items without a cluster are each their own cluster."""
        return self.cluster or f"item:{self.item_id}"


@dataclass(frozen=True)
class Resolution:
    """A node's real outcome: True/False on a yes/no node, the state's name otherwise."""

    node: str
    outcome: bool | str
    date: dt.date
    source: str
    row: int = 0

    @property
    def state(self) -> str:
        """The outcome as the resolutions CSV spells it."""
        if isinstance(self.outcome, bool):
            return "yes" if self.outcome else "no"
        return self.outcome


@dataclass(frozen=True)
class Inputs:
    """Everything a fit depends on, read from the project root."""

    scenario: Scenario
    evidence: tuple[EvidenceItem, ...]
    resolutions: tuple[Resolution, ...] = ()
    evidence_hash: str = ""
