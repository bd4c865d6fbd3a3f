"""What a reader needs before the tables: the bottom line, the key assumptions, and per question
the reasoning behind its priors, a confidence statement and (for a consequence) its forecast if
its main driver happens and if it does not.

Pure functions of the scenario, the prepared problem and the numbers the report already holds
(forecasts, sensitivity, evidence grades); every sentence is generated from those numbers, so a
new scenario or new evidence rewrites it, and nothing in it is written in by hand. Conditional
forecasts are exact (the same batched clamped calibration as the value of information), on the
scenarios where the CPT entries integrate out; elsewhere they are left out (null).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np

from ..inference.exact import state_means, state_means_clamped
from .decisions import value_of_information
from .report_document import (
    Assumption,
    ConditionalForecast,
    Confidence,
    EvidenceRow,
    NodeReport,
    PriorRow,
    SensitivityRow,
)

ASSUMPTIONS_SHOWN = 5           # the judgements the forecasts hang on most
DRIVER_ASSUMPTIONS = 2          # of which, first, the drivers' widest
THIN_CLASS = 5                  # prior strength at or below which a class is called thin
WIDE_PP, NARROW_PP = 30.0, 15.0  # interval widths (percentage points) behind the confidence words
TRUSTED_WEIGHT = 0.64           # an item at or above it is from a source we can vouch for (B2)


def _pct(p: float) -> str:
    return f"{100 * p:.0f}%" if 0.01 <= p <= 0.99 else f"{100 * p:.2g}%"


def prior_rows(node) -> list[PriorRow]:
    """A node's priors as a reader weighs them: the parent states each is for, its mean, its
    strength (pseudo-counts; null for a constant), its rationale and reference class."""
    return [{"when": {parent: state if isinstance(state, str) else ("yes" if state else "no")
                      for parent, state in prior.when},
             "cause": prior.cause,
             "mean": round(float(prior.mean), 6) if node.binary else None,
             "row_mean": [round(float(p), 6) for p in prior.row_mean],
             "strength": _strength(prior),
             "rationale": " ".join(prior.rationale.split()),
             "reference_class": " ".join(prior.reference_class.split())}
            for prior in node.priors]


def _strength(prior) -> float | None:
    """Pseudo-cases behind a prior: a + b of a Beta, the sum of a Dirichlet, none for a constant."""
    if prior.is_fixed:
        return None
    if prior.dirichlet is not None:
        return round(float(sum(prior.dirichlet)), 4)
    return round(float(prior.alpha + prior.beta), 4)


def conditionals(scenario, problem) -> dict[str, ConditionalForecast | None]:
    """Per open consequence, its forecast if its main driver resolved yes and if it resolved
    no: the main driver is the open driver whose outcome moves it most (exact, with the evidence
    and resolutions as they are). Null where the CPTs do not integrate out, or no driver is open."""
    net = problem.net
    targets = [n.id for n in scenario.nodes
               if n.role == "consequence" and n.id not in problem.conditions]
    drivers = [n.id for n in scenario.nodes if n.role == "driver" and n.id not in problem.conditions]
    if net.multistate:
        # "if it happens" has one meaning for a yes/no driver and a yes/no consequence only: the
        # other questions of a network with more outcomes get none, the yes/no ones keep theirs
        drivers = [d for d in drivers if scenario.node(d).binary]
        asked = [t for t in targets if scenario.node(t).binary]
    else:
        asked = targets
    out: dict[str, ConditionalForecast | None] = dict.fromkeys(targets)
    if not net.conjugate or not asked or not drivers:
        return out
    p_yes, given_yes, given_no = (_state_conditionals(net, problem, drivers, asked) if net.multistate
                                  else _yes_no_conditionals(net, problem, drivers, asked))
    # (drivers, targets); -1 where a driver outcome is ruled out (NaN: no conditional)
    swing = np.nan_to_num(np.abs(given_yes - given_no), nan=-1.0)
    for j, target in enumerate(asked):
        i = int(np.argmax(swing[:, j]))
        if swing[i, j] < 0:
            continue
        out[target] = {"driver": drivers[i], "driver_p": round(float(p_yes[i]), 6),
                       "if_yes": round(float(given_yes[i, j]), 6),
                       "if_no": round(float(given_no[i, j]), 6)}
    return out


def _yes_no_conditionals(net, problem, drivers, targets):
    result = value_of_information(net, problem.node_log_weights, problem.conditions,
                                  [net.index(t) for t in targets],
                                  candidates=[net.index(d) for d in drivers])
    return result.p_yes, result.given_yes, result.given_no


def _state_conditionals(net, problem, drivers, targets):
    """(P(driver = yes), P(target = yes | driver yes), ... | driver no) on a network with nodes
    of more states: every clamp (two per driver) in one exact batch. A driver outcome the
    evidence rules out (a logical CPT's zero) has no conditional: that driver swings nothing."""
    yes = [net.state_offsets[net.index(t)] + net.state_index(net.index(t), True) for t in targets]
    now = state_means(net, problem.state_log_weights, problem.conditions)
    p_driver = np.array([now[net.state_offsets[net.index(d)] + net.state_index(net.index(d), True)]
                         for d in drivers])
    clamped = state_means_clamped(net, problem.state_log_weights, problem.conditions,
                                  [(d, outcome) for d in drivers for outcome in (True, False)])
    return p_driver, clamped[0::2][:, yes], clamped[1::2][:, yes]


def confidence(node: NodeReport, priors: Sequence[PriorRow],
               rows: Sequence[EvidenceRow], interval_prob: float) -> Confidence:
    """How much to trust one forecast, in words (ICD 203 asks for it apart from the number):
    `level` "high", "moderate" or "low" from the interval's width, the grade of the evidence that
    bears on the question directly and the strength of its priors' reference classes, and a
    `statement` that gives those reasons."""
    bounds = node["interval"]
    if bounds is None:          # more than two outcomes: the most likely one's interval
        bounds = next(row["interval"] for row in node["distribution"]
                      if row["state"] == node["most_likely"])
    width = 100 * (bounds[1] - bounds[0])
    strengths = [p["strength"] for p in priors if p["strength"] is not None]
    best = max((r["weight"] for r in rows), default=0.0)
    thin = bool(strengths) and max(strengths) <= THIN_CLASS
    if node["resolved"]:
        return {"level": "high", "statement": f"Resolved {node['resolved']}: no longer a forecast."}
    if width <= NARROW_PP and best >= TRUSTED_WEIGHT and not thin:
        level = "high"
    elif width <= WIDE_PP and (best >= 0.4 or not thin):
        level = "moderate"
    else:
        level = "low"
    items = sorted({r["item_id"] for r in rows})
    if not items:
        evidence = ("no evidence bears on it directly: it moves only through the questions it "
                    "depends on or that depend on it")
    else:
        grades = sorted({r["grade"] for r in rows})
        evidence = (f"{len(items)} item{'s' if len(items) > 1 else ''} bear{'' if len(items) > 1 else 's'}"
                    f" on it directly, graded {', '.join(grades)}"
                    + (" (sources we cannot vouch for)" if best < TRUSTED_WEIGHT else ""))
    if strengths:
        low, high = min(strengths), max(strengths)
        span = f"{low:g}" if low == high else f"{low:g}-{high:g}"
        basis = (f"its priors rest on {'thin ' if thin else ''}reference classes (strength {span}"
                 " pseudo-cases)")
    else:
        basis = "its priors are constants"
    statement = (f"{level.capitalize()} confidence: {evidence}; {basis}; its "
                 f"{round(100 * interval_prob)}% interval"
                 + ("" if node["interval"] is not None else f" for {node['most_likely']}")
                 + f" runs from {_pct(bounds[0])} to {_pct(bounds[1])}"
                 + (", and its deadline has passed with no resolution recorded." if node["overdue"]
                    else "."))
    return {"level": level, "statement": statement}


def _when_words(when: Mapping[str, str], labels: Mapping[str, str]) -> str:
    return ", ".join(f"{labels.get(p, p)} {state}" for p, state in when.items())


def key_assumptions(sensitivity: Mapping[str, Sequence[SensitivityRow]], scenario,
                    labels: Mapping[str, str], limit: int = ASSUMPTIONS_SHOWN) -> list[Assumption]:
    """The judgements the forecasts hang on most: the CPT entries of the report's sensitivity,
    each at its widest swing over the open consequences, one per node, the drivers' widest first
    chosen, then listed widest first, with the prior's reasoning and a sentence saying what it
    does."""
    best: dict[tuple, tuple[str, SensitivityRow]] = {}
    for target, rows in sensitivity.items():
        for row in rows:
            key = (row["node"], tuple(sorted(row["when"].items())), row.get("cause"),
                   row.get("entry_state", "yes"))
            if key not in best or row["swing_pp"] > best[key][1]["swing_pp"]:
                best[key] = (target, row)
    # One judgement per node (its widest), and the drivers' first: a consequence's own base rate
    # always moves it most, but the judgements about the drivers move several consequences.
    widest: dict[str, tuple[str, SensitivityRow]] = {}
    for target, row in sorted(best.values(), key=lambda tr: (-tr[1]["swing_pp"], tr[1]["node"])):
        widest.setdefault(row["node"], (target, row))
    drivers = [tr for node, tr in widest.items() if scenario.node(node).role == "driver"]
    chosen = drivers[:DRIVER_ASSUMPTIONS]
    chosen += [tr for tr in widest.values() if tr not in chosen][:limit - len(chosen)]
    ranked = sorted(chosen, key=lambda tr: (-tr[1]["swing_pp"], tr[1]["node"]))
    out: list[Assumption] = []
    for target, row in ranked:
        node = scenario.node(row["node"])
        # a yes/no parent's state is a bool in the priors, any other parent's its name
        wanted = {p: (s == "yes") if scenario.node(p).binary else s for p, s in row["when"].items()}
        prior = next((p for p in node.priors if dict(p.when) == wanted and p.cause == row.get("cause")),
                     node.priors[0])
        state = row.get("entry_state", "yes")
        mean = prior.mean if node.binary else prior.row_mean[node.states.index(state)]
        where = _when_words(row["when"], labels)
        judgement = (f"{labels.get(node.id, node.id)}" + ("" if node.binary else f" = {state}")
                     + (f" given {where}" if where else ""))
        moved = "this forecast" if target == node.id else labels.get(target, target)
        sentence = (f"{judgement}: judged {_pct(mean)}. Anywhere in its prior's range, "
                    f"{_pct(row['entry_low'])} to {_pct(row['entry_high'])}, it would put "
                    f"{moved} between {_pct(row['low'])} and {_pct(row['high'])}.")
        out.append({"node": node.id, "when": dict(row["when"]), "cause": row.get("cause"),
                    "prior_mean": round(float(mean), 6), "entry_low": row["entry_low"],
                    "entry_high": row["entry_high"], "target": target, "low": row["low"],
                    "high": row["high"], "swing_pp": row["swing_pp"], "sentence": sentence,
                    "rationale": " ".join(prior.rationale.split()),
                    "reference_class": " ".join(prior.reference_class.split())})
    return out


def bottom_line(nodes: Sequence[NodeReport], evidence: Sequence[EvidenceRow],
                labels: Mapping[str, str]) -> list[str]:
    """Three to five sentences a minister reads first, from the numbers: the driver most
    consequences turn on and what it depends on, where the consequences stand, what that driver
    would change, how far the evidence moved anything, and how much to trust it all."""
    by_id = {n["id"]: n for n in nodes}
    # questions with more than two outcomes are named by their most likely outcome, and ranked
    # with the yes/no questions nowhere (their "mean" is not a probability of yes)
    consequences = [n for n in nodes if n["role"] == "consequence" and n["mean"] is not None]

    def said(n: NodeReport) -> str:
        if n["resolved"]:
            return f"resolved {n['resolved']}"
        if n["mean"] is None:
            top = next(r for r in n["distribution"] if r["state"] == n["most_likely"])
            return f"most likely {n['most_likely']}, {_pct(top['mean'])}"
        return f"{n['term']}, {_pct(n['mean'])}"

    several = [n for n in nodes if n["role"] == "consequence" and n["mean"] is None]
    noun = "yes/no consequences" if several else "consequences"
    sentences = []
    mains = [n["conditional"]["driver"] for n in consequences if n.get("conditional")]
    driver = (max(set(mains), key=lambda d: (mains.count(d), -list(by_id).index(d)))
              if mains else next((n["id"] for n in nodes if n["role"] == "driver"), None))
    if driver is not None:
        d = by_id[driver]
        parents = "; ".join(f"{labels[p]} ({said(by_id[p])})" for p in d["parents"])
        sentences.append(f"{labels[driver]} by {d['deadline']}: {said(d)}"
                         + (f". It depends on {parents}." if parents else "."))
    if consequences:
        ranked = sorted(consequences, key=lambda n: -n["mean"])
        likely = [n for n in ranked if n["mean"] >= 0.55 and not n["resolved"]]
        top, bottom = ranked[0], ranked[-1]
        if len(consequences) == 1:
            sentences.append(f"The one yes/no consequence, {labels[top['id']]}, is {said(top)}.")
        elif likely:
            lead = "; ".join(f"{labels[n['id']]} ({said(n)})" for n in likely)
            which = "the only likely one is" if len(likely) == 1 else "the likely ones are"
            sentences.append(f"Of the {len(consequences)} {noun}, {which} {lead}; "
                             f"the least likely is {labels[bottom['id']]} ({said(bottom)}).")
        else:
            sentences.append(f"None of the {len(consequences)} {noun} is likely: the highest "
                             f"is {labels[top['id']]} ({said(top)}), the lowest "
                             f"{labels[bottom['id']]} ({said(bottom)}).")
    if several:         # one clause, so the bottom line keeps its three to five sentences
        clause = "; ".join(f"{labels[n['id']]} is {said(n)}" for n in several)
        if consequences:
            sentences[-1] = f"{sentences[-1][:-1]}; of the questions with more outcomes, {clause}."
        else:
            sentences.append(f"Of the consequences, {clause}.")
    if consequences:
        moved = [n for n in consequences if (n.get("conditional") or {}).get("driver") == driver]
        if moved:
            c = max(moved, key=lambda n: abs(n["conditional"]["if_yes"] - n["conditional"]["if_no"]))
            cond = c["conditional"]
            sentences.append(f"If {labels[driver]} resolved yes, {labels[c['id']]} would be "
                             f"{_pct(cond['if_yes'])} instead of {_pct(cond['if_no'])}: the "
                             "consequence it moves most.")
    items = {r["item_id"] for r in evidence}
    open_ = [n for n in nodes if not n["resolved"]]
    binary_open = [n for n in open_ if n["mean"] is not None]
    if items and binary_open:
        shift = max(binary_open, key=lambda n: abs(n["mean"] - n["prior_mean"]))
        points = 100 * (shift["mean"] - shift["prior_mean"])
        sentences.append(f"The {len(items)} evidence items moved no open forecast by more than "
                         f"{abs(points):.1f} points: the largest change is {labels[shift['id']]}, "
                         f"{_pct(shift['prior_mean'])} before the evidence and {_pct(shift['mean'])} "
                         "after.")
    if open_:
        levels = [n["confidence"]["level"] for n in open_]
        common = max(("low", "moderate", "high"), key=levels.count)
        overdue = [n for n in open_ if n["overdue"]]
        sentences.append(f"Confidence is {common} for {levels.count(common)} of the {len(open_)} "
                         "open questions"
                         + (f"; {len(overdue)} are past their deadline with no outcome recorded, "
                            "so their forecasts are stale." if overdue else "."))
    return sentences[:5]
