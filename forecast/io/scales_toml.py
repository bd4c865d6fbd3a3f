"""A scenario's `[scales.*]` tables -> `Scales`: each entry checked (a positive LR, a grade's
factor in [0, 1], a positive strength, a term's range), then merged over the defaults
(model/scales.py) entry by entry. A bad entry is one problem; the others still count.
"""

from __future__ import annotations

from pathlib import Path

from ..errors import fail, one_of
from ..model.scales import (
    CREDIBILITY_GRADES,
    RELIABILITY_GRADES,
    SCALE_TABLES,
    build_scales,
    default_scale_tables,
)
from ..model.spec import Scales
from .problems import Problems
from .text import is_finite_number
from .toml_fields import number, unknown_keys

LR_BOUND_KEYS = ("low", "high")


def read_scales(path: Path, tables, problems: Problems) -> Scales:
    """The scales, with every entry that reads; a problem in one entry is noted."""
    if not isinstance(tables, dict):
        raise fail(path, "scales", "scales", "a table of [scales.*] tables", tables)
    problems.extend(unknown_keys(path, tables, set(SCALE_TABLES), "scales"))
    valid: dict[str, dict] = {}
    for name, table in tables.items():
        where = f"scales.{name}"
        if name not in SCALE_TABLES:
            continue
        if not isinstance(table, dict):
            problems.note(fail(path, where, name, "a table", table))
            continue
        valid[name] = {key: value for key, value in table.items()
                       if problems.attempt(_check_entry, path, name, key, value, where,
                                           default=False) is not False}
    if "lr_bounds" in valid:
        bounds = {**default_scale_tables()["lr_bounds"], **valid["lr_bounds"]}
        if not bounds["low"] < 1 < bounds["high"]:
            problems.note(fail(path, "scales.lr_bounds", "low",
                               "low < 1 < high (an LR of 1 must always be allowed)",
                               f"low = {bounds['low']}, high = {bounds['high']}"))
            del valid["lr_bounds"]
    scales = build_scales(valid)
    low, high = scales.lr_bounds
    for name, lr in scales.likelihood_ratio.items():
        if not low <= lr <= high:
            problems.note(fail(path, "scales.likelihood_ratio", name,
                               f"a likelihood ratio within [scales.lr_bounds] ({low:g} to {high:g})",
                               lr))
    return scales


def _check_entry(path: Path, name: str, key: str, value, where: str) -> None:
    """One entry of table `name`, or its problem."""
    if name == "likelihood_ratio":
        lr = number(path, value, where, key, "a positive likelihood ratio")
        if lr <= 0:
            raise fail(path, where, key, "a positive likelihood ratio", value)
    elif name in ("reliability", "credibility"):
        grades = RELIABILITY_GRADES if name == "reliability" else CREDIBILITY_GRADES
        if key not in grades:
            raise fail(path, where, key, f"a grade ({one_of(grades)})", key)
        factor = number(path, value, where, key, "a factor in [0, 1]")
        if not 0 <= factor <= 1:
            raise fail(path, where, key, "a factor in [0, 1]", value)
    elif name == "confidence":
        strength = number(path, value, where, key, "a positive prior strength")
        if strength <= 0:
            raise fail(path, where, key, "a positive prior strength", value)
    elif name == "lr_bounds":
        if key not in LR_BOUND_KEYS:
            raise fail(path, where, key, f"a known key ({one_of(LR_BOUND_KEYS)})", key)
        bound = number(path, value, where, key, "a positive likelihood ratio")
        if bound <= 0:
            raise fail(path, where, key, "a positive likelihood ratio", value)
    elif name == "terms":
        ok = (isinstance(value, list) and len(value) == 2 and all(map(is_finite_number, value))
              and 0 <= value[0] < value[1] <= 1)
        if not ok:
            raise fail(path, where, key, "a range [low, high] with 0 <= low < high <= 1", value)
