"""The NUTS target's kernel (inference/contraction.py, inference/density.py) against independent
computations: log Z and every node-state marginal against the exact engine's junction tree, the
gradient against finite differences, and the log density and gradient against PyMC's own model
of the same scenario (pymc_model.py) up to PyMC's normalising constants."""

from __future__ import annotations

import numpy as np
import pytest
from conftest import DATA, FROZEN
from test_elimination import generated

from forecast.inference import elimination
from forecast.inference.contraction import Contraction, build_plan
from forecast.inference.density import Density
from forecast.inference.exact import structure_of
from forecast.inference.problem import prepare
from forecast.io.project import load_inputs, scenario_paths


def _problem(root, scenario: str):
    return prepare(load_inputs(scenario_paths(root, scenario)))


def _turkey_cells_and_weights():
    problem = _problem(FROZEN, "turkey-peacekeeping")
    net = problem.net
    theta = np.random.default_rng(1).uniform(0.05, 0.95, net.n_entries)
    cells = np.stack([1.0 - theta, theta], axis=1).ravel()
    weights = Density(net).weights(problem.node_log_weights, net.node_mask({"ceasefire": True}))
    return net, cells, weights


def test_log_z_and_every_marginal_equal_the_junction_trees():
    net, cells, weights = _turkey_cells_and_weights()
    contraction = Contraction(build_plan(net, structure_of(net).order))
    log_z = contraction.log_partition(np.log(cells), weights)
    probs, expected = elimination.state_marginals(structure_of(net), cells[None], weights[None],
                                                  None)
    assert log_z == pytest.approx(float(expected[0]), abs=1e-12)
    np.testing.assert_allclose(contraction.state_grad, probs.ravel(), atol=1e-12)
    # d log Z / d log cell is the posterior probability of the cell being used: per node, they
    # sum to one over its cells
    used = np.add.reduceat(contraction.cell_grad, net.cell_offsets[:-1])
    np.testing.assert_allclose(used, 1.0, atol=1e-12)


def test_cell_gradient_equals_finite_differences():
    net, cells, weights = _turkey_cells_and_weights()
    plan = build_plan(net, structure_of(net).order)
    contraction = Contraction(plan)
    log_cells = np.log(cells)
    log_z = contraction.log_partition(log_cells, weights)
    gradient = contraction.cell_grad.copy()
    step = 1e-6
    for cell in range(0, len(cells), 7):
        moved = log_cells.copy()
        moved[cell] += step
        slope = (Contraction(plan).log_partition(moved, weights) - log_z) / step
        assert slope == pytest.approx(gradient[cell], abs=1e-5)


@pytest.mark.slow       # compiles PyMC's model (C) for each scenario
@pytest.mark.parametrize("scenario", ["two-node-beta", "noisy-or-four", "log-odds-inhibitor",
                                      "mixed-parametric"])
def test_density_and_gradient_equal_pymcs_model(scenario):
    """Same coordinates as PyMC's logit transform: the gradients are equal, and the densities
    differ by PyMC's normalising constants only."""
    from forecast.inference.pymc_model import build_model

    problem = _problem(DATA, scenario)
    density = Density(problem.net)
    weights = density.weights(problem.node_log_weights, problem.hard_mask)
    model = build_model(problem.net, problem.node_log_weights, problem.hard_mask)
    logp, dlogp = model.compile_logp(), model.compile_dlogp()
    (name,) = [v.name for v in model.value_vars]
    rng = np.random.default_rng(3)
    offsets = []
    for _ in range(4):
        y = density.support_point() + rng.uniform(-2.0, 2.0, density.ndim)
        ours, gradient = density.logp(y, weights)
        np.testing.assert_allclose(gradient, dlogp({name: y}), atol=1e-9)
        offsets.append(ours - float(logp({name: y})))
    assert np.ptp(offsets) < 1e-9


def _entry_theta_and_log_jacobian(net, y):
    """The power coordinate written out independently of the kernel: an entry whose a or b is
    below 1 is u^(1 / a) (or 1 - u^(1 / b) when b is the smaller), u = sigmoid(y); any other
    entry is sigmoid(y). Returns theta and log |d theta / d y| per free entry."""
    free = net.parameters.free
    a, b = net.alpha[free], net.beta[free]
    log_u, log_1mu = -np.logaddexp(0.0, -y), -np.logaddexp(0.0, y)
    swapped = (b < a) & (b < 1.0)
    power = np.where(swapped, b, a)
    raised = np.exp(log_u / power)
    theta = np.where(power < 1.0, np.where(swapped, 1.0 - raised, raised), np.exp(log_u))
    log_jacobian = np.where(power < 1.0, log_u / power + log_1mu - np.log(power),
                            log_u + log_1mu)
    return theta, log_jacobian


def test_small_a_entries_keep_the_posterior_of_theta_in_their_power_coordinate():
    """Turkey's Betas with a or b below 1 are sampled on u = theta^a: the kernel's theta is the
    written-out map's, and its density is the Beta prior times log Z times the Jacobian, up to
    a constant, with the gradient of finite differences."""
    problem = _problem(FROZEN, "turkey-peacekeeping")
    net = problem.net
    free = net.parameters.free
    assert np.any(np.minimum(net.alpha[free], net.beta[free]) < 1.0)
    density = Density(net)
    weights = density.weights(problem.node_log_weights, problem.hard_mask)
    contraction = Contraction(density.plan)
    rng = np.random.default_rng(7)
    offsets = []
    for _ in range(4):
        y = density.support_point() + rng.uniform(-2.0, 2.0, density.ndim)
        theta, log_jacobian = _entry_theta_and_log_jacobian(net, y)
        np.testing.assert_allclose(density.expand(y, weights)["theta"], theta, rtol=1e-12)
        full = np.nan_to_num(net.fixed, nan=0.5)
        full[free] = theta
        with np.errstate(divide="ignore"):
            log_cells = np.stack([np.log1p(-full), np.log(full)], axis=1).ravel()
        a, b = net.alpha[free], net.beta[free]
        expected = (np.sum((a - 1.0) * np.log(theta) + (b - 1.0) * np.log1p(-theta) + log_jacobian)
                    + contraction.log_partition(log_cells, weights))
        value, gradient = density.logp(y, weights)
        offsets.append(value - expected)
        for i in range(density.ndim):
            up, down = y.copy(), y.copy()
            up[i] += 1e-6
            down[i] -= 1e-6
            slope = (density.logp(up, weights)[0] - density.logp(down, weights)[0]) / 2e-6
            assert slope == pytest.approx(gradient[i], rel=1e-5, abs=1e-6)
    assert np.ptp(offsets) < 1e-9


def test_k_state_density_gradient_and_marginals(k_root):
    problem = _problem(k_root, "k-state")
    net = problem.net
    density = Density(net)
    weights = density.weights(problem.state_log_weights, net.state_mask(problem.conditions))
    rng = np.random.default_rng(4)
    y = density.support_point() + rng.uniform(-1.0, 1.0, density.ndim)
    value, gradient = density.logp(y, weights)
    step = 1e-6
    for i in range(0, density.ndim, 3):
        moved = y.copy()
        moved[i] += step
        assert (density.logp(moved, weights)[0] - value) / step == pytest.approx(gradient[i],
                                                                                abs=1e-4)
    kept = density.expand(y, weights)
    cells = np.nan_to_num(net.fixed_cells)
    starts = np.concatenate([cells_of for _k, group in _groups(net) for cells_of in group])
    cells[starts] = kept["rows"]
    probs, _ = elimination.state_marginals(structure_of(net), cells[None], weights[None], None)
    np.testing.assert_allclose(kept["p_states"], probs.ravel(), atol=1e-12)
    np.testing.assert_allclose(kept["p_yes"], kept["p_states"][net.state_offsets[:-1] + 1])


def _groups(net):
    from forecast.inference.nuts import sampled_cells

    return sampled_cells(net)


def test_generated_16_node_network_density_matches_finite_differences(tmp_path):
    root = generated(tmp_path, "g16", 16, seed=16)
    problem = _problem(root, "g16")
    density = Density(problem.net)
    weights = density.weights(problem.node_log_weights, problem.hard_mask)
    y = density.support_point() + np.random.default_rng(5).uniform(-1.0, 1.0, density.ndim)
    value, gradient = density.logp(y, weights)
    for i in range(0, density.ndim, 5):
        moved = y.copy()
        moved[i] += 1e-6
        assert (density.logp(moved, weights)[0] - value) / 1e-6 == pytest.approx(gradient[i],
                                                                                abs=1e-4)


@pytest.mark.parametrize("n_nodes", [2, 6, 13, 60])
def test_auto_backend_is_the_kernel_on_nutpie_at_every_size(n_nodes):
    """The measured rule (bench/README.md, "Sampler and backend"): nutpie on the kernel was the
    faster at every size tried, first fit and refit."""
    from forecast.inference.settings import SamplerSettings

    assert SamplerSettings().backend_for(n_nodes) == "nutpie"
    assert SamplerSettings(backend="pymc").backend_for(n_nodes) == "pymc"


@pytest.mark.parametrize("root, scenario", [(FROZEN, "turkey-peacekeeping"),
                                            (DATA, "noisy-or-four"), (None, "k-state")])
def test_c_callbacks_nutpie_calls_equal_the_python_path(root, scenario, k_root):
    """nutpie reads the arrays through their addresses: what it gets must be what Python gets."""
    import ctypes

    from forecast.inference.density import EXPAND_CALLBACK, LOGP_CALLBACK

    problem = _problem(root or k_root, scenario)
    net = problem.net
    density = Density(net)
    weights = (density.weights(problem.state_log_weights, net.state_mask(problem.conditions))
               if net.multistate else density.weights(problem.node_log_weights, problem.hard_mask))
    y = density.support_point() + np.random.default_rng(6).uniform(-1.0, 1.0, density.ndim)
    user, _arrays = density.user_data(weights)
    pointer = ctypes.POINTER(ctypes.c_double)
    gradient, value = np.zeros(density.ndim), np.zeros(1)
    status = LOGP_CALLBACK.ctypes(density.ndim, y.ctypes.data_as(pointer),
                                  gradient.ctypes.data_as(pointer), value.ctypes.data_as(pointer),
                                  ctypes.c_void_p(user.ctypes.data))
    expected, expected_gradient = density.logp(y, weights)
    assert status == 0 and value[0] == pytest.approx(expected, abs=1e-12)
    np.testing.assert_allclose(gradient, expected_gradient, atol=1e-12)
    kept = density.expand(y, weights)
    out = np.zeros(sum(v.size for v in kept.values()))
    EXPAND_CALLBACK.ctypes(density.ndim, len(out), y.ctypes.data_as(pointer),
                           out.ctypes.data_as(pointer), ctypes.c_void_p(user.ctypes.data))
    np.testing.assert_allclose(out, np.concatenate(list(kept.values())), atol=1e-12)
    # and the kept numbers are the sampled entries themselves
    first = next(iter(kept.values()))
    if not net.multistate and not density.parametric:
        np.testing.assert_allclose(first, _entry_theta_and_log_jacobian(net, y)[0], atol=1e-12)
