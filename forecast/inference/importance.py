"""Importance sampling over the priors: the independent reference for parametric scenarios,
in numpy alone (this module must never import PyMC).

Outside the conjugate class (a parametric CPT shares its numbers across parent
configurations) nothing integrates out in closed form, but the junction-tree kernel still
gives, for any one draw of the parameters, the exact log P(evidence | parameters) and every
node's P(yes | evidence, parameters). So: draw the parameters from their priors, build each
draw's full CPT (`Parameters.theta`), run the kernel on the whole batch, and weight each draw by
P(evidence | parameters). Self-normalised, with its own Monte Carlo standard error

    se^2 = sum_d w_d^2 (f_d - mean)^2          (w normalised to sum 1)

and Kish's effective sample size 1 / sum w_d^2. The evidence on a scenario is one joint state
seen through soft and hard evidence, so the posterior of the parameters stays close to their
prior and the prior is a good proposal (the effective sample size is reported so a test can
hold it to that).

The same draws weighted by several evidence vectors at once (common random numbers) give
posterior means with each evidence item left out: their differences carry far less Monte Carlo
error than each mean, which is how influence is computed on parametric scenarios.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np

from ..model.network import Network
from . import elimination
from .exact import memory_budget, structure_of

# Prior draws behind a parametric scenario's reference means and influence: the standard error
# of a mean is then about 0.3 percentage points at most, less on most nodes.
REFERENCE_DRAWS = 8000
# Prior draws behind leave-one-out influence on parametric scenarios: the draws are shared by
# every leave-out (common random numbers), so the error of each difference is far below that of
# either mean.
INFLUENCE_DRAWS = 4000


@dataclass(frozen=True)
class ImportanceEstimate:
    mean: np.ndarray                    # (..., n) posterior mean of P(node = yes | evidence, params)
    se: np.ndarray                      # (..., n) its Monte Carlo standard error
    effective_sample_size: np.ndarray   # (...,) Kish's ESS of the weights
    draws: int


def parameter_draws(net: Network, n_draws: int, rng: np.random.Generator) -> np.ndarray:
    """(n_draws, P) iid draws of the parameters from their priors."""
    return net.parameters.draw_prior(rng, n_draws)


def prior_p_yes(net: Network, n_draws: int, rng: np.random.Generator) -> np.ndarray:
    """(n_draws, n) draws of P(node = yes | parameters) without evidence: the prior of each
    forecast (its mean is the prior mean, its quantiles the prior interval)."""
    theta = net.parameters.theta(parameter_draws(net, n_draws, rng))
    p_yes, _ = elimination.marginals(structure_of(net), theta, max_bytes=memory_budget())
    return p_yes


def importance_means(net: Network, node_log_weights: np.ndarray,
                     conditions: Mapping[str, bool] | None, n_draws: int,
                     rng: np.random.Generator) -> ImportanceEstimate:
    """Posterior means of every node for one evidence vector (n,) or several (M, n), all from
    the same n_draws prior draws of the parameters."""
    weights_in = np.asarray(node_log_weights, dtype=float)
    single = weights_in.ndim == 1
    rows = weights_in[None, :] if single else weights_in
    theta = net.parameters.theta(parameter_draws(net, n_draws, rng))      # (D, K)
    mask = net.node_mask(conditions)
    # batch (M, D): each evidence vector against every draw
    p_yes, log_z = elimination.marginals(structure_of(net), theta[None, :, :], rows[:, None, :],
                                         mask, max_bytes=memory_budget())
    mean, se, ess = _weighted(p_yes, log_z)
    if single:
        return ImportanceEstimate(mean[0], se[0], ess[0], n_draws)
    return ImportanceEstimate(mean, se, ess, n_draws)


def _weighted(p_yes: np.ndarray, log_z: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Self-normalised means, their standard errors and Kish's ESS from draws' p_yes (M, D, n)
    and log P(evidence | draw) (M, D)."""
    top = log_z.max(axis=1, keepdims=True)
    w = np.exp(log_z - top)
    w /= w.sum(axis=1, keepdims=True)                                     # (M, D)
    mean = np.clip(np.einsum("md,mdn->mn", w, p_yes), 0.0, 1.0)
    se = np.sqrt(np.einsum("md,mdn->mn", w**2, (p_yes - mean[:, None, :]) ** 2))
    return mean, se, 1.0 / np.sum(w**2, axis=1)


def importance_batch(net: Network, node_log_weights: np.ndarray,
                     conditions: Mapping[str, bool] | None, n_draws: int,
                     rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """One batch of a reference split into tasks: n_draws prior draws' P(yes | evidence,
    draw) (D, n) and log P(evidence | draw) (D,). `combine_batches` weighs them together."""
    theta = net.parameters.theta(parameter_draws(net, n_draws, rng))
    return elimination.marginals(structure_of(net), theta,
                                 np.asarray(node_log_weights, dtype=float)[None, :],
                                 net.node_mask(conditions), max_bytes=memory_budget())


def combine_batches(batches: list[tuple[np.ndarray, np.ndarray]]) -> ImportanceEstimate:
    """The estimate from every batch's draws at once (in batch order), as if drawn together."""
    p_yes = np.concatenate([b[0] for b in batches])
    log_z = np.concatenate([b[1] for b in batches])
    mean, se, ess = _weighted(p_yes[None], log_z[None])
    return ImportanceEstimate(mean[0], se[0], ess[0], len(log_z))


# ------------------------------------------------------- networks with more than two states

def free_rows(net: Network) -> tuple[np.ndarray, np.ndarray]:
    """The free CPT rows of a multistate network, flat cell order: (each row's first cell,
    its number of states)."""
    starts, cards = [], []
    for v in range(net.n_nodes):
        k = net.cards[v]
        for start in range(int(net.cell_offsets[v]), int(net.cell_offsets[v + 1]), k):
            if not np.isnan(net.concentration[start]):
                starts.append(start)
                cards.append(k)
    return np.array(starts, dtype=np.int64), np.array(cards, dtype=np.int64)


def prior_cell_draws(net: Network, n_draws: int, rng: np.random.Generator) -> np.ndarray:
    """(n_draws, n_cells) iid CPTs of a multistate network from its priors: every free row
    from its Dirichlet (normalised gammas, in log space as Gamma(a) = Gamma(a + 1) U^(1/a),
    so a row of small concentrations never underflows to zeros), fixed cells as they are."""
    starts, cards = free_rows(net)
    cells = np.broadcast_to(np.nan_to_num(net.fixed_cells), (n_draws, net.fixed_cells.size)).copy()
    if not len(starts):
        return cells
    columns = np.repeat(starts, cards) + np.arange(int(cards.sum())) - np.repeat(
        np.cumsum(cards) - cards, cards)
    a = net.concentration[columns]
    log_g = np.log(rng.gamma(a + 1.0, size=(n_draws, len(a)))) + np.log1p(
        -rng.random((n_draws, len(a)))) / a
    within = np.concatenate([[0], np.cumsum(cards)[:-1]])
    row = np.repeat(np.arange(len(starts)), cards)
    log_g -= np.maximum.reduceat(log_g, within, axis=1)[:, row]
    g = np.exp(log_g)
    g /= np.add.reduceat(g, within, axis=1)[:, row]
    cells[:, columns] = np.clip(g, np.finfo(float).tiny, 1.0)
    return cells


def importance_state_batch(net: Network, state_log_weights: np.ndarray, conditions: Mapping | None,
                           n_draws: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """`importance_batch` on a multistate network (no conjugacy used): n_draws CPTs from the
    Dirichlet priors, each one's exact P(node = state | evidence, CPT) (D, n_states) and
    log P(evidence | CPT) (D,). `combine_batches` weighs them together."""
    return elimination.state_marginals(structure_of(net), prior_cell_draws(net, n_draws, rng),
                                       np.asarray(state_log_weights, dtype=float),
                                       net.state_mask(conditions), max_bytes=memory_budget())
