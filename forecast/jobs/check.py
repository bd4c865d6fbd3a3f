"""`forecast check`: the inference checks itself on a scenario (`--engine nuts`, the default,
or `--engine exact`, which holds the exact engine to importance sampling over the priors and
runs SBC on its exact conjugate draws).

(a) Agreement: the PyMC/NUTS posterior mean of every node against an independent numpy
    reference, as z = |mean_nuts - reference| / combined MC standard error: the closed form
    (no error) on table scenarios, importance sampling over the priors (its own standard
    error) on scenarios with parametric CPTs. The limit is the two-sided normal
    quantile at a 1% family-wise level over the nodes (Bonferroni), so a correct sampler
    fails about once in a hundred checks and a biased one fails as soon as its bias exceeds
    a few Monte Carlo standard errors.
(b) Simulation-based calibration of the same compiled model (see `forecast.analysis.sbc`).
On a network with questions of more than two outcomes both go node-state by node-state
(`forecast.jobs.check_states`).

The sampler is imported lazily (inside functions), through `forecast.inference.nuts`.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
from scipy import stats

from .. import MODEL_VERSION
from ..analysis.sbc import SbcSettings, sampled, sbc_result, sbc_simulation, summary
from ..errors import problem
from ..inference.exact import draws_with_cpt
from ..inference.exact import posterior_means as exact_posterior_means
from ..inference.importance import (
    ImportanceEstimate,
    combine_batches,
    importance_batch,
    importance_state_batch,
)
from ..inference.problem import Problem, fit
from ..inference.settings import SamplerSettings
from ..io.atomic import write_file_sets
from ..io.project import ScenarioPaths, load_inputs
from ..model.network import Network
from ..model.spec import Scenario
from ..parallel import IN_PROCESS, InProcess, Progress, Runner, Where, task_seeds, tasks
from ..versions import package_versions
from . import check_states
from .budget import Work, exact_fit_inferences
from .report import checked_problem

FAMILY_ALPHA = 0.01


def z_limit(n_tests: int, alpha: float = FAMILY_ALPHA) -> float:
    return float(stats.norm.isf(alpha / (2 * max(n_tests, 1))))


def entry_labels(scenario: Scenario, net: Network) -> list[str]:
    """A label for every sampled parameter, in the network's parameter order: `node | parent=yes,
    other=no` for a table entry, `node | base` or `node | cause parent` for a parametric node's
    numbers."""
    labels = []
    params = net.parameters
    for node_index, slot in zip(params.node, params.slot, strict=True):
        node = scenario.nodes[node_index]
        if node.parametric:
            labels.append(f"{node.id} | " + ("base" if slot < 0 else f"cause {node.parents[slot]}"))
            continue
        states = [f"{p}={'yes' if (slot >> bit) & 1 else 'no'}" for bit, p in enumerate(node.parents)]
        labels.append(node.id + (" | " + ", ".join(states) if states else ""))
    return labels


# Prior draws behind the importance-sampling reference of `forecast check` on a parametric
# scenario: its standard error is then a fraction of the NUTS MCSE it is compared with.
REFERENCE_DRAWS = 40000
# The reference's draws are drawn in batches of this many, each a task with its own seed (from
# the command's seed and the batch's index), so they can run on Dask workers.
REFERENCE_BATCH = 5000
REFERENCE_STREAM = 1          # the reference's seeds, apart from the SBC simulations' (stream 0)


@dataclass(frozen=True)
class ReferenceTask:
    """What every batch of the importance-sampling reference shares (on a multistate network
    `node_log_weights` holds the per node-state log-weights)."""

    net: Network
    node_log_weights: np.ndarray
    conditions: dict[str, bool]
    draws: int


def reference_batch(task: ReferenceTask, seed: np.random.SeedSequence):
    batch = importance_state_batch if task.net.multistate else importance_batch
    return batch(task.net, task.node_log_weights, task.conditions, task.draws,
                 np.random.default_rng(seed))


def importance_reference(net: Network, node_log_weights: np.ndarray, conditions: dict[str, bool],
                         n_draws: int, seed: int, runner: Runner | None = None,
                         progress: Progress | None = None) -> ImportanceEstimate:
    """Importance sampling over the priors in batches of REFERENCE_BATCH draws, as tasks."""
    batches = -(-n_draws // REFERENCE_BATCH)
    task = ReferenceTask(net, np.asarray(node_log_weights, dtype=float), dict(conditions),
                         REFERENCE_BATCH)
    return combine_batches((runner or InProcess()).map(
        reference_batch, task_seeds(seed, batches, REFERENCE_STREAM), task, progress))


def reference_means(net: Network, node_log_weights: np.ndarray, conditions: dict[str, bool],
                    seed: int = 0, runner: Runner | None = None,
                    progress: Progress | None = None) -> tuple[np.ndarray, np.ndarray, str]:
    """The reference NUTS is held to: (means, their standard errors, what it is). Closed form
    on a table-only scenario (no error); importance sampling over the priors (numpy, its own
    MC error) when some node is parametric."""
    if net.conjugate:
        return (exact_posterior_means(net, node_log_weights, conditions), np.zeros(net.n_nodes),
                "closed form")
    estimate = importance_reference(net, node_log_weights, conditions, REFERENCE_DRAWS, seed,
                                    runner, progress)
    return estimate.mean, estimate.se, "importance sampling over the priors"


def exact_agreement(net: Network, node_log_weights: np.ndarray, conditions: dict[str, bool],
                    nuts_means: np.ndarray, mcse: np.ndarray, seed: int = 0,
                    runner: Runner | None = None, progress: Progress | None = None) -> dict:
    """z = |NUTS - reference| / combined MC standard error, per node (the reference's own
    error is 0 on the closed form)."""
    exact, reference_se, reference = reference_means(net, node_log_weights, conditions, seed,
                                                     runner, progress)
    gap = np.abs(nuts_means - exact)
    combined = np.sqrt(np.asarray(mcse, dtype=float) ** 2 + reference_se**2)
    with np.errstate(divide="ignore", invalid="ignore"):
        z = np.where(combined > 0, gap / combined, np.where(gap < 1e-9, 0.0, np.inf))
    limit = z_limit(net.n_nodes)
    return {
        "columns": {"tested": "nuts_mean", "reference": "exact_mean"},
        "z_limit": round(limit, 4),
        "family_alpha": FAMILY_ALPHA,
        "reference": reference,
        "max_z": float(np.max(z)),
        "passed": bool(np.all(z <= limit)),
        "nodes": [{"id": node_id, "nuts_mean": round(float(nuts_means[v]), 6),
                   "exact_mean": round(float(exact[v]), 6), "mcse": round(float(mcse[v]), 6),
                   "reference_se": round(float(reference_se[v]), 6),
                   "z": round(float(z[v]), 3)}
                  for v, node_id in enumerate(net.node_ids)],
    }


IMPORTANCE_DRAWS = 40_000


def importance_agreement(net: Network, node_log_weights: np.ndarray, conditions: dict[str, bool],
                         exact_means: np.ndarray, seed: int, runner: Runner | None = None,
                         progress: Progress | None = None) -> dict:
    """The exact engine's means against importance sampling over the Beta priors (numpy, no
    conjugacy used): z = gap / the sampler's own standard error. The exact side has no Monte
    Carlo error, so the test is as sharp as the reference's draws allow."""
    estimate = importance_reference(net, node_log_weights, conditions, IMPORTANCE_DRAWS, seed,
                                    runner, progress)
    gap = np.abs(exact_means - estimate.mean)
    with np.errstate(divide="ignore", invalid="ignore"):
        z = np.where(estimate.se > 0, gap / estimate.se, np.where(gap < 1e-9, 0.0, np.inf))
    limit = z_limit(net.n_nodes)
    return {
        "columns": {"tested": "exact_mean", "reference": "importance_mean"},
        "z_limit": round(limit, 4),
        "family_alpha": FAMILY_ALPHA,
        "reference": "importance sampling over the priors",
        "reference_draws": IMPORTANCE_DRAWS,
        "effective_sample_size": round(float(estimate.effective_sample_size), 1),
        "max_z": float(np.max(z)),
        "passed": bool(np.all(z <= limit)),
        "nodes": [{"id": node_id, "exact_mean": round(float(exact_means[v]), 6),
                   "importance_mean": round(float(estimate.mean[v]), 6), "mcse": 0.0,
                   "reference_se": round(float(estimate.se[v]), 6), "z": round(float(z[v]), 3)}
                  for v, node_id in enumerate(net.node_ids)],
    }


def exact_fit_function(net: Network, n_draws: int) -> Callable:
    """What `forecast.analysis.sbc` needs, from the exact engine: exact iid conjugate draws of
    theta and of P(yes | evidence, theta) (no divergences: nothing is simulated by a chain)."""

    def fit(node_log_weights, hard_mask, seed):
        p_yes, theta = draws_with_cpt(net, node_log_weights, net.as_node_mask(hard_mask), n_draws,
                                      np.random.default_rng(seed))
        return theta, p_yes, 0

    return fit


def nuts_fit_function(sampler, settings) -> Callable:
    """Adapter from the compiled sampler to what `forecast.analysis.sbc` needs: parameter draws
    (fixed ones filled in), p_yes draws, and the divergence count."""
    net = sampler.net

    def fit(node_log_weights, hard_mask, seed):
        result = sampler.sample(node_log_weights, hard_mask, seed, settings)
        p_yes = result.p_yes.reshape(-1, net.n_nodes)
        params = net.parameters
        theta = np.broadcast_to(params.fixed, (len(p_yes), params.n_params)).copy()
        if "theta" in result.draws and len(params.free):
            theta[:, params.free] = result.draws["theta"].reshape(len(p_yes), len(params.free))
        return theta, p_yes, int(result.diagnostics["divergences"])

    return fit


@dataclass(frozen=True)
class SbcTask:
    """What every SBC simulation shares. A worker builds the fit from it: on NUTS the sampler
    is the process's own (`nuts.sampler_for`, prepared once per process and structure), so a
    worker prepares it once for all the simulations it runs."""

    net: Network
    engine: str
    sbc: SbcSettings
    sampler: SamplerSettings

    def fit_function(self) -> Callable:
        """The exact engine's iid draws, or the process's compiled NUTS model (per node, or on
        a multistate network per node-state and CPT cell)."""
        net, n_draws = self.net, self.sampler.draws * self.sampler.chains
        if self.engine == "exact":
            if net.multistate:
                return check_states.exact_state_fit_function(net, n_draws)
            return exact_fit_function(net, n_draws)
        from ..inference.nuts import sampler_for

        sampler = sampler_for(net, self.sampler.backend)
        if net.multistate:
            return check_states.nuts_state_fit_function(sampler, self.sampler)
        return nuts_fit_function(sampler, self.sampler)


def sbc_task(task: SbcTask, seed: np.random.SeedSequence) -> tuple[np.ndarray, int]:
    return sbc_simulation(task.net, task.fit_function(), task.sbc, seed)


@dataclass
class CheckSettings:
    seed: int
    simulations: int = 200
    agreement_draws: int = 1000
    agreement_tune: int | None = None
    agreement_chains: int = 4
    sbc_draws: int = 500
    sbc_tune: int = 300
    sbc_chains: int = 2
    backend: str = "nutpie"
    progress: bool = True
    sbc: SbcSettings = field(default_factory=SbcSettings)


def self_check_work(problem: Problem, settings: CheckSettings) -> Work:
    """The exact engine's inferences in a self-check: the agreement fit, the importance-sampling
    reference it is held to, and each SBC simulation's fit (none when nothing is sampled)."""
    agreement = exact_fit_inferences(SamplerSettings(draws=settings.agreement_draws,
                                                     chains=settings.agreement_chains))
    sbc = settings.sbc_draws * settings.sbc_chains if sampled(problem.net) else 0
    return Work("check", agreement + IMPORTANCE_DRAWS + settings.simulations * sbc,
                "the agreement fit, its reference, and one fit per SBC simulation",
                "--simulations or --draws")


@dataclass
class CheckResult:
    document: dict
    written: list


def run_check(paths: ScenarioPaths, settings: CheckSettings,
              progress: Callable[[str, int, int], None] | None = None,
              write: bool = True, engine: str = "nuts", where: Where = IN_PROCESS) -> CheckResult:
    """Hold one engine to an independent reference on the scenario's own evidence, then run SBC
    on it; writes reports/<scenario>/check.json and check.html.

    engine "nuts": NUTS against the exact engine, SBC with the same compiled model. engine
    "exact": the exact engine against importance sampling over the priors, SBC of its exact
    conjugate draws. The reference's batches and the SBC simulations are tasks run `where`
    (in process by default), each seeded from `settings.seed` and its index: the document is
    the same wherever they ran."""
    from ..render.check import render_check_html

    inputs = load_inputs(paths)
    prepared, engine = checked_problem(paths, inputs, SamplerSettings(), engine,
                                       lambda problem, _i, _s: self_check_work(problem, settings))
    net = prepared.net
    sbc_settings = SbcSettings(**{**settings.sbc.__dict__, "simulations": settings.simulations})
    if sampled(net) and settings.sbc_draws * settings.sbc_chains < sbc_settings.thin_to:
        raise problem("--draws", None, "draws", f"draws x chains of at least "
                      f"{sbc_settings.thin_to} for SBC ranks")

    def stage(name: str) -> Progress | None:
        return (lambda done, total: progress(name, done, total)) if progress else None

    with tasks(where) as runner:
        if progress:
            progress("fitting the scenario", 0, 1)
        sampler_settings = SamplerSettings(draws=settings.agreement_draws,
                                           tune=settings.agreement_tune,
                                           chains=settings.agreement_chains, progress=False,
                                           backend=settings.backend)
        posterior = fit(prepared, engine, settings.seed, sampler_settings)
        if progress:
            progress("fitting the scenario", 1, 1)
        if engine == "exact" and net.multistate:
            estimate = importance_reference(net, prepared.state_log_weights, prepared.conditions,
                                            IMPORTANCE_DRAWS, settings.seed, runner,
                                            stage("reference draws"))
            agreement = check_states.importance_state_agreement(
                net, prepared.conditions, posterior.state_means, estimate, z_limit, FAMILY_ALPHA)
            agreement["engine"] = "exact"
        elif engine == "exact":
            agreement = importance_agreement(net, prepared.node_log_weights, prepared.conditions,
                                             posterior.means, settings.seed, runner,
                                             stage("reference draws"))
            agreement["engine"] = "exact"
        elif net.multistate:
            agreement = check_states.nuts_state_agreement(
                net, prepared.state_log_weights, prepared.conditions, posterior.state_draws,
                z_limit, FAMILY_ALPHA)
            agreement["engine"] = posterior.settings.get("backend", posterior.engine)
        else:
            agreement = exact_agreement(net, prepared.node_log_weights, prepared.conditions,
                                        posterior.means, posterior.mcse, settings.seed, runner,
                                        stage("reference draws"))
            agreement["engine"] = posterior.settings.get("backend", posterior.engine)
        agreement["diagnostics"] = posterior.diagnostics

        if sampled(net):
            sbc_sampler = SamplerSettings(draws=settings.sbc_draws, tune=settings.sbc_tune,
                                          chains=settings.sbc_chains, progress=False,
                                          backend=settings.backend)
            task = SbcTask(net, engine, sbc_settings, sbc_sampler)
            ranked = runner.map(sbc_task, task_seeds(settings.seed, settings.simulations), task,
                                stage("simulation-based calibration"))
            labels = (check_states.cell_labels(inputs.scenario, net) if net.multistate
                      else entry_labels(inputs.scenario, net))
            sbc = summary(sbc_result(net, sbc_settings, ranked, labels))
            sbc["sampler"] = {"draws": settings.sbc_draws, "tune": settings.sbc_tune,
                              "chains": settings.sbc_chains}
        else:
            sbc = {"simulations": 0, "passed": True, "quantities": [],
                   "note": "every CPT entry is fixed: nothing is sampled, so there is nothing to "
                           "calibrate"}
    document = {
        "scenario": inputs.scenario.id,
        "title": inputs.scenario.title,
        "generated_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "model_version": MODEL_VERSION,
        "evidence_hash": inputs.evidence_hash,
        "seed": settings.seed,
        "versions": package_versions(),
        "engine": engine,
        "passed": bool(agreement["passed"] and sbc["passed"]),
        "agreement": agreement,
        "sbc": sbc,
    }
    written = []
    if write:
        import json

        files = {
            paths.reports / "check.json": json.dumps(document, indent=2, ensure_ascii=False) + "\n",
            paths.reports / "check.html": render_check_html(document),
        }
        write_file_sets(files, "check")
        written = list(files)
    return CheckResult(document, written)
