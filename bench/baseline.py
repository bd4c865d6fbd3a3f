"""The naive baseline every figure in bench/ is compared with: the same scenario model as a
plain `pm.sample` with PyMC's default settings (4 chains x 1000 draws, 1000 tuning steps, its
own NUTS on the C backend), built afresh every time, no caching of any kind."""

from __future__ import annotations

import logging
import time
import warnings

import numpy as np


def naive_fit(problem, seed: int = 1):
    """(wall seconds, idata) of a from-scratch `pm.sample` of the scenario's model."""
    import pymc as pm

    from forecast.inference.pymc_model import build_model

    logging.getLogger("pymc").setLevel(logging.ERROR)
    start = time.perf_counter()
    model = build_model(problem.net, problem.node_log_weights, problem.hard_mask)
    with model, warnings.catch_warnings():
        warnings.simplefilter("ignore")
        idata = pm.sample(random_seed=seed, progressbar=False)
    return time.perf_counter() - start, idata


def min_ess(idata) -> float:
    import arviz as az

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ess = az.ess(idata, var_names=["p_yes"])["p_yes"].values
    return float(np.min(ess))
