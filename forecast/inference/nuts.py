"""The engine of record: CPT entries sampled with NUTS, node states summed out exactly.

Two backends. "nutpie" (the default): the scenario's log density and gradient come from
`forecast.inference.density` (one numba kernel, compiled once per machine and cached on disk,
that takes the network's elimination plan as data), and nutpie's Rust NUTS samples it: nothing
is compiled per structure, and PyMC is not imported. "pymc": the PyMC model of
`forecast.inference.pymc_model` (the one module that imports PyMC) under `pm.sample`. The two
are the same model: tests hold the kernel's log density and gradient to the PyMC model's.
Evidence and hard conditions are data, so a change of evidence reuses the compiled model.
"""

from __future__ import annotations

import os
import warnings
from dataclasses import dataclass, field

import numpy as np

from ..model.network import Network
from . import diagnostics
from .importance import free_rows
from .settings import BACKENDS, SamplerSettings, draws_for_ess

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


def _idata_draws(idata) -> tuple[dict[str, np.ndarray], np.ndarray]:
    """Posterior variables as (chains, draws, k) arrays, and the divergence flags, from an
    ArviZ 0.x InferenceData or an ArviZ 1 DataTree (what `pm.sample` returns)."""
    draws = {}
    for name in DRAWN:
        if name in idata.posterior:
            values = np.asarray(idata.posterior[name].values, dtype=float)
            draws[name] = values.reshape(values.shape[0], values.shape[1], -1)
    return draws, np.asarray(idata.sample_stats["diverging"].values)


def arrow_draws(trace, names: tuple[str, ...] = DRAWN) -> tuple[dict[str, np.ndarray], np.ndarray]:
    """The same (or the variables `names`) from nutpie's raw Arrow trace (one record batch per
    chain, warm-up rows flagged by `tuning` and dropped here), without building an
    InferenceData: the conversion cost a warm refit a quarter of its time. (nutpie is pinned to
    0.16.x, whose raw trace is Arrow; a test holds these draws equal to nutpie's own
    conversion.)"""
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
    for name in names:
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


def sampled_cells(net: Network) -> list[tuple[int, np.ndarray]]:
    """The free CPT rows of a multistate network grouped by number of states k (ascending):
    per group, k and the (rows, k) cell indices its Dirichlet variable `rows_k` holds. The
    Deterministic `rows` is these groups' draws flattened in this order."""
    starts, cards = free_rows(net)
    return [(int(k), starts[cards == k][:, None] + np.arange(k)[None, :])
            for k in np.unique(cards)]



class Sampler:
    """One scenario structure, prepared once; evidence and hard conditions are swapped in as
    data for every fit, so refits after an evidence change (SBC, leave-one-out, what-ifs) skip
    the preparation.

    backend "nutpie": the kernel's density (`density.Density`) sampled by nutpie's NUTS in
    Rust. backend "pymc": `pm.sample` (PyMC's own NUTS on the C backend) of the PyMC model,
    the same model object reused.
    """

    def __init__(self, net: Network, backend: str = "nutpie"):
        if backend not in BACKENDS:
            raise ValueError(f"unknown backend {backend!r}; choose from {BACKENDS}")
        from .density import Density

        self.net = net
        self.backend = backend
        self.density = Density(net)
        self.model = None
        if backend == "pymc":
            from .pymc_model import build_model, build_state_model

            if net.multistate:
                self.model = build_state_model(net, np.zeros(net.n_states), np.zeros(net.n_states))
            else:
                self.model = build_model(net, np.zeros(net.n_nodes), np.zeros((net.n_nodes, 2)))
        self._compiled = None

    def _data(self, node_log_weights, hard_mask) -> dict[str, np.ndarray]:
        """Evidence as the PyMC model takes it: per node (yes/no networks), or on a network
        with k-state nodes per node-state weights and mask (what the caller then passes)."""
        if self.net.multistate:
            return {"state_log_weights": np.asarray(node_log_weights, dtype=float),
                    "state_mask": np.asarray(hard_mask, dtype=float)}
        return {"node_log_weights": np.asarray(node_log_weights, dtype=float),
                "node_mask": self.net.as_node_mask(hard_mask)}

    def sample(self, node_log_weights: np.ndarray, hard_mask: np.ndarray, seed: int,
               settings: SamplerSettings | None = None) -> NutsFit:
        settings = settings or SamplerSettings()
        log_weights = self.density.weights(node_log_weights, hard_mask)
        if self.density.ndim == 0:
            return self._constant(log_weights)
        if self.backend == "nutpie":
            return self._sample_nutpie(log_weights, seed, settings)
        return self._sample_pymc(self._data(node_log_weights, hard_mask), seed, settings)

    def _constant(self, log_weights) -> NutsFit:
        """Every entry is a constant: the posterior is a point mass, computed by the kernel."""
        kept = self.density.expand(np.zeros(0), log_weights)
        draws = {}
        if self.net.multistate:
            draws["p_states"] = kept["p_states"][None, None, :]
        return NutsFit(p_yes=kept["p_yes"][None, None, :], mcse=np.zeros(self.net.n_nodes),
                       draws=draws, diagnostics={"divergences": 0, "max_rhat": 1.0,
                                                 "min_ess": None, "warnings": []},
                       engine="constant", settings={"draws": 1, "chains": 1})

    def compiled(self):
        """The nutpie model of the density (made once; evidence goes in with `with_data`)."""
        if self._compiled is None:
            from .density import EXPAND_CALLBACK, LOGP_CALLBACK

            self._compiled = kernel_model(self.density, np.zeros(self.density.plan.n_states),
                                          LOGP_CALLBACK, EXPAND_CALLBACK)
        return self._compiled

    def _sample_nutpie(self, log_weights, seed, settings: SamplerSettings) -> NutsFit:
        import nutpie

        compiled = self.compiled().with_data(np.asarray(log_weights, dtype=float))
        cores = settings.cores or min(settings.chains, os.cpu_count() or 1)
        tune = settings.tune_for("nutpie")
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            trace = nutpie.sample(compiled, draws=settings.draws, tune=tune,
                                  chains=settings.chains, cores=cores, seed=seed,
                                  progress_bar=settings.progress, target_accept=settings.target_accept,
                                  return_raw_trace=True)
        return _fit_from_draws(*arrow_draws(trace), "nutpie", settings, tune)

    def _sample_pymc(self, data, seed, settings: SamplerSettings) -> NutsFit:
        from .pymc_model import sample_pymc

        cores = settings.cores or min(settings.chains, os.cpu_count() or 1)
        tune = settings.tune_for("pymc")
        idata = sample_pymc(self.model, data, seed, settings, cores, tune)
        return _fit_from_draws(*_idata_draws(idata), "pymc-nuts", settings, tune)


def kernel_model(target, data: np.ndarray, logp_callback, expand_callback):
    """nutpie's model of a numba target with this data: nutpie's Rust sampler calls the
    target's C callbacks (`logp_callback`, `expand_callback`: numba cfuncs with the signatures
    of `density.LOGP_CALLBACK` and `EXPAND_CALLBACK`) directly, as it does the callbacks it
    compiles for a PyMC model, so no gradient passes through Python. The target gives `ndim`,
    `shapes()` (what a draw keeps, in `expand` order), `support_point()` and `user_data(data)`
    (the array whose address the callbacks get, and the arrays it points at). Built from the
    pieces nutpie's own compiled models use (nutpie is pinned to 0.16.x, whose `_lib` takes
    them in the same form; the NUTS tests run it on both Python stacks). The scenario's density
    (`density.Density`) and the recalibration model (`recalibration_model`) are its targets."""
    from nutpie import _lib
    from nutpie.sample import CompiledModel

    class KernelModel(CompiledModel):
        def __init__(self, data):
            object.__setattr__(self, "dims", {})
            user, arrays = target.user_data(data)
            object.__setattr__(self, "_user", user)
            object.__setattr__(self, "_arrays", arrays)       # kept alive: `user` points at them

        @property
        def n_dim(self) -> int:
            return target.ndim

        @property
        def shapes(self) -> dict[str, tuple[int, ...]]:
            return target.shapes()

        @property
        def coords(self) -> dict:
            return {}

        def with_data(self, data):
            return KernelModel(data)

        def _make_sampler(self, settings, init_mean, cores, progress_type, *rest):
            return _lib.PySampler.from_pymc(settings, cores, self._make_model(init_mean),
                                            progress_type, *rest)

        def _make_model(self, init_mean):
            shapes = target.shapes()
            n_expanded = sum(int(np.prod(shape)) for shape in shapes.values())
            expand = _lib.ExpandFunc(target.ndim, n_expanded, expand_callback.address,
                                     self._user.ctypes.data, self)
            logp = _lib.LogpFunc(logp_callback.address, self._user.ctypes.data, self)
            dims = {name: (f"{name}_dim_0",) for name in shapes}
            sizes = {f"{name}_dim_0": shape[0] for name, shape in shapes.items()}
            variables = _lib.PyVariable.new_variables(
                list(shapes), ["float64"] * len(shapes), list(shapes.values()), sizes, dims)
            return _lib.PyMcModel(logp, expand, variables, target.ndim, sizes, {},
                                  _initial_point, _no_transform_adapter)

    start = target.support_point()

    def _initial_point(seed):
        # PyMC's default: the prior's support point, jittered uniformly in (-1, 1)
        return start + np.random.default_rng(seed).uniform(-1.0, 1.0, len(start))

    return KernelModel(data)


def _no_transform_adapter(*args, **kwargs):
    raise ValueError("normalising-flow adaptation is not offered on the kernel's model")


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


