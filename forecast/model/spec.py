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


@dataclass(frozen=True)
class Prior:
    """One uncertain number: a Beta(alpha, beta), or a constant.

    In a table node it is P(node = yes | one parent configuration, `when`). In a parametric
    node (`cpt` "noisy_or" or "log_odds") it is the base, P(yes) when no parent is yes
    (`cause` None), or the number of one parent (`cause` = that parent's id): see
    `forecast.model.parametric` for what that number means in each form."""

    when: tuple[tuple[str, bool], ...]
    alpha: float | None
    beta: float | None
    fixed: float | None
    form: str
    rationale: str
    reference_class: str
    cause: str | None = None

    @property
    def mean(self) -> float:
        if self.fixed is not None:
            return self.fixed
        return self.alpha / (self.alpha + self.beta)

    @property
    def is_fixed(self) -> bool:
        return self.fixed is not None


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

    @property
    def cluster_key(self) -> str:
        """Items without a cluster are each their own cluster."""
        return self.cluster or f"item:{self.item_id}"


@dataclass(frozen=True)
class Resolution:
    node: str
    outcome: bool
    date: dt.date
    source: str
    row: int = 0


@dataclass(frozen=True)
class Inputs:
    """Everything a fit depends on, read from the project root."""

    scenario: Scenario
    evidence: tuple[EvidenceItem, ...]
    resolutions: tuple[Resolution, ...] = ()
    evidence_hash: str = ""
