"""The one seam between a scenario's inputs and an engine: the prepared problem, the
posterior an engine returns, and `fit(problem, engine)`, the only way any command gets a
posterior.

Two engines (docs/architecture.md, "Adding an engine"): "exact" (numpy only: exact posterior
means by a junction tree over the prior-mean network, intervals from exact iid conjugate draws)
for every scenario whose CPT entries each have their own Beta prior, and "nuts" (PyMC's NUTS)
for models outside that class, or when asked for. "auto" picks exact wherever it is exact.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

import numpy as np

from ..model.network import (
    Network,
    build_network,
    conditions_of,
    node_log_weights,
    state_log_weights,
)
from ..model.spec import Inputs
from .settings import ENGINES

# Exact iid draws behind a 90% interval when no sampler settings say otherwise: the 5% and
# 95% quantiles then move by about a quarter of a percentage point between seeds.
EXACT_DRAWS = 4000


@dataclass
class Posterior:
    """What an engine returns: draws of P(node = yes | evidence, theta), (chains, draws, n),
    each node's posterior mean (exact on the exact engine, the draws' mean on NUTS) and its
    Monte Carlo standard error (0 where the mean is exact), and how it was made."""

    p_yes: np.ndarray
    mcse: np.ndarray
    diagnostics: dict
    engine: str                       # "exact" or "nuts"
    settings: dict
    means: np.ndarray | None = field(default=None)
    # Posterior draws of every CPT table entry, (chains, draws, K), where the engine samples
    # them (NUTS; None on the exact engine, whose entries integrate out): what `forecast watch`
    # averages over on a NUTS scenario.
    theta: np.ndarray | None = field(default=None)
    # On a network with a node of more than two states: each node-state's posterior mean and
    # draws, flat in engine order (Network.state_offsets), (n_states,) and (chains, draws,
    # n_states); p_yes then holds each node's engine state 1 (yes on a yes/no node).
    state_means: np.ndarray | None = field(default=None)
    state_draws: np.ndarray | None = field(default=None)

    def __post_init__(self):
        if self.means is None:
            self.means = np.clip(self.p_yes, 0.0, 1.0).reshape(-1, self.p_yes.shape[-1]).mean(axis=0)


@dataclass(frozen=True)
class Problem:
    """A fit prepared for an engine: the network, evidence weights and hard conditions."""

    net: Network
    node_log_weights: np.ndarray
    conditions: Mapping[str, bool | str]
    state_log_weights: np.ndarray | None = None     # per node-state (multistate networks)

    @property
    def state_log_evidence(self) -> np.ndarray:
        """Per joint state (small networks only: the enumeration reference)."""
        return self.net.state_log_evidence(self.node_log_weights, self.conditions)

    @property
    def hard_mask(self) -> np.ndarray:
        """Hard conditions per node, (n, 2) log-indicators, as the NUTS model takes them."""
        return self.net.node_mask(self.conditions)

    @property
    def conjugate(self) -> bool:
        """Every CPT entry has its own Beta prior (or is fixed): the exact engine's class."""
        return self.net.conjugate


def prepare(inputs: Inputs, given: Mapping[str, bool | str] | None = None) -> Problem:
    net = build_network(inputs.scenario)
    return Problem(net, node_log_weights(net.node_ids, inputs.evidence),
                   conditions_of(inputs.resolutions, given),
                   state_log_weights(net, inputs.evidence) if net.multistate else None)


def engine_for(problem: Problem, engine: str = "auto") -> str:
    """"exact" or "nuts": auto is exact wherever the exact engine is exact."""
    if engine not in ENGINES:
        raise ValueError(f"unknown engine {engine!r}; choose from {', '.join(ENGINES)}")
    if engine == "auto":
        return "exact" if problem.conjugate else "nuts"
    if engine == "exact" and not problem.conjugate:
        raise NotExact("the exact engine needs every CPT entry to have its own Beta prior; "
                       "this scenario has parametric CPTs: use --engine nuts or auto")
    return engine


class NotExact(ValueError):
    """The exact engine was asked for a model outside its class."""


def fit(problem: Problem, engine: str = "auto", seed: int = 0, settings=None) -> Posterior:
    """The posterior of a prepared problem by the chosen engine. Raises
    `exact.TooLarge` before any big allocation when the network does not fit the memory
    budget (the caller names the scenario file)."""
    from .settings import SamplerSettings

    settings = settings or SamplerSettings()
    chosen = engine_for(problem, engine)
    if chosen == "exact":
        return _fit_exact(problem, seed, settings)
    return _fit_nuts(problem, seed, settings)


def exact_cpt_draws(problem: Problem, seed: int, n_draws: int) -> np.ndarray:
    """The exact engine's posterior draws of the CPT (cells on a k-state network, theta on a
    yes/no one) from `seed`: what a NUTS fit's `theta` is on that engine, and what `forecast
    watch` spreads its values over. Through this seam, so no command calls the kernel."""
    from . import exact

    net = problem.net
    exact.check_size(net)
    weights = problem.state_log_weights if net.multistate else problem.node_log_weights
    return exact.cpt_draws(net, weights, problem.conditions, n_draws, np.random.default_rng(seed))


def _fit_exact(problem: Problem, seed: int, settings) -> Posterior:
    from . import exact

    net = problem.net
    exact.check_size(net)
    n_draws = settings.draws * settings.chains if settings.draws else EXACT_DRAWS
    if net.multistate:
        return _fit_exact_states(problem, seed, n_draws)
    if net.all_fixed:
        # every CPT entry is a constant: the posterior is a point, its interval the mean
        means = exact.posterior_means(net, problem.node_log_weights, problem.conditions)
        return Posterior(means[None, None], np.zeros(net.n_nodes), _NO_DIAGNOSTICS(), "exact",
                         {"draws": 0, "method": "junction tree; every CPT entry fixed"}, means)
    means = exact.posterior_means(net, problem.node_log_weights, problem.conditions)
    draws = exact.posterior_draws(net, problem.node_log_weights, problem.conditions, n_draws,
                                  np.random.default_rng(seed))
    diagnostics = {"divergences": 0, "max_rhat": None, "min_ess": None, "warnings": []}
    return Posterior(draws[None], np.zeros(net.n_nodes), diagnostics, "exact",
                     {"draws": int(n_draws), "method": "junction tree; exact iid conjugate draws"},
                     means)


def _NO_DIAGNOSTICS() -> dict:
    return {"divergences": 0, "max_rhat": None, "min_ess": None, "warnings": []}


def _fit_exact_states(problem: Problem, seed: int, n_draws: int) -> Posterior:
    """The exact engine on a network with k-state nodes, cell by cell (see exact.state_*)."""
    from . import exact

    net = problem.net
    means = exact.state_means(net, problem.state_log_weights, problem.conditions)
    if net.all_fixed:
        draws, method = means[None], "junction tree; every CPT entry fixed"
    else:
        draws = exact.state_draws(net, problem.state_log_weights, problem.conditions, n_draws,
                                  np.random.default_rng(seed))
        method = "junction tree; exact iid conjugate (Dirichlet) draws"
    second = net.state_offsets[:-1] + 1
    return Posterior(draws[None][..., second], np.zeros(net.n_nodes), _NO_DIAGNOSTICS(), "exact",
                     {"draws": int(len(draws)) if not net.all_fixed else 0, "method": method},
                     means[second], state_means=means, state_draws=draws[None])


def _fit_nuts(problem: Problem, seed: int, settings) -> Posterior:
    check_nuts_size(problem.net)          # before PyMC is even imported
    from . import nuts

    net = problem.net
    if net.multistate:
        result = nuts.sample(net, problem.state_log_weights, net.state_mask(problem.conditions),
                             seed, settings)
        states = result.draws["p_states"]
        return Posterior(result.p_yes, result.mcse, result.diagnostics, "nuts",
                         {**result.settings, "backend": result.engine},
                         state_means=states.reshape(-1, states.shape[-1]).mean(axis=0),
                         state_draws=states)
    result = nuts.sample(net, problem.node_log_weights, problem.hard_mask, seed, settings)
    return Posterior(result.p_yes, result.mcse, result.diagnostics, "nuts",
                     {**result.settings, "backend": result.engine},
                     theta=table_draws(net, result.draws))


def table_draws(net: Network, draws: dict[str, np.ndarray]) -> np.ndarray | None:
    """Every CPT table entry per posterior draw, (chains, draws, K), made from the sampled
    "theta" (the free parameters: table entries, or a parametric CPT's numbers) by
    `net.parameters`; None when the sampler kept none."""
    parameters = net.parameters
    free = draws.get("theta")
    if free is None or free.shape[-1] != len(parameters.free):
        return None
    chains, n_draws = free.shape[:2]
    params = parameters.full(free.reshape(chains * n_draws, -1))
    return parameters.theta(params).reshape(chains, n_draws, net.n_entries)


def check_nuts_size(net: Network) -> None:
    """The NUTS model sums states out by elimination in the same kind of order: refuse, before
    PyMC is even imported, a network whose largest table (with its gradient and the tables it
    is combined with) would not fit the memory budget."""
    from .exact import TooLarge, memory_budget, structure_of

    structure = structure_of(net)
    width = structure.largest_clique             # the largest table NUTS sums over, too
    needed = 4 * 8 * structure.cells * max(1, net.n_nodes)
    budget = memory_budget()
    if needed > budget:
        raise TooLarge(needed, budget, width - 1)
