"""One function per user job, composing readers, the core and writers. The CLI calls these;
tests can too. Nothing here prints."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path

from ..analysis.document import build_report
from ..errors import problem
from ..inference.problem import Posterior, fit
from ..inference.settings import SamplerSettings
from ..io.catalog import read_chart_history
from ..io.posterior_cache import cache_key, load_posterior, store_posterior
from ..io.project import ScenarioPaths, load_inputs
from ..model.spec import Inputs
from .report_files import write_reports


@dataclass
class ReportResult:
    document: dict
    written: list[Path]


def cached_fit(paths: ScenarioPaths, inputs: Inputs, seed: int,
               settings: SamplerSettings | None = None, given: dict[str, bool] | None = None,
               use_cache: bool = True, strict: bool = False) -> Posterior:
    """`fit`, reusing the posterior of an earlier fit of exactly the same inputs (priors,
    evidence, resolutions, seed, settings, conditions, model and package versions).

    Under `strict`, sampling problems are a user error, raised before anything is stored."""
    settings = settings or SamplerSettings()
    n_nodes = len(inputs.scenario.nodes)
    key = cache_key(paths.priors.read_bytes(), inputs.evidence_hash, seed, settings.describe(),
                    given)
    hit = load_posterior(paths.cache, key, n_nodes) if use_cache else None
    if hit is not None:
        p_yes, mcse, meta = hit
        posterior = Posterior(p_yes, mcse, meta["diagnostics"], meta["engine"], meta["settings"])
    else:
        posterior = fit(inputs, seed, settings, given=given)
    warnings = posterior.diagnostics["warnings"]
    if strict and warnings:
        raise problem(paths.display(paths.priors), None, "diagnostics",
                      "--strict: " + "; ".join(warnings) + "; nothing written")
    if hit is None:
        store_posterior(paths.cache, key, posterior.p_yes, posterior.mcse,
                        {"diagnostics": posterior.diagnostics, "engine": posterior.engine,
                         "settings": posterior.settings})
    return posterior


def make_report(paths: ScenarioPaths, seed: int, settings=None, strict: bool = False,
                write: bool = True, use_cache: bool = True,
                as_of: dt.date | None = None) -> ReportResult:
    """Fit the scenario (or reuse the cached fit of the same inputs), build the report, and
    write report.md/html/json atomically. With `as_of`, a replay: only the evidence and
    resolutions dated on or before it count, and the report says so.

    Under `strict`, sampling problems are a user error and nothing is written."""
    inputs = load_inputs(paths, as_of)
    posterior = cached_fit(paths, inputs, seed, settings, use_cache=use_cache, strict=strict)
    document = build_report(inputs, posterior, seed, replay=as_of)
    attach_history(document, paths)
    written = write_reports(paths.reports, document, paths.cache) if write else []
    return ReportResult(document, written)


def attach_history(document: dict, paths: ScenarioPaths) -> dict:
    """Add the scenario's forecast history (read tolerantly: it is only drawn) to the document,
    so the HTML and Markdown reports can chart it: `history` and `history_skipped` (lines that
    were not snapshots)."""
    history, document["history_skipped"] = read_chart_history(paths.history)
    if document.get("replay"):
        # A replay knows only what had been said by its date.
        history = [snap for snap in history if snap["as_of"] <= document["as_of"]]
    document["history"] = history
    return document
