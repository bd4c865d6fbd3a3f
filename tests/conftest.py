"""Shared fixtures: project roots copied to temporary directories, and NUTS fits made once
per test session (sampling is the slow part; every test that needs a fit shares it)."""

from __future__ import annotations

import csv
import hashlib
import io
import os
import shutil
import subprocess
import tarfile
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
DATA = Path(__file__).resolve().parent / "data"
# The two shipped scenarios as they were before their analyses were revised (the six-node Turkey
# scenario; us-tariffs-2025 with two of six questions resolved), frozen, so tests of engines,
# what-ifs, influence, SBC, overdue questions and replays keep realistic networks whose numbers
# do not move when the shipped analyses in priors/ and evidence/ are revised.
FROZEN = DATA / "frozen-shipped"


def copy_root(source: Path, target: Path) -> Path:
    for folder in ("priors", "evidence"):
        if (source / folder).is_dir():
            shutil.copytree(source / folder, target / folder)
    return target


LIVE_FOLDERS = ("priors", "evidence", "reports")


def shipped_data(target: Path) -> Path:
    """priors/ and evidence/ as shipped: the files committed at the checkout's git HEAD, so an
    analyst's own uncommitted evidence, resolutions and reports never reach a test. Where this is
    not a git checkout, or FORECAST_SHIPPED=live asks for it (to test uncommitted edits of the
    shipped analyses), a copy of the live files."""
    target.mkdir(parents=True, exist_ok=True)
    if os.environ.get("FORECAST_SHIPPED") != "live":
        archive = subprocess.run(["git", "-C", str(REPO), "archive", "--format=tar", "HEAD", "priors",
                                  "evidence"], capture_output=True)
        if archive.returncode == 0:
            with tarfile.open(fileobj=io.BytesIO(archive.stdout)) as tar:
                tar.extractall(target, filter="data")
            return target
    return copy_root(REPO, target)


@pytest.fixture(scope="session")
def shipped_root(tmp_path_factory) -> Path:
    """The shipped scenarios (see `shipped_data`), made once per session: read it, never write
    it (copy it with `repo_root` to change anything)."""
    return shipped_data(tmp_path_factory.mktemp("shipped"))


@pytest.fixture
def repo_root(tmp_path, shipped_root) -> Path:
    """A copy of the repository's shipped priors/ and evidence/ in a temporary root."""
    return copy_root(shipped_root, tmp_path / "root")


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


def data_files(root: Path) -> dict[Path, bytes]:
    """Every data file's bytes; the lock files beside them (empty, by design left in place) aside."""
    return {p: data for p, data in snapshot_files(root).items() if not p.name.endswith(".lock")}


# -- the command line on a test root ------------------------------------------------------------
EVIDENCE_HEADER = "item_id,node,date,source,reliability,credibility,lr,cluster,summary,url\n"
# `evidence add` of one item on two-node-beta, but for its nodes and LRs.
ADD_ITEM = ["evidence", "add", "--scenario", "two-node-beta", "--source", "Wire", "--reliability",
            "B", "--credibility", "2", "--summary", "Talks resume", "--date", "2025-02-03"]


def run_cli(root: Path, args: list[str]):
    """`forecast ARGS --root ROOT` in process (typer's runner: stdout and stderr apart)."""
    from typer.testing import CliRunner

    from forecast.cli import app

    return CliRunner().invoke(app, [*args, "--root", str(root)])


def evidence_rows(root: Path, scenario: str = "two-node-beta") -> list[dict]:
    """The scenario's evidence file as dicts (a byte-order mark skipped)."""
    text = (root / "evidence" / f"{scenario}.csv").read_text(encoding="utf-8-sig")
    return list(csv.DictReader(io.StringIO(text)))


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


# -- the checkout's own data is never touched ---------------------------------------------------

def live_digest(root: Path = REPO) -> str:
    """One hash over every file (path and bytes) under the checkout's priors/, evidence/, reports/."""
    digest = hashlib.sha256()
    for folder in LIVE_FOLDERS:
        for path in sorted((root / folder).rglob("*")) if (root / folder).is_dir() else []:
            if path.is_file():
                digest.update(str(path.relative_to(root)).encode() + b"\0" + path.read_bytes() + b"\0")
    return digest.hexdigest()


def pytest_sessionstart(session):
    session.config.stash[_LIVE_KEY] = live_digest()


def pytest_sessionfinish(session, exitstatus):
    """Fail the run if any test wrote to the checkout's priors/, evidence/ or reports/."""
    before = session.config.stash.get(_LIVE_KEY, None)
    if before is not None and live_digest() != before:
        session.config.get_terminal_writer().line(
            "FAILED: the test run changed the checkout's priors/, evidence/ or reports/", red=True)
        session.exitstatus = pytest.ExitCode.TESTS_FAILED


_LIVE_KEY = pytest.StashKey[str]()


@pytest.fixture(autouse=True)
def _no_inherited_terminal_width(monkeypatch):
    """Tables are as wide as the tests expect whatever terminal runs them: a $COLUMNS exported
    by the developer's shell (or set in pytest-xdist's workers) would narrow every rich table;
    tests that want a width pass COLUMNS to CliRunner themselves."""
    monkeypatch.delenv("COLUMNS", raising=False)
    monkeypatch.delenv("LINES", raising=False)


def two_node_team(root: Path, evidence: str | None = None, resolutions: str | None = None) -> Path:
    """A project root holding tests/data's two-node-beta scenario with the test analysts hawk and
    dove (tests/data/analysts), its evidence file (or `evidence`) and, if given, `resolutions`."""
    scenario = "two-node-beta"
    (root / "priors" / scenario).mkdir(parents=True)
    (root / "evidence").mkdir()
    shutil.copy(DATA / "priors" / f"{scenario}.toml", root / "priors")
    csv_text = (DATA / "evidence" / f"{scenario}.csv").read_text() if evidence is None else evidence
    (root / "evidence" / f"{scenario}.csv").write_text(csv_text)
    if resolutions is not None:
        (root / "evidence" / f"{scenario}.resolutions.csv").write_text(resolutions)
    for analyst in ("hawk", "dove"):
        shutil.copy(DATA / "analysts" / f"{analyst}.toml", root / "priors" / scenario)
    return root


@pytest.fixture
def k_root(tmp_path) -> Path:
    """A project root holding the k-state test scenario (tests/data/k_state_scenario.toml, id
    "k-state") and test_k_states.py's evidence, for the tests of questions with more outcomes."""
    from test_k_states import EVIDENCE

    (tmp_path / "priors").mkdir()
    (tmp_path / "evidence").mkdir()
    shutil.copy(Path(__file__).parent / "data" / "k_state_scenario.toml",
                tmp_path / "priors" / "k-state.toml")
    (tmp_path / "evidence" / "k-state.csv").write_text(EVIDENCE)
    return tmp_path
