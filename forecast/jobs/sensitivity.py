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
from ..inference.problem import Problem, prepare
from ..io.project import ScenarioPaths, load_inputs
from ..parallel import IN_PROCESS, Progress, Where, tasks
from .budget import Work, check_budgets
from .watch import choose_targets


def sensitivity_work(problem: Problem) -> Work:
    """One calibration at the prior means and two per uncertain CPT number."""
    return Work("sensitivity", 2 * len(problem.net.parameters.free) + 1,
                "two per uncertain CPT number")


def sensitivity_document(paths: ScenarioPaths, targets: Sequence[str] = (),
                         as_of: dt.date | None = None, top: int | None = None,
                         where: Where = IN_PROCESS, progress: Progress | None = None) -> dict:
    """{"scenario", "as_of", "targets", "quantiles", "sensitivity": {target: rows}}. The rows
    are computed in batches, as tasks run `where` (in process by default), with the same
    result wherever they ran."""
    inputs = load_inputs(paths, as_of)
    problem = prepare(inputs)
    net = problem.net
    check_budgets(paths, problem, "exact", sensitivity_work(problem))   # exact inference only
    chosen = choose_targets(inputs.scenario, problem.conditions, targets)
    with tasks(where) as runner:
        result = sensitivity(net, problem.node_log_weights, problem.conditions, runner=runner,
                             progress=progress)
    meanings = [parameter_meaning(net, int(i)) for i in result.params]
    return {"scenario": inputs.scenario.id,
            "as_of": (as_of or as_of_date(inputs)).isoformat(),
            "replay": as_of is not None,
            "targets": chosen,
            "quantiles": list(SENSITIVITY_QUANTILES),
            "forecasts": {t: round(float(result.base[net.index(t)]), 6) for t in chosen},
            "sensitivity": {t: sensitivity_rows(net, result, net.index(t), top, meanings)
                            for t in chosen}}
