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
)
from ..model.spec import Inputs

ENGINES = ("auto", "exact", "nuts")
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

    def __post_init__(self):
        if self.means is None:
            self.means = np.clip(self.p_yes, 0.0, 1.0).reshape(-1, self.p_yes.shape[-1]).mean(axis=0)


@dataclass(frozen=True)
class Problem:
    """A fit prepared for an engine: the network, evidence weights and hard conditions."""

    net: Network
    node_log_weights: np.ndarray
    conditions: Mapping[str, bool]

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


def prepare(inputs: Inputs, given: Mapping[str, bool] | None = None) -> Problem:
    net = build_network(inputs.scenario)
    return Problem(net, node_log_weights(net.node_ids, inputs.evidence),
                   conditions_of(inputs.resolutions, given))


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
    `elimination.TooLarge` before any big allocation when the network does not fit the memory
    budget (the caller names the scenario file)."""
    from .settings import SamplerSettings

    settings = settings or SamplerSettings()
    chosen = engine_for(problem, engine)
    if chosen == "exact":
        return _fit_exact(problem, seed, settings)
    return _fit_nuts(problem, seed, settings)


def _fit_exact(problem: Problem, seed: int, settings) -> Posterior:
    from . import exact

    net = problem.net
    exact.check_size(net)
    n_draws = settings.draws * settings.chains if settings.draws else EXACT_DRAWS
    means = exact.posterior_means(net, problem.node_log_weights, problem.conditions)
    draws = exact.posterior_draws(net, problem.node_log_weights, problem.conditions, n_draws,
                                  np.random.default_rng(seed))
    diagnostics = {"divergences": 0, "max_rhat": None, "min_ess": None, "warnings": []}
    return Posterior(draws[None], np.zeros(net.n_nodes), diagnostics, "exact",
                     {"draws": int(n_draws), "method": "junction tree; exact iid conjugate draws"},
                     means)


def _fit_nuts(problem: Problem, seed: int, settings) -> Posterior:
    check_nuts_size(problem.net)          # before PyMC is even imported
    from . import nuts

    result = nuts.sample(problem.net, problem.node_log_weights, problem.hard_mask, seed, settings)
    return Posterior(result.p_yes, result.mcse, result.diagnostics, "nuts",
                     {**result.settings, "backend": result.engine},
                     theta=table_draws(problem.net, result.draws))


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
    from . import elimination
    from .exact import memory_budget, structure_of

    width = structure_of(net).largest_clique     # the largest table NUTS sums over, too
    needed = 4 * 8 * 2**width * max(1, net.n_nodes)
    budget = memory_budget()
    if needed > budget:
        raise elimination.TooLarge(needed, budget, width - 1)
