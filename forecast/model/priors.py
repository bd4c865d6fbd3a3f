"""A prior judgement as the numbers of a CPT row: p and a strength as a Beta (alpha = p * s,
beta = (1 - p) * s), an ICD 203 term and a confidence as the Beta around the term's midpoint, a
row of k probabilities and a strength as a Dirichlet, and a row over a yes/no node's states as
the binary prior it means. Pure arithmetic: the reader (io/priors.py) checks the values first.
"""

from __future__ import annotations

from collections.abc import Sequence

from .spec import BINARY_STATES, Prior


def beta_of(p: float, strength: float) -> tuple[float, float]:
    """(alpha, beta) of a Beta with mean p and `strength` pseudo-counts."""
    return p * strength, (1 - p) * strength


def term_beta(term_range: tuple[float, float], strength: float) -> tuple[float, float]:
    """(alpha, beta) of an estimative term's range: the Beta around its midpoint."""
    low, high = term_range
    return beta_of((low + high) / 2, strength)


def normalised(values: Sequence[float]) -> tuple[float, ...]:
    """The row divided by its sum (a row that sums to 1 to rounding, made exact)."""
    total = sum(values)
    return tuple(v / total for v in values)


def dirichlet_of(row: Sequence[float], strength: float) -> tuple[float, ...]:
    """The Dirichlet with mean `row` and `strength` pseudo-counts in all."""
    return tuple(v * strength for v in row)


def state_row_prior(when, form: str, states: tuple[str, ...], rationale: str, reference: str,
                    dirichlet: tuple[float, ...] | None = None,
                    fixed_row: tuple[float, ...] | None = None) -> Prior:
    """A row over the node's `states` as its `Prior`: on a yes/no node (a list in the node's
    declared order) the binary prior it means, a Beta or a constant P(yes); otherwise the
    Dirichlet or the constant row itself."""
    if set(states) == set(BINARY_STATES):
        yes = states.index("yes")
        if fixed_row is not None:
            return Prior(when, None, None, fixed_row[yes], "fixed", rationale, reference)
        return Prior(when, dirichlet[yes], dirichlet[1 - yes], None,
                     "dirichlet" if form == "dirichlet" else "p+strength", rationale, reference)
    return Prior(when, None, None, None, form, rationale, reference,
                 dirichlet=dirichlet, fixed_row=fixed_row)
