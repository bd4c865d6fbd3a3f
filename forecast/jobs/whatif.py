"""What-if forecasts: every node's forecast given that some nodes resolve a stated way, side by
side with the unconditional forecast.

A condition is hard evidence, exactly as a resolution is (joint states that contradict it get
weight zero), so a what-if equals a refit with the node resolved that way; a condition
overrides a recorded resolution of the same node. Both fits go through the one seam and
its cache, so a repeated what-if costs a cache read.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

from ..analysis.document import build_report, unconditional_forecasts
from ..analysis.report_document import ReportDocument
from ..analysis.summaries import pooled_influence
from ..errors import fail
from ..inference.problem import Problem
from ..inference.settings import SamplerSettings
from ..io.analysts import analyst_ids
from ..io.project import ScenarioPaths, load_inputs
from ..model.spec import OUTCOMES, Inputs, Scenario
from .budget import Work
from .report import (
    PreparedFit,
    cached_fit,
    cached_prior,
    per_analyst,
    prepare_fit,
    prior_draws,
    report_work,
)


def parse_given(values: Sequence[str], scenario: Scenario) -> dict[str, bool | str]:
    """`NODE=STATE` options -> {node: outcome}: True/False on a yes/no node (`NODE=yes`,
    `NODE=no`), the state's name on a node of other states."""
    if not values:
        raise fail("--given", None, None, "at least one NODE=STATE (NODE=yes or NODE=no on a "
                   "yes/no question)", "nothing")
    given: dict[str, bool | str] = {}
    for value in values:
        node_id, sep, state = (part.strip() for part in value.partition("="))
        if not sep or not node_id or not state:
            raise fail("--given", None, None, "NODE=STATE (e.g. NODE=yes)", value)
        if node_id not in scenario.node_ids:
            raise fail("--given", None, None,
                       f"a node of {scenario.id} (one of {', '.join(sorted(scenario.node_ids))})",
                       node_id)
        node = scenario.node(node_id)
        name = state.lower() if node.binary else state
        if name not in node.states and node.binary:
            raise fail("--given", None, None, "NODE=yes or NODE=no", value)
        if name not in node.states:
            raise fail("--given", None, None,
                       f"a state of {node_id} ({', '.join(node.states)})", state)
        outcome = OUTCOMES[name] if node.binary else name
        if given.get(node_id, outcome) != outcome:
            raise fail("--given", None, None, f"one state for {node_id}", value)
        given[node_id] = outcome
    return given


def whatif_document(paths: ScenarioPaths, given_values: Sequence[str], seed: int,
                    settings=None, engine: str = "auto", use_cache: bool = True,
                    as_of: dt.date | None = None, analyst: str | None = None) -> ReportDocument:
    """The conditional report (it carries `given`), each node extended with its unconditional
    forecast and the change in percentage points. With `as_of`, both are replays. On a
    scenario with analysts both are the team's: each analyst's fit with the conditions and
    without (through the one seam and its cache), then their logarithmic pool, and the
    conditional report carries each analyst's conditional forecast (`by_analyst`), as a team's
    report does; `analyst` answers for one analyst alone."""
    from .team import team_decisions, team_fit, with_team

    inputs = load_inputs(paths, as_of, analyst)
    given = parse_given(given_values, inputs.scenario)
    settings = settings or SamplerSettings()
    work = per_analyst(whatif_work, 0 if analyst is not None else len(analyst_ids(paths.analysts)))
    base = _with_analyst(paths, prepare_fit(paths, inputs, settings, engine, work), analyst)
    clamped = _with_analyst(paths, prepare_fit(paths, inputs, settings, engine, work, given),
                            analyst)
    team = None if analyst is not None else team_fit(paths, inputs, seed, base, settings,
                                                     use_cache)
    if team is not None:
        conditional_team = team_fit(paths, inputs, seed, base, settings, use_cache, given=given)
        fitted, prior, conditional = (team.posterior, team.prior, conditional_team.posterior)
    else:
        fitted = cached_fit(paths, inputs, seed, settings, use_cache=use_cache, prepared=base)
        prior = cached_prior(paths, inputs, seed, use_cache, base, prior_draws(settings))
        conditional = cached_fit(paths, inputs, seed, settings, given=given, use_cache=use_cache,
                                 prepared=clamped)
    # only the forecasts are shown of the fit without the conditions: what moved the forecast
    # and what to watch are the conditional document's
    unconditional = unconditional_forecasts(inputs, fitted, seed, prior, base.problem)
    # a team's conditional forecast was moved by the evidence as the pool of the analysts' was
    influences = (None if team is None else
                  pooled_influence(conditional_team.views, inputs.evidence))
    # a team's watch, sensitivity and page what-ifs are the team's, as in its report
    document = build_report(inputs, conditional, seed, given=given, replay=as_of, prior=prior,
                            unconditional=unconditional, influences=influences,
                            problem=clamped.problem,
                            **({} if team is None else {"decide": team_decisions(conditional_team)}))
    if team is not None:
        document = with_team(document, conditional_team, clamped)
    elif analyst is not None:
        document["analyst"] = analyst
    return document


def _with_analyst(paths: ScenarioPaths, prepared: PreparedFit, analyst: str | None) -> PreparedFit:
    """`prepared`, its cache keys made of the analyst's file too when it is one analyst's."""
    if analyst is None:
        return prepared
    return PreparedFit(prepared.problem, prepared.engine, prepared.priors_bytes + b"\0analyst\0"
                       + paths.analyst_priors(analyst).read_bytes())


def whatif_work(problem: Problem, inputs: Inputs, settings: SamplerSettings) -> Work:
    """Two reports' inferences: with the conditions and without."""
    report = report_work(problem, inputs, settings)
    return Work("whatif", 2 * report.inferences, "two reports: with the conditions and without",
                "--draws")
