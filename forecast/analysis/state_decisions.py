"""What to watch and what each forecast hangs on, on networks with questions of more than two
outcomes (README, "Questions with more than two outcomes"): decisions.py's computations state
by state, on the cell-by-cell CPT. numpy only, never PyMC.

Value of information. A target t's uncertainty is half the sum over its states r of
P(r)(1 - P(r)) (on a yes/no target P(yes)(1 - P(yes)), as before). If candidate v were
resolved next, its expected reduction is the halved sum over r of the variance, over v's
outcome x (with probability P(x)), of P(r | evidence, v = x):

    1/2 sum_r sum_x P(x) (P(r | v = x) - P(r))^2,

which on a yes/no candidate and target is P(v)(1 - P(v)) (P(t | yes) - P(t | no))^2. Every
term is exact inference on the prior-mean network, one clamped calibration per possible state
of each candidate; the spread comes from exact posterior draws of the Dirichlet rows.

Sensitivity. One cell of a Dirichlet row moves to its Beta marginal's 5% (then 95%) quantile
(Dirichlet(a) has cell x ~ Beta(a_x, sum(a) - a_x)); the row's other cells are rescaled in
proportion so the row still sums to 1; every other row stays at its prior mean. A two-state
row has one such number (its engine state 1: `yes` on a yes/no node), a k-state row k. On a
target that is not yes/no, the rows describe its most likely state's probability.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from ..inference import exact
from ..inference.exact import cell_marginals, memory_budget, structure_of
from ..model.network import HARD_EXCLUDED, Network
from ..parallel import InProcess
from .decisions import (
    SENSITIVITY_QUANTILES,
    SENSITIVITY_TASK_ROWS,
    SensitivityBatches,
    SensitivityResult,
    WatchRanking,
    beta_quantiles,
)
from .report_document import SensitivityRow, WatchRow

_OUTPUT_CELLS = 1 << 22          # rows x node-states of marginals held at once (32 MB)


def yes_no(net: Network, v: int) -> bool:
    return net.states_of(v) == ("no", "yes")


def declared(net: Network, v: int) -> tuple[str, ...]:
    """A node's states in declared order (yes/no nodes: yes first)."""
    return ("yes", "no") if yes_no(net, v) else net.states_of(v)


# ------------------------------------------------------------------------ value of information

@dataclass(frozen=True)
class StateWatchResult(WatchRanking):
    """The value of resolving each candidate next; per candidate, its states' probabilities
    (engine order) and every node-state's forecast given each of them."""

    candidates: tuple[int, ...]
    targets: tuple[int, ...]
    p_state: tuple[np.ndarray, ...]   # per candidate (k,) P(v = x | evidence)
    given: tuple[np.ndarray, ...]     # per candidate (k, n_states) P(. | evidence, v = x)
    base: np.ndarray                  # (n_states,) P(. | evidence)
    per_target: np.ndarray            # (U, T), 0 where target == candidate
    draws: np.ndarray | None          # (D, U) the value under each CPT draw, or None


def _reduction(net: Network, p_v: np.ndarray, q: np.ndarray, targets: Sequence[int]) -> np.ndarray:
    """(..., T): half the sum over each target's states of the variance over v's outcome of
    their forecasts; p_v (..., k), q (..., k, n_states)."""
    mean = np.einsum("...k,...ks->...s", p_v, q)
    spread = np.einsum("...k,...ks->...s", p_v, (q - mean[..., None, :]) ** 2)
    per_node = np.add.reduceat(spread, net.state_offsets[:-1], axis=-1)
    return 0.5 * per_node[..., list(targets)]


def state_value_of_information(net: Network, state_log_weights: np.ndarray,
                               conditions: Mapping | None, targets: Sequence[int],
                               candidates: Sequence[int] | None = None,
                               cell_draws: np.ndarray | None = None) -> StateWatchResult:
    """The value of resolving each candidate next (default: every node without a condition),
    exact at the prior-mean cells; `cell_draws` (D, n_cells), if given, give its spread."""
    weights = np.asarray(state_log_weights, dtype=float)
    base_mask = net.state_mask(conditions)
    if candidates is None:
        candidates = [v for v in range(net.n_nodes) if net.node_ids[v] not in (conditions or {})]
    candidates, targets = tuple(int(v) for v in candidates), tuple(int(t) for t in targets)
    cells = net.prior_cells[None]
    if cell_draws is not None and len(cell_draws):
        cells = np.concatenate([cells, np.asarray(cell_draws, dtype=float)])
    p = cell_marginals(net, cells, weights, base_mask)                             # (R, S)
    # one clamp per state possible under every row of cells (an impossible state has
    # probability 0, so its forecast does not count; clamping it would be contradictory)
    masks, where = [], []
    for i, v in enumerate(candidates):
        lo, k = int(net.state_offsets[v]), net.cards[v]
        for x in range(k):
            if np.all(p[:, lo + x] > 0.0):
                mask = base_mask.copy()
                mask[lo:lo + k] = HARD_EXCLUDED
                mask[lo + x] = 0.0
                masks.append(mask)
                where.append((i, x))
    # the clamped marginals go chunk by chunk of CPT rows, each reduced to its terms at once,
    # so memory stays bounded whatever the number of draws
    stacked = np.stack(masks) if masks else np.empty((0, net.n_states))
    terms = np.zeros((len(cells), len(candidates), len(targets)))
    given: list[np.ndarray] = []
    step = max(1, _OUTPUT_CELLS // (max(1, len(masks)) * net.n_states))
    for start in range(0, len(cells), step):
        part = cells[start:start + step]
        q = np.empty((len(part), 0, net.n_states))
        if masks:
            q = cell_marginals(net, part[:, None, :], weights, stacked[None])
        base = p[start:start + len(part)]
        for i, v in enumerate(candidates):
            lo, k = int(net.state_offsets[v]), net.cards[v]
            q_v = np.repeat(base[:, None, :], k, axis=1)          # impossible states: unclamped
            for row, (j, x) in enumerate(where):
                if j == i:
                    q_v[:, x] = q[:, row]
            terms[start:start + len(part), i] = _reduction(net, base[:, lo:lo + k], q_v, targets)
            if start == 0:
                given.append(q_v[0])
    p_state = [p[0, int(net.state_offsets[v]):int(net.state_offsets[v]) + net.cards[v]]
               for v in candidates]
    same = np.asarray(candidates)[:, None] == np.asarray(targets)[None, :]
    terms = np.where(same, 0.0, terms)
    draws = terms[1:].sum(axis=2) if len(cells) > 1 else None
    return StateWatchResult(candidates, targets, tuple(p_state), tuple(given), p[0], terms[0],
                            draws)


def _forecast(net: Network, t: int, probs: np.ndarray):
    """A target's forecast in a watch row: P(yes) on a yes/no node, else its distribution
    ({state: p}, declared order)."""
    lo = int(net.state_offsets[t])
    if yes_no(net, t):
        return round(float(probs[lo + 1]), 6)
    return {s: round(float(probs[lo + net.state_index(t, s)]), 6) for s in declared(net, t)}


def state_watch_rows(net: Network, result: StateWatchResult, top: int | None = None
                     ) -> list[WatchRow]:
    """The watch shape (docs/json.md), best first, on a network with questions of more than two
    outcomes: each row also gives the question's `distribution` ({state: P}) and `if_state`
    ({state: {target: forecast if the question resolved so}}); a yes/no question keeps `p_yes`,
    `if_yes` and `if_no` (null on the others). A target's forecast is P(yes) on a yes/no
    target, its distribution on the others."""
    names = [net.node_ids[t] for t in result.targets]
    rows: list[WatchRow] = []
    for i, others, row in result.ranked_rows(net.node_ids, top):
        v = result.candidates[i]
        states = declared(net, v)
        if_state = {s: {names[j]: _forecast(net, result.targets[j],
                                            result.given[i][net.state_index(v, s)])
                        for j in others} for s in states}
        binary = yes_no(net, v)
        row["p_yes"] = round(float(result.p_state[i][1]), 6) if binary else None
        row["if_yes"] = if_state["yes"] if binary else None
        row["if_no"] = if_state["no"] if binary else None
        row["distribution"] = {s: round(float(result.p_state[i][net.state_index(v, s)]), 6)
                               for s in states}
        row["if_state"] = if_state
        rows.append(row)  # type: ignore[arg-type]
    return rows


# ------------------------------------------------------------------------------- sensitivity

def row_start(net: Network, cell: int) -> tuple[int, int, int]:
    """(node, first cell of the row, row index within the node) of a flat CPT cell."""
    v = int(np.searchsorted(net.cell_offsets, cell, side="right")) - 1
    k = net.cards[v]
    row = (cell - int(net.cell_offsets[v])) // k
    return v, int(net.cell_offsets[v]) + row * k, row


def free_cells(net: Network) -> np.ndarray:
    """The cells that are sensitivity numbers: of every Dirichlet row, its engine state 1 on
    a two-state node (P(yes) on a yes/no one: the binary entry), every cell on a k-state one."""
    out = []
    for v in range(net.n_nodes):
        k = net.cards[v]
        for start in range(int(net.cell_offsets[v]), int(net.cell_offsets[v + 1]), k):
            if np.isnan(net.concentration[start]):
                continue
            out.extend([start + 1] if k == 2 else range(start, start + k))
    return np.asarray(out, dtype=np.int64)


def moved_cells(net: Network, base: np.ndarray, cell: int, value: float) -> np.ndarray:
    """The prior-mean cells `base` with `cell` at `value` and its row's other cells rescaled
    in proportion (on a two-state row: the other is 1 - value)."""
    cells = base.copy()
    v, start, _row = row_start(net, cell)
    k = net.cards[v]
    if k == 2:
        cells[start:start + 2] = (1.0 - value, value) if cell == start + 1 else (value, 1.0 - value)
        return cells
    others = [c for c in range(start, start + k) if c != cell]
    cells[others] *= (1.0 - value) / (1.0 - cells[cell])
    cells[cell] = value
    return cells


def sensitivity_clamps(net: Network, base: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The node-states whose forecast a moved row can change (0 < P < 1), less the last such
    state of each node (one minus the others), and those last states: (clamped, derived)."""
    clamped, derived = [], []
    for v in range(net.n_nodes):
        lo = int(net.state_offsets[v])
        open_states = [lo + x for x in range(net.cards[v]) if 0.0 < base[lo + x] < 1.0]
        if open_states:
            clamped.extend(open_states[:-1])
            derived.append(open_states[-1])
    return np.asarray(clamped, dtype=np.int64), np.asarray(derived, dtype=np.int64)


def sensitivity_calibrations(net: Network, conditions: Mapping | None) -> int:
    """Calibrations a sensitivity sweep costs (at most: states ruled out are not clamped): one
    per clamped node-state, and the forecast's own two, whatever the number of free cells (none
    without one: every entry fixed, nothing to move)."""
    if np.isnan(net.concentration).all():
        return 0
    fixed = set(conditions or {})
    return 2 + sum(net.cards[v] - 1 for v in range(net.n_nodes) if net.node_ids[v] not in fixed)


def state_sensitivity_batch(shared: SensitivityBatches, states: np.ndarray) -> np.ndarray:
    """P(family cell | evidence, node-state) (B, n_cells) for a batch of node-states, each
    clamped in turn at the prior-mean cells. The shared weights and mask are per state."""
    net = shared.net
    masks = np.repeat(shared.mask[None], len(states), axis=0)
    node_of = structure_of(net).state_node
    for b, state in enumerate(states):
        v = int(node_of[state])
        lo = int(net.state_offsets[v])
        masks[b, lo:lo + net.cards[v]] = HARD_EXCLUDED
        masks[b, state] = shared.mask[state]
    return exact.family_means(net, shared.node_log_weights, masks, max_bytes=shared.max_bytes)


def _row_moves(net: Network, free: np.ndarray, values: np.ndarray
               ) -> tuple[np.ndarray, np.ndarray]:
    """Each (free cell, value) move as relative changes of its row's cells (new - old) / old,
    the others rescaled in proportion (`moved_cells`): (moves, row cells), padded with cell 0
    and change 0 past a row's length."""
    base = net.prior_cells
    starts = np.empty(len(free), dtype=np.int64)
    sizes = np.empty(len(free), dtype=np.int64)
    for i, c in enumerate(free):
        v, starts[i], _row = row_start(net, int(c))
        sizes[i] = net.cards[v]
    width = int(sizes.max()) if len(free) else 1
    offsets = np.arange(width)
    cells = np.where(offsets < sizes[:, None], starts[:, None] + offsets, 0)
    old = base[cells]
    at = cells == free[:, None]
    rest = (1.0 - values) / (1.0 - base[free])
    new = np.where(at, values[:, None], old * rest[:, None])
    change = np.where(offsets < sizes[:, None], (new - old) / np.where(old > 0, old, 1.0), 0.0)
    return change, cells


def state_sensitivity(net: Network, state_log_weights: np.ndarray, conditions: Mapping | None,
                      probs: Sequence[float] = SENSITIVITY_QUANTILES, runner=None,
                      progress=None) -> SensitivityResult:
    """One-way sensitivity of every node-state's forecast to every free cell: `params` are
    cell indices, `low`/`high`/`base` per node-state (n_states columns).

    The network polynomial is linear in each CPT row, so a moved row changes P(t, evidence)
    by the sum over its cells of (new - old) / old * P(t, cell's family state, evidence):
    one calibration per node-state t (clamped) gives every row's effect on t at once, instead
    of two calibrations per free cell (andes: 223 against 2,315). Exact to rounding."""
    free = free_cells(net)
    conc = net.concentration
    alpha = conc[free]
    totals = []
    for c in free:
        v, start, _row = row_start(net, int(c))
        totals.append(np.nansum(conc[start:start + net.cards[v]]))
    quantiles = (beta_quantiles(alpha, np.asarray(totals) - alpha, probs) if len(free)
                 else np.empty((0, len(probs))))
    weights = np.asarray(state_log_weights, dtype=float)
    mask = net.state_mask(conditions)
    base = exact.state_means(net, weights, conditions)
    if not len(free):
        empty = np.empty((0, net.n_states))
        return SensitivityResult(free, quantiles[:, 0], quantiles[:, 1], empty, empty, base)
    families = exact.family_means(net, weights, mask)
    clamped, derived = sensitivity_clamps(net, base)
    shared = SensitivityBatches(net, weights, mask, memory_budget())
    batches = [clamped[start:start + SENSITIVITY_TASK_ROWS]
               for start in range(0, len(clamped), SENSITIVITY_TASK_ROWS)]
    given = np.concatenate((runner or InProcess()).map(state_sensitivity_batch, batches, shared,
                                                       progress) or [np.empty((0, len(families)))])
    joint = (base[clamped, None] * given).T                  # (n_cells, clamped) P(t, family)
    node_of = structure_of(net).state_node
    out = []
    for values in (quantiles[:, 0], quantiles[:, 1]):
        change, cells = _row_moves(net, free, values)
        evidence = 1.0 + np.einsum("fk,fk->f", change, families[cells])
        moved = np.zeros((len(free), len(clamped)))
        for k in range(cells.shape[1]):
            moved += change[:, k, None] * joint[cells[:, k]]
        p = np.repeat(base[None], len(free), axis=0)
        p[:, clamped] = np.clip((base[clamped] + moved) / evidence[:, None], 0.0, 1.0)
        # each node's last open state: one minus its others (summed with it at 0)
        p[:, derived] = 0.0
        others = np.add.reduceat(p, net.state_offsets[:-1], axis=1)[:, node_of[derived]]
        p[:, derived] = np.clip(1.0 - others, 0.0, 1.0)
        out.append(p)
    return SensitivityResult(free, quantiles[:, 0], quantiles[:, 1], out[0], out[1], base)


def cell_meaning(net: Network, cell: int) -> dict:
    """A cell as people and programs read it: its node, the parent configuration `when`
    ({parent: state}, yes/no on yes/no parents) and `entry_state`, the state it is of."""
    v, start, row = row_start(net, cell)
    when, rest = {}, row
    for parent in net.parents[v]:
        k = net.cards[parent]
        when[net.node_ids[parent]] = net.states_of(parent)[rest % k]
        rest //= k
    return {"node": net.node_ids[v], "when": when, "cpt": "table", "cause": None,
            "entry_state": net.states_of(v)[cell - start]}


def target_column(net: Network, base: np.ndarray, t: int) -> tuple[int, str | None]:
    """The node-state a target's rows describe: yes on a yes/no target (state None), else its
    most likely state (ties: the first in declared order)."""
    lo = int(net.state_offsets[t])
    if yes_no(net, t):
        return lo + 1, None
    states = net.states_of(t)
    best = max(range(len(states)), key=lambda x: (base[lo + x], -x))
    return lo + best, states[best]


def state_sensitivity_rows(net: Network, result: SensitivityResult, target: int,
                           top: int | None = None, meanings: list[dict] | None = None
                           ) -> list[SensitivityRow]:
    """sensitivity_rows' shape, widest first, for a target of a network with questions of more
    than two outcomes: each row names `entry_state`, and on a target that is not yes/no,
    `state` (its most likely state, whose probability low/high/forecast are)."""
    if meanings is None:
        meanings = [cell_meaning(net, int(c)) for c in result.params]
    column, state = target_column(net, result.base, target)
    rows: list[SensitivityRow] = []
    for i in result.ranked(column)[:top]:
        low, high = float(result.low[i, column]), float(result.high[i, column])
        meaning = meanings[i]
        row: dict = {"node": meaning["node"], "when": dict(meaning["when"]),
                     "entry_state": meaning["entry_state"],
                     "low": round(low, 6), "high": round(high, 6),
                     "swing_pp": round(100 * abs(high - low), 2),
                     "entry_low": round(float(result.param_low[i]), 6),
                     "entry_high": round(float(result.param_high[i]), 6),
                     "cpt": meaning["cpt"], "cause": meaning["cause"],
                     "forecast": round(float(result.base[column]), 6)}
        if state is not None:
            row["state"] = state
        rows.append(row)  # type: ignore[arg-type]
    return rows


def state_decisions(net: Network, problem, targets: Sequence[str], shown: int, watched: int
                    ) -> tuple[dict[str, list[SensitivityRow]], list[WatchRow]]:
    """The report's sensitivity rows per target and its watch rows, on a network with
    questions of more than two outcomes."""
    result = state_sensitivity(net, problem.state_log_weights, problem.conditions)
    meanings = [cell_meaning(net, int(c)) for c in result.params]
    rows = {t: state_sensitivity_rows(net, result, net.index(t), shown, meanings) for t in targets}
    if not watched:                        # past the report's budget: `forecast watch` has it
        return rows, []
    watch = state_watch_rows(net, state_value_of_information(
        net, problem.state_log_weights, problem.conditions, [net.index(t) for t in targets]),
        watched)
    return rows, watch
