"""Simulation-based calibration (Talts, Betancourt, Simpson, Vehtari and Gelman, 2018).

If the sampler is right, then for data simulated from the prior the rank of each true
quantity among (roughly independent) posterior draws is uniform. One simulation here:

1. draw every sampled CPT entry theta_k from its Beta prior (fixed entries stay fixed);
2. draw the joint node state x from the network given theta;
3. simulate evidence from x: each node is observed with probability `observe_prob` through a
   noisy signal y_v ~ Normal(signal * (2 x_v - 1), 1), whose exact log likelihood ratio
   2 * signal * y_v becomes the node's log-weight (so the model is correctly specified), and
   resolved to its true state with probability `resolve_prob` (hard evidence);
4. fit, thin the draws to `thin_to` equally spaced ones, and rank the truth among them.

Quantities ranked: every sampled parameter (a table's CPT entries, or a parametric node's base
and cause numbers); each node's prior marginal P(x_v = yes | theta)
(a function of theta alone); and each node's state x_v itself, whose posterior draws are
Bernoulli(P(x_v = yes | evidence, theta)) per draw, with ties broken at random so a discrete
truth still has uniform ranks. Uniformity: chi-square test on the rank histogram.

A network with questions of more than two outcomes draws Dirichlet rows, a signal per state
and categorical states instead (`forecast.analysis.state_sbc`), ranked and tested the same way.

numpy and scipy only: the sampler is passed in, so this module never imports PyMC.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
from scipy import stats

from ..inference.exact import p_yes_given_theta
from ..model.network import Network
from ..parallel import task_seeds
from . import state_sbc

# fit(node_log_weights, hard_mask, seed) -> (parameter draws (D, P) incl. fixed ones,
#                                            p_yes draws (D, n), number of divergences);
# on a multistate network fit(state_log_weights, state_mask, seed) -> (CPT cell draws
# (D, n_cells) incl. fixed ones, P(node = state) draws (D, n_states), divergences)
FitFunction = Callable[[np.ndarray, np.ndarray, int], tuple[np.ndarray, np.ndarray, int]]


@dataclass(frozen=True)
class SbcSettings:
    simulations: int = 200
    thin_to: int = 99               # ranks take thin_to + 1 values
    signal: float = 1.0
    observe_prob: float = 0.8
    resolve_prob: float = 0.15
    alpha: float = 0.01             # family-wise: each test is held to alpha / (number of tests)


@dataclass(frozen=True)
class World:
    theta: np.ndarray               # (K,)
    state: np.ndarray               # (n,) 0/1
    node_log_weights: np.ndarray    # (n,)
    hard_mask: np.ndarray           # (S,) 0 or -inf
    resolved: dict[str, bool]


def draw_prior(net: Network, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """One world from the prior: the network's parameters from their Beta priors (fixed ones
    stay fixed; for a table-only network, its CPT entries), then a joint node state from the
    network they make. Returns (parameters (P,), state (n,) of 0/1)."""
    params = net.parameters
    free = params.free
    theta = params.fixed.copy()
    theta[free] = rng.beta(params.alpha[free], params.beta[free])
    joint = np.exp(net.log_state_prior(params.theta(theta)))
    return theta, net.states[rng.choice(len(joint), p=joint / joint.sum())]


def simulate_world(net: Network, rng: np.random.Generator, settings: SbcSettings) -> World:
    """`theta` holds the network's parameters (for a table-only network, its CPT entries)."""
    theta, state = draw_prior(net, rng)
    observed = rng.random(net.n_nodes) < settings.observe_prob
    signal = rng.normal(settings.signal * (2 * state - 1), 1.0)
    log_weights = np.where(observed, 2 * settings.signal * signal, 0.0)
    resolved = {net.node_ids[v]: bool(state[v])
                for v in np.flatnonzero(rng.random(net.n_nodes) < settings.resolve_prob)}
    hard_mask = net.state_log_evidence(np.zeros(net.n_nodes), resolved)
    return World(theta, state, log_weights, hard_mask, resolved)


def thin(draws: np.ndarray, keep: int) -> np.ndarray:
    """`keep` equally spaced rows of `draws` (autocorrelated draws -> nearly independent)."""
    if len(draws) < keep:
        raise ValueError(f"need at least {keep} posterior draws to thin to {keep}, got {len(draws)}")
    return draws[np.linspace(0, len(draws) - 1, keep).round().astype(int)]


def rank_of(truth: np.ndarray, draws: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Rank of each column's truth among its draws (D, Q), ties split uniformly at random."""
    below = (draws < truth).sum(axis=0)
    ties = (draws == truth).sum(axis=0)
    return below + rng.integers(0, ties + 1)


def quantity_names(net: Network, entry_labels: Sequence[str] | None = None) -> list[str]:
    """Every ranked quantity's name (on a multistate network `entry_labels` label its cells)."""
    if net.multistate:
        return state_sbc.quantity_names(net, entry_labels)
    params = net.parameters
    labels = entry_labels or [f"{net.node_ids[params.node[k]]}|{params.slot[k]}"
                              for k in range(params.n_params)]
    return ([f"theta[{labels[k]}]" for k in params.free]
            + [f"marginal[{v}]" for v in net.node_ids] + [f"state[{v}]" for v in net.node_ids])


def true_quantities(net: Network, world: World) -> np.ndarray:
    params = net.parameters
    marginal = p_yes_given_theta(net, params.theta(world.theta[None, :]),
                                 np.zeros(len(net.states)))[0]
    return np.concatenate([world.theta[params.free], marginal, world.state])


def posterior_quantities(net: Network, theta: np.ndarray, p_yes: np.ndarray,
                         rng: np.random.Generator) -> np.ndarray:
    params = net.parameters
    marginal = p_yes_given_theta(net, params.theta(theta), np.zeros(len(net.states)))
    states = (rng.random(p_yes.shape) < p_yes).astype(float)
    return np.concatenate([theta[:, params.free], marginal, states], axis=1)


def n_bins_for(simulations: int, n_ranks: int) -> int:
    """The most histogram bins (at most 20) that divide the ranks evenly and still expect
    at least 10 simulations per bin (the chi-square approximation wants 5 or more)."""
    for bins in (20, 10, 5, 4, 2):
        if n_ranks % bins == 0 and simulations / bins >= 10:
            return bins
    return 2


@dataclass(frozen=True)
class QuantityResult:
    name: str
    ranks: np.ndarray            # (simulations,)
    counts: np.ndarray           # (bins,)
    chi2: float
    p_value: float


@dataclass(frozen=True)
class SbcResult:
    settings: SbcSettings
    n_ranks: int
    bins: int
    quantities: list[QuantityResult]
    divergences: int
    fits_with_divergences: int
    p_limit: float

    @property
    def min_p(self) -> float:
        return min(q.p_value for q in self.quantities)

    @property
    def passed(self) -> bool:
        return self.min_p >= self.p_limit


def uniformity(name: str, ranks: np.ndarray, n_ranks: int, bins: int) -> QuantityResult:
    counts = np.bincount(ranks * bins // n_ranks, minlength=bins)
    expected = len(ranks) / bins
    chi2 = float(np.sum((counts - expected) ** 2) / expected)
    return QuantityResult(name, ranks, counts, chi2, float(stats.chi2.sf(chi2, bins - 1)))


def sbc_simulation(net: Network, fit: FitFunction, settings: SbcSettings,
                   seed: np.random.SeedSequence) -> tuple[np.ndarray, int]:
    """One simulation, a pure function of its own seed (so it can run anywhere): simulate a
    world, fit it, thin, and rank the truth. Returns (the rank of every quantity, the fit's
    divergences). A network with k-state questions goes by `state_sbc`'s world and quantities;
    the fit then takes and returns per node-state and per cell arrays."""
    rng = np.random.default_rng(seed)
    if net.multistate:
        cells, state, weights, mask = state_sbc.simulate_state_world(net, rng, settings)
        drawn, p_states, diverging = fit(weights, mask, int(rng.integers(2**31 - 1)))
        keep = thin(np.arange(len(drawn)), settings.thin_to)
        draws = state_sbc.posterior_state_quantities(net, drawn[keep], p_states[keep], rng)
        truth = state_sbc.true_state_quantities(net, cells, state)
        return rank_of(truth, draws, rng), int(diverging)
    world = simulate_world(net, rng, settings)
    theta, p_yes, diverging = fit(world.node_log_weights, world.hard_mask,
                                  int(rng.integers(2**31 - 1)))
    keep = thin(np.arange(len(theta)), settings.thin_to)
    draws = posterior_quantities(net, theta[keep], p_yes[keep], rng)
    return rank_of(true_quantities(net, world), draws, rng), int(diverging)


def sbc_result(net: Network, settings: SbcSettings,
               simulations: Sequence[tuple[np.ndarray, int]],
               entry_labels: Sequence[str] | None = None) -> SbcResult:
    """Test every quantity's ranks over the simulations (in simulation order)."""
    names = quantity_names(net, entry_labels)
    ranks = np.array([r for r, _ in simulations], dtype=int).reshape(len(simulations), len(names))
    divergences = sum(d for _, d in simulations)
    fits_with_divergences = sum(d > 0 for _, d in simulations)
    n_ranks = settings.thin_to + 1
    bins = n_bins_for(len(simulations), n_ranks)
    results = [uniformity(name, ranks[:, q], n_ranks, bins) for q, name in enumerate(names)]
    return SbcResult(settings, n_ranks, bins, results, divergences, fits_with_divergences,
                     settings.alpha / len(names))


def sampled(net: Network) -> bool:
    """Some CPT entry (or cell) has a prior: there is something to calibrate."""
    return not net.all_fixed if net.multistate else len(net.parameters.free) > 0


def run_sbc(net: Network, fit: FitFunction, settings: SbcSettings = SbcSettings(), seed: int = 0,
            entry_labels: Sequence[str] | None = None,
            progress: Callable[[int, int], None] | None = None) -> SbcResult:
    """Simulate, fit and rank `settings.simulations` times in this process; test every
    quantity's ranks. (`forecast check` runs the same simulations as tasks, possibly on Dask.)"""
    if not sampled(net):
        raise ValueError("every CPT entry is fixed: there is nothing for the sampler to calibrate")
    done = []
    for stream in task_seeds(seed, settings.simulations):   # simulation i: the i-th child
        done.append(sbc_simulation(net, fit, settings, stream))
        if progress:
            progress(len(done), settings.simulations)
    return sbc_result(net, settings, done, entry_labels)


def summary(result: SbcResult) -> dict:
    """The SBC result as JSON-ready data."""
    return {
        "simulations": result.settings.simulations,
        "ranks": result.n_ranks,
        "bins": result.bins,
        "signal": result.settings.signal,
        "observe_prob": result.settings.observe_prob,
        "resolve_prob": result.settings.resolve_prob,
        "p_limit": result.p_limit,
        "min_p": result.min_p,
        "passed": result.passed,
        "divergences": result.divergences,
        "fits_with_divergences": result.fits_with_divergences,
        "quantities": [
            {"name": q.name, "chi2": round(q.chi2, 4), "p_value": round(q.p_value, 6),
             "counts": q.counts.tolist()}
            for q in result.quantities
        ],
    }
