"""Decision support for a team of analysts (priors/<scenario>/<analyst>.toml): each analyst's
watch values and sensitivity sweep are computed on their own network, as `--analyst` computes
them, and combined here. numpy only, never PyMC.

Forecasts are pooled as the team's report pools them (the logarithmic pool, analysis/pooling.py):
a watch row's P(question) and the targets' forecasts if it resolved a given way are the pool of
the analysts' (so they equal `forecast whatif`'s team numbers), and a sensitivity row's low, high
and forecast are the pool of the analysts' forecasts with the number at each one's own quantile.

A watch value is the mean of the analysts' values, draw by draw. The pool is not a probability
model whose forecasts average to themselves over a question's outcomes, so a "value of
information" computed on pooled forecasts would not be an expected reduction of anyone's
uncertainty; each analyst's value is, and the team's is their mean."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import replace

import numpy as np

from ..inference.problem import Problem
from ..model.network import Network
from .decisions import (
    SENSITIVITY_QUANTILES,
    SENSITIVITY_SHOWN,
    WATCH_SHOWN,
    SensitivityResult,
    WatchResult,
    page_cpt,
    page_weights,
    page_whatif,
    parameter_meaning,
    report_watch_clamps,
    sensitivity,
    sensitivity_rows,
    value_of_information,
    watch_rows,
)
from .pooling import log_pool
from .report_document import DecisionFields, SensitivityRow, WatchRow
from .state_decisions import (
    StateWatchResult,
    cell_meaning,
    state_sensitivity,
    state_sensitivity_rows,
    state_value_of_information,
    state_watch_rows,
    target_column,
)


def _mean_draws(results) -> np.ndarray | None:
    draws = [r.draws for r in results]
    return None if any(d is None for d in draws) else np.mean(np.stack(draws), axis=0)


def pool_watch(net: Network, results: list) -> WatchResult | StateWatchResult:
    """The team's watch result from each analyst's (same candidates and targets, the same
    number of CPT draws): pooled forecasts, mean values."""
    first = results[0]
    per_target = np.mean(np.stack([r.per_target for r in results]), axis=0)
    if isinstance(first, WatchResult):
        return replace(first, p_yes=log_pool(np.stack([r.p_yes for r in results])),
                       given_yes=log_pool(np.stack([r.given_yes for r in results])),
                       given_no=log_pool(np.stack([r.given_no for r in results])),
                       per_target=per_target, draws=_mean_draws(results))
    offsets = np.asarray(net.state_offsets)
    p_state = tuple(log_pool(np.stack([r.p_state[i] for r in results]),
                             np.array([0, len(first.p_state[i])]))
                    for i in range(len(first.candidates)))
    given = tuple(log_pool(np.stack([r.given[i] for r in results]), offsets)
                  for i in range(len(first.candidates)))
    return replace(first, p_state=p_state, given=given,
                   base=log_pool(np.stack([r.base for r in results]), offsets),
                   per_target=per_target, draws=_mean_draws(results))


def pool_sensitivity(team: list[tuple[Network, SensitivityResult]]) -> SensitivityResult:
    """The team's sweep from each analyst's (their network, their sweep): for every number
    uncertain to any analyst, the pool of the analysts' forecasts with that number at each
    one's own low (high) quantile (an analyst who fixed it adds their forecast at the prior
    means, which it does not move); the number's quantiles are pooled the same way (a fixed
    number's value standing for both)."""
    net = team[0][0]
    params = np.unique(np.concatenate([r.params for _n, r in team])).astype(np.int64)
    offsets = np.asarray(net.state_offsets) if net.multistate else None
    lows, highs, q_low, q_high = [], [], [], []
    for mine, r in team:
        where = {int(p): i for i, p in enumerate(r.params)}
        rows = [where.get(int(p)) for p in params]
        value = mine.prior_cells[params] if mine.multistate else mine.parameters.prior_means[params]
        lows.append(_rows(r.base, r.low, rows))
        highs.append(_rows(r.base, r.high, rows))
        q_low.append(np.array([v if i is None else r.param_low[i] for i, v in zip(rows, value,
                                                                                strict=True)]))
        q_high.append(np.array([v if i is None else r.param_high[i] for i, v in zip(rows, value,
                                                                                  strict=True)]))
    return SensitivityResult(params, log_pool(np.stack(q_low)), log_pool(np.stack(q_high)),
                             log_pool(np.stack(lows), offsets), log_pool(np.stack(highs), offsets),
                             log_pool(np.stack([r.base for _n, r in team]), offsets))


def _rows(base: np.ndarray, swept: np.ndarray, rows: list[int | None]) -> np.ndarray:
    """(len(rows), n): each row of `swept`, or `base` where the analyst has no such row."""
    return np.array([base if i is None else swept[i] for i in rows]).reshape(len(rows), len(base))


def sweep(problem: Problem, runner=None, progress=None) -> SensitivityResult:
    """One network's one-way sensitivity sweep (yes/no or k-state), its batches run by
    `runner` (in process when not given)."""
    net = problem.net
    if net.multistate:
        return state_sensitivity(net, problem.state_log_weights, problem.conditions,
                                 runner=runner, progress=progress)
    return sensitivity(net, problem.node_log_weights, problem.conditions, runner=runner,
                       progress=progress)


def sensitivity_table(net: Network, result: SensitivityResult, targets: Sequence[str],
                      top: int | None, own: Mapping[str, SensitivityResult] | None = None
                      ) -> tuple[dict[str, list[SensitivityRow]], dict[str, tuple[int, str | None]]]:
    """Per target its rows, widest first (`top` of them), and the column they describe (the
    node-state, and the state's name on a target that is not yes/no); with `own` (each
    analyst's sweep, `result` their pool) each row gains `by_analyst`."""
    if net.multistate:
        meanings = [cell_meaning(net, int(c)) for c in result.params]
        rows = {t: state_sensitivity_rows(net, result, net.index(t), top, meanings) for t in targets}
        columns = {t: target_column(net, result.base, net.index(t)) for t in targets}
    else:
        meanings = [parameter_meaning(net, int(i)) for i in result.params]
        rows = {t: sensitivity_rows(net, result, net.index(t), top, meanings) for t in targets}
        columns = {t: (net.index(t), None) for t in targets}
    for t in targets if own else []:
        _sensitivity_by_analyst(rows[t], result, own, columns[t][0], top)
    return rows, columns


def _sensitivity_by_analyst(rows: list, result: SensitivityResult,
                            own: Mapping[str, SensitivityResult], column: int,
                            top: int | None) -> None:
    """Each row of the team's sweep gains `by_analyst`: {analyst: {"low", "high", "swing_pp",
    "entry_low", "entry_high"}}, that analyst's own sweep of the number (their quantiles; low =
    high = their forecast, and null quantiles, where they fixed it)."""
    for row, i in zip(rows, result.ranked(column)[:top], strict=True):
        param = int(result.params[i])
        row["by_analyst"] = {}
        for name, mine in own.items():
            hits = np.flatnonzero(mine.params == param)
            if len(hits):
                j = int(hits[0])
                low, high = float(mine.low[j, column]), float(mine.high[j, column])
                entry = (round(float(mine.param_low[j]), 6), round(float(mine.param_high[j]), 6))
            else:
                low = high = float(mine.base[column])
                entry = (None, None)
            row["by_analyst"][name] = {"low": round(low, 6), "high": round(high, 6),
                                       "swing_pp": round(100 * abs(high - low), 2),
                                       "entry_low": entry[0], "entry_high": entry[1]}


def watch_table(net: Network, own: Mapping[str, WatchResult | StateWatchResult],
                top: int | None = None) -> list[WatchRow]:
    """The team's watch rows (`pool_watch` of each analyst's result), best first, each with
    `by_analyst`: {analyst: {"value", and with CPT draws "interval"}}."""
    result = pool_watch(net, list(own.values()))
    rows = state_watch_rows(net, result, top) if net.multistate else watch_rows(net, result, top)
    for row in rows:
        node = net.index(row["node"])
        row["by_analyst"] = {name: _analyst_value(mine, node) for name, mine in own.items()}
    return rows


def _analyst_value(result, node: int) -> dict:
    """One analyst's own value of a question, and its interval over their CPT draws."""
    i = result.candidates.index(node)
    spread = result.spread()
    return {"value": round(float(result.value[i]), 10),
            **({} if spread is None else {"interval": [round(float(spread[i, 0]), 10),
                                                       round(float(spread[i, 1]), 10)]})}


def team_report_decisions(team: Sequence[tuple[str, Problem]], scenario, problem: Problem,
                          terms: Mapping[str, Sequence[float]]) -> DecisionFields:
    """`report_decisions` for a team (`team`: each analyst's id and problem; `problem` the
    scenario's): the watch and sensitivity rows are the team's, as `forecast watch` and
    `forecast sensitivity` give them (values without their spread), and the page's model
    carries each analyst's CPTs (`team_cpt`), so its what-ifs pool them as `forecast whatif`
    does."""
    net = problem.net
    targets = [n.id for n in scenario.nodes
               if n.role == "consequence" and n.id not in problem.conditions]
    shown: dict[str, list[SensitivityRow]] = {}
    watch: list[WatchRow] = []
    if targets:
        own = {name: sweep(mine) for name, mine in team}
        pooled = pool_sensitivity([(mine.net, own[name]) for name, mine in team])
        shown, _columns = sensitivity_table(net, pooled, targets, SENSITIVITY_SHOWN, own)
        if report_watch_clamps(net, problem.conditions) and (net.multistate or net.conjugate):
            index = [net.index(t) for t in targets]
            values = {name: (state_value_of_information(mine.net, mine.state_log_weights,
                                                        mine.conditions, index)
                             if net.multistate else
                             value_of_information(mine.net, mine.node_log_weights,
                                                  mine.conditions, index))
                      for name, mine in team}
            watch = watch_table(net, values, WATCH_SHOWN)
    page = page_whatif(net, page_weights(net, problem), problem.conditions, terms,
                       net.conjugate)
    if page["available"] and page["model"] is not None:
        page["model"]["team_cpt"] = [page_cpt(mine.net) for _name, mine in team]
    return {"watch": watch,
            "sensitivity": {"quantiles": list(SENSITIVITY_QUANTILES), "targets": shown},
            "whatif_page": page}
