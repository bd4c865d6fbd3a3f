"""The recalibration model's log density and gradient in numba, sampled by nutpie (no PyMC).

The model (what `forecast recalibrate` fits, analysis/recalibration.py says why): per group g
(each analyst, and the team's pool), logit P(y = 1) = a_g + b_g x with x the forecast's logit;
a_g = mu_a + sigma_a z_a[g], b_g = exp(mu_log_b + sigma_log_b z_b[g]) (non-centred partial
pooling); mu_a, mu_log_b ~ Normal(0, 0.5), sigma_a ~ HalfNormal(0.5), sigma_log_b ~
HalfNormal(0.3), z ~ Normal(0, 1): priors centred on the identity (a = 0, b = 1). b is positive:
a forecaster is assumed to discriminate in the right direction, and is only told how far to
temper or extremise.

Coordinates, in PyMC's order for the same model (`pymc_model.recalibration_model`, which the
tests hold this density and gradient to, constants included): mu_a, mu_log_b, log sigma_a,
log sigma_log_b, z_a (G), z_b (G). Why not PyMC: importing it and building and compiling the
model for the fit and for each held-out fold cost a 300-question recalibration about 40 s;
these callbacks compile once per machine (numba's cache) and take the track record as data.
"""

from __future__ import annotations

import math
import os
import warnings

import numba
import numpy as np
from numba import types

from .nuts import arrow_draws, diagnose, kernel_model

MU_SD = 0.5            # mu_a and mu_log_b ~ Normal(0, MU_SD)
SIGMA_A_SD = 0.5       # sigma_a ~ HalfNormal(SIGMA_A_SD)
SIGMA_LOG_B_SD = 0.3   # sigma_log_b ~ HalfNormal(SIGMA_LOG_B_SD)
TARGET_ACCEPT = 0.9
ENGINE = "nutpie"      # recalibration.json's sampler.engine: nutpie's NUTS on this density
_HALF_LOG_2PI = 0.5 * math.log(2.0 * math.pi)
_LOG_2 = math.log(2.0)
HEADER = 2             # the data array: n pairs, G groups, then x (n), y (n), group (n)


@numba.njit(cache=True, nogil=True)
def _softplus(x):
    return max(x, 0.0) + np.log1p(np.exp(-abs(x)))


@numba.njit(cache=True, nogil=True)
def _normal(v, sd):
    return -_HALF_LOG_2PI - np.log(sd) - 0.5 * (v / sd) ** 2


@numba.njit(cache=True, nogil=True)
def _groups(q, n_groups):
    """(a, b) per group from the coordinates."""
    sigma_a, sigma_log_b = np.exp(q[2]), np.exp(q[3])
    a = np.empty(n_groups)
    b = np.empty(n_groups)
    for g in range(n_groups):
        a[g] = q[0] + sigma_a * q[4 + g]
        b[g] = np.exp(q[1] + sigma_log_b * q[4 + n_groups + g])
    return a, b


@numba.njit(cache=True, nogil=True)
def log_density(q, data, grad):
    """The log density at q (PyMC's value, normalising constants included); its gradient is
    written to `grad`. `data`: n, G, then x, y (0/1) and each pair's group, all float64."""
    n, n_groups = int(data[0]), int(data[1])
    x, y, group = data[HEADER:HEADER + n], data[HEADER + n:HEADER + 2 * n], data[HEADER + 2 * n:]
    sigma_a, sigma_log_b = np.exp(q[2]), np.exp(q[3])
    a, b = _groups(q, n_groups)
    # the likelihood, and its derivative in each a_g and log b_g
    d_a = np.zeros(n_groups)
    d_log_b = np.zeros(n_groups)
    value = 0.0
    for i in range(n):
        g = int(group[i])
        eta = a[g] + b[g] * x[i]
        p = 1.0 / (1.0 + np.exp(-eta))
        if y[i] > 0.5:
            value -= _softplus(-eta)
            r = 1.0 - p
        else:
            value -= _softplus(eta)
            r = -p
        d_a[g] += r
        d_log_b[g] += r * b[g] * x[i]
    # priors; each HalfNormal on the log scale with its Jacobian (+ u)
    value += _normal(q[0], MU_SD) + _normal(q[1], MU_SD)
    value += _LOG_2 + _normal(sigma_a, SIGMA_A_SD) + q[2]
    value += _LOG_2 + _normal(sigma_log_b, SIGMA_LOG_B_SD) + q[3]
    grad[0] = -q[0] / MU_SD**2
    grad[1] = -q[1] / MU_SD**2
    grad[2] = 1.0 - (sigma_a / SIGMA_A_SD) ** 2
    grad[3] = 1.0 - (sigma_log_b / SIGMA_LOG_B_SD) ** 2
    for g in range(n_groups):
        z_a, z_b = q[4 + g], q[4 + n_groups + g]
        value += _normal(z_a, 1.0) + _normal(z_b, 1.0)
        grad[0] += d_a[g]
        grad[1] += d_log_b[g]
        grad[2] += d_a[g] * sigma_a * z_a
        grad[3] += d_log_b[g] * sigma_log_b * z_b
        grad[4 + g] = sigma_a * d_a[g] - z_a
        grad[4 + n_groups + g] = sigma_log_b * d_log_b[g] - z_b
    return value


_LOGP_SIGNATURE = types.int64(types.uint64, types.CPointer(types.double),
                              types.CPointer(types.double), types.CPointer(types.double),
                              types.voidptr)
_EXPAND_SIGNATURE = types.int64(types.uint64, types.uint64, types.CPointer(types.double),
                                types.CPointer(types.double), types.voidptr)


@numba.njit(cache=True, nogil=True)
def _data_of(user_):
    header = numba.carray(user_, (HEADER,), np.float64)
    n = int(header[0])
    return numba.carray(user_, (HEADER + 3 * n,), np.float64)


@numba.cfunc(_LOGP_SIGNATURE, cache=True)
def _logp_callback(dim, q_, out_, logp_, user_):
    q = numba.carray(q_, (dim,))
    out = numba.carray(out_, (dim,))
    value = log_density(q, _data_of(user_), out)
    logp_[0] = value
    if not np.all(np.isfinite(out)):
        return 3
    if not np.isfinite(value):
        return 4
    return 0


@numba.cfunc(_EXPAND_SIGNATURE, cache=True)
def _expand_callback(dim, n_expanded, q_, out_, user_):
    q = numba.carray(q_, (dim,))
    out = numba.carray(out_, (n_expanded,))
    n_groups = int(_data_of(user_)[1])
    a, b = _groups(q, n_groups)
    out[:n_groups] = a
    out[n_groups:] = b
    return 0


class RecalibrationTarget:
    """The model for G groups as nutpie's target (`nuts.kernel_model`): the track record
    (x, y, group) is data, so the fit and every held-out fold share one compiled model."""

    def __init__(self, n_groups: int):
        self.n_groups = n_groups
        self.ndim = 4 + 2 * n_groups

    @staticmethod
    def data(x: np.ndarray, y: np.ndarray, group: np.ndarray, n_groups: int) -> np.ndarray:
        """The one float64 array the callbacks read (see HEADER)."""
        return np.concatenate([[len(x), n_groups], np.asarray(x, dtype=float),
                               np.asarray(y, dtype=float), np.asarray(group, dtype=float)])

    def user_data(self, data: np.ndarray) -> tuple[np.ndarray, tuple]:
        user = np.ascontiguousarray(data, dtype=np.float64)
        return user, ()

    def shapes(self) -> dict[str, tuple[int, ...]]:
        return {"a": (self.n_groups,), "b": (self.n_groups,)}

    def support_point(self) -> np.ndarray:
        """Where PyMC starts the same model (before jitter): every location 0, each scale at
        its HalfNormal's sigma."""
        start = np.zeros(self.ndim)
        start[2], start[3] = np.log(SIGMA_A_SD), np.log(SIGMA_LOG_B_SD)
        return start


_MODELS: dict[int, object] = {}


def _model_for(n_groups: int):
    """The nutpie model for G groups, made once per process (data goes in with `with_data`)."""
    if n_groups not in _MODELS:
        target = RecalibrationTarget(n_groups)
        empty = RecalibrationTarget.data(np.zeros(0), np.zeros(0), np.zeros(0), n_groups)
        _MODELS[n_groups] = kernel_model(target, empty, _logp_callback, _expand_callback)
    return _MODELS[n_groups]


def recalibration_draws(x: np.ndarray, y: np.ndarray, group: np.ndarray, n_groups: int,
                        seed: int, draws: int = 500, tune: int = 500,
                        chains: int = 2) -> tuple[np.ndarray, np.ndarray, dict]:
    """Posterior draws (S, G) of a_g and b_g (chains stacked), and the sampler's diagnostics
    over both (`nuts.diagnose`)."""
    import nutpie

    compiled = _model_for(n_groups).with_data(RecalibrationTarget.data(x, y, group, n_groups))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        trace = nutpie.sample(compiled, draws=draws, tune=tune, chains=chains,
                              cores=min(chains, os.cpu_count() or 1), seed=seed,
                              progress_bar=False, target_accept=TARGET_ACCEPT,
                              return_raw_trace=True)
    kept, diverging = arrow_draws(trace, ("a", "b"))
    stacked = np.concatenate([kept["a"], kept["b"]], axis=-1)
    return (kept["a"].reshape(-1, n_groups), kept["b"].reshape(-1, n_groups),
            diagnose(stacked, diverging, tune))
