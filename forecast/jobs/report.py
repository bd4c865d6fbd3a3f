"""One function per user job, composing readers, the core and writers. The CLI calls these;
tests can too. Nothing here prints."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..analysis.document import PRIOR_DRAWS, build_report, prior_fit
from ..analysis.report_document import ReportDocument
from ..errors import problem as problem_error
from ..inference.elimination import TooLarge
from ..inference.exact import (
    MEMORY_BUDGET_ENV,
    WORK_BUDGET_ENV,
    TooSlow,
    check_size,
    check_work,
    memory_budget,
    work_budget,
)
from ..inference.problem import NotExact, Posterior, engine_for, fit, prepare
from ..inference.settings import SamplerSettings
from ..io.catalog import read_chart_history
from ..io.posterior_cache import cache_key, load_posterior, store_posterior
from ..io.project import ScenarioPaths, load_inputs
from ..model.spec import Inputs
from .report_files import write_reports


@dataclass
class ReportResult:
    document: ReportDocument
    written: list[Path]


def cached_fit(paths: ScenarioPaths, inputs: Inputs, seed: int,
               settings: SamplerSettings | None = None, given: dict[str, bool] | None = None,
               use_cache: bool = True, strict: bool = False, engine: str = "auto") -> Posterior:
    """`fit` through the one seam, reusing the posterior of an earlier fit of exactly the same
    inputs (priors, evidence, resolutions, seed, settings, conditions, engine, model and
    package versions). Every command that needs a posterior comes here.

    A network past the memory budget, or an engine that cannot serve the scenario, is a user
    error naming the priors file, raised before anything is fitted or stored. Under `strict`,
    sampling problems are a user error, raised before anything is stored."""
    settings = settings or SamplerSettings()
    problem = prepare(inputs, given)
    shown = paths.display(paths.priors)
    try:
        chosen = engine_for(problem, engine)
    except NotExact as error:
        raise problem_error(shown, None, "engine", str(error)) from None
    for budget, name in ((memory_budget, MEMORY_BUDGET_ENV), (work_budget, WORK_BUDGET_ENV)):
        try:
            budget()
        except ValueError as error:
            raise problem_error(name, None, None, str(error).split(": ", 1)[1]) from None
    if chosen == "exact":
        try:
            check_size(problem.net)
            check_work(problem.net, report_rows(problem, inputs, settings))
        except TooLarge as error:
            raise problem_error(shown, None, "network", too_large_message(error, chosen)) from None
        except TooSlow as error:
            raise problem_error(shown, None, "network", too_slow_message(error)) from None
    n_nodes = len(inputs.scenario.nodes)
    key = cache_key(paths.priors.read_bytes(), inputs.evidence_hash, seed,
                    {**settings.describe(), "engine": chosen}, given)
    hit = _load(paths, key, n_nodes) if use_cache else None
    if hit is not None:
        posterior = hit
    else:
        try:
            posterior = fit(problem, chosen, seed, settings)
        except TooLarge as error:
            raise problem_error(shown, None, "network", too_large_message(error, chosen)) from None
    warnings = posterior.diagnostics["warnings"]
    if strict and warnings:
        raise problem_error(shown, None, "diagnostics",
                            "--strict: " + "; ".join(warnings) + "; nothing written")
    if hit is None:
        _store(paths, key, posterior)
    return posterior


def _load(paths: ScenarioPaths, key: str, n_nodes: int) -> Posterior | None:
    """The cached posterior under `key`, or None (absent, or not trustworthy)."""
    hit = load_posterior(paths.cache, key, n_nodes)
    if hit is None:
        return None
    p_yes, mcse, meta = hit
    means = meta.get("means")
    return Posterior(p_yes, mcse, meta["diagnostics"], meta["engine"], meta["settings"],
                     np.array(means, dtype=float) if means is not None else None,
                     theta=meta.get("theta"))


def _store(paths: ScenarioPaths, key: str, posterior: Posterior) -> None:
    store_posterior(paths.cache, key, posterior.p_yes, posterior.mcse,
                    {"diagnostics": posterior.diagnostics, "engine": posterior.engine,
                     "settings": posterior.settings, "means": [float(m) for m in posterior.means]},
                    theta=posterior.theta)


def cached_prior(paths: ScenarioPaths, inputs: Inputs, seed: int,
                 use_cache: bool = True) -> Posterior | None:
    """The forecast before any evidence (behind each node's prior mean and interval), cached by
    the priors and the seed alone, so an evidence change does not redraw it (exact on table
    scenarios, prior draws of the parameters with parametric CPTs: see `prior_fit`)."""
    problem = prepare(inputs)
    key = cache_key(paths.priors.read_bytes(), "prior", seed, {"prior_draws": PRIOR_DRAWS})
    hit = _load(paths, key, problem.net.n_nodes) if use_cache else None
    if hit is not None:
        return hit
    prior = prior_fit(problem.net, seed)
    _store(paths, key, prior)
    return prior


def report_rows(problem, inputs: Inputs, settings: SamplerSettings) -> int:
    """How many exact inferences a report of this problem runs: the posterior and prior draws,
    one leave-out per evidence item (and cluster), and the sensitivity and value-of-information
    clamps of the decisions section."""
    net = problem.net
    return (settings.draws * settings.chains + PRIOR_DRAWS + 2 * len(inputs.evidence)
            + 2 * len(net.free) + 2 * net.n_nodes + 2)


def too_slow_message(error: TooSlow) -> str:
    minutes = error.seconds / 60
    span = f"{minutes:.0f} minutes" if minutes >= 2 else f"{error.seconds:.0f} s"
    return (f"this network is too slow for the exact engine: treewidth {error.treewidth}, so each "
            f"exact inference takes about {error.row_seconds:.2g} s, and a report needs about "
            f"{error.rows:,} of them (intervals, influence, sensitivity): about {span}, over the "
            f"work budget of {error.budget:.0f} s; give nodes fewer parents (or fewer shared "
            f"parents), use a parametric CPT (cpt = \"noisy_or\" or \"log_odds\"), use fewer "
            f"--draws, or raise $FORECAST_WORK_BUDGET (seconds); nothing written")


def too_large_message(error: TooLarge, engine: str) -> str:
    """The refusal, in words: what it would take and what to do instead."""
    return (f"this network is too wide for the {engine} engine: its largest table has treewidth "
            f"{error.treewidth} and needs about {_size(error.needed_bytes)}, over the memory budget "
            f"of {_size(error.max_bytes)}; give nodes fewer parents (or fewer shared parents), "
            f"use a parametric CPT (cpt = \"noisy_or\" or \"log_odds\"), or raise the budget with "
            f"$FORECAST_MEMORY_BUDGET (e.g. 8G); nothing written")


def _size(n_bytes: int) -> str:
    for unit, scale in (("TiB", 2**40), ("GiB", 2**30), ("MiB", 2**20)):
        if n_bytes >= scale:
            return f"{n_bytes / scale:.1f} {unit}"
    return f"{n_bytes / 2**10:.0f} KiB"


def make_report(paths: ScenarioPaths, seed: int, settings=None, strict: bool = False,
                write: bool = True, use_cache: bool = True, engine: str = "auto",
                as_of: dt.date | None = None) -> ReportResult:
    """Fit the scenario (or reuse the cached fit of the same inputs), build the report, and
    write report.md/html/json atomically. With `as_of`, a replay: only the evidence and
    resolutions dated on or before it count, and the report says so.

    Under `strict`, sampling problems are a user error and nothing is written."""
    inputs = load_inputs(paths, as_of)
    posterior = cached_fit(paths, inputs, seed, settings, use_cache=use_cache, strict=strict,
                           engine=engine)
    document = build_report(inputs, posterior, seed, replay=as_of,
                            prior=cached_prior(paths, inputs, seed, use_cache),
                            history=read_chart_history(paths.history))
    written = write_reports(paths.reports, document) if write else []
    return ReportResult(document, written)
