"""The user's third job: score what the tool said beforehand.

`score_scenarios` pairs every resolved node with every snapshot of the forecast history made
before it resolved, and scores them (see `forecast.analysis.scoring`). Nothing here prints.
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from .. import MODEL_VERSION
from ..analysis.scoring import (
    DEFAULT_BINS,
    LOG_FLOOR,
    pair_scores,
    score_pairs,
)
from ..io.atomic import write_file_sets
from ..io.catalog import chosen_scenarios
from ..io.project import ScenarioPaths, load_inputs, resolve_root, scenario_paths
from ..io.resolutions import read_snapshots


def _clean(value: float):
    """JSON has no NaN: an undefined score is null."""
    return None if value != value else round(float(value), 6)


@dataclass(frozen=True)
class ScoredForecast:
    scenario: str
    node: str
    as_of: dt.date
    generated_at: str
    evidence_hash: str
    forecast: float                  # P(yes); on a question that is not yes/no, P(outcome)
    outcome: bool | str              # True/False, or the state that happened
    resolved_on: dt.date
    states: tuple[str, ...] = ()     # a question that is not yes/no: its states, declared order,
    distribution: tuple[float, ...] = ()    # and the forecast of each
    ordered: bool = False
    # a team's snapshot: each analyst's P(yes), or their distribution (the states' order)
    by_analyst: tuple[tuple[str, float | tuple[float, ...]], ...] = ()

    @property
    def scored(self) -> tuple:
        """(forecast, outcome) as `analysis.scoring.pair_scores` takes them."""
        if self.states:
            return self.distribution, self.states.index(str(self.outcome))
        return self.forecast, int(self.outcome)

    @property
    def outcome_name(self) -> str:
        if self.states:
            return str(self.outcome)
        return "yes" if self.outcome else "no"


def scored_forecasts(scenario: str, resolutions, snapshots: list[dict],
                     ordered: dict[str, bool] | None = None) -> list[ScoredForecast]:
    """Every (resolved node, snapshot) pair where the snapshot was made before the resolution:
    its as-of date earlier than the resolution date, and the node not yet resolved in it. A
    snapshot node with a `distribution` ({state: mean}) is a question that is not yes/no;
    `ordered` says which nodes' states are ordered."""
    pairs = []
    for r in sorted(resolutions, key=lambda r: r.node):
        for snap in snapshots:
            node = snap["nodes"].get(r.node)
            if node is None or node["resolved"] is not None or snap["as_of"] >= r.date:
                continue
            if node.get("distribution"):
                states = tuple(node["distribution"])
                if r.state not in states:
                    continue
                probs = tuple(float(p) for p in node["distribution"].values())
                mine = tuple(sorted((a, tuple(float(d[s]) for s in states))
                                    for a, d in (node.get("by_analyst") or {}).items()
                                    if isinstance(d, dict) and set(d) == set(states)))
                pairs.append(ScoredForecast(
                    scenario, r.node, snap["as_of"], snap["generated_at"], snap["evidence_hash"],
                    probs[states.index(r.state)], r.state, r.date, states, probs,
                    bool((ordered or {}).get(r.node)), mine))
            else:
                pairs.append(ScoredForecast(
                    scenario, r.node, snap["as_of"], snap["generated_at"], snap["evidence_hash"],
                    node["mean"], r.outcome, r.date,
                    by_analyst=tuple(sorted((a, p) for a, p in (node.get("by_analyst") or {}).items()
                                            if isinstance(p, float)))))
    return pairs


def score_document(scenarios: list[str], forecasts: list[ScoredForecast], skipped: dict[str, int],
                   n_bins: int = DEFAULT_BINS, generated_at: dt.datetime | None = None,
                   as_of: dt.date | None = None) -> dict:
    summary = score_pairs([x.scored[0] for x in forecasts], [x.scored[1] for x in forecasts],
                          [x.ordered for x in forecasts], n_bins)
    d = summary.decomposition
    by_node = []
    for key in sorted({(x.scenario, x.node) for x in forecasts}):
        group = [x for x in forecasts if (x.scenario, x.node) == key]
        last = max(group, key=lambda x: (x.as_of, x.generated_at))
        brier, logs, rps = pair_scores([x.scored[0] for x in group], [x.scored[1] for x in group],
                                       [x.ordered for x in group])
        entry = {
            "scenario": key[0], "node": key[1], "outcome": group[0].outcome_name,
            "resolved_on": group[0].resolved_on.isoformat(), "count": len(group),
            "last_forecast": round(last.forecast, 6),
            "brier": _clean(np.mean(brier)), "log_score": _clean(np.mean(logs)),
        }
        if last.states:
            entry["distribution"] = _rounded(last)
            entry["rps"] = _clean(np.mean(rps)) if last.ordered else None
        by_node.append(entry)
    return {
        "scenarios": scenarios,
        "generated_at": (generated_at or dt.datetime.now(dt.UTC)).isoformat(timespec="seconds"),
        "model_version": MODEL_VERSION,
        "as_of": as_of.isoformat() if as_of else None,
        "count": summary.count,
        "brier": _clean(summary.brier),
        "log_score": _clean(summary.log_score),
        "rps": _clean(summary.rps),
        "log_floor": LOG_FLOOR,
        "n_bins": n_bins,
        "decomposition": {"reliability": _clean(d.reliability), "resolution": _clean(d.resolution),
                          "uncertainty": _clean(d.uncertainty), "within_bin": _clean(d.within_bin),
                          "base_rate": _clean(d.base_rate), "brier": _clean(d.brier)},
        "bins": [{"low": b.low, "high": b.high, "count": b.count,
                  "mean_forecast": _clean(b.mean_forecast), "observed": _clean(b.observed),
                  "se": _clean(b.se), "z": _clean(b.z)} for b in summary.bins],
        "by_node": by_node,
        "forecasts": [_forecast_row(x) for x in forecasts],
        "skipped_lines": {k: v for k, v in skipped.items() if v},
        **analyst_scores(forecasts),
        "empty_reason": "" if forecasts else (
            "No resolved node has a snapshot in the forecast history made before it resolved: "
            "record outcomes with `forecast resolve` and snapshots with `forecast update`."),
    }


def _rounded(x: ScoredForecast) -> dict[str, float]:
    return {state: round(p, 6) for state, p in zip(x.states, x.distribution, strict=True)}


def _forecast_row(x: ScoredForecast) -> dict:
    """One scored pair: `forecast` is P(yes), or on a question that is not yes/no P(outcome),
    with the whole `distribution` and (ordered states) its `rps`."""
    row = {"scenario": x.scenario, "node": x.node, "as_of": x.as_of.isoformat(),
           "generated_at": x.generated_at, "evidence_hash": x.evidence_hash,
           "forecast": round(x.forecast, 6), "outcome": x.outcome_name,
           "resolved_on": x.resolved_on.isoformat()}
    if not x.states:
        return {**row, "brier": _clean((x.forecast - x.outcome) ** 2)}
    brier, _logs, rps = pair_scores([x.distribution], [x.scored[1]], [x.ordered])
    return {**row, "distribution": _rounded(x), "brier": _clean(brier[0]),
            **({"rps": _clean(rps[0])} if x.ordered else {})}


def analyst_scores(forecasts: list[ScoredForecast]) -> dict:
    """With analysts' numbers in the history: `analysts`, each analyst's Brier and log score
    (and RPS, null without ordered questions) over the pairs they forecast, scored exactly as
    the pool's are (the top-level scores are the team's pool); {} without."""
    names = sorted({a for x in forecasts for a, _p in x.by_analyst})
    if not names:
        return {}
    out = {}
    for name in names:
        mine = [(dict(x.by_analyst)[name], x) for x in forecasts if name in dict(x.by_analyst)]
        brier, logs, rps = pair_scores([p for p, _x in mine], [x.scored[1] for _p, x in mine],
                                       [x.ordered for _p, x in mine])
        ranked = rps[~np.isnan(rps)]
        out[name] = {"count": len(mine), "brier": _clean(np.mean(brier)),
                     "log_score": _clean(np.mean(logs)),
                     "rps": _clean(np.mean(ranked)) if len(ranked) else None}
    return {"analysts": out, "pool": "log_odds"}


@dataclass
class ScoreResult:
    document: dict
    written: list[Path]


def _scenario_forecasts(paths: ScenarioPaths, as_of: dt.date | None = None
                        ) -> tuple[list[ScoredForecast], int, dict | None]:
    """Scored pairs of one scenario, the unreadable history lines, and (when it has
    resolutions but nothing to score) why not; with `as_of`, only the resolutions (and so the
    snapshots before them) dated on or before it: the track record as it stood that day."""
    inputs = load_inputs(paths, as_of)
    snapshots, skipped = read_snapshots(paths.history)
    if as_of is not None:
        snapshots = [snap for snap in snapshots if snap["as_of"] <= as_of]
    forecasts = scored_forecasts(paths.scenario_id, inputs.resolutions, snapshots,
                                 {n.id: n.ordered for n in inputs.scenario.nodes})
    unscored = None
    if inputs.resolutions and not forecasts:
        sid = paths.scenario_id
        reason = (f"no snapshot in {paths.display(paths.history)}" if not snapshots else
                  f"none of its {len(snapshots)} snapshots is dated before a resolution")
        unscored = {"scenario": sid, "resolutions": len(inputs.resolutions),
                    "snapshots": len(snapshots),
                    "reason": f"{reason}: `forecast update --scenario {sid}` records the "
                              f"forecast from now on; `forecast backtest --scenario {sid}` "
                              "replays and scores it at each evidence date"}
    return forecasts, skipped, unscored


def _files(directory: Path, document: dict) -> dict[Path, str]:
    from ..render.score import render_score_html

    return {directory / "score.json": json.dumps(document, indent=2, ensure_ascii=False) + "\n",
            directory / "score.html": render_score_html(document)}


def score_scenarios(root: Path | str | None, scenario: str | None, every: bool = False,
                    n_bins: int = DEFAULT_BINS, write: bool = True,
                    as_of: dt.date | None = None) -> ScoreResult:
    """Score one scenario (reports/<id>/score.{json,html}) or, with `every`, each scenario
    under the root and all of them pooled (reports/score.{json,html})."""
    root_dir = resolve_root(root)
    ids = chosen_scenarios(root_dir, scenario, every)
    files: dict[Path, str] = {}
    pooled: list[ScoredForecast] = []
    skipped: dict[str, int] = {}
    unscored: list[dict] = []
    for scenario_id in ids:
        paths = scenario_paths(root, scenario_id)
        forecasts, skipped[scenario_id], why = _scenario_forecasts(paths, as_of)
        pooled += forecasts
        unscored += [why] if why else []
        document = score_document([scenario_id], forecasts, {scenario_id: skipped[scenario_id]},
                                  n_bins, as_of=as_of)
        document["unscored"] = [why] if why else []
        files.update(_files(paths.reports, document))
    if every:
        document = score_document(ids, pooled, skipped, n_bins, as_of=as_of)
        document["unscored"] = unscored
        files.update(_files(root_dir / "reports", document))
    if write:
        write_file_sets(files, "score")
    return ScoreResult(document, list(files) if write else [])
