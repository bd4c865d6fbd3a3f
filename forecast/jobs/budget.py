"""The one guard every command that infers passes before its first inference: no network size
may end in a traceback or an OOM kill. Past a budget the command refuses in one line naming the
priors file, the treewidth and what to do (a `ForecastError`: exit 1, nothing written).

Two budgets (forecast/inference/exact.py): memory ($FORECAST_MEMORY_BUDGET: one inference's
largest tables, on the exact engine's junction tree and on the NUTS model alike) and work
($FORECAST_WORK_BUDGET: the estimated seconds of every exact inference the command will run).
Each command states its own work, next to it (`report_work`, `watch_work`, `backtest_work`...):
how many exact inferences, what they are for, and the option that lowers them."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..errors import ForecastError
from ..errors import problem as problem_error
from ..inference.exact import (
    MEMORY_BUDGET_ENV,
    WORK_BUDGET_ENV,
    ContradictoryEvidence,
    DrawsTooLarge,
    TooLarge,
    TooSlow,
    check_draws_size,
    check_size,
    check_work,
    memory_budget,
    posterior_means,
    state_means,
    work_budget,
)
from ..inference.problem import EXACT_DRAWS, NotExact, Problem, check_nuts_size, engine_for
from ..io.project import ScenarioPaths


@dataclass(frozen=True)
class Work:
    """The exact inferences a command will run: how many, what for (in words), and the
    option that lowers them ("" when none does)."""

    command: str          # "report", "whatif", "backtest"... as typed after `forecast`
    inferences: int
    what: str
    fewer: str = ""
    draws: int = 0        # the most conjugate draws made at once (their CPT cells are kept)
    # how many of the inferences run without the hard conditions (a report's prior), the
    # others under them, on the smaller tree of the observed nodes triangulated out; None:
    # every inference costed on the network's own tree (commands whose conditions vary)
    unconditioned: int | None = None


def exact_fit_inferences(settings) -> int:
    """One exact fit (`inference.problem.fit` on the exact engine): the posterior means, then
    one inference per posterior draw."""
    draws = settings.draws * settings.chains if settings is not None and settings.draws else EXACT_DRAWS
    return 1 + draws


def choose_engine(paths: ScenarioPaths, problem: Problem, engine: str) -> str:
    """"exact" or "nuts" for the user's --engine, or a one-line error naming the priors file
    when the exact engine cannot serve the scenario."""
    try:
        return engine_for(problem, engine)
    except NotExact as error:
        raise problem_error(paths.display(paths.priors), None, "engine", str(error)) from None


def check_budgets(paths: ScenarioPaths, problem: Problem, engine: str, work: Work) -> None:
    """Refuse, before anything is inferred or written, a command past a budget: a malformed
    budget variable; a network whose one inference does not fit the memory budget (the NUTS
    model's tables on the NUTS engine, and on every engine the junction tree every command also
    runs exact inference on); on the exact engine, `work` estimated past the work budget."""
    budgets_from_environment()
    net = problem.net
    shown = paths.display(paths.priors)
    try:
        if engine == "nuts":
            check_nuts_size(net)
        check_size(net)
        if engine == "exact":
            check_draws_size(net, work.draws)
            check_work(net, work.inferences, None, problem.conditions, work.unconditioned)
    except DrawsTooLarge as error:
        raise problem_error(shown, None, "network", draws_too_large_message(error, work)) from None
    except TooLarge as error:
        raise problem_error(shown, None, "network",
                            too_large_message(error, engine, _tables_to_shrink(net))) from None
    except TooSlow as error:
        raise problem_error(shown, None, "network",
                            too_slow_message(error, work, _tables_to_shrink(net))) from None
    check_possible(paths, problem)


def impossible(paths: ScenarioPaths) -> ForecastError:
    return problem_error(paths.display(paths.resolutions), None, "outcome",
                         "these resolutions (and conditions) cannot all hold: the priors' fixed "
                         "0/1 entries give them probability zero; nothing written")


def check_possible(paths: ScenarioPaths, problem: Problem) -> None:
    """Refuse resolutions (and --given conditions) of probability zero, which only a fixed 0 or
    1 in a CPT (a logical node of a textbook network) can make: every command that infers
    would otherwise stop inside the engine. One exact inference, and only then."""
    net = problem.net
    if not problem.conditions or not _certain(net):
        return
    try:
        if net.multistate:
            state_means(net, problem.state_log_weights, problem.conditions)
        else:
            posterior_means(net, problem.node_log_weights, problem.conditions)
    except ContradictoryEvidence:
        raise impossible(paths) from None


def _certain(net) -> bool:
    """Does some CPT entry, at its prior mean, rule a state out?"""
    if net.multistate:
        return bool(np.any(net.prior_cells == 0.0))
    means = net.prior_means
    return bool(np.any((means == 0.0) | (means == 1.0)))


def _tables_to_shrink(net) -> bool:
    """Does some node with two or more parents still have a full table? Only then is "use a
    parametric CPT" advice: a network whose wide nodes are all parametric already has it."""
    return any(len(parents) >= 2 and form == "table"
               for parents, form in zip(net.parents, net.forms, strict=True))


def budgets_from_environment() -> tuple[int, float]:
    """(memory bytes, work seconds), or a one-line error naming the malformed variable."""
    try:
        memory = memory_budget()
    except ValueError as error:
        raise _malformed(MEMORY_BUDGET_ENV, error) from None
    try:
        work = work_budget()
    except ValueError as error:
        raise _malformed(WORK_BUDGET_ENV, error) from None
    return memory, work


def _malformed(name: str, error: ValueError) -> ForecastError:
    return problem_error(name, None, None, str(error).split(": ", 1)[1])


PARAMETRIC_ADVICE = "use a parametric CPT (cpt = \"noisy_or\" or \"log_odds\"), "


def too_slow_message(error: TooSlow, work: Work, tables: bool = True) -> str:
    """The refusal past the work budget, in words: how long, why, and what to do instead
    (`tables`: some wide node has a full table, so a parametric CPT is advice)."""
    minutes = error.seconds / 60
    span = f"{minutes:.0f} minutes" if minutes >= 2 else f"{error.seconds:.0f} s"
    fewer = f"use fewer {work.fewer}, " if work.fewer else ""
    return (f"this network is too slow for the exact engine: treewidth {error.treewidth}, so each "
            f"exact inference takes about {error.row_seconds:.2g} s, and forecast {work.command} "
            f"needs about {error.rows:,} of them ({work.what}): about {span}, over the work "
            f"budget of {error.budget:.0f} s; give nodes fewer parents (or fewer shared parents), "
            f"{PARAMETRIC_ADVICE if tables else ''}{fewer}or raise "
            f"$FORECAST_WORK_BUDGET (seconds); nothing written")


def too_large_message(error: TooLarge, engine: str, tables: bool = True) -> str:
    """The refusal past the memory budget, in words: what it would take and what to do instead
    (`tables`: some wide node has a full table, so a parametric CPT is advice)."""
    return (f"this network is too wide for the {engine} engine: its largest table has treewidth "
            f"{error.treewidth} and needs about {_size(error.needed_bytes)}, over the memory budget "
            f"of {_size(error.max_bytes)}; give nodes fewer parents (or fewer shared parents), "
            f"{PARAMETRIC_ADVICE if tables else ''}or raise the budget with "
            f"$FORECAST_MEMORY_BUDGET (e.g. 8G); nothing written")


def draws_too_large_message(error: DrawsTooLarge, work: Work) -> str:
    """The refusal when one inference fits but the draws' CPT cells, side by side, do not."""
    fewer = f"lower {work.fewer} " if work.fewer else ""
    return (f"{error.n_draws:,} exact draws of this network's CPT rows need about "
            f"{_size(error.needed_bytes)}, over the memory budget of {_size(error.max_bytes)}; "
            f"{fewer}or raise the budget with $FORECAST_MEMORY_BUDGET (e.g. 8G); nothing written")


def _size(n_bytes: int) -> str:
    for unit, scale in (("TiB", 2**40), ("GiB", 2**30), ("MiB", 2**20)):
        if n_bytes >= scale:
            return f"{n_bytes / scale:.1f} {unit}"
    return f"{n_bytes / 2**10:.0f} KiB"
