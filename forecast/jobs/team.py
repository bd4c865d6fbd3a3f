"""Several analysts (priors/<scenario>/<analyst>.toml): each analyst's forecast is a fit of its
own through the one seam and cache (`cached_fit`), the team's forecast their logarithmic pool
(analysis/pooling.py), and the report document gains each analyst's numbers, the spread and
the questions the team disagrees on most, with the priors behind it."""

from __future__ import annotations

import copy
import hashlib
from dataclasses import dataclass
from functools import partial

from ..analysis.document import node_distributions
from ..analysis.pooling import POOL, pool_posteriors, spread
from ..analysis.report_document import ReportDocument
from ..analysis.summaries import node_forecasts
from ..analysis.team_decisions import team_report_decisions
from ..inference.problem import Posterior, Problem, prepare
from ..inference.settings import SamplerSettings
from ..io.analysts import Analyst
from ..io.project import ScenarioPaths, load_team
from ..model.network import Network
from ..model.spec import Inputs, Node, Prior
from .report import PreparedFit, cached_fit, cached_prior, prior_draws

DISAGREEMENT_QUESTIONS = 3      # the questions a report names as the team's widest split
DRIVING_PRIORS = 6              # per such question, the differing prior rows it lists


@dataclass(frozen=True)
class Member:
    analyst: Analyst
    posterior: Posterior
    prior: Posterior
    problem: Problem            # the analyst's view: their priors, the scenario's evidence


@dataclass(frozen=True)
class TeamFit:
    """The pooled posterior and prior, and every analyst's own."""

    posterior: Posterior
    prior: Posterior
    members: list[Member]

    @property
    def views(self) -> list[tuple[Network, dict]]:
        """Each analyst's network and conditions: what the team's influence is pooled from
        (analysis/summaries.py `pooled_influence`)."""
        return [(m.problem.net, m.problem.conditions) for m in self.members]


def views_of(problem: Problem, team: TeamFit | None) -> list[tuple[Network, dict]]:
    """The networks whose pooled forecast a report shows: the team's analysts', or `problem`'s
    alone (a scenario without analysts, or one analyst)."""
    return team.views if team is not None else [(problem.net, problem.conditions)]


def team_digest(paths: ScenarioPaths) -> str:
    """A hash of the analysts' files (empty without analysts): part of what a snapshot is of."""
    team = sorted(paths.analysts.glob("*.toml")) if paths.analysts.is_dir() else []
    if not team:
        return ""
    digest = hashlib.sha256()
    for path in team:
        digest.update(path.name.encode() + b"\0" + path.read_bytes() + b"\0")
    return "sha256:" + digest.hexdigest()


def team_fit(paths: ScenarioPaths, inputs: Inputs, seed: int, base: PreparedFit,
             settings: SamplerSettings | None = None, use_cache: bool = True,
             strict: bool = False, given: dict | None = None) -> TeamFit | None:
    """Each analyst's fit (on the engine chosen for the scenario, cached under the scenario's
    and the analyst's bytes; with `given`, a what-if's conditions), and their pool; None when
    the scenario has no analysts."""
    team = load_team(paths, inputs.scenario)
    if not team:
        return None
    members = []
    for analyst in team:
        mine = Inputs(analyst.scenario, inputs.evidence, inputs.resolutions, inputs.evidence_hash)
        prepared = PreparedFit(prepare(mine, given), base.engine,
                               base.priors_bytes + b"\0analyst\0" + analyst.path.read_bytes())
        posterior = cached_fit(paths, mine, seed, settings, given=given, use_cache=use_cache,
                               strict=strict, engine=base.engine, prepared=prepared)
        members.append(Member(analyst, posterior,
                              cached_prior(paths, mine, seed, use_cache, prepared,
                                           prior_draws(settings)), prepared.problem))
    net = base.problem.net
    return TeamFit(pool_posteriors(net, [m.posterior for m in members]),
                   pool_posteriors(net, [m.prior for m in members]), members)


def team_problems(paths: ScenarioPaths, inputs: Inputs) -> list[tuple[str, Problem]]:
    """(analyst, the problem of their view of `inputs`) for every analyst; [] without."""
    return [(a.id, prepare(Inputs(a.scenario, inputs.evidence, inputs.resolutions,
                                  inputs.evidence_hash)))
            for a in load_team(paths, inputs.scenario)]


def team_keys(analysts: list[str], analyst: str | None = None) -> dict:
    """What a decision document says of whose priors it is on: `analysts` and `pool` for a
    team, `analyst` for one analyst alone, nothing for a scenario without analysts."""
    if analyst is not None:
        return {"analyst": analyst}
    return {"analysts": analysts, "pool": POOL} if analysts else {}


def with_team(document: ReportDocument, team: TeamFit, base: PreparedFit) -> ReportDocument:
    """`document` (built on the pooled fit) with `analysts`, each node's `by_analyst`, `spread`
    and `pool`, and `disagreement`."""
    net = base.problem.net
    scenario = team.members[0].analyst.scenario
    own = []
    for m in team.members:
        forecasts = node_forecasts(m.posterior.p_yes, m.posterior.means)
        own.append((m.analyst.id, forecasts, node_distributions(net, scenario, m.posterior, m.prior)))
    nodes = []
    for v, node in enumerate(document["nodes"]):
        binary = node["mean"] is not None
        by_analyst = {a: forecasts[v][0] if binary else
                      [{"state": row["state"], "mean": row["mean"], "interval": row["interval"]}
                       for row in distributions[v]]
                      for a, forecasts, distributions in own}
        if binary:
            gap = spread([forecasts[v][0] for _a, forecasts, _d in own])
        else:
            gap = max(spread([dist[v][s]["mean"] for _a, _f, dist in own])
                      for s in range(len(node["states"])))
        nodes.append({**node, "by_analyst": by_analyst, "spread": gap, "pool": POOL,
                      **({"exact_mean": node["mean"]} if node["exact_mean"] is not None else {})})
    team_doc: ReportDocument = {**document, "nodes": nodes,
                                "analysts": [m.analyst.id for m in team.members], "pool": POOL,
                                "analyst_names": {m.analyst.id: m.analyst.name
                                                  for m in team.members}}
    team_doc["disagreement"] = disagreement(team_doc, [m.analyst for m in team.members])
    return team_doc


def team_decisions(team: TeamFit):
    """The report's `decide` for a team: its watch, sensitivity and page what-ifs are the
    team's (analysis/team_decisions.py)."""
    return partial(team_report_decisions, [(m.analyst.id, m.problem) for m in team.members])


def disagreement(document: ReportDocument, analysts: list[Analyst]) -> list[dict]:
    """The unresolved questions the team splits on most (widest spread first, at most
    DISAGREEMENT_QUESTIONS, none where they agree), each with the prior rows behind the split:
    the rows of the question and of its ancestors where the analysts' priors differ, with each
    analyst's number and rationale."""
    scenario = analysts[0].scenario
    ranked = sorted((n for n in document["nodes"] if n["resolved"] is None and n["spread"] > 0),
                    key=lambda n: (-n["spread"], n["id"]))[:DISAGREEMENT_QUESTIONS]
    out = []
    for node in ranked:
        rows = []
        for node_id in _self_and_ancestors(scenario, node["id"]):
            views = [a.scenario.node(node_id) for a in analysts]
            for r, first in enumerate(views[0].priors):
                row = [view.priors[r] for view in views]
                if len({_mean(p) for p in row}) > 1:
                    rows.append(_driving_row(views[0], first, r, row, analysts))
        out.append({"node": node["id"], "label": node["label"], "spread": node["spread"],
                    "by_analyst": copy.deepcopy(node["by_analyst"]),
                    "priors": rows[:DRIVING_PRIORS]})
    return out


def _self_and_ancestors(scenario, node_id: str) -> list[str]:
    """`node_id` first, then its ancestors nearest first."""
    order, frontier = [node_id], [node_id]
    while frontier:
        parents = [p for n in frontier for p in scenario.node(n).parents]
        frontier = [p for p in dict.fromkeys(parents) if p not in order]
        order += frontier
    return order


def _mean(prior: Prior) -> float | tuple[float, ...]:
    return round(prior.mean, 6) if prior.dirichlet is None and prior.fixed_row is None else tuple(
        round(x, 6) for x in prior.row_mean)


def _driving_row(node: Node, first: Prior, index: int, row: list[Prior],
                 analysts: list[Analyst]) -> dict:
    when = ("base" if node.parametric and index == 0 else f"cause {first.cause}"
            if node.parametric else ", ".join(f"{p} = {str(s).lower() if isinstance(s, bool) else s}"
                                              for p, s in first.when))
    return {"node": node.id, "when": when or "root",
            "by_analyst": {a.id: {"mean": _mean(p) if isinstance(_mean(p), float) else list(_mean(p)),
                                  "own": node.id in a.nodes, "rationale": p.rationale}
                           for a, p in zip(analysts, row, strict=True)}}
