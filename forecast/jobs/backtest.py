"""`forecast backtest`: replay a scenario at each distinct evidence date and score the replays,
so a scenario has a track record at once (README, "Time: overdue questions, replays and
backtests").

Each replay is the forecast `forecast report --as-of D` gives: only the evidence and
resolutions dated on or before D count (`io.replay`), fitted through the one seam with the
same engine, seed and settings. The replays share the network (one structure, new evidence
weights and conditions per date), so a backtest on the exact engine costs milliseconds per date.
They are scored exactly as `forecast score` scores the history (`jobs.score`): a replay scores
a resolved node when it is dated before the resolution. Nothing here prints.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
from dataclasses import dataclass
from pathlib import Path

from .. import MODEL_VERSION
from ..analysis.scoring import DEFAULT_BINS
from ..analysis.summaries import node_forecasts
from ..inference.problem import Problem, engine_for, fit, prepare
from ..inference.settings import SamplerSettings
from ..io.atomic import write_file_sets
from ..io.catalog import chosen_scenarios
from ..io.project import ScenarioPaths, load_inputs, resolve_root, scenario_paths
from ..io.replay import inputs_as_of, replay_dates
from ..model.network import conditions_of, node_log_weights
from ..model.spec import Inputs
from .budget import Work, check_budgets, choose_engine, exact_fit_inferences
from .score import ScoredForecast, score_document, scored_forecasts


def backtest_work(inputs: Inputs, settings: SamplerSettings | None = None) -> Work:
    """One exact fit per replay date."""
    return Work("backtest", len(replay_dates(inputs)) * exact_fit_inferences(
        settings or SamplerSettings(progress=False)), "one fit per replay date")


def replay_snapshots(inputs: Inputs, seed: int, settings: SamplerSettings | None = None,
                     engine: str = "auto", base: Problem | None = None) -> tuple[str, list[dict]]:
    """(engine used, one snapshot per replay date): per node the mean and interval as
    `report --as-of D` states them, and whether the node had resolved by D. `base`: the
    problem already prepared from `inputs`."""
    settings = settings or SamplerSettings(progress=False)
    base = prepare(inputs) if base is None else base   # the structure, shared by every replay
    chosen = engine_for(base, engine)
    node_ids = base.net.node_ids
    snapshots = []
    for day in replay_dates(inputs):
        replay = inputs_as_of(inputs, day)
        problem = dataclasses.replace(
            base, node_log_weights=node_log_weights(node_ids, replay.evidence),
            conditions=conditions_of(replay.resolutions))
        posterior = fit(problem, chosen, seed, settings)
        resolved = {r.node: r.state for r in replay.resolutions}
        snapshots.append({
            "as_of": day.isoformat(),
            "evidence_hash": replay.evidence_hash,
            "evidence_items": len({it.item_id for it in replay.evidence}),
            "nodes": [{"id": node_id, "mean": mean, "interval": bounds,
                       "resolved": resolved.get(node_id)}
                      for node_id, (mean, bounds) in zip(
                          node_ids, node_forecasts(posterior.p_yes, posterior.means), strict=True)],
        })
    return chosen, snapshots


def _scoring_view(snapshot: dict) -> dict:
    """A replay as `scored_forecasts` reads a history snapshot."""
    return {"as_of": dt.date.fromisoformat(snapshot["as_of"]), "generated_at": "",
            "evidence_hash": snapshot["evidence_hash"],
            "nodes": {n["id"]: {"mean": n["mean"], "resolved": n["resolved"]}
                      for n in snapshot["nodes"]}}


def _score(document: dict) -> dict:
    """The contract's score ({brier, log_score, n}) and the rest of `forecast score`'s figures."""
    return {"brier": document["brier"], "log_score": document["log_score"], "n": document["count"],
            "log_floor": document["log_floor"], "n_bins": document["n_bins"],
            "decomposition": document["decomposition"], "bins": document["bins"],
            "by_node": document["by_node"]}


@dataclass
class ScenarioBacktest:
    document: dict
    forecasts: list[ScoredForecast]


def backtest_scenario(paths: ScenarioPaths, seed: int, settings: SamplerSettings | None = None,
                      engine: str = "auto", n_bins: int = DEFAULT_BINS,
                      generated_at: dt.datetime | None = None) -> ScenarioBacktest:
    inputs = load_inputs(paths)
    base = prepare(inputs)
    chosen = choose_engine(paths, base, engine)
    check_budgets(paths, base, chosen, backtest_work(inputs, settings))
    _, snapshots = replay_snapshots(inputs, seed, settings, chosen, base)
    scenario = inputs.scenario
    forecasts = scored_forecasts(scenario.id, inputs.resolutions,
                                 [_scoring_view(s) for s in snapshots])
    scored = score_document([scenario.id], forecasts, {}, n_bins, generated_at)
    document = {
        "scenario": scenario.id,
        "title": scenario.title,
        "generated_at": scored["generated_at"],
        "model_version": MODEL_VERSION,
        "engine": chosen,
        "seed": seed,
        "evidence_hash": inputs.evidence_hash,
        "nodes": [{"id": n.id, "label": n.display, "role": n.role, "question": n.question,
                   "opens": n.opens.isoformat(), "deadline": n.deadline.isoformat()}
                  for n in scenario.nodes],
        "resolutions": [{"node": r.node, "outcome": r.state,
                         "date": r.date.isoformat(), "source": r.source}
                        for r in inputs.resolutions],
        "snapshots": snapshots,
        "score": _score(scored),
        "forecasts": scored["forecasts"],
        "empty_reason": _empty_reason(snapshots, inputs, forecasts),
    }
    return ScenarioBacktest(document, forecasts)


def _empty_reason(snapshots: list[dict], inputs: Inputs, forecasts: list) -> str:
    if forecasts:
        return ""
    if not snapshots:
        return "The scenario has no evidence yet, so there is nothing to replay."
    if not inputs.resolutions:
        return ("No question has resolved yet: record outcomes with `forecast resolve`, and the "
                "replays are scored against them.")
    return "Every resolution is dated on or before the first replay, so no replay came before one."


def pooled_document(ids: list[str], backtests: list[ScenarioBacktest], n_bins: int,
                    generated_at: dt.datetime | None = None) -> dict:
    """Every scenario's replays scored together (`--all`)."""
    forecasts = [f for b in backtests for f in b.forecasts]
    scored = score_document(ids, forecasts, {}, n_bins, generated_at)
    return {
        "scenarios": ids,
        "generated_at": scored["generated_at"],
        "model_version": MODEL_VERSION,
        "backtests": [{"scenario": b.document["scenario"], "title": b.document["title"],
                       "engine": b.document["engine"], "snapshots": b.document["snapshots"],
                       "score": {k: b.document["score"][k] for k in ("brier", "log_score", "n")}}
                      for b in backtests],
        "score": _score(scored),
        "forecasts": scored["forecasts"],
        "empty_reason": "" if forecasts else "No replay of any scenario came before a resolution.",
    }


@dataclass
class BacktestResult:
    document: dict
    written: list[Path]


def _files(directory: Path, document: dict) -> dict[Path, str]:
    from ..render.backtest import render_backtest_html

    return {directory / "backtest.json": json.dumps(document, indent=2, ensure_ascii=False) + "\n",
            directory / "backtest.html": render_backtest_html(document)}


def run_backtest(root: Path | str | None, scenario: str | None, every: bool = False,
                 seed: int = 0, settings: SamplerSettings | None = None, engine: str = "auto",
                 n_bins: int = DEFAULT_BINS, write: bool = True) -> BacktestResult:
    """Backtest one scenario (reports/<id>/backtest.{json,html}) or, with `every`, each scenario
    under the root and all of them pooled (reports/backtest.{json,html})."""
    root_dir = resolve_root(root)
    ids = chosen_scenarios(root_dir, scenario, every)
    moment = dt.datetime.now(dt.UTC)
    files: dict[Path, str] = {}
    backtests = []
    for scenario_id in ids:
        paths = scenario_paths(root, scenario_id)
        backtests.append(backtest_scenario(paths, seed, settings, engine, n_bins, moment))
        if write:
            files.update(_files(paths.reports, backtests[-1].document))
    document = backtests[0].document
    if every:
        document = pooled_document(ids, backtests, n_bins, moment)
        if write:
            files.update(_files(root_dir / "reports", document))
    if write:
        write_file_sets(files, "backtest")
    return BacktestResult(document, list(files))
