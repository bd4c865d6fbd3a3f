"""The forecast report: one fit of a scenario turned into the document every renderer and
`report.json` share. Its shape is a contract (keys are only added, never renamed or removed):
its type is `ReportDocument` (report_document.py), docs/json.md, "forecast report --format
json", shows it, and tests/test_report_document.py and tests/test_render.py check it.
One module past 400 lines because the document is made in one place: a node's columns
(`fit_forecasts`), the what-if's unconditional side and `build_report` are read together."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import TypedDict, cast

import numpy as np

from .. import MODEL_VERSION
from ..inference import exact
from ..inference.problem import Posterior, Problem, prepare
from ..model.calendar import is_overdue, overdue_nodes, overdue_warning
from ..model.network import Network
from ..model.spec import Inputs
from ..versions import package_versions
from .briefing import bottom_line, conditionals, confidence, key_assumptions, prior_rows
from .decisions import report_decisions
from .report_document import (
    AsOfBasis,
    CptForm,
    DecisionFields,
    Diagnostics,
    Engine,
    EvidenceRow,
    HistoryEntry,
    HistoryFields,
    NodeReport,
    Outcome,
    ReportDocument,
    Role,
    SamplerInfo,
    StateForecast,
    UnconditionalForecast,
    WhatifColumns,
)
from .summaries import (
    INTERVAL_PROB,
    Influence,
    influence,
    interval,
    moved_most,
    node_forecasts,
    state_view,
    top_evidence,
)

# Exact iid draws of the prior (no evidence) behind each node's prior interval: cheap, and
# enough that its 5% and 95% quantiles move by about half a percentage point between seeds.
PRIOR_DRAWS = 4000


def _finite_or_none(value) -> float | None:
    """A number for JSON, or null where the sampler could not estimate it (e.g. the MCSE
    of draws stuck at one value): report.json must stay strict JSON."""
    value = float(value)
    return round(value, 6) if np.isfinite(value) else None


def as_of_date(inputs: Inputs) -> dt.date:
    """The latest date the forecast knows about: the scenario's as-of, evidence, resolutions."""
    dates = [inputs.scenario.as_of] + [it.date for it in inputs.evidence] + [
        r.date for r in inputs.resolutions]
    return max(dates)


def as_of_basis(inputs: Inputs) -> AsOfBasis:
    """What set the as-of date: the latest "resolution", "evidence" item, or the "scenario"
    itself (when the analysis was written), so a report can say it in words."""
    day = as_of_date(inputs)
    if any(r.date == day for r in inputs.resolutions):
        return "resolution"
    if any(it.date == day for it in inputs.evidence):
        return "evidence"
    return "scenario"


class TimeFields(TypedDict):
    """The report's place in time (`time_fields`)."""

    as_of: str
    as_of_basis: AsOfBasis
    evaluated_on: str
    replay: bool
    overdue: list[str]
    overdue_warning: str


def time_fields(inputs: Inputs, evaluated_on: dt.date, replay: dt.date | None = None) -> TimeFields:
    """The report's place in time: as_of (the replay date, else the latest date the forecast
    knows about) and what set it, the evaluation date, whether it is a replay, and the overdue
    questions (past their deadline on the evaluation date, unresolved)."""
    overdue = overdue_nodes(inputs.scenario, inputs.resolutions, evaluated_on)
    sentence = overdue_warning((n.id, n.deadline.isoformat()) for n in overdue)
    return {"as_of": (replay or as_of_date(inputs)).isoformat(),
            "as_of_basis": "replay" if replay else as_of_basis(inputs),
            "evaluated_on": evaluated_on.isoformat(),
            "replay": replay is not None,
            "overdue": [n.id for n in overdue],
            "overdue_warning": sentence}


def prior_fit(net: Network, seed: int, draws: int = PRIOR_DRAWS) -> Posterior:
    """The forecast before any evidence or resolution: exact means, and `draws` (PRIOR_DRAWS
    unless the command's --draws asks for fewer) exact iid draws behind each prior interval.
    It depends on the priors and the seed alone, so callers cache it across evidence changes.

    With parametric CPTs nothing integrates out in closed form: the parameters are drawn from
    their priors (iid draws, numpy), each draw's P(yes | parameters) computed exactly, and the
    prior mean is their average (Monte Carlo, a few tenths of a point)."""
    if net.multistate or net.all_fixed:
        from ..inference.problem import Problem, fit
        from ..inference.settings import SamplerSettings

        no_evidence = Problem(net, np.zeros(net.n_nodes), {},
                              np.zeros(net.n_states) if net.multistate else None)
        return fit(no_evidence, "exact", seed, SamplerSettings(draws=draws, chains=1))
    if not net.conjugate:
        from ..inference.importance import prior_p_yes

        p_yes = prior_p_yes(net, draws, np.random.default_rng(seed))
        mcse = p_yes.std(axis=0) / np.sqrt(len(p_yes))
        return Posterior(p_yes[None], mcse,
                         {"divergences": 0, "max_rhat": None, "min_ess": None, "warnings": []},
                         "prior draws", {"draws": draws}, p_yes.mean(axis=0))
    no_evidence = np.zeros(net.n_nodes)
    p_yes = exact.posterior_draws(net, no_evidence, None, draws, np.random.default_rng(seed))
    return Posterior(p_yes[None], np.zeros(net.n_nodes),
                     {"divergences": 0, "max_rhat": None, "min_ess": None, "warnings": []},
                     "exact", {"draws": draws}, exact.posterior_means(net, no_evidence))


def _percent(p: float) -> str:
    return f"{100 * p:.0f}%" if 0.01 <= p <= 0.99 else f"{100 * p:.2g}%"


def cpt_text(node, scenario) -> str | None:
    """A parametric node's CPT in words, from its numbers' prior means (None for a table):
    "each cause acts independently: Deployment alone 40%, US deal alone 25%, base 5%"."""
    if not node.parametric:
        return None
    base, numbers = node.priors[0].mean, [p.mean for p in node.priors[1:]]
    names = [scenario.node(parent).display for parent in node.parents]
    if node.cpt == "noisy_or":
        parts = [f"{name} alone {_percent(c)}" for name, c in zip(names, numbers, strict=True)]
        return ("each cause acts independently (noisy-OR): " + ", ".join(parts)
                + f", base {_percent(base)} (P(yes) with no cause present; a cause's number is the "
                "chance that it alone makes the answer yes)")
    parts = [f"{name} alone {_percent(p)}" + (" (an inhibitor: lowers it)" if p < base else "")
             for name, p in zip(names, numbers, strict=True)]
    return ("effects add on the log-odds scale: base " + _percent(base) + " with no parent yes; "
            + ", ".join(parts) + " (each the chance when that parent alone is yes)")


@dataclass(frozen=True)
class Unconditional:
    """A what-if's forecast without its conditions: what the what-if shows of it, per node
    (`nodes[].unconditional`) and the fit's diagnostics (`unconditional_diagnostics`)."""

    nodes: list[UnconditionalForecast]
    diagnostics: Diagnostics


def fit_forecasts(inputs: Inputs, posterior: Posterior, prior: Posterior,
                  problem: Problem) -> list[UnconditionalForecast]:
    """Per node what the fit says of it: mean and interval (on a yes/no node), the exact mean,
    MCSE, term, the state it resolved to, each state's forecast beside its prior. The report's
    node columns and, alone, a what-if's unconditional forecast."""
    scenario, net = inputs.scenario, problem.net
    # exact_mean: the closed form where it exists (table scenarios); null with parametric CPTs.
    # The exact engine's posterior already holds it (its means are that closed form).
    means = np.asarray(posterior.means, dtype=float)
    if posterior.engine == "exact":
        exact_now = means
    else:
        exact_now = (exact.posterior_means(net, problem.node_log_weights, problem.conditions)
                     if net.conjugate else None)
    forecasts = node_forecasts(posterior.p_yes, means)      # as backtest replays state them too
    resolved: dict[str, Outcome] = {r.node: (r.state) for r in inputs.resolutions}
    distributions = node_distributions(net, scenario, posterior, prior)
    out: list[UnconditionalForecast] = []
    for v, node in enumerate(scenario.nodes):
        mean, bounds = forecasts[v]
        yes_no = node.binary
        out.append({
            "mean": mean if yes_no else None,
            "interval": bounds if yes_no else None,
            "exact_mean": None if exact_now is None or not yes_no else round(float(exact_now[v]), 6),
            "mcse": _finite_or_none(posterior.mcse[v]),
            "term": scenario.scales.term_for(float(means[v])) if yes_no else None,
            "resolved": resolved.get(node.id),
            "distribution": distributions[v],
        })
    return out


def unconditional_forecasts(inputs: Inputs, posterior: Posterior, seed: int,
                            prior: Posterior | None = None,
                            problem: Problem | None = None) -> Unconditional:
    """The unconditional side of a what-if: `fit_forecasts` and the diagnostics, without the
    rest of a report (its influence, decisions and briefing are the conditional document's)."""
    problem = problem if problem is not None else prepare(inputs)
    prior = prior or prior_fit(problem.net, seed)
    return Unconditional(fit_forecasts(inputs, posterior, prior, problem),
                         _diagnostics(posterior.diagnostics))


def build_report(inputs: Inputs, posterior: Posterior, seed: int,
                 given: dict[str, bool] | None = None,
                 generated_at: dt.datetime | None = None,
                 evaluated_on: dt.date | None = None, replay: dt.date | None = None,
                 prior: Posterior | None = None,
                 influences: list[Influence] | None = None,
                 history: tuple[list[HistoryEntry], int] | None = None,
                 unconditional: Unconditional | None = None,
                 problem: Problem | None = None,
                 decide: Callable[..., DecisionFields] = report_decisions) -> ReportDocument:
    """The report document, complete: renderers only read it and no later layer adds to it
    (its type, key for key: analysis/report_document.py).

    `replay` (a date) marks a forecast replayed from the inputs as they stood that day
    (`--as-of`): it is then also the as-of and evaluation date. Otherwise the evaluation date is
    `evaluated_on`, by default today. `prior` (the fit without evidence) and `influences` may
    come precomputed (a cache, or a caller that needs them too); otherwise they are computed
    here, exactly. `history` (chart snapshots, count of unreadable lines) adds the forecast
    history the reports chart; `unconditional` (the forecast without `given`,
    `unconditional_forecasts`) adds the what-if columns: each node's unconditional forecast and
    the change in percentage points. `decide`
    makes the watch, sensitivity and page what-if fields from (scenario, problem, terms): a
    team's report has the team's (analysis/team_decisions.py)."""
    scenario = inputs.scenario
    evaluated_on = replay or evaluated_on or dt.date.today()
    problem = problem if problem is not None else prepare(inputs, given)
    net = problem.net
    prior = prior or prior_fit(net, seed)
    prior_means = np.asarray(prior.means, dtype=float)
    prior_bounds = interval(np.clip(prior.p_yes, 0.0, 1.0))
    fitted = fit_forecasts(inputs, posterior, prior, problem)
    if influences is None:
        influences = influence(net, inputs.evidence, problem.conditions)
    given_states: dict[str, Outcome] | None = (
        {k: v if isinstance(v, str) else ("yes" if v else "no") for k, v in given.items()}
        if given else None)
    conditional = conditionals(scenario, problem)
    evidence_rows: list[EvidenceRow] = [
        {"item_id": it.item_id, "node": it.node, "date": it.date.isoformat(),
         "source": it.source, "grade": f"{it.reliability}{it.credibility}",
         "weight": round(it.weight, 4), "lr": it.lr, "cluster": it.cluster or None,
         "summary": it.summary, "url": it.url or None, "quote": it.quote or None,
         "state": it.state or None, "lrs": list(it.lrs) if it.lrs else None}
        for it in inputs.evidence
    ]
    nodes: list[NodeReport] = []
    for v, node in enumerate(scenario.nodes):
        yes_no = node.binary
        own = fitted[v]
        nodes.append({
            "id": node.id,
            "label": node.display,
            "role": cast(Role, node.role),
            "question": node.question,
            "resolution_criteria": node.resolution,
            "deadline": node.deadline.isoformat(),
            "overdue": is_overdue(node, own["resolved"] is not None, evaluated_on),
            "parents": list(node.parents),
            "prior_mean": round(float(prior_means[v]), 6) if yes_no else None,
            "prior_interval": [round(min(float(prior_bounds[v][0]), float(prior_means[v])), 6),
                               round(max(float(prior_bounds[v][1]), float(prior_means[v])), 6)]
            if yes_no else None,
            "mean": own["mean"],
            "interval": own["interval"],
            "interval_prob": INTERVAL_PROB,
            "mcse": own["mcse"],
            "exact_mean": own["exact_mean"],
            "cpt": cast(CptForm, node.cpt),
            "cpt_text": cpt_text(node, scenario),
            "term": own["term"],
            "resolved": own["resolved"],
            "top_evidence": top_evidence(influences, v),
            "moved_most": moved_most(influences, v),
            "states": list(node.states),
            "ordered": node.ordered,
            "distribution": own["distribution"],
            "most_likely": max(own["distribution"], key=lambda row: row["mean"])["state"],
            "priors": prior_rows(node),
            "confidence": {"level": "low", "statement": ""},
            "conditional": conditional.get(node.id),
        })
        nodes[-1]["confidence"] = confidence(
            nodes[-1], nodes[-1]["priors"], [r for r in evidence_rows if r["node"] == node.id],
            INTERVAL_PROB)
    if unconditional is not None:
        nodes = [{**node, **_whatif_columns(node, before, given_states or {})}
                 for node, before in zip(nodes, unconditional.nodes, strict=True)]
    when = time_fields(inputs, evaluated_on, replay)
    terms = {name.replace("_", " "): list(bounds)
             for name, bounds in sorted(scenario.scales.terms.items(), key=lambda kv: kv[1])}
    diagnostics = _diagnostics(posterior.diagnostics)
    decisions = decide(scenario, problem, terms)
    labels = {n.id: n.display for n in scenario.nodes}
    document: ReportDocument = {
        "scenario": scenario.id,
        "title": scenario.title,
        "trigger": scenario.trigger,
        "as_of": when["as_of"],
        "as_of_basis": when["as_of_basis"],
        "evaluated_on": when["evaluated_on"],
        "replay": when["replay"],
        "generated_at": (generated_at or dt.datetime.now(dt.UTC)).isoformat(timespec="seconds"),
        "model_version": MODEL_VERSION,
        "engine": cast(Engine, posterior.engine),
        "evidence_hash": inputs.evidence_hash,
        "seed": seed,
        "versions": dict(package_versions()),
        "sampler": cast(SamplerInfo, dict(posterior.settings)),
        "diagnostics": diagnostics,
        "warnings": ([when["overdue_warning"]] if when["overdue_warning"] else [])
        + list(diagnostics["warnings"]),
        "overdue": when["overdue"],
        "terms": terms,
        "bottom_line": bottom_line(nodes, evidence_rows, labels),
        "key_assumptions": key_assumptions(decisions["sensitivity"]["targets"], scenario, labels),
        "nodes": nodes,
        "evidence": evidence_rows,
        "resolutions": [
            {"node": r.node, "outcome": r.state,
             "date": r.date.isoformat(), "source": r.source}
            for r in inputs.resolutions
        ],
        **decisions,
    }
    # The keys only some documents have, in the order report.json has always listed them.
    if given_states:
        document["given"] = given_states
    if unconditional is not None:
        document["unconditional_diagnostics"] = _diagnostics(unconditional.diagnostics)
    if history is not None:
        fields = history_fields(document, *history)
        document["history"] = fields["history"]
        document["history_skipped"] = fields["history_skipped"]
    return document


def node_distributions(net: Network, scenario, posterior: Posterior, prior: Posterior
                       ) -> list[list[StateForecast]]:
    """Per node, in its declared state order: each state's prior and posterior mean and its
    credible interval (widened to hold the mean), rounded to 6 decimals."""
    means, draws = state_view(net, posterior)
    prior_means, prior_draws = state_view(net, prior)
    bounds = interval(draws)
    prior_bounds = (interval(prior_draws) if len(prior_draws)
                    else np.column_stack([prior_means, prior_means]))

    def held(bound, mean: float) -> list[float]:
        return [round(min(float(bound[0]), mean), 6), round(max(float(bound[1]), mean), 6)]

    out = []
    for v, node in enumerate(scenario.nodes):
        rows: list[StateForecast] = []
        for state in node.states:
            i = int(net.state_offsets[v]) + node.engine_index(state)
            mean, prior_mean = float(means[i]), float(prior_means[i])
            rows.append({"state": state, "prior_mean": round(prior_mean, 6),
                         "mean": round(mean, 6), "interval": held(bounds[i], mean),
                         "prior_interval": held(prior_bounds[i], prior_mean)})
        out.append(rows)
    return out


def _diagnostics(diagnostics: Mapping) -> Diagnostics:
    """The document's own copy of a fit's diagnostics (the posterior, and its cache, keep
    theirs): every key the fit reported, in its order."""
    return cast(Diagnostics, {**diagnostics, "warnings": list(diagnostics.get("warnings", []))})


def history_fields(document: ReportDocument, history: list[HistoryEntry], skipped: int) -> HistoryFields:
    """`history` (the snapshots to chart; a replay knows only those up to its date) and
    `history_skipped` (lines that were not snapshots)."""
    if document.get("replay"):
        history = [snap for snap in history if snap["as_of"] <= document["as_of"]]
    return {"history": history, "history_skipped": skipped}


def with_history(document: ReportDocument, history: list[HistoryEntry], skipped: int) -> ReportDocument:
    """A new document: `document` with its history (for a caller whose history gains a line
    made from the document itself: `update`). `document` is left as it was."""
    return {**document, **history_fields(document, history, skipped)}


def _whatif_columns(node: NodeReport, before: UnconditionalForecast,
                    given: Mapping[str, Outcome]) -> WhatifColumns:
    """A what-if node's columns, made while the document is being built: the condition on it
    (if any), its unconditional forecast (`before`, the same node's without `given`) and the
    change in percentage points: of the mean on a yes/no node (null on one of other states),
    and of every state's probability (`change_pp_by_state`)."""
    binary = node["mean"] is not None and before["mean"] is not None
    then = {row["state"]: row["mean"] for row in before["distribution"]}
    return {"conditioned": given.get(node["id"]),
            "unconditional": {"mean": before["mean"],
                              "interval": list(before["interval"]) if binary else None,
                              "exact_mean": before["exact_mean"], "mcse": before["mcse"],
                              "term": before["term"], "resolved": before["resolved"],
                              "distribution": [dict(row) for row in before["distribution"]]},
            "change_pp": round(100 * (node["mean"] - before["mean"]), 2) if binary else None,
            "change_pp_by_state": {row["state"]: round(100 * (row["mean"] - then[row["state"]]), 2)
                                   for row in node["distribution"]}}
