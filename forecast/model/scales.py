"""Scales as data: the defaults shipped in `defaults/scales.toml`, merged with a scenario's
own `[scales.*]` tables entry by entry. Validation of the values lives in `io.scales_toml`."""

from __future__ import annotations

import tomllib
from functools import cache
from importlib import resources

from .spec import Scales, frozen_map

SCALE_TABLES = ("likelihood_ratio", "reliability", "credibility", "confidence", "terms",
                "lr_bounds")
RELIABILITY_GRADES = ("A", "B", "C", "D", "E", "F")
CREDIBILITY_GRADES = ("1", "2", "3", "4", "5", "6")


@cache
def default_scales_text() -> str:
    return resources.files("forecast").joinpath("defaults/scales.toml").read_text("utf-8")


def default_scale_tables() -> dict[str, dict]:
    return tomllib.loads(default_scales_text())


def build_scales(overrides: dict[str, dict] | None = None) -> Scales:
    """Defaults, overridden entry by entry by the scenario's tables (already validated)."""
    tables = default_scale_tables()
    for name, table in (overrides or {}).items():
        tables[name] = {**tables[name], **table}
    return Scales(
        likelihood_ratio=frozen_map({k: float(v) for k, v in tables["likelihood_ratio"].items()}),
        reliability=frozen_map({k: float(v) for k, v in tables["reliability"].items()}),
        credibility=frozen_map({k: float(v) for k, v in tables["credibility"].items()}),
        confidence=frozen_map({k: float(v) for k, v in tables["confidence"].items()}),
        terms=frozen_map({k: (float(v[0]), float(v[1])) for k, v in tables["terms"].items()}),
        lr_bounds=(float(tables["lr_bounds"]["low"]), float(tables["lr_bounds"]["high"])),
    )
