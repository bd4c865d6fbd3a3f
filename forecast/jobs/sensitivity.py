"""`forecast sensitivity`: which prior each forecast hangs on. One-way sensitivity of each
target's forecast to each CPT entry (that entry at its Beta prior's 5% and 95% quantiles, every
other at its prior mean, the evidence and resolutions as they are), widest first. On a
parametric CPT the numbers are its base and its parents' numbers. Exact inference at fixed CPT
numbers, so numpy only on every scenario. On a scenario with analysts, the team's sweep: each
analyst's own, pooled (analysis/team_decisions.py)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

from ..analysis.decisions import SENSITIVITY_QUANTILES
from ..analysis.document import as_of_date
from ..analysis.state_decisions import sensitivity_calibrations
from ..analysis.team_decisions import pool_sensitivity, sensitivity_table, sweep
from ..inference.problem import Problem
from ..inference.settings import SamplerSettings
from ..io.project import ScenarioPaths, load_inputs
from ..parallel import IN_PROCESS, Progress, Where, tasks
from .budget import Work
from .report import prepare_fit
from .team import team_keys, team_problems
from .watch import choose_targets


def sensitivity_work(problem: Problem, analysts: int = 1) -> Work:
    """Per analyst: on a yes/no network one calibration at the prior means and two per
    uncertain CPT number; on one with k-state nodes one per node-state (`state_sensitivity`)."""
    net = problem.net
    if net.multistate:
        return Work("sensitivity", analysts * sensitivity_calibrations(net, problem.conditions),
                    "one per node-state" + (" and analyst" if analysts > 1 else ""))
    return Work("sensitivity", analysts * (2 * len(net.parameters.free) + 1),
                "two per uncertain CPT number" + (" and analyst" if analysts > 1 else ""))


def sensitivity_document(paths: ScenarioPaths, targets: Sequence[str] = (),
                         as_of: dt.date | None = None, top: int | None = None,
                         where: Where = IN_PROCESS, progress: Progress | None = None,
                         analyst: str | None = None) -> dict:
    """{"scenario", "as_of", "targets", "quantiles", "sensitivity": {target: rows}}, and
    `forecasts` (each target's forecast, of the state in `states` on a target that is not
    yes/no: its most likely state). The rows
    are computed in batches, as tasks run `where` (in process by default), with the same
    result wherever they ran. On a scenario with analysts the sweep is the team's (each
    analyst's own sweep, pooled: analysis/team_decisions.py), each row with `by_analyst`;
    `analyst` sweeps one analyst's priors alone."""
    inputs = load_inputs(paths, as_of, analyst)
    team = [] if analyst is not None else team_problems(paths, inputs)
    problem = prepare_fit(paths, inputs, SamplerSettings(), work=lambda problem, _i, _s:
                          sensitivity_work(problem, max(1, len(team))),
                          at_fixed_numbers=True).problem
    net = problem.net
    chosen = choose_targets(inputs.scenario, problem.conditions, targets)
    with tasks(where) as runner:
        own = {name: sweep(mine, runner, progress) for name, mine in team}
        result = (pool_sensitivity([(mine.net, own[name]) for name, mine in team]) if team
                  else sweep(problem, runner, progress))
    rows, columns = sensitivity_table(net, result, chosen, top, own)
    return {"scenario": inputs.scenario.id,
            "as_of": (as_of or as_of_date(inputs)).isoformat(),
            "replay": as_of is not None,
            "targets": chosen,
            "quantiles": list(SENSITIVITY_QUANTILES),
            "forecasts": {t: round(float(result.base[columns[t][0]]), 6) for t in chosen},
            "states": {t: columns[t][1] for t in chosen if columns[t][1] is not None},
            "sensitivity": rows,
            **team_keys(list(own), analyst)}
