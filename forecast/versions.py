"""Package versions for reproducibility, read without importing the packages."""

from __future__ import annotations

import platform
from functools import cache
from importlib import metadata

PACKAGES = ("forecast", "pymc", "pytensor", "nutpie", "numba", "arviz", "numpy", "pandas")


@cache
def package_versions() -> dict[str, str]:
    versions = {"python": platform.python_version()}
    for name in PACKAGES:
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            versions[name] = "not installed"
    return versions
