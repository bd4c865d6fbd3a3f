"""Convergence diagnostics in numpy (forecast.inference.diagnostics) against ArviZ, the peer whose
formulas they reimplement, on chains that mix well, mix badly, disagree, tie and never move; and
against the textbook values of iid draws."""

from __future__ import annotations

import subprocess
import sys
import warnings

import numpy as np
import pytest

from forecast.inference import diagnostics

az = pytest.importorskip("arviz")
if int(az.__version__.split(".")[0]) >= 1:
    pytest.skip("the reference calls are ArviZ 0.x's (convert_to_dataset, .x.values); the formulas "
                "were read from ArviZ 0.23", allow_module_level=True)

FUNCTIONS = {"rhat": ("rhat", {}), "ess_bulk": ("ess", {"method": "bulk"}),
             "ess_tail": ("ess", {"method": "tail"}), "ess_mean": ("ess", {"method": "mean"}),
             "mcse_mean": ("mcse", {"method": "mean"})}


def arviz_values(x: np.ndarray, name: str) -> np.ndarray:
    function, kwargs = FUNCTIONS[name]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")      # ArviZ divides 0 by 0 for a constant quantity
        result = getattr(az, function)(az.convert_to_dataset({"x": x}), **kwargs)
    return np.asarray(result["x"].values)


def ar1(rng: np.random.Generator, chains: int, draws: int, phi: np.ndarray) -> np.ndarray:
    """Stationary AR(1) chains, one autocorrelation phi per quantity: (chains, draws, len(phi))."""
    noise = rng.standard_normal((chains, draws, len(phi)))
    x = np.empty_like(noise)
    x[:, 0] = noise[:, 0] / np.sqrt(1 - phi**2)
    for t in range(1, draws):
        x[:, t] = phi * x[:, t - 1] + noise[:, t]
    return x


def assert_agrees(x: np.ndarray, rtol: float = 1e-8) -> None:
    constant = x.min(axis=(0, 1)) == x.max(axis=(0, 1))
    for name in FUNCTIONS:
        ours = getattr(diagnostics, name)(x)
        theirs = arviz_values(x, name)
        if name.startswith("ess"):
            # the one departure: ArviZ gives a constant quantity the ESS of its split chains'
            # every draw (an odd count drops the middle one); we say NaN
            assert np.all(theirs[constant] == x.shape[0] * (x.shape[1] // 2 * 2))
            theirs = np.where(constant, np.nan, theirs)
        if name == "mcse_mean":
            # exactly 0 for a constant; ArviZ's one-pass variance (with numba) leaves rounding
            # noise there: ~1e-9, or NaN from the square root of a variance of -1e-17
            assert np.all(ours[constant] == 0.0)
            theirs = np.where(constant, 0.0, theirs)
        assert ours.shape == theirs.shape
        np.testing.assert_allclose(ours, theirs, rtol=rtol, atol=0, equal_nan=True, err_msg=name)


PHI = np.array([-0.6, -0.2, 0.0, 0.3, 0.7, 0.9, 0.97])


@pytest.mark.parametrize("chains, draws", [(2, 1000), (4, 1000), (4, 333), (2, 51), (4, 9), (1, 400)])
def test_ar1_chains_agree_with_arviz(chains, draws):
    """Anticorrelated to sticky chains, 1, 2 and 4 chains, odd and tiny draw counts (where
    Geyer's sequence runs out of lags before it turns negative)."""
    assert_agrees(ar1(np.random.default_rng(chains * 1000 + draws), chains, draws, PHI))


def test_short_chains_agree_with_arviz():
    """Few draws, where Geyer's pairs of lags run out before one turns negative, and where an
    anticorrelated chain ends the sum on a negative even lag: every branch of ArviZ's loop."""
    rng = np.random.default_rng(2)
    for draws in range(8, 40, 3):
        assert_agrees(ar1(rng, 1 + draws % 4, draws, rng.uniform(-0.9, 0.9, 12)))


def test_chains_that_disagree_agree_with_arviz():
    """Chains centred apart: R-hat far above 1.01, and ArviZ's value to the last digits."""
    rng = np.random.default_rng(7)
    x = ar1(rng, 4, 500, PHI) + np.array([0.0, 0.2, 0.5, 3.0])[:, None, None]
    assert np.all(diagnostics.rhat(x)[3:] > 1.01)
    assert_agrees(x)


def test_heavy_ties_and_a_constant_quantity_agree_with_arviz():
    """P(yes) draws rounded to 2 decimals tie often (average ranks, and quantiles that land on a
    tie); a resolved node's P(yes) is exactly 0 or 1 in every draw."""
    rng = np.random.default_rng(11)
    p = 1 / (1 + np.exp(-ar1(rng, 4, 301, np.array([0.1, 0.5, 0.8]))))
    x = np.concatenate([np.round(p, 2), np.round(p * 0.05, 2), (p > 0.5).astype(float),
                        np.zeros((4, 301, 1)), np.full((4, 301, 1), 0.3)], axis=2)
    # -1 or 1 around a median of 0: every distance from the median is 1, so the folded R-hat is
    # 0 / 0 and ArviZ keeps the bulk one (Python's max(bulk, nan))
    signs = rng.permutation(np.repeat([-1.0, 1.0], 600)).reshape(4, 300)
    x = np.concatenate([x, np.insert(signs, 150, 5.0, axis=1)[:, :, None]], axis=2)
    assert_agrees(x)


def test_a_constant_quantity_has_no_rhat_or_ess_and_zero_error_without_warnings():
    x = np.random.default_rng(3).standard_normal((4, 200, 3))
    x[:, :, 1] = 1.0
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        results = {name: getattr(diagnostics, name)(x) for name in FUNCTIONS}
        summary = diagnostics.summary(x)
    for name in ("rhat", "ess_bulk", "ess_tail", "ess_mean"):
        assert np.isnan(results[name][1]) and np.isfinite(results[name][[0, 2]]).all(), name
    assert results["mcse_mean"][1] == 0.0
    assert summary.max_rhat == max(results["rhat"][[0, 2]])
    assert summary.min_ess == min(results["ess_bulk"][[0, 2]].min(), results["ess_tail"][[0, 2]].min())


def test_iid_draws_have_the_textbook_values():
    """Independent draws: ESS near chains * draws (the estimator's spread at n = 4000 is a few
    percent), R-hat near 1, and the standard error of the mean sd / sqrt(n)."""
    x = np.random.default_rng(5).standard_normal((4, 1000, 20))
    n = 4000
    for name in ("ess_bulk", "ess_tail", "ess_mean"):
        ess = getattr(diagnostics, name)(x)
        assert np.all(np.abs(ess / n - 1) < 0.25), name
        assert abs(np.mean(ess) / n - 1) < 0.08, name
    assert np.all(np.abs(diagnostics.rhat(x) - 1) < 0.005)
    np.testing.assert_allclose(diagnostics.mcse_mean(x), x.std(axis=(0, 1), ddof=1) / np.sqrt(n),
                               rtol=0.15)


@pytest.mark.parametrize("draws", [200, 201])
def test_summary_and_shapes(draws):
    """Quantities may have any shape after (chains, draws); summary is the worst of each (it
    shares the sorted draws between R-hat and the ESSs when the split chains hold every draw)."""
    x = ar1(np.random.default_rng(9), 4, draws, np.tile(PHI, 2)).reshape(4, draws, 2, 7)
    assert diagnostics.rhat(x).shape == (2, 7) and diagnostics.mcse_mean(x).shape == (2, 7)
    rhat, bulk, tail = diagnostics.rhat(x), diagnostics.ess_bulk(x), diagnostics.ess_tail(x)
    assert diagnostics.summary(x) == (rhat.max(), min(bulk.min(), tail.min()))
    assert np.isnan(diagnostics.rhat(x[:1])).all()             # R-hat needs two chains
    assert np.isnan(diagnostics.ess_bulk(x[:, :3])).all()      # and ArviZ four draws
    assert all(np.isnan(v) for v in diagnostics.summary(np.ones((4, 100, 2))))


def test_normal_quantile_matches_scipy():
    special = pytest.importorskip("scipy.special")
    p = np.concatenate([np.linspace(1e-6, 1 - 1e-6, 20001), 10.0 ** -np.linspace(1, 300, 300),
                        1 - 10.0 ** -np.linspace(1, 15.9, 300)])
    np.testing.assert_allclose(diagnostics.norm_ppf(p), special.ndtri(p), rtol=1e-12, atol=1e-14)


def test_the_module_imports_neither_arviz_nor_scipy():
    code = ("import sys, forecast.inference.diagnostics; "
            "print(sorted(m for m in ('arviz', 'scipy', 'xarray', 'pymc') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


# -- every sampling warning says what to do next ------------------------------------------------

def test_the_ess_advice_asks_for_enough_draws():
    from forecast.inference.settings import draws_for_ess

    assert draws_for_ess(1000, 399.0, 400.0) == 2000
    assert draws_for_ess(1000, 100.0, 400.0) == 6000
    assert draws_for_ess(300, 390.0, 400.0) == 500
    for draws in (100, 300, 1000, 2500):
        for ess in (1.0, 50.0, 250.0, 399.9):
            more = draws_for_ess(draws, ess, 400.0)
            assert more % 500 == 0 and more > draws and ess * more / draws >= 400


def test_each_sampling_warning_names_the_problem_and_the_next_command():
    import numpy as np

    from forecast.inference.nuts import diagnose
    from forecast.inference.settings import draws_for_ess

    rng = np.random.default_rng(3)
    chains, draws = 2, 200
    walk = np.cumsum(rng.normal(size=(chains, draws, 2)), axis=1) * 0.05       # sticky chains
    walk[1] += 3.0                                                            # that disagree
    p_yes = 1 / (1 + np.exp(-walk))
    diverging = np.zeros((chains, draws), dtype=bool)
    diverging[0, :7] = True
    found = diagnose(np.concatenate([p_yes, p_yes], axis=2), diverging, tune=300)
    assert found["divergences"] == 7
    warnings = found["warnings"]
    assert len(warnings) == 3
    assert warnings[0].startswith("7 divergent transitions: the sampler missed part of the posterior")
    assert "rerun with --tune 2000" in warnings[0]
    assert warnings[1].startswith(f"R-hat {found['max_rhat']:.3f} > 1.01: the chains disagree")
    assert warnings[1].endswith("rerun with --tune 2000 --draws 400")
    assert warnings[2].startswith(f"ESS {found['min_ess']:.0f} < 400: too few independent draws")
    more = int(warnings[2].rsplit("rerun with --draws ", 1)[1])
    ess = found["min_ess"]                                  # rounded to 0.1 in the diagnostics
    assert draws_for_ess(200, ess + 0.05, 400.0) <= more <= draws_for_ess(200, ess - 0.05, 400.0)
