"""Sampler settings, importable without PyMC (commands that only read files stay light)."""

from __future__ import annotations

import math
from dataclasses import dataclass

# The engines, listed once: the CLI's --engine choices, the API's check and `fit` all use it.
ENGINES = ("auto", "exact", "nuts")

BACKENDS = ("nutpie", "pymc")
# Tuning steps per chain when --tune is not given: nutpie's own default (its mass-matrix
# adaptation settles in a few hundred steps; measured in bench/README.md, 300 steps give the same
# ESS and R-hat as 1000 on every parametric test scenario, and SBC has run at 300 throughout),
# and PyMC's own default for its sampler, whose windowed Stan-style adaptation needs longer.
DEFAULT_TUNE = {"nutpie": 300, "pymc": 1000}
# Up to this many nodes PyMC's model (`--backend pymc`, and the naive baseline) enumerates
# joint states (one matrix product, fastest for small networks); above it, it sums them out by
# variable elimination. The default backend's kernel always eliminates (`contraction`).
ENUMERATION_MAX_NODES = 10
# CPT draws behind the spread of `forecast watch` values (its ends move by a few per cent);
# here, not in analysis/decisions.py, so the command line reads it without importing numpy.
WATCH_DRAWS = 200


@dataclass(frozen=True)
class SamplerSettings:
    """How to run NUTS. `backend` "nutpie" samples the kernel's density (`inference.density`,
    compiled once per machine) with nutpie's NUTS in Rust; "pymc" is PyMC's own NUTS on the
    PyMC model (C backend); "auto" picks the faster for the network, by the rule measured in
    bench/README.md ("Sampler and backend")."""

    draws: int = 1000
    tune: int | None = None           # None: DEFAULT_TUNE of the backend that runs
    chains: int = 4
    target_accept: float = 0.9
    cores: int | None = None
    progress: bool = True
    backend: str = "auto"

    def backend_for(self, n_nodes: int) -> str:
        if self.backend != "auto":
            return self.backend
        return "nutpie"

    def tune_for(self, backend: str) -> int:
        return self.tune if self.tune is not None else DEFAULT_TUNE[backend]

    def describe(self) -> dict:
        return {"draws": self.draws, "tune": self.tune, "chains": self.chains,
                "target_accept": self.target_accept, "backend": self.backend}


def draws_for_ess(draws: int, ess: float, ess_min: float) -> int:
    """Draws per chain that should lift the effective sample size from `ess` to `ess_min`, with
    a margin (ESS grows about linearly with draws), rounded up to a multiple of 500: the advice
    a low-ESS warning gives."""
    needed = draws * 1.5 * ess_min / max(ess, 1.0)
    return 500 * math.ceil(max(needed, draws + 1) / 500)
