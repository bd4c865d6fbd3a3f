"""Decision support, as pure computations over the network (numpy alone, with
forecast.model.beta for Beta quantiles; never PyMC): what to watch (value of information), what
each forecast hangs on (one-way sensitivity to the CPT entries), and the model as data for the
report page's what-if.

Value of information. If node v were resolved next, a target t's forecast would move to
P(t | evidence, v = yes) or P(t | evidence, v = no), with probabilities P(v | evidence). The
expected reduction of t's Brier uncertainty P(t)(1 - P(t)) is the variance of that forecast
over v's outcome,

    P(v)(1 - P(v)) (P(t | v = yes) - P(t | v = no))^2,

and v's value is its sum over the targets other than v. Every term is exact inference on the
prior-mean network (the CPT entries integrate out in closed form), two clamped calibrations of
the junction tree per candidate, all in one batched call with per-row condition masks.

Its spread over what we do not know about the mechanism: the same value with the CPT entries at
each of a set of posterior draws theta_d, computed by the same batched call per draw. Where the
entries do not integrate out (NUTS scenarios), the forecasts are averages over the draws:
P(v) = mean_d P(v | theta_d) and P(t | v) = mean_d [P(v | theta_d) P(t | v, theta_d)] / P(v)
(the posterior of theta given v is the posterior given the evidence reweighted by P(v | theta)).

Sensitivity. A target's forecast with one CPT entry at its Beta prior's 5% (then 95%) quantile
and every other entry at its prior mean, with the evidence and resolutions as they are: batched
calibrations of 2 rows per free entry, in fixed batches that can run as tasks on Dask.

The page's model: the prior-mean CPT cells, the evidence per state, the conditions and the exact
engine's elimination order, from which report.html builds its own junction tree. One module past
400 lines because `report_decisions` makes all three from one prepared problem.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import cast

import numpy as np

from ..inference.exact import SECONDS_PER_CELL, memory_budget, structure_of, theta_marginals
from ..model.beta import beta_ppf
from ..model.network import HARD_EXCLUDED, Network
from ..parallel import InProcess
from .report_document import DecisionFields, PageModel, SensitivityRow, WatchRow, WhatifPage

INTERVAL_PROB = 0.9              # the spread of a node's value: its 5%-95% over the CPT draws
SENSITIVITY_QUANTILES = (0.05, 0.95)
PAGE_CELLS = 1 << 21             # entries of all the report page's clique tables together
SENSITIVITY_SHOWN = 5            # entries per consequence kept in the report document
WATCH_SHOWN = 5                  # questions worth watching kept in the report document
_OUTPUT_CELLS = 1 << 22          # rows x nodes of marginals held at once (32 MB)


# ------------------------------------------------------------------------ value of information

class WatchRanking:
    """How a watch result ranks its candidates, from `candidates`, `per_target` (U, T) and
    `draws` (D, U) or None: shared by yes/no networks and those with more outcomes."""

    @property
    def value(self) -> np.ndarray:
        return self.per_target.sum(axis=1)

    def spread(self, prob: float = INTERVAL_PROB) -> np.ndarray | None:
        """(U, 2): each value's equal-tailed interval over the CPT draws."""
        if self.draws is None:
            return None
        tail = (1 - prob) / 2
        return np.quantile(self.draws, [tail, 1 - tail], axis=0).T

    def top_share(self) -> np.ndarray | None:
        """(U,): the share of CPT draws under which each candidate is the most valuable."""
        if self.draws is None or not len(self.candidates):
            return None
        best = np.argmax(self.draws, axis=1)
        return np.bincount(best, minlength=len(self.candidates)) / len(self.draws)

    def ranking(self) -> list[int]:
        """Positions in `candidates`, most valuable first (ties: scenario order)."""
        return sorted(range(len(self.candidates)), key=lambda i: (-self.value[i], self.candidates[i]))

    def ranked_rows(self, node_ids: Sequence[str], top: int | None = None):
        """Best first, (position, the other targets' positions, the row's head): the watch
        shape's keys every network gives ("node", "value", "per_target", and with CPT draws
        "interval" and "top_share"); each network's rows add their forecasts to it."""
        spread, best = self.spread(), self.top_share()
        names = [node_ids[t] for t in self.targets]
        for i in self.ranking()[:top]:
            v = self.candidates[i]
            others = [j for j, t in enumerate(self.targets) if t != v]
            row: dict = {"node": node_ids[v],
                         "value": round(float(self.value[i]), 10),
                         "per_target": {names[j]: round(float(self.per_target[i, j]), 10)
                                        for j in others}}
            if spread is not None:
                row["interval"] = [round(float(spread[i, 0]), 10), round(float(spread[i, 1]), 10)]
                row["top_share"] = round(float(best[i]), 4)
            yield i, others, row


@dataclass(frozen=True)
class WatchResult(WatchRanking):
    """The value of resolving each candidate next. Candidates and targets are node indices;
    arrays are indexed [candidate] or [candidate, target]."""

    candidates: tuple[int, ...]
    targets: tuple[int, ...]
    p_yes: np.ndarray            # (U,) P(candidate = yes | evidence)
    given_yes: np.ndarray        # (U, T) P(target | evidence, candidate = yes)
    given_no: np.ndarray         # (U, T) P(target | evidence, candidate = no)
    per_target: np.ndarray       # (U, T) each target's term (0 where target == candidate)
    draws: np.ndarray | None     # (D, U) the value under each CPT draw, or None


def clamp_masks(base_mask: np.ndarray, candidates: Sequence[int]) -> np.ndarray:
    """(2U, n, 2) condition masks: row 2i clamps candidate i to yes, row 2i + 1 to no, each on
    top of the base conditions (resolutions)."""
    masks = np.repeat(np.asarray(base_mask, dtype=float)[None], 2 * len(candidates), axis=0)
    for i, v in enumerate(candidates):
        masks[2 * i, v] = (HARD_EXCLUDED, 0.0)        # v = yes: rule out no
        masks[2 * i + 1, v] = (0.0, HARD_EXCLUDED)    # v = no: rule out yes
    return masks


def _open_candidates(p_yes: np.ndarray, candidates: Sequence[int]) -> np.ndarray:
    """Which candidates have both outcomes possible: clamping one that cannot happen would be
    contradictory evidence, and its value is 0 anyway (P(v)(1 - P(v)) = 0)."""
    p = p_yes[..., list(candidates)]
    return np.all((p > 0.0) & (p < 1.0), axis=tuple(range(p.ndim - 1)))


def _clamped(net: Network, theta: np.ndarray, weights: np.ndarray, base_mask: np.ndarray,
             candidates: Sequence[int], open_: np.ndarray) -> np.ndarray:
    """P(node | evidence, candidate clamped, theta) for theta (D, K): (D, U, 2, n), the last-but-
    one axis yes then no. Candidates that are not open keep the base conditions."""
    masks = clamp_masks(base_mask, [v for v, ok in zip(candidates, open_, strict=True) if ok])
    n = len(weights)
    rows_per_draw = max(1, len(masks))
    out = np.empty((len(theta), len(candidates), 2, n))
    step = max(1, _OUTPUT_CELLS // (rows_per_draw * n))
    for start in range(0, len(theta), step):
        part = theta[start:start + step]
        if len(masks):
            q = theta_marginals(net, part[:, None, :], weights, masks[None])
            out[start:start + len(part), open_] = q.reshape(len(part), -1, 2, n)
        if not open_.all():
            base = theta_marginals(net, part, weights, base_mask)
            out[start:start + len(part), ~open_] = base[:, None, None, :]
    return out


def _terms(p_v: np.ndarray, q_yes: np.ndarray, q_no: np.ndarray, candidates, targets) -> np.ndarray:
    """P(v)(1 - P(v)) (P(t | yes) - P(t | no))^2 over [..., candidate, target], 0 on t == v."""
    per = (p_v * (1.0 - p_v))[..., None] * (q_yes - q_no) ** 2
    same = np.asarray(candidates)[:, None] == np.asarray(targets)[None, :]
    return np.where(same, 0.0, per)


def value_of_information(net: Network, node_log_weights: np.ndarray,
                         conditions: Mapping[str, bool] | None, targets: Sequence[int],
                         candidates: Sequence[int] | None = None,
                         theta_draws: np.ndarray | None = None,
                         integrated: bool = True) -> WatchResult:
    """The value of resolving each candidate next (default: every node without a condition).

    `integrated`: the CPT entries integrate out (the exact engine's class), so the value is
    exact at the prior means and `theta_draws` (D, K), if given, give its spread. Otherwise
    `theta_draws` are posterior draws (NUTS) and the forecasts are their averages."""
    weights = np.asarray(node_log_weights, dtype=float)
    base_mask = net.node_mask(conditions)
    if candidates is None:
        candidates = [v for v in range(net.n_nodes) if net.node_ids[v] not in (conditions or {})]
    candidates, targets = tuple(int(v) for v in candidates), tuple(int(t) for t in targets)
    t_index = list(targets)
    if integrated:
        point = net.prior_means[None]
    elif theta_draws is None or not len(theta_draws):
        raise ValueError("without integrated CPT entries, posterior draws of theta are needed")
    else:
        point = np.asarray(theta_draws, dtype=float)
    p_point = theta_marginals(net, point, weights, base_mask)
    open_ = _open_candidates(p_point, candidates)
    draws = None
    if integrated:
        q = _clamped(net, point, weights, base_mask, candidates, open_)[0]
        p_v = p_point[0, list(candidates)]
        given_yes, given_no = q[:, 0, t_index], q[:, 1, t_index]
        if theta_draws is not None and len(theta_draws):
            theta_draws = np.asarray(theta_draws, dtype=float)
            p_d = theta_marginals(net, theta_draws, weights, base_mask)
            q_d = _clamped(net, theta_draws, weights, base_mask, candidates, open_)
            draws = _terms(p_d[:, list(candidates)], q_d[:, :, 0][..., t_index],
                           q_d[:, :, 1][..., t_index], candidates, targets).sum(axis=2)
    else:
        q_d = _clamped(net, point, weights, base_mask, candidates, open_)
        p_d = p_point[:, list(candidates)]                                   # (D, U)
        p_v = p_d.mean(axis=0)
        with np.errstate(invalid="ignore", divide="ignore"):
            given_yes = (p_d[..., None] * q_d[:, :, 0][..., t_index]).mean(axis=0) / p_v[:, None]
            given_no = ((1 - p_d)[..., None] * q_d[:, :, 1][..., t_index]).mean(axis=0) / (
                1 - p_v)[:, None]
        average = p_point.mean(axis=0)[t_index]
        given_yes = np.where(open_[:, None], given_yes, average)
        given_no = np.where(open_[:, None], given_no, average)
        draws = _terms(p_d, q_d[:, :, 0][..., t_index], q_d[:, :, 1][..., t_index], candidates,
                       targets).sum(axis=2)
    per_target = _terms(p_v, given_yes, given_no, candidates, targets)
    return WatchResult(candidates, targets, p_v, given_yes, given_no, per_target, draws)


# ------------------------------------------------------------------------------- sensitivity

def beta_quantiles(alpha: np.ndarray, beta: np.ndarray,
                   probs: Sequence[float] = SENSITIVITY_QUANTILES) -> np.ndarray:
    """(K, len(probs)) quantiles of Beta(alpha, beta), in numpy (forecast.model.beta: importing
    scipy.special would cost a report process more CPU than its whole exact inference)."""
    alpha, beta = np.asarray(alpha, dtype=float), np.asarray(beta, dtype=float)
    return np.stack([beta_ppf(q, alpha, beta) for q in probs], axis=-1)


@dataclass(frozen=True)
class SensitivityResult:
    """Per uncertain number of the CPTs (a table entry, or a parametric CPT's base or parent
    number: indices into `net.parameters`) and node: the forecast with that number at its
    prior's low and high quantile, every other number at its prior mean."""

    params: np.ndarray           # (F,) parameter indices (fixed numbers are not uncertain)
    param_low: np.ndarray        # (F,) the number's low quantile
    param_high: np.ndarray       # (F,) its high quantile
    low: np.ndarray              # (F, n) every node's forecast with the number at param_low
    high: np.ndarray             # (F, n) ... at param_high
    base: np.ndarray             # (n,) every number at its prior mean (on table-CPT
                                 #      scenarios: the exact forecast)

    def ranked(self, target: int) -> list[int]:
        """Positions in `params`, widest swing on `target` first (ties: parameter order)."""
        swing = np.round(np.abs(self.high[:, target] - self.low[:, target]), 12)
        return np.lexsort((np.arange(len(self.params)), -swing)).tolist()


# Rows (a CPT number at one quantile, or every number at its prior mean) per sensitivity task:
# fixed, never derived from the number of workers, so the rows are computed in the same batches
# (and to the same bits) in process and on Dask.
SENSITIVITY_TASK_ROWS = 256


@dataclass(frozen=True)
class SensitivityBatches:
    """What every batch of a sensitivity sweep shares: the network and the evidence."""

    net: Network
    node_log_weights: np.ndarray
    mask: np.ndarray
    max_bytes: int


def sensitivity_batch(shared: SensitivityBatches, rows: np.ndarray) -> np.ndarray:
    """Every node's forecast (rows, n) for a batch of parameter rows: one batched calibration."""
    return theta_marginals(shared.net, shared.net.parameters.theta(rows), shared.node_log_weights,
                           shared.mask, shared.max_bytes)


def sensitivity(net: Network, node_log_weights: np.ndarray,
                conditions: Mapping[str, bool] | None,
                probs: Sequence[float] = SENSITIVITY_QUANTILES, runner=None,
                progress=None) -> SensitivityResult:
    """One-way sensitivity of every node's forecast to every uncertain CPT number: batched
    calibrations of two rows per number (and one at the prior means), SENSITIVITY_TASK_ROWS rows
    a task, run by `runner` (a `forecast.parallel` runner; in process when not given)."""
    parameters = net.parameters
    free = parameters.free
    quantiles = beta_quantiles(parameters.alpha[free], parameters.beta[free], probs)
    params = np.repeat(parameters.prior_means[None], 2 * len(free) + 1, axis=0)
    rows = np.arange(len(free))
    params[2 * rows, free] = quantiles[:, 0]
    params[2 * rows + 1, free] = quantiles[:, 1]
    shared = SensitivityBatches(net, np.asarray(node_log_weights, dtype=float),
                                net.node_mask(conditions), memory_budget())
    batches = [params[start:start + SENSITIVITY_TASK_ROWS]
               for start in range(0, len(params), SENSITIVITY_TASK_ROWS)]
    p = np.concatenate((runner or InProcess()).map(sensitivity_batch, batches, shared, progress))
    return SensitivityResult(free, quantiles[:, 0], quantiles[:, 1], p[0:-1:2], p[1:-1:2], p[-1])


def parameter_meaning(net: Network, param: int) -> dict:
    """What a CPT number is, for people and programs: its node, the parent configuration
    `when` ({parent: "yes" | "no"}, a parent of two named states by name; {} for a root) of
    the CPT row it is (table) or defines (a parametric base: every parent no; a parent's
    number: that parent alone yes), `entry_state` (the state whose probability it is: yes),
    the node's `cpt` form, and `cause`: null for a table entry, "base" or the parent's id."""
    parameters = net.parameters
    v, slot = int(parameters.node[param]), int(parameters.slot[param])
    form = net.forms[v]
    parents = [net.node_ids[p] for p in net.parents[v]]
    names = [net.states_of(p) for p in net.parents[v]]      # (no, yes) on yes/no parents
    if form == "table":
        when = {pa: names[bit][slot >> bit & 1] for bit, pa in enumerate(parents)}
        cause = None
    else:
        cause = "base" if slot < 0 else parents[slot]
        when = {pa: names[bit][int(pa == cause)] for bit, pa in enumerate(parents)}
    return {"node": net.node_ids[v], "when": when, "cpt": form, "cause": cause,
            "entry_state": net.states_of(v)[1]}


def sensitivity_rows(net: Network, result: SensitivityResult, target: int,
                     top: int | None = None,
                     meanings: list[dict] | None = None) -> list[SensitivityRow]:
    """The shape for one target (docs/json.md, `forecast sensitivity`): [{"node", "when", "low",
    "high", "swing_pp"}], widest first; `swing_pp` is |high - low| in percentage points. Extra
    keys: `entry_state` (yes), the number's quantiles (`entry_low`, `entry_high`), its CPT form
    and cause (parametric CPTs), and the target's forecast with every number at its prior
    mean. `meanings` (one `parameter_meaning` per number) saves recomputing them per target."""
    if meanings is None:
        meanings = [parameter_meaning(net, int(i)) for i in result.params]
    rows: list[SensitivityRow] = []
    for i in result.ranked(target)[:top]:
        low, high = float(result.low[i, target]), float(result.high[i, target])
        meaning = meanings[i]
        rows.append({"node": meaning["node"], "when": dict(meaning["when"]),
                     "entry_state": meaning["entry_state"],
                     "low": round(low, 6), "high": round(high, 6),
                     "swing_pp": round(100 * abs(high - low), 2),
                     "entry_low": round(float(result.param_low[i]), 6),
                     "entry_high": round(float(result.param_high[i]), 6),
                     "cpt": meaning["cpt"], "cause": meaning["cause"],
                     "forecast": round(float(result.base[target]), 6)})
    return rows


# ------------------------------------------------------------------- the report page's model

def page_cells(net: Network, order: Sequence[int]) -> int:
    """Entries of every clique table the page builds: one clique per node, the node and its
    neighbours still in the moral graph when `order` eliminates it."""
    neighbours = [set(pa) for pa in net.parents]
    for v, pa in enumerate(net.parents):
        for p in pa:
            neighbours[p].add(v)
            neighbours[p].update(q for q in pa if q != p)
    total = 0
    for v in order:
        clique = neighbours[v]
        total += net.cards[v] * math.prod(net.cards[u] for u in clique)
        for u in clique:
            neighbours[u].discard(v)
            neighbours[u].update(w for w in clique if w != u)
    return total


def page_whatif(net: Network, state_log_weights: np.ndarray, conditions: Mapping | None,
                terms: Mapping[str, Sequence[float]], exact: bool) -> WhatifPage:
    """What the report page needs to compute what-ifs itself, exactly as `forecast whatif`
    gives them (posterior means: the prior-mean network times the evidence weights, with the
    hard conditions), by a junction tree in the page: numbers and node ids only, no analyst or
    evidence text. The page eliminates nodes in the exact engine's order, so what bounds it is
    the size of the cliques (the treewidth), not the number of questions: past PAGE_CELLS
    entries over all clique tables, or with parametric CPTs, `available` is false, with the
    reason in words. `state_log_weights` is flat per state in engine order (a yes/no node is
    (no, yes))."""
    if not exact:
        reason = ("this scenario has parametric CPTs, whose what-ifs need sampling: "
                  "run `forecast whatif --given NODE=STATE` for them")
        return {"available": False, "reason": reason, "limit": PAGE_CELLS, "model": None}
    order = structure_of(net).order
    cells = page_cells(net, order)
    if cells > PAGE_CELLS:
        reason = (f"this scenario's questions are too entangled for the page: its junction tree "
                  f"has {cells:,} table entries and the page computes what-ifs exactly for up to "
                  f"{PAGE_CELLS:,}: run `forecast whatif --given NODE=STATE` for them")
        return {"available": False, "reason": reason, "limit": PAGE_CELLS, "model": None}
    offsets = net.state_offsets
    cpt = page_cpt(net)
    model: PageModel = {
        "nodes": list(net.node_ids),
        "states": [list(net.states_of(v)) for v in range(net.n_nodes)],
        "parents": [list(pa) for pa in net.parents],
        "order": [int(v) for v in order],
        "cpt": cpt,
        "log_weights": [[float(w) for w in state_log_weights[offsets[v]:offsets[v + 1]]]
                        for v in range(net.n_nodes)],
        "conditions": {node: net.state_index(net.index(node), state)
                       for node, state in (conditions or {}).items()},
        "terms": [[name, float(bounds[0]), float(bounds[1])] for name, bounds in terms.items()],
    }
    if not all(math.isfinite(x) for row in model["cpt"] for x in row) or not all(
            math.isfinite(x) for row in model["log_weights"] for x in row):
        raise ValueError("the page's model must be finite numbers")
    return {"available": True, "reason": None, "limit": PAGE_CELLS, "model": model}


def page_cpt(net: Network) -> list[list[float]]:
    """Each node's prior-mean CPT cells as the page reads them: parent configuration-major,
    then the node's state (a yes/no node's P(yes) per configuration as cells (no, yes))."""
    if net.multistate:
        cells_of = net.prior_cells
        return [[float(x) for x in cells_of[net.cell_offsets[v]:net.cell_offsets[v + 1]]]
                for v in range(net.n_nodes)]
    means = net.prior_means
    return [[float(x) for c in range(2 ** len(net.parents[v]))
             for x in (1.0 - means[net.first_entry[v] + c], means[net.first_entry[v] + c])]
            for v in range(net.n_nodes)]


def page_weights(net: Network, problem) -> np.ndarray:
    """The evidence per state in engine order: a yes/no network's P(yes) weight on state 1."""
    if problem.state_log_weights is not None:
        return np.asarray(problem.state_log_weights, dtype=float)
    out = np.zeros(net.n_states)
    out[net.state_offsets[:-1] + 1] = problem.node_log_weights
    return out


# The report's watch list clamps every open question to each of its states: on a large imported
# network (pigs: 441 questions, a minute; water: 32 questions of big tables, a second and a half)
# that is most of the report's time, so past this many clamped inferences, or this many seconds
# of them by the work budget's estimate, the report leaves it to `forecast watch`.
REPORT_WATCH_CLAMPS = 300
REPORT_WATCH_SECONDS = 0.5


def report_watch_clamps(net: Network, conditions) -> int:
    """The clamped inferences the report's watch list would take (one per state of each open
    question), or 0 where that is past the report's share (`forecast watch` computes it)."""
    clamps = sum(net.cards[v] for v, node in enumerate(net.node_ids) if node not in conditions)
    seconds = clamps * structure_of(net).total_cells * SECONDS_PER_CELL
    return clamps if clamps <= REPORT_WATCH_CLAMPS and seconds <= REPORT_WATCH_SECONDS else 0


def report_decisions(scenario, problem, terms: Mapping[str, Sequence[float]]) -> DecisionFields:
    """What the report adds for decisions: `watch` (the WATCH_SHOWN open questions most worth
    watching for the open consequences, exact values without their spread: `forecast watch`
    gives that), `sensitivity` (per open consequence, the SENSITIVITY_SHOWN numbers its
    forecast hangs on most) and `whatif_page` (the model for the page's own what-ifs, or why
    the page cannot compute them)."""
    net = problem.net
    targets = [n.id for n in scenario.nodes
               if n.role == "consequence" and n.id not in problem.conditions]
    shown: dict[str, list[SensitivityRow]] = {}
    watch: list[WatchRow] = []
    watched = WATCH_SHOWN if report_watch_clamps(net, problem.conditions) else 0
    if targets and net.multistate:
        from .state_decisions import state_decisions  # it builds on this module
        shown, watch = state_decisions(net, problem, targets, SENSITIVITY_SHOWN, watched)
    elif targets:
        result = sensitivity(net, problem.node_log_weights, problem.conditions)
        meanings = [parameter_meaning(net, int(i)) for i in result.params]
        shown = {t: sensitivity_rows(net, result, net.index(t), SENSITIVITY_SHOWN, meanings)
                 for t in targets}
        if net.conjugate and watched:
            watch = watch_rows(net, value_of_information(
                net, problem.node_log_weights, problem.conditions, [net.index(t) for t in targets]),
                WATCH_SHOWN)
    return {"watch": watch,
            "sensitivity": {"quantiles": list(SENSITIVITY_QUANTILES), "targets": shown},
            "whatif_page": page_whatif(net, page_weights(net, problem), problem.conditions,
                                       terms, net.conjugate)}


def watch_rows(net: Network, result: WatchResult, top: int | None = None) -> list[WatchRow]:
    """The watch shape (docs/json.md, `forecast watch`), best first: {"node", "value",
    "per_target"}, with each question's forecast (`p_yes`) and the targets' forecasts if it
    resolved yes / no (`if_yes`, `if_no`); with CPT draws, `interval` (the value's 5%-95% over
    them) and `top_share`."""
    names = [net.node_ids[t] for t in result.targets]
    rows: list[WatchRow] = []
    for i, others, row in result.ranked_rows(net.node_ids, top):
        row["p_yes"] = round(float(result.p_yes[i]), 6)
        row["if_yes"] = {names[j]: round(float(result.given_yes[i, j]), 6) for j in others}
        row["if_no"] = {names[j]: round(float(result.given_no[i, j]), 6) for j in others}
        rows.append(cast(WatchRow, row))
    return rows
