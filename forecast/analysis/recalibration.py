"""Learning from the track record: logit P(outcome) = a_g + b_g logit(p), per group g (each
analyst, and the team's pool), and what it does to a report. Pure numpy: the hierarchical model
itself is fitted in inference/recalibration_model.py (its density in numba, sampled by nutpie).

Turner et al. (2014) and Satopaa et al. (2014) found recalibrating in log-odds cut Brier scores
by about a quarter; b < 1 tempers an overconfident forecaster, b > 1 extremises an
underconfident one (Mandel & Barnes 2014 found strategic intelligence forecasts underconfident).
"""

from __future__ import annotations

import copy
from dataclasses import dataclass

import numpy as np

TEAM = "team"
# Below this many resolved questions the fit would print noise: `forecast recalibrate` refuses.
MIN_QUESTIONS = 20
FOLDS = 5
FLOOR = 1e-6          # forecasts held inside (0, 1) before their logit


@dataclass(frozen=True)
class Pair:
    """One resolved question as one group forecast it: the forecast counted is the latest made
    before the question resolved (each question counts once, however many snapshots)."""

    group: str
    scenario: str
    node: str
    p: float
    outcome: bool

    @property
    def question(self) -> tuple[str, str]:
        return (self.scenario, self.node)


def logit(p) -> np.ndarray:
    p = np.clip(np.asarray(p, dtype=float), FLOOR, 1 - FLOOR)
    return np.log(p) - np.log1p(-p)


def expit(x) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-np.asarray(x, dtype=float)))


def pairs_from_snapshots(scenario: str, resolutions, snapshots: list[dict]) -> list[Pair]:
    """Every (group, resolved yes/no question) pair: the team's pool (a snapshot's `mean`) and
    each analyst's own number (`by_analyst`), from the latest snapshot dated before the
    resolution in which the question was still open."""
    latest: dict[tuple[str, str], tuple[str, str, float]] = {}
    outcome_of: dict[str, bool] = {}
    for r in resolutions:
        if isinstance(r.outcome, bool):
            outcome_of[r.node] = r.outcome
    for snap in snapshots:
        for r in resolutions:
            node = snap["nodes"].get(r.node)
            if (r.node not in outcome_of or node is None or node.get("resolved") is not None
                    or node.get("mean") is None or snap["as_of"] >= r.date):
                continue
            groups = {TEAM: node["mean"], **{a: v for a, v in (node.get("by_analyst") or {}).items()
                                             if isinstance(v, int | float)}}
            stamp = (str(snap["as_of"]), str(snap.get("generated_at", "")))
            for group, p in groups.items():
                key = (group, r.node)
                if key not in latest or stamp >= latest[key][:2]:
                    latest[key] = (*stamp, float(p))
    return [Pair(group, scenario, node, p, outcome_of[node])
            for (group, node), (_a, _g, p) in sorted(latest.items())]


def folds_of(pairs: list[Pair], folds: int = FOLDS) -> tuple[list[int], str]:
    """Each pair's held-out fold, and by what: by scenario when there are at least `folds`
    scenarios (a forecaster is then checked on scenarios it was not fitted on), else by
    question (every group's forecast of a question in the same fold), round robin in sorted
    order so the split is the same on every run."""
    scenarios = sorted({p.scenario for p in pairs})
    if len(scenarios) >= folds:
        index = {s: k % folds for k, s in enumerate(scenarios)}
        return [index[p.scenario] for p in pairs], "scenario"
    questions = sorted({p.question for p in pairs})
    index = {q: k % folds for k, q in enumerate(questions)}
    return [index[p.question] for p in pairs], "question"


def brier(p, y) -> float | None:
    p, y = np.asarray(p, dtype=float), np.asarray(y, dtype=float)
    return round(float(np.mean((p - y) ** 2)), 6) if len(p) else None


def recalibrate(p, a: float, b: float) -> np.ndarray:
    return expit(a + b * logit(p))


def summarise(groups: list[str], a_draws: np.ndarray, b_draws: np.ndarray,
              counts: dict[str, int], prob: float = 0.9) -> dict:
    """{"group": {"a", "b", "a_interval", "b_interval", "n"}} from posterior draws (S, G)."""
    tail = (1 - prob) / 2
    out = {}
    for g, group in enumerate(groups):
        a, b = a_draws[:, g], b_draws[:, g]
        out[group] = {"a": round(float(a.mean()), 6), "b": round(float(b.mean()), 6),
                      "a_interval": [round(float(q), 6) for q in np.quantile(a, [tail, 1 - tail])],
                      "b_interval": [round(float(q), 6) for q in np.quantile(b, [tail, 1 - tail])],
                      "n": counts.get(group, 0)}
    return out


def recalibrated_forecast(p: float, low: float, high: float, fitted: dict) -> dict:
    """A forecast through the group's recalibration: the mean at (a, b), the interval the
    forecast's own interval maps to with (a, b) anywhere in their intervals (so it carries the
    recalibration's uncertainty too), widened to hold the mean."""
    mean = float(recalibrate(p, fitted["a"], fitted["b"]))
    corners = [(a, b) for a in (*fitted["a_interval"], fitted["a"])
               for b in (*fitted["b_interval"], fitted["b"])]
    ends = [float(recalibrate(x, a, b)) for a, b in corners for x in (low, high)]
    return {"mean": round(mean, 6),
            "interval": [round(min(min(ends), mean), 6), round(max(max(ends), mean), 6)]}


def apply_recalibration(document: dict, fitted: dict, group: str) -> dict:
    """A new document whose yes/no questions carry `recalibrated` (open questions only: a
    resolved one is what happened) and the top level `recalibration` (what it is learned from).
    A group the fit does not know (an analyst with no track record yet) takes the team's fit;
    a fit without the team leaves the document as it was."""
    groups = fitted.get("groups", {})
    chosen = group if group in groups else TEAM
    if chosen not in groups:
        return document
    params = groups[chosen]
    out = copy.deepcopy(document)
    for node in out["nodes"]:
        if node["mean"] is not None and node["resolved"] is None:
            node["recalibrated"] = recalibrated_forecast(node["mean"], *node["interval"], params)
    held = fitted.get("held_out") or {}
    out["recalibration"] = {"fitted_on": fitted["fitted_on"], "n": fitted["n"], "group": chosen,
                            "raw_brier": held.get("raw_brier"),
                            "recalibrated_brier": held.get("recalibrated_brier")}
    return out
