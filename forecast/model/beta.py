"""The Beta distribution's CDF and quantiles in numpy alone.

Why not scipy: importing scipy.special costs a new `forecast report` process about as much CPU
as the whole exact inference, and a report needs only a handful of Beta quantiles (the 5% and
95% points of each prior, for the sensitivity of each forecast). The regularised incomplete
beta function I_x(a, b) is evaluated by its continued fraction (modified Lentz, as in Numerical
Recipes' `betacf`, with the symmetry I_x(a, b) = 1 - I_{1-x}(b, a) where the fraction converges
slowly), and the quantile by bisection on it, vectorised over every entry at once: 1e-12 in x,
which is far below anything a report prints.
"""

from __future__ import annotations

import math

import numpy as np

_TINY = 1e-300
_EPS = 1e-15
_MAX_TERMS = 400
_BISECTIONS = 400
_CDF_NOISE = 1e-15      # the continued fraction's own rounding, as an absolute error in the CDF


def _log_beta(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    lgamma = np.vectorize(math.lgamma, otypes=[float])
    return lgamma(a) + lgamma(b) - lgamma(a + b)


def _continued_fraction(x: np.ndarray, a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Lentz's evaluation of the continued fraction of I_x(a, b), elementwise."""
    qab, qap, qam = a + b, a + 1.0, a - 1.0
    c = np.ones_like(x)
    d = 1.0 - qab * x / qap
    d = np.where(np.abs(d) < _TINY, _TINY, d)
    d = 1.0 / d
    h = d.copy()
    done = np.zeros(x.shape, dtype=bool)
    for m in range(1, _MAX_TERMS + 1):
        m2 = 2 * m
        aa = m * (b - m) * x / ((qam + m2) * (a + m2))
        d = 1.0 + aa * d
        d = np.where(np.abs(d) < _TINY, _TINY, d)
        c = 1.0 + aa / c
        c = np.where(np.abs(c) < _TINY, _TINY, c)
        d = 1.0 / d
        h = np.where(done, h, h * d * c)
        aa = -(a + m) * (qab + m) * x / ((a + m2) * (qap + m2))
        d = 1.0 + aa * d
        d = np.where(np.abs(d) < _TINY, _TINY, d)
        c = 1.0 + aa / c
        c = np.where(np.abs(c) < _TINY, _TINY, c)
        d = 1.0 / d
        delta = d * c
        h = np.where(done, h, h * delta)
        done |= np.abs(delta - 1.0) < _EPS
        if done.all():
            break
    return h


def beta_cdf(x, a, b) -> np.ndarray:
    """P(X <= x) for X ~ Beta(a, b), elementwise over broadcast arrays."""
    x, a, b = np.broadcast_arrays(*(np.asarray(v, dtype=float) for v in (x, a, b)))
    out = np.where(x <= 0.0, 0.0, 1.0)
    inside = (x > 0.0) & (x < 1.0)
    if not inside.any():
        return out
    xi, ai, bi = x[inside], a[inside], b[inside]
    front = np.exp(ai * np.log(xi) + bi * np.log1p(-xi) - _log_beta(ai, bi))
    direct = xi < (ai + 1.0) / (ai + bi + 2.0)
    value = np.empty_like(xi)
    value[direct] = front[direct] * _continued_fraction(xi[direct], ai[direct], bi[direct]) / ai[direct]
    flip = ~direct
    value[flip] = 1.0 - front[flip] * _continued_fraction(1.0 - xi[flip], bi[flip], ai[flip]) / bi[flip]
    out[inside] = np.clip(value, 0.0, 1.0)
    return out


def beta_ppf(q, a, b) -> np.ndarray:
    """The q-quantile of Beta(a, b), elementwise: Newton steps on `beta_cdf` kept inside a
    bisection bracket (a step that would leave the bracket bisects instead), until a step moves x
    by no more than two floats or the CDF matches q to its rounding. A relative tolerance in x is
    not enough: where b < 1 the mass piles up against 1 and the CDF rises by ~1e-9 between
    neighbouring floats there, so x must be found to the last float. Each round works only on the
    entries not yet converged."""
    q, a, b = np.broadcast_arrays(*(np.asarray(v, dtype=float) for v in (q, a, b)))
    shape = q.shape
    q, a, b = q.ravel(), a.ravel(), b.ravel()
    low, high = np.zeros(q.shape), np.ones(q.shape)
    x = np.clip(a / (a + b), 1e-6, 1 - 1e-6)
    log_norm = _log_beta(a, b)
    active = np.arange(len(x))
    for _ in range(_BISECTIONS):
        xa, aa, ba = x[active], a[active], b[active]
        value = beta_cdf(xa, aa, ba) - q[active]
        lo = np.where(value < 0, xa, low[active])
        hi = np.where(value < 0, high[active], xa)
        with np.errstate(divide="ignore", over="ignore", invalid="ignore"):
            density = np.exp((aa - 1) * np.log(xa) + (ba - 1) * np.log1p(-xa) - log_norm[active])
            step = xa - value / density
        new = np.where(np.isfinite(step) & (step > lo) & (step < hi), step, 0.5 * (lo + hi))
        settled = np.abs(value) <= _CDF_NOISE
        new = np.where(settled, xa, new)
        low[active], high[active], x[active] = lo, hi, new
        # done when a step moves x by two floats or less, or the CDF already equals q to its own
        # rounding (further steps would only chase that noise, by bisection)
        moving = (np.abs(new - xa) > 2.0 * np.spacing(np.maximum(new, xa))) & ~settled
        active = active[moving]
        if len(active) == 0:
            break
    return x.reshape(shape)
