"""`forecast backtest`: replay a scenario at each distinct evidence date and score the replays,
so a scenario has a track record at once (README, "Time: overdue questions, replays and
backtests").

Each replay is the forecast `forecast report --as-of D` gives: only the evidence and
resolutions dated on or before D count (`io.replay`), fitted through the one seam with the
same engine, seed and settings. The replays share the network (one structure, new evidence
weights and conditions per date), so a backtest on the exact engine costs milliseconds per date.
They are scored exactly as `forecast score` scores the history (`jobs.score`): a replay scores
a resolved node when it is dated before the resolution. Each replay's fit is a task
(`forecast.parallel`): in process by default, on Dask workers with `--workers`/`--scheduler`, with
the same results; `--all` makes every scenario's replays one list of tasks. Nothing here prints.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from .. import MODEL_VERSION
from ..analysis.pooling import pool_posteriors
from ..analysis.scoring import DEFAULT_BINS
from ..analysis.summaries import interval, node_forecasts, state_view
from ..errors import fail
from ..inference.problem import Problem, fit, prepare
from ..inference.settings import SamplerSettings
from ..io.atomic import write_file_sets
from ..io.catalog import chosen_scenarios
from ..io.project import ScenarioPaths, load_inputs, resolve_root, scenario_paths
from ..io.replay import inputs_as_of, replay_dates
from ..io.resolutions import scoring_node
from ..model.network import conditions_of, node_log_weights, state_log_weights
from ..model.spec import Inputs
from ..parallel import IN_PROCESS, InProcess, Progress, Runner, Where, tasks
from .budget import Work, check_budgets, choose_engine, exact_fit_inferences
from .score import ScoredForecast, score_document, scored_forecasts
from .team import team_problems


def backtest_work(inputs: Inputs, settings: SamplerSettings | None = None,
                  fits_per_date: int = 1) -> Work:
    """One exact fit per replay date (per analyst, on a scenario with analysts)."""
    return Work("backtest", len(replay_dates(inputs)) * fits_per_date * exact_fit_inferences(
        settings or SamplerSettings(progress=False)), "one fit per replay date (and analyst)")


@dataclass(frozen=True)
class Replay:
    """One replay date: its problem (the base structure with that day's evidence weights and
    conditions), on a scenario with analysts each analyst's (their priors, the same weights and
    conditions), and what its snapshot says besides the forecasts."""

    day: dt.date
    problem: Problem
    evidence_hash: str
    evidence_items: int
    resolved: dict[str, str]
    team: tuple[tuple[str, Problem], ...] = ()


def replays(inputs: Inputs, base: Problem,
            team: Sequence[tuple[str, Problem]] = ()) -> list[Replay]:
    """One replay per distinct evidence date, sharing `base`'s network (`base`: the problem
    prepared from `inputs`), and each analyst's (`team`: (id, problem prepared from their
    view of `inputs`))."""
    node_ids = base.net.node_ids
    out = []
    for day in replay_dates(inputs):
        replay = inputs_as_of(inputs, day)
        day_data = {"node_log_weights": node_log_weights(node_ids, replay.evidence),
                    "conditions": conditions_of(replay.resolutions),
                    "state_log_weights": (state_log_weights(base.net, replay.evidence)
                                          if base.net.multistate else None)}
        out.append(Replay(day, dataclasses.replace(base, **day_data), replay.evidence_hash,
                          len({it.item_id for it in replay.evidence}),
                          {r.node: r.state for r in replay.resolutions},
                          tuple((name, dataclasses.replace(mine, **day_data))
                                for name, mine in team)))
    return out


@dataclass(frozen=True)
class ReplayFit:
    """What every replay's fit shares: the seed and the sampler settings."""

    seed: int
    settings: SamplerSettings


def replay_forecasts(shared: ReplayFit, task: tuple) -> tuple[list[tuple], dict[str, list]]:
    """One replay's task (engine, problem, team): per node, the mean and interval `report
    --as-of D` states (so every replay is fitted with the command's own seed, as that report
    would be), and on a question that is not yes/no, null ones and its distribution. With a
    team ((analyst, problem), ...), as that report does: each analyst's fit, the forecasts
    those of their logarithmic pool, and each analyst's own beside them."""
    engine, problem, team = task
    if not team:
        return _forecasts(problem.net, fit(problem, engine, shared.seed, shared.settings)), {}
    own = {name: fit(mine, engine, shared.seed, shared.settings) for name, mine in team}
    pooled = pool_posteriors(problem.net, list(own.values()))
    return (_forecasts(problem.net, pooled),
            {name: _forecasts(problem.net, posterior) for name, posterior in own.items()})


def _forecasts(net, posterior) -> list[tuple]:
    """Per node (mean, interval), or on a question that is not yes/no (None, None, rows)."""
    forecasts = node_forecasts(posterior.p_yes, posterior.means)
    if not net.node_states:
        return forecasts
    means, draws = state_view(net, posterior)
    bounds = interval(draws)
    out = []
    for v, (mean, limits) in enumerate(forecasts):
        states = net.states_of(v)
        if states == ("no", "yes"):
            out.append((mean, limits))
            continue
        rows = []
        for x, state in enumerate(states):
            i = int(net.state_offsets[v]) + x
            m = float(means[i])
            rows.append({"state": state, "mean": round(m, 6),
                         "interval": [round(min(float(bounds[i][0]), m), 6),
                                      round(max(float(bounds[i][1]), m), 6)]})
        out.append((None, None, rows))
    return out


def snapshot(replay: Replay, fitted: tuple[list[tuple], dict[str, list]]) -> dict:
    """A replay's snapshot: per node its mean and interval, and on a question that is not
    yes/no (mean and interval null) its `distribution`, as a history snapshot has them; a
    team's also `analysts` and per node `by_analyst` (each analyst's mean, or distribution),
    as a team's history snapshot has them."""
    forecasts, own = fitted
    node_ids = replay.problem.net.node_ids

    def by_analyst(v: int) -> dict:
        if not own:
            return {}
        return {"by_analyst": {name: mine[v][0] if mine[v][0] is not None else mine[v][2]
                               for name, mine in own.items()}}

    return {"as_of": replay.day.isoformat(),
            "evidence_hash": replay.evidence_hash,
            "evidence_items": replay.evidence_items,
            **({"analysts": list(own)} if own else {}),
            "nodes": [{"id": node_id, "mean": forecast[0], "interval": forecast[1],
                       "resolved": replay.resolved.get(node_id),
                       **({"distribution": forecast[2]} if len(forecast) > 2 else {}),
                       **by_analyst(v)}
                      for v, (node_id, forecast) in enumerate(zip(node_ids, forecasts,
                                                                  strict=True))]}


def _scoring_view(snapshot: dict) -> dict:
    """A replay as `scored_forecasts` reads a history snapshot."""
    return {"as_of": dt.date.fromisoformat(snapshot["as_of"]), "generated_at": "",
            "evidence_hash": snapshot["evidence_hash"],
            "nodes": {n["id"]: view for n in snapshot["nodes"]
                      if (view := scoring_node(n)) is not None}}


def _score(document: dict) -> dict:
    """The contract's score ({brier, log_score, n}) and the rest of `forecast score`'s figures."""
    return {"brier": document["brier"], "log_score": document["log_score"], "n": document["count"],
            "rps": document["rps"],
            "log_floor": document["log_floor"], "n_bins": document["n_bins"],
            "decomposition": document["decomposition"], "bins": document["bins"],
            "by_node": document["by_node"]}


def _team_scores(document: dict) -> dict:
    """A team's replays: `analysts` (each analyst's own replayed forecasts scored as the pool's
    are: count, brier, log_score, rps) and `pool`; {} without analysts."""
    return {key: document[key] for key in ("analysts", "pool") if key in document}


@dataclass
class ScenarioBacktest:
    document: dict
    forecasts: list[ScoredForecast]


@dataclass
class PlannedBacktest:
    """A scenario's backtest before its replays are fitted."""

    paths: ScenarioPaths
    inputs: Inputs
    engine: str
    replays: list[Replay]
    analyst: str | None = None      # one analyst alone (their priors), else the scenario's team

    @property
    def reports(self) -> Path:
        """Where its backtest is written: the scenario's reports, or one analyst's alone under
        reports/<scenario>/analysts/<analyst>/ (as `report --analyst` writes theirs)."""
        base = self.paths.reports
        return base if self.analyst is None else base / "analysts" / self.analyst


def plan_backtest(paths: ScenarioPaths, settings: SamplerSettings | None = None,
                  engine: str = "auto", analyst: str | None = None) -> PlannedBacktest:
    """Load, choose the engine, hold the work to the budgets, and list the replays (on a
    scenario with analysts, each replay fits every analyst and pools them, as report does;
    with `analyst`, that analyst's priors alone, as `report --analyst` does)."""
    inputs = load_inputs(paths, analyst=analyst)
    base = prepare(inputs)
    chosen = choose_engine(paths, base, engine)
    team = [] if analyst is not None else team_problems(paths, inputs)
    check_budgets(paths, base, chosen, backtest_work(inputs, settings, max(1, len(team))))
    return PlannedBacktest(paths, inputs, chosen, replays(inputs, base, team), analyst)


def scenario_document(planned: PlannedBacktest, snapshots: list[dict], seed: int,
                      n_bins: int = DEFAULT_BINS,
                      generated_at: dt.datetime | None = None) -> ScenarioBacktest:
    """The scenario's backtest from its replays' snapshots, scored."""
    inputs = planned.inputs
    scenario = inputs.scenario
    forecasts = scored_forecasts(scenario.id, inputs.resolutions,
                                 [_scoring_view(s) for s in snapshots],
                                 {n.id: n.ordered for n in scenario.nodes})
    scored = score_document([scenario.id], forecasts, {}, n_bins, generated_at)
    document = {
        "scenario": scenario.id,
        "title": scenario.title,
        **({} if planned.analyst is None else {"analyst": planned.analyst}),
        "generated_at": scored["generated_at"],
        "model_version": MODEL_VERSION,
        "engine": planned.engine,
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
        **_team_scores(scored),
        "forecasts": scored["forecasts"],
        "empty_reason": _empty_reason(snapshots, inputs, forecasts),
    }
    return ScenarioBacktest(document, forecasts)


def fit_replays(planned: list[PlannedBacktest], seed: int, settings: SamplerSettings | None = None,
                runner: Runner | None = None, progress: Progress | None = None) -> list[list[dict]]:
    """Every scenario's replays as one list of tasks (so `--all` spreads them over every
    worker); per scenario, its snapshots in date order."""
    items = [(p.engine, r.problem, r.team) for p in planned for r in p.replays]
    fitted = iter((runner or InProcess()).map(
        replay_forecasts, items, ReplayFit(seed, settings or SamplerSettings(progress=False)),
        progress))
    return [[snapshot(r, next(fitted)) for r in p.replays] for p in planned]


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
                       "score": {k: b.document["score"][k] for k in ("brier", "log_score", "n")},
                       **_team_scores(b.document)}
                      for b in backtests],
        "score": _score(scored),
        **_team_scores(scored),
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
                 n_bins: int = DEFAULT_BINS, write: bool = True, where: Where = IN_PROCESS,
                 progress: Progress | None = None, analyst: str | None = None) -> BacktestResult:
    """Backtest one scenario (reports/<id>/backtest.{json,html}) or, with `every`, each scenario
    under the root and all of them pooled (reports/backtest.{json,html}). With `analyst`, one
    analyst alone replayed and scored (reports/<id>/analysts/<analyst>/backtest.{json,html});
    an analyst is a scenario's, so not with `every`. The replays are tasks run `where` (in
    process by default); the documents are the same wherever they ran."""
    if analyst is not None and every:
        raise fail("--analyst", None, "analyst", "one scenario's analyst (not with --all)",
                   analyst)
    root_dir = resolve_root(root)
    ids = chosen_scenarios(root_dir, scenario, every)
    moment = dt.datetime.now(dt.UTC)
    planned = [plan_backtest(scenario_paths(root, scenario_id), settings, engine, analyst)
               for scenario_id in ids]
    with tasks(where) as runner:
        snapshots = fit_replays(planned, seed, settings, runner, progress)
    files: dict[Path, str] = {}
    backtests = []
    for plan, replayed in zip(planned, snapshots, strict=True):
        backtests.append(scenario_document(plan, replayed, seed, n_bins, moment))
        if write:
            files.update(_files(plan.reports, backtests[-1].document))
    document = backtests[0].document
    if every:
        document = pooled_document(ids, backtests, n_bins, moment)
        if write:
            files.update(_files(root_dir / "reports", document))
    if write:
        write_file_sets(files, "backtest")
    return BacktestResult(document, list(files))
