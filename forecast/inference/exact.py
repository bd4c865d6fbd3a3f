"""The independent exact reference, in numpy alone (this module must never import PyMC).

Every CPT entry has its own Beta prior and appears in one node's table only, so the
parameters integrate out in closed form:

* P(x | evidence) is the fixed-CPT network with every entry at its prior mean, times the
  evidence weights; each node's posterior mean is exact enumeration over it.
* Exact iid posterior draws: x ~ P(x | evidence); each entry ~ its Beta updated by the one
  pseudo-observation x makes of it; then P(node = yes | evidence, entries) by enumeration.

`importance_sampling` is a second, slower cross-check that does not use the conjugacy:
draws from the Beta priors weighted by the evidence likelihood, with its own MC error.

Past them, the exact engine at scale: every function outside `forecast.inference` that needs
the junction-tree kernel (`elimination`) calls one of these, with the network, its memory
budget and its compiled structure taken care of here, and catches the kernel's refusals as
re-exported here (TooLarge, DrawsTooLarge, ContradictoryEvidence). One module past 400 lines
because it is that one door: splitting it would give the analysis and jobs layers two.
"""

from __future__ import annotations

import functools
import os
from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np

from ..model.network import Network
from . import elimination
from .elimination import ContradictoryEvidence as ContradictoryEvidence
from .elimination import DrawsTooLarge, TooLarge
from .elimination.evidence import state_evidence
from .elimination.observed import fold


def _normalise(log_w: np.ndarray) -> np.ndarray:
    top = np.max(log_w, axis=-1, keepdims=True)
    w = np.exp(log_w - top)
    return w / w.sum(axis=-1, keepdims=True)


def state_posterior(net: Network, state_log_evidence: np.ndarray) -> np.ndarray:
    """P(x | evidence) over joint states, with the entries integrated out."""
    return _normalise(net.log_state_prior(net.prior_means) + state_log_evidence)


def exact_means(net: Network, state_log_evidence: np.ndarray) -> np.ndarray:
    """Posterior P(node = yes | evidence) for every node: no Monte Carlo error."""
    return np.clip(state_posterior(net, state_log_evidence) @ net.states, 0.0, 1.0)


def _batch_size(net: Network) -> int:
    """Rows per batch so a (rows, 2^n) block stays near 32 MB whatever the network size."""
    return max(1, min(512, (1 << 22) // len(net.states)))


def p_yes_given_theta(net: Network, theta: np.ndarray, state_log_evidence: np.ndarray,
                      batch: int | None = None) -> np.ndarray:
    """P(node = yes | evidence, theta) per row of theta (D, K): the quantity whose posterior
    the forecast summarises. Batched so memory stays D-independent."""
    out = np.empty((theta.shape[0], net.n_nodes))
    batch = batch or _batch_size(net)
    for start in range(0, theta.shape[0], batch):
        part = theta[start:start + batch]
        out[start:start + batch] = _normalise(
            net.log_state_prior(part) + state_log_evidence) @ net.states
    return np.clip(out, 0.0, 1.0)


def _beta(rng: np.random.Generator, a, b, size=None) -> np.ndarray:
    """Beta draws kept strictly inside (0, 1): with tiny a or b, numpy returns exactly 0.0 or
    1.0, whose log (times a zero count) would make the enumeration NaN."""
    tiny = np.finfo(float).tiny
    return np.clip(rng.beta(a, b, size=size), tiny, 1.0 - np.finfo(float).epsneg)


def conjugate_theta_draws(net: Network, state_log_evidence: np.ndarray, n_draws: int,
                          rng: np.random.Generator) -> np.ndarray:
    """Exact iid draws of the CPT entries from their posterior, shape (n_draws, K)."""
    posterior = state_posterior(net, state_log_evidence)
    picked = rng.choice(len(posterior), size=n_draws, p=posterior)
    free = net.free
    theta = np.broadcast_to(net.fixed, (n_draws, len(net.fixed))).copy()
    a = net.alpha[free] + net.uses_yes[picked][:, free]
    b = net.beta[free] + net.uses_no[picked][:, free]
    theta[:, free] = _beta(rng, a, b)
    return theta


def conjugate_draws(net: Network, state_log_evidence: np.ndarray, n_draws: int,
                    rng: np.random.Generator) -> np.ndarray:
    """Exact iid posterior draws of P(node = yes | evidence, theta), shape (n_draws, n)."""
    theta = conjugate_theta_draws(net, state_log_evidence, n_draws, rng)
    return p_yes_given_theta(net, theta, state_log_evidence)


@dataclass(frozen=True)
class ImportanceEstimate:
    mean: np.ndarray             # (n,) posterior mean of P(node = yes | evidence, theta)
    se: np.ndarray               # (n,) its Monte Carlo standard error
    effective_sample_size: float


def importance_sampling(net: Network, state_log_evidence: np.ndarray, n_draws: int,
                        rng: np.random.Generator) -> ImportanceEstimate:
    """Self-normalised importance sampling with the Beta priors as proposal."""
    free = net.free
    theta = np.broadcast_to(net.fixed, (n_draws, len(net.fixed))).copy()
    theta[:, free] = _beta(rng, net.alpha[free], net.beta[free], size=(n_draws, len(free)))
    log_z = np.empty(n_draws)                                           # log P(e | theta)
    f = np.empty((n_draws, net.n_nodes))                                # P(yes | e, theta)
    batch = _batch_size(net)
    for start in range(0, n_draws, batch):
        log_joint = net.log_state_prior(theta[start:start + batch]) + state_log_evidence
        top = log_joint.max(axis=1, keepdims=True)
        log_z[start:start + batch] = top[:, 0] + np.log(np.exp(log_joint - top).sum(axis=1))
        f[start:start + batch] = _normalise(log_joint) @ net.states
    weights = _normalise(log_z)
    mean = weights @ f
    se = np.sqrt(np.sum(weights[:, None] ** 2 * (f - mean) ** 2, axis=0))
    return ImportanceEstimate(mean, se, float(1.0 / np.sum(weights**2)))


# ------------------------------------------------------------------ the engine at scale
# Everything below works on the network's factors through the junction-tree kernel in
# `elimination`, never on a table of joint states, so its cost follows the treewidth.

MEMORY_BUDGET_ENV = "FORECAST_MEMORY_BUDGET"
DEFAULT_MEMORY_BUDGET = 2 * 2**30          # bytes of working memory one inference may take
_UNITS = {"": 1, "K": 2**10, "M": 2**20, "G": 2**30, "T": 2**40}


def memory_budget() -> int:
    """The working-memory budget in bytes: $FORECAST_MEMORY_BUDGET ("512M", "4G", or bytes),
    else DEFAULT_MEMORY_BUDGET. A network whose inference needs more is refused, not run.
    Parsed once per value of the variable (every inference asks for it)."""
    return _memory_budget(os.environ.get(MEMORY_BUDGET_ENV, ""))


@functools.lru_cache(maxsize=8)
def _memory_budget(raw: str) -> int:
    text = raw.strip().upper().removesuffix("B").removesuffix("I")
    if not text:
        return DEFAULT_MEMORY_BUDGET
    unit = text[-1] if text[-1] in _UNITS and not text[-1].isdigit() else ""
    try:
        value = float(text[: len(text) - len(unit)])
    except ValueError:
        raise ValueError(f"${MEMORY_BUDGET_ENV}: expected a size such as 512M or 4G, "
                         f"found {raw!r}") from None
    if not value > 0:
        raise ValueError(f"${MEMORY_BUDGET_ENV}: expected a positive size, found {raw!r}")
    return int(value * _UNITS[unit])


WORK_BUDGET_ENV = "FORECAST_WORK_BUDGET"
DEFAULT_WORK_BUDGET = 120.0        # seconds of CPU one command may plan to spend on inference
# CPU per table cell per exact inference: what turns a structure's table sizes into a time
# estimate. Most of a big report's inferences are batched rows (draws, clamps, leave-outs):
# `python bench/cell_cost.py` on the 2-core development machine (CPU; Dirichlet rows of
# strength 20) gave 9-33 ns per cell per draw on water (treewidth 10), 17-18 on
# andes (17), 33-39 on pigs (10); a single calibration of a small network costs more per cell
# (fixed numpy overhead: alarm 3 ms) but never comes near the budget. The old 60 ns, measured
# before the einsum and folding work, overstated andes' default report about 3x.
SECONDS_PER_CELL = 30e-9


class TooSlow(ValueError):
    """The exact inferences a command needs would take longer than the work budget."""

    def __init__(self, seconds: float, budget: float, treewidth: int, rows: int, row_seconds: float):
        self.seconds, self.budget, self.treewidth = seconds, budget, treewidth
        self.rows, self.row_seconds = rows, row_seconds
        super().__init__(f"about {seconds:.0f} s of exact inference, over the budget of {budget:.0f} s")


def work_budget() -> float:
    """Seconds of CPU a command may plan for exact inference: $FORECAST_WORK_BUDGET, else
    DEFAULT_WORK_BUDGET. Past it a command refuses at once instead of running for hours."""
    return _work_budget(os.environ.get(WORK_BUDGET_ENV, ""))


@functools.lru_cache(maxsize=8)
def _work_budget(raw: str) -> float:
    text = raw.strip().lower().removesuffix("s")
    if not text:
        return DEFAULT_WORK_BUDGET
    try:
        value = float(text)
    except ValueError:
        value = float("nan")
    if not value > 0:
        raise ValueError(f"${WORK_BUDGET_ENV}: expected a positive number of seconds such as 600, "
                         f"found {raw!r}")
    return value


def conditioned_structure(net: Network, conditions: Mapping | None) -> elimination.Structure:
    """The tree an inference under these hard conditions runs on: the observed nodes
    triangulated out (`elimination.observed`), or the network's own where that does not
    apply (small tables, no conditions)."""
    structure = structure_of(net)
    if not conditions:
        return structure
    folded = fold(structure, state_evidence(structure, None, net.state_mask(conditions)))
    return structure if folded is None else folded.structure


def check_work(net: Network, rows: int, budget: float | None = None,
               conditions: Mapping | None = None, unconditioned: int | None = None) -> float:
    """The estimated seconds of `rows` exact inferences on this network, or TooSlow before any
    of them runs when that is past the work budget. With `unconditioned` given, that many of
    them run without the hard `conditions` (a report's prior) on the network's own tree and
    the others under them, on the tree with the observed nodes triangulated out (often many
    times smaller: bnlearn link with a tenth of its nodes observed, 6 million cells against
    63 million); without it every row is costed on the network's own tree."""
    structure = structure_of(net)
    row_seconds = structure.total_cells * SECONDS_PER_CELL
    seconds = rows * row_seconds
    if unconditioned is not None and conditions and rows:
        under = conditioned_structure(net, conditions).total_cells * SECONDS_PER_CELL
        seconds = min(unconditioned, rows) * row_seconds + max(rows - unconditioned, 0) * under
        row_seconds = seconds / rows
    budget = work_budget() if budget is None else budget
    if seconds > budget:
        raise TooSlow(seconds, budget, structure.treewidth, rows, row_seconds)
    return seconds


@functools.lru_cache(maxsize=32)
def _structure(parents: tuple[tuple[int, ...], ...], cards: tuple[int, ...] | None = None
               ) -> elimination.Structure:
    if cards is None:
        return elimination.build_structure(parents)
    return elimination.build_structure(parents, cards=cards)


def structure_of(net: Network) -> elimination.Structure:
    """The compiled junction tree of the network's graph, built once per graph in a process
    (replays, leave-one-out batches and what-ifs change evidence, never parents)."""
    return _structure(net.parents, net.cards if net.multistate else None)


def check_size(net: Network, budget: int | None = None) -> elimination.Structure:
    """The structure, or `TooLarge` before anything big is allocated when even one
    exact inference does not fit in the memory budget."""
    structure = structure_of(net)
    budget = memory_budget() if budget is None else budget
    needed = structure.peak_bytes(1) + 8 * structure.total_cells
    if needed > budget:
        raise TooLarge(needed, budget, structure.treewidth)
    return structure


def check_draws_size(net: Network, n_draws: int, budget: int | None = None) -> None:
    """`DrawsTooLarge` before anything is drawn when `n_draws` conjugate draws of
    this network's free CPT rows would not fit in the memory budget (nothing to draw when
    every entry is fixed)."""
    if net.all_fixed or n_draws <= 0:
        return
    structure = structure_of(net)
    budget = memory_budget() if budget is None else budget
    needed = elimination.draw_bytes(structure, n_draws)
    if needed > budget:
        raise DrawsTooLarge(needed, budget, structure.treewidth, n_draws)


def posterior_means(net: Network, node_log_weights: np.ndarray,
                    conditions: Mapping[str, bool] | None = None) -> np.ndarray:
    """Exact P(node = yes | evidence) for every node (CPT entries integrated out: the
    prior-mean network), by one calibration of the junction tree. No Monte Carlo error."""
    p_yes, _ = elimination.marginals(structure_of(net), net.prior_means, node_log_weights,
                                     _condition_mask(net, conditions), max_bytes=memory_budget())
    return p_yes


def posterior_means_batch(net: Network, node_log_weights: np.ndarray,
                          conditions: Mapping[str, bool] | None = None) -> np.ndarray:
    """`posterior_means` for many evidence weightings at once: (M, n) log-weights -> (M, n)."""
    node_log_weights = np.asarray(node_log_weights, dtype=float)
    if len(node_log_weights) == 0:
        return np.empty((0, net.n_nodes))
    p_yes, _ = elimination.marginals(structure_of(net), net.prior_means, node_log_weights,
                                     _condition_mask(net, conditions), max_bytes=memory_budget())
    return p_yes


def posterior_means_leave_outs(net: Network, full: np.ndarray, rows: np.ndarray,
                               conditions: Mapping[str, bool] | None = None) -> np.ndarray:
    """`posterior_means_batch(net, rows, conditions)` where each row of node log-weights
    differs from `full` on a few nodes (evidence left out): by retraction from the one
    calibrated tree of `full` (see `elimination.retract`), not one calibration per row."""
    return elimination.binary_leave_outs(structure_of(net), net.prior_means, full, rows,
                                         _condition_mask(net, conditions),
                                         max_bytes=memory_budget())


def posterior_draws(net: Network, node_log_weights: np.ndarray,
                    conditions: Mapping[str, bool] | None, n_draws: int,
                    rng: np.random.Generator) -> np.ndarray:
    """Exact iid posterior draws of P(node = yes | evidence, theta), (n_draws, n): joint
    states by backward sampling at the prior means, each entry from its Beta updated by that
    state's pseudo-observation, then the per-draw marginals, batched."""
    p_yes, _theta = draws_with_cpt(net, node_log_weights, _condition_mask(net, conditions),
                                   n_draws, rng)
    return p_yes


def cpt_draws(net: Network, problem_weights: np.ndarray, conditions: Mapping | None,
              n_draws: int, rng: np.random.Generator) -> np.ndarray:
    """Exact iid posterior draws of the CPT itself: (n_draws, n_cells) cells on a network with
    k-state nodes (`problem_weights` per node-state), (n_draws, K) theta on a yes/no network
    (`problem_weights` per node). The same draws as `state_draws`/`posterior_draws` make."""
    mask = net.state_mask(conditions) if net.multistate else _condition_mask(net, conditions)
    _probs, cpt = draws_with_cpt(net, problem_weights, mask, n_draws, rng)
    return cpt


def draws_with_cpt(net: Network, weights: np.ndarray, mask: np.ndarray, n_draws: int,
                   rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """Exact iid posterior draws and the CPT each was made at, for whoever needs both (SBC
    ranks the CPT beside the forecasts). On a yes/no network: weights per node, mask (n, 2),
    (P(node = yes) (D, n), theta (D, K)); on one with k-state nodes: weights and mask per
    node-state, (P(node = state) (D, n_states), cells (D, n_cells))."""
    if net.multistate:
        return elimination.dirichlet_draws(
            structure_of(net), net.concentration, net.fixed_cells, weights, mask, n_draws, rng,
            max_bytes=memory_budget())
    return elimination.conjugate_draws(
        structure_of(net), net.alpha, net.beta, net.fixed, weights, mask, n_draws, rng,
        max_bytes=memory_budget())


def theta_marginals(net: Network, theta: np.ndarray, node_log_weights: np.ndarray | None = None,
                    mask: np.ndarray | None = None, max_bytes: int | None = None) -> np.ndarray:
    """P(node = yes | evidence, theta) of a yes/no network at any CPT entries, not only the
    prior means: theta (..., K), node log-weights (..., n) and a hard-condition log-mask
    (..., n, 2) broadcast against each other, so value of information and sensitivity run
    every draw and clamp in one batched call. `max_bytes` defaults to the memory budget."""
    p_yes, _log_z = elimination.marginals(
        structure_of(net), theta, node_log_weights, mask,
        max_bytes=memory_budget() if max_bytes is None else max_bytes)
    return p_yes


def cell_marginals(net: Network, cells: np.ndarray, state_log_weights: np.ndarray | None = None,
                   mask: np.ndarray | None = None, max_bytes: int | None = None) -> np.ndarray:
    """`theta_marginals` cell by cell: P(node = state | evidence, CPT cells) with cells
    (..., n_cells), state log-weights and a log-mask (..., n_states) broadcast against each
    other; (batch..., n_states)."""
    probs, _log_z = elimination.state_marginals(
        structure_of(net), cells, state_log_weights, mask,
        max_bytes=memory_budget() if max_bytes is None else max_bytes)
    return probs


def _condition_mask(net: Network, conditions: Mapping[str, bool] | None) -> np.ndarray:
    return net.node_mask(conditions)


# ------------------------------------------------------- networks with more than two states
#
# The same conjugacy, cell by cell: the means are one calibration of the prior-mean network
# (each row at its Dirichlet mean), the draws joint states by backward sampling, then each
# row from its Dirichlet updated by the one pseudo-observation the state makes of it.

def state_means(net: Network, state_log_weights: np.ndarray,
                conditions: Mapping | None = None) -> np.ndarray:
    """Exact P(node = state | evidence), a flat (n_states,) vector in engine order."""
    probs, _ = elimination.state_marginals(structure_of(net), net.prior_cells, state_log_weights,
                                           net.state_mask(conditions), max_bytes=memory_budget())
    return probs


def family_means(net: Network, state_log_weights: np.ndarray, mask: np.ndarray,
                 max_bytes: int | None = None) -> np.ndarray:
    """Exact P(node = state, its parents = row | evidence) for every CPT cell at the prior-mean
    cells, (n_cells,) or (B, n_cells) for a batch of per-state log-masks (B, n_states)."""
    fam, _ = elimination.family_marginals(
        structure_of(net), net.prior_cells, state_log_weights, mask,
        max_bytes=memory_budget() if max_bytes is None else max_bytes)
    return fam


def state_means_batch(net: Network, state_log_weights: np.ndarray,
                      conditions: Mapping | None = None) -> np.ndarray:
    """`state_means` for many evidence weightings at once: (M, n_states) -> (M, n_states)."""
    state_log_weights = np.asarray(state_log_weights, dtype=float)
    if len(state_log_weights) == 0:
        return np.empty((0, net.n_states))
    probs, _ = elimination.state_marginals(structure_of(net), net.prior_cells, state_log_weights,
                                           net.state_mask(conditions), max_bytes=memory_budget())
    return probs


def state_means_leave_outs(net: Network, full: np.ndarray, rows: np.ndarray,
                           conditions: Mapping | None = None) -> np.ndarray:
    """`state_means_batch(net, rows, conditions)` for rows that each differ from `full` on a
    few nodes, by retraction from the one calibrated tree of `full`."""
    return elimination.leave_out_marginals(structure_of(net), net.prior_cells, full, rows,
                                           net.state_mask(conditions), max_bytes=memory_budget())


def means_without_each(net: Network, weights: np.ndarray, conditions: Mapping
                       ) -> tuple[np.ndarray, dict[str, np.ndarray]]:
    """The exact means with every condition, and with each condition left out in turn (per
    node-state on a network with k-state nodes, else P(yes) per node; `weights` in the same
    form). Two batches: each half's leave-outs share the other half's conditions, which fold
    into the tables once, instead of a tree re-planned for every leave-out."""
    names = sorted(conditions)
    multistate = net.multistate
    mask_of = net.state_mask if multistate else net.node_mask
    masks = np.stack([mask_of(conditions)] + [
        mask_of({k: v for k, v in conditions.items() if k != node}) for node in names])
    half = 1 + len(names) // 2
    out = []
    for rows in (slice(0, half), slice(half, len(masks))):
        if rows.start == rows.stop:
            continue
        if multistate:
            probs, _ = elimination.state_marginals(structure_of(net), net.prior_cells, weights,
                                                   masks[rows], max_bytes=memory_budget())
        else:
            probs, _ = elimination.marginals(structure_of(net), net.prior_means, weights,
                                             masks[rows], max_bytes=memory_budget())
        out.append(probs)
    means = np.concatenate(out)
    return means[0], dict(zip(names, means[1:], strict=True))


def state_means_clamped(net: Network, weights: np.ndarray, conditions: Mapping,
                        clamps: list[tuple[str, object]]) -> np.ndarray:
    """The exact means (n_states per row) with `conditions` and each (node, outcome) clamp in
    turn, in one batch (the shared conditions fold into the tables once); NaN rows for a clamp
    the evidence rules out (probability zero: no conditional exists)."""
    now = state_means(net, weights, conditions)
    out = np.full((len(clamps), net.n_states), np.nan)
    possible = [i for i, (node, outcome) in enumerate(clamps)
                if now[net.state_offsets[net.index(node)]
                       + net.state_index(net.index(node), outcome)] > 0.0]
    if possible:
        masks = np.stack([net.state_mask({**conditions, clamps[i][0]: clamps[i][1]})
                          for i in possible])
        out[possible], _ = elimination.state_marginals(structure_of(net), net.prior_cells,
                                                       weights, masks, max_bytes=memory_budget())
    return out


def state_draws(net: Network, state_log_weights: np.ndarray, conditions: Mapping | None,
                n_draws: int, rng: np.random.Generator) -> np.ndarray:
    """Exact iid posterior draws of P(node = state | evidence, CPT), (n_draws, n_states)."""
    probs, _cells = draws_with_cpt(net, state_log_weights, net.state_mask(conditions), n_draws,
                                   rng)
    return probs
