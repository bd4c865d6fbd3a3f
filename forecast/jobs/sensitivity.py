"""`forecast sensitivity`: which prior each forecast hangs on. One-way sensitivity of each
target's forecast to each CPT entry (that entry at its Beta prior's 5% and 95% quantiles, every
other at its prior mean, the evidence and resolutions as they are), widest first. On a
parametric CPT the numbers are its base and its parents' numbers. Exact inference at fixed CPT
numbers, so numpy only on every scenario."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

from ..analysis.decisions import (
    SENSITIVITY_QUANTILES,
    parameter_meaning,
    sensitivity,
    sensitivity_rows,
)
from ..analysis.document import as_of_date
from ..analysis.state_decisions import (
    cell_meaning,
    free_cells,
    state_sensitivity,
    state_sensitivity_rows,
    target_column,
)
from ..inference.problem import Problem, prepare
from ..io.project import ScenarioPaths, load_inputs
from ..parallel import IN_PROCESS, Progress, Where, tasks
from .budget import Work, check_budgets
from .watch import choose_targets


def sensitivity_work(problem: Problem) -> Work:
    """One calibration at the prior means and two per uncertain CPT number."""
    net = problem.net
    numbers = len(free_cells(net)) if net.multistate else len(net.parameters.free)
    return Work("sensitivity", 2 * numbers + 1,
                "two per uncertain CPT number")


def sensitivity_document(paths: ScenarioPaths, targets: Sequence[str] = (),
                         as_of: dt.date | None = None, top: int | None = None,
                         where: Where = IN_PROCESS, progress: Progress | None = None) -> dict:
    """{"scenario", "as_of", "targets", "quantiles", "sensitivity": {target: rows}}, and
    `forecasts` (each target's forecast, of the state in `states` on a target that is not
    yes/no: its most likely state). The rows
    are computed in batches, as tasks run `where` (in process by default), with the same
    result wherever they ran."""
    inputs = load_inputs(paths, as_of)
    problem = prepare(inputs)
    net = problem.net
    check_budgets(paths, problem, "exact", sensitivity_work(problem))   # exact inference only
    chosen = choose_targets(inputs.scenario, problem.conditions, targets)
    if net.multistate:
        with tasks(where) as runner:
            result = state_sensitivity(net, problem.state_log_weights, problem.conditions,
                                       runner=runner, progress=progress)
        meanings = [cell_meaning(net, int(c)) for c in result.params]
        rows = {t: state_sensitivity_rows(net, result, net.index(t), top, meanings) for t in chosen}
        columns = {t: target_column(net, result.base, net.index(t)) for t in chosen}
    else:
        with tasks(where) as runner:
            result = sensitivity(net, problem.node_log_weights, problem.conditions,
                                 runner=runner, progress=progress)
        meanings = [parameter_meaning(net, int(i)) for i in result.params]
        rows = {t: sensitivity_rows(net, result, net.index(t), top, meanings) for t in chosen}
        columns = {t: (net.index(t), None) for t in chosen}
    return {"scenario": inputs.scenario.id,
            "as_of": (as_of or as_of_date(inputs)).isoformat(),
            "replay": as_of is not None,
            "targets": chosen,
            "quantiles": list(SENSITIVITY_QUANTILES),
            "forecasts": {t: round(float(result.base[columns[t][0]]), 6) for t in chosen},
            "states": {t: columns[t][1] for t in chosen if columns[t][1] is not None},
            "sensitivity": rows}
