"""The engine of record: a PyMC model of the scenario, CPT entries sampled with NUTS.

The only module that imports PyMC. Discrete node states are summed out exactly inside the
model; evidence enters as per-node log-weights and a hard-evidence mask held in `pm.Data`,
so a change of evidence reuses the same model graph.
"""

from __future__ import annotations

import logging
import os
import sys
import warnings
from dataclasses import dataclass, field

import arviz as az
import numpy as np
import pymc as pm
import pytensor.tensor as pt

from ..network import Network

RHAT_LIMIT = 1.01
ESS_MIN = 400.0


@dataclass(frozen=True)
class SamplerSettings:
    draws: int = 1000
    tune: int = 1000
    chains: int = 4
    target_accept: float = 0.9
    cores: int | None = None
    progress: bool = True
    backend: str = "nutpie"


@dataclass
class NutsFit:
    """Posterior draws of P(node = yes | evidence, theta) and the sampler's diagnostics."""

    p_yes: np.ndarray                 # (chains, draws, n)
    mcse: np.ndarray                  # (n,) Monte Carlo standard error of each mean
    diagnostics: dict
    idata: az.InferenceData | None = None
    engine: str = "pymc-nuts"
    settings: dict = field(default_factory=dict)


def build_model(net: Network, node_log_weights: np.ndarray, hard_mask: np.ndarray) -> pm.Model:
    """The scenario as a PyMC model. `hard_mask` is 0 for joint states consistent with the
    hard evidence and -inf for the others."""
    free = net.free
    fixed = np.flatnonzero(~np.isnan(net.fixed))
    fixed_part = (net.uses_yes[:, fixed] @ np.log(net.fixed[fixed])
                  + net.uses_no[:, fixed] @ np.log1p(-net.fixed[fixed]))
    coords = {"node": list(net.node_ids), "entry": [f"{net.node_ids[net.entry_node[k]]}|"
                                                    f"{net.entry_config[k]}" for k in free]}
    with pm.Model(coords=coords) as model:
        log_weights = pm.Data("node_log_weights", np.asarray(node_log_weights, dtype=float))
        mask = pm.Data("hard_mask", np.asarray(hard_mask, dtype=float))
        log_prior = pt.as_tensor_variable(fixed_part)
        if len(free):
            theta = pm.Beta("theta", alpha=net.alpha[free], beta=net.beta[free], dims="entry")
            log_prior = (log_prior + pt.dot(net.uses_yes[:, free], pt.log(theta))
                         + pt.dot(net.uses_no[:, free], pt.log1p(-theta)))
        log_joint = log_prior + pt.dot(net.states, log_weights) + mask
        pm.Potential("evidence", pt.logsumexp(log_joint))
        pm.Deterministic("p_yes", pt.dot(pt.special.softmax(log_joint), net.states), dims="node")
    return model


def diagnose(idata: az.InferenceData) -> dict:
    """Divergences, worst R-hat and smallest ESS over every sampled and reported quantity."""
    names = [v for v in ("theta", "p_yes") if v in idata.posterior]
    divergences = int(idata.sample_stats["diverging"].sum())
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        rhat = az.rhat(idata, var_names=names)
        ess_bulk = az.ess(idata, var_names=names, method="bulk")
        ess_tail = az.ess(idata, var_names=names, method="tail")
    max_rhat = max(float(np.nanmax(rhat[v].values)) for v in names)
    min_ess = min(min(float(np.nanmin(ess_bulk[v].values)), float(np.nanmin(ess_tail[v].values)))
                  for v in names)
    problems = []
    if divergences:
        problems.append(f"{divergences} divergent transitions")
    if not max_rhat <= RHAT_LIMIT:
        problems.append(f"R-hat {max_rhat:.3f} > {RHAT_LIMIT}")
    if not min_ess >= ESS_MIN:
        problems.append(f"ESS {min_ess:.0f} < {ESS_MIN:.0f}")
    return {"divergences": divergences, "max_rhat": round(max_rhat, 4),
            "min_ess": round(min_ess, 1), "warnings": problems}


BACKENDS = ("nutpie", "pymc")


def _fit_from_idata(idata: az.InferenceData, engine: str, settings: SamplerSettings) -> NutsFit:
    p_yes = np.asarray(idata.posterior["p_yes"].values)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        mcse = az.mcse(idata, var_names=["p_yes"])["p_yes"].values
    return NutsFit(p_yes=p_yes, mcse=np.asarray(mcse), diagnostics=diagnose(idata), idata=idata,
                   engine=engine,
                   settings={"draws": settings.draws, "tune": settings.tune,
                             "chains": settings.chains, "target_accept": settings.target_accept})


class Sampler:
    """One scenario structure, compiled once; evidence and hard conditions are swapped in as
    data for every fit, so refits after an evidence change skip model building and
    compilation (the costly part), which is what makes SBC and leave-one-out refits cheap.

    backend "nutpie": PyMC model compiled by nutpie (numba), NUTS in Rust. backend "pymc":
    `pm.sample` (PyMC's own NUTS on the C backend), the same model object reused.
    """

    def __init__(self, net: Network, backend: str = "nutpie"):
        if backend not in BACKENDS:
            raise ValueError(f"unknown backend {backend!r}; choose from {BACKENDS}")
        self.net = net
        self.backend = backend
        self.model = build_model(net, np.zeros(net.n_nodes), np.zeros(len(net.states)))
        self._compiled = None

    def _data(self, node_log_weights, hard_mask) -> dict[str, np.ndarray]:
        return {"node_log_weights": np.asarray(node_log_weights, dtype=float),
                "hard_mask": np.asarray(hard_mask, dtype=float)}

    def sample(self, node_log_weights: np.ndarray, hard_mask: np.ndarray, seed: int,
               settings: SamplerSettings = SamplerSettings()) -> NutsFit:
        data = self._data(node_log_weights, hard_mask)
        if len(self.net.free) == 0:
            return self._constant(data, seed)
        if self.backend == "nutpie":
            return self._sample_nutpie(data, seed, settings)
        return self._sample_pymc(data, seed, settings)

    def _constant(self, data, seed) -> NutsFit:
        """Every entry is a constant: the posterior is a point mass, computed by the same graph."""
        with self.model:
            pm.set_data(data)
        value = np.asarray(pm.draw(self.model["p_yes"], random_seed=seed))
        return NutsFit(p_yes=value[None, None, :], mcse=np.zeros(self.net.n_nodes),
                       diagnostics={"divergences": 0, "max_rhat": 1.0, "min_ess": float("inf"),
                                    "warnings": []},
                       engine="pymc-constant", settings={"draws": 1, "chains": 1})

    def _sample_nutpie(self, data, seed, settings: SamplerSettings) -> NutsFit:
        import nutpie

        if self._compiled is None:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                self._compiled = nutpie.compile_pymc_model(self.model, backend="numba")
        compiled = self._compiled.with_data(**data)
        cores = settings.cores or min(settings.chains, os.cpu_count() or 1)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            idata = nutpie.sample(compiled, draws=settings.draws, tune=settings.tune,
                                  chains=settings.chains, cores=cores, seed=seed,
                                  progress_bar=settings.progress, target_accept=settings.target_accept)
        return _fit_from_idata(idata, "pymc-nutpie", settings)

    def _sample_pymc(self, data, seed, settings: SamplerSettings) -> NutsFit:
        cores = settings.cores or min(settings.chains, os.cpu_count() or 1)
        if settings.progress:
            # PyMC binds sys.stderr when first imported; follow it if it has been replaced since
            # (as test runners and embedding programs do), or the bar writes to a closed stream.
            from pymc.progress_bar import rich_progress

            rich_progress.stderr = sys.stderr
        quiet = logging.getLogger("pymc")
        level = quiet.level
        quiet.setLevel(logging.ERROR)
        try:
            with self.model, warnings.catch_warnings():
                warnings.simplefilter("ignore")
                pm.set_data(data)
                idata = pm.sample(
                    draws=settings.draws, tune=settings.tune, chains=settings.chains, cores=cores,
                    target_accept=settings.target_accept, random_seed=seed,
                    progressbar=settings.progress, compute_convergence_checks=False,
                )
        finally:
            quiet.setLevel(level)
        return _fit_from_idata(idata, "pymc-nuts", settings)


_SAMPLERS: dict[tuple, Sampler] = {}
_SAMPLER_CACHE_SIZE = 8


def structure_key(net: Network) -> tuple:
    """What the compiled model depends on: the graph and the priors, not the evidence."""
    return (net.node_ids, net.states.shape, net.uses_yes.tobytes(), net.uses_no.tobytes(),
            net.alpha.tobytes(), net.beta.tobytes(), net.fixed.tobytes())


def sampler_for(net: Network, backend: str = "nutpie") -> Sampler:
    """The process-wide compiled sampler for this structure (compiled on first use)."""
    key = (structure_key(net), backend)
    if key not in _SAMPLERS:
        if len(_SAMPLERS) >= _SAMPLER_CACHE_SIZE:
            _SAMPLERS.pop(next(iter(_SAMPLERS)))
        _SAMPLERS[key] = Sampler(net, backend)
    return _SAMPLERS[key]


def sample(net: Network, node_log_weights: np.ndarray, hard_mask: np.ndarray, seed: int,
           settings: SamplerSettings = SamplerSettings(), backend: str | None = None) -> NutsFit:
    return sampler_for(net, backend or settings.backend).sample(node_log_weights, hard_mask,
                                                                 seed, settings)
