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
from typing import Any

import arviz as az
import numpy as np
import pymc as pm
import pytensor.tensor as pt

from ..model.network import Network
from .exact import structure_of
from .settings import BACKENDS, ENUMERATION_MAX_NODES, SamplerSettings, draws_for_ess

RHAT_LIMIT = 1.01
ESS_MIN = 400.0


@dataclass
class NutsFit:
    """Posterior draws of P(node = yes | evidence, theta) and the sampler's diagnostics."""

    p_yes: np.ndarray                 # (chains, draws, n)
    mcse: np.ndarray                  # (n,) Monte Carlo standard error of each mean
    diagnostics: dict
    idata: Any = None                 # ArviZ 0.x InferenceData or (ArviZ 1) xarray DataTree
    engine: str = "pymc-nuts"
    settings: dict = field(default_factory=dict)


def _entry_logs(net: Network):
    """log(theta) and log(1 - theta) for every CPT entry. Table entries are their own
    parameters (a sampled Beta, or a constant); a parametric node's entries are computed from
    its shared parameters by the linear maps of `forecast.model.parametric` (log(1 - theta)
    for noisy_or, the logit for log_odds), in log space so no entry rounds to 0 or 1."""
    params = net.parameters
    if params.identity:
        free = net.free
        log_theta = np.log(np.where(np.isnan(net.fixed), 0.5, net.fixed))
        log1m_theta = np.log1p(-np.where(np.isnan(net.fixed), 0.5, net.fixed))
        log_theta, log1m_theta = pt.as_tensor_variable(log_theta), pt.as_tensor_variable(log1m_theta)
        if len(free):
            theta = pm.Beta("theta", alpha=net.alpha[free], beta=net.beta[free], dims="entry")
            log_theta = pt.set_subtensor(log_theta[free], pt.log(theta))
            log1m_theta = pt.set_subtensor(log1m_theta[free], pt.log1p(-theta))
        return log_theta, log1m_theta
    # Parametric: only dense matrix products (no indexed set_subtensor), which numba compiles
    # in a fraction of the time. value = constants + placement @ sampled Betas.
    free = params.free
    value = pt.as_tensor_variable(np.where(np.isnan(params.fixed), 0.0, params.fixed))
    if len(free):
        theta = pm.Beta("theta", alpha=params.alpha[free], beta=params.beta[free], dims="entry")
        place = np.zeros((params.n_params, len(free)))
        place[free, np.arange(len(free))] = 1.0
        value = value + pt.dot(place, theta)
    log_p, log1m_p = pt.log(value), pt.log1p(-value)
    take = np.zeros((params.n_entries, params.n_params))       # table entries copy a parameter
    take[params.table_entry, params.table_param] = 1.0
    log_theta = pt.dot(take, log_p)
    log1m_theta = pt.dot(take, log1m_p)
    if len(params.or_entry):
        put = np.zeros((params.n_entries, len(params.or_entry)))
        put[params.or_entry, np.arange(len(params.or_entry))] = 1.0
        log_no = pt.dot(params.or_matrix, log1m_p)
        log_theta = log_theta + pt.dot(put, pt.log1mexp(log_no))
        log1m_theta = log1m_theta + pt.dot(put, log_no)
    if len(params.lo_entry):
        put = np.zeros((params.n_entries, len(params.lo_entry)))
        put[params.lo_entry, np.arange(len(params.lo_entry))] = 1.0
        z = pt.dot(params.lo_matrix, log_p - log1m_p)
        log_theta = log_theta + pt.dot(put, -pt.softplus(-z))
        log1m_theta = log1m_theta + pt.dot(put, -pt.softplus(z))
    return log_theta, log1m_theta


def parameter_labels(net: Network) -> list[str]:
    """`node|configuration` for a table parameter, `node|base` or `node|<parent>` for a
    parametric one, in parameter order."""
    params = net.parameters
    labels = []
    for v, slot in zip(params.node, params.slot, strict=True):
        node = net.node_ids[v]
        if net.forms[v] == "table":
            labels.append(f"{node}|{slot}")
        else:
            labels.append(f"{node}|{'base' if slot < 0 else net.node_ids[net.parents[v][slot]]}")
    return labels


def _enumerate(net: Network, log_theta, log1m_theta, log_weights, node_mask):
    """log Z and P(node = yes | evidence, theta) by summing over all 2^n joint states."""
    states = net.states
    log_joint = (pt.dot(net.uses_yes, log_theta) + pt.dot(net.uses_no, log1m_theta)
                 + pt.dot(states, log_weights + node_mask[:, 1]) + pt.dot(1 - states, node_mask[:, 0]))
    return pt.logsumexp(log_joint), pt.dot(pt.special.softmax(log_joint), states)


def _eliminate(net: Network, log_theta, log1m_theta, log_weights, node_mask):
    """log Z by variable elimination in a min-fill order. A factor is a log-space tensor with
    one axis per variable of its scope (kept sorted); a product is a broadcast sum after
    aligning axes, and summing a variable out is a logsumexp over its axis. P(node = yes) is
    d log Z / d L_node (L enters as x_node * L_node): one backward pass for every node."""
    n = net.n_nodes
    first = {int(v): int(np.flatnonzero(net.entry_node == v)[0]) for v in range(n)}

    def sorted_factor(table, axes_vars):
        order = [int(i) for i in np.argsort(axes_vars)]
        if order != list(range(len(order))):
            table = table.transpose(*order)
        return table, sorted(axes_vars)

    def aligned(table, scope, union):
        return table.dimshuffle([scope.index(v) if v in scope else "x" for v in union])

    factors = []
    for v in range(n):
        pa = net.parents[v]
        k = len(pa)
        rows = slice(first[v], first[v] + 2**k)
        no = pt.reshape(log1m_theta[rows], (2,) * k) if k else log1m_theta[rows][0]
        yes = pt.reshape(log_theta[rows], (2,) * k) if k else log_theta[rows][0]
        # reshape of a config-indexed vector puts the highest bit first: parents reversed
        table = pt.stack([no, yes]) + pt.stack([node_mask[v, 0], log_weights[v] + node_mask[v, 1]]
                                               ).dimshuffle([0] + ["x"] * k)
        factors.append(sorted_factor(table, [v, *reversed(pa)]))
    for u in structure_of(net).order:           # the exact engine's order: one home
        touching = [f for f in factors if u in f[1]]
        factors = [f for f in factors if u not in f[1]]
        union = sorted(set().union(*(f[1] for f in touching)))
        total = aligned(*touching[0], union)
        for table, scope in touching[1:]:
            total = total + aligned(table, scope, union)
        factors.append((pt.logsumexp(total, axis=union.index(u)), [w for w in union if w != u]))
    log_z = pt.sum([pt.reshape(table, ()) for table, _scope in factors])
    return log_z, pt.grad(log_z, log_weights)


def build_model(net: Network, node_log_weights: np.ndarray, hard_mask: np.ndarray,
                method: str | None = None) -> pm.Model:
    """The scenario as a PyMC model: CPT entries as Beta variables, joint node states summed
    out exactly, evidence and hard conditions as data (so a change of evidence keeps the
    compiled model). `hard_mask` is (n, 2) per node, or (S,) per joint state."""
    method = method or ("enumerate" if net.n_nodes <= ENUMERATION_MAX_NODES else "eliminate")
    labels = parameter_labels(net)
    coords = {"node": list(net.node_ids), "entry": [labels[k] for k in net.parameters.free]}
    with pm.Model(coords=coords) as model:
        log_weights = pm.Data("node_log_weights", np.asarray(node_log_weights, dtype=float))
        node_mask = pm.Data("node_mask", net.as_node_mask(hard_mask))
        log_theta, log1m_theta = _entry_logs(net)
        summed_out = _enumerate if method == "enumerate" else _eliminate
        log_z, p_yes = summed_out(net, log_theta, log1m_theta, log_weights, node_mask)
        pm.Potential("evidence", log_z)
        pm.Deterministic("p_yes", p_yes, dims="node")
    return model


def diagnose(idata, tune: int) -> dict:
    """Divergences, worst R-hat and smallest ESS over every sampled and reported quantity."""
    names = [v for v in ("theta", "p_yes") if v in idata.posterior]
    divergences = int(idata.sample_stats["diverging"].sum())
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        rhat = az.rhat(idata, var_names=names)
        ess_bulk = az.ess(idata, var_names=names, method="bulk")
        ess_tail = az.ess(idata, var_names=names, method="tail")
    # A quantity that is constant in every draw (a resolved node's p_yes is exactly 0 or 1) has
    # no R-hat or ESS (NaN): it is left out, not an all-NaN warning or a NaN in the report.
    rhats = np.concatenate([np.ravel(rhat[v].values) for v in names])
    esses = np.concatenate([np.ravel(e[v].values) for e in (ess_bulk, ess_tail) for v in names])
    max_rhat = float(np.max(rhats[np.isfinite(rhats)], initial=-np.inf))
    min_ess = float(np.min(esses[np.isfinite(esses)], initial=np.inf))
    max_rhat = max_rhat if np.isfinite(max_rhat) else float("nan")
    min_ess = min_ess if np.isfinite(min_ess) else float("nan")
    draws = int(idata.posterior.sizes["draw"])
    more_tune = max(2 * tune, 2000)
    problems = []
    # Each warning says what it means for the numbers and what to run next.
    if divergences:
        problems.append(f"{divergences} divergent transitions: the sampler missed part of the "
                        "posterior, so forecasts and intervals may be off; rerun with --tune "
                        f"{more_tune} (if they persist, suspect a prior with a or b below 1, or "
                        "near-certain evidence against the priors)")
    if not max_rhat <= RHAT_LIMIT:
        problems.append(f"R-hat {max_rhat:.3f} > {RHAT_LIMIT}: the chains disagree, so the numbers "
                        f"are not reliable yet; rerun with --tune {more_tune} --draws {2 * draws}")
    if not min_ess >= ESS_MIN:
        problems.append(f"ESS {min_ess:.0f} < {ESS_MIN:.0f}: too few independent draws for stable "
                        f"intervals; rerun with --draws {draws_for_ess(draws, min_ess, ESS_MIN)}")
    return {"divergences": divergences, "max_rhat": round(max_rhat, 4),
            "min_ess": round(min_ess, 1), "warnings": problems}


def _fit_from_idata(idata, engine: str, settings: SamplerSettings, tune: int) -> NutsFit:
    p_yes = np.asarray(idata.posterior["p_yes"].values)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        mcse = az.mcse(idata, var_names=["p_yes"])["p_yes"].values
    return NutsFit(p_yes=p_yes, mcse=np.asarray(mcse), diagnostics=diagnose(idata, tune),
                   idata=idata, engine=engine,
                   settings={"draws": settings.draws, "tune": tune,
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
        self.model = build_model(net, np.zeros(net.n_nodes), np.zeros((net.n_nodes, 2)))
        self._compiled = None

    def _data(self, node_log_weights, hard_mask) -> dict[str, np.ndarray]:
        return {"node_log_weights": np.asarray(node_log_weights, dtype=float),
                "node_mask": self.net.as_node_mask(hard_mask)}

    def sample(self, node_log_weights: np.ndarray, hard_mask: np.ndarray, seed: int,
               settings: SamplerSettings | None = None) -> NutsFit:
        settings = settings or SamplerSettings()
        data = self._data(node_log_weights, hard_mask)
        if len(self.net.parameters.free) == 0:
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
                       diagnostics={"divergences": 0, "max_rhat": 1.0, "min_ess": None,
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
        tune = settings.tune_for("nutpie")
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            # save_warmup=False: the warm-up draws are never read, and converting them to ArviZ
            # costs a warm refit about a tenth of its time
            idata = nutpie.sample(compiled, draws=settings.draws, tune=tune,
                                  chains=settings.chains, cores=cores, seed=seed, save_warmup=False,
                                  progress_bar=settings.progress, target_accept=settings.target_accept)
        return _fit_from_idata(idata, "pymc-nutpie", settings, tune)

    def _sample_pymc(self, data, seed, settings: SamplerSettings) -> NutsFit:
        cores = settings.cores or min(settings.chains, os.cpu_count() or 1)
        tune = settings.tune_for("pymc")
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
                    draws=settings.draws, tune=tune, chains=settings.chains, cores=cores,
                    target_accept=settings.target_accept, random_seed=seed,
                    progressbar=settings.progress, compute_convergence_checks=False,
                    nuts_sampler="pymc",   # PyMC 6 defaults to nutpie when installed
                )
        finally:
            quiet.setLevel(level)
        return _fit_from_idata(idata, "pymc-nuts", settings, tune)


_SAMPLERS: dict[tuple, Sampler] = {}
_SAMPLER_CACHE_SIZE = 8


def structure_key(net: Network) -> tuple:
    """What the compiled model depends on: the graph and the priors, not the evidence."""
    params = net.parameters
    return (net.node_ids, net.parents, net.forms, params.alpha.tobytes(), params.beta.tobytes(),
            params.fixed.tobytes())


def sampler_for(net: Network, backend: str = "auto") -> Sampler:
    """The process-wide compiled sampler for this structure (compiled on first use)."""
    backend = SamplerSettings(backend=backend).backend_for(net.n_nodes)
    key = (structure_key(net), backend)
    if key not in _SAMPLERS:
        if len(_SAMPLERS) >= _SAMPLER_CACHE_SIZE:
            _SAMPLERS.pop(next(iter(_SAMPLERS)))
        _SAMPLERS[key] = Sampler(net, backend)
    return _SAMPLERS[key]


def sample(net: Network, node_log_weights: np.ndarray, hard_mask: np.ndarray, seed: int,
           settings: SamplerSettings | None = None, backend: str | None = None) -> NutsFit:
    settings = settings or SamplerSettings()
    return sampler_for(net, backend or settings.backend_for(net.n_nodes)).sample(node_log_weights, hard_mask,
                                                                 seed, settings)
