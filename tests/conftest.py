"""Shared fixtures: project roots copied to temporary directories, and NUTS fits made once
per test session (sampling is the slow part; every test that needs a fit shares it)."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
DATA = Path(__file__).resolve().parent / "data"
# The two shipped scenarios as they were before issue 15 revised them (the six-node Turkey
# scenario; us-tariffs-2025 with two of six questions resolved), frozen, so tests of engines,
# what-ifs, influence, SBC, overdue questions and replays keep realistic networks whose numbers
# do not move when the shipped analyses in priors/ and evidence/ are revised.
FROZEN = DATA / "frozen-shipped"


def copy_root(source: Path, target: Path) -> Path:
    for folder in ("priors", "evidence"):
        if (source / folder).is_dir():
            shutil.copytree(source / folder, target / folder)
    return target


@pytest.fixture
def repo_root(tmp_path) -> Path:
    """A copy of the repository's own priors/ and evidence/ in a temporary root."""
    return copy_root(REPO, tmp_path / "root")


@pytest.fixture
def frozen_root(tmp_path) -> Path:
    """A copy of the frozen shipped scenarios (turkey-peacekeeping, us-tariffs-2025)."""
    return copy_root(FROZEN, tmp_path / "frozen")


@pytest.fixture
def data_root(tmp_path) -> Path:
    """A copy of tests/data (small hand-checked networks) in a temporary root."""
    return copy_root(DATA, tmp_path / "data")


def snapshot_files(root: Path) -> dict[Path, bytes]:
    return {p: p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


_FITS: dict = {}


def cached_fit(root: Path, scenario: str, seed: int = 1, given=None, engine: str = "nuts"):
    """(inputs, posterior) of a real fit through the seam (NUTS unless told otherwise),
    made once per session per arguments."""
    from forecast.inference.problem import fit, prepare
    from forecast.inference.settings import SamplerSettings
    from forecast.io.project import load_inputs, scenario_paths

    key = (str(root), scenario, seed, tuple(sorted((given or {}).items())), engine)
    if key not in _FITS:
        inputs = load_inputs(scenario_paths(root, scenario))
        _FITS[key] = (inputs, fit(prepare(inputs, given), engine, seed,
                                  SamplerSettings(progress=False)))
    return _FITS[key]
