"""One function per user job, composing readers, the core and writers. The CLI calls these;
tests can too. Nothing here prints."""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..analysis.decisions import report_watch_clamps
from ..analysis.document import PRIOR_DRAWS, build_report, prior_fit
from ..analysis.report_document import ReportDocument
from ..analysis.state_decisions import sensitivity_calibrations
from ..analysis.summaries import pooled_influence
from ..errors import problem as problem_error
from ..inference.problem import Posterior, Problem, fit, prepare
from ..inference.settings import SamplerSettings
from ..io.analysts import analyst_ids
from ..io.catalog import read_chart_history
from ..io.history import write_shown
from ..io.posterior_cache import cache_key, load_posterior, store_posterior
from ..io.project import ScenarioPaths, load_inputs
from ..model.spec import Inputs
from .budget import Work, check_budgets, choose_engine, exact_fit_inferences
from .report_files import write_reports

# What a command states about its exact inferences: (problem, inputs, settings) -> Work.
WorkOf = Callable[[Problem, Inputs, SamplerSettings], Work]


@dataclass
class ReportResult:
    document: ReportDocument
    written: list[Path]


@dataclass(frozen=True)
class PreparedFit:
    """A fit made ready once per command (bambi's build() before run()): the network and
    evidence as arrays, the engine chosen, the budgets checked, and the priors' bytes the
    cache keys are made of, so nothing is read, built or parsed twice."""

    problem: Problem
    engine: str
    priors_bytes: bytes


def prepare_fit(paths: ScenarioPaths, inputs: Inputs, settings: SamplerSettings,
                engine: str = "auto", work: WorkOf | None = None,
                given: dict[str, bool] | None = None,
                at_fixed_numbers: bool = False) -> PreparedFit:
    """`checked_problem`, with the priors' bytes for the cache keys."""
    problem, chosen = checked_problem(paths, inputs, settings, engine, work, given,
                                      at_fixed_numbers)
    return PreparedFit(problem, chosen, paths.priors.read_bytes())


def cached_fit(paths: ScenarioPaths, inputs: Inputs, seed: int,
               settings: SamplerSettings | None = None, given: dict[str, bool] | None = None,
               use_cache: bool = True, strict: bool = False, engine: str = "auto",
               work: WorkOf | None = None, prepared: PreparedFit | None = None) -> Posterior:
    """`fit` through the one seam, reusing the posterior of an earlier fit of exactly the same
    inputs (priors, evidence, resolutions, seed, settings, conditions, engine, model and
    package versions). Every command that needs a posterior comes here.

    An engine that cannot serve the scenario, or a network past a budget (`check_budgets`;
    the command's exact inferences are `work(problem, inputs, settings)`, by default a
    report's), is a user error naming the priors file, raised before
    anything is fitted or stored. Under `strict`, sampling problems are a user error, raised
    before anything is stored."""
    settings = settings or SamplerSettings()
    prepared = prepared or prepare_fit(paths, inputs, settings, engine, work, given)
    problem, chosen = prepared.problem, prepared.engine
    shown = paths.display(paths.priors)
    n_nodes = len(inputs.scenario.nodes)
    key = cache_key(prepared.priors_bytes, inputs.evidence_hash, seed,
                    {**settings.describe(), "engine": chosen}, given)
    hit = _load(paths, key, n_nodes) if use_cache else None
    posterior = hit if hit is not None else fit(problem, chosen, seed, settings)
    warnings = posterior.diagnostics["warnings"]
    if strict and warnings:
        raise problem_error(shown, None, "diagnostics",
                            "--strict: " + "; ".join(warnings) + "; nothing written")
    if hit is None:
        _store(paths, key, posterior)
    return posterior


def checked_problem(paths: ScenarioPaths, inputs: Inputs, settings: SamplerSettings,
                    engine: str = "auto", work: WorkOf | None = None,
                    given: dict[str, bool] | None = None,
                    at_fixed_numbers: bool = False) -> tuple[Problem, str]:
    """(the prepared problem, the engine chosen), or the one-line refusal of `check_budgets`
    (the command's exact inferences: `work(problem, inputs, settings)`, by default a
    report's). `at_fixed_numbers`: every inference the command runs is at fixed CPT numbers
    (a sensitivity sweep), which the exact kernel computes on any scenario, parametric CPTs
    too: no engine to choose, the exact engine's budgets."""
    problem = prepare(inputs, given)
    chosen = "exact" if at_fixed_numbers else choose_engine(paths, problem, engine)
    check_budgets(paths, problem, chosen, (work or report_work)(problem, inputs, settings))
    return problem, chosen


def _load(paths: ScenarioPaths, key: str, n_nodes: int) -> Posterior | None:
    """The cached posterior under `key`, or None (absent, or not trustworthy)."""
    hit = load_posterior(paths.cache, key, n_nodes)
    if hit is None:
        return None
    p_yes, mcse, meta = hit
    means = meta.get("means")
    state_means = meta.get("state_means")
    return Posterior(p_yes, mcse, meta["diagnostics"], meta["engine"], meta["settings"],
                     np.array(means, dtype=float) if means is not None else None,
                     theta=meta.get("theta"),
                     state_means=None if state_means is None else np.array(state_means, dtype=float),
                     state_draws=meta.get("states"))


def _store(paths: ScenarioPaths, key: str, posterior: Posterior) -> None:
    store_posterior(paths.cache, key, posterior.p_yes, posterior.mcse,
                    {"diagnostics": posterior.diagnostics, "engine": posterior.engine,
                     "settings": posterior.settings, "means": [float(m) for m in posterior.means],
                     **({} if posterior.state_means is None else
                        {"state_means": [float(m) for m in posterior.state_means]})},
                    theta=posterior.theta, states=posterior.state_draws)


def cached_prior(paths: ScenarioPaths, inputs: Inputs, seed: int,
                 use_cache: bool = True, prepared: PreparedFit | None = None,
                 draws: int = PRIOR_DRAWS) -> Posterior | None:
    """The forecast before any evidence (behind each node's prior mean and interval), cached by
    the priors and the seed alone, so an evidence change does not redraw it (exact on table
    scenarios, prior draws of the parameters with parametric CPTs: see `prior_fit`)."""
    net = prepared.problem.net if prepared is not None else prepare(inputs).net
    priors_bytes = prepared.priors_bytes if prepared is not None else paths.priors.read_bytes()
    key = cache_key(priors_bytes, "prior", seed, {"prior_draws": draws})
    hit = _load(paths, key, net.n_nodes) if use_cache else None
    if hit is not None:
        return hit
    prior = prior_fit(net, seed, draws)
    _store(paths, key, prior)
    return prior


def prior_draws(settings: SamplerSettings | None) -> int:
    """The prior's draws: PRIOR_DRAWS, or fewer where --draws asks the fit for fewer (on a
    large network they cost as much as the posterior's, so the advice to lower --draws must
    lower both)."""
    return min(PRIOR_DRAWS, exact_fit_inferences(settings) - 1)


# A leave-out (an evidence item's or a cluster's by retraction, a resolution's in a folded
# batch) against one calibration of the network: pigs' 53 item leave-outs took 3.2 s against
# 13.2 s for a calibration each, its 44 resolution effects 2.6 s against 12.1 s (side by side)
LEAVE_OUT_SHARE = 0.25


def report_work(problem: Problem, inputs: Inputs, settings: SamplerSettings) -> Work:
    """The exact inferences a report of this problem runs: the posterior and prior draws, one
    leave-out per evidence item (and cluster), and the sensitivity and value-of-information
    clamps of the decisions section."""
    net = problem.net
    if net.all_fixed:            # exact means, point intervals: no draws (see fit)
        fits = 2
    else:
        fits = exact_fit_inferences(settings) + prior_draws(settings)
    # sensitivity and watch: on a yes/no network two inferences per free entry, on one with
    # k-state nodes a clamp per node-state (every row's effect read from its family); and a
    # watch clamp per state of each node
    watch = report_watch_clamps(net, problem.conditions)        # 0 where the report skips it
    if net.multistate:
        decisions = sensitivity_calibrations(net, problem.conditions) + watch
    else:
        decisions = 2 * len(net.free) + watch + 2
    draws = 0 if net.all_fixed else max(exact_fit_inferences(settings) - 1, prior_draws(settings))
    # each item's leave-out is retracted from one calibrated tree, and each resolution's effect
    # is a row of a batch that folds the other resolutions: a fraction of a calibration each
    items = math.ceil(LEAVE_OUT_SHARE * 2 * len(inputs.evidence))
    resolutions = math.ceil(LEAVE_OUT_SHARE * len(problem.conditions))
    # the prior runs without the resolutions, and a resolution's effect with half of them
    # (folded per batch): both costed on the network's own tree, the rest under the resolutions
    prior = 1 if net.all_fixed else prior_draws(settings)
    return Work("report", fits + items + resolutions + decisions,
                "intervals, influence, sensitivity", "--draws", draws,
                unconditioned=prior + resolutions)


def per_analyst(work: WorkOf, analysts: int) -> WorkOf:
    """`work` for a team of `analysts`: each analyst's fits and decisions are their own, so
    the budgets count them once per analyst (unchanged for one network)."""
    if analysts <= 1:
        return work

    def team(problem: Problem, inputs: Inputs, settings: SamplerSettings) -> Work:
        one = work(problem, inputs, settings)
        return Work(one.command, analysts * one.inferences,
                    f"{one.what}, for each of {analysts} analysts", one.fewer, one.draws,
                    None if one.unconditioned is None else analysts * one.unconditioned)
    return team


def fitted_pair(paths: ScenarioPaths, inputs: Inputs, seed: int, settings, prepared: PreparedFit,
                team, use_cache: bool, strict: bool) -> tuple[Posterior, Posterior]:
    """(posterior, prior) a report shows: the team's pool where the scenario has analysts,
    else the scenario's own fit and prior, through the cache (report and update alike)."""
    if team is not None:
        return team.posterior, team.prior
    posterior = cached_fit(paths, inputs, seed, settings, use_cache=use_cache, strict=strict,
                           engine=prepared.engine, prepared=prepared)
    return posterior, cached_prior(paths, inputs, seed, use_cache, prepared, prior_draws(settings))


def make_report(paths: ScenarioPaths, seed: int, settings=None, strict: bool = False,
                write: bool = True, use_cache: bool = True, engine: str = "auto",
                as_of: dt.date | None = None, analyst: str | None = None) -> ReportResult:
    """Fit the scenario (or reuse the cached fit of the same inputs), build the report, and
    write report.md/html/json atomically. With `as_of`, a replay: only the evidence and
    resolutions dated on or before it count, and the report says so. Where the scenario has
    analysts, the forecast is the team's pool (jobs/team.py); `analyst` reports one analyst
    alone, written under reports/<scenario>/analysts/<analyst>/.

    Under `strict`, sampling problems are a user error and nothing is written."""
    from .team import team_decisions, team_digest, team_fit, views_of, with_team

    inputs = load_inputs(paths, as_of, analyst)
    team_size = 0 if analyst is not None else len(analyst_ids(paths.analysts))
    prepared = prepare_fit(paths, inputs, settings or SamplerSettings(), engine,
                           per_analyst(report_work, team_size))
    if analyst is not None:
        prepared = PreparedFit(prepared.problem, prepared.engine, prepared.priors_bytes
                               + b"\0analyst\0" + paths.analyst_priors(analyst).read_bytes())
    team = None if analyst is not None else team_fit(paths, inputs, seed, prepared, settings,
                                                     use_cache, strict)
    posterior, prior = fitted_pair(paths, inputs, seed, settings, prepared, team, use_cache, strict)
    problem = prepared.problem
    views = views_of(problem, team)     # the team's influence: each leave-out pooled
    influences = pooled_influence(views, inputs.evidence)
    document = build_report(inputs, posterior, seed, replay=as_of, problem=problem,
                            prior=prior, influences=influences,
                            history=read_chart_history(paths.history) if analyst is None else None,
                            **({} if team is None else {"decide": team_decisions(team)}))
    if team is not None:
        document = with_team(document, team, prepared)
    document = with_recalibration(document, paths, analyst)
    if analyst is not None:
        document["analyst"] = analyst
        written = write_reports(paths.reports / "analysts" / analyst, document) if write else []
        return ReportResult(document, written)
    written = write_reports(paths.reports, document) if write else []
    if write and as_of is None:
        # what this report showed, for the next `update` to compare with (update.py holds
        # the snapshot's form; imported here because update builds on this module)
        from .update import snapshot_of

        write_shown(paths.shown, snapshot_of(document, inputs, influences, views,
                                             team_digest(paths)))
    return ReportResult(document, written)


def with_recalibration(document: ReportDocument, paths: ScenarioPaths,
                       analyst: str | None = None) -> ReportDocument:
    """Where reports/recalibration.json exists under the root, each yes/no question of the
    document gains its recalibrated forecast and the document what it is learned from
    (analysis/recalibration.py); otherwise `document` as it is."""
    from ..analysis.recalibration import apply_recalibration
    from ..io.recalibration import read_recalibration

    fitted = read_recalibration(paths.root)
    if fitted is None:
        return document
    return apply_recalibration(document, fitted, analyst or "team")
