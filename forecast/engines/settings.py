"""Sampler settings, importable without PyMC (commands that only read files stay light)."""

from __future__ import annotations

from dataclasses import dataclass

BACKENDS = ("nutpie", "pymc")


@dataclass(frozen=True)
class SamplerSettings:
    """How to run NUTS. `backend` "nutpie" compiles the PyMC model once (numba) and samples
    in Rust; "pymc" is PyMC's own NUTS on the C backend. See bench/README.md for the choice."""

    draws: int = 1000
    tune: int = 1000
    chains: int = 4
    target_accept: float = 0.9
    cores: int | None = None
    progress: bool = True
    backend: str = "nutpie"

    def describe(self) -> dict:
        return {"draws": self.draws, "tune": self.tune, "chains": self.chains,
                "target_accept": self.target_accept, "backend": self.backend}
