"""The recalibration model's hand-written log density (inference/recalibration_model.py) against
independent computations: the likelihood in numpy, the gradient against finite differences, the
C callbacks nutpie calls against the Python path, and (PyMC in the test extra) the density and
gradient against PyMC's model of the same priors (pymc_model.recalibration_model), and the
posterior means of a and b from nutpie on the kernel against PyMC's own sampler's."""

from __future__ import annotations

import ctypes

import numpy as np
import pytest

from forecast.inference.diagnostics import mcse_mean
from forecast.inference.recalibration_model import (
    RecalibrationTarget,
    _expand_callback,
    _logp_callback,
    log_density,
    recalibration_draws,
)

PYMC_NAMES = ("mu_a", "mu_log_b", "sigma_a_log__", "sigma_log_b_log__", "z_a", "z_b")


def track_record(seed: int, n: int, n_groups: int, slope: float = 0.6):
    """n resolved forecasts spread over the groups, outcomes drawn with logit P = slope x."""
    rng = np.random.default_rng(seed)
    x = rng.normal(0.0, 1.5, n)
    group = np.arange(n) % n_groups
    y = (rng.random(n) < 1.0 / (1.0 + np.exp(-slope * x))).astype(int)
    return x, y, group


def value_and_gradient(q, data):
    gradient = np.empty(len(q))
    return log_density(np.asarray(q, dtype=float), data, gradient), gradient


def groups_of(q, n_groups):
    a = q[0] + np.exp(q[2]) * q[4:4 + n_groups]
    b = np.exp(q[1] + np.exp(q[3]) * q[4 + n_groups:])
    return a, b


def linear_predictor(q, x, group, n_groups):
    a, b = groups_of(q, n_groups)
    return a[group] + b[group] * x


def reference_log_density(q, x, y, group, n_groups):
    """The same model written out in numpy (scipy's normal log densities by hand)."""
    def normal(v, sd):
        return float(np.sum(-0.5 * np.log(2 * np.pi) - np.log(sd) - 0.5 * (np.asarray(v) / sd) ** 2))

    eta = linear_predictor(q, x, group, n_groups)
    likelihood = float(np.sum(y * eta - np.logaddexp(0.0, eta)))
    sigma_a, sigma_log_b = np.exp(q[2]), np.exp(q[3])
    return (likelihood + normal(q[0], 0.5) + normal(q[1], 0.5)
            + np.log(2) + normal(sigma_a, 0.5) + q[2] + np.log(2) + normal(sigma_log_b, 0.3) + q[3]
            + normal(q[4:], 1.0))


@pytest.mark.parametrize("n_groups", [1, 3])
def test_log_density_equals_the_model_written_out_in_numpy(n_groups):
    x, y, group = track_record(1, 40, n_groups)
    data = RecalibrationTarget.data(x, y, group, n_groups)
    rng = np.random.default_rng(2)
    for scale in (0.3, 1.0, 2.0):               # 2.0 reaches |a + b x| in the hundreds
        q = rng.normal(0.0, scale, 4 + 2 * n_groups)
        value, _gradient = value_and_gradient(q, data)
        assert value == pytest.approx(reference_log_density(q, x, y, group, n_groups), rel=1e-12)


def test_gradient_equals_finite_differences_even_where_forecasts_are_extreme():
    n_groups = 3
    x, y, group = track_record(3, 60, n_groups)
    data = RecalibrationTarget.data(x, y, group, n_groups)
    rng = np.random.default_rng(4)
    step = 1e-6
    for scale in (0.5, 1.5):
        q = rng.normal(0.0, scale, 4 + 2 * n_groups)
        _value, gradient = value_and_gradient(q, data)
        assert np.all(np.isfinite(gradient))
        for k in range(len(q)):
            up, down = q.copy(), q.copy()
            up[k] += step
            down[k] -= step
            slope = (value_and_gradient(up, data)[0] - value_and_gradient(down, data)[0]) / (2 * step)
            assert slope == pytest.approx(gradient[k], rel=1e-5, abs=1e-5)


def test_c_callbacks_nutpie_calls_equal_the_python_path():
    n_groups = 2
    x, y, group = track_record(5, 30, n_groups)
    target = RecalibrationTarget(n_groups)
    user, _arrays = target.user_data(RecalibrationTarget.data(x, y, group, n_groups))
    q = np.random.default_rng(6).normal(0.0, 0.7, target.ndim)
    pointer = ctypes.POINTER(ctypes.c_double)
    gradient, value = np.empty(target.ndim), np.empty(1)
    status = _logp_callback.ctypes(target.ndim, q.ctypes.data_as(pointer),
                                   gradient.ctypes.data_as(pointer), value.ctypes.data_as(pointer),
                                   ctypes.c_void_p(user.ctypes.data))
    expected, expected_gradient = value_and_gradient(q, RecalibrationTarget.data(x, y, group, n_groups))
    assert status == 0
    assert value[0] == expected
    np.testing.assert_array_equal(gradient, expected_gradient)
    out = np.empty(2 * n_groups)
    _expand_callback.ctypes(target.ndim, len(out), q.ctypes.data_as(pointer),
                            out.ctypes.data_as(pointer), ctypes.c_void_p(user.ctypes.data))
    a, b = groups_of(q, n_groups)
    np.testing.assert_allclose(out, np.concatenate([a, b]), rtol=1e-14)


def test_the_same_seed_gives_the_same_draws_and_the_folds_take_new_data():
    x, y, group = track_record(7, 60, 2)
    first = recalibration_draws(x, y, group, 2, 11, draws=100, tune=100)
    again = recalibration_draws(x, y, group, 2, 11, draws=100, tune=100)
    np.testing.assert_array_equal(first[0], again[0])
    np.testing.assert_array_equal(first[1], again[1])
    assert first[0].shape == first[1].shape == (200, 2)
    other = recalibration_draws(x[:30], y[:30], group[:30], 2, 11, draws=100, tune=100)
    assert not np.array_equal(first[0], other[0])


def pymc_point(q, n_groups) -> dict:
    return {"mu_a": q[0], "mu_log_b": q[1], "sigma_a_log__": q[2], "sigma_log_b_log__": q[3],
            "z_a": q[4:4 + n_groups], "z_b": q[4 + n_groups:]}


@pytest.mark.slow       # imports PyMC and compiles its model (C)
@pytest.mark.parametrize("n_groups", [1, 3])
def test_log_density_and_gradient_equal_pymcs_model(n_groups):
    """Same coordinates as PyMC's (log-transformed HalfNormals, Jacobian included), same
    normalising constants: equal to 1e-9 at random points."""
    pytest.importorskip("pymc")
    from forecast.inference.pymc_model import recalibration_model

    x, y, group = track_record(8, 50, n_groups)
    model = recalibration_model(x, y, group, n_groups)
    assert tuple(v.name for v in model.value_vars) == PYMC_NAMES
    logp, dlogp = model.compile_logp(), model.compile_dlogp()
    data = RecalibrationTarget.data(x, y, group, n_groups)
    rng = np.random.default_rng(9)
    points = (rng.normal(0.0, 0.6, 4 + 2 * n_groups) for _ in range(100))
    # PyMC's own gradient is NaN where some |a + b x| is past about 100 (the kernel's is not:
    # the finite-difference test above), so the points compared stay inside 40
    inside = [q for q in points if np.max(np.abs(linear_predictor(q, x, group, n_groups))) < 40]
    assert len(inside) >= 20
    for q in inside[:20]:
        value, gradient = value_and_gradient(q, data)
        expected, expected_gradient = logp(pymc_point(q, n_groups)), dlogp(pymc_point(q, n_groups))
        assert np.all(np.isfinite(expected_gradient))
        assert value == pytest.approx(float(expected), abs=1e-9)
        np.testing.assert_allclose(gradient, expected_gradient, rtol=0, atol=1e-9)


@pytest.mark.slow       # PyMC's NUTS on its compiled model
def test_posterior_means_agree_with_pymcs_sampler_within_monte_carlo_error():
    """Each a_g and b_g: the two samplers' posterior means differ by less than 4 standard errors
    of their difference (each sampler's MCSE, from its own chains)."""
    pm = pytest.importorskip("pymc")
    from forecast.inference.pymc_model import recalibration_model

    n_groups, chains, draws = 2, 2, 1000
    x, y, group = track_record(10, 80, n_groups)
    a, b, diagnostics = recalibration_draws(x, y, group, n_groups, 12, draws=draws, tune=1000,
                                            chains=chains)
    assert diagnostics["divergences"] <= 5
    ours = np.concatenate([a, b], axis=1).reshape(chains, draws, 2 * n_groups)
    with recalibration_model(x, y, group, n_groups):
        idata = pm.sample(draws=draws, tune=1000, chains=chains, cores=1, random_seed=13,
                          target_accept=0.9, progressbar=False, compute_convergence_checks=False,
                          nuts_sampler="pymc")
    theirs = np.concatenate([np.asarray(idata.posterior[name].values) for name in ("a", "b")],
                            axis=-1)
    difference = ours.mean(axis=(0, 1)) - theirs.mean(axis=(0, 1))
    error = np.hypot(mcse_mean(ours), mcse_mean(theirs))
    assert np.all(error < 0.05)                 # enough draws for the check to mean something
    assert np.all(np.abs(difference) < 4 * error), (difference, error)
