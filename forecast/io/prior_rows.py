"""A node's `[[node.prior]]` rows -> its `Prior`s, each problem located at the row
(`node[<id>].prior[<i>]`) and field.

A table node has one row per parent configuration, placed by `when` (a table naming every
parent, or their states in order); a parametric node (noisy_or, log_odds) has a base row and one
row per parent, placed by `cause`. A row is in one form (README, "Priors"); the numbers each
form means are model/priors.py's. Where rows are placed and counted is model/structure.py's.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from pathlib import Path

from ..errors import ForecastError, fail, one_of
from ..model.priors import beta_of, dirichlet_of, normalised, state_row_prior, term_beta
from ..model.spec import BINARY_STATES, Prior, Scales
from ..model.structure import configuration, configuration_states, n_configurations
from .problems import Problems
from .text import is_finite_number
from .toml_fields import number, text_field, unknown_keys

PRIOR_KEYS = {"when", "cause", "p", "strength", "beta", "term", "confidence", "fixed", "rationale",
              "reference_class", "dirichlet"}
# Keys that say nothing of a row's form.
NOT_FORM_KEYS = {"when", "cause", "rationale", "reference_class"}
# how far a p list may be from summing to 1 (rounding in a hand-written or exported row)
ROW_SUM_TOLERANCE = 1e-6
# A state in `when`: TOML booleans, or the words the CLI uses (`--given a=yes`, `resolve a yes`),
# which TOML only allows as strings.
WHEN_WORDS = {"yes": True, "no": False}
WHEN_EXPECTED = 'true or false (or "yes" / "no" in quotes: TOML has no bare yes)'


@dataclass(frozen=True)
class Rows:
    """What reading a node's rows needs besides the rows: the file, the scales, every node's
    states (read before any row, as a `when` names a parent's state) and the node's own
    rationale and reference class, which a row that gives none shares."""

    path: Path
    scales: Scales
    states_of: Mapping[str, tuple[str, ...]]
    shared: Mapping[str, str]

    def states(self, node_id: str | None) -> tuple[str, ...]:
        return self.states_of.get(node_id) or BINARY_STATES


def cause_in_table(rows: Rows, table: Mapping, at: str) -> ForecastError:
    """A table CPT's row that names a `cause` (scenario and analysts' files alike)."""
    return fail(rows.path, at, "cause", 'no `cause` in a table CPT (cause belongs to '
                'cpt = "noisy_or" or "log_odds")', table["cause"])


def repeated_configuration(rows: Rows, parents: tuple[str, ...], config: int, at: str) -> ForecastError:
    """A second row for one parent configuration (scenario and analysts' files alike)."""
    return fail(rows.path, at, "when", "each parent configuration once",
                f"a second row for {describe(rows, parents, config)}")


def table_priors(rows: Rows, raw, node_id: str, parents: tuple[str, ...], where: str,
                 problems: Problems) -> tuple[Prior, ...] | None:
    """One prior per parent configuration, in configuration order. A row that failed still
    counts for its configuration, so one typo does not also report a missing row."""
    expected = n_configurations([len(rows.states(p)) for p in parents])
    if not isinstance(raw, list) or not all(isinstance(t, dict) for t in raw):
        raise fail(rows.path, where, "prior", "[[node.prior]] tables", raw)
    by_config: dict[int, Prior | None] = {}
    unplaced = False                    # a row whose `when` could not be read
    for index, table in enumerate(raw):
        at = f"{where}.prior[{index}]"
        if "cause" in table:
            problems.note(cause_in_table(rows, table, at))
            unplaced = True
            continue
        config = problems.attempt(configuration_of, rows, table, parents, at)
        if config is None:
            unplaced = True
            continue
        if config in by_config:
            problems.note(repeated_configuration(rows, parents, config, at))
            problems.attempt(prior, rows, table, parents, config, at, node_id, problems)  # its own
            continue
        by_config[config] = problems.attempt(prior, rows, table, parents, config, at, node_id,
                                             problems)
    missing = [c for c in range(expected) if c not in by_config]
    if missing and not unplaced:
        raise fail(rows.path, where, "prior", f"{expected} CPT rows (one per parent configuration)",
                   f"no row for {describe(rows, parents, missing[0])}"
                   + (f" and {len(missing) - 1} more" if len(missing) > 1 else ""))
    if problems:
        return None
    return tuple(by_config[c] for c in range(expected))


def parametric_priors(rows: Rows, raw, parents: tuple[str, ...], where: str,
                      problems: Problems) -> tuple[Prior, ...] | None:
    """A noisy_or / log_odds node: one base row (no `cause`) and one row per parent
    (`cause = "<parent>"`), in any order; returned base first, then parents in order."""
    if not isinstance(raw, list) or not all(isinstance(t, dict) for t in raw):
        raise fail(rows.path, where, "prior", "[[node.prior]] tables", raw)
    by_cause: dict[str | None, Prior | None] = {}
    unplaced = False
    for index, table in enumerate(raw):
        at = f"{where}.prior[{index}]"
        if "when" in table:
            problems.note(fail(rows.path, at, "when",
                               "no `when` in a parametric CPT (a base row without `cause`, and "
                               "one row per parent with `cause`)", table["when"]))
            unplaced = True
            continue
        cause = table.get("cause")
        if "cause" in table and (not isinstance(cause, str) or cause not in parents):
            problems.note(fail(rows.path, at, "cause",
                               f"a parent of this node ({one_of(parents)})"
                               if parents else "no cause (this node has no parents)", cause))
            unplaced = True
            continue
        if cause in by_cause:
            problems.note(fail(rows.path, at, "cause", "one row per parent and one base row",
                               f"a second row for {cause}" if cause else "a second base row "
                               "(a row without `cause`)"))
            problems.attempt(prior, rows, table, (), 0, at, None, problems)      # its own
            continue
        by_cause[cause] = problems.attempt(prior, rows, table, (), 0, at, None, problems)
    if not unplaced:
        if None not in by_cause:
            raise fail(rows.path, where, "prior", "a base row (a [[node.prior]] without "
                       "`cause`: P(yes) when no parent is yes)", "none")
        missing = [p for p in parents if p not in by_cause]
        if missing:
            raise fail(rows.path, where, "prior", "one row per parent (cause = \"<parent>\")",
                       f"no row for cause {missing[0]}"
                       + (f" and {len(missing) - 1} more" if len(missing) > 1 else ""))
    if problems:
        return None
    return (by_cause[None],) + tuple(replace(by_cause[p], cause=p) for p in parents)


def configuration_of(rows: Rows, table: dict, parents: tuple[str, ...], at: str) -> int:
    """The parent configuration a table row's `when` names."""
    when = table.get("when")
    if not parents:
        if when is not None:
            raise fail(rows.path, at, "when", "no `when` on a root node's prior", when)
        return 0
    if isinstance(when, list):
        # the compact form: states in `parents` order, e.g. when = [true, "sustained"]
        if len(when) != len(parents):
            raise fail(rows.path, at, "when", f"{len(parents)} states, one per parent in "
                       f"order ({', '.join(parents)})", f"{len(when)} states")
        when = dict(zip(parents, when, strict=True))
    if not isinstance(when, dict):
        raise fail(rows.path, at, "when", "a table naming every parent, e.g. { "
                   f"{parents[0]} = true }}, or their states in order, e.g. "
                   f"[{', '.join(['true'] * len(parents))}]", when)
    extra = sorted(set(when) - set(parents))
    if extra:
        raise fail(rows.path, at, "when", f"only parents ({one_of(parents)})", extra[0])
    missing = [p for p in parents if p not in when]
    if missing:
        raise fail(rows.path, at, "when", "a state for every parent", f"no state for {missing[0]}")
    return configuration([_parent_state(rows, when[p], p, at) for p in parents],
                         [len(rows.states(p)) for p in parents])


def _parent_state(rows: Rows, state, parent: str, at: str) -> int:
    """A parent's state in `when` as its engine index (yes = 1 on a yes/no parent)."""
    states = rows.states(parent)
    if set(states) == set(BINARY_STATES):
        if isinstance(state, str) and state.strip().lower() in WHEN_WORDS:
            state = WHEN_WORDS[state.strip().lower()]
        if not isinstance(state, bool):
            raise fail(rows.path, at, f"when.{parent}", WHEN_EXPECTED, state)
        return int(state)
    if not isinstance(state, str) or state not in states:
        raise fail(rows.path, at, f"when.{parent}", f"a state of {parent} ({', '.join(states)})",
                   state)
    return states.index(state)


def when_of(rows: Rows, parents: tuple[str, ...], config: int
            ) -> tuple[tuple[str, bool | str], ...]:
    """Configuration index -> ((parent, state), ...): True/False on yes/no parents."""
    indices = configuration_states(config, [len(rows.states(p)) for p in parents])
    return tuple((p, bool(i) if set(rows.states(p)) == set(BINARY_STATES) else rows.states(p)[i])
                 for p, i in zip(parents, indices, strict=True))


def describe(rows: Rows, parents: tuple[str, ...], config: int) -> str:
    """A configuration as a `when` table reads: {a = true, b = 'sustained'}."""
    if not parents:
        return "the root"
    return "{" + ", ".join(f"{p} = {str(s).lower() if isinstance(s, bool) else repr(s)}"
                           for p, s in when_of(rows, parents, config)) + "}"


def prior(rows: Rows, table: dict, parents: tuple[str, ...], config: int, at: str,
          node_id: str | None, problems: Problems) -> Prior:
    """One row in one of its forms: p + strength | beta = [a, b] | term + confidence |
    p + fixed = true on a yes/no node, a row of k (`row_prior`) on any node."""
    problems.extend(unknown_keys(rows.path, table, PRIOR_KEYS, at))
    states = rows.states(node_id)
    if set(states) != set(BINARY_STATES) or isinstance(table.get("p"), list) or "dirichlet" in table:
        return row_prior(rows, table, parents, config, at, states)
    keys = (set(table) & PRIOR_KEYS) - NOT_FORM_KEYS
    forms = {
        "p+strength": {"p", "strength"},
        "beta": {"beta"},
        "term": {"term", "confidence"},
        "fixed": {"p", "fixed"},
    }
    form = next((name for name, needed in forms.items() if keys == needed), None)
    if form is None:
        raise fail(rows.path, at, "prior",
                   "exactly one form: p + strength | beta = [a, b] | term + confidence | "
                   "p + fixed = true", "keys " + ", ".join(sorted(keys)) if keys else "none")
    alpha = beta = fixed = None
    if form in ("p+strength", "fixed"):
        # A constant may be 0 or 1 (a logical node of a textbook network: "either" in
        # asia); a judgement never is, so p + strength stays strictly inside.
        inside = ("a probability from 0 to 1" if form == "fixed" else
                  "a probability strictly between 0 and 1")
        p = number(rows.path, table["p"], at, "p", inside)
        if not (0 <= p <= 1 if form == "fixed" else 0 < p < 1):
            raise fail(rows.path, at, "p", inside, table["p"])
        if form == "fixed":
            _fixed_flag(rows, table, at)
            fixed = p
        else:
            alpha, beta = beta_of(p, _strength(rows, table, at))
    elif form == "beta":
        value = table["beta"]
        ok = (isinstance(value, list) and len(value) == 2
              and all(is_finite_number(v) and v > 0 for v in value))
        if not ok:
            raise fail(rows.path, at, "beta", "[a, b] with a > 0 and b > 0", value)
        alpha, beta = float(value[0]), float(value[1])
    else:
        scales = rows.scales
        term, confidence = table["term"], table["confidence"]
        if not isinstance(term, str) or term not in scales.terms:
            raise fail(rows.path, at, "term", f"an estimative term ({one_of(scales.terms)})", term)
        if not isinstance(confidence, str) or confidence not in scales.confidence:
            raise fail(rows.path, at, "confidence", f"a confidence ({one_of(scales.confidence)})",
                       confidence)
        alpha, beta = term_beta(scales.terms[term], scales.confidence[confidence])
    return Prior(
        when=when_of(rows, parents, config),
        alpha=alpha,
        beta=beta,
        fixed=fixed,
        form=form,
        rationale=_shared_text(rows, table, "rationale", at),
        reference_class=_shared_text(rows, table, "reference_class", at),
    )


def row_prior(rows: Rows, table: dict, parents: tuple[str, ...], config: int, at: str,
              states: tuple[str, ...]) -> Prior:
    """A row over k states (README, "Questions with more than two outcomes"): p = [k] +
    strength, p = [k] + fixed = true, or dirichlet = [k]. On a yes/no node a list is in the
    node's declared order and becomes the binary prior it means."""
    keys = (set(table) & PRIOR_KEYS) - NOT_FORM_KEYS
    k = len(states)
    binary = set(states) == set(BINARY_STATES)
    order = ", ".join(states)
    forms = {"p+strength": {"p", "strength"}, "fixed": {"p", "fixed"}, "dirichlet": {"dirichlet"}}
    form = next((name for name, needed in forms.items() if keys == needed), None)
    if form is None:
        if not binary and keys & {"beta", "term", "confidence"}:
            bad = sorted(keys & {"beta", "term", "confidence"})[0]
            raise fail(rows.path, at, bad, f"p = [{k} numbers] + strength | p + fixed = true | "
                       f"dirichlet = [{k} numbers] (`{bad}` is for yes/no nodes only)", table[bad])
        raise fail(rows.path, at, "prior",
                   f"exactly one form: p = [{k} probabilities] + strength | p = [...] + fixed = "
                   f"true | dirichlet = [{k} numbers]",
                   "keys " + ", ".join(sorted(keys)) if keys else "none")
    key = "dirichlet" if form == "dirichlet" else "p"
    value = table[key]
    if (not isinstance(value, list) or len(value) != k
            or not all(is_finite_number(v) for v in value)):
        raise fail(rows.path, at, key, f"{k} numbers, one per state ({order})",
                   f"{len(value)} numbers" if isinstance(value, list) else value)
    values = tuple(float(v) for v in value)
    dirichlet = fixed_row = None
    if form == "dirichlet":
        if not all(v > 0 for v in values):
            raise fail(rows.path, at, "dirichlet", "positive numbers", value)
        dirichlet = values
    else:
        # a constant row may hold 0s and a 1 (a logical node); a judgement never does
        fixed_form = form == "fixed"
        if not all((0 <= v <= 1) if fixed_form else (0 < v < 1) for v in values):
            raise fail(rows.path, at, "p", "probabilities from 0 to 1" if fixed_form
                       else "probabilities strictly between 0 and 1", value)
        if abs(sum(values) - 1.0) > ROW_SUM_TOLERANCE:
            raise fail(rows.path, at, "p", f"probabilities summing to 1 ({order})",
                       f"a sum of {sum(values):.6g}")
        values = normalised(values)
        if fixed_form:
            _fixed_flag(rows, table, at)
            fixed_row = values
        else:
            dirichlet = dirichlet_of(values, _strength(rows, table, at))
    return state_row_prior(when_of(rows, parents, config), form, states,
                           _shared_text(rows, table, "rationale", at),
                           _shared_text(rows, table, "reference_class", at),
                           dirichlet=dirichlet, fixed_row=fixed_row)


def _fixed_flag(rows: Rows, table: dict, at: str) -> None:
    """`fixed` is only ever `true` (a constant); anything else is a slip."""
    if table["fixed"] is not True:
        raise fail(rows.path, at, "fixed", "true (or use p + strength)", table["fixed"])


def _strength(rows: Rows, table: dict, at: str) -> float:
    """A prior's strength (pseudo-counts): a positive number."""
    strength = number(rows.path, table["strength"], at, "strength", "a positive strength")
    if strength <= 0:
        raise fail(rows.path, at, "strength", "a positive strength", table["strength"])
    return strength


def _shared_text(rows: Rows, table: dict, key: str, at: str) -> str:
    """A prior's rationale or reference class: its own, else the node's (shared by every
    row that gives none, as the compact table form allows)."""
    if key not in table and rows.shared and rows.shared.get(key):
        return rows.shared[key]
    return text_field(rows.path, table, key, at)
