"""The one seam between a scenario's inputs and an engine: the prepared problem, the
posterior an engine returns, and `fit`."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..model.network import Network, build_network, conditions_of, node_log_weights
from ..model.spec import Inputs


@dataclass
class Posterior:
    """Draws of P(node = yes | evidence, theta), (chains, draws, n), and how they were made."""

    p_yes: np.ndarray
    mcse: np.ndarray
    diagnostics: dict
    engine: str
    settings: dict


@dataclass(frozen=True)
class Problem:
    """A fit prepared for an engine: the network, evidence weights and hard conditions."""

    net: Network
    node_log_weights: np.ndarray
    conditions: dict[str, bool]

    @property
    def state_log_evidence(self) -> np.ndarray:
        return self.net.state_log_evidence(self.node_log_weights, self.conditions)

    @property
    def hard_mask(self) -> np.ndarray:
        """Hard conditions per node, (n, 2) log-indicators, as the NUTS model takes them."""
        return self.net.node_mask(self.conditions)


def prepare(inputs: Inputs, given: dict[str, bool] | None = None) -> Problem:
    net = build_network(inputs.scenario)
    return Problem(net, node_log_weights(net.node_ids, inputs.evidence),
                   conditions_of(inputs.resolutions, given))


def fit(inputs: Inputs, seed: int, settings=None, given: dict[str, bool] | None = None) -> Posterior:
    """Sample the scenario's posterior with PyMC's NUTS (imported only here, when needed)."""
    from . import nuts

    problem = prepare(inputs, given)
    result = nuts.sample(problem.net, problem.node_log_weights, problem.hard_mask, seed,
                         settings or nuts.SamplerSettings())
    return Posterior(result.p_yes, result.mcse, result.diagnostics, result.engine, result.settings)


