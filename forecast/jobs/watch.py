"""`forecast watch`: which unresolved question is most worth watching (value of information),
and how firm that ranking is over what we do not know about the mechanism.

On the exact engine the values are exact and their spread comes from exact iid posterior draws
of the CPT entries; on a NUTS scenario every forecast behind a value is an average over the
sampler's draws (analysis/decisions.py). On a scenario with analysts, the team's values: each
analyst's on their own network, combined (analysis/team_decisions.py). Nothing here prints or
writes."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import replace

import numpy as np

from ..analysis.decisions import INTERVAL_PROB, value_of_information, watch_rows
from ..analysis.document import as_of_date
from ..analysis.state_decisions import state_value_of_information, state_watch_rows
from ..analysis.team_decisions import watch_table
from ..errors import fail
from ..inference.problem import Problem, exact_cpt_draws
from ..inference.settings import WATCH_DRAWS, SamplerSettings
from ..io.project import ScenarioPaths, load_inputs
from ..model.spec import Scenario
from .budget import Work
from .report import PreparedFit, cached_fit, prepare_fit
from .team import team_keys, team_problems


def choose_targets(scenario: Scenario, conditions, values: Sequence[str], option: str = "--target"
                   ) -> list[str]:
    """The `--target` nodes (each a node of the scenario, unresolved, listed once), or by
    default every unresolved consequence."""
    if not values:
        return [n.id for n in scenario.nodes if n.role == "consequence" and n.id not in conditions]
    targets: list[str] = []
    for value in values:
        node = value.strip()
        if node not in scenario.node_ids:
            raise fail(option, None, None, f"a node of {scenario.id} (one of "
                       f"{', '.join(sorted(scenario.node_ids))})", node)
        if node in conditions:
            raise fail(option, None, None, f"an unresolved node ({node} is resolved: its forecast "
                       "cannot move)", node)
        if node not in targets:
            targets.append(node)
    return targets


def spread_draws(net, cpt_draws: int) -> int:
    """The CPT draws behind the values' spread: none where every CPT entry is fixed (each draw
    would be the same table: the spread is the exact value, a point, as the report's intervals
    are)."""
    return 0 if net.all_fixed else cpt_draws


def watch_work(problem: Problem, cpt_draws: int, analysts: int = 1) -> Work:
    """The exact inferences of the values: the CPT draws, then at the prior means and at each
    draw, one unclamped and two clamped calibrations per open question (per analyst)."""
    net = problem.net
    cpt_draws = spread_draws(net, cpt_draws)
    clamps = sum(net.cards[v] for v in range(net.n_nodes)
                 if net.node_ids[v] not in problem.conditions)
    return Work("watch", analysts * (cpt_draws + (cpt_draws + 1) * (clamps + 1)),
                "a clamped inference per state of each open question, at each CPT draw"
                + (", per analyst" if analysts > 1 else ""), "--cpt-draws", cpt_draws)


def watch_document(paths: ScenarioPaths, targets: Sequence[str] = (), as_of: dt.date | None = None,
                   seed: int = 0, cpt_draws: int = WATCH_DRAWS, engine: str = "auto",
                   settings=None, use_cache: bool = True, analyst: str | None = None) -> dict:
    """Every unresolved node's value of information for the targets, best first. On a scenario
    with analysts the team's (each analyst's values on their own network, combined as
    analysis/team_decisions.py says), each row with `by_analyst` (each one's value and
    interval); `analyst` computes one analyst's alone."""
    inputs = load_inputs(paths, as_of, analyst)
    team = [] if analyst is not None else team_problems(paths, inputs)
    prepared = prepare_fit(paths, inputs, settings or SamplerSettings(), engine,
                           lambda problem, _i, _s: watch_work(problem, cpt_draws, max(1, len(team))))
    problem, chosen = prepared.problem, prepared.engine
    net = problem.net
    if net.multistate:      # never parametric: the Dirichlet rows integrate out, values are exact
        chosen = "exact"
    chosen_targets = choose_targets(inputs.scenario, problem.conditions, targets)
    target_index = [net.index(t) for t in chosen_targets]
    priors_bytes = prepared.priors_bytes
    if analyst is not None:
        priors_bytes += b"\0analyst\0" + paths.analyst_priors(analyst).read_bytes()
    own = {name: _values(paths, inputs, mine, chosen, target_index, seed, cpt_draws, settings,
                         use_cache, priors_bytes + b"\0analyst\0"
                         + paths.analyst_priors(name).read_bytes())
           for name, mine in team}
    if own:
        items = watch_table(net, own)
        result = next(iter(own.values()))
    else:
        result = _values(paths, inputs, problem, chosen, target_index, seed, cpt_draws, settings,
                         use_cache, priors_bytes)
        items = state_watch_rows(net, result) if net.multistate else watch_rows(net, result)
    return {"scenario": inputs.scenario.id,
            "as_of": (as_of or as_of_date(inputs)).isoformat(),
            "replay": as_of is not None,
            "engine": chosen,
            "targets": chosen_targets,
            "resolved": sorted(problem.conditions),
            # a network whose entries are all fixed has one table, not draws: its point spread
            # is exact
            "cpt_draws": 0 if result.draws is None or net.all_fixed else int(len(result.draws)),
            "interval_prob": INTERVAL_PROB,
            "watch": items,
            **team_keys(list(own), analyst)}


def _values(paths: ScenarioPaths, inputs, problem: Problem, chosen: str, target_index: list[int],
            seed: int, cpt_draws: int, settings, use_cache: bool, priors_bytes: bytes):
    """The watch result of one network (the scenario's, or an analyst's view of it), its CPT
    draws from `seed` afresh, so an analyst's values in the team's watch are their own."""
    net = problem.net
    if (chosen == "exact" or net.multistate) and not spread_draws(net, cpt_draws):
        exact = (state_value_of_information(net, problem.state_log_weights, problem.conditions,
                                            target_index) if net.multistate else
                 value_of_information(net, problem.node_log_weights, problem.conditions,
                                      target_index))
        return replace(exact, draws=exact.value[None])          # the one table's values
    if net.multistate:
        return state_value_of_information(net, problem.state_log_weights, problem.conditions,
                                          target_index,
                                          cell_draws=exact_cpt_draws(problem, seed, cpt_draws))
    if chosen == "exact":
        theta, integrated = exact_cpt_draws(problem, seed, cpt_draws), True
    else:
        # the cache key is the view's priors' bytes; `inputs` gives the evidence hash
        theta = _nuts_theta(paths, inputs, seed, settings, use_cache, net,
                            PreparedFit(problem, "nuts", priors_bytes))
        keep = np.unique(np.linspace(0, len(theta) - 1, min(cpt_draws, len(theta))).round().astype(int))
        theta, integrated = theta[keep], False
    return value_of_information(net, problem.node_log_weights, problem.conditions,
                                target_index, theta_draws=theta, integrated=integrated)


def _nuts_theta(paths, inputs, seed, settings, use_cache, net, prepared) -> np.ndarray:
    """The NUTS posterior's CPT draws, (draws, K), refitting when a cached fit lacks them."""
    posterior = cached_fit(paths, inputs, seed, settings, use_cache=use_cache, engine="nuts",
                           prepared=prepared)
    parameters = net.parameters
    if posterior.theta is None and not len(parameters.free):
        return parameters.theta(parameters.prior_means)[None]
    if posterior.theta is None:
        posterior = cached_fit(paths, inputs, seed, settings, use_cache=False, engine="nuts",
                               prepared=prepared)
    return np.asarray(posterior.theta, dtype=float).reshape(-1, net.n_entries)
