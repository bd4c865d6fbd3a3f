"""The engine of record: a PyMC model of the scenario, CPT entries sampled with NUTS.

The only module that imports PyMC. Discrete node states are summed out exactly inside the
model; evidence enters as per-node log-weights and a hard-evidence mask held in `pm.Data`,
so a change of evidence reuses the same model graph.

One module past 400 lines because it is the one module that imports PyMC: the model, the
samplers and the recalibration fit stay behind that single import.
"""

from __future__ import annotations

import logging
import os
import sys
import warnings
from dataclasses import dataclass, field

import numpy as np
import pymc as pm
import pytensor.tensor as pt

from ..model.network import Network
from . import diagnostics
from .exact import structure_of
from .importance import free_rows
from .settings import BACKENDS, ENUMERATION_MAX_NODES, SamplerSettings, draws_for_ess

RHAT_LIMIT = 1.01
# What a fit keeps of the sampler's draws: the free parameters and P(yes) per node
DRAWN = ("theta", "rows", "p_yes", "p_states")
ESS_MIN = 400.0


@dataclass
class NutsFit:
    """Posterior draws of P(node = yes | evidence, theta) and the sampler's diagnostics."""

    p_yes: np.ndarray                 # (chains, draws, n)
    mcse: np.ndarray                  # (n,) Monte Carlo standard error of each mean
    diagnostics: dict
    draws: dict[str, np.ndarray] = field(default_factory=dict)   # "theta" etc., (chains, draws, k)
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


def sampled_cells(net: Network) -> list[tuple[int, np.ndarray]]:
    """The free CPT rows of a multistate network grouped by number of states k (ascending):
    per group, k and the (rows, k) cell indices its Dirichlet variable `rows_k` holds. The
    Deterministic `rows` is these groups' draws flattened in this order."""
    starts, cards = free_rows(net)
    return [(int(k), starts[cards == k][:, None] + np.arange(k)[None, :])
            for k in np.unique(cards)]


def _state_cells(net: Network):
    """log of every CPT cell (n_cells,): fixed cells as constants, each free row a Dirichlet
    over its node's states (rows of the same number of states share one variable, `rows`
    holding them all, flattened; see `sampled_cells`)."""
    conc, fixed = net.concentration, net.fixed_cells
    log_cells = pt.as_tensor_variable(np.log(np.where(np.isnan(fixed), 1.0, fixed)))
    pieces = []
    for k, cells in sampled_cells(net):
        rows = pm.Dirichlet(f"rows_{k}", a=conc[cells], shape=cells.shape)
        log_cells = pt.set_subtensor(log_cells[cells.ravel()], pt.log(rows).ravel())
        pieces.append(pt.reshape(rows, (-1,)))
    if pieces:
        pm.Deterministic("rows", pt.concatenate(pieces) if len(pieces) > 1 else pieces[0])
    return log_cells


def _eliminate_states(net: Network, log_cells, state_weights):
    """log Z over a network with k-state nodes, by the same elimination as `_eliminate`;
    P(node = state) is d log Z / d (that state's log-weight), one backward pass."""
    factors = []
    for v in range(net.n_nodes):
        pa = net.parents[v]
        block = log_cells[int(net.cell_offsets[v]):int(net.cell_offsets[v + 1])]
        shape = tuple(net.cards[p] for p in reversed(pa)) + (net.cards[v],)
        lo = int(net.state_offsets[v])
        weights = state_weights[lo:lo + net.cards[v]]
        table = pt.reshape(block, shape) + weights.dimshuffle(["x"] * len(pa) + [0])
        scope = [*reversed(pa), v]
        order = [int(i) for i in np.argsort(scope)]
        if order != list(range(len(order))):
            table = table.transpose(*order)
        factors.append((table, sorted(scope)))
    for u in structure_of(net).order:
        touching = [f for f in factors if u in f[1]]
        factors = [f for f in factors if u not in f[1]]
        union = sorted(set().union(*(f[1] for f in touching)))
        total = None
        for table, scope in touching:
            piece = table.dimshuffle([scope.index(w) if w in scope else "x" for w in union])
            total = piece if total is None else total + piece
        factors.append((pt.logsumexp(total, axis=union.index(u)), [w for w in union if w != u]))
    log_z = pt.sum([pt.reshape(table, ()) for table, _scope in factors])
    return log_z, pt.grad(log_z, state_weights)


def build_state_model(net: Network, state_log_weights: np.ndarray, state_mask: np.ndarray
                      ) -> pm.Model:
    """A network with k-state nodes as a PyMC model: each free CPT row a Dirichlet, node
    states summed out exactly, evidence (per node-state log-weights) and hard conditions (a
    per-state log-mask) as data. Table CPTs only (parametric CPTs are yes/no)."""
    coords = {"node": list(net.node_ids), "state": list(range(net.n_states))}
    with pm.Model(coords=coords) as model:
        weights = pm.Data("state_log_weights", np.asarray(state_log_weights, dtype=float))
        mask = pm.Data("state_mask", np.asarray(state_mask, dtype=float))
        log_cells = _state_cells(net)
        log_z, p_states = _eliminate_states(net, log_cells, weights + mask)
        pm.Potential("evidence", log_z)
        pm.Deterministic("p_states", p_states, dims="state")
        pm.Deterministic("p_yes", p_states[net.state_offsets[:-1] + 1], dims="node")
    return model


def build_model(net: Network, node_log_weights: np.ndarray, hard_mask: np.ndarray,
                method: str | None = None) -> pm.Model:
    """The scenario as a PyMC model: CPT entries as Beta variables, joint node states summed
    out exactly, evidence and hard conditions as data (so a change of evidence keeps the
    compiled model). `hard_mask` is (n, 2) per node, or (S,) per joint state."""
    if net.multistate:
        return build_state_model(net, node_log_weights, hard_mask)
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


def _idata_draws(idata) -> tuple[dict[str, np.ndarray], np.ndarray]:
    """Posterior variables as (chains, draws, k) arrays, and the divergence flags, from an
    ArviZ 0.x InferenceData or an ArviZ 1 DataTree (what `pm.sample` returns)."""
    draws = {}
    for name in DRAWN:
        if name in idata.posterior:
            values = np.asarray(idata.posterior[name].values, dtype=float)
            draws[name] = values.reshape(values.shape[0], values.shape[1], -1)
    return draws, np.asarray(idata.sample_stats["diverging"].values)


def _arrow_draws(trace) -> tuple[dict[str, np.ndarray], np.ndarray]:
    """The same from nutpie's raw Arrow trace (one record batch per chain, warm-up rows flagged
    by `tuning` and dropped here), without building an InferenceData: the conversion cost a warm
    refit a quarter of its time. (nutpie is pinned to 0.16.x, whose raw trace is Arrow; a test
    holds these draws equal to nutpie's own conversion.)"""
    import pyarrow

    draw_batches, stat_batches = trace.get_arrow_trace()

    def column(batch, name) -> np.ndarray:
        raw = batch.column(name)
        shape = (raw.field.metadata or {}).get(b"shape", b"")
        values = pyarrow.array(raw)
        if hasattr(values, "flatten"):
            values = values.flatten()
        dims = [int(k) for k in shape.decode().split(",") if k]
        return values.to_numpy(zero_copy_only=False).reshape(batch.num_rows, *dims)

    kept = [~column(stats, "tuning").astype(bool) for stats in stat_batches]
    draws = {}
    for name in DRAWN:
        if name in draw_batches[0].column_names:
            chains = [column(batch, name)[keep] for batch, keep in zip(draw_batches, kept, strict=True)]
            stacked = np.stack(chains).astype(float)
            draws[name] = stacked.reshape(stacked.shape[0], stacked.shape[1], -1)
    diverging = np.stack([column(stats, "diverging").astype(bool)[keep]
                          for stats, keep in zip(stat_batches, kept, strict=True)])
    return draws, diverging


def diagnose(quantities: np.ndarray, diverging: np.ndarray, tune: int) -> dict:
    """Divergences, worst R-hat and smallest ESS over every sampled and reported quantity
    (`quantities` (chains, draws, k): the free parameters beside P(yes) per node), each warning
    saying what it means and what to run next. Computed in numpy (`diagnostics`): ArviZ's
    xarray path cost a warm refit about a third of its time."""
    divergences = int(np.sum(diverging))
    # A quantity that is constant in every draw (a resolved node's p_yes is exactly 0 or 1) has
    # no R-hat or ESS: it is left out, not a NaN in the report.
    found = diagnostics.summary(quantities)
    max_rhat, min_ess = found.max_rhat, found.min_ess
    draws = int(quantities.shape[1])
    more_tune = max(2 * tune, 2000)
    problems = []
    if divergences:
        problems.append(f"{divergences} divergent transitions: the sampler missed part of the "
                        "posterior, so forecasts and intervals may be off; rerun with --tune "
                        f"{more_tune} (if they persist, suspect a prior with a or b below 1, or "
                        "near-certain evidence against the priors)")
    if max_rhat > RHAT_LIMIT:
        problems.append(f"R-hat {max_rhat:.3f} > {RHAT_LIMIT}: the chains disagree, so the numbers "
                        f"are not reliable yet; rerun with --tune {more_tune} --draws {2 * draws}")
    if min_ess < ESS_MIN:
        problems.append(f"ESS {min_ess:.0f} < {ESS_MIN:.0f}: too few independent draws for stable "
                        f"intervals; rerun with --draws {draws_for_ess(draws, min_ess, ESS_MIN)}")
    # None, not NaN, where no quantity has one: report.json stays strict JSON
    return {"divergences": divergences,
            "max_rhat": round(max_rhat, 4) if np.isfinite(max_rhat) else None,
            "min_ess": round(min_ess, 1) if np.isfinite(min_ess) else None, "warnings": problems}


def _fit_from_draws(draws: dict[str, np.ndarray], diverging: np.ndarray, engine: str,
                    settings: SamplerSettings, tune: int) -> NutsFit:
    p_yes = draws["p_yes"]
    quantities = np.concatenate([draws[name] for name in DRAWN if name in draws], axis=2)
    return NutsFit(p_yes=p_yes, mcse=diagnostics.mcse_mean(p_yes),
                   diagnostics=diagnose(quantities, diverging, tune), draws=draws, engine=engine,
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
        if net.multistate:
            self.model = build_state_model(net, np.zeros(net.n_states), np.zeros(net.n_states))
        else:
            self.model = build_model(net, np.zeros(net.n_nodes), np.zeros((net.n_nodes, 2)))
        self._compiled = None

    def _data(self, node_log_weights, hard_mask) -> dict[str, np.ndarray]:
        """Evidence as the model takes it: per node (yes/no networks), or on a network with
        k-state nodes per node-state weights and mask (what the caller then passes)."""
        if self.net.multistate:
            return {"state_log_weights": np.asarray(node_log_weights, dtype=float),
                    "state_mask": np.asarray(hard_mask, dtype=float)}
        return {"node_log_weights": np.asarray(node_log_weights, dtype=float),
                "node_mask": self.net.as_node_mask(hard_mask)}

    def sample(self, node_log_weights: np.ndarray, hard_mask: np.ndarray, seed: int,
               settings: SamplerSettings | None = None) -> NutsFit:
        settings = settings or SamplerSettings()
        data = self._data(node_log_weights, hard_mask)
        if self.net.all_fixed or (not self.net.multistate and len(self.net.parameters.free) == 0):
            return self._constant(data, seed)
        if self.backend == "nutpie":
            return self._sample_nutpie(data, seed, settings)
        return self._sample_pymc(data, seed, settings)

    def _constant(self, data, seed) -> NutsFit:
        """Every entry is a constant: the posterior is a point mass, computed by the same graph."""
        with self.model:
            pm.set_data(data)
        value = np.asarray(pm.draw(self.model["p_yes"], random_seed=seed))
        draws = {}
        if self.net.multistate:
            states = np.asarray(pm.draw(self.model["p_states"], random_seed=seed))
            draws["p_states"] = states[None, None, :]
        return NutsFit(p_yes=value[None, None, :], mcse=np.zeros(self.net.n_nodes), draws=draws,
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
            trace = nutpie.sample(compiled, draws=settings.draws, tune=tune,
                                  chains=settings.chains, cores=cores, seed=seed,
                                  progress_bar=settings.progress, target_accept=settings.target_accept,
                                  return_raw_trace=True)
        return _fit_from_draws(*_arrow_draws(trace), "pymc-nutpie", settings, tune)

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
        return _fit_from_draws(*_idata_draws(idata), "pymc-nuts", settings, tune)


_SAMPLERS: dict[tuple, Sampler] = {}
_SAMPLER_CACHE_SIZE = 8


def structure_key(net: Network) -> tuple:
    """What the compiled model depends on: the graph and the priors, not the evidence."""
    if net.multistate:
        return (net.node_ids, net.parents, net.cards, net.concentration.tobytes(),
                net.fixed_cells.tobytes())
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


def recalibration_draws(x: np.ndarray, y: np.ndarray, group: np.ndarray, n_groups: int,
                        seed: int, draws: int = 500, tune: int = 500,
                        chains: int = 2) -> tuple[np.ndarray, np.ndarray, dict]:
    """Posterior draws (S, G) of a_g and b_g in logit P(y = 1) = a_g + b_g x, x = logit(p):
    partial pooling across the groups (each analyst, and the team's pool), non-centred, with
    priors centred on the identity (a = 0, b = 1: with no data a group keeps its forecasts).
    b is positive (log b normal): a forecaster is assumed to discriminate in the right
    direction, and is only told how far to temper or extremise. Returns (a, b, diagnostics)."""
    with pm.Model() as model:
        mu_a = pm.Normal("mu_a", 0.0, 0.5)
        mu_log_b = pm.Normal("mu_log_b", 0.0, 0.5)
        sigma_a = pm.HalfNormal("sigma_a", 0.5)
        sigma_log_b = pm.HalfNormal("sigma_log_b", 0.3)
        z_a = pm.Normal("z_a", 0.0, 1.0, shape=n_groups)
        z_b = pm.Normal("z_b", 0.0, 1.0, shape=n_groups)
        a = pm.Deterministic("a", mu_a + sigma_a * z_a)
        b = pm.Deterministic("b", pt.exp(mu_log_b + sigma_log_b * z_b))
        pm.Bernoulli("y", logit_p=a[group] + b[group] * x, observed=y)
    quiet = logging.getLogger("pymc")
    level = quiet.level
    quiet.setLevel(logging.ERROR)
    try:
        with model, warnings.catch_warnings():
            warnings.simplefilter("ignore")
            idata = pm.sample(draws=draws, tune=tune, chains=chains, cores=1, random_seed=seed,
                              target_accept=0.9, progressbar=False,
                              compute_convergence_checks=False, nuts_sampler="pymc")
    finally:
        quiet.setLevel(level)
    posterior = idata.posterior
    a_draws = np.asarray(posterior["a"].values).reshape(-1, n_groups)
    b_draws = np.asarray(posterior["b"].values).reshape(-1, n_groups)
    diverging = np.asarray(idata.sample_stats["diverging"].values)
    stacked = np.concatenate([np.asarray(posterior["a"].values), np.asarray(posterior["b"].values)],
                             axis=-1)
    return a_draws, b_draws, diagnose(stacked, diverging, tune)
