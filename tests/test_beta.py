"""Beta CDF and quantiles in numpy (forecast.model.beta) against scipy, a peer we did not
write, over priors from nearly flat to sharp and from U-shaped to tight."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from forecast.model.beta import beta_cdf, beta_ppf

special = pytest.importorskip("scipy.special")


def test_cdf_and_quantiles_match_scipy_on_a_wide_range_of_shapes():
    rng = np.random.default_rng(4)
    a = np.exp(rng.uniform(np.log(0.05), np.log(500), 400))
    b = np.exp(rng.uniform(np.log(0.05), np.log(500), 400))
    x = rng.uniform(0, 1, 400)
    np.testing.assert_allclose(beta_cdf(x, a, b), special.betainc(a, b, x), atol=1e-11)
    q = np.array([[0.001], [0.05], [0.5], [0.95], [0.999]])
    np.testing.assert_allclose(beta_ppf(q, a, b), special.betaincinv(a, b, q), atol=1e-11)


def test_hand_values():
    # Beta(1, 1) is uniform; Beta(2, 1) has CDF x^2, so its 25% point is 0.5.
    assert beta_ppf(0.3, 1.0, 1.0) == pytest.approx(0.3, abs=1e-12)
    assert beta_ppf(0.25, 2.0, 1.0) == pytest.approx(0.5, abs=1e-12)
    assert beta_cdf(0.5, 2.0, 1.0) == pytest.approx(0.25, abs=1e-12)
    assert beta_cdf(0.0, 3.0, 4.0) == 0.0 and beta_cdf(1.0, 3.0, 4.0) == 1.0


@settings(max_examples=60, deadline=None)
@given(st.floats(0.1, 200), st.floats(0.1, 200), st.floats(0.01, 0.99))
def test_the_quantile_inverts_the_cdf(a, b, q):
    """The quantile is within a few floats of the exact one: q lies between the CDF a few floats
    below and above it. (|cdf(x) - q| alone cannot be held to 1e-9: where b < 1 the CDF climbs
    by more than that between neighbouring floats just below 1, e.g. Beta(6, 0.109375).)"""
    x = float(beta_ppf(q, a, b))
    assert 0.0 <= x <= 1.0
    below, above = x, x
    for _ in range(4):
        below, above = np.nextafter(below, 0.0), np.nextafter(above, 1.0)
    slack = 1e-12
    assert float(beta_cdf(below, a, b)) - slack <= q <= float(beta_cdf(above, a, b)) + slack


def test_the_quantile_is_found_to_the_last_float_where_the_cdf_is_steep():
    # Beta(6, 0.109375): the 87.5% point is 1 - 6.1e-10, where one float moves the CDF by 2.5e-9.
    x = float(beta_ppf(0.875, 6.0, 0.109375))
    assert abs(x - special.betaincinv(6.0, 0.109375, 0.875)) <= 4 * np.spacing(1.0)
